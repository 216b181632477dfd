"""Report data, checked against hand calculations on tests/engine/data/tiny.yaml.

tiny.yaml, group A: component ``first`` (40 %) = first.a (dimension governance), first.b;
``second`` (60 %) = second.count, second.survey (governance, through statement service.1).

Hand calculation of the three-region example below:

- R1 (province P): first.a 4,4 → 4; first.b 2,3 → 2.5; second.count 3,3 → 3; second.survey
  1,2 → 1.5. first = (4 + 2.5) / 2 = 3.25; second = (3 + 1.5) / 2 = 2.25; final = 0.4·3.25 +
  0.6·2.25 = 2.65. Governance = mean(first.a, second.survey) = (4 + 1.5) / 2 = 2.75. Last year:
  final 2.5 (improvement +0.15), governance 2.0, first 3.0.
- R2 (province P): first.a 2; first.b 2; second.count 4; second.survey not scored. first = 2;
  second = 4 (unscored items skipped); final = 0.4·2 + 0.6·4 = 3.2; coverage 3/4; governance
  = 2 from 1 of 2 items.
- R3 (province Q): first.a 0 only → every component 0: a non-participant, not ranked.

Ranks: R2 1st and R1 2nd of 2 ranked regions, nationally and in province P.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from cityeval.engine import load_framework, parse_framework, score_components, score_items
from cityeval.engine.report import Rank, cycle_report, region_report

TINY = parse_framework((Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8"))


def _example():
    rows = [
        ("R1", "P", "first.a", "x", 4), ("R1", "P", "first.a", "y", 4),
        ("R1", "P", "first.b", "x", 2), ("R1", "P", "first.b", "y", 3),
        ("R1", "P", "second.count", "x", 3), ("R1", "P", "second.count", "y", 3),
        ("R1", "P", "second.survey", "x", 1), ("R1", "P", "second.survey", "y", 2),
        ("R2", "P", "first.a", "x", 2), ("R2", "P", "first.b", "x", 2), ("R2", "P", "second.count", "x", 4),
        ("R3", "Q", "first.a", "x", 0),
    ]  # fmt: skip
    table = pl.DataFrame(rows, schema=["region", "province", "item", "assessor", "score"], orient="row")
    table = table.with_columns(pl.lit("A").alias("group"), pl.col("score").cast(pl.Float64))
    previous = pl.DataFrame({"region": ["R1"], "final": [2.5]})
    return score_items(table, TINY, previous=previous)


PREVIOUS_DIMENSIONS = pl.DataFrame({"region": ["R1"], "dimension": ["governance"], "score": [2.0]})
PREVIOUS_COMPONENTS = pl.DataFrame({"region": ["R1"], "component": ["first"], "score": [3.0]})


def test_a_region_report_matches_the_hand_calculation():
    report = region_report(
        _example(), TINY, region="R1",
        previous_dimensions=PREVIOUS_DIMENSIONS, previous_components=PREVIOUS_COMPONENTS,
    )  # fmt: skip
    first, second = report.components
    assert (first.code, first.weight, first.score, first.previous) == ("first", 0.4, 3.25, 3.0)
    assert (second.code, second.weight, second.score, second.previous) == ("second", 0.6, 2.25, None)
    assert first.contribution == pytest.approx(1.3, abs=1e-12)
    assert second.contribution == pytest.approx(1.35, abs=1e-12)
    assert report.final == pytest.approx(2.65, abs=1e-12)
    assert report.improvement == pytest.approx(0.15, abs=1e-12)
    assert report.rank_national == Rank(2, 2)
    assert report.rank_province == Rank(2, 2)
    assert report.coverage == 1.0
    (governance,) = report.dimensions
    assert (governance.code, governance.score, governance.previous) == ("governance", 2.75, 2.0)
    assert (governance.items_scored, governance.items_expected) == (2, 2)
    assert report.dimension_series("en") == [("Governance", 2.75, 2.0)]
    assert report.dimension_series("id") == [("Tata kelola", 2.75, 2.0)]


def test_coverage_and_partial_components_are_reported():
    report = region_report(_example(), TINY, region="R2")
    assert report.final == pytest.approx(3.2, abs=1e-12)
    assert report.coverage == 0.75
    assert report.improvement is None and report.previous_final is None
    second = report.components[1]
    assert (second.score, second.items_scored, second.items_expected, second.coverage) == (4.0, 1, 2, 0.5)
    assert report.rank_national == Rank(1, 2)
    assert report.dimensions[0].score == 2.0 and report.dimensions[0].items_scored == 1


def test_a_non_participant_has_no_rank_and_does_not_count_in_the_totals():
    report = region_report(_example(), TINY, region="R3")
    assert not report.participant
    assert report.rank_national is None and report.rank_province is None
    assert report.final == 0.0


def test_an_unknown_region_is_a_key_error():
    with pytest.raises(KeyError):
        region_report(_example(), TINY, region="R9")


def test_the_cycle_report_orders_by_rank_and_averages_like_with_like():
    """Means by hand: governance this year (2.75 + 2.0) / 2 = 2.375 over the ranked regions;
    last year only R1 had a score (2.0). first: (3.25 + 2) / 2 = 2.625, last year 3.0."""
    report = cycle_report(
        _example(), TINY,
        previous_dimensions=PREVIOUS_DIMENSIONS, previous_components=PREVIOUS_COMPONENTS,
        feedback={"R1": [{"assessor": "Ana", "affiliation": "University", "strengths": "Data portal",
                          "weaknesses": "", "recommendations": "Publish budgets"}]},
        agreement=pl.DataFrame({
            "panel": ["Panel 1", "Panel 1", "Panel 2"], "component": ["first", "second", "first"],
            "alpha": [0.8, None, float("nan")], "icc2": [0.7, 0.5, 0.1], "icc2k": [0.9, 0.6, 0.2],
            "n_units": [4, 4, 2], "n_coders": [2, 2, 1], "complete": [True, False, False],
        }),
        panels={"R1": "Panel 1", "R2": "Panel 2"},
    )  # fmt: skip
    assert [r.region for r in report.regions] == ["R2", "R1", "R3"]
    assert report.ranked == 2
    assert report.mean_final == pytest.approx((3.2 + 2.65) / 2, abs=1e-12)
    (governance,) = report.dimension_means
    assert governance.score == pytest.approx(2.375, abs=1e-12) and governance.previous == 2.0
    first = report.component_means[0]
    assert first.score == pytest.approx(2.625, abs=1e-12) and first.previous == 3.0
    r2, r1, r3 = report.regions
    assert r1.feedback[0].assessor == "Ana" and r1.feedback[0].recommendations == "Publish budgets"
    assert r2.feedback == () and r3.agreement == ()
    assert [(a.component, a.alpha, a.complete) for a in r1.agreement] == [
        ("first", 0.8, True),
        ("second", None, False),
    ]
    assert r2.agreement[0].alpha is None  # NaN (not computable) is shown as missing
    assert sorted(report.finals) == pytest.approx([2.65, 3.2])


def test_deli_serdang_2023_from_its_published_components():
    """docs/domain.md §3: 3.44, 2.63, 3.25, 3.12, 3.80 (REGULER, gmsc-2023) → 3.229; component
    contributions 0.344 + 0.526 + 0.975 + 0.624 + 0.76, by hand."""
    fw = load_framework("gmsc-2023")
    table = pl.DataFrame(
        {"region": ["Kab. Deli Serdang"], "group": ["REGULER"], "province": ["Sumatera Utara"],
         "baseline": [3.44], "output": [2.63], "outcome": [3.25], "impact": [3.12], "quick_win": [3.80]}
    )  # fmt: skip
    report = region_report(score_components(table, fw), fw, region="Kab. Deli Serdang")
    assert [c.code for c in report.components] == ["baseline", "output", "outcome", "impact", "quick_win"]
    contributions = [c.contribution for c in report.components]
    assert contributions == pytest.approx([0.344, 0.526, 0.975, 0.624, 0.76], abs=1e-12)
    assert report.final == pytest.approx(3.229, abs=1e-12)
    assert report.rank_national == Rank(1, 1) and report.rank_province == Rank(1, 1)
    assert report.level == "component" and report.coverage is None
    assert all(c.items_scored is None for c in report.components)
    assert report.dimensions == ()  # component-level results have no dimension breakdown
