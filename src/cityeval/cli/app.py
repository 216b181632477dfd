"""The ``cityeval`` command line: a thin layer over the engine.

It parses arguments, reads files, calls the engine and prints. Errors a user can cause are one
line on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cityeval import __version__
from cityeval.cli.output import (
    EXIT_USAGE,
    NullWriter,
    emit,
    make_console,
    new_console,
    new_table,
    progress_line,
    results_table,
)
from cityeval.engine import (
    CityevalError,
    Framework,
    InputError,
    builtin_frameworks,
    load_framework,
    previous_finals,
    read_table,
    score,
)
from cityeval.engine.scoring import ScoreResult
from cityeval.engine.spreadsheet import write_csv

if TYPE_CHECKING:
    from rich.console import Console


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if not hasattr(args, "handler"):
        parser.print_help()
        return EXIT_USAGE
    try:
        return int(args.handler(args) or 0)
    except CityevalError as exc:
        print(f"cityeval: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except BrokenPipeError:  # e.g. `cityeval score ... | head`
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cityeval",
        description="Smart-city evaluations: frameworks, scoring, results.",
    )
    parser.add_argument("--version", action="version", version=f"cityeval {__version__}")
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    p = commands.add_parser("frameworks", help="list the built-in frameworks")
    p.set_defaults(handler=_cmd_frameworks)

    p = commands.add_parser("framework", help="show or validate a framework")
    sub = p.add_subparsers(title="actions", metavar="ACTION", required=True)
    show = sub.add_parser("show", help="show a built-in framework or a framework file")
    show.add_argument("framework", metavar="NAME|FILE")
    show.add_argument("--items", action="store_true", help="list every item")
    show.set_defaults(handler=_cmd_framework_show)
    validate = sub.add_parser("validate", help="check a framework file")
    validate.add_argument("file", metavar="FILE")
    validate.set_defaults(handler=_cmd_framework_validate)

    p = commands.add_parser(
        "score",
        help="score item-level or component-level input",
        description=(
            "Score a CSV or XLSX table. Item-level input has the columns region, group, item, "
            "assessor, score (optional province); component-level input has region, group and "
            "one column per component, like the ministry's result letters."
        ),
    )
    p.add_argument("input", metavar="INPUT", help="CSV or XLSX file")
    p.add_argument("--framework", required=True, metavar="NAME|FILE")
    p.add_argument(
        "--previous",
        metavar="PREV",
        help="previous cycle: a score output or any region,final table",
    )
    p.add_argument("--group", help="group for every region when INPUT has no group column")
    p.add_argument("--consolidation", choices=("mean", "median"), default="mean")
    p.add_argument(
        "--unscored",
        choices=("skip", "zero"),
        default="skip",
        help="unscored items: left out of the component mean (skip) or counted as 0 (zero)",
    )
    p.add_argument("--format", choices=("table", "csv", "json"), default="table")
    p.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    p.set_defaults(handler=_cmd_score)

    from cityeval.cli.survey import add_survey_commands

    add_survey_commands(commands)

    from cityeval.cli.analysis import register as register_analysis

    register_analysis(commands)

    p = commands.add_parser("serve", help="run the web app (development server)")
    p.add_argument("--host", default="127.0.0.1")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--migrate", action="store_true", help="apply database migrations first")
    p.set_defaults(handler=_cmd_serve)

    p = commands.add_parser(
        "manage", help="run a Django management command, e.g. 'cityeval manage migrate'", add_help=False
    )
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(handler=_cmd_manage)

    p = commands.add_parser("demo", help="score the synthetic Deli Serdang 2024 demo and print it")
    p.add_argument("--export", metavar="DIR", help="also write the demo's input tables as CSV here")
    p.add_argument(
        "--serve",
        action="store_true",
        help="then load the demo into a fresh SQLite database (var/demo/) and serve it, with a job worker",
    )
    p.add_argument("--port", type=int, default=8000, help="port for --serve (on 127.0.0.1)")
    p.set_defaults(handler=_cmd_demo)

    from cityeval.cli.kkpd import add_kkpd_parser

    add_kkpd_parser(commands)

    from cityeval.cli.ops import add_ops_commands

    add_ops_commands(commands)
    return parser


# --- frameworks ------------------------------------------------------------------------------


def _cmd_frameworks(args: argparse.Namespace) -> int:
    table = new_table(title="Built-in frameworks / Kerangka bawaan")
    for column in ("name", "title", "hash", "groups", "items"):
        table.add_column(column)
    for name in builtin_frameworks():
        fw = load_framework(name)
        counts = ", ".join(f"{g}: {sum(1 for _ in fw.items_for(g))}" for g in fw.group_codes)
        table.add_row(name, fw.title.en, fw.short_hash, ", ".join(fw.group_codes), counts)
    make_console().print(table)
    return 0


def _cmd_framework_show(args: argparse.Namespace) -> int:
    fw = load_framework(args.framework)
    console = make_console()
    console.print(f"[bold]{fw.code}[/bold] — {fw.title.id} / {fw.title.en}")
    console.print(f"hash {fw.hash}")
    console.print(f"scale {fw.scale.min:g}–{fw.scale.max:g}")
    if fw.notes:
        console.print(fw.notes.strip(), style="dim")
    weights = new_table(title="Components and weights (%)")
    weights.add_column("component")
    weights.add_column("label")
    for g in fw.group_codes:
        weights.add_column(g, justify="right")
    for c in fw.components:
        cells = [
            f"{c.weights[g]:g} ({len(c.items_for(g))} items)" if g in c.weights else "–"
            for g in fw.group_codes
        ]
        weights.add_row(c.code, f"{c.label.id} / {c.label.en}", *cells)
    console.print(weights)
    if fw.dimensions:
        tree = new_table(title="Dimensions")
        for column in ("dimension", "sub-dimensions", "statements"):
            tree.add_column(column)
        for d in fw.dimensions:
            subs = ", ".join(s.code for s in d.subdimensions)
            count = sum(len(s.statements) for s in d.subdimensions)
            tree.add_row(f"{d.code} — {d.label.id}", subs, str(count))
        console.print(tree)
    if args.items:
        items = new_table(title="Items")
        for column in ("component", "code", "kind", "label (id)", "label (en)"):
            items.add_column(column)
        for c in fw.components:
            for i in c.items:
                kind = i.kind + (f" ({i.unit})" if i.unit else "")
                items.add_row(c.code, i.code, kind, i.label.id, i.label.en)
        console.print(items)
    return 0


def _cmd_framework_validate(args: argparse.Namespace) -> int:
    path = Path(args.file)
    if not path.is_file():
        raise InputError("file not found", source=str(path))
    fw = load_framework(path)
    items = sum(len(c.items) for c in fw.components)
    print(f"{path}: valid — {fw.code}, {len(fw.components)} components, {items} items, hash {fw.hash}")
    return 0


# --- score -----------------------------------------------------------------------------------


def _cmd_score(args: argparse.Namespace) -> int:
    with progress_line("Scoring") as step:
        step("reading the framework")
        fw = load_framework(args.framework)
        step(f"reading {args.input}")
        table = read_table(args.input)
        previous = None
        if args.previous:
            step(f"reading {args.previous}")
            previous = _read_previous(args.previous)
        step("scoring")
        try:
            result = score(
                table,
                fw,
                previous=previous,
                default_group=args.group,
                consolidation=args.consolidation,
                unscored=args.unscored,
            )
        except InputError as exc:
            raise exc.with_source(args.input) from None
        step("writing")
        text = _render(result, fw, args.format)
    emit(text, args.output)
    return 0


def _read_previous(path: str) -> pl.DataFrame:
    try:
        return previous_finals(read_table(path))
    except InputError as exc:
        raise exc.with_source(path) from None


def _render(result: ScoreResult, fw: Framework, fmt: str) -> str:
    summary = result.summary(fw.component_codes)
    if fmt == "csv":
        return write_csv(summary)
    if fmt == "json":
        return json.dumps(_as_json(result, fw), ensure_ascii=False, indent=2) + "\n"
    return _table_text(result, fw)


def _as_json(result: ScoreResult, fw: Framework) -> dict[str, Any]:
    out: dict[str, Any] = {
        "framework": {"code": fw.code, "hash": result.framework_hash},
        "parameters": dict(result.parameters),
        "regions": result.summary(fw.component_codes).to_dicts(),
        "components": result.components.to_dicts(),
        "non_participants": list(result.non_participants),
    }
    if result.items is not None:
        out["items"] = result.items.to_dicts()
    if result.dimensions is not None:
        out["dimensions"] = result.dimensions.to_dicts()
    return out


def _table_text(result: ScoreResult, fw: Framework) -> str:
    console = new_console(record=True, width=160, file=NullWriter())
    console.print(results_table(result, fw))
    if result.non_participants:
        console.print("Non-participants (all components 0 or missing): " + ", ".join(result.non_participants))
    console.print(f"framework {fw.code} {fw.short_hash} · parameters {dict(result.parameters)}", style="dim")
    return console.export_text()


# --- demo ------------------------------------------------------------------------------------


def _cmd_demo(args: argparse.Namespace) -> int:
    from cityeval.demo import export_demo, print_demo

    console = make_console()
    print_demo(console)
    if args.export:
        for path in export_demo(Path(args.export)):
            print(f"wrote {path}")
    if args.serve:
        _serve_demo(console, port=args.port)
    return 0


def _serve_demo(console: Console, *, port: int) -> None:
    """A fresh demo database each run, its own, so a configured DATABASE_URL is never touched."""
    import os
    import shutil

    folder = Path("var/demo").resolve()
    database = folder / "demo.sqlite3"
    folder.mkdir(parents=True, exist_ok=True)
    database.unlink(missing_ok=True)
    os.environ["DATABASE_URL"] = f"sqlite:///{database}"
    os.environ["MEDIA_ROOT"] = str(folder / "media")
    # Mail goes to files the coordinator's outbox page lists, so invitation links can be followed.
    shutil.rmtree(folder / "mail", ignore_errors=True)
    os.environ.update(EMAIL_BACKEND="file", EMAIL_FILE_PATH=str(folder / "mail"), DEMO_OUTBOX="1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityeval.web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    from cityeval.web.demo import load_demo

    console.print("Preparing the web demo database …")
    call_command("migrate", verbosity=0, interactive=False)
    logins = load_demo()
    table = new_table(
        title=f"Web demo: http://127.0.0.1:{port}/  (one login per role; new passwords each run)"
    )
    for column in ("role", "username", "password", "sees"):
        table.add_column(column)
    for login in logins:
        table.add_row(login.role, login.username, login.password, login.sees)
    console.print(table)
    import signal
    import subprocess

    # The background-job worker beside the server, on the same database; stopped with it (Ctrl+C
    # reaches both; SIGTERM to the server alone becomes an exit, so the `finally` stops the worker).
    worker = subprocess.Popen([sys.executable, "-m", "cityeval.cli", "worker"], env=os.environ.copy())
    signal.signal(signal.SIGTERM, lambda _signum, _frame: sys.exit(0))
    try:
        call_command("runserver", f"127.0.0.1:{port}", use_reloader=False)
    finally:
        worker.terminate()
        worker.wait(timeout=30)


# --- web ---------------------------------------------------------------------------------------


def _django(*arguments: str) -> None:
    import os

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityeval.web.settings")
    from django.core.management import execute_from_command_line

    execute_from_command_line(["cityeval manage", *arguments])


def _cmd_manage(args: argparse.Namespace) -> int:
    _django(*args.rest)
    return 0


def _cmd_serve(args: argparse.Namespace) -> int:
    if args.migrate:
        _django("migrate", "--no-input", "-v", "0")
    _django("runserver", "--noreload", f"{args.host}:{args.port}")
    return 0
