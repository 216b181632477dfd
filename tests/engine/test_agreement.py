"""Panel agreement reproduces Krippendorff's and Shrout & Fleiss's published examples."""

from __future__ import annotations

import math
import random

import polars as pl
import pytest

from cityeval.engine import InputError, agreement_by, icc, krippendorff_alpha
from cityeval.engine.agreement import _mean_squares

# Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C (any number of
# observers, missing values): 4 observers × 12 units; None is a missing value.
KRIPPENDORFF_C = {
    "A": [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    "B": [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    "C": [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    "D": [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
}

# Shrout & Fleiss (1979), Table 2: 6 targets (rows) × 4 judges (columns).
SHROUT_FLEISS = [
    [9, 2, 5, 8],
    [6, 1, 3, 2],
    [8, 4, 6, 8],
    [7, 1, 2, 6],
    [10, 5, 6, 9],
    [6, 2, 4, 7],
]


def _long(by_coder: dict[str, list], *, drop_missing: bool = True) -> pl.DataFrame:
    rows = [
        {"unit": f"u{u + 1:02d}", "coder": coder, "value": value}
        for coder, values in by_coder.items()
        for u, value in enumerate(values)
        if value is not None or not drop_missing
    ]
    return pl.DataFrame(rows, schema={"unit": pl.String, "coder": pl.String, "value": pl.Float64})


def _ratings(matrix: list[list[float]]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            {"target": f"t{i + 1}", "rater": f"judge{j + 1}", "value": float(v)}
            for i, row in enumerate(matrix)
            for j, v in enumerate(row)
        ]
    )


def _icc_row(result: pl.DataFrame, kind: str) -> dict:
    return result.filter(pl.col("type") == kind).row(0, named=True)


# --- Krippendorff's alpha: published values --------------------------------------------------


@pytest.mark.parametrize(
    ("level", "published"),
    [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849), ("ratio", 0.797)],
)
def test_alpha_reproduces_krippendorff_2011_missing_data_example(level, published):
    """Krippendorff (2011), Computing Krippendorff's Alpha-Reliability, section C: 4 observers ×
    12 units with missing values: nominal .743, ordinal .815, interval .849, ratio .797.
    Unit 12 has one value only, so 11 units and 40 values are pairable."""
    result = krippendorff_alpha(_long(KRIPPENDORFF_C), level=level)

    assert round(result.alpha, 3) == published
    assert (result.n_units, result.n_values, result.n_coders) == (11, 40, 4)
    assert result.level == level


def test_alpha_reproduces_krippendorff_2011_binary_example():
    """Krippendorff (2011), section A (two observers, binary data, no missing values): 10 units,
    o_01 = 4, n_0 = 14, n_1 = 6, so alpha = 1 − 19 × 4 / (14 × 6) = 0.095."""
    data = {"A": [0, 1, 0, 0, 0, 0, 0, 0, 1, 0], "B": [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]}

    result = krippendorff_alpha(_long(data), level="nominal")

    assert round(result.alpha, 3) == 0.095
    assert result.alpha == pytest.approx(1 - 19 * 4 / (14 * 6), abs=1e-12)


def test_alpha_is_ordinal_by_default():
    """Krippendorff (2011), section C: ordinal .815."""
    assert round(krippendorff_alpha(_long(KRIPPENDORFF_C)).alpha, 3) == 0.815


def test_null_values_count_as_missing():
    """Nulls are dropped like absent rows: same published nominal .743 (Krippendorff 2011, C)."""
    with_nulls = _long(KRIPPENDORFF_C, drop_missing=False)
    assert with_nulls.get_column("value").null_count() == 7

    assert round(krippendorff_alpha(with_nulls, level="nominal").alpha, 3) == 0.743


# --- Krippendorff's alpha: hand-checkable cases ----------------------------------------------


@pytest.mark.parametrize("level", ["nominal", "ordinal", "interval", "ratio"])
def test_perfect_agreement_gives_alpha_1(level):
    """Hand calculation: no unit holds two different values, so D_o = 0 and alpha = 1."""
    data = {c: [0, 1, 2, 3, 4, 2.5] for c in ("A", "B", "C")}

    assert krippendorff_alpha(_long(data), level=level).alpha == 1.0


def test_a_unit_with_one_value_is_ignored():
    """A unit only coder A rated adds nothing: alpha, n_units and n_values are unchanged."""
    base = _long(KRIPPENDORFF_C)
    extra = pl.DataFrame({"unit": ["lonely"], "coder": ["A"], "value": [0.0]})

    before = krippendorff_alpha(base, level="interval")
    after = krippendorff_alpha(pl.concat([base, extra]), level="interval")

    assert after == before


def test_alpha_is_nan_without_variation():
    """Every value equal: expected disagreement 0, alpha = 0/0, reported as NaN."""
    data = {"A": [3, 3, 3], "B": [3, 3, 3]}

    result = krippendorff_alpha(_long(data))

    assert math.isnan(result.alpha)
    assert (result.n_units, result.n_values, result.n_coders) == (3, 6, 2)


def test_alpha_is_nan_without_pairable_units():
    """Each unit rated once: nothing to pair, alpha NaN, no pairable units or values."""
    table = pl.DataFrame({"unit": ["a", "b"], "coder": ["A", "B"], "value": [1.0, 2.0]})

    result = krippendorff_alpha(table)

    assert math.isnan(result.alpha)
    assert (result.n_units, result.n_values, result.n_coders) == (0, 0, 0)


def test_ordinal_alpha_depends_on_order_not_on_spacing():
    """Ordinal δ² uses ranks from the marginal frequencies: relabelling 0–4 as 0, 1, 2, 10, 50
    keeps the order, so alpha is unchanged (interval alpha is not)."""
    relabel = {0: 0, 1: 1, 2: 2, 3: 10, 4: 50}
    data = {"A": [0, 1, 2, 3, 4, 1, 3], "B": [0, 2, 2, 3, 4, 1, 4], "C": [1, 1, 2, 4, 3, 0, 3]}
    spaced = {c: [relabel[v] for v in values] for c, values in data.items()}

    plain = krippendorff_alpha(_long(data))
    stretched = krippendorff_alpha(_long(spaced))

    assert stretched.alpha == pytest.approx(plain.alpha, abs=1e-12)
    interval = krippendorff_alpha(_long(data), level="interval").alpha
    assert krippendorff_alpha(_long(spaced), level="interval").alpha != pytest.approx(interval)


def test_alpha_is_invariant_to_labels_and_row_order():
    """Renaming units and coders and shuffling rows changes nothing (Krippendorff 2011, C)."""
    table = _long(KRIPPENDORFF_C)
    rng = random.Random(3)
    units = sorted(set(table.get_column("unit")))
    new_units = dict(zip(units, rng.sample(range(1000), len(units)), strict=True))
    new_coders = {"A": "zed", "B": "alpha", "C": "mid", "D": "0"}
    permuted = table.with_columns(
        pl.col("unit").replace_strict(new_units),
        pl.col("coder").replace_strict(new_coders),
    ).sample(fraction=1.0, shuffle=True, seed=11)

    for level in ("nominal", "ordinal", "interval", "ratio"):
        expected = krippendorff_alpha(table, level=level)
        got = krippendorff_alpha(permuted, level=level)
        assert got.alpha == pytest.approx(expected.alpha, abs=1e-12)
        assert (got.n_units, got.n_values, got.n_coders) == (11, 40, 4)


def test_alpha_refuses_a_coder_rating_a_unit_twice():
    table = pl.concat(
        [_long(KRIPPENDORFF_C), pl.DataFrame({"unit": ["u03"], "coder": ["B"], "value": [1.0]})]
    )

    with pytest.raises(InputError, match="'B' has more than one value for unit 'u03'") as caught:
        krippendorff_alpha(table)
    assert caught.value.column == "coder"
    # B's u03 is the 12th data row (A's 9 present values, then B's u01, u02, u03), so row 13.
    assert caught.value.row == 13


def test_alpha_refuses_text_values_and_unknown_levels():
    text = pl.DataFrame({"unit": ["a", "a"], "coder": ["A", "B"], "value": ["1", "2"]})
    with pytest.raises(InputError, match="values must be numbers") as caught:
        krippendorff_alpha(text)
    assert caught.value.column == "value"

    with pytest.raises(ValueError, match="level must be one of"):
        krippendorff_alpha(_long(KRIPPENDORFF_C), level="circular")  # type: ignore[arg-type]


def test_ratio_alpha_refuses_negative_values():
    table = pl.DataFrame({"unit": ["a", "a"], "coder": ["A", "B"], "value": [-1.0, 2.0]})

    with pytest.raises(InputError, match="cannot be negative") as caught:
        krippendorff_alpha(table, level="ratio")
    assert (caught.value.row, caught.value.column) == (2, "value")


# --- ICC: published values -------------------------------------------------------------------


def test_icc_mean_squares_reproduce_shrout_fleiss_table_2():
    """Shrout & Fleiss (1979), Table 2 ANOVA: BMS 11.24, JMS 32.49, EMS 1.02, WMS 6.26."""
    import numpy as np

    bms, jms, ems, wms = _mean_squares(np.array(SHROUT_FLEISS, dtype=float))

    assert (round(bms, 2), round(jms, 2), round(ems, 2), round(wms, 2)) == (11.24, 32.49, 1.02, 6.26)


def test_icc_reproduces_shrout_fleiss_1979():
    """Shrout & Fleiss (1979), the six estimates they report for their Table 2 data:
    ICC(1,1) .17, ICC(2,1) .29, ICC(3,1) .71, ICC(1,4) .44, ICC(2,4) .62, ICC(3,4) .91."""
    result = icc(_ratings(SHROUT_FLEISS))

    assert result.get_column("type").to_list() == ["ICC1", "ICC2", "ICC3", "ICC1k", "ICC2k", "ICC3k"]
    published = {"ICC1": 0.17, "ICC2": 0.29, "ICC3": 0.71, "ICC1k": 0.44, "ICC2k": 0.62, "ICC3k": 0.91}
    for kind, value in published.items():
        assert round(_icc_row(result, kind)["icc"], 2) == value, kind


def test_icc_f_tests_and_intervals_match_psych():
    """psych::ICC on the Shrout & Fleiss data, as printed in D. Wollschläger's R examples
    (github.com/dwoll/RExRepos, md/interRaterICC.md): F 1.8 on (5, 18) df, p 0.16477 for
    ICC1/ICC1k; F 11.0 on (5, 15) df, p 0.00013 for the others; 95% bounds ICC1 [-0.133,
    0.72], ICC2 [0.019, 0.76], ICC3 [0.342, 0.95], ICC1k [-0.884, 0.91], ICC2k [0.071, 0.93],
    ICC3k [0.676, 0.99]."""
    result = icc(_ratings(SHROUT_FLEISS), confidence=0.95)

    printed = {
        "ICC1": (1.8, 5, 18, -0.133, 0.72),
        "ICC2": (11.0, 5, 15, 0.019, 0.76),
        "ICC3": (11.0, 5, 15, 0.342, 0.95),
        "ICC1k": (1.8, 5, 18, -0.884, 0.91),
        "ICC2k": (11.0, 5, 15, 0.071, 0.93),
        "ICC3k": (11.0, 5, 15, 0.676, 0.99),
    }
    for kind, (f, df1, df2, low, high) in printed.items():
        row = _icc_row(result, kind)
        assert round(row["f"], 1) == f, kind
        assert (row["df1"], row["df2"]) == (df1, df2), kind
        assert round(row["ci_low"], 3) == low, kind
        assert round(row["ci_high"], 2) == high, kind
    assert round(_icc_row(result, "ICC1")["p_value"], 5) == 0.16477
    assert round(_icc_row(result, "ICC3")["p_value"], 5) == 0.00013


def test_icc_matches_desctools_to_three_decimals():
    """DescTools::ICC on the Shrout & Fleiss data, as printed in the same RExRepos article
    (md/interRaterICC.md): ICC 0.166, 0.290, 0.715, 0.443, 0.620, 0.909; F 1.79 and 11.03;
    p 0.164769 and 0.000135."""
    result = icc(_ratings(SHROUT_FLEISS))

    printed = {
        "ICC1": (0.166, 1.79, 0.164769),
        "ICC2": (0.290, 11.03, 0.000135),
        "ICC3": (0.715, 11.03, 0.000135),
        "ICC1k": (0.443, 1.79, 0.164769),
        "ICC2k": (0.620, 11.03, 0.000135),
        "ICC3k": (0.909, 11.03, 0.000135),
    }
    for kind, (value, f, p) in printed.items():
        row = _icc_row(result, kind)
        assert (round(row["icc"], 3), round(row["f"], 2), round(row["p_value"], 6)) == (value, f, p), kind


def test_wider_confidence_gives_wider_intervals():
    narrow = icc(_ratings(SHROUT_FLEISS), confidence=0.90)
    wide = icc(_ratings(SHROUT_FLEISS), confidence=0.99)

    assert (wide["ci_low"] < narrow["ci_low"]).all()
    assert (wide["ci_high"] > narrow["ci_high"]).all()


def test_icc_is_1_when_raters_agree_exactly():
    """Hand calculation: identical raters leave no residual or rater variance, so every ICC is
    (BMS − 0) / BMS = 1 and F = BMS / 0 is infinite."""
    result = icc(_ratings([[1, 1, 1], [2, 2, 2], [4, 4, 4]]))

    assert result.get_column("icc").to_list() == [1.0] * 6
    assert result.get_column("f").to_list() == [math.inf] * 6


# --- ICC: input checks -----------------------------------------------------------------------


def test_icc_names_the_missing_target_and_rater():
    table = _ratings(SHROUT_FLEISS).filter(~((pl.col("target") == "t4") & (pl.col("rater") == "judge3")))

    with pytest.raises(InputError, match="rater 'judge3' did not rate target 't4'") as caught:
        icc(table)
    assert caught.value.column == "rater"


def test_icc_names_a_row_with_an_empty_value():
    table = _ratings(SHROUT_FLEISS).with_columns(
        pl.when((pl.col("target") == "t2") & (pl.col("rater") == "judge1"))
        .then(None)
        .otherwise(pl.col("value"))
        .alias("value")
    )

    with pytest.raises(InputError, match="rater 'judge1' has no value for target 't2'") as caught:
        icc(table)
    # t2 × judge1 is the 5th data row, so spreadsheet row 6.
    assert (caught.value.row, caught.value.column) == (6, "value")


def test_icc_refuses_a_repeated_rating():
    table = pl.concat([_ratings(SHROUT_FLEISS), _ratings(SHROUT_FLEISS).head(1)])

    with pytest.raises(InputError, match="more than one value"):
        icc(table)


def test_icc_needs_two_targets_and_two_raters():
    with pytest.raises(InputError, match="at least 2 targets and 2 raters"):
        icc(_ratings([[1, 2, 3]]))
    with pytest.raises(InputError, match="at least 2 targets and 2 raters"):
        icc(_ratings([[1], [2], [3]]))


def test_icc_refuses_a_confidence_outside_0_1():
    with pytest.raises(ValueError, match="confidence"):
        icc(_ratings(SHROUT_FLEISS), confidence=95)


# --- per group -------------------------------------------------------------------------------


def _two_panels() -> pl.DataFrame:
    """Panel P1 complete (Shrout & Fleiss Table 2), panel P2 the Krippendorff 2011 data."""
    p1 = _ratings(SHROUT_FLEISS).select(
        pl.lit("P1").alias("panel"),
        pl.col("target").alias("unit"),
        pl.col("rater").alias("assessor"),
        pl.col("value").alias("score"),
    )
    p2 = _long(KRIPPENDORFF_C, drop_missing=False).select(
        pl.lit("P2").alias("panel"),
        "unit",
        pl.col("coder").alias("assessor"),
        pl.col("value").alias("score"),
    )
    return pl.concat([p2, p1]).sample(fraction=1.0, shuffle=True, seed=5)


def test_agreement_by_equals_the_functions_per_group():
    """Each group's row equals krippendorff_alpha and icc on that group alone."""
    table = _two_panels()

    result = agreement_by(table, by=["panel"], unit="unit", coder="assessor", value="score")

    assert result.columns == [
        "panel", "alpha", "n_units", "n_values", "n_coders", "icc2", "icc2k", "complete",
    ]  # fmt: skip
    assert result.get_column("panel").to_list() == ["P1", "P2"]
    for row in result.iter_rows(named=True):
        group = table.filter(pl.col("panel") == row["panel"])
        alpha = krippendorff_alpha(group, unit="unit", coder="assessor", value="score")
        assert row["alpha"] == pytest.approx(alpha.alpha, abs=1e-12)
        assert (row["n_units"], row["n_values"], row["n_coders"]) == (
            alpha.n_units,
            alpha.n_values,
            alpha.n_coders,
        )
    p1, p2 = result.row(0, named=True), result.row(1, named=True)
    expected = icc(_ratings(SHROUT_FLEISS))
    assert p1["complete"] is True
    assert p1["icc2"] == pytest.approx(_icc_row(expected, "ICC2")["icc"], abs=1e-12)
    assert p1["icc2k"] == pytest.approx(_icc_row(expected, "ICC2k")["icc"], abs=1e-12)
    assert round(p2["alpha"], 3) == 0.815  # Krippendorff (2011), section C, ordinal
    assert (p2["complete"], p2["icc2"], p2["icc2k"]) == (False, None, None)


def test_agreement_by_keeps_units_of_different_groups_apart():
    """The same unit label in two components is two units: grouping by both columns gives
    each component its own alpha, equal to the function on that component alone."""
    rows = []
    for component, shift in (("baseline", 0), ("output", 1)):
        for unit, values in enumerate([[0, 0, 1], [2, 2, 2], [3, 4, 4], [1, 1, 1]]):
            for k, v in enumerate(values):
                rows.append(
                    {"panel": "P", "component": component, "unit": f"u{unit}", "coder": f"A{k}",
                     "value": float(v if unit % 2 else min(4, v + shift))}
                )  # fmt: skip
    table = pl.DataFrame(rows)

    result = agreement_by(table, by=["panel", "component"], unit="unit", coder="coder", value="value")

    assert result.get_column("component").to_list() == ["baseline", "output"]
    for row in result.iter_rows(named=True):
        alone = krippendorff_alpha(table.filter(pl.col("component") == row["component"]))
        assert row["alpha"] == pytest.approx(alone.alpha, abs=1e-12)
        assert row["n_units"] == 4
        assert row["complete"] is True


def test_agreement_by_refuses_a_repeated_score_within_a_group():
    table = _two_panels()
    repeated = pl.concat([table, table.filter(pl.col("panel") == "P1").head(1)])

    with pytest.raises(InputError, match="more than one value") as caught:
        agreement_by(repeated, by=["panel"], unit="unit", coder="assessor", value="score")
    assert caught.value.column == "assessor"


def test_agreement_by_names_a_missing_column():
    with pytest.raises(InputError, match="no column 'component'"):
        agreement_by(_two_panels(), by=["component"], unit="unit", coder="assessor", value="score")


def test_agreement_by_leaves_the_icc_blank_for_a_single_assessor():
    table = pl.DataFrame(
        {"g": ["x"] * 3, "unit": ["a", "b", "c"], "coder": ["A"] * 3, "value": [1.0, 2.0, 3.0]}
    )

    row = agreement_by(table, by=["g"], unit="unit", coder="coder", value="value").row(0, named=True)

    assert math.isnan(row["alpha"])
    assert (row["n_units"], row["complete"], row["icc2"]) == (0, True, None)
