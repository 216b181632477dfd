"""The plain polars script `cityeval score` is compared with: scores CSV + weights CSV → finals CSV.

Usage: python score_polars.py SCORES.csv WEIGHTS.csv OUT.csv (weights: group, item, component,
weight). It does what a user would write without cityeval: no input checks, no coverage.
"""

from __future__ import annotations

import sys

import polars as pl


def main(scores_path: str, weights_path: str, out_path: str) -> None:
    scores = pl.scan_csv(scores_path)
    weights = pl.scan_csv(weights_path)
    items = scores.group_by("region", "province", "group", "item").agg(pl.col("score").mean())
    components = (
        items.join(weights, on=["group", "item"])
        .group_by("region", "province", "component")
        .agg(pl.col("score").mean(), pl.col("weight").first())
    )
    finals = components.group_by("region", "province").agg(
        (pl.col("weight") * pl.col("score")).sum().alias("final")
    )
    key = pl.col("final").round(9)
    finals.with_columns(
        key.rank("min", descending=True).cast(pl.Int64).alias("rank_national"),
        key.rank("min", descending=True).over("province").cast(pl.Int64).alias("rank_province"),
    ).sort("final", descending=True).collect().write_csv(out_path)


if __name__ == "__main__":
    main(*sys.argv[1:4])
