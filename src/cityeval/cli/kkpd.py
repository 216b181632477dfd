"""``cityeval kkpd``: the regional government credit card checks on files (thin over the engine)."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from cityeval.cli.output import NullWriter, emit, new_console, new_table
from cityeval.engine.spreadsheet import write_csv

if TYPE_CHECKING:
    from cityeval.engine.kkpd import CheckResult

# The KKPD engine is imported by the commands that use it: every `cityeval` call builds this
# command's parser, and only `cityeval kkpd` needs the checks.

OUTPUT_COLUMNS = ("reference", "rule", "card", "merchant", "amount", "detail")


def add_kkpd_parser(commands: Any) -> None:
    """Register ``kkpd check``, ``kkpd rules`` and ``kkpd demo`` under ``commands``."""
    p = commands.add_parser("kkpd", help="KKPD (regional government credit card) rule checks")
    sub = p.add_subparsers(title="actions", metavar="ACTION", required=True)
    check = sub.add_parser(
        "check",
        help="check a transaction file against the rules",
        description=(
            "Check KKPD transactions (template columns reference, card, date, merchant, merchant_id, "
            "mcc, amount, kind, receipt_date) against a card file (card, opd, card_type, holder, limit, "
            "limit_period). Prints one row per flag."
        ),
    )
    check.add_argument("transactions", metavar="TRANSACTIONS", help="CSV or XLSX statement")
    check.add_argument("--cards", required=True, metavar="CARDS", help="CSV or XLSX card file")
    check.add_argument("--rules", metavar="RULES.yaml", help="rule file (default: cityeval kkpd rules)")
    check.add_argument(
        "--as-of", type=_date, metavar="DATE", help="day the receipt rule counts to (default today)"
    )
    check.add_argument(
        "--settlements", metavar="FILE", help="monthly bills: card, month, due_date, settlement_date"
    )
    check.add_argument(
        "--mapping", metavar="MAPPING.yaml", help="the bank's column mapping (default: the template)"
    )
    check.add_argument("--format", choices=("table", "csv", "json"), default="table")
    check.add_argument("--output", "-o", metavar="FILE", help="write here instead of standard output")
    check.set_defaults(handler=_cmd_check)
    rules = sub.add_parser("rules", help="print the default rule file")
    rules.set_defaults(handler=_cmd_rules)
    demo = sub.add_parser("demo", help="write the synthetic Deli Serdang KKPD files (CSV) into DIR")
    demo.add_argument("folder", metavar="DIR")
    demo.set_defaults(handler=_cmd_demo)


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date (YYYY-MM-DD)") from None


def _cmd_rules(args: argparse.Namespace) -> int:
    from cityeval.engine.kkpd import DEFAULT_RULES_YAML

    sys.stdout.write(DEFAULT_RULES_YAML)
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from cityeval.kkpd_demo import SYNTHETIC_NOTE, kkpd_demo

    demo = kkpd_demo()
    for path in demo.write(Path(args.folder)).values():
        print(f"wrote {path}")
    print(f"{SYNTHETIC_NOTE}; check with --as-of {demo.as_of.isoformat()}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from cityeval.engine.kkpd import (
        GENERIC_MAPPING,
        check_transactions,
        default_rules,
        load_rules,
        parse_mapping,
        read_cards,
        read_settlements,
        read_transactions,
    )
    from cityeval.engine.kkpd.rules import RulesError

    mapping = GENERIC_MAPPING
    if args.mapping:
        try:
            mapping = parse_mapping(Path(args.mapping).read_text(encoding="utf-8"), source=args.mapping)
        except OSError as exc:
            raise RulesError([f"cannot read the file ({exc.strerror})"], source=args.mapping) from None
    rules = load_rules(args.rules) if args.rules else default_rules()
    cards = read_cards(args.cards)
    transactions = read_transactions(args.transactions, mapping=mapping, cards=cards)
    settlements = read_settlements(args.settlements, cards=cards) if args.settlements else None
    as_of = args.as_of or dt.date.today()
    result = check_transactions(transactions, cards, rules=rules, as_of=as_of, settlements=settlements)
    if args.format == "csv":
        text = write_csv(result.flags.select(OUTPUT_COLUMNS))
        _note_skipped(result)
    elif args.format == "json":
        text = json.dumps(_as_json(result), ensure_ascii=False, indent=2) + "\n"
    else:
        text = _table_text(result, transactions.height)
    emit(text, args.output)
    return 0


def _note_skipped(result: CheckResult) -> None:
    for rule, reason in result.skipped.items():
        print(f"cityeval: {rule} skipped: {reason}", file=sys.stderr)


def _as_json(result: CheckResult) -> dict[str, Any]:
    from cityeval.engine.kkpd.checks import params_of

    flags = result.flags.with_columns(pl.col("date").cast(pl.String)).drop("params").to_dicts()
    for flag, params in zip(flags, params_of(result.flags), strict=True):
        flag["params"] = params
    return {
        "flags": flags,
        "counts": result.counts(),
        "skipped": result.skipped,
        "parameters": result.parameters,
    }


def _table_text(result: CheckResult, checked: int) -> str:

    console = new_console(record=True, width=160, file=NullWriter())
    table = new_table(title=f"KKPD flags ({result.flags.height} on {checked} transactions)")
    for column in OUTPUT_COLUMNS:
        table.add_column(
            column, justify="right" if column == "amount" else "left", no_wrap=column != "detail"
        )
    for row in result.flags.select(OUTPUT_COLUMNS).iter_rows(named=True):
        amount = f"{row['amount']:,}" if row["amount"] is not None else "–"
        table.add_row(
            row["reference"], row["rule"], row["card"], row["merchant"] or "–", amount, row["detail"]
        )
    console.print(table)
    console.print("flags per rule: " + ", ".join(f"{rule} {n}" for rule, n in result.counts().items()))
    for rule, reason in result.skipped.items():
        console.print(f"{rule} skipped: {reason}")
    console.print(f"as of {result.parameters['as_of']}", style="dim")
    return console.export_text()
