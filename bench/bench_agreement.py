"""Benchmark: panel agreement (alpha and ICC) per panel and component for a national cycle.

550 regions in panels of 5 regions, 111 items in 5 components (5, 7, 33, 54 and 12 items, as
gmsc-2023 has for REGULER regions), 5 assessors per panel giving random whole levels 0–4 around
the region's ability: ≈ 305k scores, grouped into 110 panels × 5 components = 550 groups.
One panel in ten has 3% of its scores skipped, so both the complete (ICC) and incomplete paths
run. The figure is the median of several runs of ``agreement_by(by=["panel", "component"])``.
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import polars as pl

from cityeval.engine import agreement_by

REGIONS = 550
PANEL_SIZE = 5
ASSESSORS = 5
COMPONENTS = {"baseline": 5, "output": 7, "outcome": 33, "impact": 54, "quick_win": 12}
SKIPPING_PANEL_EVERY = 10
SKIP_SHARE = 0.03
TARGET_SECONDS = 1.0


def national_cycle(seed: int = 7) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    items = [(c, f"{c}.{i:02d}") for c, n in COMPONENTS.items() for i in range(n)]
    n_items = len(items)
    region = np.repeat(np.arange(REGIONS), n_items * ASSESSORS)
    item = np.tile(np.repeat(np.arange(n_items), ASSESSORS), REGIONS)
    assessor = np.tile(np.arange(ASSESSORS), REGIONS * n_items)
    ability = rng.uniform(0.5, 3.8, REGIONS)
    score = np.clip(np.rint(ability[region] + rng.normal(0, 0.7, region.size)), 0, 4)
    panel = region // PANEL_SIZE
    skipped = (panel % SKIPPING_PANEL_EVERY == 0) & (rng.random(region.size) < SKIP_SHARE)
    component_of = np.array([c for c, _ in items])
    code_of = np.array([code for _, code in items])
    return pl.DataFrame(
        {
            "panel": [f"P{p:03d}" for p in panel],
            "component": component_of[item],
            "unit": [f"R{r:03d}|{code}" for r, code in zip(region, code_of[item], strict=True)],
            "assessor": [f"P{p:03d}-A{a}" for p, a in zip(panel, assessor, strict=True)],
            "score": np.where(skipped, np.nan, score),
        }
    ).with_columns(pl.col("score").fill_nan(None))


def run() -> dict[str, float]:
    table = national_cycle()
    print(f"national cycle: {REGIONS} regions, {table.height:,} scores, {ASSESSORS} assessors per panel")

    def once() -> tuple[float, pl.DataFrame]:
        start = time.perf_counter()
        result = agreement_by(table, by=["panel", "component"], unit="unit", coder="assessor", value="score")
        return time.perf_counter() - start, result

    once()  # warm-up: imports, scipy
    timings = [once() for _ in range(7)]
    median = statistics.median(t for t, _ in timings)
    result = timings[-1][1]
    complete = int(result.get_column("complete").sum())
    print(f"  groups: {result.height} (panel × component), {complete} complete (ICC computed)")
    alpha, icc2 = result.get_column("alpha").median(), result.get_column("icc2").median()
    print(f"  median alpha {alpha:.3f}, median ICC(2,1) {icc2:.3f} (complete groups)")
    print(f"  agreement_by   median {median * 1000:8.1f} ms   (target < {TARGET_SECONDS * 1000:.0f} ms)")
    print(f"  target {'met' if median < TARGET_SECONDS else 'NOT met'}")
    return {"agreement_by_s": median}


if __name__ == "__main__":
    run()
