"""Benchmark: Monte Carlo uncertainty of a synthetic national cycle, all three sources.

The national cycle of bench_scoring (550 regions × the gmsc-2023 item set × 5 assessors) plus
survey answer counts for every Impact statement of every region (50 answers each, about 29,700
statements), 1,000 draws over assessors, survey and weights, with the variance shares (which
cost three more sets of draws). Figures: medians of a few runs, the ratio to one scoring run in
the same process (the machine is shared and noisy: quote the ratio), and peak memory (numpy's
allocations as traced by tracemalloc, and the process's maximum resident size).
"""

from __future__ import annotations

import resource
import tracemalloc

import numpy as np
import polars as pl

from bench_scoring import national_cycle
from bench_surveys import _median_seconds
from cityeval.engine import load_framework, score_items
from cityeval.engine.uncertainty import uncertainty

DRAWS = 1000
ANSWERS = 50
TARGET_SECONDS = 5.0


def survey_counts(scores: pl.DataFrame, fw, seed: int = 11) -> pl.DataFrame:
    """Answer counts per region and statement, centred on the region's mean score."""
    rng = np.random.default_rng(seed)
    means = scores.group_by("region", "group").agg(pl.col("score").mean()).sort("region")
    rows: dict[str, list] = {"region": [], "statement": [], **{f"count_{k}": [] for k in range(5)}}
    for region, group, mean in means.iter_rows():
        statements = [i.statement for _, i in fw.items_for(group) if i.kind == "survey"]
        shares = np.array([_binomial(k, mean / 4) for k in range(5)])
        counts = rng.multinomial(ANSWERS, shares, size=len(statements))
        rows["region"] += [region] * len(statements)
        rows["statement"] += statements
        for k in range(5):
            rows[f"count_{k}"] += counts[:, k].tolist()
    return pl.DataFrame(rows)


def _binomial(k: int, p: float) -> float:
    from math import comb

    return comb(4, k) * p**k * (1 - p) ** (4 - k)


def run() -> dict[str, float]:
    fw = load_framework("gmsc-2023")
    scores = national_cycle()
    counts = survey_counts(scores, fw)
    print(
        f"national cycle: {scores.get_column('region').n_unique()} regions, {scores.height:,} scores, "
        f"{counts.height:,} survey statements × {ANSWERS} answers; {DRAWS:,} draws, all sources"
    )

    def analyse():
        return uncertainty(
            scores, fw, draws=DRAWS, seed=1, sources=("assessors", "survey", "weights"), survey=counts
        )

    score_items(scores, fw)  # warm-up
    single = _median_seconds(lambda: score_items(scores, fw), repeat=5)
    tracemalloc.start()
    result = analyse()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    ours = _median_seconds(analyse, repeat=3)
    intervals_only = _median_seconds(
        lambda: uncertainty(
            scores, fw, draws=DRAWS, seed=1, sources=("assessors", "survey", "weights"), survey=counts,
            variance_shares=False,
        ),
        repeat=3,
    )  # fmt: skip
    without_survey = _median_seconds(
        lambda: uncertainty(scores, fw, draws=DRAWS, seed=1, sources=("assessors", "weights")), repeat=3
    )
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    shares = ", ".join(f"{k} {v:.2f}" for k, v in result.shares.items() if v is not None)
    print(f"  one scoring run        median {single * 1000:8.1f} ms")
    print(f"  uncertainty            median {ours:8.2f} s    (target < {TARGET_SECONDS:.0f} s)")
    print(f"  ratio                  {ours / single:8.1f}× one scoring run")
    ratio = intervals_only / single
    print(f"  without the shares     median {intervals_only:8.2f} s    ({ratio:.1f}× one scoring run)")
    ratio = without_survey / single
    print(f"  assessors and weights  median {without_survey:8.2f} s    ({ratio:.1f}× one scoring run)")
    print(f"  peak memory            {peak / 2**20:8.0f} MiB numpy (tracemalloc), {rss_mb:.0f} MiB max RSS")
    print(f"  variance shares (all finals): {shares}")
    print(f"  target {'met' if ours < TARGET_SECONDS else 'NOT met'}")
    return {
        "uncertainty_s": ours,
        "score_s": single,
        "ratio": ours / single,
        "no_survey_s": without_survey,
        "no_shares_s": intervals_only,
    }


if __name__ == "__main__":
    run()
