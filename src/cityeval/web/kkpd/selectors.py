"""Reads of the KKPD app: frames for the engine, dashboard aggregates, flags lists.

Dashboard figures come from the engine's :func:`kkpd_shares` over the region's stored
transactions, so the web and the CLI compute the same numbers.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

import polars as pl
from django.db.models import Count, Min, Q, QuerySet, Sum
from django.db.models.functions import TruncMonth
from django.utils import timezone

from cityeval.engine.kkpd import RULES, kkpd_shares
from cityeval.engine.tables import ROW
from cityeval.web.kkpd.models import (
    Card,
    Flag,
    KkpdRegion,
    Merchant,
    MonthlyTotal,
    Settlement,
    Spending,
    Transaction,
)
from cityeval.web.regions.models import Region

RULE_NAMES = RULES
_TX_SCHEMA = {
    ROW: pl.Int64, "reference": pl.String, "card": pl.String, "date": pl.Date, "merchant": pl.String,
    "merchant_id": pl.String, "mcc": pl.String, "amount": pl.Int64, "kind": pl.String,
    "receipt_date": pl.Date,
}  # fmt: skip


def cards_frame(cards: Iterable[Card]) -> pl.DataFrame:
    """The engine's card table for these cards (``card`` is the last four digits)."""
    rows = [(c.last_four, str(c.opd_id), c.card_type, c.holder_name, c.limit, c.limit_period) for c in cards]
    schema = {"card": pl.String, "opd": pl.String, "card_type": pl.String, "holder": pl.String,
              "limit": pl.Int64, "limit_period": pl.String}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def latest_settlements(*, region: Region) -> pl.DataFrame:
    """The engine's settlement table of the region: the latest stored bill per card and month."""
    latest: dict[tuple[int, dt.date], Settlement] = {}
    for s in Settlement.objects.filter(region=region).select_related("card").order_by("created_at", "id"):
        latest[(s.card_id, s.month)] = s
    return pl.DataFrame(
        [(s.card.last_four, s.month, s.due_date, s.settlement_date) for s in latest.values()],
        schema={"card": pl.String, "month": pl.Date, "due_date": pl.Date, "settlement_date": pl.Date},
        orient="row",
    )


def effective_transactions(*, region: Region, opd_ids: list[int] | None = None) -> QuerySet[Transaction]:
    """The region's transactions that count: those not replaced by a correction."""
    qs = Transaction.objects.filter(region=region, correction__isnull=True)
    if opd_ids is not None:
        qs = qs.filter(card__opd_id__in=opd_ids)
    return qs


def transactions_frame(
    *, region: Region, opd_ids: list[int] | None = None, with_receipts: bool = False
) -> pl.DataFrame:
    """The engine's transaction table of the region's effective transactions. With
    ``with_receipts``, a transaction without a receipt date from the bank takes the day its
    first receipt (SPJ file) was uploaded."""
    qs = effective_transactions(region=region, opd_ids=opd_ids)
    columns = (
        "id", "reference", "card__last_four", "date", "merchant", "merchant_id", "mcc", "amount", "kind",
        "receipt_date",
    )  # fmt: skip
    if with_receipts:
        qs = qs.annotate(first_receipt=Min("receipts__uploaded_at"))
        rows = [
            (*row[:-2], row[-2] or (timezone.localtime(row[-1]).date() if row[-1] else None))
            for row in qs.values_list(*columns, "first_receipt")
        ]
    else:
        rows = list(qs.values_list(*columns))
    frame = pl.DataFrame(rows, schema=_TX_SCHEMA, orient="row")
    return frame.with_columns(
        pl.when(pl.col("merchant_id") == "").then(None).otherwise(pl.col("merchant_id")).alias("merchant_id")
    )


def _spending_frame(region: Region) -> pl.DataFrame:
    latest: dict[tuple[int, dt.date], Spending] = {}
    for s in Spending.objects.filter(region=region).order_by("created_at", "id"):
        latest[(s.opd_id, s.month)] = s
    rows = [(str(s.opd_id), s.month, s.goods_services, s.capital, s.other_non_cash) for s in latest.values()]
    schema = {"opd": pl.String, "month": pl.Date, "goods_services": pl.Int64, "capital": pl.Int64,
              "other_non_cash": pl.Int64}  # fmt: skip
    return pl.DataFrame(rows, schema=schema, orient="row")


def monthly_sums(*, region: Region) -> QuerySet:
    """The effective transactions summed per card, month, kind, merchant id and budget category
    (what :class:`MonthlyTotal` stores)."""
    return (
        effective_transactions(region=region)
        .annotate(month=TruncMonth("date"))
        .values("card_id", "month", "kind", "merchant_id", "account_kind")
        .annotate(total=Sum("amount"))
        .values_list("card_id", "month", "kind", "merchant_id", "account_kind", "total")
        .order_by()
    )


def grouped_transactions(
    *, region: Region, opd_ids: list[int] | None, start: dt.date | None, end: dt.date | None
) -> pl.DataFrame:
    """The stored monthly sums (:class:`MonthlyTotal`) in the engine's template (``date`` the
    month's first day) plus ``account_kind``, for the months from ``start`` to ``end``.
    :func:`kkpd_shares` is linear in the amounts and counts by month, so it gives the same
    figures on these sums as on the transactions themselves."""
    qs = MonthlyTotal.objects.filter(region=region)
    if opd_ids is not None:
        qs = qs.filter(card__opd_id__in=opd_ids)
    if start:
        qs = qs.filter(month__gte=start.replace(day=1))
    if end:
        qs = qs.filter(month__lte=end)
    rows = qs.values_list("card__last_four", "month", "kind", "merchant_id", "account_kind", "amount")
    schema = {"card": pl.String, "date": pl.Date, "kind": pl.String, "merchant_id": pl.String,
              "account_kind": pl.String, "amount": pl.Int64}  # fmt: skip
    frame = pl.DataFrame(list(rows), schema=schema, orient="row")
    return frame.with_columns(
        pl.when(pl.col("merchant_id") == "").then(None).otherwise(pl.col("merchant_id")).alias("merchant_id")
    )


def _merchants_frame(region: Region) -> pl.DataFrame | None:
    rows = list(
        Merchant.objects.filter(region=region).values_list("merchant_id", "name", "micro_small", "domestic")
    )
    if not rows:
        return None
    schema = {"merchant_id": pl.String, "name": pl.String, "micro_small": pl.Boolean, "domestic": pl.Boolean}
    return pl.DataFrame(rows, schema=schema, orient="row")


@dataclass(frozen=True)
class Summary:
    """Aggregates of a region (or some OPDs) for a period: nothing identifies a card or merchant."""

    months: list[tuple[dt.date, int]]  # KKPD spending by month
    by_category: list[tuple[str, int]]  # goods_services / capital
    by_opd_month: list[tuple[str, dt.date, int]]
    by_month_category: list[tuple[dt.date, int, int]]  # month, goods/services, capital
    total: int
    realised: int
    kkpd_share: float | None
    non_cash_share: float | None
    micro_small_share: float | None
    domestic_share: float | None
    flags_by_rule: list[tuple[str, int]]  # open flags
    flags_raised: int
    flags_resolved: int


def _share(numerator: int | None, denominator: int) -> float | None:
    return None if not denominator or numerator is None else numerator / denominator


def region_summary(
    *,
    region: Region,
    opd_ids: list[int] | None = None,
    start: dt.date | None = None,
    end: dt.date | None = None,
) -> Summary:
    """KKPD spending and shares of the region (or of ``opd_ids``) between ``start`` and ``end``."""
    tx = grouped_transactions(region=region, opd_ids=opd_ids, start=start, end=end)
    cards = cards_frame(Card.objects.filter(region=region))
    spending = _spending_frame(region)
    if opd_ids is not None:
        spending = spending.filter(pl.col("opd").is_in([str(i) for i in opd_ids]))
    if start:
        spending = spending.filter(pl.col("month") >= start.replace(day=1))
    if end:
        spending = spending.filter(pl.col("month") <= end)
    merchants = _merchants_frame(region)
    with_register = merchants is not None
    shares = kkpd_shares(tx, cards, spending=spending, merchants=merchants)
    totals = shares.select(
        pl.col("kkpd").sum(), pl.col("realised").sum(), pl.col("other_non_cash").sum(),
        pl.col("other_non_cash").is_not_null().any().alias("has_other"), pl.col("purchases").sum(),
        pl.col("micro_small").sum(), pl.col("domestic").sum(),
    ).row(0, named=True)  # fmt: skip
    months = shares.group_by("month").agg(pl.col("kkpd").sum()).sort("month")
    names = dict(region.opds.values_list("id", "name"))
    by_opd = [
        (names.get(int(o), o), m, int(k))
        for o, m, k in shares.select("opd", "month", "kkpd").iter_rows()
        if k
    ]
    signed = pl.when(pl.col("kind") == "refund").then(-pl.col("amount")).otherwise(pl.col("amount"))
    by_account = dict(tx.group_by("account_kind").agg(signed.sum()).iter_rows())
    categories = [(account, int(by_account.get(account, 0))) for account in Transaction.Account.values]
    monthly = (
        tx.group_by("date")
        .agg(
            signed.filter(pl.col("account_kind") == "goods_services").sum().alias("g"),
            signed.filter(pl.col("account_kind") == "capital").sum().alias("c"),
        )
        .sort("date")
    )
    by_month_category = [(m, int(g or 0), int(c or 0)) for m, g, c in monthly.iter_rows()]
    flags = Flag.objects.filter(region=region)
    if opd_ids is not None:
        flags = flags.filter(card__opd_id__in=opd_ids)
    if start:
        flags = flags.filter(date__gte=start)
    if end:
        flags = flags.filter(date__lte=end)
    counts = flags.aggregate(raised=Count("id"), resolved=Count("id", filter=Q(status=Flag.Status.RESOLVED)))
    open_by_rule = dict(flags.filter(status=Flag.Status.OPEN).values_list("rule").annotate(n=Count("id")))
    kkpd, realised, purchases = (
        int(totals["kkpd"] or 0),
        int(totals["realised"] or 0),
        int(totals["purchases"] or 0),
    )
    other = int(totals["other_non_cash"] or 0) if totals["has_other"] else None
    return Summary(
        months=[(m, int(k)) for m, k in months.iter_rows()],
        by_category=categories,
        by_opd_month=by_opd,
        by_month_category=by_month_category,
        total=kkpd,
        realised=realised,
        kkpd_share=_share(kkpd, realised),
        non_cash_share=_share(None if other is None else kkpd + other, realised),
        micro_small_share=_share(int(totals["micro_small"] or 0), purchases) if with_register else None,
        domestic_share=_share(int(totals["domestic"] or 0), purchases) if with_register else None,
        flags_by_rule=[(r, open_by_rule.get(r, 0)) for r in RULE_NAMES],
        flags_raised=counts["raised"],
        flags_resolved=counts["resolved"],
    )


def flags_of(
    *, region: Region, opd_ids: list[int] | None = None, rule: str = "", status: str = ""
) -> QuerySet[Flag]:
    qs = Flag.objects.filter(region=region).select_related("card", "card__opd", "transaction")
    if opd_ids is not None:
        qs = qs.filter(card__opd_id__in=opd_ids)
    if rule:
        qs = qs.filter(rule=rule)
    if status:
        qs = qs.filter(status=status)
    return qs


def cards_of(*, region: Region, opd_ids: list[int] | None = None) -> QuerySet[Card]:
    qs = Card.objects.filter(region=region).select_related("opd", "bank")
    return qs if opd_ids is None else qs.filter(opd_id__in=opd_ids)


def kkpd_regions() -> QuerySet[Region]:
    """The regions running KKPD, for the coordinator's side by side."""
    return Region.objects.filter(pk__in=KkpdRegion.objects.values("region")).order_by("name")
