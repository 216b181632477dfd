"""``cityeval survey``: the citizens' survey from the command line, for analysts.

``survey forms`` lists the forms of a framework, ``survey form`` writes one as an XLSForm and
``survey check`` reads an export (KoboToolbox, ODK Central or cityeval's template; CSV, XLSX or
ODK Central's ``.csv.zip``) and prints, per statement, n, mean and the 95 % interval, with the
quality counts and the rows excluded. Everything is the engine's; nothing here touches the web
app or its database.

**Form codes.** A dimension code (``governance``) names the dimension's *combined* form (all
its statements); a sub-dimension code (``service``) names a *split* form (its three
statements), as the web app builds them. ``--mode`` settles a code a framework uses for both.

**Identity salt.** Phone numbers are only ever kept as salted hashes. The salt comes from
``--salt``, else the environment variable ``CITYEVAL_SURVEY_SALT``, else a random salt made for
this run: the checks are the same, but hashes of different runs cannot then be compared, so
respondents repeated across files checked separately cannot be linked. The output says which.

The module is imported by :mod:`cityeval.cli` when it builds its parser, so it can use the
CLI's output helpers.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cityeval.cli.output import NullWriter, emit, new_console, new_table
from cityeval.engine import InputError, load_framework
from cityeval.engine.numbers import format_number
from cityeval.engine.spreadsheet import write_csv

if TYPE_CHECKING:
    from cityeval.engine.survey import QualityReport

# The survey engine (numpy, xlsxwriter) is imported by the commands that use it: every
# `cityeval` call builds these commands' parsers, and only `cityeval survey` needs it.

SALT_VARIABLE = "CITYEVAL_SURVEY_SALT"
REASON_TEXT = {
    "rejected": "rejected by reviewer",
    "not_user": "did not use the service",
    "duplicate_id": "duplicate submission id",
    "straight_lining": "same answer to every statement",
    "too_fast": "completed implausibly fast",
    "burst": "arrived in a burst over its network's hourly rate",
    "duplicate_respondent": "same respondent answered this form before",
}
_STAT_COLUMNS = ("statement", "n", "mean", "ci_low", "ci_high")


def add_survey_commands(commands: Any) -> None:
    """Add ``survey forms|form|check`` to the main parser's sub-commands."""
    p = commands.add_parser("survey", help="citizens' survey: list forms, write an XLSForm, check an export")
    sub = p.add_subparsers(title="actions", metavar="ACTION", required=True)

    forms = sub.add_parser("forms", help="list the survey forms of a framework and their codes")
    forms.add_argument("--framework", required=True, metavar="NAME|FILE")
    forms.set_defaults(handler=_cmd_forms)

    form = sub.add_parser("form", help="write a form as an XLSForm (for KoboToolbox or ODK Central)")
    _form_arguments(form)
    form.add_argument("--output", "-o", required=True, metavar="FILE", help="the .xlsx to write")
    form.set_defaults(handler=_cmd_form)

    check = sub.add_parser(
        "check",
        help="statement means, intervals and quality checks of one form's export",
        description=(
            "Read a KoboToolbox, ODK Central or template export (CSV, XLSX or ODK Central's .csv.zip) "
            "of one form and print per statement n, mean and the 95 %% bootstrap interval, the "
            "quality flag counts and the rows excluded with why."
        ),
    )
    check.add_argument("export", metavar="EXPORT", help="CSV, XLSX or .csv.zip export of the form")
    _form_arguments(check)
    check.add_argument("--kind", choices=("auto", "kobo", "odk", "template"), default="auto")
    check.add_argument(
        "--min-seconds", type=float, default=60.0, help="responses faster than this are excluded (default 60)"
    )
    check.add_argument(
        "--include-rejected", action="store_true", help="count rows a reviewer rejected in the tool"
    )
    check.add_argument("--salt", help=f"identity-hash salt (default: ${SALT_VARIABLE}, else random per run)")
    check.add_argument("--format", choices=("table", "csv", "json"), default="table")
    check.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    check.set_defaults(handler=_cmd_check)


def _form_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--framework", required=True, metavar="NAME|FILE")
    p.add_argument(
        "--form", required=True, metavar="CODE", help="a dimension code (combined form) or sub-dimension code"
    )
    p.add_argument("--mode", choices=("split", "combined"), help="only for a code that names both")
    p.add_argument(
        "--no-demographics", action="store_true", help="the form does not ask age band, sex and district"
    )


def _cmd_forms(args: argparse.Namespace) -> int:
    from cityeval.engine.survey import form_choices

    fw = load_framework(args.framework)
    table = new_table(title=f"Survey forms of {fw.code}")
    for column in ("form", "mode", "dimension", "statements"):
        table.add_column(column)
    for form in form_choices(fw):
        table.add_row(form.code, form.mode, form.dimension, ", ".join(form.statements))
    console = new_console(width=160)
    console.print(table)
    console.print("A region runs each dimension either combined (one form) or split (one per sub-dimension).")
    return 0


def _cmd_form(args: argparse.Namespace) -> int:
    from cityeval.engine.survey import form_by_code, xlsform_bytes

    fw = load_framework(args.framework)
    form = form_by_code(fw, args.form, mode=args.mode, demographics=not args.no_demographics)
    _write(Path(args.output), xlsform_bytes(form, fw))
    print(
        f"wrote {args.output}: XLSForm of form {form.code} ({form.mode}, {len(form.statements)} statements)"
    )
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from cityeval.engine.survey import check_responses, form_by_code, read_responses, statement_stats

    fw = load_framework(args.framework)
    form = form_by_code(fw, args.form, mode=args.mode, demographics=not args.no_demographics)
    salt = args.salt or os.environ.get(SALT_VARIABLE) or ""
    salt_note = "given" if salt else "random per run: hashes cannot be compared with other runs"
    table = read_responses(
        args.export, form=form, kind=args.kind, identity_salt=salt or secrets.token_hex(16)
    )
    report = check_responses(
        table,
        min_seconds=args.min_seconds,
        exclude_rejected=not args.include_rejected,
        targets={form.code: form.target},
    )
    stats = statement_stats(
        report.valid, statements=form.statements, by=(), exclude_rejected=not args.include_rejected
    )
    parameters = dict(report.parameters) | {"identity_salt": salt_note, "confidence": 0.95}
    if args.format == "csv":
        text = write_csv(stats.select(pl.lit(form.code).alias("form"), *stats.columns))
    elif args.format == "json":
        text = json.dumps(_as_json(args.export, fw.code, form.code, stats, report, parameters), indent=2)
        text += "\n"
    else:
        text = _as_text(args.export, form.code, stats, report, salt_note)
    emit(text, args.output)
    return 0


def _excluded(report: QualityReport) -> pl.DataFrame:
    return report.responses.filter(pl.col("excluded")).select(
        "response_id", "reason", pl.col("reason").replace_strict(REASON_TEXT, default=None).alias("why")
    )


def _counts(report: QualityReport) -> dict[str, Any]:
    from cityeval.engine.survey import REASONS

    row = report.forms.row(0, named=True) if report.forms.height else {}
    return {
        "received": row.get("n_received", 0),
        "valid": row.get("n_valid", 0),
        "target": row.get("target"),
        "excluded": {reason: row.get(f"excluded_{reason}", 0) for reason in REASONS},
        "straight_lined": row.get("n_straight_lined", 0),
    }


def _as_json(
    export: str,
    framework: str,
    form: str,
    stats: pl.DataFrame,
    report: QualityReport,
    parameters: dict[str, Any],
) -> dict[str, Any]:
    return {
        "file": export,
        "framework": framework,
        "form": form,
        "parameters": parameters,
        "statements": stats.to_dicts(),
        "quality": _counts(report),
        "excluded_rows": _excluded(report).to_dicts(),
    }


def _as_text(export: str, form: str, stats: pl.DataFrame, report: QualityReport, salt_note: str) -> str:
    console = new_console(record=True, width=120, file=NullWriter())
    console.print(f"{export} · form {form}")
    table = new_table(title="Statement means (0–4), 95 % bootstrap interval")
    for column in _STAT_COLUMNS:
        table.add_column(column, justify="left" if column == "statement" else "right")
    for row in stats.iter_rows(named=True):
        table.add_row(*(_cell(row[c]) for c in _STAT_COLUMNS))
    console.print(table)
    counts = _counts(report)
    console.print(
        f"received {counts['received']}, valid {counts['valid']} (target {counts['target']}), "
        f"straight-lined {counts['straight_lined']}"
    )
    excluded = _excluded(report)
    if excluded.height:
        summary = ", ".join(f"{REASON_TEXT[r]} {n}" for r, n in counts["excluded"].items() if n)
        console.print(f"excluded {excluded.height}: {summary}")
        for response_id, _, why in excluded.iter_rows():
            console.print(f"  {response_id}: {why}")
    console.print(f"non-probability sample; identity salt {salt_note}", style="dim")
    return console.export_text()


def _cell(value: Any) -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def _write(path: Path, data: bytes) -> None:
    try:
        path.write_bytes(data)
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", source=str(path)) from None
