"""The KKPD rule checks: one pass of column operations over a table of transactions.

:func:`check_transactions` returns one row per flag. A flag is raised on the transaction that
crosses a limit or completes a pattern (a running total above a limit for the first time, the
second of two identical charges), and a split flag on every purchase of the split. Flags are
sorted by date, then the order in the file, then rule; ``late_settlement`` flags, which are
raised on monthly bills rather than transactions, follow by due date and card.

Each flag carries ``rule`` (one of :data:`RULES`), ``code`` (the rule and its variant, e.g.
``missing_receipt.none``) and ``params`` (JSON text) so that another layer can word it in
another language; ``detail`` is the English wording built from them. Signed amounts: purchases
and fees count positive, refunds negative (a refund lowers the running totals); only purchases
are checked by the category, day, receipt, split and duplicate rules; fees also count toward the
card limit but not toward a payee. The exact semantics of each rule are in ``docs/kkpd.md``.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from cityeval.engine.kkpd.rules import RuleSet
from cityeval.engine.tables import ROW

__all__ = ["FLAG_COLUMNS", "RULES", "CheckResult", "check_transactions", "rupiah"]

RULES = (
    "over_card_limit",
    "over_payee_cap",
    "split_purchase",
    "card_type_mismatch",
    "blocked_merchant_category",
    "outside_working_days",
    "missing_receipt",
    "late_settlement",
    "duplicate_charge",
)
FLAG_COLUMNS = ("reference", "rule", "card", "merchant", "amount", "detail", "date", "opd", "code", "params")
_I = "__i"
_FLAG_SCHEMA = {_I: pl.UInt32, "rule": pl.String, "code": pl.String, "params": pl.String, "detail": pl.String}


@dataclass(frozen=True)
class CheckResult:
    """The flags, the rules skipped for want of data (rule → reason), and the parameters used."""

    flags: pl.DataFrame
    skipped: dict[str, str] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)

    def counts(self) -> dict[str, int]:
        """Flags per rule, every rule listed (0 when none)."""
        found = dict(self.flags.group_by("rule").len().iter_rows())
        return {rule: int(found.get(rule, 0)) for rule in RULES}


def rupiah(value: pl.Expr) -> pl.Expr:
    """``1500000`` → ``"1,500,000"`` (thousands separated by commas, as English text writes them)."""
    digits = value.abs().cast(pl.String).str.reverse().str.replace_all(r"(\d{3})", "${1},").str.reverse()
    sign = pl.when(value < 0).then(pl.lit("-")).otherwise(pl.lit(""))
    return pl.concat_str(sign, digits.str.strip_chars_start(","))


def check_transactions(
    transactions: pl.DataFrame,
    cards: pl.DataFrame,
    *,
    rules: RuleSet,
    as_of: dt.date,
    settlements: pl.DataFrame | None = None,
) -> CheckResult:
    """Run every rule over ``transactions`` (from :func:`parse_transactions`) and ``cards``.

    ``as_of`` is the day the receipt and settlement rules count to. Without ``settlements``
    (from :func:`parse_settlements`) the ``late_settlement`` rule is skipped and ``skipped``
    says so. Every card of ``transactions`` must be in ``cards`` (the readers check it).
    """
    tx = _prepare(transactions, cards)
    parts = [
        _over_card_limit(tx),
        _over_payee_cap(tx, rules),
        _split_purchase(tx, rules),
        _card_type_mismatch(tx, rules),
        _blocked(tx, rules),
        _outside_working_days(tx, rules),
        _missing_receipt(tx, rules, as_of),
        _duplicate_charge(tx, rules),
    ]
    keep = ["reference", "card", "merchant", "amount", "date", "opd"]
    flags = pl.concat([pl.DataFrame(schema=_FLAG_SCHEMA), *(p for p in parts if p.height)], how="vertical")
    order = {rule: i for i, rule in enumerate(RULES)}
    table = (
        flags.join(tx.select(_I, *keep), on=_I, how="left")
        .with_columns(pl.col("rule").replace_strict(order, return_dtype=pl.Int32).alias("__rule"))
        .sort(_I, "__rule")
        .select(*FLAG_COLUMNS)
    )
    skipped: dict[str, str] = {}
    if settlements is None:
        skipped["late_settlement"] = (
            "no settlement file: the monthly bills' due and settlement dates are unknown"
        )
    else:
        bills = _late_settlement(tx, settlements, cards, as_of).sort("date", "card")
        table = pl.concat([table, bills], how="vertical")
    parameters = {"as_of": as_of.isoformat(), "rules": rules.as_dict}
    return CheckResult(flags=table, skipped=skipped, parameters=parameters)


def _prepare(transactions: pl.DataFrame, cards: pl.DataFrame) -> pl.DataFrame:
    signed = pl.when(pl.col("kind") == "refund").then(-pl.col("amount")).otherwise(pl.col("amount"))
    return (
        transactions.sort("date", ROW)
        .with_row_index(_I)
        .join(cards.select("card", "opd", "card_type", "limit", "limit_period"), on="card", how="left")
        .sort(_I)
        .with_columns(
            signed.alias("signed"),
            pl.coalesce("merchant_id", pl.col("merchant").str.to_uppercase()).alias("payee"),
            pl.col("mcc").cast(pl.Int32).alias("mcc_code"),
        )
        .with_columns(_pair_code().alias("pair"))
    )


def _pair_code() -> pl.Expr:
    """One integer per (card, payee): grouping and sorting integers is far cheaper than text."""
    card = pl.col("card").cast(pl.Categorical).to_physical().cast(pl.UInt64)
    payee = pl.col("payee").cast(pl.Categorical).to_physical().cast(pl.UInt64)
    return card * (1 << 32) + payee


def _flags(
    hits: pl.DataFrame, rule: str, code: pl.Expr | str, params: dict[str, pl.Expr], detail: pl.Expr
) -> pl.DataFrame:
    """Shape one rule's hits as flag rows: index, rule, code, params (JSON), detail."""
    if hits.height == 0:
        return pl.DataFrame(schema=_FLAG_SCHEMA)
    code_expr = pl.lit(code) if isinstance(code, str) else code
    encoded = pl.struct(*(v.alias(k) for k, v in params.items())).struct.json_encode()
    return hits.select(
        pl.col(_I),
        pl.lit(rule).alias("rule"),
        code_expr.alias("code"),
        encoded.alias("params"),
        detail.alias("detail"),
    )


def _period_start(period: pl.Expr | str) -> pl.Expr:
    period_expr = pl.lit(period) if isinstance(period, str) else period
    return (
        pl.when(period_expr == "month")
        .then(pl.col("date").dt.truncate("1mo"))
        .otherwise(pl.col("date").dt.truncate("1y"))
    )


def _over_card_limit(tx: pl.DataFrame) -> pl.DataFrame:
    start = _period_start(pl.col("limit_period")).alias("start")
    work = tx.with_columns(start).with_columns(
        pl.col("signed").cum_sum().over("card", "start").alias("total")
    )
    hits = work.filter(
        (pl.col("kind") != "refund")
        & (pl.col("total") > pl.col("limit"))
        & (pl.col("total") - pl.col("signed") <= pl.col("limit"))
    )
    detail = pl.format(
        "card {} spent Rp {} in the {} from {}, above its limit of Rp {}",
        pl.col("card"),
        rupiah(pl.col("total")),
        pl.col("limit_period"),
        pl.col("start"),
        rupiah(pl.col("limit")),
    )
    params = {
        "limit": pl.col("limit"),
        "period": pl.col("limit_period"),
        "from": pl.col("start").cast(pl.String),
        "total": pl.col("total"),
    }
    return _flags(hits, "over_card_limit", "over_card_limit", params, detail)


def _over_payee_cap(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    cfg = rules.over_payee_cap
    scope = pl.col("opd") if cfg.scope == "opd" else pl.lit("region")
    work = (
        tx.filter(pl.col("kind") != "fee")
        .with_columns(_period_start(cfg.period).alias("start"), scope.alias("scope"))
        .with_columns(pl.col("signed").cum_sum().over("scope", "payee", "start").alias("total"))
    )
    cap = cfg.cap
    hits = work.filter(
        (pl.col("kind") == "purchase") & (pl.col("total") > cap) & (pl.col("total") - pl.col("signed") <= cap)
    )
    who = "OPD " + pl.col("opd") if cfg.scope == "opd" else pl.lit("the region")
    detail = pl.format(
        "{} paid Rp {} to {} in the {} from {}, above the per-payee cap of Rp {}",
        who,
        rupiah(pl.col("total")),
        pl.col("merchant"),
        pl.lit(cfg.period),
        pl.col("start"),
        rupiah(pl.lit(cap)),
    )
    params = {
        "cap": pl.lit(cap),
        "period": pl.lit(cfg.period),
        "scope": pl.lit(cfg.scope),
        "from": pl.col("start").cast(pl.String),
        "total": pl.col("total"),
    }
    return _flags(hits, "over_payee_cap", "over_payee_cap", params, detail)


def _split_purchase(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """Days of under-threshold purchases at one payee on one card, summed over the window.

    Window sums are differences of running sums (sorted by card-payee pair, then date), found
    with as-of joins rather than grouped rolling windows, which are slow with many pairs.
    """
    cfg = rules.split_purchase
    small = tx.filter((pl.col("kind") == "purchase") & (pl.col("amount") < cfg.threshold))
    daily = (
        small.group_by("pair", "date")
        .agg(pl.col("amount").sum().alias("day_sum"), pl.len().alias("day_n"))
        .sort("pair", "date")
        .with_columns(pl.col("day_sum").cum_sum().alias("s"), pl.col("day_n").cum_sum().alias("c"))
    )
    starts = pl.col("pair") != pl.col("pair").shift(1).fill_null(pl.col("pair") + 1)
    daily = daily.with_columns(
        pl.when(starts).then(pl.col("s") - pl.col("day_sum")).forward_fill().alias("s0"),
        pl.when(starts).then(pl.col("c") - pl.col("day_n")).forward_fill().alias("c0"),
        (pl.col("date") - pl.duration(days=cfg.window_days + 1)).alias("cut"),
        (pl.col("date") - pl.duration(days=cfg.window_days)).alias("open"),
    )
    before = daily.select(
        "pair", pl.col("date").alias("d_before"), pl.col("s").alias("s_before"), pl.col("c").alias("c_before")
    )
    first = daily.select("pair", pl.col("date").alias("first"))
    windows = (
        daily.join_asof(
            before, left_on="cut", right_on="d_before", strategy="backward", by="pair", check_sortedness=False
        )
        .join_asof(
            first, left_on="open", right_on="first", strategy="forward", by="pair", check_sortedness=False
        )
        .with_columns(
            (pl.col("s") - pl.coalesce("s_before", "s0")).alias("total"),
            (pl.col("c") - pl.coalesce("c_before", "c0")).alias("n"),
        )
    )
    complete = windows.filter((pl.col("total") >= cfg.threshold) & (pl.col("n") >= 2)).select(
        "pair", pl.col("date").alias("last"), "first", "total", "n"
    )
    members = (
        daily.select("pair", "date")
        .join_asof(
            complete, left_on="date", right_on="last", strategy="forward", by="pair", check_sortedness=False
        )
        .filter(
            pl.col("last").is_not_null()
            & ((pl.col("last") - pl.col("date")).dt.total_days() <= cfg.window_days)
        )
    )
    keys = ["pair"]
    hits = small.join(members, on=[*keys, "date"], how="inner")
    detail = pl.format(
        "one of {} purchases at {} on card {} from {} to {}, together Rp {}, "
        "each under the split threshold of Rp {}",
        pl.col("n"),
        pl.col("merchant"),
        pl.col("card"),
        pl.col("first"),
        pl.col("last"),
        rupiah(pl.col("total")),
        rupiah(pl.lit(cfg.threshold)),
    )
    params = {
        "count": pl.col("n"),
        "from": pl.col("first").cast(pl.String),
        "to": pl.col("last").cast(pl.String),
        "total": pl.col("total"),
        "threshold": pl.lit(cfg.threshold),
        "window_days": pl.lit(cfg.window_days),
    }
    return _flags(hits, "split_purchase", "split_purchase", params, detail)


def _in_ranges(ranges: tuple[tuple[int, int], ...]) -> pl.Expr:
    return pl.any_horizontal(
        *(pl.col("mcc_code").is_between(low, high) for low, high in ranges), pl.lit(False)
    )


def _card_type_mismatch(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    travel = _in_ranges(rules.card_type_mismatch.travel_categories)
    purchases = tx.filter(pl.col("kind") == "purchase").with_columns(travel.alias("travel"))
    hits = purchases.filter(pl.col("travel") == (pl.col("card_type") == "goods"))
    code = (
        pl.when(pl.col("travel"))
        .then(pl.lit("card_type_mismatch.travel_on_goods_card"))
        .otherwise(pl.lit("card_type_mismatch.goods_on_travel_card"))
    )
    what = (
        pl.when(pl.col("travel")).then(pl.lit("a travel category")).otherwise(pl.lit("a non-travel category"))
    )
    detail = pl.format(
        "category {} is {}, paid with {} card {}", pl.col("mcc"), what, pl.col("card_type"), pl.col("card")
    )
    params = {"mcc": pl.col("mcc"), "card_type": pl.col("card_type")}
    return _flags(hits, "card_type_mismatch", code, params, detail)


def _blocked(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    hits = tx.filter((pl.col("kind") != "refund") & _in_ranges(rules.blocked_merchant_category.categories))
    detail = pl.format("category {} at {} is blocked by the rules", pl.col("mcc"), pl.col("merchant"))
    return _flags(
        hits, "blocked_merchant_category", "blocked_merchant_category", {"mcc": pl.col("mcc")}, detail
    )


def _outside_working_days(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    cfg = rules.outside_working_days
    purchases = tx.filter(pl.col("kind") == "purchase")
    if purchases.height == 0:
        return _flags(purchases, "outside_working_days", "", {}, pl.lit(""))
    first, last = purchases.select(
        pl.col("date").min().dt.year().alias("a"), pl.col("date").max().dt.year().alias("b")
    ).row(0)
    years = range(first, last + 1)
    holidays = pl.Series(sorted(cfg.holidays.dates(years)), dtype=pl.Date)
    weekend = pl.col("date").dt.weekday().is_in(list(cfg.weekend))
    holiday = pl.col("date").is_in(holidays.implode())
    hits = purchases.filter(weekend | holiday).with_columns(holiday.alias("holiday"))
    code = (
        pl.when(pl.col("holiday"))
        .then(pl.lit("outside_working_days.holiday"))
        .otherwise(pl.lit("outside_working_days.weekend"))
    )
    what = pl.when(pl.col("holiday")).then(pl.lit("a listed holiday")).otherwise(pl.lit("a weekend day"))
    detail = pl.format("purchase on {} ({}), {}", pl.col("date"), pl.col("date").dt.strftime("%A"), what)
    params = {"date": pl.col("date").cast(pl.String), "weekday": pl.col("date").dt.weekday()}
    return _flags(hits, "outside_working_days", code, params, detail)


def _missing_receipt(tx: pl.DataFrame, rules: RuleSet, as_of: dt.date) -> pl.DataFrame:
    due = rules.missing_receipt.due_days
    late_by = (pl.col("receipt_date") - pl.col("date")).dt.total_days()
    open_for = (pl.lit(as_of) - pl.col("date")).dt.total_days()
    purchases = tx.filter(pl.col("kind") == "purchase")
    hits = purchases.filter(
        (pl.col("receipt_date").is_null() & (open_for > due))
        | (pl.col("receipt_date").is_not_null() & (late_by > due))
    ).with_columns(
        pl.col("receipt_date").is_null().alias("none"), pl.coalesce(late_by, open_for).alias("days")
    )
    code = (
        pl.when(pl.col("none")).then(pl.lit("missing_receipt.none")).otherwise(pl.lit("missing_receipt.late"))
    )
    detail = (
        pl.when(pl.col("none"))
        .then(
            pl.format(
                "no receipt {} days after the purchase (as of {}); due within {} days",
                pl.col("days"),
                pl.lit(as_of),
                pl.lit(due),
            )
        )
        .otherwise(
            pl.format(
                "receipt attached {} days after the purchase; due within {} days", pl.col("days"), pl.lit(due)
            )
        )
    )
    params = {"days": pl.col("days"), "due_days": pl.lit(due), "as_of": pl.lit(as_of.isoformat())}
    return _flags(hits, "missing_receipt", code, params, detail)


def _duplicate_charge(tx: pl.DataFrame, rules: RuleSet) -> pl.DataFrame:
    """A purchase within the window after an identical one, unless a refund of the same card,
    payee and amount reverses it: each refund, in date order, reverses the earliest duplicate
    not yet reversed whose earlier charge is dated on or before the refund."""
    window = rules.duplicate_charge.window_days
    group = ["pair", "amount"]
    # Sorting by the group once and comparing with the previous row is much cheaper than
    # window expressions over a million rows.
    purchases = tx.filter(pl.col("kind") == "purchase").sort(*group, _I)
    same = pl.all_horizontal(pl.col(c) == pl.col(c).shift(1) for c in group).fill_null(False)
    purchases = purchases.with_columns(pl.when(same).then(pl.col("date").shift(1)).alias("prev"))
    pairs = purchases.filter(
        pl.col("prev").is_not_null() & ((pl.col("date") - pl.col("prev")).dt.total_days() <= window)
    )
    pairs = pairs.with_columns(pl.int_range(pl.len()).over(group).alias("k"))
    hits = pairs.join(_refunded(pairs, tx, group), on=group, how="left").filter(
        pl.col("k") >= pl.col("refunded").fill_null(0)
    )
    detail = pl.format(
        "same card, merchant and amount (Rp {}) as a charge on {}, not reversed by a refund",
        rupiah(pl.col("amount")),
        pl.col("prev"),
    )
    params = {"earlier": pl.col("prev").cast(pl.String), "window_days": pl.lit(window)}
    return _flags(hits, "duplicate_charge", "duplicate_charge", params, detail)


def _refunded(pairs: pl.DataFrame, tx: pl.DataFrame, group: list[str]) -> pl.DataFrame:
    """Per group, how many duplicates its refunds reverse: the first that many in date order.

    A refund reverses the earliest unreversed duplicate whose earlier charge is dated on or
    before it, so the reversed ones are always the earliest. Walking the group's events in date
    order (a duplicate +1 at its earlier charge's date, before a refund −1 of the same day), a
    refund finds nothing to reverse exactly when the running sum reaches a new low below 0; so
    the refunds that miss number max(0, −min running sum) and the rest each reverse one.
    """
    events = pl.concat(
        [
            pairs.select(
                *group, pl.col("prev").alias("at"), pl.lit(0).alias("order"), pl.lit(1).alias("step")
            ),
            tx.filter(pl.col("kind") == "refund").select(
                *group, pl.col("date").alias("at"), pl.lit(1).alias("order"), pl.lit(-1).alias("step")
            ),
        ]
    ).sort(*group, "at", "order")
    events = events.with_columns(pl.col("step").cum_sum().over(group).alias("running"))
    return events.group_by(group).agg(
        ((pl.col("step") < 0).sum() - (-pl.col("running").min()).clip(lower_bound=0)).alias("refunded")
    )


def _late_settlement(
    tx: pl.DataFrame, settlements: pl.DataFrame, cards: pl.DataFrame, as_of: dt.date
) -> pl.DataFrame:
    billed = tx.group_by("card", pl.col("date").dt.truncate("1mo").alias("month")).agg(
        pl.col("signed").sum().alias("amount")
    )
    bills = settlements.join(billed, on=["card", "month"], how="left").join(
        cards.select("card", "opd"), on="card", how="left"
    )
    late_by = (pl.col("settlement_date") - pl.col("due_date")).dt.total_days()
    overdue = (pl.lit(as_of) - pl.col("due_date")).dt.total_days()
    hits = bills.filter(
        (pl.col("settlement_date").is_not_null() & (late_by > 0))
        | (pl.col("settlement_date").is_null() & (overdue > 0))
    ).with_columns(
        pl.col("settlement_date").is_null().alias("unpaid"), pl.coalesce(late_by, overdue).alias("days")
    )
    month = pl.col("month").dt.strftime("%Y-%m")
    detail = (
        pl.when(pl.col("unpaid"))
        .then(
            pl.format(
                "the {} bill of card {}, due {}, is unpaid {} days later (as of {})",
                month,
                pl.col("card"),
                pl.col("due_date"),
                pl.col("days"),
                pl.lit(as_of),
            )
        )
        .otherwise(
            pl.format(
                "the {} bill of card {}, due {}, was settled {} days late on {}",
                month,
                pl.col("card"),
                pl.col("due_date"),
                pl.col("days"),
                pl.col("settlement_date"),
            )
        )
    )
    code = (
        pl.when(pl.col("unpaid"))
        .then(pl.lit("late_settlement.unpaid"))
        .otherwise(pl.lit("late_settlement.late"))
    )
    params = pl.struct(
        month=month, due_date=pl.col("due_date").cast(pl.String), days=pl.col("days")
    ).struct.json_encode()
    return hits.select(
        pl.concat_str(pl.lit("bill "), month).alias("reference"),
        pl.lit("late_settlement").alias("rule"),
        "card",
        pl.lit(None, pl.String).alias("merchant"),
        pl.col("amount").fill_null(0),
        detail.alias("detail"),
        pl.col("due_date").alias("date"),
        "opd",
        code.alias("code"),
        params.alias("params"),
    )


def params_of(flags: pl.DataFrame) -> list[dict[str, Any]]:
    """The ``params`` of each flag as dicts (for JSON output)."""
    return [json.loads(text) for text in flags.get_column("params").to_list()]
