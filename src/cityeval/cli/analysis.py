"""The analysis commands of the command line: ``uncertainty`` and ``whatif``.

Thin like the rest of the CLI: read the files, call the engine, print. Registered by
:func:`cityeval.cli.app._parser` through :func:`register`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

import polars as pl

from cityeval.cli.output import NullWriter, emit, new_console, new_table, progress_line
from cityeval.engine import InputError, load_framework, read_table
from cityeval.engine.numbers import format_number
from cityeval.engine.spreadsheet import write_csv

# The analysis engines (numpy) are imported by the commands that use them: every `cityeval`
# call builds these commands' parsers, and only `uncertainty` and `whatif` need them.

UNCERTAINTY_COLUMNS = [
    "region",
    "group",
    "final",
    "final_lo",
    "final_hi",
    "rank_national",
    "rank_lo",
    "rank_hi",
]
PROVINCE_COLUMNS = ["province", "rank_province", "rank_province_lo", "rank_province_hi"]


def register(commands: Any) -> None:
    """Add the subcommands to the CLI's subparsers."""
    p = commands.add_parser(
        "uncertainty",
        help="how far each final and rank can be trusted (Monte Carlo)",
        description=(
            "Re-score item-level INPUT many times with the assessors resampled, the survey "
            "answers resampled and the weights perturbed, and report each region's final and "
            "rank with a 90 %% interval, its chance of the top 10 and the variance shares."
        ),
    )
    _common(p)
    p.add_argument("--draws", type=_positive, default=1000, help="Monte Carlo draws (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="random seed; the same seed gives the same output")
    p.add_argument(
        "--sources",
        type=_sources,
        default=("assessors", "weights"),
        help="comma-separated: assessors, weights, survey (default assessors,weights; survey needs --survey)",
    )
    p.add_argument(
        "--weight-range", type=float, default=0.2, help="± share by which weights vary (default 0.2)"
    )
    p.add_argument(
        "--weight-sets", metavar="FILE", help="set,group,component,weight table: draw among these sets"
    )
    p.add_argument("--survey", metavar="COUNTS", help="answer counts: region,statement,count_0…count_4")
    p.set_defaults(handler=_cmd_uncertainty)

    p = commands.add_parser(
        "whatif",
        help="which items would raise a region's final most",
        description=(
            "For one region of item-level INPUT, each item below the target level with the "
            "final and the rank the region would have if that item alone reached it."
        ),
    )
    _common(p)
    p.add_argument("--region", required=True, metavar="NAME")
    p.add_argument("--top", type=_positive, help="only the N items with the largest gain")
    p.add_argument(
        "--target-level", type=float, metavar="L", help="level to raise items to (default: scale top)"
    )
    p.add_argument(
        "--set",
        action="append",
        type=_change,
        metavar="ITEM=LEVEL",
        help="simulate these changes together instead (repeat for several items)",
    )
    p.set_defaults(handler=_cmd_whatif)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "input", metavar="INPUT", help="item-level CSV or XLSX: region, group, item, assessor, score"
    )
    p.add_argument("--framework", required=True, metavar="NAME|FILE")
    p.add_argument("--group", help="group for every region when INPUT has no group column")
    p.add_argument("--consolidation", choices=("mean", "median"), default="mean")
    p.add_argument("--unscored", choices=("skip", "zero"), default="skip")
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")


def _positive(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _sources(text: str) -> tuple[str, ...]:
    from cityeval.engine.uncertainty import SOURCES

    chosen = tuple(s.strip() for s in text.split(",") if s.strip())
    unknown = [s for s in chosen if s not in SOURCES]
    if unknown:
        raise argparse.ArgumentTypeError(f"unknown source {unknown[0]!r} (choose from {', '.join(SOURCES)})")
    return chosen


def _change(text: str) -> tuple[str, float]:
    item, sep, level = text.partition("=")
    try:
        if not sep or not item.strip():
            raise ValueError
        return item.strip(), float(level)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected ITEM=LEVEL, e.g. output.regulation=3, not {text!r}"
        ) from None


def _read(path: str) -> pl.DataFrame:
    try:
        return read_table(path)
    except InputError as exc:
        raise exc.with_source(path) from None


# --- uncertainty -----------------------------------------------------------------------------


def _cmd_uncertainty(args: argparse.Namespace) -> int:
    from cityeval.engine.uncertainty import SURVEY_SOURCE, uncertainty
    from cityeval.engine.uncertainty_inputs import weight_sets

    if "survey" in args.sources and not args.survey:
        raise InputError("the survey source needs answer counts: add --survey COUNTS")
    if args.draws < 2:
        raise InputError("--draws must be at least 2")
    if not 0 <= args.weight_range < 1:
        raise InputError("--weight-range must be at least 0 and below 1")
    with progress_line("Uncertainty") as step:
        step("reading")
        fw = load_framework(args.framework)
        table = _read(args.input)
        counts = _read(args.survey) if args.survey else None
        sets = None
        if args.weight_sets:
            try:
                sets = weight_sets(_read(args.weight_sets), fw)
            except InputError as exc:
                raise exc.with_source(args.weight_sets) from None
        _require_items(table, args.input)
        step(f"{args.draws:,} draws")
        try:
            result = uncertainty(
                table,
                fw,
                draws=args.draws,
                seed=args.seed,
                sources=args.sources,
                weight_range=args.weight_range,
                weight_sets=sets,
                survey=counts if "survey" in args.sources else None,
                default_group=args.group,
                consolidation=args.consolidation,
                unscored=args.unscored,
                variance_shares=args.format != "csv",  # the CSV has no shares: skip their draws
            )
        except InputError as exc:
            raise exc.with_source(args.survey if exc.source == SURVEY_SOURCE else args.input) from None
    regions = result.regions
    columns = UNCERTAINTY_COLUMNS + (PROVINCE_COLUMNS if "province" in regions.columns else []) + ["p_top10"]
    if args.format == "csv":
        text = write_csv(regions.select(columns))
    elif args.format == "json":
        out = {
            "parameters": dict(result.parameters),
            "variance_shares": dict(result.shares),
            "regions": regions.drop("participant").to_dicts(),
        }
        text = json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    else:
        text = _uncertainty_text(regions, result.shares, dict(result.parameters))
    emit(text, args.output)
    return 0


def _require_items(table: pl.DataFrame, path: str) -> None:
    if not {"item", "assessor", "score"} <= set(table.columns):
        raise InputError(
            "needs item-level input (region, group, item, assessor, score): resampling assessors "
            "and re-scoring items is not possible from component scores",
            source=path,
        )


def _uncertainty_text(regions: pl.DataFrame, shares: Any, parameters: dict[str, Any]) -> str:

    table = new_table(title="Final and rank with 90 % intervals")
    for column in ("region", "group", "final (90 %)", "rank (5–95 %)", "top 10"):
        table.add_column(column, justify="left" if column in ("region", "group") else "right")
    for row in regions.iter_rows(named=True):
        rank = (
            "–"
            if row["rank_national"] is None
            else f"{row['rank_national']} ({row['rank_lo']}–{row['rank_hi']})"
        )
        table.add_row(
            row["region"],
            row["group"],
            f"{format_number(row['final'])} "
            f"({format_number(row['final_lo'])}–{format_number(row['final_hi'])})",
            rank,
            f"{format_number(row['p_top10'] * 100, 0)}%",
        )
    console = new_console(record=True, width=160, file=NullWriter())
    console.print(table)
    described = ", ".join(
        f"{k} {format_number(v * 100, 0)}%" if v is not None else f"{k} –" for k, v in shares.items()
    )
    # The shares are Monte Carlo estimates: printed raw (as in the JSON), with a note, because a
    # share of 106 % or -3 % from a few hundred draws is estimator noise, not a broken result.
    console.print(f"variance shares (first-order Sobol, all finals): {described or '–'}")
    if described:
        console.print(
            f"  (estimates from {parameters.get('draws', '?')} draws: a share may come out below 0 % "
            "or above 100 %; more draws narrow them)"
        )
    console.print(f"parameters {parameters}", style="dim")
    return console.export_text()


# --- whatif ----------------------------------------------------------------------------------


def _cmd_whatif(args: argparse.Namespace) -> int:
    from cityeval.engine.whatif import plan

    fw = load_framework(args.framework)
    table = _read(args.input)
    _require_items(table, args.input)
    if args.set:
        return _simulate(args, fw, table)
    try:
        result = plan(
            table,
            fw,
            region=args.region,
            target_level=args.target_level,
            default_group=args.group,
            consolidation=args.consolidation,
            unscored=args.unscored,
        )
    except InputError as exc:
        raise exc.with_source(args.input) from None
    items = result.items.head(args.top) if args.top else result.items
    if args.format == "csv":
        text = write_csv(items)
    elif args.format == "json":
        out = {"region": result.region, "final": result.final, "rank": result.rank, "items": items.to_dicts()}
        text = json.dumps(out, ensure_ascii=False, indent=2) + "\n"
    else:
        text = _whatif_text(result.region, result.final, result.rank, items)
    emit(text, args.output)
    return 0


def _simulate(args: argparse.Namespace, fw: Any, table: pl.DataFrame) -> int:
    from cityeval.engine.whatif import plan, simulate

    changes = dict(args.set)
    options = {"default_group": args.group, "consolidation": args.consolidation, "unscored": args.unscored}
    try:
        current = plan(table, fw, region=args.region, **options)
        final, rank = simulate(table, fw, region=args.region, changes=changes, **options)
    except InputError as exc:
        raise exc.with_source(args.input) from None
    row = {
        "region": args.region,
        "changes": ", ".join(f"{k}={v:g}" for k, v in changes.items()),
        "final": current.final,
        "rank": current.rank,
        "new_final": final,
        "new_rank": rank,
        "gain_final": final - current.final,
    }
    if args.format == "csv":
        text = write_csv(pl.DataFrame([row]))
    elif args.format == "json":
        text = json.dumps({**row, "changes": changes}, ensure_ascii=False, indent=2) + "\n"
    else:
        rank_text = "–" if rank is None else str(rank)
        text = (
            f"{args.region} with {row['changes']}: "
            f"final {format_number(current.final)} → {format_number(final)} "
            f"({format_number(final - current.final, 3, signed=True)}), rank {current.rank} → {rank_text}\n"
        )
    emit(text, args.output)
    return 0


def _whatif_text(region: str, final: float, rank: int | None, items: pl.DataFrame) -> str:

    ranked = rank if rank is not None else "–"
    title = f"{region}: final {format_number(final)}, rank {ranked} — one item at a time"
    table = new_table(title=title)
    for column in ("item", "component", "current", "target", "gain", "new final", "new rank"):
        table.add_column(column, justify="left" if column in ("item", "component") else "right")
    for row in items.iter_rows(named=True):
        current = format_number(row["current"])
        table.add_row(
            row["item"],
            row["component"],
            current,
            f"{row['target']:g}",
            format_number(row["gain_final"], 3, signed=True),
            format_number(row["new_final"]),
            "–" if row["new_rank"] is None else str(row["new_rank"]),
        )
    console = new_console(record=True, width=160, file=NullWriter())
    console.print(table)
    return console.export_text()
