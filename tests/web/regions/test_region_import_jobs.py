"""A regions file larger than ``REGION_IMPORT_SYNC_MAX_KB`` is imported by a background job
(``evaluations.region_imports``), as a large survey export is: checked in the request, stored,
then read and checked with progress and stored in one transaction by the worker (run here
through ``job_run``, as the worker does). The job creates exactly what the page's synchronous
import creates from the same file; run twice, or killed while storing and run again, it creates
nothing twice; a refused file fails the job with the page's own message and stores nothing, and
the job can be retried; the upload and the job's page are the coordinators' only.

The world (tests/web/conftest.py) holds Sumatera Utara with Kab. Deli Serdang and Kota Medan.
"""

from __future__ import annotations

import html

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django_tasks_db.models import DBTaskResult

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations import region_imports
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_run
from cityeval.web.regions import services as region_services
from cityeval.web.regions.models import Province, Region
from tests.helpers.jobs import progress_recorded, run_again_after_a_kill
from tests.helpers.web import make_user

IMPORT_PAGE = "/regions/import/"
# Two new regions (one in a new province) and one already there (Kota Medan, same province).
GOOD = (
    b"province,region,code\nAceh,Kota Banda Aceh,11.71\nSumatera Utara,Kota Medan,12.71\n"
    b"Sumatera Utara,Kab. Karo,12.06\n"
)
# Rows 3 and 4 are refused (row 1 is the header), so nothing is created.
BAD = b"province,region\nAceh,Kota Banda Aceh\n,Kota Sabang\nRiau,Kota Medan\n"
BAD_ERRORS = [
    "row 3, column 'province': the province is empty",
    "row 4, column 'province': 'Kota Medan' is already in Sumatera Utara, not Riau",
]


@pytest.fixture
def by_job(settings):
    """Every file goes through a job (the files here are under 200 bytes)."""
    settings.REGION_IMPORT_SYNC_MAX_KB = 0


def _upload(client, data: bytes, *, name: str = "regions.csv"):
    return client.post(IMPORT_PAGE, {"file": SimpleUploadedFile(name, data, content_type="text/csv")})


def _queued(client, data: bytes, **kw) -> Job:
    response = _upload(client, data, **kw)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    return job


def _regions() -> set[tuple[str, str, str, str, str]]:
    return set(Region.objects.values_list("name", "slug", "kind", "province__name", "code"))


WORLD = {
    ("Kab. Deli Serdang", "kab-deli-serdang", "kabupaten", "Sumatera Utara", ""),
    ("Kota Medan", "kota-medan", "kota", "Sumatera Utara", ""),
}
IMPORTED = WORLD | {
    ("Kota Banda Aceh", "kota-banda-aceh", "kota", "Aceh", "11.71"),
    ("Kab. Karo", "kab-karo", "kabupaten", "Sumatera Utara", "12.06"),
}


def test_a_large_file_is_imported_by_the_job_as_the_page_imports_it(
    by_job, as_user, coordinator, monkeypatch, django_capture_on_commit_callbacks, settings
):
    monkeypatch.setattr(region_services, "ROWS_PER_STEP", 1)
    reports = progress_recorded(monkeypatch)
    client = as_user(coordinator)
    job = _queued(client, GOOD, name="wilayah.csv")
    assert (job.kind, job.created_by, job.status) == ("region_import", coordinator, "queued")
    assert job.params["file"].startswith("imports/regions/") and default_storage.exists(job.params["file"])
    assert _regions() == WORLD  # queued: nothing imported in the request
    waiting = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Queued" in waiting and 'http-equiv="refresh"' in waiting and "wilayah.csv" in waiting
    assert f'href="{IMPORT_PAGE}" id="job-back"' in waiting

    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        job_run(job_id=job.pk)

    job.refresh_from_db()
    # Reading the file, then one step per row checked (3), then one for storing: 4 in all.
    assert (job.status, job.done, job.total, job.percent) == ("done", 4, 4, 100)
    assert reports == [(0, 1), (0, 4), (1, 4), (2, 4), (3, 4)]
    assert job.result_text == "Imported: 2 new regions, 1 already present."
    assert not default_storage.exists(job.params["file"])  # imported: the upload is not kept
    page = html.unescape(client.get(f"/jobs/{job.pk}/").content.decode())
    assert 'href="/regions/" id="job-result-link"' in page and job.result_text in page
    assert _regions() == IMPORTED
    by_the_job = _regions()

    # The same file imported in the request (under the threshold) creates the same rows.
    Region.objects.filter(name__in=["Kota Banda Aceh", "Kab. Karo"]).delete()
    Province.objects.filter(name="Aceh").delete()
    settings.REGION_IMPORT_SYNC_MAX_KB = 1
    response = _upload(client, GOOD)
    assert response.status_code == 302 and response["Location"] == "/regions/"
    assert _regions() == by_the_job and Job.objects.count() == 1


def test_a_small_file_is_still_imported_in_the_request(as_user, coordinator, settings):
    settings.REGION_IMPORT_SYNC_MAX_KB = 1
    assert len(GOOD) < 1024
    client = as_user(coordinator)
    response = _upload(client, GOOD)
    assert response.status_code == 302 and response["Location"] == "/regions/"
    assert not Job.objects.exists() and _regions() == IMPORTED
    page = client.get("/regions/").content.decode()
    assert "Imported: 2 new regions, 1 already present." in page


def test_the_import_page_says_which_files_go_to_a_job(as_user, coordinator, settings):
    settings.REGION_IMPORT_SYNC_MAX_KB = 300
    page = as_user(coordinator).get(IMPORT_PAGE).content.decode()
    assert "A file larger than 300 KB is imported in the background" in page


def test_a_file_over_a_limit_is_refused_in_the_request_and_nothing_is_queued(
    by_job, as_user, coordinator, settings
):
    settings.IMPORT_MAX_COLUMNS = 2  # the file has three
    response = _upload(as_user(coordinator), GOOD)
    assert response.status_code == 400
    assert "The table has 3 columns, over the limit of 2." in html.unescape(response.text)
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()
    assert not default_storage.exists("imports/regions") and _regions() == WORLD


def test_the_same_file_sent_twice_is_one_job_run_twice_it_creates_once(by_job, as_user, coordinator):
    client = as_user(coordinator)
    first = _queued(client, GOOD)
    assert _queued(client, GOOD).pk == first.pk  # sent again before the worker ran it
    assert Job.objects.count() == 1
    job_run(job_id=first.pk)
    job_run(job_id=first.pk)  # a late duplicate of the task changes nothing
    first.refresh_from_db()
    assert (first.status, first.attempts) == ("done", 1) and _regions() == IMPORTED

    again = _queued(client, GOOD)  # imported already: a new job, which creates nothing
    assert again.pk != first.pk
    job_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == "done" and again.result_text == "Imported: 0 new regions, 3 already present."
    assert _regions() == IMPORTED and Province.objects.count() == 2


def test_an_import_killed_while_storing_runs_again_and_creates_each_region_once(
    by_job, as_user, coordinator, monkeypatch
):
    """``kill -9`` of the worker while it stores (seen from the database: the transaction never
    commits) leaves nothing and the job running; recovered as stale, it imports once."""
    job = _queued(as_user(coordinator), GOOD)
    real_store = region_services.regions_store

    def killed(**kwargs):
        real_store(**kwargs)  # the regions are written, then the worker dies before the commit
        raise KeyboardInterrupt

    monkeypatch.setattr(region_imports, "regions_store", killed)
    DBTaskResult.objects.get().claim("killed-worker")
    with pytest.raises(KeyboardInterrupt):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "running" and _regions() == WORLD and not Province.objects.filter(name="Aceh")
    assert default_storage.exists(job.params["file"])  # kept for the run that follows

    monkeypatch.setattr(region_imports, "regions_store", real_store)
    job = run_again_after_a_kill(job)
    assert (job.status, job.attempts, job.done, job.total) == ("done", 2, 4, 4)
    assert _regions() == IMPORTED


def test_a_run_queued_again_while_the_first_was_slow_leaves_one_import(
    by_job, as_user, coordinator, monkeypatch
):
    """The first run is still checking when its job is queued again and a second worker runs
    it to the end; the first run then finds the regions created and stores nothing: the regions
    are there once and the job keeps the second run's outcome."""
    job = _queued(as_user(coordinator), GOOD)
    real_prepare = region_imports.region_import_prepare
    second_run: list[bool] = []

    def slow(job, progress):
        prepared = real_prepare(job, progress)
        if not second_run:
            second_run.append(True)
            job_run(job_id=job.pk)  # the other worker, while this one is slow
        return prepared

    monkeypatch.setattr(region_imports, "region_import_prepare", slow)
    with pytest.raises(region_imports.RegionsChangedMeanwhile):  # the regions exist now
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.result_text) == (
        "done", 2, "Imported: 2 new regions, 1 already present.",
    )  # fmt: skip
    assert _regions() == IMPORTED


def test_regions_another_import_created_meanwhile_fail_the_job_clearly_and_a_retry_counts_them(
    by_job, as_user, coordinator, monkeypatch
):
    """Two coordinators import overlapping files: the second job's rows were checked before the
    first job created the regions. It stores nothing and says why (found by the review of this
    feature: it failed with the database's unique-name error and no message); its retry counts
    them as already present."""
    other = as_user(make_user("coordinator_too", Role.COORDINATOR))
    first, second = _queued(as_user(coordinator), GOOD), _queued(other, GOOD)
    real_prepare = region_imports.region_import_prepare

    def checked_then_overtaken(job, progress):
        prepared = real_prepare(job, progress)
        if job.pk == second.pk:
            job_run(job_id=first.pk)  # the first coordinator's job ends meanwhile
        return prepared

    monkeypatch.setattr(region_imports, "region_import_prepare", checked_then_overtaken)
    with pytest.raises(region_imports.RegionsChangedMeanwhile):
        job_run(job_id=second.pk)
    first.refresh_from_db(), second.refresh_from_db()
    assert first.result_text == "Imported: 2 new regions, 1 already present."
    assert second.status == "failed" and second.error.startswith(
        "Some of these regions were created by another import while this file was being checked."
    )
    assert _regions() == IMPORTED

    assert other.post(f"/jobs/{second.pk}/retry/").status_code == 302
    job_run(job_id=second.pk)
    second.refresh_from_db()
    assert (second.status, second.result_text) == ("done", "Imported: 0 new regions, 3 already present.")
    assert _regions() == IMPORTED


def test_a_clash_only_the_database_sees_is_refused_the_same_way(by_job, as_user, coordinator, monkeypatch):
    """A region created between the job's last look and its write (another server's import, at
    the same moment) reaches the database's unique constraint: the same clear refusal, nothing
    stored."""
    job = _queued(as_user(coordinator), GOOD)
    real_store = region_services.regions_store

    def raced(*, plan):
        name, slug, kind, *_ = plan.to_create[0]
        Region.objects.create(name=name, slug=slug, kind=kind, province=Province.objects.first(), code="")
        return real_store(plan=plan)

    monkeypatch.setattr(region_imports, "regions_store", raced)
    with pytest.raises(region_imports.RegionsChangedMeanwhile):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and _regions() == WORLD


def test_a_refused_file_fails_the_job_with_the_pages_message_and_stores_nothing(
    by_job, as_user, coordinator, settings
):
    client = as_user(coordinator)
    job = _queued(client, BAD)
    with pytest.raises(Exception, match="the province is empty"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "; ".join(BAD_ERRORS)
    assert _regions() == WORLD and not Province.objects.filter(name__in=["Aceh", "Riau"]).exists()
    assert default_storage.exists(job.params["file"])  # kept for a retry
    page = html.unescape(client.get(f"/jobs/{job.pk}/").content.decode())
    assert "This job failed and made nothing." in page and job.error in page
    assert 'id="job-retry"' in page and 'id="job-outcome"' not in page

    # The page's own refusal of the same file, in the request.
    settings.REGION_IMPORT_SYNC_MAX_KB = 1
    response = _upload(client, BAD)
    assert response.status_code == 400 and response.context["errors"] == BAD_ERRORS


def test_a_refused_file_fails_the_job_in_the_askers_language(by_job, as_user, coordinator, settings):
    settings.LANGUAGE_CODE = "id"  # the coordinator reads Indonesian pages
    job = _queued(as_user(coordinator), BAD)
    assert job.params["language"] == "id"
    with pytest.raises(Exception, match="provinsi"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == (
        "baris 3, kolom 'province': provinsinya kosong; "
        "baris 4, kolom 'province': 'Kota Medan' sudah ada di Sumatera Utara, bukan di Riau"
    )
    assert _regions() == WORLD


def test_a_failed_import_can_be_retried(by_job, as_user, coordinator):
    """Kota Medan was filed under the wrong province: the import fails naming it; once the
    region is moved, the retry imports the same stored file."""
    client = as_user(coordinator)
    job = _queued(client, b"province,region\nAceh,Kota Banda Aceh\nRiau,Kota Medan\n")
    with pytest.raises(Exception):  # noqa: B017 - the refusal, re-raised for the queue's record
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == (
        "row 3, column 'province': 'Kota Medan' is already in Sumatera Utara, not Riau"
    )
    Region.objects.filter(name="Kota Medan").update(province=Province.objects.create(name="Riau"))

    assert client.post(f"/jobs/{job.pk}/retry/")["Location"] == f"/jobs/{job.pk}/"
    job.refresh_from_db()
    assert (job.status, job.error) == ("queued", "")
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("done", "", 2)
    assert job.result_text == "Imported: 1 new regions, 1 already present."
    assert Region.objects.get(name="Kota Banda Aceh").province.name == "Aceh"


def test_an_asker_no_longer_coordinator_fails_the_job(by_job, as_user, coordinator):
    job = _queued(as_user(coordinator), GOOD)
    Membership.objects.filter(user=coordinator).update(active=False)
    with pytest.raises(Exception, match="national coordinator"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error == "Only a national coordinator may import regions."
    assert _regions() == WORLD


@pytest.mark.parametrize("who", ["admin_a", "opd_a", "admin_b", "assessor", "nobody"])
def test_outsiders_neither_import_nor_see_nor_retry_an_import_job(by_job, as_user, coordinator, request, who):
    job = _queued(as_user(coordinator), BAD)
    with pytest.raises(Exception):  # noqa: B017
        job_run(job_id=job.pk)
    client = as_user(request.getfixturevalue(who))
    assert client.get(IMPORT_PAGE).status_code == 403
    assert _upload(client, GOOD).status_code == 403
    assert Job.objects.count() == 1 and _regions() == WORLD  # nothing queued, nothing imported
    assert client.get(f"/jobs/{job.pk}/").status_code == 403
    assert client.post(f"/jobs/{job.pk}/retry/").status_code == 403
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 403
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 1


def test_anonymous_visitors_are_sent_to_log_in(by_job, as_user, coordinator):
    job = _queued(as_user(coordinator), GOOD)
    anonymous = Client()
    for response in (
        anonymous.get(IMPORT_PAGE),
        _upload(anonymous, GOOD),
        anonymous.get(f"/jobs/{job.pk}/"),
        anonymous.post(f"/jobs/{job.pk}/retry/"),
    ):
        assert response.status_code == 302 and "/login" in response["Location"]
    assert Job.objects.count() == 1 and _regions() == WORLD
    job.refresh_from_db()
    assert job.status == "queued"


def test_another_coordinator_sees_the_job(by_job, as_user, coordinator):
    job = _queued(as_user(coordinator), GOOD)
    other = make_user("coordinator_too", Role.COORDINATOR)
    assert as_user(other).get(f"/jobs/{job.pk}/").status_code == 200


def test_the_import_page_lists_unfinished_import_jobs(by_job, as_user, coordinator):
    client = as_user(coordinator)
    failed = _queued(client, BAD, name="rusak.csv")
    with pytest.raises(Exception):  # noqa: B017
        job_run(job_id=failed.pk)
    waiting = _queued(client, GOOD, name="wilayah.csv")
    page = client.get(IMPORT_PAGE).content.decode()
    assert f'<a href="/jobs/{failed.pk}/">rusak.csv</a> · Failed' in page
    assert f'<a href="/jobs/{waiting.pk}/">wilayah.csv</a> · Queued' in page
    job_run(job_id=waiting.pk)
    page = client.get(IMPORT_PAGE).content.decode()
    assert f"/jobs/{failed.pk}/" in page and f"/jobs/{waiting.pk}/" not in page  # done: not listed
