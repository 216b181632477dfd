"""KKPD spending and shares per OPD and month.

For one OPD and month, with every amount in whole rupiah:

- ``kkpd`` = purchases + fees − refunds on the OPD's cards, by transaction date;
- ``realised`` = ``goods_services`` + ``capital`` (realised spending from the finance system);
- ``kkpd_share`` = ``kkpd`` / ``realised``;
- ``non_cash_share`` = (``kkpd`` + ``other_non_cash``) / ``realised``, where
  ``other_non_cash`` is realised spending paid non-cash by other means (transfer, CMS, QRIS);
  null when ``other_non_cash`` is not given;
- ``micro_small_share`` = net purchases (purchases − refunds) at merchants the register marks
  micro/small / all net purchases; ``domestic_share`` likewise for domestic-product merchants.
  Merchants missing from the register count in the denominator only; ``unregistered`` is
  their net purchases, so a reader sees how much the shares leave unknown.

A share is null when its denominator is 0 (or the month has no realised spending row), and
the register shares are null when no register is given. The
engine never rounds. These are cityeval's working definitions: the ETPD index's own indicators
are defined by the regional digitalisation task forces (TP2DD), not reproduced here.
"""

from __future__ import annotations

import polars as pl

__all__ = ["kkpd_shares"]


def kkpd_shares(
    transactions: pl.DataFrame,
    cards: pl.DataFrame,
    *,
    spending: pl.DataFrame | None = None,
    merchants: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """One row per OPD and month with KKPD spending and the shares defined above.

    Columns: ``opd, month, kkpd, purchases, micro_small, domestic, unregistered, realised,
    other_non_cash, kkpd_share, non_cash_share, micro_small_share, domestic_share``. Months
    with spending but no KKPD transactions appear with ``kkpd`` 0.
    """
    signed = pl.when(pl.col("kind") == "refund").then(-pl.col("amount")).otherwise(pl.col("amount"))
    goods = pl.when(pl.col("kind") == "fee").then(0).otherwise(signed)
    register = (
        merchants.select("merchant_id", "micro_small", "domestic")
        if merchants is not None
        else pl.DataFrame(
            schema={"merchant_id": pl.String, "micro_small": pl.Boolean, "domestic": pl.Boolean}
        )
    )
    tx = (
        transactions.join(cards.select("card", "opd"), on="card", how="left")
        .join(register, on="merchant_id", how="left")
        .with_columns(
            signed.alias("signed"), goods.alias("goods"), pl.col("date").dt.truncate("1mo").alias("month")
        )
    )
    monthly = tx.group_by("opd", "month").agg(
        pl.col("signed").sum().alias("kkpd"),
        pl.col("goods").sum().alias("purchases"),
        pl.col("goods").filter(pl.col("micro_small")).sum().alias("micro_small"),
        pl.col("goods").filter(pl.col("domestic")).sum().alias("domestic"),
        pl.col("goods").filter(pl.col("micro_small").is_null()).sum().alias("unregistered"),
    )
    if spending is None:
        spending = pl.DataFrame(
            schema={
                "opd": pl.String,
                "month": pl.Date,
                "goods_services": pl.Int64,
                "capital": pl.Int64,
                "other_non_cash": pl.Int64,
            }
        )
    realised = spending.select(
        "opd", "month", (pl.col("goods_services") + pl.col("capital")).alias("realised"), "other_non_cash"
    )
    table = monthly.join(realised, on=["opd", "month"], how="full", coalesce=True)
    counts = ("kkpd", "purchases", "micro_small", "domestic", "unregistered")
    table = table.with_columns(pl.col(c).fill_null(0) for c in counts)
    known = pl.lit(merchants is not None)
    return table.with_columns(
        _ratio(pl.col("kkpd"), pl.col("realised")).alias("kkpd_share"),
        _ratio(pl.col("kkpd") + pl.col("other_non_cash"), pl.col("realised")).alias("non_cash_share"),
        pl.when(known).then(_ratio(pl.col("micro_small"), pl.col("purchases"))).alias("micro_small_share"),
        pl.when(known).then(_ratio(pl.col("domestic"), pl.col("purchases"))).alias("domestic_share"),
    ).sort("opd", "month")


def _ratio(numerator: pl.Expr, denominator: pl.Expr) -> pl.Expr:
    return pl.when(denominator > 0).then(numerator / denominator).otherwise(None)
