"""Raking to population margins (weightipy underneath, checked here independently).

Expected values: the weighted margins must equal the targets (computed here with polars from
the returned weights); the one-variable case has the closed form weight = target share /
sample share, checked by hand.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cityeval.engine import InputError
from cityeval.engine.survey import rake, statement_stats, weighted_margins

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
    with pytest.raises(InputError, match="no respondent has sex = 'x'"):
        rake(sample(), margins=margins)


def test_a_missing_value_is_refused_with_its_row():
    data = sample().with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(None).otherwise("sex").alias("sex")
    )
    with pytest.raises(InputError) as caught:
        rake(data, margins=MARGINS)
    assert (caught.value.row, caught.value.column) == (2, "sex")
