"""Raking to population margins (cityeval's own IPF loop, checked here independently).

Expected values: the weighted margins must equal the targets (computed here with polars from
the returned weights); the one-variable case has the closed form weight = target share /
sample share, checked by hand.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cityeval.engine import InputError
from cityeval.engine.survey import RakingError, rake, statement_stats, weighted_margins

MARGINS = {
    "sex": {"f": 50.3, "m": 49.7},
    "age_band": {"15-24": 22, "25-34": 24, "35-44": 21, "45-54": 17, "55-64": 16},
}


def sample(n: int = 400, seed: int = 4) -> pl.DataFrame:
    """An app's users: mostly young men, who also rate the app higher."""
    rng = np.random.default_rng(seed)
    sex = rng.choice(["f", "m"], n, p=[0.3, 0.7])
    age = rng.choice(list(MARGINS["age_band"]), n, p=[0.4, 0.3, 0.15, 0.1, 0.05])
    young_man = (sex == "m") & np.isin(age, ["15-24", "25-34"])
    answer = np.clip(np.rint(2.0 + 1.2 * young_man + rng.normal(0, 0.8, n)), 0, 4).astype(np.int8)
    return pl.DataFrame({"sex": sex, "age_band": age, "s_service_1": answer, "form": ["service"] * n})


def test_raked_weights_reproduce_every_margin():
    data = sample()
    weights = rake(data, margins=MARGINS)
    assert weights.name == "weight" and len(weights) == data.height
    assert weights.mean() == pytest.approx(1.0, abs=1e-12)
    assert (weights > 0).all()
    for column, targets in MARGINS.items():
        total = sum(targets.values())
        achieved = data.with_columns(weights).group_by(column).agg(pl.col("weight").sum() / data.height)
        for category, share in achieved.iter_rows():
            assert share == pytest.approx(targets[category] / total, abs=1e-6)


def test_one_margin_gives_the_closed_form_weights():
    """f, m, m, m to 50/50: f weighs 0.5/0.25 = 2, each m 0.5/0.75 = 2/3."""
    weights = rake(pl.DataFrame({"sex": ["f", "m", "m", "m"]}), margins={"sex": {"f": 1, "m": 1}})
    assert weights.to_list() == pytest.approx([2, 2 / 3, 2 / 3, 2 / 3])


def test_weighted_estimates_shown_beside_unweighted_ones_move_as_expected():
    """Young men, over-represented, rate higher: weighting to the population lowers the mean."""
    data = sample()
    weighted = data.with_columns(rake(data, margins=MARGINS))
    both = pl.concat(
        [
            statement_stats(weighted, by=()).with_columns(pl.lit("unweighted").alias("estimate")),
            statement_stats(weighted, by=(), weights="weight").with_columns(
                pl.lit("weighted").alias("estimate")
            ),
        ]
    )
    unweighted_mean, weighted_mean = both["mean"].to_list()
    assert weighted_mean < unweighted_mean
    w, x = weighted["weight"].to_numpy(), weighted["s_service_1"].to_numpy()
    assert weighted_mean == pytest.approx(float((w * x).sum() / w.sum()))
    n_eff = both["n_effective"].to_list()
    assert n_eff[0] == data.height and n_eff[1] < data.height
    margins = weighted_margins(data, weights=weighted["weight"], columns=["sex"])
    assert margins.filter(pl.col("category") == "f")["weighted_share"][0] == pytest.approx(0.503)


def test_the_order_of_respondents_does_not_change_their_weights():
    data = sample()
    order = np.random.default_rng(1).permutation(data.height)
    assert rake(data[order], margins=MARGINS).to_numpy() == pytest.approx(
        rake(data, margins=MARGINS).to_numpy()[order]
    )


def test_a_category_without_a_target_is_refused_with_its_row():
    data = sample().with_columns(
        pl.when(pl.int_range(pl.len()) == 5).then(pl.lit("65+")).otherwise("age_band").alias("age_band")
    )
    with pytest.raises(InputError, match="'65\\+' has no positive share") as caught:
        rake(data, margins=MARGINS)
    assert (caught.value.row, caught.value.column) == (7, "age_band")


def test_a_target_category_without_respondents_is_refused():
    margins = {"sex": {"f": 50, "m": 49, "x": 1}}
    with pytest.raises(RakingError, match="no respondent has sex = 'x', but its target is 1 %"):
        rake(sample(), margins=margins)


def test_a_missing_value_is_refused_with_its_row():
    data = sample().with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("sex").alias("sex")
    )
    with pytest.raises(InputError) as caught:
        rake(data, margins=MARGINS)
    assert (caught.value.row, caught.value.column) == (2, "sex")


def respondents(cells: dict[tuple[str, str], int]) -> pl.DataFrame:
    """One row per respondent from (sex, age_band) cell counts."""
    rows = [(sex, age) for (sex, age), count in cells.items() for _ in range(count)]
    return pl.DataFrame(rows, schema=["sex", "age_band"], orient="row")


def cell_totals(data: pl.DataFrame, weights: pl.Series) -> dict[tuple[str, str], float]:
    """Weighted respondents per cell, scaled so that the weights sum to the sample size."""
    summed = data.with_columns(weights).group_by("sex", "age_band").agg(pl.col("weight").sum())
    return {(s, a): w for s, a, w in summed.iter_rows()}


def test_a_strongly_associated_2x2_problem_converges_to_the_closed_form():
    """Seed 19, 1 / 1, 19 (sex × age), raked to f 50 %, young 80 %. weightipy 0.4.2 stopped
    when a sweep changed the weights by less than 1 % less than the previous one (it never
    received the convergence criterion) and this was refused as "did not converge in 100
    iterations"; plain IPF meets the margins to 1e-8 in under 50 sweeps.

    IPF keeps the seed's odds ratio θ = 361 (Bishop, Fienberg & Holland 1975, §3.5), so the
    fitted f-young total x solves x(N − R − C + x) = θ(R − x)(C − x) with N = 40, R = 20,
    C = 32, i.e. 9x² − 469x + 5776 = 0, x = (469 − √12025) / 18 ≈ 19.963 (by hand; the other
    root exceeds R); the other cells follow from the margins.
    """
    data = respondents({("f", "young"): 19, ("f", "old"): 1, ("m", "young"): 1, ("m", "old"): 19})
    weights = rake(data, margins={"sex": {"f": 50, "m": 50}, "age_band": {"young": 80, "old": 20}})
    x = (469 - 12025**0.5) / 18
    expected = {("f", "young"): x, ("f", "old"): 20 - x, ("m", "young"): 32 - x, ("m", "old"): x - 12}
    assert cell_totals(data, weights) == pytest.approx(expected, rel=1e-7)


def test_a_4x4_table_matches_an_independent_solution_of_the_ipf_model():
    """The seed table and margins of the worked example in Wikipedia's "Iterative proportional
    fitting" article (rows 150, 300, 400, 150; columns 200, 300, 400, 100).

    The IPF solution is the only table a_i · b_j · seed_ij with those margins (Bishop, Fienberg
    & Holland 1975, §3.5); it is found here independently by solving the margin equations for
    log a, log b with scipy's least_squares, not by iterating.
    """
    from scipy.optimize import least_squares

    seed = np.array([[40, 30, 20, 10], [35, 50, 100, 75], [30, 80, 70, 120], [20, 30, 40, 50]], dtype=float)
    rows, cols = np.array([150, 300, 400, 150.0]), np.array([200, 300, 400, 100.0])

    def gaps(params: np.ndarray) -> np.ndarray:
        fitted = np.exp(params[:4])[:, None] * np.exp(params[4:])[None, :] * seed
        return np.concatenate([fitted.sum(axis=1) - rows, fitted.sum(axis=0) - cols])

    solved = least_squares(gaps, np.zeros(8), xtol=1e-15, ftol=1e-15, gtol=1e-15).x
    expected_table = np.exp(solved[:4])[:, None] * np.exp(solved[4:])[None, :] * seed
    data = respondents({(f"r{i}", f"c{j}"): int(seed[i, j]) for i in range(4) for j in range(4)})
    margins = {"sex": {f"r{i}": rows[i] for i in range(4)}, "age_band": {f"c{j}": cols[j] for j in range(4)}}
    totals = cell_totals(data, rake(data, margins=margins))
    scale = 1000 / data.height  # weights have mean 1; the example's table sums to 1000
    for i in range(4):
        for j in range(4):
            assert totals[(f"r{i}", f"c{j}")] * scale == pytest.approx(expected_table[i, j], rel=1e-6)


def test_margins_with_different_totals_are_named():
    data = respondents({("f", "young"): 3, ("f", "old"): 3, ("m", "young"): 3, ("m", "old"): 3})
    margins = {"sex": {"f": 600, "m": 400}, "age_band": {"young": 500, "old": 600}}
    with pytest.raises(
        RakingError, match=r"margins of sex and age_band have different totals \(1000 and 1100\)"
    ):
        rake(data, margins=margins)


def test_an_empty_cell_that_makes_the_margins_unreachable_is_named():
    """Every woman in the sample is young; young people are 30 % of the population but women
    50 %: no weights can give both, whatever the iterations."""
    data = respondents({("f", "young"): 5, ("m", "young"): 5, ("m", "old"): 5})
    margins = {"sex": {"f": 50, "m": 50}, "age_band": {"young": 30, "old": 70}}
    with pytest.raises(RakingError) as caught:
        rake(data, margins=margins)
    message = str(caught.value)
    assert "no respondent is in age_band 'old' × sex 'f'" in message
    assert "hold 30 % of the population, but sex = 'f' must hold 50 %" in message


def test_margins_still_off_after_max_iter_are_named():
    """The strongly associated 2x2 problem above needs more than 2 sweeps to meet f 50 %,
    young 80 % to 1e-8 (it needs under 50), so 2 sweeps leave a margin off."""
    data = respondents({("f", "young"): 19, ("f", "old"): 1, ("m", "young"): 1, ("m", "old"): 19})
    margins = {"sex": {"f": 50, "m": 50}, "age_band": {"young": 80, "old": 20}}
    with pytest.raises(RakingError, match=r"did not meet the margins in 2 sweeps .*still off: sex"):
        rake(data, margins=margins, max_iter=2)


def test_margins_that_need_a_zero_weight_are_refused_as_a_conflict():
    """Respondents (sex, age) f,y · m,o · m,y · f,y · m,o raked to f 50 %, young 50 %. By hand:
    every woman is young, so women (50 %) need all of the young (50 %), leaving the young man
    weight 0, which IPF never reaches. This passed the check (need = have) and ended in "did not
    converge … weighted 50 %, target 50 %"; it is now the conflict, named."""
    data = pl.DataFrame(
        [("f", "y"), ("m", "o"), ("m", "y"), ("f", "y"), ("m", "o")], schema=["sex", "age_band"], orient="row"
    )
    margins = {"sex": {"f": 50, "m": 50}, "age_band": {"y": 50, "o": 50}}
    with pytest.raises(RakingError) as caught:
        rake(data, margins=margins)
    message = str(caught.value)
    assert "every respondent with sex = 'f' has age_band in 'y', which hold 50 % of the population" in message
    assert "sex 'm' × age_band 'y' would need weight 0" in message


def test_a_near_miss_of_the_zero_weight_conflict_solves():
    """The same respondents with f 40 %: women need 40 % of the young's 50 %, so the young man
    keeps 10 % (by hand: f,y cells 0.2 each, m,y 0.1, m,o 0.25 each of the population)."""
    data = pl.DataFrame(
        [("f", "y"), ("m", "o"), ("m", "y"), ("f", "y"), ("m", "o")], schema=["sex", "age_band"], orient="row"
    )
    weights = rake(data, margins={"sex": {"f": 40, "m": 60}, "age_band": {"y": 50, "o": 50}})
    assert (weights / weights.sum()).to_list() == pytest.approx([0.2, 0.25, 0.1, 0.2, 0.25], rel=1e-7)
