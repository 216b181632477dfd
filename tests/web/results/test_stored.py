"""The stored form of a scoring run: the region, component and dimension tables that
``regions_store`` and ``items_store`` write, ``stored_result`` reads back equal to the engine's
result (the independent reference is the ScoreResult ``score_items`` returned, captured as the
results service computed it). Item rows are read by ``selectors.items_table`` in the export
shape, not as a ScoreResult table."""

from __future__ import annotations

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from cityeval.web.results import services
from cityeval.web.results.services import results_compute
from cityeval.web.results.stored import stored_result
from tests.helpers.results import A_FINAL, B_FINAL


@pytest.fixture
def computed_and_result(monkeypatch, scored, history_2023, coordinator):
    captured = []
    real = services.score_items

    def capture(*args, **kwargs):
        captured.append(real(*args, **kwargs))
        return captured[-1]

    monkeypatch.setattr(services, "score_items", capture)
    run = results_compute(cycle=scored.cycle, user=coordinator)
    assert len(captured) == 1
    return run, captured[0]


def _same(loaded: pl.DataFrame, computed: pl.DataFrame, keys: list[str]) -> None:
    assert sorted(loaded.columns) == sorted(computed.columns)
    assert_frame_equal(
        loaded.select(sorted(loaded.columns)).sort(keys),
        computed.select(sorted(computed.columns)).sort(keys),
        check_dtypes=False,
    )


def test_a_stored_run_loads_back_as_the_computed_result(computed_and_result):
    run, computed = computed_and_result
    framework = run.cycle.framework.framework
    loaded = stored_result(run, framework)
    assert (loaded.framework_code, loaded.framework_hash, loaded.level) == (
        computed.framework_code,
        computed.framework_hash,
        computed.level,
    )
    assert dict(computed.parameters).items() <= dict(loaded.parameters).items()
    _same(loaded.regions, computed.regions, ["region"])
    _same(loaded.components, computed.components, ["region", "component"])
    _same(loaded.dimensions, computed.dimensions, ["region", "dimension"])
    finals = dict(loaded.regions.select("region", "final").iter_rows())
    assert sorted(finals.values()) == pytest.approx(sorted([A_FINAL, B_FINAL]))  # conftest, by hand


def test_one_regions_load_keeps_every_region_but_only_its_long_rows(computed_and_result, world):
    run, computed = computed_and_result
    loaded = stored_result(run, run.cycle.framework.framework, region_id=world.region_a.pk)
    _same(loaded.regions, computed.regions, ["region"])
    name = world.region_a.name
    _same(loaded.components, computed.components.filter(pl.col("region") == name), ["region", "component"])
    _same(loaded.dimensions, computed.dimensions.filter(pl.col("region") == name), ["region", "dimension"])
