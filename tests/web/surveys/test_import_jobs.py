"""A survey export larger than ``SURVEY_IMPORT_SYNC_MAX_KB`` is imported by a background job
(``surveys.jobs``): checked in the request, stored, then read with progress and stored in one
transaction by the worker (run here through ``job_run``, as the worker does). The job stores
exactly what the page's synchronous import stores from the same file (the fixture exports of
``tests/helpers/web_surveys``: Kobo CSV and XLSX, ODK Central CSV); a run killed half-way, run
again or run twice adds nothing twice; a refused file fails the job with the page's own
message, in the asker's language, and the job can be retried; its page is its asker's (while a
regional admin of the region) and the coordinators', nobody else's.
"""

from __future__ import annotations

import html

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django_tasks_db.models import DBTaskResult

from cityeval.web.accounts.models import Membership
from cityeval.web.evaluations.models import Cycle
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_enqueue, job_run
from cityeval.web.surveys import responses as survey_responses
from cityeval.web.surveys.models import ImportBatch, Response
from cityeval.web.surveys.responses import responses_import
from tests.helpers.jobs import progress_recorded, run_again_after_a_kill
from tests.helpers.web_surveys import (
    KOBO_HEADER,
    KOBO_ROWS,
    csv_bytes,
    kobo_csv,
    odk_csv,
    persona,
    url,
    xlsx_bytes,
)

IMPORT_PAGE = url("import")


@pytest.fixture
def by_job(settings):
    """Every file goes through a job (the fixture files are a few hundred bytes)."""
    settings.SURVEY_IMPORT_SYNC_MAX_KB = 0


def _upload(client, data: bytes, *, name: str = "export.csv", kind: str = "auto"):
    return client.post(IMPORT_PAGE, {"form": "service", "kind": kind, "file": SimpleUploadedFile(name, data)})


def _queued(client, data: bytes, **kw) -> Job:
    response = _upload(client, data, **kw)
    job = Job.objects.latest("pk")
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    return job


def _stored(form) -> set[tuple]:
    """What an import stored, as it is compared: ids, identity hashes and the answers."""
    return {
        (r.response_id, r.identity_hash, tuple(sorted(r.answers.items())), r.used_service, r.age_band,
         r.sex, r.district, r.assisted, r.started_at, r.ended_at)
        for r in Response.objects.filter(form=form)
    }  # fmt: skip


KOBO_IDS = {"6f1c0c1e-0001", "6f1c0c1e-0002", "6f1c0c1e-0003"}


@pytest.mark.parametrize(
    ("data", "name", "kind", "rows"),
    [
        (kobo_csv(), "kobo.csv", "kobo", 3),
        (xlsx_bytes(KOBO_HEADER, KOBO_ROWS), "kobo.xlsx", "auto", 3),
        (odk_csv(), "odk.csv", "odk", 2),
    ],
)
def test_the_job_stores_what_the_synchronous_import_stores(
    by_job,
    as_user,
    admin_a,
    service_form,
    monkeypatch,
    django_capture_on_commit_callbacks,
    data,
    name,
    kind,
    rows,
):
    monkeypatch.setattr(survey_responses, "ROWS_PER_STEP", 1)
    reports = progress_recorded(monkeypatch)
    client = as_user(admin_a)
    job = _queued(client, data, name=name, kind=kind)
    assert (job.kind, job.created_by, job.status) == ("survey_import", admin_a, "queued")
    assert job.params["file"].startswith(f"imports/surveys/{service_form.pk}/")
    assert default_storage.exists(job.params["file"])
    assert not Response.objects.exists()  # queued: nothing imported in the request
    waiting = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "Queued" in waiting and 'http-equiv="refresh"' in waiting and name in waiting

    with django_capture_on_commit_callbacks(execute=True):  # the test's transaction never commits
        job_run(job_id=job.pk)

    job.refresh_from_db()
    # One step per row checked, then one for storing them: rows + 1 in all, every one done.
    assert (job.status, job.done, job.total, job.percent) == ("done", rows + 1, rows + 1, 100)
    assert reports == [(0, 1), (0, rows + 1), *[(n, rows + 1) for n in range(1, rows + 1)]]
    assert job.result_text == f"{name} imported: {rows} responses added, 0 already there and skipped."
    assert not default_storage.exists(job.params["file"])  # imported: the upload is not kept
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f'href="{IMPORT_PAGE}" id="job-result-link"' in page and job.result_text in html.unescape(page)
    by_the_job = _stored(service_form)
    assert len(by_the_job) == rows and any(r[1] for r in by_the_job)  # phones are hashed, as on the page
    batch = ImportBatch.objects.get()
    assert (batch.rows_added, batch.rows_skipped_duplicate, batch.uploaded_by, batch.file_name) == (
        rows, 0, admin_a, name,
    )  # fmt: skip

    Response.objects.all().delete()
    ImportBatch.objects.all().delete()
    direct = responses_import(form=service_form, data=data, file_name=name, kind=kind, user=admin_a)
    assert direct.added == rows and _stored(service_form) == by_the_job


def test_a_small_file_is_still_imported_in_the_request(as_user, admin_a, service_form, settings):
    settings.SURVEY_IMPORT_SYNC_MAX_KB = 1  # the Kobo fixture is under 1 KB
    assert len(kobo_csv()) < 1024
    response = _upload(as_user(admin_a), kobo_csv())
    assert response.status_code == 302 and response["Location"] == IMPORT_PAGE
    assert not Job.objects.exists() and Response.objects.count() == 3


def test_a_file_over_a_limit_is_refused_in_the_request_and_nothing_is_queued(
    by_job, as_user, admin_a, service_form, settings
):
    settings.SURVEY_IMPORT_MAX_COLUMNS = 5  # the Kobo export has more
    response = _upload(as_user(admin_a), kobo_csv())
    assert response.status_code == 400
    assert f"The table has {len(KOBO_HEADER)} columns, over the limit of 5." in html.unescape(response.text)
    assert not Job.objects.exists() and not DBTaskResult.objects.exists()
    assert not default_storage.exists(f"imports/surveys/{service_form.pk}")


def test_the_same_file_sent_twice_is_one_job_then_adds_nothing(by_job, as_user, admin_a, service_form):
    client = as_user(admin_a)
    first = _queued(client, kobo_csv())
    assert _queued(client, kobo_csv()).pk == first.pk  # sent again before the worker ran it
    assert Job.objects.count() == 1
    job_run(job_id=first.pk)
    job_run(job_id=first.pk)  # a late duplicate of the task changes nothing
    assert {r.response_id for r in Response.objects.all()} == KOBO_IDS and Response.objects.count() == 3

    again = _queued(client, kobo_csv())  # imported already: a new job, which adds nothing
    assert again.pk != first.pk
    job_run(job_id=again.pk)
    again.refresh_from_db()
    assert again.status == "done" and Response.objects.count() == 3
    assert again.result_text == (
        "export.csv was imported before: nothing was added (3 responses were already there)."
    )
    assert list(ImportBatch.objects.order_by("pk").values_list("rows_added", "rows_skipped_duplicate")) == [
        (3, 0),
        (0, 3),
    ]


def test_an_import_killed_while_storing_runs_again_and_stores_each_response_once(
    by_job, as_user, admin_a, service_form, monkeypatch
):
    """``kill -9`` of the worker while it stores (seen from the database: the transaction never
    commits) leaves nothing and the job running; recovered as stale, it imports once."""
    job = _queued(as_user(admin_a), kobo_csv())
    real_store = survey_responses.responses_store

    def killed(**kwargs):
        real_store(**kwargs)  # the rows are written, then the worker dies before the commit
        raise KeyboardInterrupt

    monkeypatch.setattr("cityeval.web.surveys.jobs.responses_store", killed)
    DBTaskResult.objects.get().claim("killed-worker")
    with pytest.raises(KeyboardInterrupt):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "running" and not Response.objects.exists() and not ImportBatch.objects.exists()
    assert default_storage.exists(job.params["file"])  # kept for the run that follows

    monkeypatch.setattr("cityeval.web.surveys.jobs.responses_store", real_store)
    job = run_again_after_a_kill(job)
    assert (job.status, job.attempts, job.done, job.total) == ("done", 2, 4, 4)
    assert {r.response_id for r in Response.objects.all()} == KOBO_IDS and Response.objects.count() == 3
    assert ImportBatch.objects.count() == 1


def _answer_5() -> bytes:
    rows = [list(r) for r in KOBO_ROWS]
    rows[1][KOBO_HEADER.index("penilaian/s_service_3")] = "5"
    return csv_bytes(KOBO_HEADER, rows, ";")


def test_a_refused_file_fails_the_job_with_the_pages_message_in_indonesian(
    by_job, as_user, admin_a, service_form, settings
):
    settings.LANGUAGE_CODE = "id"  # the admin reads Indonesian pages
    client = as_user(admin_a)
    job = _queued(client, _answer_5())
    assert job.params["language"] == "id"
    with pytest.raises(Exception, match="bukan jawaban"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    # The sentence of the page's synchronous refusal (test_import_errors_in_indonesian).
    assert job.status == "failed"
    assert job.error == "baris 3, kolom 'penilaian/s_service_3': '5' bukan jawaban 0, 1, 2, 3, atau 4"
    assert not Response.objects.exists() and not ImportBatch.objects.exists()
    page = html.unescape(client.get(f"/jobs/{job.pk}/").content.decode())
    assert job.error in page and 'id="job-retry"' in page and 'id="job-outcome"' not in page


def test_a_failed_import_can_be_retried(by_job, as_user, admin_a, service_form, world):
    """The cycle is closed before the worker runs the import: it fails with the cycle's reason
    and stores nothing; reopened, the retry imports."""
    client = as_user(admin_a)
    job = _queued(client, kobo_csv())
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    with pytest.raises(Exception):  # noqa: B017 - the refusal, re-raised for the queue's record
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and job.error and not Response.objects.exists()
    assert default_storage.exists(job.params["file"])  # kept for the retry

    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.OPEN)
    assert client.post(f"/jobs/{job.pk}/retry/")["Location"] == f"/jobs/{job.pk}/"
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("done", "", 2)
    assert Response.objects.count() == 3


def test_an_asker_no_longer_admin_of_the_region_fails_the_job(by_job, as_user, admin_a, service_form):
    job = _queued(as_user(admin_a), kobo_csv())
    Membership.objects.filter(user=admin_a).update(active=False)
    with pytest.raises(Exception, match="regional admin"):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "failed" and "regional admin" in job.error and not Response.objects.exists()


@pytest.mark.parametrize("who", ["admin_b", "opd_a", "opd_a2", "opd_b", "assessor", "nobody"])
def test_outsiders_neither_see_nor_retry_an_import_job(by_job, as_user, admin_a, service_form, request, who):
    job = _queued(as_user(admin_a), _answer_5())
    with pytest.raises(Exception):  # noqa: B017
        job_run(job_id=job.pk)
    client = as_user(persona(request, who))
    assert client.get(f"/jobs/{job.pk}/").status_code == 403
    assert client.post(f"/jobs/{job.pk}/retry/").status_code == 403
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 403
    assert client.get(f"/jobs/{job.pk + 1000}/").status_code == 403  # no job: the same answer
    job.refresh_from_db()
    assert job.status == "failed" and job.attempts == 1


def test_anonymous_visitors_are_sent_to_log_in(by_job, as_user, admin_a, service_form):
    job = _queued(as_user(admin_a), kobo_csv())
    response = as_user(None).get(f"/jobs/{job.pk}/")
    assert response.status_code == 302 and "/login" in response["Location"]


def test_the_job_is_its_askers_and_the_coordinators_only(by_job, as_user, admin_a, coordinator, service_form):
    job = _queued(as_user(admin_a), kobo_csv())
    assert as_user(admin_a).get(f"/jobs/{job.pk}/").status_code == 200
    assert as_user(coordinator).get(f"/jobs/{job.pk}/").status_code == 200
    # Another admin of the same region did not ask for it.
    other = Membership.objects.get(user=admin_a)
    other.pk, other.user = None, type(admin_a).objects.create_user("admin_a_too")
    other.save()
    assert as_user(other.user).get(f"/jobs/{job.pk}/").status_code == 403
    # The asker, no longer an admin of the region, no longer sees it.
    Membership.objects.filter(user=admin_a).update(active=False)
    assert as_user(admin_a).get(f"/jobs/{job.pk}/").status_code == 403


def test_a_regional_admin_sees_no_national_job(as_user, admin_a, coordinator, world):
    job = job_enqueue(user=admin_a, kind="cycle_letter", key="letter", params={"region": world.region_a.pk})
    assert as_user(admin_a).get(f"/jobs/{job.pk}/").status_code == 403
    assert as_user(coordinator).get(f"/jobs/{job.pk}/").status_code == 200


def test_the_import_page_lists_unfinished_import_jobs_for_who_may_open_them(
    by_job, as_user, admin_a, coordinator, service_form
):
    failed = _queued(as_user(admin_a), _answer_5(), name="rusak.csv")
    with pytest.raises(Exception):  # noqa: B017
        job_run(job_id=failed.pk)
    waiting = _queued(as_user(admin_a), kobo_csv(), name="kobo.csv")
    link = f'<a href="/jobs/{failed.pk}/">rusak.csv</a>'
    for who in (admin_a, coordinator):
        page = as_user(who).get(IMPORT_PAGE).content.decode()
        assert link in page and f'<a href="/jobs/{waiting.pk}/">kobo.csv</a>' in page
    job_run(job_id=waiting.pk)
    page = as_user(admin_a).get(IMPORT_PAGE).content.decode()
    assert link in page and f"/jobs/{waiting.pk}/" not in page  # done: it is among the imports
    other = as_user(coordinator).get(url("import", region="kota-medan")).content.decode()
    assert f"/jobs/{failed.pk}/" not in other  # another region's page


def test_sending_a_failed_file_again_leaves_no_stray_copy(settings, as_user, admin_a, service_form, world):
    settings.SURVEY_IMPORT_SYNC_MAX_KB = 0
    client = as_user(admin_a)
    _upload(client, kobo_csv())
    job = Job.objects.get()
    first_file = job.params["file"]
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    with pytest.raises(Exception):  # noqa: B017
        job_run(job_id=job.pk)
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.OPEN)
    _upload(client, kobo_csv())  # asked again from the page: the same job, queued again
    job.refresh_from_db()
    assert Job.objects.count() == 1 and job.params["file"] != first_file
    job_run(job_id=job.pk)
    assert Response.objects.count() == 3
    # the first copy of the respondents' data is deleted, not left behind
    assert not default_storage.exists(first_file)
