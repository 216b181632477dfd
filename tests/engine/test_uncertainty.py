"""Uncertainty of finals and ranks: collapses to the engine's point result, hand-checked laws,
hand-checked variance shares, ranks of tied blocks, determinism and the errors."""

from __future__ import annotations

import dataclasses
import hashlib
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from tests.helpers.engine import SCORE_SCHEMA

from cityeval.engine import InputError, parse_framework, score_items
from cityeval.engine.uncertainty import competition_ranks, uncertainty
from cityeval.engine.uncertainty_inputs import SurveyCounts, survey_counts, weight_sets
from cityeval.engine.uncertainty_model import components, model_of

DATA = Path(__file__).parent / "data"
TINY = parse_framework((DATA / "tiny.yaml").read_text(encoding="utf-8"))
# tiny.yaml, group A: first (40 %) = first.a, first.b; second (60 %) = second.count, second.survey
# (statement service.1). Group B adds extra (0 %) = extra.only_b and weighs first and second 50/50.
ITEMS_A = ("first.a", "first.b", "second.count", "second.survey")


def _table(rows: list[tuple[str, str, str, str, float | None]], province: dict[str, str] | None = None):
    table = pl.DataFrame(
        rows,
        schema=SCORE_SCHEMA,
        orient="row",
    )
    if province:
        table = table.with_columns(pl.col("region").replace_strict(province).alias("province"))
    return table


def _random_cycle(seed: int, regions: int, assessors: int, *, province: bool = False) -> pl.DataFrame:
    """Regions of both groups with whole-level scores, some items left unscored."""
    rng = random.Random(seed)
    rows = []
    for r in range(regions):
        group = "A" if r % 3 else "B"
        items = ITEMS_A + (("extra.only_b",) if group == "B" else ())
        for item in items:
            if rng.random() < 0.1:
                continue  # nobody scored it
            for a in range(assessors):
                rows.append((f"R{r:02d}", group, item, f"x{a}", float(rng.randint(0, 4))))
    provinces = {f"R{r:02d}": f"P{r % 3}" for r in range(regions)} if province else None
    return _table(rows, provinces)


def test_one_assessor_and_fixed_weights_collapse_every_interval_to_the_point_result():
    """With one assessor a resample is the panel itself, and with weight_range 0 the weights
    are the framework's: each draw is the engine's result (score_items, an independent code
    path in polars), so every interval is the point and p_top10 is 0 or 1."""
    table = _random_cycle(3, regions=14, assessors=1, province=True)
    point = score_items(table, TINY).regions.sort("region")
    for sources, kwargs in ((("assessors", "weights"), {"weight_range": 0.0}), ((), {})):
        result = uncertainty(table, TINY, draws=50, seed=1, sources=sources, **kwargs)
        got = result.regions.sort("region")
        assert got["final"].to_list() == point["final"].to_list()
        assert np.allclose(got["final_lo"], point["final"], rtol=0, atol=1e-12)
        assert np.allclose(got["final_hi"], point["final"], rtol=0, atol=1e-12)
        assert got["rank_lo"].to_list() == point["rank_national"].to_list()
        assert got["rank_hi"].to_list() == point["rank_national"].to_list()
        assert got["rank_province_lo"].to_list() == point["rank_province"].to_list()
        assert got["rank_province_hi"].to_list() == point["rank_province"].to_list()
        assert got["p_top10"].to_list() == [1.0 if r <= 10 else 0.0 for r in point["rank_national"]]


def test_median_panels_and_fixed_inputs_reproduce_the_engine():
    """The median path of the draws gives the engine's median consolidation when nothing varies."""
    table = _random_cycle(5, regions=9, assessors=4)
    point = score_items(table, TINY, consolidation="median", unscored="zero").regions.sort("region")
    result = uncertainty(table, TINY, draws=5, sources=(), consolidation="median", unscored="zero")
    assert np.allclose(result.regions.sort("region")["final_hi"], point["final"], rtol=0, atol=1e-12)


def test_unscored_item_in_a_resample_follows_the_coverage_rule():
    """Hand calculation. first.a is scored 4 by x only; first.b 2 by x and y; second's items 1 by
    both. Resampling {x, y} twice: P(y, y) = 1/4 leaves first.a unscored. With ``skip`` first is
    then 2 (else (4 + 2) / 2 = 3): final 0.4·2 + 0.6·1 = 1.4 w.p. 1/4, else 0.4·3 + 0.6 = 1.8.
    With ``zero`` first is (0 + 2) / 2 = 1 → final 1.0."""
    rows = [("R", "A", "first.a", "x", 4.0), ("R", "A", "first.b", "x", 2.0), ("R", "A", "first.b", "y", 2.0)]
    rows += [("R", "A", item, a, 1.0) for item in ("second.count", "second.survey") for a in "xy"]
    for rule, low in (("skip", 1.4), ("zero", 1.0)):
        result = uncertainty(_table(rows), TINY, draws=4000, seed=2, sources=("assessors",), unscored=rule)
        finals = np.round(result.finals[:, 0], 12)
        assert set(np.unique(finals)) == {low, 1.8}
        assert abs(np.mean(finals == low) - 0.25) < 0.03


def test_identical_regions_have_rank_intervals_spanning_their_tied_block():
    """Three identical strong regions and three identical weak ones, five assessors each with
    spread-out scores: resampled independently, each strong region is 1st, 2nd or 3rd and each
    weak one 4th, 5th or 6th; the two blocks never cross (strong finals ≥ 2.6, weak ≤ 1.4)."""
    strong = {"x0": 3.0, "x1": 4.0, "x2": 2.0, "x3": 4.0, "x4": 3.0}
    weak = {"x0": 1.0, "x1": 0.0, "x2": 1.0, "x3": 0.0, "x4": 1.0}
    rows = [
        (f"{name}{k}", "A", item, a, s)
        for name, panel in (("S", strong), ("W", weak))
        for k in range(3)
        for item in ITEMS_A
        for a, s in panel.items()
    ]
    result = uncertainty(_table(rows), TINY, draws=2000, seed=4, sources=("assessors",))
    got = {r["region"]: r for r in result.regions.iter_rows(named=True)}
    for k in range(3):
        assert (got[f"S{k}"]["rank_national"], got[f"S{k}"]["rank_lo"], got[f"S{k}"]["rank_hi"]) == (1, 1, 3)
        assert (got[f"W{k}"]["rank_national"], got[f"W{k}"]["rank_lo"], got[f"W{k}"]["rank_hi"]) == (4, 4, 6)
        assert got[f"S{k}"]["p_top10"] == 1.0


def test_variance_shares_of_an_additive_example_match_the_hand_calculation():
    """final = 0.2·first.a + 0.2·first.b + 0.3·second.count + 0.3·second.survey (group A).

    Assessors: first.a scored 1 and 3, the rest 2 and 2, so only first.a varies; its resampled
    mean is 1, 2, 3 w.p. 1/4, 1/2, 1/4: variance 1/2, giving 0.2² · 1/2 = 0.02 in the final.
    Survey: service.1 answered 0 and 4 (n = 2): the resampled mean is 0, 2, 4 w.p. 1/4, 1/2,
    1/4, variance 2, and moves second.survey (2) by mean − 2 within the scale: 0.3² · 2 = 0.18.
    Additive, so V = 0.20 and the first-order shares are 0.1 and 0.9, summing to 1."""
    rows = [("R", "A", "first.a", "x", 1.0), ("R", "A", "first.a", "y", 3.0)]
    rows += [("R", "A", item, a, 2.0) for item in ITEMS_A[1:] for a in "xy"]
    counts = pl.DataFrame(
        {"region": ["R", "R"], "statement": ["service.1"] * 2, "answer": [0, 4], "count": [1, 1]}
    )
    result = uncertainty(
        _table(rows), TINY, draws=40_000, seed=5, sources=("assessors", "survey"), survey=counts
    )
    assert result.finals.var() == pytest.approx(0.20, abs=0.01)
    assert result.shares["assessors"] == pytest.approx(0.1, abs=0.03)
    assert result.shares["survey"] == pytest.approx(0.9, abs=0.03)
    assert result.shares["assessors"] + result.shares["survey"] == pytest.approx(1.0, abs=0.04)
    row = result.regions.row(0, named=True)
    assert row["share_survey"] == pytest.approx(result.shares["survey"])
    assert set(result.shares) == {"assessors", "survey"}


def test_weights_within_the_range_and_from_a_list():
    """first = 3 and second = 1 in group A (weights 40/60). Factors in [0.8, 1.2] put first's
    weight between 0.32/(0.32 + 0.72) = 0.3077 and 0.48/0.96 = 0.5, so every final lies in
    [1 + 2·0.3077, 1 + 2·0.5]. From the list {framework, first 100 %}: finals 1.8 and 3.0."""
    rows = [("R", "A", i, "x", 3.0) for i in ITEMS_A[:2]] + [("R", "A", i, "x", 1.0) for i in ITEMS_A[2:]]
    result = uncertainty(_table(rows), TINY, draws=3000, seed=6, sources=("weights",))
    assert result.finals.min() >= 1 + 2 * 0.32 / 1.04 - 1e-12
    assert result.finals.max() <= 2.0 + 1e-12
    assert result.finals.min() < 1.7 and result.finals.max() > 1.95
    sets = weight_sets(
        pl.DataFrame(
            {
                "set": ["framework", "framework", "first only", "first only"],
                "group": ["A"] * 4,
                "component": ["first", "second"] * 2,
                "weight": [40, 60, 100, 0],
            }
        ),
        TINY,
    )
    listed = uncertainty(_table(rows), TINY, draws=400, seed=6, sources=("weights",), weight_sets=sets)
    assert set(np.round(listed.finals[:, 0], 12)) == {1.8, 3.0}
    assert listed.regions["final_lo"][0] == pytest.approx(1.8) and listed.regions["final_hi"][
        0
    ] == pytest.approx(3.0)


def test_the_same_seed_gives_the_same_result_and_another_seed_another():
    table = _random_cycle(8, regions=12, assessors=3)
    first = uncertainty(table, TINY, draws=200, seed=42)
    again = uncertainty(table, TINY, draws=200, seed=42)
    other = uncertainty(table, TINY, draws=200, seed=43)
    assert first.regions.equals(again.regions) and np.array_equal(first.finals, again.finals)
    assert not np.array_equal(first.finals, other.finals)
    lean = uncertainty(table, TINY, draws=200, seed=42, variance_shares=False)
    assert np.array_equal(lean.finals, first.finals) and dict(lean.shares) == {}
    assert lean.regions.equals(first.regions.drop("share_assessors", "share_weights"))


def test_the_fast_and_the_general_evaluation_agree():
    """Complete panels with mean take the linear shortcut; forcing the item-by-item way on the
    same draws must give the same component scores."""
    table = _table(
        [
            (f"R{r}", "A", i, f"x{a}", float((r + a + len(i)) % 5))
            for r in range(6)
            for i in ITEMS_A
            for a in range(3)
        ]
    )
    regions = score_items(table, TINY).regions
    model = model_of(table, TINY, regions, default_group=None, consolidation="mean", unscored="skip")
    assert model.complete
    counts = survey_counts(
        pl.DataFrame(
            {
                "region": [f"R{r}" for r in range(6)],
                "statement": ["service.1"] * 6,
                **{f"count_{k}": [k + 1] * 6 for k in range(5)},
            }
        ),
        TINY,
        regions,
    )
    from cityeval.engine.uncertainty import _sample

    sample = _sample(
        np.random.default_rng(0), model, TINY, 64, ("assessors", "survey", "weights"), 0.2, None, counts
    )
    fast = components(model, sample, counts)
    general = components(dataclasses.replace(model, complete=False), sample, counts)
    assert np.allclose(fast, general, rtol=0, atol=1e-12)


def test_survey_totals_follow_the_bootstrap_law():
    """Answers {0, 4} (n = 2): the resampled mean is 0, 2, 4 w.p. 1/4, 1/2, 1/4. Answers 0×3,
    1×1, 4×6 (n = 10): mean 2.5, population variance 9.7 − 2.5² = 3.45, so the resampled mean
    has mean 2.5 and variance 0.345."""
    counts = SurveyCounts(
        region=np.zeros(2, int),
        item=np.zeros(2, int),
        counts=np.array([[1, 0, 0, 0, 1], [3, 1, 0, 0, 6]], float),
    )
    totals = counts.totals(np.random.default_rng(9), 200_000)
    means = totals / counts.respondents[None, :]
    assert np.allclose([np.mean(means[:, 0] == v) for v in (0, 2, 4)], [0.25, 0.5, 0.25], atol=0.005)
    assert means[:, 1].mean() == pytest.approx(2.5, abs=0.005)
    assert means[:, 1].var() == pytest.approx(0.345, abs=0.005)
    assert np.allclose(counts.deviation(totals).mean(axis=0), [0, 0], atol=0.01)


def test_competition_ranks_tie_on_nine_decimals():
    finals = np.array([[3.0, 2.5, 3.0 + 1e-12, 1.0], [1.0, 2.0, 3.0, 4.0]])
    assert competition_ranks(finals).tolist() == [[1, 3, 1, 4], [4, 3, 2, 1]]


@pytest.mark.parametrize(
    ("counts", "message"),
    [
        ({"region": ["ZZ"], "statement": ["service.1"], "count_0": [1]}, "not in the scores"),
        ({"region": ["R00"], "statement": ["nope.1"], "count_0": [1]}, "no survey item"),
        ({"region": ["R00"], "statement": ["service.1"], "count_0": [-1]}, "whole numbers"),
        ({"region": ["R00"], "statement": ["service.1"], "count_0": [0]}, "at least one answer"),
    ],
)
def test_bad_survey_counts_are_named(counts, message):
    table = _random_cycle(1, regions=3, assessors=2)
    full = {**{f"count_{k}": [0] for k in range(5)}, **counts}
    with pytest.raises(InputError, match=message) as caught:
        uncertainty(table, TINY, draws=10, sources=("survey",), survey=pl.DataFrame(full))
    assert caught.value.source == "survey counts"


def test_bad_options_and_weight_sets_are_refused():
    table = _random_cycle(1, regions=3, assessors=2)
    with pytest.raises(ValueError, match="unknown source"):
        uncertainty(table, TINY, sources=("judges",))
    with pytest.raises(ValueError, match="needs answer counts"):
        uncertainty(table, TINY, sources=("survey",))
    bad = pl.DataFrame(
        {"set": ["s", "s"], "group": ["A", "A"], "component": ["first", "second"], "weight": [40, 50]}
    )
    with pytest.raises(InputError, match="sums to 90, not 100"):
        weight_sets(bad, TINY)


_PINNED_COUNTS = {
    "region": [f"R{r:02d}" for r in range(12)],
    "statement": ["service.1"] * 12,
    # Respondents from 1 to 25: rows of different support sizes share a block of the sampler.
    **{f"count_{k}": [(r * (k + 2)) % 7 + (k == 2) for r in range(12)] for k in range(5)},
}


@pytest.mark.parametrize(
    ("consolidation", "unscored", "digest", "first", "shares", "rank_lo", "rank_hi", "p_top10"),
    [
        (
            "mean",  # complete panels: the linear way
            "skip",
            "c51bf059fbba160ff94ef654821b80398d2e2f126d968b33f193eb22547b56f8",
            [3.3416276356433183, 2.51449234105165, 2.2744169583500997, 1.654225213201689],
            {"assessors": 0.861801752219227, "survey": 0.03330370992642356, "weights": 0.011865954704592124},
            [1, 2, 2, 2, 2, 2, 3, 2, 3, 2, 4, 9],
            [1, 8, 11, 11, 11, 12, 9, 10, 12, 12, 12, 12],
            [
                *(1.0, 1.0, 0.9333333333333333, 0.9333333333333333, 0.8666666666666667),
                *(0.8333333333333334, 1.0, 1.0, 0.7666666666666667, 0.8333333333333334),
                *(0.7333333333333333, 0.13333333333333333),
            ],
        ),
        (
            "median",  # the item-by-item way
            "zero",
            "bd7f6f90d431f9b5ea8354da67773c58b115b955d45cc15c8a6d0d03d6b1927a",
            [2.392535127921014, 2.521306594983855, 1.9565229768450498, 1.0888026918815203],
            {"assessors": 1.0562076050214233, "survey": 0.019073173003599942, "weights": 0.01717149898454663},
            [1, 1, 2, 1, 1, 2, 3, 1, 5, 5, 8, 9],
            [11, 9, 8, 10, 6, 12, 12, 11, 10, 11, 12, 12],
            [
                *(0.9333333333333333, 1.0, 1.0, 0.9666666666666667, 1.0, 0.7333333333333333),
                *(0.8333333333333334, 0.8333333333333334, 0.9666666666666667, 0.8666666666666667),
                *(0.6, 0.26666666666666666),
            ],
        ),
    ],
)
def test_a_seed_gives_the_numbers_it_gave_before_the_engine_was_made_faster(
    consolidation, unscored, digest, first, shares, rank_lo, rank_hi, p_top10
):
    """Regression pin of the random stream. The expected values were computed with the code
    BEFORE the speed-up of the uncertainty engine (commit 5dd47aa, December 2026) on this
    machine's numpy/OpenBLAS (x86_64, little-endian); the faster code must give every draw
    bit for bit (the SHA-256 of the ``draws × regions`` finals), not just close numbers.
    All three sources, variance shares, mixed survey sizes (n = 1 … 25) in one block."""
    table = _random_cycle(8, regions=12, assessors=3, province=True)
    result = uncertainty(
        table,
        TINY,
        draws=30,
        seed=2026,
        sources=("assessors", "survey", "weights"),
        survey=pl.DataFrame(_PINNED_COUNTS),
        consolidation=consolidation,
        unscored=unscored,
    )
    assert result.finals.shape == (30, 12)
    assert result.finals[0, :4].tolist() == first
    assert dict(result.shares) == shares
    assert result.regions["rank_lo"].to_list() == rank_lo
    assert result.regions["rank_hi"].to_list() == rank_hi
    assert result.regions["p_top10"].to_list() == p_top10
    assert hashlib.sha256(np.ascontiguousarray(result.finals, dtype="<f8").tobytes()).hexdigest() == digest
