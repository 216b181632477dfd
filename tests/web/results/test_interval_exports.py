"""The intervals of finals and ranks (issue 15) in the national exports (CSV, XLSX, JSON) and the
results API: the stored RegionInterval values, unrounded; empty where a run has none; read under
the same rules as the results (nothing before publication to anyone but the coordinator)."""

from __future__ import annotations

import csv
import io
import json

import fastexcel
import pytest

from cityeval.web.results.exports import region_interval, uncertainty_meta, with_intervals
from cityeval.web.results.intervals import DRAWS, SEED, SOURCES, WEIGHT_RANGE
from cityeval.web.results.models import RegionInterval, RunUncertainty
from cityeval.web.results.selectors import ResultsAccess, national_table
from tests.helpers.results import CYCLE, REGION_A, REGION_B

COLUMNS = ("final_lo", "final_hi", "rank_lo", "rank_hi", "p_top10")
OUTSIDERS = ["admin_a", "admin_b", "nobody", None]
API = f"/api/cycles/{CYCLE}/results"


def _stored(run) -> dict[str, RegionInterval]:
    return {i.region.name: i for i in RegionInterval.objects.filter(run=run).select_related("region")}


def _csv(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def _drop_intervals(run) -> None:
    RegionInterval.objects.filter(run=run).delete()
    RunUncertainty.objects.filter(run=run).delete()


def test_the_csv_row_s_intervals_are_the_stored_values_unrounded(published, as_user):
    stored = _stored(published)
    rows = _csv(as_user(None), f"/results/{CYCLE}/national.csv")
    assert list(rows[0])[-5:] == list(COLUMNS)
    assert len(rows) == len(stored) == 2
    for row in rows:
        mine = stored[row["region"]]
        for column in ("final_lo", "final_hi", "p_top10"):
            assert row[column] == repr(getattr(mine, column)), column  # as Python wrote it: every digit
        assert (row["rank_lo"], row["rank_hi"]) == (str(mine.rank_lo), str(mine.rank_hi))
    # The final lies inside its interval (a check of the columns' order, not of the engine).
    for row in rows:
        assert float(row["final_lo"]) <= float(row["final"]) <= float(row["final_hi"])


def test_the_xlsx_and_json_carry_the_same_values(published, as_user):
    stored = _stored(published)
    client = as_user(None)
    data = json.loads(client.get(f"/results/{CYCLE}/national.json").content)
    for row in data["regions"]:
        mine = stored[row["region"]]
        assert {c: row[c] for c in COLUMNS} == {c: getattr(mine, c) for c in COLUMNS}
    assert data["uncertainty"] == {
        "draws": DRAWS,
        "seed": SEED,
        "sources": list(SOURCES),
        "weight_range": WEIGHT_RANGE,
        "percentiles": [5, 95],
    }
    # Read as numbers (engine.read_table reads cells as text, which fastexcel gives with 9
    # significant digits): the file holds xlsxwriter's 15 to 16 significant digits.
    content = client.get(f"/results/{CYCLE}/national.xlsx").content
    table = fastexcel.read_excel(content).load_sheet(0).to_polars()
    for row in table.iter_rows(named=True):
        mine = stored[row["region"]]
        for column in ("final_lo", "final_hi", "p_top10"):
            assert row[column] == pytest.approx(getattr(mine, column), rel=1e-14, abs=0)
        assert (int(row["rank_lo"]), int(row["rank_hi"])) == (mine.rank_lo, mine.rank_hi)


def test_a_run_without_intervals_gives_empty_cells(published, as_user):
    _drop_intervals(published)
    client = as_user(None)
    for row in _csv(client, f"/results/{CYCLE}/national.csv"):
        assert [row[c] for c in COLUMNS] == [""] * 5 and row["final"] != ""
    data = json.loads(client.get(f"/results/{CYCLE}/national.json").content)
    assert data["uncertainty"] is None
    assert all(row[c] is None for row in data["regions"] for c in COLUMNS)
    assert client.get(f"{API}/regions/{REGION_A}").json()["intervals"] is None
    assert all(row[c] is None for row in client.get(API).json()["regions"] for c in COLUMNS)


def test_an_imported_run_gives_empty_cells(history_2023, as_user):
    rows = _csv(as_user(None), "/results/history-2023/national.csv")
    assert len(rows) == 2 and all(row[c] == "" for row in rows for c in COLUMNS)


def test_the_api_region_report_carries_the_stored_intervals(published, as_user):
    client = as_user(None)
    for slug in (REGION_A, REGION_B):
        mine = RegionInterval.objects.get(run=published, region__slug=slug)
        found = client.get(f"{API}/regions/{slug}").json()["intervals"]
        assert found == {c: getattr(mine, c) for c in COLUMNS}
    stored = _stored(published)
    for row in client.get(API).json()["regions"]:
        assert {c: row[c] for c in COLUMNS} == {c: getattr(stored[row["region"]], c) for c in COLUMNS}


def test_the_coordinator_has_them_before_publication(computed, as_user, coordinator):
    client = as_user(coordinator)
    mine = RegionInterval.objects.get(run=computed, region__slug=REGION_A)
    assert client.get(f"{API}/regions/{REGION_A}").json()["intervals"]["final_lo"] == mine.final_lo
    row = next(
        r for r in _csv(client, f"/results/{CYCLE}/national.csv") if r["region"] == "Kab. Deli Serdang"
    )
    assert row["final_lo"] == repr(mine.final_lo)


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_nothing_before_publication(computed, as_user, persona, name):
    client = as_user(persona(name))
    for url in (
        f"/results/{CYCLE}/national.csv",
        f"/results/{CYCLE}/national.json",
        API,
        f"{API}/regions/{REGION_A}",
    ):
        response = client.get(url)
        assert response.status_code == 404, url
        assert b"final_lo" not in response.content and b"p_top10" not in response.content, url


@pytest.mark.parametrize("name", OUTSIDERS)
def test_everyone_has_them_after_publication(published, as_user, persona, name):
    mine = RegionInterval.objects.get(run=published, region__slug=REGION_A)
    client = as_user(persona(name))
    assert client.get(f"{API}/regions/{REGION_A}").json()["intervals"]["rank_hi"] == mine.rank_hi


def test_the_readers_fail_closed_for_anyone_but_the_coordinator_before_publication(computed):
    outsider = ResultsAccess(cycle=computed.cycle, run=computed, is_coordinator=False)
    table = with_intervals(outsider, national_table(computed, computed.cycle.framework.framework))
    assert table.height == 2 and all(table[c].null_count() == 2 for c in COLUMNS)
    region_id = RegionInterval.objects.get(run=computed, region__slug=REGION_A).region_id
    assert region_interval(outsider, region_id) is None and uncertainty_meta(outsider) is None
    insider = ResultsAccess(cycle=computed.cycle, run=computed, is_coordinator=True)
    assert region_interval(insider, region_id) is not None and uncertainty_meta(insider) is not None
