"""Benchmark: panel agreement (alpha and ICC) per panel and component for a national cycle.

550 regions in panels of 5 regions, 111 items in 5 components (5, 7, 33, 54 and 12 items, as
gmsc-2023 has for REGULER regions), 5 assessors per panel giving random whole levels 0–4 around
the region's ability: ≈ 305k scores, grouped into 110 panels × 5 components = 550 groups.
One panel in ten has 3% of its scores skipped, so both the complete (ICC) and incomplete paths
run. ``agreement_by(by=["panel", "component"])`` is timed beside a loop over the groups calling
the krippendorff package (if installed: it is GPL, so never a dependency of cityeval), after
checking both give the same alpha to 1e-12; interleaved rounds, medians and min–max.
"""

from __future__ import annotations

import importlib.util
import statistics
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import cast

import numpy as np
import polars as pl

from cityeval.engine import agreement_by
from compare import interleaved, peak_mib, report

REGIONS = 550
PANEL_SIZE = 5
ASSESSORS = 5
COMPONENTS = {"baseline": 5, "output": 7, "outcome": 33, "impact": 54, "quick_win": 12}
SKIPPING_PANEL_EVERY = 10
SKIP_SHARE = 0.03
TARGET_SECONDS = 1.0
TARGET_RATIO = 1.5  # agreement_by ≤ 1.5× the krippendorff package's loop
ROUNDS = 7
BEFORE = Path(__file__).parent / "data" / "agreement_550.csv"


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


def krippendorff_loop(table: pl.DataFrame) -> pl.DataFrame:
    """What a user would write with the krippendorff package: one coders × units matrix per
    group (NaN where a score was skipped), alpha of each (the package computes alpha only)."""
    import krippendorff  # GPL-3.0: a peer to compare with if installed, never a dependency

    # Integer codes first (dense ranks: a group's units are then consecutive), so the loop
    # does nothing but fill a small matrix and call the package.
    ordered = table.sort("panel", "component", "unit").with_columns(
        pl.col("unit").rank("dense").cast(pl.Int64).alias("unit_code"),
        pl.col("assessor").rank("dense").cast(pl.Int64).alias("coder_code"),
    )
    bounds = ordered.group_by("panel", "component", maintain_order=True).len()
    units = ordered.get_column("unit_code").to_numpy()
    coders = ordered.get_column("coder_code").to_numpy()
    values = ordered.get_column("score").fill_null(float("nan")).to_numpy()
    alphas, start = [], 0
    for end in np.cumsum(bounds.get_column("len").to_numpy()).tolist():
        unit_index = units[start:end] - units[start]
        coder_keys, coder_index = np.unique(coders[start:end], return_inverse=True)
        matrix = np.full((len(coder_keys), int(unit_index.max()) + 1), np.nan)
        matrix[coder_index, unit_index] = values[start:end]
        alphas.append(krippendorff.alpha(reliability_data=matrix, level_of_measurement="ordinal"))
        start = end
    return bounds.select("panel", "component").with_columns(pl.Series("alpha", alphas))


def contenders(table: pl.DataFrame, only: str | None = None) -> dict[str, Callable[[], object]]:
    runs: dict[str, Callable[[], object]] = {
        "cityeval agreement_by": lambda: agreement_by(
            table, by=["panel", "component"], unit="unit", coder="assessor", value="score"
        )
    }
    if importlib.util.find_spec("krippendorff") is not None:
        runs["krippendorff loop"] = lambda: krippendorff_loop(table)
    return runs if only is None else {only: runs[only]}


def memory_data(path: str) -> tuple[pl.DataFrame]:
    return (pl.read_parquet(path),)


def _check_before(result: pl.DataFrame) -> None:
    """The same groups, counts and alpha/ICC (to 1e-12) as main's code gave before the rewrite."""
    before = pl.read_csv(BEFORE, schema_overrides={c: pl.Float64 for c in ("alpha", "icc2", "icc2k")})
    if not result.drop("alpha", "icc2", "icc2k").equals(before.drop("alpha", "icc2", "icc2k")):
        raise SystemExit("agreement_by gives other groups or counts than before")
    for column in ("alpha", "icc2", "icc2k"):
        ours, then = result.get_column(column), before.get_column(column)
        worst = (ours - then).abs().max()
        if not ours.is_null().equals(then.is_null()) or (worst is not None and cast(float, worst) > 1e-12):
            raise SystemExit(f"agreement_by's {column} moved from main's: max |Δ| {worst}")
    print(f"  same answers as main's code before the rewrite ({BEFORE.name}), to 1e-12")


def run() -> dict[str, float]:
    table = national_cycle()
    print(f"national cycle: {REGIONS} regions, {table.height:,} scores, {ASSESSORS} assessors per panel")
    runs = contenders(table)
    result = runs["cityeval agreement_by"]()
    if "krippendorff loop" not in runs:
        print("  (the krippendorff package is not installed: `pip install krippendorff` to compare with it)")
    else:
        other = cast(pl.DataFrame, runs["krippendorff loop"]())
        worst = (result.get_column("alpha") - other.get_column("alpha")).abs().max()
        if worst is None or cast(float, worst) > 1e-12:
            raise SystemExit(f"cityeval and the krippendorff package disagree: max |Δalpha| {worst}")
        print(f"  same answers: alpha of all {result.height} groups within 1e-12 of the krippendorff package")
    _check_before(result)
    complete = int(result.get_column("complete").sum())
    print(f"  groups: {result.height} (panel × component), {complete} complete (ICC computed)")
    alpha, icc2 = result.get_column("alpha").median(), result.get_column("icc2").median()
    print(f"  median alpha {alpha:.3f}, median ICC(2,1) {icc2:.3f} (complete groups)")
    times = interleaved(runs, ROUNDS)
    with tempfile.TemporaryDirectory() as tmp:
        path = f"{tmp}/scores.parquet"
        table.write_parquet(path)
        memory = {name: peak_mib("agreement", name, path) for name in runs}
    print(f"  {ROUNDS} interleaved rounds; cityeval also computes ICC(2,1) and ICC(2,k) per group")
    ratios = report(
        times, ours="cityeval agreement_by", memory=memory, targets={"krippendorff loop": TARGET_RATIO}
    )
    median = statistics.median(times["cityeval agreement_by"])
    print(f"  agreement_by   median {median * 1000:8.1f} ms   (target < {TARGET_SECONDS * 1000:.0f} ms)")
    return {"agreement_by_s": median, **ratios}


if __name__ == "__main__":
    run()
