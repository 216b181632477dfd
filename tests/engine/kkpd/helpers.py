"""Small hand-made KKPD tables for the engine tests."""

from __future__ import annotations

import datetime as dt

import polars as pl

from cityeval.engine.kkpd import (
    TEMPLATE_COLUMNS,
    CheckResult,
    RuleSet,
    check_transactions,
    default_rules,
    parse_cards,
    parse_settlements,
    parse_transactions,
)
from cityeval.engine.tables import with_rows

CARD_COLUMNS = ["card", "opd", "card_type", "holder", "limit", "limit_period"]
BIG = "1000000000000"  # Rp 1 trillion: a limit no test reaches unless it means to
CARDS = [
    ("G1", "Dinas Kesehatan", "goods", "Ani", BIG, "year"),
    ("G2", "Dinas Pendidikan", "goods", "Budi", BIG, "year"),
    ("T1", "Dinas Kesehatan", "travel", "Citra", BIG, "year"),
]


def text_table(rows: list[tuple], columns: list[str] | tuple[str, ...]) -> pl.DataFrame:
    return with_rows(pl.DataFrame(rows, schema=list(columns), orient="row"))


def cards(rows: list[tuple] | None = None) -> pl.DataFrame:
    return parse_cards(text_table(rows or CARDS, CARD_COLUMNS))


def purchase(
    ref: str,
    date: str,
    amount: int | str,
    *,
    card: str = "G1",
    merchant: str = "Toko A",
    mcc: str = "5111",
    kind: str = "purchase",
    receipt: str | None = None,
) -> tuple:
    """A template row; the receipt defaults to the purchase day, so the receipt rule stays quiet."""
    receipt_date = date if receipt is None else receipt
    return (ref, card, date, merchant, f"M-{merchant}", mcc, str(amount), kind, receipt_date)


def flags(
    rows: list[tuple],
    *,
    card_rows: list[tuple] | None = None,
    rules: RuleSet | None = None,
    as_of: dt.date = dt.date(2024, 3, 1),
    settlements: list[tuple] | None = None,
    rule: str | None = None,
) -> list[tuple[str, str]]:
    """(reference, rule) of each flag, optionally only one rule's."""
    result = run(rows, card_rows=card_rows, rules=rules, as_of=as_of, settlements=settlements)
    found = result.flags.select("reference", "rule").rows()
    return [f for f in found if rule is None or f[1] == rule]


def run(
    rows: list[tuple],
    *,
    card_rows: list[tuple] | None = None,
    rules: RuleSet | None = None,
    as_of: dt.date = dt.date(2024, 3, 1),
    settlements: list[tuple] | None = None,
) -> CheckResult:
    card_table = cards(card_rows)
    tx = parse_transactions(text_table(rows, TEMPLATE_COLUMNS), cards=card_table)
    bills = None
    if settlements is not None:
        bills = parse_settlements(text_table(settlements, ["card", "month", "due_date", "settlement_date"]))
    return check_transactions(tx, card_table, rules=rules or default_rules(), as_of=as_of, settlements=bills)
