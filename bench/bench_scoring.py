"""Benchmark: item-level scoring of a synthetic national cycle, beside plain polars, DuckDB and pandas.

550 regions (500 REGULER, 50 KPPN_IKN) × the full gmsc-2023 item set × 5 assessors ≈ 307k
scores, scored to finals and ranks by cityeval's ``score_items`` and by the pipelines a user
would write without cityeval: plain polars, DuckDB SQL and vectorised pandas (groupby().mean(),
no apply). They get the same table and the framework's weights as a small table; cityeval also
checks its input and returns coverage, dimensions and the items table, which the peers skip:
that is the cost being measured. All four must give the same finals (to 1e-12) and ranks
before anything is timed, and cityeval's finals must equal those main's code gave before the
rewrite of the input checks (bench/data/scoring_550_finals.csv).

``make bench ARGS="scoring"``; ``ARGS="scoring --regions 550,5500"`` adds larger cycles (time
and peak memory of score_items against the input table's size; 55,000 regions needs ~10 GB).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import polars as pl

from cityeval.engine import Framework, load_framework, score_items
from cityeval.engine.scoring_checks import catalogue
from compare import interleaved, peak_mib, report

REGIONS = 550
KPPN_SHARE = 50
ASSESSORS = 5
ROUNDS = 7
TARGET_RATIO = 1.5  # score_items ≤ 1.5× the plain polars pipeline
TARGET_MEMORY = 2.5  # peak memory ≤ 2.5× the input table at 55,000 regions
BEFORE = Path(__file__).parent / "data" / "scoring_550_finals.csv"


def national_cycle(seed: int = 7, regions: int = REGIONS) -> pl.DataFrame:
    fw = load_framework("gmsc-2023")
    rng = random.Random(seed)
    columns: dict[str, list] = {k: [] for k in ("region", "province", "group", "item", "assessor", "score")}
    for r in range(regions):
        group = "KPPN_IKN" if r < KPPN_SHARE else "REGULER"
        ability = rng.uniform(0.5, 3.8)
        items = [i.code for _, i in fw.items_for(group)]
        for item in items:
            for a in range(ASSESSORS):
                columns["region"].append(f"Region {r:03d}")
                columns["province"].append(f"Province {r % 38:02d}")
                columns["group"].append(group)
                columns["item"].append(item)
                columns["assessor"].append(f"A{a}")
                columns["score"].append(float(min(4, max(0, round(ability + rng.gauss(0, 0.7))))))
    return pl.DataFrame(columns)


def national_cycle_np(regions: int, seed: int = 7) -> pl.DataFrame:
    """The same shape as :func:`national_cycle`, drawn with numpy: fast enough for 55,000 regions."""
    fw = load_framework("gmsc-2023")
    rng = np.random.default_rng(seed)
    parts = []
    for group, first, stop in (("KPPN_IKN", 0, min(KPPN_SHARE, regions)), ("REGULER", KPPN_SHARE, regions)):
        n = stop - first
        if n <= 0:
            continue
        items = [i.code for _, i in fw.items_for(group)]
        region = np.repeat(np.arange(first, stop), len(items) * ASSESSORS)
        ability = rng.uniform(0.5, 3.8, regions)[region]
        parts.append(
            pl.DataFrame(
                {
                    "region": pl.Series(region).cast(pl.String),
                    "province": pl.Series(region % 38).cast(pl.String),
                    "group": group,
                    "item": np.tile(np.repeat(np.array(items), ASSESSORS), n),
                    "assessor": np.tile(np.array([f"A{a}" for a in range(ASSESSORS)]), n * len(items)),
                    "score": np.clip(np.rint(ability + rng.normal(0, 0.7, region.size)), 0, 4),
                }
            )
        )
    return pl.concat(parts)


def weights_table(fw: Framework) -> pl.DataFrame:
    """What every peer is given: group, item, component, weight (the framework as a table)."""
    return catalogue(fw).select("group", "item", "component", "weight")


def polars_pipeline(scores: pl.DataFrame, weights: pl.DataFrame) -> pl.DataFrame:
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
    return finals.with_columns(
        key.rank("min", descending=True).cast(pl.Int64).alias("rank_national"),
        key.rank("min", descending=True).over("province").cast(pl.Int64).alias("rank_province"),
    )


DUCKDB_SQL = """
WITH items AS (
    SELECT region, province, "group", item, avg(score) AS score
    FROM scores GROUP BY region, province, "group", item
), components AS (
    SELECT region, province, component, avg(score) AS score, any_value(weight) AS weight
    FROM items JOIN weights USING ("group", item)
    GROUP BY region, province, component
), finals AS (
    SELECT region, province, sum(weight * score) AS final FROM components GROUP BY region, province
)
SELECT region, final,
       rank() OVER (ORDER BY round(final, 9) DESC) AS rank_national,
       rank() OVER (PARTITION BY province ORDER BY round(final, 9) DESC) AS rank_province
FROM finals
"""


def duckdb_pipeline(con: duckdb.DuckDBPyConnection) -> dict:
    return con.execute(DUCKDB_SQL).fetchnumpy()


def pandas_pipeline(scores: pd.DataFrame, weights: pd.DataFrame) -> pd.DataFrame:
    items = scores.groupby(["region", "province", "group", "item"], as_index=False, sort=False)[
        "score"
    ].mean()
    components = (
        items.merge(weights, on=["group", "item"])
        .groupby(["region", "province", "component"], as_index=False, sort=False)
        .agg(score=("score", "mean"), weight=("weight", "first"))
    )
    components["weighted"] = components["weight"] * components["score"]
    finals = components.groupby(["region", "province"], as_index=False, sort=False)["weighted"].sum()
    finals = finals.rename(columns={"weighted": "final"})
    key = finals["final"].round(9)
    finals["rank_national"] = key.rank(method="min", ascending=False).astype("int64")
    finals["rank_province"] = (
        key.groupby(finals["province"]).rank(method="min", ascending=False).astype("int64")
    )
    return finals


def contenders(scores: pl.DataFrame, only: str | None = None) -> dict[str, Callable[[], object]]:
    """The four pipelines over ``scores`` (or just the one named ``only``), ready to run."""
    fw = load_framework("gmsc-2023")
    weights = weights_table(fw)
    runs: dict[str, Callable[[], object]] = {
        "cityeval score_items": lambda: score_items(scores, fw),
        "plain polars": lambda: polars_pipeline(scores, weights),
    }
    if only in (None, "DuckDB SQL", "vectorised pandas"):
        scores_pd = pd.DataFrame(scores.to_dict(as_series=False))  # no pyarrow needed
        weights_pd = pd.DataFrame(weights.to_dict(as_series=False))
        con = duckdb.connect()
        con.register("scores", scores_pd)
        con.register("weights", weights_pd)
        runs["DuckDB SQL"] = lambda: duckdb_pipeline(con)
        runs["vectorised pandas"] = lambda: pandas_pipeline(scores_pd, weights_pd)
    return runs if only is None else {only: runs[only]}


def memory_data(path: str) -> tuple[pl.DataFrame]:
    return (pl.read_parquet(path),)


def _as_polars(result: object) -> pl.DataFrame:
    if isinstance(result, pl.DataFrame):
        return result
    if isinstance(result, pd.DataFrame):
        return pl.DataFrame({c: result[c].to_list() for c in result.columns})
    if isinstance(result, dict):
        return pl.DataFrame({k: list(v) for k, v in result.items()})
    return result.regions  # type: ignore[attr-defined]


def check_same_answers(runs: dict[str, Callable[[], object]]) -> None:
    """Every contender gives the same finals (1e-12) and ranks; cityeval's equal main's before the rewrite."""
    columns = ["region", "final", "rank_national", "rank_province"]
    results = {name: _as_polars(fn()).select(columns).sort("region") for name, fn in runs.items()}
    ours = results["cityeval score_items"]
    before = pl.read_csv(BEFORE, schema_overrides={"final": pl.Float64})
    for name, other in [*results.items(), ("main before the rewrite", before)]:
        worst = (ours["final"] - other["final"]).abs().max()
        if worst > 1e-12 or ours["region"].to_list() != other["region"].to_list():
            raise SystemExit(f"cityeval and {name} disagree: max |Δfinal| {worst}")
        for rank in ("rank_national", "rank_province"):
            if ours[rank].to_list() != other[rank].cast(pl.Int64).to_list():
                raise SystemExit(f"cityeval and {name} disagree on {rank}")
    print(f"  same answers: finals within 1e-12 and identical ranks across {len(results)} + main's")


def scale_run(regions: list[int]) -> None:
    """score_items time and peak memory against the size of the input, per number of regions."""
    print(
        f"  {'regions':>8} {'scores':>12} {'input MiB':>10} {'median s':>9} {'peak +MiB':>10} {'× input':>8}"
    )
    previous: tuple[int, float] | None = None
    for n in regions:
        scores = national_cycle_np(n)
        rows, input_mib = scores.height, scores.estimated_size() / 2**20
        median = _median_scoring(scores, repeat=3 if n <= 5500 else 1)
        with tempfile.TemporaryDirectory() as tmp:
            path = f"{tmp}/scores.parquet"
            scores.write_parquet(path)
            del scores
            peak = peak_mib("scoring", "cityeval score_items", path)
        verdict = "met" if peak <= TARGET_MEMORY * input_mib else "NOT met"
        growth = f"; time ×{median / previous[1]:.1f} for ×{n / previous[0]:.0f} regions" if previous else ""
        print(
            f"  {n:>8,} {rows:>12,} {input_mib:10.0f} {median:9.2f} {peak:10.0f} {peak / input_mib:7.1f}×"
            f"  (≤ {TARGET_MEMORY:g}×: {verdict}{growth})"
        )
        previous = (n, median)


def _median_scoring(scores: pl.DataFrame, repeat: int) -> float:
    fw = load_framework("gmsc-2023")
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        score_items(scores, fw)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run(argv: list[str] | None = None) -> dict[str, float]:
    scores = national_cycle()
    print(f"national cycle: {REGIONS} regions, {scores.height:,} scores ({ASSESSORS} assessors)")
    runs = contenders(scores)
    check_same_answers(runs)
    times = interleaved(runs, ROUNDS)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/scores.parquet"
        scores.write_parquet(path)
        memory = {name: peak_mib("scoring", name, path) for name in runs}
    print(f"  {ROUNDS} interleaved rounds; peak +MiB: rise of a fresh process's peak RSS during one run")
    ratios = report(times, ours="cityeval score_items", memory=memory, targets={"plain polars": TARGET_RATIO})
    argv = argv if argv is not None else sys.argv[1:]
    if "--regions" in argv:
        scale_run([int(n) for n in argv[argv.index("--regions") + 1].split(",")])
    return ratios


if __name__ == "__main__":
    run()
