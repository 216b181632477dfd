"""Scoring reproduces published results and hand calculations."""

from __future__ import annotations

import random
from pathlib import Path

import polars as pl
import pytest
from tests.helpers.engine import SCORE_SCHEMA

from cityeval.engine import InputError, load_framework, parse_framework, score, score_items, scoring_checks

DATA = Path(__file__).parent / "data"
TINY = parse_framework((DATA / "tiny.yaml").read_text(encoding="utf-8"))


def _five_assessors(mean: float) -> list[float]:
    """Five whole levels whose mean is ``mean`` (a multiple of 1/5), as panels of five give."""
    total = round(mean * 5)
    base, extra = divmod(total, 5)
    return [float(base + 1)] * extra + [float(base)] * (5 - extra)


def _panel_rows(region: str, group: str, items: dict[str, float]) -> list[dict]:
    return [
        {"region": region, "group": group, "item": code, "assessor": f"A{k + 1}", "score": s}
        for code, mean in items.items()
        for k, s in enumerate(_five_assessors(mean))
    ]


def _component_items(fw, group: str, component: str) -> list[str]:
    return [i.code for c, i in fw.items_for(group) if c.code == component]


def _spread(codes: list[str], total_fifths: int) -> dict[str, float]:
    """Item means (multiples of 0.2) over ``codes`` adding up to ``total_fifths`` / 5."""
    base, extra = divmod(total_fifths, len(codes))
    return {code: (base + (1 if k < extra else 0)) / 5 for k, code in enumerate(codes)}


def test_kab_malang_2023_reproduces_from_its_item_scores():
    """docs/domain.md §3 worked example (Kab. Malang, KPPN, 2023), from the published item scores.

    Baseline items 3.00, 3.00, 4.00, 4.00, 4.00 → 3.60; Output 3.00, 2.80, 2.80, 3.40, 2.00,
    1.00, 1.00 → 2.29; Quick Win 3.80 … 3.20 → 3.13; Kolaborasi 3.80 … 3.20 → 2.53; final
    2.94; 2022 final 2.51 → improvement +0.44. Outcome (3.41) and Impact (2.81) are published
    only as component scores: their items here are multiples of 0.2 whose mean rounds to them
    (33 items summing to 112.6 → 3.4121; 54 items summing to 151.8 → 2.8111).
    """
    fw = load_framework("gmsc-2023")
    group = "KPPN_IKN"
    published = {
        "baseline": [3.00, 3.00, 4.00, 4.00, 4.00],
        "output": [3.00, 2.80, 2.80, 3.40, 2.00, 1.00, 1.00],
        "quick_win": [3.80, 3.00, 3.00, 3.00, 2.40, 2.60, 2.80, 3.00, 3.80, 4.00, 3.00, 3.20],
        "kolaborasi": [3.80, 1.80, 1.80, 2.80, 1.80, 3.20],
    }
    items: dict[str, float] = {}
    for component, values in published.items():
        items.update(zip(_component_items(fw, group, component), values, strict=True))
    items.update(_spread(_component_items(fw, group, "outcome"), 563))
    items.update(_spread(_component_items(fw, group, "impact"), 759))
    table = pl.DataFrame(_panel_rows("Kab. Malang", group, items))
    previous = pl.DataFrame({"region": ["Kab. Malang"], "final": [2.51]})

    result = score(table, fw, previous=previous)

    row = result.regions.row(0, named=True)
    expected = {"baseline": 3.60, "output": 2.29, "outcome": 3.41, "impact": 2.81,
                "quick_win": 3.13, "kolaborasi": 2.53}  # fmt: skip
    for component, value in expected.items():
        assert round(row[component], 2) == value, component
    assert row["final"] == pytest.approx(2.94, abs=0.005)
    # The 2022 final is published rounded (2.51), so the improvement can differ from the
    # published +0.44 by up to 0.005 of that rounding plus this one's.
    assert row["improvement"] == pytest.approx(0.44, abs=0.01)
    assert row["coverage"] == 1.0


def test_deli_serdang_2023_components_give_3_23():
    """docs/domain.md §3: Kab. Deli Serdang, REGULER, 2023 — 3.44, 2.63, 3.25, 3.12, 3.80 → 3.23."""
    table = pl.DataFrame(
        {
            "region": ["Kab. Deli Serdang"], "group": ["REGULER"], "baseline": [3.44],
            "output": [2.63], "outcome": [3.25], "impact": [3.12], "quick_win": [3.80],
        }
    )  # fmt: skip
    result = score(table, load_framework("gmsc-2023"))
    final = result.regions.get_column("final")[0]
    # Hand calculation: 0.1·3.44 + 0.2·2.63 + 0.3·3.25 + 0.2·3.12 + 0.2·3.80 = 3.229.
    assert final == pytest.approx(3.229, abs=1e-12)
    assert round(final, 2) == 3.23


def test_the_published_2022_kppn_finals_reproduce_from_their_components():
    """The 38 rows of the ministry's 2022 KPPN & IKN letter (tests/engine/data): the published
    components are rounded, so the recomputed final lands within 0.015 of the published one."""
    published = pl.read_csv(DATA / "gmsc-2022-kppn-results.csv")
    result = score(published, load_framework("gmsc-2022"), default_group="KPPN_IKN")
    joined = result.regions.join(published.select("region", "final_published"), on="region")
    assert joined.height == 38
    worst = (joined["final"] - joined["final_published"]).abs().max()
    assert worst <= 0.015


def _tiny_scores(rows: list[tuple[str, str, str, str, float | None]]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["region", "group", "item", "assessor", "score"], orient="row")


def test_item_scores_components_final_and_coverage_by_hand():
    # tiny.yaml, group A: first (40 %) = first.a, first.b; second (60 %) = second.count, second.survey.
    table = _tiny_scores([
        ("R", "A", "first.a", "x", 3), ("R", "A", "first.a", "y", 4),  # item 3.5
        ("R", "A", "first.b", "x", 2),                                  # item 2.0
        ("R", "A", "second.count", "x", 1),                             # item 1.0; survey unscored
    ])  # fmt: skip
    result = score_items(table, TINY)
    row = result.regions.row(0, named=True)
    assert row["first"] == 2.75  # (3.5 + 2) / 2
    assert row["second"] == 1.0  # only the scored item counts by default
    assert row["final"] == pytest.approx(0.4 * 2.75 + 0.6 * 1.0)
    assert row["coverage"] == 0.75  # 3 of 4 items
    second = result.components.filter(pl.col("component") == "second").row(0, named=True)
    assert (second["items_scored"], second["items_expected"], second["coverage"]) == (1, 2, 0.5)

    zero = score_items(table, TINY, unscored="zero").regions.row(0, named=True)
    assert zero["second"] == 0.5  # (1 + 0) / 2
    assert zero["final"] == pytest.approx(0.4 * 2.75 + 0.6 * 0.5)


def test_median_consolidation():
    table = _tiny_scores([
        ("R", "A", "first.a", "x", 0), ("R", "A", "first.a", "y", 3), ("R", "A", "first.a", "z", 4),
    ])  # fmt: skip
    mean = score_items(table, TINY).items.filter(pl.col("item") == "first.a")["score"][0]
    median = score_items(table, TINY, consolidation="median").items.filter(pl.col("item") == "first.a")[
        "score"
    ][0]
    assert (mean, median) == (pytest.approx(7 / 3), 3.0)


def test_a_blank_score_is_not_scored_rather_than_zero():
    table = _tiny_scores([("R", "A", "first.a", "x", 4), ("R", "A", "first.a", "y", None)])
    item = score_items(table, TINY).items.filter(pl.col("item") == "first.a").row(0, named=True)
    assert (item["score"], item["n_assessors"]) == (4.0, 1)


def _components(rows: list[tuple]) -> pl.DataFrame:
    return pl.DataFrame(rows, schema=["region", "province", "group", "first", "second"], orient="row")


def test_competition_ranks_national_and_per_province_and_non_participants():
    table = _components([
        ("R1", "P", "A", 3.0, 3.0),  # 3.0
        ("R2", "P", "A", 2.0, 2.0),  # 2.0
        ("R3", "Q", "A", 2.0, 2.0),  # 2.0, tied with R2
        ("R4", "Q", "A", 1.0, 1.0),  # 1.0
        ("R5", "P", "A", 0.0, None),  # did not take part
    ])  # fmt: skip
    result = score(table, TINY.model_copy())
    ranks = {r["region"]: (r["rank_national"], r["rank_province"]) for r in result.regions.to_dicts()}
    assert ranks == {"R1": (1, 1), "R2": (2, 2), "R3": (2, 1), "R4": (4, 2), "R5": (None, None)}
    assert result.non_participants == ("R5",)
    with_all = score(table, TINY, rank_non_participants=True)
    assert with_all.regions.filter(pl.col("region") == "R5")["rank_national"][0] == 5


def test_ranks_use_the_unrounded_final():
    table = _components([("R1", "P", "A", 2.004, 2.0), ("R2", "P", "A", 2.0, 2.0)])
    ranks = score(table, TINY).regions.select("region", "rank_national").rows()
    assert ranks == [("R1", 1), ("R2", 2)]  # both show 2.00 when rounded


def test_improvement_is_blank_without_a_previous_final():
    table = _components([("R1", "P", "A", 3.0, 3.0), ("R2", "P", "A", 2.0, 2.0)])
    previous = pl.DataFrame({"region": ["R1", "R9"], "final": ["2,5", "1"]})
    rows = {r["region"]: r["improvement"] for r in score(table, TINY, previous=previous).regions.to_dicts()}
    assert rows == {"R1": pytest.approx(0.5), "R2": None}


def test_results_carry_parameters_and_the_framework_hash():
    table = _tiny_scores([("R", "A", "first.a", "x", 3)])
    result = score_items(table, TINY, consolidation="median")
    assert result.framework_hash == TINY.hash
    assert dict(result.parameters) == {
        "consolidation": "median", "unscored": "skip", "rank_non_participants": False, "level": "item",
    }  # fmt: skip


# --- bad input: each names its row and column ---------------------------------------------------


def _error(table: pl.DataFrame, **kwargs) -> InputError:
    with pytest.raises(InputError) as caught:
        score(table, TINY, **kwargs)
    return caught.value


def test_it_names_the_row_of_an_unknown_group():
    error = _error(_tiny_scores([("R", "A", "first.a", "x", 3), ("R", "Z", "first.a", "y", 3)]))
    assert (error.row, error.column) == (3, "group")
    assert "unknown group 'Z'" in error.reason


def test_it_names_the_row_of_a_score_outside_the_scale():
    error = _error(_tiny_scores([("R", "A", "first.a", "x", 3), ("R", "A", "first.b", "x", 4.5)]))
    assert (error.row, error.column, error.reason) == (3, "score", "4.5 is outside the scale 0–4")


def test_it_names_the_row_of_a_non_numeric_score():
    table = pl.DataFrame(
        {"region": ["R", "R"], "group": ["A", "A"], "item": ["first.a", "first.b"],
         "assessor": ["x", "x"], "score": ["3", "tiga"]}
    )  # fmt: skip
    error = _error(table)
    assert (error.row, error.column, error.reason) == (3, "score", "'tiga' is not a number")


def test_it_names_an_unknown_item_and_an_item_of_another_group():
    error = _error(_tiny_scores([("R", "A", "first.zz", "x", 3)]))
    assert (error.row, error.column) == (2, "item") and "unknown item 'first.zz'" in error.reason
    error = _error(_tiny_scores([("R", "A", "extra.only_b", "x", 3)]))
    assert error.reason == "item 'extra.only_b' is not scored for group 'A'"


def test_it_refuses_an_assessor_scoring_an_item_twice():
    error = _error(_tiny_scores([("R", "A", "first.a", "x", 3), ("R", "A", "first.a", "x", 4)]))
    assert (error.row, error.column) == (2, "assessor")


def test_it_refuses_a_region_in_two_groups():
    error = _error(_tiny_scores([("R", "A", "first.a", "x", 3), ("R", "B", "first.a", "y", 3)]))
    assert (error.row, error.column) == (3, "group")


# The item checks count problems over the whole table first and look for the bad row only when
# there is one: a problem past a region's first row, or one that only stripping shows, is still
# found and named by its row (the first, in the order the checks are listed).
@pytest.mark.parametrize(
    ("rows", "where", "reason"),
    [
        (
            [
                ("R", "A", "first.a", "x", 3),
                ("R", "A", "first.b", "x", 3),
                ("R", "B", "second.count", "x", 3),
            ],
            (4, "group"),
            "region 'R' has group 'B' here but 'A' on an earlier row",
        ),
        (
            [
                ("R", "A", "first.a", "x", 3),
                ("S", "A", "first.a", "x", 3),
                ("S", "A", "extra.only_b", "x", 3),
            ],
            (4, "item"),
            "item 'extra.only_b' is not scored for group 'A'",
        ),
        (
            [("R", "A", "first.a", "x", 3), ("S", "A", "first.a", "x", 2), ("S", "A", "first.b", "x", -1)],
            (4, "score"),
            "-1 is outside the scale 0–4",
        ),
        (
            [("R", "A", "first.a", "x", 3), ("R", "A", "first.b", "y", 4), ("R", "A", "first.a", " x ", 4)],
            (2, "assessor"),
            "assessor 'x' scored item 'first.a' of 'R' more than once",
        ),
        (
            [("R", "A", "first.a", "x", 3), ("R", "A", " ", "y", 4), ("R", "Z", "first.b", "y", 9)],
            (3, "item"),
            "the value is empty",
        ),
    ],
)
def test_a_problem_past_a_regions_first_row_is_named_by_its_row(rows, where, reason):
    error = _error(_tiny_scores(rows))
    assert ((error.row, error.column), error.reason) == (where, reason)


def test_a_province_that_changes_within_a_region_is_named_by_its_row():
    table = _tiny_scores([("R", "A", "first.a", "x", 3), ("R", "A", "first.b", "x", 3)])
    error = _error(table.with_columns(province=pl.Series(["P", " Q"])))
    assert (error.row, error.column) == (3, "province")
    assert error.reason == "region 'R' has province 'Q' here but 'P' on an earlier row"


def test_blanks_around_values_and_two_spellings_of_a_group_score_as_clean_values_do():
    """By hand (tiny.yaml, group A): first.a = (3 + 4) / 2 = 3.5, the only scored item of
    "first" (40 %); second.count = 1 the only one of "second" (60 %): final 0.4·3.5 + 0.6·1 = 2."""
    clean = _tiny_scores(
        [("R", "A", "first.a", "x", 3), ("R", "A", "first.a", "y", 4), ("R", "A", "second.count", "x", 1)]
    ).with_columns(province=pl.lit("P"))
    messy = _tiny_scores(
        [
            (" R", "a", "first.a ", "x", 3),
            ("R ", "A", " first.a", " y", 4),
            ("R", " A", "second.count", "x", 1),
        ]
    ).with_columns(province=pl.Series(["P", " P", "P "]))
    result = score_items(messy, TINY)
    assert result.regions.equals(score_items(clean, TINY).regions)
    assert result.regions.select("region", "group", "province").row(0) == ("R", "A", "P")
    assert result.regions["final"][0] == pytest.approx(2.0)


def test_scores_written_as_text_score_as_the_numbers_they_name():
    """As a CSV reads them: "3,5" is 3.5 (a decimal comma), "-" a blank score. By hand
    (tiny.yaml, group A): first.a = (3.5 + 2) / 2 = 2.75, first = 2.75; final 0.4 × 2.75 = 1.1."""
    table = _tiny_scores(
        [("R", "A", "first.a", "x", 0), ("R", "A", "first.a", "y", 0), ("R", "A", "first.b", "x", 0)]
    )
    result = score_items(table.with_columns(score=pl.Series(["3,5", "2", "-"])), TINY)
    item = result.items.filter(pl.col("item") == "first.a").row(0, named=True)
    assert (item["score"], item["n_assessors"]) == (2.75, 2)
    assert result.regions["final"][0] == pytest.approx(1.1)


def test_it_names_a_missing_component_for_the_group():
    table = _components([("R1", "P", "A", 3.0, 3.0), ("R2", "P", "A", 2.0, None)])
    error = _error(table)
    assert (error.row, error.column) == (3, "second")
    assert error.reason == "component 'second' is missing; group 'A' needs it"
    table = pl.DataFrame({"region": ["R1"], "group": ["A"], "first": [3.0]})
    assert _error(table).column == "second"


def test_it_names_a_duplicate_region():
    table = _components([("R1", "P", "A", 3.0, 3.0), ("R2", "P", "A", 1, 1), ("R1", "P", "A", 2, 2)])
    error = _error(table)
    assert (error.row, error.column) == (4, "region")
    assert error.reason == "region 'R1' appears twice (first at row 2)"


def test_it_refuses_a_value_for_a_component_the_group_does_not_have():
    table = pl.DataFrame({"region": ["R1"], "group": ["A"], "first": [3.0], "second": [3.0], "extra": [1.0]})
    assert _error(table).reason == "group 'A' has no component 'extra': leave it blank"


def test_it_says_what_columns_it_expected():
    with pytest.raises(InputError, match="cannot tell what this table holds"):
        score(pl.DataFrame({"name": ["R"]}), TINY)


def test_a_consolidated_score_replaces_the_panel_mean_and_both_are_kept():
    # tiny.yaml group A: first.a scored 2 and 4 by the panel (mean 3); the chair records 2.
    table = _tiny_scores(
        [("R", "A", "first.a", "x", 2), ("R", "A", "first.a", "y", 4), ("R", "A", "first.b", "x", 3)]
    )
    overrides = pl.DataFrame({"region": ["R"], "item": ["first.a"], "score": [2.0]})
    result = score_items(table, TINY, overrides=overrides)
    item = result.items.filter(pl.col("item") == "first.a").row(0, named=True)
    assert (item["panel_score"], item["score"], item["consolidated"]) == (3.0, 2.0, True)
    assert result.regions["first"][0] == 2.5  # (2 + 3) / 2


def test_a_consolidated_score_must_be_on_the_scale_and_for_an_expected_item():
    table = _tiny_scores([("R", "A", "first.a", "x", 2)])
    with pytest.raises(InputError, match="outside the scale"):
        score_items(
            table, TINY, overrides=pl.DataFrame({"region": ["R"], "item": ["first.a"], "score": [9.0]})
        )
    with pytest.raises(InputError, match=r"no item 'extra\.only_b' is expected of region 'R'"):
        score_items(
            table, TINY, overrides=pl.DataFrame({"region": ["R"], "item": ["extra.only_b"], "score": [1.0]})
        )


def test_equal_finals_tie_despite_float_noise():
    """Review finding. gmsc-2023 REGULER weights 10/20/30/20/20; by hand both finals are 1.975:
    A = 0.1·1.0 + 0.2·1.6 + 0.3·3.35 + 0.2·1.05 + 0.2·1.7; B = 0.1·2.85 + 0.2·2.5 + 0.3·2.0 +
    0.2·2.55 + 0.2·0.4. Float sums differ in the 16th digit; the ranks must tie."""
    table = pl.DataFrame(
        {
            "region": ["A", "B", "C"], "group": ["REGULER"] * 3, "baseline": [1.0, 2.85, 1.0],
            "output": [1.6, 2.5, 1.0], "outcome": [3.35, 2.0, 1.0], "impact": [1.05, 2.55, 1.0],
            "quick_win": [1.7, 0.4, 1.0],
        }
    )  # fmt: skip
    ranks = dict(score(table, load_framework("gmsc-2023")).regions.select("region", "rank_national").rows())
    assert ranks == {"A": 1, "B": 1, "C": 3}


def test_a_component_nobody_scored_is_0_with_coverage_0_and_rescores_to_the_same_final():
    table = _tiny_scores([("R", "A", "first.a", "x", 3)])  # nothing of component "second"
    result = score_items(table, TINY)
    second = result.components.filter(pl.col("component") == "second").row(0, named=True)
    assert (second["score"], second["coverage"]) == (0.0, 0.0)
    summary = result.summary(TINY.component_codes)
    again = score(summary.drop("coverage"), TINY)
    assert again.regions["final"][0] == result.regions["final"][0] == pytest.approx(0.4 * 3)


def test_a_previous_final_of_0_is_a_non_participant_so_improvement_is_blank():
    table = _components([("R1", "P", "A", 3.0, 3.0), ("R2", "P", "A", 2.0, 2.0)])
    previous = pl.DataFrame({"region": ["R1", "R2"], "final": [0.0, 1.5]})
    rows = {r["region"]: r["improvement"] for r in score(table, TINY, previous=previous).regions.to_dicts()}
    assert rows == {"R1": None, "R2": pytest.approx(0.5)}


# A table sorted by region has one run of rows per region, and the item checks compare a
# region's group and province among its runs; rows of a region apart from each other are checked
# and scored as well (they are numbered by lookup instead).
def test_the_same_scores_in_any_row_order_score_alike():
    """By hand (tiny.yaml, group A): R: first.a = (3 + 4) / 2 = 3.5, the only scored item of
    "first" (40 %): final 1.4; S: first.a = 2: final 0.8."""
    together = _tiny_scores(
        [("R", "A", "first.a", "x", 3), ("R", "A", "first.a", "y", 4), ("S", "A", "first.a", "x", 2)]
    )
    apart = together[[0, 2, 1]]
    for table in (together, apart):
        result = score_items(table, TINY)
        assert dict(result.regions.select("region", "final").iter_rows()) == pytest.approx(
            {"R": 1.4, "S": 0.8}
        )
    assert score_items(apart, TINY).regions.equals(score_items(together, TINY).regions)
    assert score_items(apart, TINY).items.equals(score_items(together, TINY).items)


@pytest.mark.parametrize("column", ["group", "province"])
def test_a_region_whose_rows_are_apart_is_refused_for_a_second_group_or_province(column):
    table = _tiny_scores(
        [("R", "A", "first.a", "x", 3), ("S", "A", "first.a", "x", 3), ("R", "A", "first.b", "x", 3)]
    ).with_columns(province=pl.lit("P"))
    table = table.with_columns(pl.Series(column, ["A", "A", "B"] if column == "group" else ["P", "P", "Q"]))
    error = _error(table)
    assert (error.row, error.column) == (4, column)
    first, later = ("A", "B") if column == "group" else ("P", "Q")
    assert error.reason == f"region 'R' has {column} {later!r} here but {first!r} on an earlier row"


@pytest.mark.parametrize("marked", [True, False], ids=["marked", "counted"])
def test_an_assessor_scoring_an_item_twice_is_found_by_marking_keys_or_counting_them(monkeypatch, marked):
    if not marked:  # as for a table whose possible keys are too many to mark
        monkeypatch.setattr(scoring_checks, "_MARKED_PER_ROW", 0)
        monkeypatch.setattr(scoring_checks, "_MARKED_ANYWAY", 0)
    rows = [("R", "A", "first.a", "x", 3), ("S", "A", "first.a", "x", 3), ("R", "A", "first.b", "x", 3)]
    assert score_items(_tiny_scores(rows), TINY).regions.height == 2
    error = _error(_tiny_scores([*rows, ("S", "A", "first.a", "x", 4)]))
    assert (error.row, error.column) == (3, "assessor")
    assert error.reason == "assessor 'x' scored item 'first.a' of 'S' more than once"


def test_a_final_is_its_weighted_components_added_in_the_frameworks_order_to_the_last_bit():
    """final = Σ weight × component score, added one after the other in the framework's order of
    components (as a calculator would), so that a result re-scored from the same scores gives
    the very same number (not one differing in the 16th digit)."""
    fw = load_framework("gmsc-2023")
    rng = random.Random(3)
    rows = [
        {
            "region": f"R{r:02d}",
            "group": "REGULER",
            "item": item.code,
            "assessor": f"A{a}",
            "score": rng.choice(levels),
        }
        for r in range(40)
        for levels in [[0.0, 1.0, 2.5, 3.0, 3.3, 4.0]]
        for _, item in fw.items_for("REGULER")
        for a in range(3)
    ]
    result = score_items(pl.DataFrame(rows), fw)
    weights = fw.weights_for("REGULER")
    for region in result.regions.iter_rows(named=True):
        final = 0.0
        for code in fw.component_codes:
            if code in weights:
                final += weights[code] * (region[code] or 0.0)
        assert region["final"] == final


def test_an_empty_score_table_keeps_the_items_tables_types():
    """No rows, no items: the items table's columns keep their types, n_assessors a count as
    for any table (a review found it Float64 after the lookup by key: polars took the empty
    score and count columns for one expression)."""
    empty = pl.DataFrame(schema=SCORE_SCHEMA)
    items = score_items(empty, TINY).items
    assert items is not None and items.height == 0
    assert (items.schema["n_assessors"], items.schema["score"]) == (pl.UInt32, pl.Float64)
