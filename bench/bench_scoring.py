"""Benchmark: item-level scoring of a synthetic national cycle.

550 regions (500 REGULER, 50 KPPN_IKN) × the full gmsc-2023 item set × 5 assessors ≈ 310k
scores, scored to finals, ranks and coverage by cityeval, and by a straightforward pandas
groupby/apply implementation of the same computation kept here for comparison. Both run in
the same process on the same data; the figures are medians of several runs, and the ratio is
what to quote (the machine is shared and noisy). The two must agree on every final and rank.
"""

from __future__ import annotations

import random
import statistics
import time
from collections.abc import Callable

import pandas as pd
import polars as pl

from cityeval.engine import load_framework, score_items

REGIONS = 550
KPPN_SHARE = 50
ASSESSORS = 5
TARGET_SECONDS = 0.3
TARGET_RATIO = 10.0


def national_cycle(seed: int = 7) -> pl.DataFrame:
    fw = load_framework("gmsc-2023")
    rng = random.Random(seed)
    columns: dict[str, list] = {k: [] for k in ("region", "province", "group", "item", "assessor", "score")}
    for r in range(REGIONS):
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


def pandas_baseline(scores: pd.DataFrame, fw) -> pd.DataFrame:
    """The same computation, written the straightforward pandas way (groupby + apply)."""
    item_component = {i.code: c.code for c in fw.components for i in c.items}
    items = (
        scores.groupby(["region", "group", "province", "item"])
        .apply(lambda g: g["score"].mean(), include_groups=False)
        .rename("score")
        .reset_index()
    )
    items["component"] = items["item"].map(item_component)

    def region_final(g: pd.DataFrame) -> pd.Series:
        group = g["group"].iloc[0]
        weights = fw.weights_for(group)
        expected = {c.code: len(c.items_for(group)) for c in fw.components if c.applies_to(group)}
        components = g.groupby("component")["score"].mean()
        final = sum(w * components.get(c, 0.0) for c, w in weights.items())
        coverage = len(g) / sum(expected.values())
        return pd.Series({"final": final, "coverage": coverage, "province": g["province"].iloc[0]})

    regions = items.groupby("region").apply(region_final, include_groups=False).reset_index()
    regions["rank_national"] = regions["final"].rank(method="min", ascending=False).astype(int)
    regions["rank_province"] = (
        regions.groupby("province")["final"].rank(method="min", ascending=False).astype(int)
    )
    return regions


def _median_seconds(fn: Callable[[], object], repeat: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times), result


def run() -> dict[str, float]:
    fw = load_framework("gmsc-2023")
    scores = national_cycle()
    scores_pd = pd.DataFrame(scores.to_dict(as_series=False))  # no pyarrow needed
    print(f"national cycle: {REGIONS} regions, {scores.height:,} scores ({ASSESSORS} assessors)")

    score_items(scores, fw)  # warm-up: imports, framework caches
    ours, result = _median_seconds(lambda: score_items(scores, fw), repeat=9)
    theirs, baseline = _median_seconds(lambda: pandas_baseline(scores_pd, fw), repeat=3)

    mine = result.regions.select("region", "final", "rank_national", "rank_province").sort("region")
    other = pl.DataFrame(
        baseline[["region", "final", "rank_national", "rank_province"]].to_dict("list")
    ).sort("region")
    worst = (mine["final"] - other["final"]).abs().max()
    same_ranks = mine["rank_national"].to_list() == other["rank_national"].to_list()
    if worst > 1e-9 or not same_ranks:
        raise SystemExit(f"cityeval and pandas disagree: max |Δfinal| {worst}, same ranks {same_ranks}")

    ratio = theirs / ours
    target_ms = TARGET_SECONDS * 1000
    print(f"  cityeval score_items   median {ours * 1000:8.1f} ms   (target < {target_ms:.0f} ms)")
    print(f"  pandas groupby/apply   median {theirs * 1000:8.1f} ms")
    print(f"  ratio                  {ratio:8.1f}×      (target ≥ {TARGET_RATIO:.0f}×)")
    print(f"  agreement: max |Δfinal| = {worst:.1e}, ranks identical")
    verdict = "met" if ours < TARGET_SECONDS and ratio >= TARGET_RATIO else "NOT met"
    print(f"  targets {verdict}")
    return {"cityeval_s": ours, "pandas_s": theirs, "ratio": ratio}


if __name__ == "__main__":
    run()
