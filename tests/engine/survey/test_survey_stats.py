"""Statement statistics and Cronbach's alpha against hand calculations and independent code.

Sources of the expected numbers:
- means and distributions: by hand, in each test;
- bootstrap intervals: an independent row-resampling bootstrap written here (numpy
  ``Generator.choice`` over the respondents' rows), compared within Monte Carlo error using the
  Dvoretzky–Kiefer–Wolfowitz bound on the empirical distribution function;
- Cronbach's alpha: a hand calculation, the covariance-matrix formula computed with numpy,
  and the StatsBase.jl documentation example (covariance matrix [[10,6,6,6],[6,11,6,6],
  [6,6,12,6],[6,6,6,13]] → 0.8136);
- Feldt's interval: Chris Evans' worked example on the MRC Cognition and Brain Sciences Unit
  statistics wiki (α = 0.913, n = 873, k = 20, 95 % → 0.9044024 to 0.9211588).
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cityeval.engine import InputError, load_framework
from cityeval.engine.survey import (
    BOOTSTRAP_METHOD,
    FormSpec,
    cronbach_alpha,
    feldt_interval,
    form_alphas,
    pooled_counts,
    pooled_means,
    statement_stats,
)

ANSWERS = [4, 4, 3, 2, 0, 1, 3, 3, 4, 2, 3, 1]


def tiny() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "form": ["service"] * 4 + ["policy"] * 3,
            "s_service_1": [4, 4, 3, 2, None, None, None],
            "s_service_2": [0, None, 4, 4, None, None, None],
            "s_policy_1": [None, None, None, None, 1, 1, 3],
        },
        schema_overrides={"s_service_1": pl.Int8, "s_service_2": pl.Int8, "s_policy_1": pl.Int8},
    )


def test_n_mean_and_distribution_by_hand():
    """service.1: 4, 4, 3, 2 → n 4, mean 13/4; service.2: 0, 4, 4 → 8/3; policy.1: 1, 1, 3 → 5/3."""
    out = statement_stats(tiny())
    rows = {(r["form"], r["statement"]): r for r in out.to_dicts()}
    assert list(rows) == [("policy", "policy.1"), ("service", "service.1"), ("service", "service.2")]
    s1 = rows[("service", "service.1")]
    assert (s1["n"], s1["mean"]) == (4, 3.25)
    assert [s1[f"count_{k}"] for k in range(5)] == [0, 0, 1, 1, 2]
    assert rows[("service", "service.2")]["mean"] == pytest.approx(8 / 3)
    assert rows[("policy", "policy.1")]["mean"] == pytest.approx(5 / 3)
    assert set(out["method"]) == {BOOTSTRAP_METHOD}
    assert out.columns[:8] == ["form", "statement", "n", "n_effective", "mean", "ci_low", "ci_high", "method"]


def test_statements_may_be_named_by_code_and_grouping_dropped():
    out = statement_stats(tiny(), statements=["service.2"], by=())
    assert out.select("statement", "n").rows() == [("service.2", 3)]


def test_a_group_of_identical_answers_has_a_zero_width_interval():
    out = statement_stats(
        tiny().filter(pl.col("form") == "policy").with_columns(pl.lit(2, pl.Int8).alias("s_policy_1"))
    )
    row = out.filter(pl.col("statement") == "policy.1").row(0, named=True)
    assert row["ci_low"] == row["ci_high"] == row["mean"] == 2


def random_groups(groups: int = 40, seed: int = 5) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    sizes = rng.integers(5, 80, groups)
    level = rng.uniform(0.3, 3.7, groups)
    answers = np.concatenate(
        [np.clip(np.rint(lv + rng.normal(0, 1.1, n)), 0, 4) for lv, n in zip(level, sizes, strict=True)]
    )
    return pl.DataFrame(
        {
            "form": np.repeat([f"f{g:02d}" for g in range(groups)], sizes),
            "s_service_1": answers.astype(np.int8),
        }
    )


@pytest.mark.parametrize("n_boot", [None, 400])
def test_the_interval_contains_the_mean(n_boot):
    out = statement_stats(random_groups(), n_boot=n_boot)
    assert out.height == 40
    assert (out["ci_low"] <= out["mean"]).all() and (out["mean"] <= out["ci_high"]).all()
    assert (out["ci_low"] < out["ci_high"]).all()


def test_the_monte_carlo_bootstrap_is_reproducible_with_its_seed():
    data = random_groups()
    first = statement_stats(data, n_boot=300, seed=11)
    assert first.equals(statement_stats(data, n_boot=300, seed=11))
    assert not first.equals(statement_stats(data, n_boot=300, seed=12))
    assert statement_stats(data).equals(statement_stats(data, seed=99))  # exact: no seed involved


def row_bootstrap_means(answers: np.ndarray, n_boot: int, seed: int) -> np.ndarray:
    """The textbook bootstrap: resample the respondents' rows with replacement, take the mean."""
    rng = np.random.default_rng(seed)
    return rng.choice(answers, size=(n_boot, len(answers)), replace=True).mean(axis=1)


@pytest.mark.parametrize("n_boot", [None, 4000])
def test_the_interval_matches_a_row_resampling_bootstrap_within_monte_carlo_error(n_boot):
    """Each bound L of a percentile interval at q satisfies F(L) ≥ q and F(L − 1/n) < q, F the
    bootstrap distribution of the mean (on a grid of step 1/n). With B = 20,000 row resamples,
    the empirical F_B is within ε = 0.015 of F everywhere except with probability
    2·exp(−2Bε²) ≈ 2.5e-4 (Dvoretzky–Kiefer–Wolfowitz); the Monte Carlo interval (B = 4000)
    gets a looser ε = 0.03 for its own error."""
    answers = np.array(ANSWERS)
    n = len(answers)
    table = pl.DataFrame({"s_service_1": answers.astype(np.int8)})
    row = statement_stats(table, by=(), n_boot=n_boot, seed=1).row(0, named=True)
    means = row_bootstrap_means(answers, 20_000, seed=2)
    eps = 0.015 if n_boot is None else 0.03

    def cdf(x: float) -> float:
        return float(np.mean(means <= x + 1e-12))

    for bound, q in ((row["ci_low"], 0.025), (row["ci_high"], 0.975)):
        assert cdf(bound) >= q - eps
        assert cdf(bound - 1 / n) < q + eps
    assert row["mean"] == pytest.approx(answers.mean())


def test_weighted_means_use_the_weights_and_a_smaller_effective_sample():
    """Weights 3, 1, 1, 1 on answers 4, 4, 3, 2: mean (12 + 4 + 3 + 2)/6 = 3.5; Kish
    n_eff = 6² / (9 + 1 + 1 + 1) = 3."""
    table = pl.DataFrame({"s_service_1": [4, 4, 3, 2], "w": [3.0, 1.0, 1.0, 1.0]}).with_columns(
        pl.col("s_service_1").cast(pl.Int8)
    )
    row = statement_stats(table, by=(), weights="w").row(0, named=True)
    assert row["mean"] == pytest.approx(3.5)
    assert row["n_effective"] == pytest.approx(3.0)
    assert (row["n"], row["count_4"]) == (4, 2)
    unweighted = statement_stats(table, by=()).row(0, named=True)
    assert unweighted["mean"] == 3.25


def test_bad_inputs_are_refused():
    with pytest.raises(InputError, match="no column 's_other_1'"):
        statement_stats(tiny(), statements=["other.1"])
    with pytest.raises(InputError, match="no column 'region'"):
        statement_stats(tiny(), by=["region"])
    with pytest.raises(InputError, match="outside 0–4"):
        statement_stats(tiny().with_columns(pl.lit(7, pl.Int8).alias("s_policy_1")))
    with pytest.raises(InputError) as caught:
        statement_stats(tiny().with_columns(pl.lit(-1.0).alias("w")), weights="w")
    assert (caught.value.row, caught.value.column) == (2, "w")


# --- Cronbach's alpha --------------------------------------------------------------------------


def test_alpha_by_hand():
    """a = (1, 2, 3, 4), b = (2, 3, 3, 4), c = (3, 3, 4, 5): item variances 5/3, 2/3, 11/12
    (sum 13/4); totals 6, 8, 10, 13, variance 107/12; α = 3/2 · (1 − 39/107) = 102/107."""
    data = pl.DataFrame({"a": [1, 2, 3, 4], "b": [2, 3, 3, 4], "c": [3, 3, 4, 5]})
    row = cronbach_alpha(data, items=["a", "b", "c"]).row(0, named=True)
    assert row["alpha"] == pytest.approx(102 / 107)
    assert (row["n"], row["k"]) == (4, 3)


def covariance_alpha(x: np.ndarray) -> float:
    """The covariance-matrix form: α = k/(k−1) · (1 − trace(C) / sum(C))."""
    c = np.cov(x, rowvar=False)
    k = x.shape[1]
    return k / (k - 1) * (1 - np.trace(c) / c.sum())


def test_alpha_matches_the_covariance_formula_per_group_on_complete_cases():
    rng = np.random.default_rng(3)
    latent = rng.normal(2, 1, 300)
    x = np.clip(np.rint(latent[:, None] + rng.normal(0, 0.8, (300, 3))), 0, 4)
    data = pl.DataFrame(x.astype(np.int8), schema=["s_service_1", "s_service_2", "s_service_3"]).with_columns(
        pl.Series("form", ["a", "b", "c"] * 100)
    )
    data = data.with_columns(
        pl.when(pl.int_range(pl.len()) % 17 == 0)
        .then(None)
        .otherwise(pl.col("s_service_2"))
        .alias("s_service_2")
    )
    out = cronbach_alpha(data, items=["service.1", "service.2", "service.3"], by=["form"])
    for row in out.to_dicts():
        part = data.filter(pl.col("form") == row["form"]).drop_nulls().drop("form").to_numpy().astype(float)
        assert row["n"] == len(part)
        assert row["alpha"] == pytest.approx(covariance_alpha(part), abs=1e-12)


def test_alpha_of_the_statsbase_covariance_example_is_0_8136():
    """Data built to have exactly the sample covariance of StatsBase.jl's cronbachalpha example."""
    target = np.array([[10, 6, 6, 6], [6, 11, 6, 6], [6, 6, 12, 6], [6, 6, 6, 13]], dtype=float)
    rng = np.random.default_rng(0)
    z = rng.normal(size=(50, 4))
    z -= z.mean(axis=0)
    z = z @ np.linalg.inv(np.linalg.cholesky(np.cov(z, rowvar=False))).T  # sample covariance = I
    x = z @ np.linalg.cholesky(target).T
    data = pl.DataFrame(x, schema=["i1", "i2", "i3", "i4"])
    alpha = cronbach_alpha(data, items=["i1", "i2", "i3", "i4"])["alpha"][0]
    assert alpha == pytest.approx(0.8136, abs=5e-5)
    assert alpha == pytest.approx(4 / 3 * (1 - 46 / 118))


def test_feldt_interval_matches_evans_worked_example():
    low, high = feldt_interval(0.913, n=873, k=20, confidence=0.95)
    assert low == pytest.approx(0.9044024, abs=5e-8)
    assert high == pytest.approx(0.9211588, abs=5e-8)


def test_cronbach_alpha_reports_feldts_interval():
    data = pl.DataFrame({"a": [1, 2, 3, 4, 2], "b": [2, 3, 3, 4, 1], "c": [3, 3, 4, 5, 2]})
    row = cronbach_alpha(data, items=["a", "b", "c"], confidence=0.9).row(0, named=True)
    assert (row["ci_low"], row["ci_high"]) == pytest.approx(
        feldt_interval(row["alpha"], n=5, k=3, confidence=0.9)
    )
    assert row["ci_low"] < row["alpha"] < row["ci_high"]


def test_alpha_is_null_without_two_complete_cases():
    data = pl.DataFrame({"a": [1, None], "b": [2, 3]})
    row = cronbach_alpha(data, items=["a", "b"]).row(0, named=True)
    assert row["n"] == 1 and row["alpha"] is None and row["ci_low"] is None


def test_a_group_whose_weights_are_all_zero_has_no_estimate():
    import polars as pl

    from cityeval.engine.survey import statement_stats

    table = pl.DataFrame(
        {"form": ["a", "a"], "s_service_1": pl.Series([2, 4], dtype=pl.Int8), "weight": [0.0, 0.0]}
    )
    row = statement_stats(table, weights="weight").row(0, named=True)
    assert (row["mean"], row["ci_low"], row["ci_high"]) == (None, None, None)


# --- the numbers shown to assessors, from the same rules ---------------------------------------


def test_pooled_means_by_hand_and_as_statement_stats_without_groups():
    """By hand on ``tiny()``: service.1 4, 4, 3, 2 → 13/4; service.2 0, 4, 4 → 8/3; policy.1
    1, 1, 3 → 5/3. ``statement_stats`` over one group gives the same means; a statement never
    asked (no column) or never answered has no entry."""
    table = tiny().with_columns(pl.lit(None, dtype=pl.Int8).alias("s_policy_2"))
    codes = ["service.1", "service.2", "policy.1", "policy.2", "policy.3"]
    means = pooled_means(table, statements=codes)
    assert means == pytest.approx({"service.1": 13 / 4, "service.2": 8 / 3, "policy.1": 5 / 3})
    pooled = statement_stats(tiny(), by=())
    assert dict(zip(pooled["statement"], pooled["mean"], strict=True)) == pytest.approx(means)


def test_pooled_means_pool_the_forms_and_leave_rejected_reviews_out():
    """By hand: 4, 4, 3 in one form and 2 in another → 13/4 (the form does not matter); a row a
    reviewer rejected is not counted, as in ``statement_stats``."""
    table = pl.DataFrame(
        {"form": ["a", "a", "a", "b", "b"], "s_service_1": [4, 4, 3, 2, 0]},
        schema_overrides={"s_service_1": pl.Int8},
    ).with_columns(review_state=pl.Series(["", "", "", None, "rejected"]))
    assert pooled_means(table, statements=["service.1"]) == {"service.1": 13 / 4}
    assert statement_stats(table, by=())["mean"].to_list() == [13 / 4]


def test_pooled_counts_by_region_pool_the_forms_by_hand():
    """By hand: region x answers service.1 4, 4, 3 in form a and 2 in form b (a rejected 0 left
    out) → n 4, counts 0, 0, 1, 1, 2; region y answers it 1 → n 1, count_1 1. service.2, asked
    of y only (x left it blank), has one row; a statement without a column has none."""
    table = pl.DataFrame(
        {
            "region": ["x", "x", "x", "x", "x", "y"],
            "form": ["a", "a", "a", "b", "b", "a"],
            "s_service_1": [4, 4, 3, 2, 0, 1],
            "s_service_2": [None, None, None, None, None, 3],
        },
        schema_overrides={"s_service_1": pl.Int8, "s_service_2": pl.Int8},
    ).with_columns(review_state=pl.Series(["", "", "", None, "rejected", None]))
    counts = pooled_counts(table, statements=["service.1", "service.2", "policy.1"], by=("region",))
    assert counts.rows() == [
        ("x", "service.1", 4, 0, 0, 1, 1, 2),
        ("y", "service.1", 1, 0, 1, 0, 0, 0),
        ("y", "service.2", 1, 0, 0, 0, 1, 0),
    ]
    assert counts.columns == ["region", "statement", "n", *[f"count_{k}" for k in range(5)]]
    assert pooled_counts(table, statements=["policy.1"], by=("region",)).height == 0


def _spec(code, statements):
    return FormSpec(
        code=code, dimension="governance", subdimension=None, statements=statements, mode="combined"
    )


def test_form_alphas_walk_the_subdimensions_each_form_asks():
    """The hand-worked example of ``cronbach_alpha`` (a = 1, 2, 3, 4; b = 2, 3, 3, 4;
    c = 3, 3, 4, 5 → α = 102/107) as the three service statements of a form: one row for
    (form, service) with that alpha. The policy sub-dimension has one statement in the form
    (no alpha); a second form with one response has none either."""
    framework = load_framework("gmsc-2024")
    table = pl.DataFrame(
        {
            "form": ["governance"] * 4 + ["other"],
            "s_service_1": [1, 2, 3, 4, 1],
            "s_service_2": [2, 3, 3, 4, 1],
            "s_service_3": [3, 3, 4, 5, 1],
            "s_policy_1": [0, 1, 2, 3, 1],
        }
    )
    forms = [
        _spec("governance", ("service.1", "service.2", "service.3", "policy.1")),
        _spec("other", ("service.1", "service.2", "service.3")),
    ]
    alphas = form_alphas(table, forms=forms, framework=framework)
    assert alphas.select("form", "subdimension", "n", "k").rows() == [("governance", "service", 4, 3)]
    assert alphas["alpha"][0] == pytest.approx(102 / 107)
    direct = cronbach_alpha(table.head(4), items=["service.1", "service.2", "service.3"])
    assert (
        alphas.select("alpha", "ci_low", "ci_high").rows()
        == direct.select("alpha", "ci_low", "ci_high").rows()
    )


def test_form_alphas_of_no_form_is_an_empty_table_with_its_columns():
    alphas = form_alphas(tiny(), forms=[], framework=load_framework("gmsc-2024"))
    assert alphas.columns == ["form", "subdimension", "alpha", "n", "k", "ci_low", "ci_high"]
    assert alphas.height == 0
