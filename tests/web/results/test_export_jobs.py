"""The national table and the item scores made by a background job: the coordinator asks on the
national page, the job (run here through ``job_run``, as the worker does) writes the same file
as the download link (XLSX compared cell by cell with openpyxl, CSV as text), with progress, and
only the coordinator may ask for it, see its page or download it.

Expected step counts from the fixtures (conftest): two regions, so the national table's job has
1 + 2 steps (reading the table, then one per row); the item scores have one row per item of the
framework's REGULER group for each of the two regions.
"""

from __future__ import annotations

import io

import pytest
from django_tasks_db.models import DBTaskResult
from openpyxl import load_workbook

from cityeval.engine import InputError
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_run
from cityeval.web.results.jobs import items_export_job, national_export_job
from tests.helpers.results import CYCLE

TABLES = [("national", "xlsx"), ("national", "csv"), ("items", "xlsx"), ("items", "csv")]
OUTSIDERS = ["admin_a", "opd_a", "admin_b", "assessor", "nobody", None]


def _prepare_url(table: str, fmt: str) -> str:
    return f"/results/{CYCLE}/{table}.{fmt}/prepare/"


def _queue(client, table: str, fmt: str) -> Job:
    response = client.post(_prepare_url(table, fmt))
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    return job


def _cells(content: bytes) -> tuple[list[str], list[list[object]]]:
    workbook = load_workbook(io.BytesIO(content), read_only=True)
    return workbook.sheetnames, [
        [list(row) for row in sheet.iter_rows(values_only=True)] for sheet in workbook.worksheets
    ]


def _item_rows(world) -> int:
    framework = world.cycle.framework.framework
    return 2 * len(list(framework.items_for("REGULER")))


@pytest.mark.parametrize(("table", "fmt"), TABLES)
def test_the_job_makes_the_same_file_as_the_download_link(scored, computed, as_user, coordinator, table, fmt):
    rows = 2 if table == "national" else _item_rows(scored)
    client = as_user(coordinator)
    job = _queue(client, table, fmt)
    assert job.kind == f"{table}_export" and job.params["format"] == fmt
    waiting = client.get(f"/jobs/{job.pk}/")
    assert b"Queued" in waiting.content and b'http-equiv="refresh"' in waiting.content

    job_run(job_id=job.pk)

    job.refresh_from_db()
    assert job.status == "done" and job.download_name == f"results-{CYCLE}-{table}.{fmt}"
    page = client.get(f"/jobs/{job.pk}/").content
    assert f"/jobs/{job.pk}/download/".encode() in page and b'http-equiv="refresh"' not in page
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download["Content-Disposition"] == f'attachment; filename="results-{CYCLE}-{table}.{fmt}"'
    made = b"".join(download.streaming_content)
    direct = client.get(f"/results/{CYCLE}/{table}.{fmt}")
    assert direct.status_code == 200
    if fmt == "csv":
        assert made.decode("utf-8") == direct.content.decode("utf-8")
        assert made.count(b"\n") == 1 + rows
    else:
        names, sheets = _cells(made)
        assert (names, sheets) == _cells(direct.content)
        assert len(sheets[0]) == 1 + rows


def test_the_national_job_reports_reading_the_table_then_its_rows(computed, as_user, coordinator):
    job = _queue(as_user(coordinator), "national", "xlsx")
    steps: list[tuple[int, int]] = []
    made, name = national_export_job(job, lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (3, 3)] and name == f"results-{CYCLE}-national.xlsx" and made.startswith(b"PK")
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.done, job.total, job.percent) == (3, 3, 100)


def test_the_item_scores_job_reports_every_row_written(scored, computed, as_user, coordinator):
    rows = _item_rows(scored)
    job = _queue(as_user(coordinator), "items", "csv")
    steps: list[tuple[int, int]] = []
    items_export_job(job, lambda done, total: steps.append((done, total)))
    assert steps[0] == (1, 1 + rows) and steps[-1] == (1 + rows, 1 + rows)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.total == 1 + rows > 1 and job.done == job.total


def test_the_same_file_asked_twice_is_one_job(computed, as_user, coordinator):
    client = as_user(coordinator)
    first = _queue(client, "national", "xlsx")
    assert client.post(_prepare_url("national", "xlsx"))["Location"] == f"/jobs/{first.pk}/"
    other = _queue(client, "national", "csv")
    assert other.pk != first.pk
    assert Job.objects.count() == 2 and DBTaskResult.objects.count() == 2


def test_an_unknown_format_is_not_found(computed, as_user, coordinator):
    assert as_user(coordinator).post(_prepare_url("national", "pdf")).status_code == 404
    assert not Job.objects.exists()


def test_the_prepare_buttons_are_on_the_coordinators_page_only(published, as_user, coordinator, admin_a):
    page = as_user(coordinator).get(f"/results/{CYCLE}/").content.decode()
    for table in ("national", "items"):
        for fmt in ("xlsx", "csv"):
            assert f'formaction="{_prepare_url(table, fmt)}"' in page
    assert 'id="export-prepare"' not in as_user(admin_a).get(f"/results/{CYCLE}/").content.decode()
    assert 'id="export-prepare"' not in as_user(None).get(f"/results/{CYCLE}/").content.decode()


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_cannot_ask_for_see_or_download_an_export_job(
    published, as_user, coordinator, persona, name
):
    """After publication everyone may download the files from the links, but the jobs are the
    coordinator's: asking for one, its page, its retry and its download are refused."""
    job = _queue(as_user(coordinator), "items", "xlsx")
    job_run(job_id=job.pk)
    client = as_user(persona(name))
    expected = 302 if name is None else 403  # anonymous: the log-in page
    for response in (
        client.post(_prepare_url("national", "xlsx")),
        client.post(_prepare_url("items", "csv")),
        client.get(f"/jobs/{job.pk}/"),
        client.post(f"/jobs/{job.pk}/retry/"),
        client.get(f"/jobs/{job.pk}/download/"),
    ):
        assert response.status_code == expected
        if name is None:
            assert response["Location"].startswith("/accounts/login/")
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1
    assert client.get(f"/results/{CYCLE}/items.xlsx").status_code == 200  # the link still works


def test_a_coordinator_who_lost_the_role_gets_a_failed_job_with_the_reason(computed, as_user, coordinator):
    client = as_user(coordinator)
    job = _queue(client, "national", "csv")
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).delete()
    with pytest.raises(Exception, match="national coordinator"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.file_name) == (
        "failed",
        "Only a national coordinator may have this done.",
        "",
    )


def test_an_engine_error_fails_the_job_with_its_translated_message(
    computed, as_user, coordinator, monkeypatch, settings
):
    """An error of the engine while the file is made is said on the job page in the asker's
    language, as ``web.engine_errors`` translates it for the pages."""

    def bad(*args, **kwargs):
        raise InputError("'x' is not a number", row=4, code="not_a_number", params={"value": "x"})

    monkeypatch.setattr("cityeval.web.results.jobs.national_table", bad)
    settings.LANGUAGE_CODE = "id"
    job = _queue(as_user(coordinator), "national", "xlsx")
    settings.LANGUAGE_CODE = "en"
    with pytest.raises(InputError):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error) == ("failed", "baris 4: 'x' bukan angka")
    page = as_user(coordinator).get(f"/jobs/{job.pk}/").content.decode()
    assert "baris 4: &#x27;x&#x27; bukan angka" in page and 'id="job-retry"' in page
