"""A region among its peers (cityeval.engine.peers): medians and quartiles checked against a
hand computation and against numpy's default quantile (another implementation), and the
nearest regions with their ties.

The small world (finals; baseline in brackets; "–" a missing score):

    region  group     kind       final  (baseline)
    A       REGULER   kabupaten  1.0    (0.0)
    B       REGULER   kota       2.0    (–)
    C       REGULER   kota       4.0    (2.0)
    D       REGULER   kabupaten  8.0    (4.0)
    E       KPPN_IKN  kabupaten  3.0    (3.0)

By hand, with numpy's default ("linear": the p-quantile of n sorted values sits at
h = (n − 1)·p, between x[⌊h⌋] and x[⌊h⌋+1]):

- REGULER finals 1, 2, 4, 8: Q1 at h = 0.75 → 1 + 0.75 × (2 − 1) = 1.75; median at h = 1.5 →
  2 + 0.5 × (4 − 2) = 3; Q3 at h = 2.25 → 4 + 0.25 × (8 − 4) = 5.
- REGULER baselines 0, 2, 4 (B's is missing, not 0): Q1 at h = 0.5 → 1; median 2; Q3 3.
- kabupaten finals 1, 3, 8: Q1 at h = 0.5 → 2; median 3; Q3 at h = 1.5 → 5.5.
- every final 1, 2, 3, 4, 8: Q1 2, median 3, Q3 4; min 1, max 8.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from cityeval.engine import nearest_by_final, peer_statistics, score_distribution

WORLD = pl.DataFrame(
    {
        "region": ["A", "B", "C", "D", "E"],
        "group": ["REGULER", "REGULER", "REGULER", "REGULER", "KPPN_IKN"],
        "kind": ["kabupaten", "kota", "kota", "kabupaten", "kabupaten"],
        "baseline": [0.0, None, 2.0, 4.0, 3.0],
        "final": [1.0, 2.0, 4.0, 8.0, 3.0],
    }
)


def _row(frame: pl.DataFrame, **where) -> dict:
    rows = frame.filter(*[pl.col(k) == v for k, v in where.items()]).to_dicts()
    assert len(rows) == 1, where
    return rows[0]


def test_quartiles_of_each_peer_set_match_the_hand_computation():
    stats = peer_statistics(WORLD, region="A", scores=["baseline", "final"], peers=["group", "kind"])
    assert stats["peers"].to_list() == ["group", "group", "kind", "kind"]
    final = _row(stats, peers="group", score="final")
    assert final["peer_value"] == "REGULER" and final["value"] == 1.0 and final["n"] == 4
    assert (final["q1"], final["median"], final["q3"]) == pytest.approx((1.75, 3.0, 5.0))
    baseline = _row(stats, peers="group", score="baseline")
    assert baseline["n"] == 3  # B's missing baseline is left out, not counted as 0
    assert (baseline["q1"], baseline["median"], baseline["q3"]) == pytest.approx((1.0, 2.0, 3.0))
    kind = _row(stats, peers="kind", score="final")
    assert kind["peer_value"] == "kabupaten" and kind["n"] == 3
    assert (kind["q1"], kind["median"], kind["q3"]) == pytest.approx((2.0, 3.0, 5.5))


def test_quartiles_are_numpys_default_quantiles():
    """Another implementation: numpy.quantile with its default method, on the same values."""
    stats = score_distribution(WORLD, scores=["final", "baseline"])
    for score in ("final", "baseline"):
        values = WORLD[score].drop_nulls().to_numpy()
        row = _row(stats, score=score)
        expected = np.quantile(values, [0.25, 0.5, 0.75])
        assert [row["q1"], row["median"], row["q3"]] == pytest.approx(expected.tolist())
        assert (row["min"], row["max"]) == (values.min(), values.max())


def test_the_whole_distribution_and_by_group():
    stats = score_distribution(WORLD, scores=["final", "baseline"])
    assert stats["score"].to_list() == ["final", "baseline"]
    final = _row(stats, score="final")
    assert (final["n"], final["min"], final["q1"], final["median"], final["q3"], final["max"]) == (
        5, 1.0, 2.0, 3.0, 4.0, 8.0,
    )  # fmt: skip
    grouped = score_distribution(WORLD, scores=["final"], by="group")
    assert grouped["group"].to_list() == ["KPPN_IKN", "REGULER"]
    single = _row(grouped, group="KPPN_IKN")
    assert single["n"] == 1 and single["q1"] == single["median"] == single["q3"] == 3.0


def test_a_score_nobody_has_has_no_quartiles():
    table = WORLD.with_columns(pl.lit(None, dtype=pl.Float64).alias("kolaborasi"))
    row = _row(score_distribution(table, scores=["kolaborasi"]), score="kolaborasi")
    assert row["n"] == 0 and row["q1"] is None and row["median"] is None and row["q3"] is None


def test_an_unknown_region_is_refused():
    with pytest.raises(KeyError):
        peer_statistics(WORLD, region="Z", scores=["final"], peers=["group"])
    with pytest.raises(KeyError):
        nearest_by_final(WORLD, region="Z")


def test_the_nearest_regions_leave_out_the_region_itself_and_stop_at_five():
    table = pl.DataFrame(
        {
            "region": ["X", "a", "b", "c", "d", "e", "f", "g"],
            "final": [3.0, 3.1, 2.8, 3.3, 1.0, 4.0, 2.5, None],
        }
    )
    nearest = nearest_by_final(table, region="X")
    # distances: a 0.1, b 0.2, c 0.3, f 0.5, e 1.0, d 2.0; g has no final.
    assert nearest["region"].to_list() == ["a", "b", "c", "f", "e"]
    assert nearest["difference"].to_list() == pytest.approx([0.1, -0.2, 0.3, -0.5, 1.0])


def test_ties_go_to_the_higher_final_then_the_name():
    """Equally far: the higher final first; equally far with equal finals: by name. 1.3 − 1.2
    and 1.2 − 1.1 are both 0.1 on paper but not in floating point (0.1000…09 and 0.0999…87,
    so L would come first): compared at 9 decimals they tie, and the higher (U) comes first."""
    table = pl.DataFrame(
        {
            "region": ["X", "Lower", "Upper-b", "Upper-a", "L", "U"],
            "final": [1.2, 0.7, 1.7, 1.7, 1.1, 1.3],
        }
    )
    assert (1.2 - 1.1) < (1.3 - 1.2)  # the floating-point near-tie is real
    nearest = nearest_by_final(table, region="X")
    assert nearest["region"].to_list() == ["U", "L", "Upper-a", "Upper-b", "Lower"]
    # The order does not depend on the input's order.
    shuffled = table.sample(fraction=1.0, shuffle=True, seed=7)
    assert nearest_by_final(shuffled, region="X")["region"].to_list() == nearest["region"].to_list()
