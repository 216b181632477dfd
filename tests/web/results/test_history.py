"""Importing a past cycle's published results (component level), all or nothing."""

from __future__ import annotations

import io
import tempfile

import polars as pl
import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.engine import read_table
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.imports import ImportRejected
from cityeval.web.results.history import history_import
from cityeval.web.results.models import RegionResult, ResultRun
from tests.helpers.results import A_2023, A_2023_FINAL

COMPONENTS = ",".join(A_2023)
HEADER = f"region,group,{COMPONENTS}"


def _table(text: str) -> pl.DataFrame:
    """The table as an upload arrives: read by the engine's reader, every column text."""
    with tempfile.NamedTemporaryFile(suffix=".csv") as handle:
        handle.write(text.encode())
        handle.flush()
        return read_table(handle.name)


def _import(text: str, **options):
    options.setdefault("year", 2023)
    options.setdefault("framework_version", framework_version_builtin("gmsc-2023"))
    return history_import(table=_table(text), user=None, **options)


def test_it_creates_a_published_cycle_with_component_level_results(history_2023, world):
    cycle = history_2023
    assert (cycle.slug, cycle.year, cycle.status) == ("history-2023", 2023, Cycle.Status.PUBLISHED)
    assert cycle.framework.code == "gmsc-2023"
    run = ResultRun.objects.get(cycle=cycle)
    assert run.is_current and run.level == "component" and run.published_at is not None
    assert run.framework_digest == cycle.framework.digest
    a = RegionResult.objects.get(run=run, region=world.region_a)
    b = RegionResult.objects.get(run=run, region=world.region_b)  # matched by slug
    assert a.final == pytest.approx(A_2023_FINAL, abs=1e-12)
    assert a.components == A_2023 | {"kolaborasi": None}
    assert (a.rank_national, b.rank_national, b.rank_province) == (1, 2, 2)
    assert a.coverage is None and a.participation.group == "REGULER"


def test_an_earlier_imported_cycle_gives_the_improvement(world):
    _import(
        f"{HEADER}\nKab. Deli Serdang,REGULER,3,3,3,3,3\n",
        year=2022,
        framework_version=framework_version_builtin("gmsc-2022"),
    )
    later = _import(f"{HEADER}\nKab. Deli Serdang,REGULER,3.44,2.63,3.25,3.12,3.80\n")
    a = RegionResult.objects.get(run__cycle=later)
    assert a.improvement == pytest.approx(A_2023_FINAL - 3.0, abs=1e-12)


def test_unknown_regions_and_repeated_rows_are_row_errors_and_nothing_is_saved(world):
    text = (
        f"{HEADER}\n"
        "Kab. Deli Serdang,REGULER,3.44,2.63,3.25,3.12,3.80\n"
        "Kab. Atlantis,REGULER,3,3,3,3,3\n"
        "kab-deli-serdang,REGULER,3,3,3,3,3\n"
    )
    with pytest.raises(ImportRejected) as caught:
        _import(text)
    assert caught.value.errors == [
        "row 3, column 'region': no region 'Kab. Atlantis' (import the regions first)",
        "row 4, column 'region': 'kab-deli-serdang' appears twice (first at row 2)",
    ]
    assert not Cycle.objects.filter(slug="history-2023").exists() and ResultRun.objects.count() == 0


def test_a_bad_number_is_a_row_error(world):
    with pytest.raises(ImportRejected) as caught:
        _import(
            f"{HEADER}\nKab. Deli Serdang,REGULER,3.44,tiga,3.25,3.12,3.80\nKota Medan,REGULER,2,2,2,2,2\n"
        )
    assert caught.value.errors == ["row 2, column 'output': 'tiga' is not a number"]
    assert Cycle.objects.filter(year=2023).count() == 0


def test_a_score_off_the_scale_is_a_row_error(world):
    with pytest.raises(ImportRejected, match="row 3, column 'impact': 5 is outside the scale 0–4"):
        _import(f"{HEADER}\nKab. Deli Serdang,REGULER,3,3,3,3,3\nKota Medan,REGULER,2,2,2,5,2\n")


def test_a_published_final_must_match_the_components(world):
    """3.23 is Deli Serdang's published 2023 final (3.229 from the rounded components, within
    the tolerance); 3.50 is not what these components give with the REGULER weights."""
    text = (
        f"{HEADER},final\n"
        "Kab. Deli Serdang,REGULER,3.44,2.63,3.25,3.12,3.80,3.23\n"
        "Kota Medan,REGULER,2,2,2,2,2,3.50\n"
    )
    with pytest.raises(ImportRejected) as caught:
        _import(text)
    (error,) = caught.value.errors
    assert error.startswith("row 3, column 'final': the final 3.5 does not match the components (2.000")
    assert _import(text.replace("3.50", "2.00")).slug == "history-2023"


def test_a_default_group_stands_in_for_a_missing_group_column(world):
    with pytest.raises(ImportRejected, match="no column 'group'"):
        _import(f"region,{COMPONENTS}\nKota Medan,2,2,2,2,2\n")
    cycle = _import(f"region,{COMPONENTS}\nKota Medan,2,2,2,2,2\n", default_group="REGULER")
    assert cycle.participations.get().group == "REGULER"


def test_an_existing_cycle_code_is_refused(history_2023):
    with pytest.raises(ImportRejected, match="exists already"):
        _import(f"{HEADER}\nKota Medan,REGULER,2,2,2,2,2\n")


def test_a_year_that_has_a_cycle_is_refused_under_another_code(history_2023):
    """Two cycles of one year would make "the previous year" of improvement ambiguous."""
    before = (Cycle.objects.count(), RegionResult.objects.count())
    with pytest.raises(ImportRejected, match=r"The year 2023 has a cycle already \(history-2023\)"):
        _import(f"{HEADER}\nKota Medan,REGULER,2,2,2,2,2\n", slug="hasil-2023")
    assert (Cycle.objects.count(), RegionResult.objects.count()) == before


def test_a_code_taken_while_importing_is_refused_cleanly_and_nothing_is_kept(world, monkeypatch):
    """The race: another request creates history-2023 after the check and before the write
    (simulated in the step between them); the unique slug refuses it, which was a 500."""
    from cityeval.web.results import history

    real = history.previous_results

    def racing(year, exclude):
        Cycle.objects.create(
            slug="history-2023",
            name="racer",
            year=2023,
            framework=world.cycle.framework,
            self_assessment_deadline=world.cycle.self_assessment_deadline,
        )
        return real(year, exclude=exclude)

    monkeypatch.setattr(history, "previous_results", racing)
    runs = ResultRun.objects.count()
    with pytest.raises(ImportRejected, match="A cycle with the code history-2023 exists already"):
        _import(f"{HEADER}\nKota Medan,REGULER,2,2,2,2,2\n")
    assert Cycle.objects.get(slug="history-2023").name == "racer"
    assert ResultRun.objects.count() == runs


# --- the import page ---------------------------------------------------------------------------


def _xlsx(rows: list[list]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(rows):
        sheet.write_row(r, 0, row)
    book.close()
    return out.getvalue()


def _post(client, data: bytes, name: str, **fields):
    form = {"year": "2023", "framework": "builtin:gmsc-2023", "default_group": "", "slug": "", "name": ""}
    form |= fields
    form["file"] = SimpleUploadedFile(name, data)
    return client.post("/results/history/import/", form)


def test_the_coordinator_imports_an_xlsx_file(world, as_user, coordinator):
    data = _xlsx([["Region", "Group", "Baseline", "Output", "Outcome", "Impact", "Quick Win"],
                  ["Kab. Deli Serdang", "REGULER", 3.44, 2.63, 3.25, 3.12, 3.80]])  # fmt: skip
    response = _post(as_user(coordinator), data, "hasil-2023.xlsx", slug="gmsc-2023-published")
    assert response.status_code == 302 and response["Location"] == "/results/gmsc-2023-published/"
    row = RegionResult.objects.get(run__cycle__slug="gmsc-2023-published")
    assert row.final == pytest.approx(A_2023_FINAL, abs=1e-12)


def test_the_import_page_lists_the_row_errors(world, as_user, coordinator):
    data = f"{HEADER}\nKab. Atlantis,REGULER,3,3,3,3,3\n".encode()
    response = _post(as_user(coordinator), data, "history.csv")
    assert response.status_code == 400
    assert b"no region &#x27;Kab. Atlantis&#x27;" in response.content
    assert Cycle.objects.count() == 1  # the open 2024 cycle only
