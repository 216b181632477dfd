"""Exports: the national table in the component-level format of `cityeval score`, unrounded,
and consolidated item scores; an analyst re-scoring the CSV with the CLI gets the same
finals and ranks (docs/architecture.md: anything the web app shows can be recomputed from an export)."""

from __future__ import annotations

import csv
import io
import json
import random

import polars as pl
import pytest

from cityeval.cli import main as cli
from cityeval.engine import read_table
from cityeval.web.panels.models import ItemScore
from cityeval.web.results.models import RegionResult
from cityeval.web.results.selectors import ITEM_EXPORT_COLUMNS
from cityeval.web.results.services import results_compute
from tests.helpers.results import A_FINAL, CONSOLIDATED_ITEM, CYCLE

NATIONAL_COLUMNS = [
    "region", "group", "baseline", "output", "outcome", "impact", "quick_win",
    "final", "improvement", "rank_national", "province", "rank_province",
    "final_lo", "final_hi", "rank_lo", "rank_hi", "p_top10",
]  # fmt: skip


def _csv(client, url) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8"))))


def test_the_national_csv_has_the_score_columns_and_unrounded_values(published, as_user):
    response = as_user(None).get(f"/results/{CYCLE}/national.csv")
    assert response["Content-Type"].startswith("text/csv")
    assert response["Content-Disposition"] == f'attachment; filename="results-{CYCLE}-national.csv"'
    rows = list(csv.DictReader(io.StringIO(response.content.decode())))
    assert list(rows[0]) == NATIONAL_COLUMNS
    a, b = rows
    stored = RegionResult.objects.get(run=published, region__slug="kab-deli-serdang").final
    assert a["region"] == "Kab. Deli Serdang" and a["final"] == repr(stored)  # unrounded, not 3.57
    assert float(a["final"]) == pytest.approx(A_FINAL, abs=1e-12)
    assert (a["rank_national"], a["province"], a["rank_province"]) == ("1", "Sumatera Utara", "1")
    assert b["region"] == "Kota Medan" and float(b["improvement"]) == pytest.approx(0.1, abs=1e-12)


def test_the_national_xlsx_reads_back_the_same_values(published, as_user, tmp_path):
    response = as_user(None).get(f"/results/{CYCLE}/national.xlsx")
    assert response["Content-Disposition"].endswith('national.xlsx"')
    path = tmp_path / "national.xlsx"
    path.write_bytes(response.content)
    table = read_table(path)
    assert [c for c in table.columns if not c.startswith("__")] == NATIONAL_COLUMNS
    # XLSX numbers carry 16 significant digits (xlsxwriter writes %.16G; Excel shows 15), so a
    # value comes back within one unit of the 16th digit rather than bit for bit as in CSV.
    stored = RegionResult.objects.get(run=published, region__slug="kab-deli-serdang").final
    assert float(table["final"][0]) == pytest.approx(stored, rel=1e-15, abs=0)
    assert table["improvement"].to_list()[1] is not None


def test_the_national_json_names_the_framework_and_parameters(published, as_user, world):
    data = json.loads(as_user(None).get(f"/results/{CYCLE}/national.json").content)
    assert data["framework"] == {"code": "gmsc-2024", "hash": world.cycle.framework.digest}
    assert data["parameters"]["consolidation"] == "mean" and data["level"] == "item"
    assert [r["region"] for r in data["regions"]] == ["Kab. Deli Serdang", "Kota Medan"]
    assert data["regions"][0]["final"] == pytest.approx(A_FINAL, abs=1e-12)


def test_the_item_export_holds_consolidated_scores_not_assessors(published, as_user, panel_assessors):
    response = as_user(None).get(f"/results/{CYCLE}/items.csv")
    text = response.content.decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0]) == list(ITEM_EXPORT_COLUMNS)
    assert len(rows) == 2 * 111
    assert "assessor" not in rows[0] and not any(u.username in text for u in panel_assessors)
    legal = next(r for r in rows if r["region"] == "Kab. Deli Serdang" and r["item"] == CONSOLIDATED_ITEM)
    assert (legal["score"], legal["consolidated"], legal["n_assessors"]) == ("2.0", "true", "5")
    assert float(legal["panel_score"]) == pytest.approx(3.6)
    items = json.loads(as_user(None).get(f"/results/{CYCLE}/items.json").content)["items"]
    assert len(items) == 2 * 111 and set(items[0]) == set(ITEM_EXPORT_COLUMNS)


def test_the_national_csv_rescored_with_the_cli_gives_the_same_finals_and_ranks(
    scored, coordinator, as_user, tmp_path
):
    """Random panel scores (seeded) so that the finals are not round numbers: the CLI's
    component-level scoring of the exported table must give the stored finals within 1e-12
    and the same national and provincial ranks as the stored results and the page."""
    rng = random.Random(11)
    rows = list(ItemScore.objects.all())
    for row in rows:
        row.score = float(rng.randint(0, 4))
    ItemScore.objects.bulk_update(rows, ["score"])
    run = results_compute(cycle=scored.cycle, user=coordinator)

    export = tmp_path / "national.csv"
    export.write_bytes(as_user(coordinator).get(f"/results/{CYCLE}/national.csv").content)
    out = tmp_path / "rescored.csv"
    assert cli(["score", str(export), "--framework", "gmsc-2024", "--format", "csv", "-o", str(out)]) == 0

    rescored = pl.read_csv(out).sort("region")
    stored = {r.region.name: r for r in RegionResult.objects.filter(run=run).select_related("region")}
    assert rescored.height == len(stored) == 2
    for row in rescored.iter_rows(named=True):
        mine = stored[row["region"]]
        assert row["final"] == pytest.approx(mine.final, abs=1e-12, rel=0)
        assert (row["rank_national"], row["rank_province"]) == (mine.rank_national, mine.rank_province)
    page = as_user(coordinator).get(f"/results/{CYCLE}/?sort=final&dir=desc").content.decode()
    best = rescored.sort("final", descending=True)["region"][0]
    assert page.index(best) < page.index(rescored.sort("final")["region"][0])
