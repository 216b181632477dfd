"""Scoring: from assessors' item scores, or from component scores, to finals and ranks.

Formulas (docs/domain.md §3):

- item score = the panel's scores of that item consolidated by ``mean`` (default) or ``median``;
- component score = arithmetic mean of the component's item scores;
- final (*Indeks Pencapaian*) = Σ weight × component score, weights of the region's group;
- improvement (*Indeks Peningkatan*) = final − previous final, blank without a previous final;
- ranks: competition ranking ("1, 2, 2, 4") on the unrounded final, national and per province.

Nothing is rounded here: presentation rounds. Every intermediate table is returned with the
parameters that produced it and the framework's hash, so a result can be re-run exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from cityeval.engine.errors import InputError
from cityeval.engine.framework import Framework
from cityeval.engine.tables import (
    ROW,
    first_row,
    parse_numbers,
    require_columns,
    text_column,
    with_rows,
)

__all__ = [
    "ITEM_COLUMNS",
    "ScoreResult",
    "detect_level",
    "previous_finals",
    "score",
    "score_components",
    "score_items",
]

ITEM_COLUMNS = ("region", "group", "item", "assessor", "score")
RANK_DECIMALS = 9
Consolidation = Literal["mean", "median"]
Unscored = Literal["skip", "zero"]


@dataclass(frozen=True)
class ScoreResult:
    """Everything a scoring run produced.

    ``regions``: one row per region — ``region, group, [province], <component codes>, final,
    previous_final, improvement, rank_national, [rank_province], participant, coverage``.
    ``components``: long — ``region, component, weight, score, items_scored, items_expected,
    coverage``. ``items`` and ``dimensions`` exist for item-level input only.
    """

    framework_code: str
    framework_hash: str
    level: Literal["item", "component"]
    parameters: MappingProxyType[str, Any]
    regions: pl.DataFrame
    components: pl.DataFrame
    items: pl.DataFrame | None = None
    dimensions: pl.DataFrame | None = None
    non_participants: tuple[str, ...] = field(default=())

    @property
    def has_province(self) -> bool:
        return "province" in self.regions.columns

    def summary(self, component_codes: tuple[str, ...]) -> pl.DataFrame:
        """The published-letter shape: region, group, components, final, improvement, ranks."""
        columns = ["region", "group", *component_codes, "final", "improvement", "rank_national"]
        if self.has_province:
            columns += ["province", "rank_province"]
        if self.level == "item":
            columns.append("coverage")
        return self.regions.select(columns)


def detect_level(columns: list[str], framework: Framework) -> Literal["item", "component"]:
    """Tell item-level input (one score per assessor) from component-level input."""
    if {"item", "assessor", "score"} <= set(columns):
        return "item"
    if "region" in columns and any(c in columns for c in framework.component_codes):
        return "component"
    raise InputError(
        "cannot tell what this table holds: item scores need the columns "
        f"{', '.join(ITEM_COLUMNS)}; component scores need region and component columns "
        f"({', '.join(framework.component_codes)})"
    )


def score(
    table: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
    rank_non_participants: bool = False,
) -> ScoreResult:
    """Score a table of either level, telling which by its columns."""
    if detect_level(table.columns, framework) == "item":
        return score_items(
            table,
            framework,
            previous=previous,
            default_group=default_group,
            consolidation=consolidation,
            unscored=unscored,
            rank_non_participants=rank_non_participants,
        )
    return score_components(
        table,
        framework,
        previous=previous,
        default_group=default_group,
        rank_non_participants=rank_non_participants,
    )


# --- item level ------------------------------------------------------------------------------


def score_items(
    scores: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    consolidation: Consolidation = "mean",
    unscored: Unscored = "skip",
    rank_non_participants: bool = False,
    overrides: pl.DataFrame | None = None,
) -> ScoreResult:
    """Score a long table ``region, group, item, assessor, score[, province]``.

    ``consolidation`` turns a panel's scores of an item into the item score. ``unscored`` says
    what an expected item nobody scored does to its component: ``skip`` (the component is the
    mean of the scored items; coverage shows what is missing) or ``zero`` (it counts as 0). A
    component with no scored item at all contributes 0 to the final either way. A blank score
    is "not scored", not 0.

    ``overrides`` (``region, item, score``) are consolidated scores a panel chair recorded: they
    replace the consolidated panel score of that item. The items table keeps both
    (``panel_score`` and ``score``) and flags ``consolidated``.

    Example (hand-checkable): two assessors give item ``baseline.legal_basis`` 3 and 4 → item
    score 3.5; if it is the only scored baseline item, baseline = 3.5.
    """
    if consolidation not in ("mean", "median"):
        raise ValueError(f"consolidation must be 'mean' or 'median', not {consolidation!r}")
    if unscored not in ("skip", "zero"):
        raise ValueError(f"unscored must be 'skip' or 'zero', not {unscored!r}")
    table = _check_item_table(scores, framework, default_group=default_group)
    catalogue = _catalogue(framework)

    panel = getattr(pl.col("score"), consolidation)()
    items = (
        table.filter(pl.col("score").is_not_null())
        .group_by("region", "item")
        .agg(
            panel.alias("score"),
            pl.len().alias("n_assessors"),
            pl.col("score").min().alias("score_min"),
            pl.col("score").max().alias("score_max"),
        )
    )
    regions = _region_attributes(table)
    expected = regions.select("region", "group").join(catalogue, on="group")
    items = expected.join(items, on=["region", "item"], how="left").with_columns(
        pl.col("n_assessors").fill_null(0)
    )
    items = _apply_overrides(items, overrides, framework)
    scored_value = pl.col("score") if unscored == "skip" else pl.col("score").fill_null(0.0)
    components = items.group_by("region", "component", "weight").agg(
        scored_value.mean().alias("score"),
        pl.col("score").is_not_null().sum().alias("items_scored"),
        pl.len().alias("items_expected"),
    )
    # A component with no scored item counts 0 in the final; say so in its score too (its
    # coverage of 0 shows why), so that the component-level table re-scores to the same final.
    components = components.with_columns(
        pl.col("score").fill_null(0.0),
        (pl.col("items_scored") / pl.col("items_expected")).alias("coverage"),
    ).sort("region", _component_order(framework))
    dimensions = (
        items.filter(pl.col("dimension").is_not_null())
        .group_by("region", "dimension")
        .agg(
            pl.col("score").mean().alias("score"),
            pl.col("score").is_not_null().sum().alias("items_scored"),
            pl.len().alias("items_expected"),
        )
        .sort("region", _dimension_order(framework))
    )
    items = items.select(
        "region", "component", "item", "dimension", "n_assessors",
        "panel_score", "consolidated", "score", "score_min", "score_max",
    ).sort("region", _component_order(framework), "item")  # fmt: skip
    return _finish(
        framework,
        level="item",
        regions=regions,
        components=components,
        items=items,
        dimensions=dimensions,
        previous=previous,
        rank_non_participants=rank_non_participants,
        parameters={"consolidation": consolidation, "unscored": unscored},
    )


def _apply_overrides(
    items: pl.DataFrame, overrides: pl.DataFrame | None, framework: Framework
) -> pl.DataFrame:
    """Replace panel scores by the consolidated scores given for (region, item)."""
    items = items.with_columns(pl.col("score").alias("panel_score"))
    if overrides is None or overrides.height == 0:
        return items.with_columns(pl.lit(False).alias("consolidated"))
    table = with_rows(overrides)
    require_columns(table, ("region", "item", "score"), what="consolidated-score table")
    table = parse_numbers(text_column(text_column(table, "region"), "item"), ["score"])
    _check_scale(table, "score", framework)
    duplicate = first_row(table, pl.len().over("region", "item") > 1)
    if duplicate is not None:
        raise InputError(
            f"item {duplicate['item']!r} of {duplicate['region']!r} has two consolidated scores",
            row=duplicate[ROW],
            column="item",
        )
    stray = table.join(items.select("region", "item"), on=["region", "item"], how="anti")
    if stray.height:
        bad = stray.sort(ROW).row(0, named=True)
        raise InputError(
            f"no item {bad['item']!r} is expected of region {bad['region']!r}", row=bad[ROW], column="item"
        )
    chosen = table.select("region", "item", pl.col("score").alias("__override__"))
    return (
        items.join(chosen, on=["region", "item"], how="left")
        .with_columns(
            pl.col("__override__").is_not_null().alias("consolidated"),
            pl.coalesce("__override__", "score").alias("score"),
        )
        .drop("__override__")
    )


def _check_item_table(
    scores: pl.DataFrame, framework: Framework, *, default_group: str | None
) -> pl.DataFrame:
    table = _with_group(with_rows(scores), framework, default_group)
    require_columns(table, ITEM_COLUMNS, what="item-score table")
    for column in ("region", "group", "item", "assessor"):
        table = text_column(table, column)
    if "province" in table.columns:
        table = text_column(table, "province", required=False)
    table = _canonical_groups(table, framework)
    table = parse_numbers(table, ["score"])
    _check_scale(table, "score", framework)

    known = pl.DataFrame({"item": list(framework.items_by_code)}, schema={"item": pl.String})
    unknown = table.join(known, on="item", how="anti")
    if unknown.height:
        bad = unknown.sort(ROW).row(0, named=True)
        raise InputError(
            f"unknown item {bad['item']!r} for framework {framework.code}",
            row=bad[ROW],
            column="item",
        )
    applicable = _catalogue(framework).select("group", "item")
    misplaced = table.join(applicable, on=["group", "item"], how="anti")
    if misplaced.height:
        bad = misplaced.sort(ROW).row(0, named=True)
        raise InputError(
            f"item {bad['item']!r} is not scored for group {bad['group']!r}",
            row=bad[ROW],
            column="item",
        )
    _check_consistent(table, "group")
    if "province" in table.columns:
        _check_consistent(table, "province")
    duplicate = first_row(table, pl.len().over("region", "item", "assessor") > 1)
    if duplicate is not None:
        raise InputError(
            f"assessor {duplicate['assessor']!r} scored item {duplicate['item']!r} of "
            f"{duplicate['region']!r} more than once",
            row=duplicate[ROW],
            column="assessor",
        )
    return table


def _check_consistent(table: pl.DataFrame, column: str) -> None:
    """A region has one group (or province) across all its rows."""
    first = table.group_by("region").agg(pl.col(column).sort_by(ROW).first().alias("__first__"))
    clash = first_row(table.join(first, on="region"), pl.col(column).ne_missing(pl.col("__first__")))
    if clash is not None:
        raise InputError(
            f"region {clash['region']!r} has {column} {clash[column]!r} here but "
            f"{clash['__first__']!r} on an earlier row",
            row=clash[ROW],
            column=column,
        )


def _region_attributes(table: pl.DataFrame) -> pl.DataFrame:
    columns = ["region", "group"] + (["province"] if "province" in table.columns else [])
    return table.select(columns).unique(subset="region", keep="first", maintain_order=True)


def _catalogue(framework: Framework) -> pl.DataFrame:
    """One row per (group, expected item) with its component, weight and dimension."""
    rows: dict[str, list[Any]] = {k: [] for k in ("group", "component", "weight", "item", "dimension")}
    for group in framework.group_codes:
        weights = framework.weights_for(group)
        for component, item in framework.items_for(group):
            rows["group"].append(group)
            rows["component"].append(component.code)
            rows["weight"].append(weights[component.code])
            rows["item"].append(item.code)
            rows["dimension"].append(framework.item_dimension(item))
    return pl.DataFrame(
        rows,
        schema={
            "group": pl.String,
            "component": pl.String,
            "weight": pl.Float64,
            "item": pl.String,
            "dimension": pl.String,
        },
    )


# --- component level -------------------------------------------------------------------------


def score_components(
    table: pl.DataFrame,
    framework: Framework,
    *,
    previous: pl.DataFrame | None = None,
    default_group: str | None = None,
    rank_non_participants: bool = False,
) -> ScoreResult:
    """Score a table like the ministry's letters: ``region, group, <component codes>``.

    Every component weighted for a region's group must have a value; a component the group
    does not have must be blank. Columns that are not components (e.g. a published final) are
    ignored.
    """
    table = _with_group(with_rows(table), framework, default_group)
    require_columns(table, ("region", "group"), what="component-score table")
    table = text_column(table, "region")
    table = text_column(table, "group")
    if "province" in table.columns:
        table = text_column(table, "province", required=False)
    table = _canonical_groups(table, framework)
    _check_unique_regions(table)
    present = [c for c in framework.component_codes if c in table.columns]
    table = parse_numbers(table, present)
    for code in present:
        _check_scale(table, code, framework)
    _check_component_presence(table, framework, present)

    regions = _region_attributes(table)
    weights = pl.DataFrame(
        [
            {"group": g, "component": c, "weight": w}
            for g in framework.group_codes
            for c, w in framework.weights_for(g).items()
        ],
        schema={"group": pl.String, "component": pl.String, "weight": pl.Float64},
    )
    long = table.select("region", "group", *present).unpivot(
        index=["region", "group"], variable_name="component", value_name="score"
    )
    components = (
        weights.join(regions.select("region", "group"), on="group")
        .join(long.drop("group"), on=["region", "component"], how="left")
        .drop("group")
        .sort("region", _component_order(framework))
    )
    return _finish(
        framework,
        level="component",
        regions=regions,
        components=components,
        previous=previous,
        rank_non_participants=rank_non_participants,
        parameters={},
    )


def _check_component_presence(table: pl.DataFrame, framework: Framework, present: list[str]) -> None:
    """Each participating region has every component of its group, and none of another's.

    A region whose components are all 0 or blank did not take part: it is listed as a
    non-participant rather than refused.
    """
    took_part = (
        pl.any_horizontal(pl.col(c).fill_null(0.0) != 0 for c in present) if present else pl.lit(False)
    )
    for group in framework.group_codes:
        of_group = (pl.col("group") == group) & took_part
        for component in framework.components:
            code = component.code
            if component.applies_to(group):
                if code not in present:
                    row = first_row(table, of_group)
                    if row is not None:
                        raise InputError(
                            f"no column for component {code!r}, which group {group!r} needs",
                            row=row[ROW],
                            column=code,
                        )
                    continue
                row = first_row(table, of_group & pl.col(code).is_null())
                if row is not None:
                    raise InputError(
                        f"component {code!r} is missing; group {group!r} needs it",
                        row=row[ROW],
                        column=code,
                    )
            elif code in present:
                row = first_row(table, of_group & pl.col(code).is_not_null())
                if row is not None:
                    raise InputError(
                        f"group {group!r} has no component {code!r}: leave it blank",
                        row=row[ROW],
                        column=code,
                    )


# --- shared ----------------------------------------------------------------------------------


def _with_group(table: pl.DataFrame, framework: Framework, default_group: str | None) -> pl.DataFrame:
    if "group" in table.columns:
        return table
    if default_group is None and len(framework.groups) == 1:
        default_group = framework.groups[0].code
    if default_group is None:
        raise InputError(
            "the table has no column 'group' and no default group was given "
            f"(groups: {', '.join(framework.group_codes)})",
            column="group",
        )
    code = framework.resolve_group(default_group)
    if code is None:
        raise InputError(f"unknown group {default_group!r} (groups: {', '.join(framework.group_codes)})")
    return table.with_columns(pl.lit(code).alias("group"))


def _canonical_groups(table: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """The group column in the framework's codes, aliases (``R``, ``KPPN & IKN``) resolved."""
    values = table.get_column("group").drop_nulls().unique().to_list()
    codes = {value: framework.resolve_group(value) for value in values}
    bad = first_row(table, pl.col("group").is_in([v for v, code in codes.items() if code is None]))
    if bad is not None:
        raise InputError(
            f"unknown group {bad['group']!r} (groups in {framework.code}: "
            f"{', '.join(framework.group_codes)})",
            row=bad[ROW],
            column="group",
        )
    return table.with_columns(pl.col("group").replace_strict(codes, return_dtype=pl.String))


def _check_scale(table: pl.DataFrame, column: str, framework: Framework) -> None:
    scale = framework.scale
    bad = first_row(table, (pl.col(column) < scale.min) | (pl.col(column) > scale.max))
    if bad is not None:
        raise InputError(
            f"{bad[column]:g} is outside the scale {scale.min:g}–{scale.max:g}",
            row=bad[ROW],
            column=column,
        )


def previous_finals(table: pl.DataFrame) -> pl.DataFrame:
    """Check a previous cycle's table (a ``score`` output or any table with region and final).

    Returns ``region, previous_final``; a table already in that shape is returned as it is,
    so a caller can check the file first (to name it in errors) and then pass the result on.
    """
    if set(table.columns) == {"region", "previous_final"}:
        return table
    table = with_rows(table)
    require_columns(table, ("region", "final"), what="previous-cycle table")
    table = text_column(table, "region")
    table = parse_numbers(table, ["final"])
    _check_unique_regions(table)
    # A final of 0 is a non-participant's (all components 0 or missing): no previous result.
    return table.filter(pl.col("final").is_not_null() & (pl.col("final") != 0)).select(
        "region", pl.col("final").alias("previous_final")
    )


def _check_unique_regions(table: pl.DataFrame) -> None:
    duplicate = first_row(table, pl.len().over("region") > 1)
    if duplicate is not None:
        later = table.filter(pl.col("region") == duplicate["region"]).sort(ROW).row(1, named=True)
        raise InputError(
            f"region {duplicate['region']!r} appears twice (first at row {duplicate[ROW]})",
            row=later[ROW],
            column="region",
        )


def _component_order(framework: Framework) -> pl.Expr:
    order = {code: i for i, code in enumerate(framework.component_codes)}
    return pl.col("component").replace_strict(order, return_dtype=pl.Int32)


def _dimension_order(framework: Framework) -> pl.Expr:
    order = {d.code: i for i, d in enumerate(framework.dimensions)}
    return pl.col("dimension").replace_strict(order, return_dtype=pl.Int32, default=len(order))


def _finish(
    framework: Framework,
    *,
    level: Literal["item", "component"],
    regions: pl.DataFrame,
    components: pl.DataFrame,
    previous: pl.DataFrame | None,
    rank_non_participants: bool,
    parameters: dict[str, Any],
    items: pl.DataFrame | None = None,
    dimensions: pl.DataFrame | None = None,
) -> ScoreResult:
    """Finals, improvement, ranks and non-participants, shared by both input levels."""
    per_region = components.group_by("region").agg(
        (pl.col("weight") * pl.col("score").fill_null(0.0)).sum().alias("final"),
        (pl.col("score").fill_null(0.0) > 0).any().alias("participant"),
        *(
            [(pl.col("items_scored").sum() / pl.col("items_expected").sum()).alias("coverage")]
            if level == "item"
            else []
        ),
    )
    wide = components.pivot(on="component", index="region", values="score")
    missing = [c for c in framework.component_codes if c not in wide.columns]
    wide = wide.with_columns(pl.lit(None, dtype=pl.Float64).alias(c) for c in missing)
    table = regions.join(wide.select("region", *framework.component_codes), on="region").join(
        per_region, on="region"
    )

    if previous is not None:
        table = table.join(previous_finals(previous), on="region", how="left")
    else:
        table = table.with_columns(pl.lit(None, dtype=pl.Float64).alias("previous_final"))
    table = table.with_columns((pl.col("final") - pl.col("previous_final")).alias("improvement"))

    # Ranks compare finals to RANK_DECIMALS places: two regions with the same published
    # components can differ in the 16th digit of a float sum taken in another order, and that
    # noise must not break a tie. (The final itself stays unrounded.)
    key = pl.col("final").round(RANK_DECIMALS)
    rankable = key if rank_non_participants else pl.when(pl.col("participant")).then(key)
    ranks = [rankable.rank("min", descending=True).cast(pl.Int64).alias("rank_national")]
    if "province" in table.columns:
        ranks.append(
            rankable.rank("min", descending=True).over("province").cast(pl.Int64).alias("rank_province")
        )
    table = table.with_columns(ranks).sort(pl.col("final"), pl.col("region"), descending=[True, False])
    columns = ["region", "group", *(["province"] if "province" in table.columns else [])]
    columns += [
        *framework.component_codes,
        "final",
        "previous_final",
        "improvement",
        "rank_national",
    ]
    columns += ["rank_province"] if "province" in table.columns else []
    columns += ["participant"] + (["coverage"] if level == "item" else [])
    table = table.select(columns)
    non_participants = tuple(table.filter(~pl.col("participant")).get_column("region").sort())
    return ScoreResult(
        framework_code=framework.code,
        framework_hash=framework.hash,
        level=level,
        parameters=MappingProxyType(
            {**parameters, "rank_non_participants": rank_non_participants, "level": level}
        ),
        regions=table,
        components=components,
        items=items,
        dimensions=dimensions,
        non_participants=non_participants,
    )
