"""A region among its peers: the median and quartiles of each score within a peer set (the
region's group, province, kind…), the whole cycle's distribution, and the regions nearest to
it by final.

Plain tables in, plain tables out (polars, vectorised): the web's region page and the
coordinator's distribution page call these, and so can a command-line report.

Quantiles (docs/peers.md)
-------------------------
Every quantile here is numpy's default, ``method="linear"`` (Hyndman & Fan 1996, definition
7; also R's default and polars' ``interpolation="linear"``, which is what computes them): for
the n non-missing values sorted ``x[0] ≤ … ≤ x[n−1]``, the p-quantile sits at position
``h = (n − 1)·p`` and is ``x[⌊h⌋] + (h − ⌊h⌋)·(x[⌊h⌋+1] − x[⌊h⌋])``. Q1 is p = 0.25, the median
p = 0.5, Q3 p = 0.75. A single value is its own median and quartiles; no value gives none.
Missing scores (a component a group does not weight) are left out, not counted as 0.

Never rounds: presentation does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Final, Literal

import polars as pl

__all__ = ["QUANTILE_METHOD", "TIE_DECIMALS", "nearest_by_final", "peer_statistics", "score_distribution"]

QUANTILE_METHOD: Final[Literal["linear"]] = "linear"
"""numpy's default quantile method (Hyndman & Fan definition 7); see the module's docstring."""

TIE_DECIMALS = 9
"""Distances in final are compared rounded to 9 decimals, as the ranks compare finals, so that
3.6 − 3.5 and 3.5 − 3.4 tie although their floating-point differences are not equal."""


def _long(frame: pl.LazyFrame, scores: Sequence[str], keys: Sequence[str]) -> pl.LazyFrame:
    """One row per (keys…, score, value) with the missing values left out."""
    return (
        frame.select(*keys, *[pl.col(s).cast(pl.Float64) for s in scores])
        .unpivot(index=list(keys), on=list(scores), variable_name="score", value_name="value")
        .drop_nulls("value")
    )


def _summary(long: pl.LazyFrame, keys: Sequence[str]) -> pl.LazyFrame:
    value = pl.col("value")
    return long.group_by(*keys, "score").agg(
        pl.len().cast(pl.UInt32).alias("n"),
        value.min().alias("min"),
        value.quantile(0.25, interpolation=QUANTILE_METHOD).alias("q1"),
        value.quantile(0.5, interpolation=QUANTILE_METHOD).alias("median"),
        value.quantile(0.75, interpolation=QUANTILE_METHOD).alias("q3"),
        value.max().alias("max"),
    )


def _distribution(frame: pl.LazyFrame, scores: Sequence[str], by: str | None) -> pl.LazyFrame:
    """:func:`score_distribution`, as a query plan (collected once by the caller)."""
    keys = [by] if by is not None else []
    found = _summary(_long(frame, scores, keys), keys)
    order = pl.LazyFrame({"score": list(scores), "_order": list(range(len(scores)))})
    base = order if by is None else frame.select(pl.col(by).unique().sort()).join(order, how="cross")
    out = base.join(found, on=[*keys, "score"], how="left").sort(*keys, "_order").drop("_order")
    return out.with_columns(pl.col("n").fill_null(0))


def score_distribution(table: pl.DataFrame, *, scores: Sequence[str], by: str | None = None) -> pl.DataFrame:
    """Each score's distribution over the table's rows (or within each value of ``by``):
    ``[by,] score, n, min, q1, median, q3, max`` in the order of ``scores`` (and of ``by``'s
    values, sorted). A score with no value at all has ``n = 0`` and nulls.

    Example (hand computation): finals 1, 2, 4, 8 → n = 4, min 1, Q1 at h = 0.75: 1 + 0.75 × 1
    = 1.75, median at h = 1.5: 2 + 0.5 × 2 = 3, Q3 at h = 2.25: 4 + 0.25 × 4 = 5, max 8.
    """
    return _distribution(table.lazy(), scores, by).collect()


def peer_statistics(
    table: pl.DataFrame, *, region: str, scores: Sequence[str], peers: Sequence[str]
) -> pl.DataFrame:
    """The region's scores against its peers: for each column named in ``peers`` (e.g.
    ``group``, ``province``, ``kind``) the regions sharing the region's value there, the
    region itself included.

    ``table`` has one row per region: ``region`` (unique), the ``peers`` columns and the
    ``scores`` columns (missing scores as nulls). Returns one row per (peer column, score), in
    the order given: ``peers, peer_value, score, value`` (the region's own score) ``, n, min,
    q1, median, q3, max`` over the peers' non-missing scores (quantiles: see the module).

    Example (hand computation): four REGULER regions with finals 1, 2, 4, 8 → the REGULER row
    of ``final`` has n = 4, Q1 1.75, median 3, Q3 5 (see :func:`score_distribution`).

    Raises ``KeyError`` for a region not in the table.
    """
    own = table.filter(pl.col("region") == region)
    if own.height != 1:
        raise KeyError(region)
    if not peers:
        raise ValueError("name at least one peer column")
    # One query plan for every peer set, collected once (a region page asks this per view).
    frame = table.lazy()
    parts = []
    for column in peers:
        value = own.item(0, column)
        # A region with no value here (an unknown kind) has no peers in that column.
        members = frame.filter(pl.col(column) == value) if value is not None else table.clear().lazy()
        parts.append(
            _distribution(members, scores, None).with_columns(
                pl.lit(column).alias("peers"),
                pl.lit(None if value is None else str(value), dtype=pl.String).alias("peer_value"),
            )
        )
    stats = pl.concat(parts).collect()
    values = [own.item(0, s) for s in scores] * len(peers)
    columns = ["peers", "peer_value", "score", "value", "n", "min", "q1", "median", "q3", "max"]
    return stats.with_columns(pl.Series("value", values, dtype=pl.Float64)).select(columns)


def nearest_by_final(table: pl.DataFrame, *, region: str, count: int = 5) -> pl.DataFrame:
    """The ``count`` regions nearest to ``region`` by final, the region itself left out:
    ``region, final, difference`` (their final minus the region's), nearest first.

    Ties are resolved deterministically: by the distance rounded to :data:`TIE_DECIMALS`
    decimals, then by the higher final first (of two regions equally far, the one above is
    listed first), then by the region's name (code-point order). Regions with no final are
    left out. Raises ``KeyError`` for a region not in the table.
    """
    own = table.filter(pl.col("region") == region)
    if own.height != 1:
        raise KeyError(region)
    final = own.item(0, "final")
    difference = pl.col("final") - final
    return (
        table.filter((pl.col("region") != region) & pl.col("final").is_not_null())
        .select("region", pl.col("final").cast(pl.Float64), difference.cast(pl.Float64).alias("difference"))
        .with_columns(pl.col("difference").abs().round(TIE_DECIMALS).alias("_distance"))
        .sort(["_distance", "final", "region"], descending=[False, True, False])
        .head(count)
        .drop("_distance")
    )
