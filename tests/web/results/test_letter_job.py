"""The coordinator's whole-cycle letter with every region's feedback, made by a background job:
queued from the national page, run by the worker (the same loop as ``cityeval worker``, in this
process), progress per region, the download, a failure and its retry, effects once, and who may
see it.

Expected step counts from the fixtures (conftest): two regions in the results (A and B), so the
job has 2 + 1 steps (one per region read, one for the PDF). The feedback text is the fixture's
(tests/helpers/results.py), read back from the PDF with pdftotext.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_recover_stale, job_run
from cityeval.web.jobs.worker import run_worker
from cityeval.web.results.letters import cycle_letter_job
from tests.helpers.results import CYCLE, STRENGTHS
from tests.web.results.helpers import pdf_text

PREPARE = f"/results/{CYCLE}/letter/prepare/"
REFRESH = b'<meta http-equiv="refresh"'


@pytest.fixture(autouse=True)
def _keep_the_test_connection(monkeypatch):
    """The worker closes stale database connections between tasks, as a request does at its
    end; inside a test's transaction that would close the test database (Django's test client
    is spared the same way), so here it does nothing."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def _queue(client) -> Job:
    response = client.post(PREPARE)
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    return job


def test_the_worker_makes_the_letter_and_the_page_follows_it(published, as_user, coordinator):
    client = as_user(coordinator)
    job = _queue(client)
    waiting = client.get(f"/jobs/{job.pk}/")
    assert waiting.status_code == 200 and REFRESH in waiting.content and b"Queued" in waiting.content
    assert DBTaskResult.objects.get().status == "READY"

    run_worker(batch=True)

    job.refresh_from_db()
    assert (job.status, job.done, job.total, job.percent, job.attempts) == ("done", 3, 3, 100, 1)
    assert DBTaskResult.objects.get().status == "SUCCESSFUL"
    page = client.get(f"/jobs/{job.pk}/")
    assert REFRESH not in page.content and f"/jobs/{job.pk}/download/".encode() in page.content
    download = client.get(f"/jobs/{job.pk}/download/")
    assert download["Content-Disposition"] == f'attachment; filename="results-{CYCLE}-feedback.pdf"'
    assert download["Content-Type"] == "application/pdf"
    content = b"".join(download.streaming_content)
    assert STRENGTHS in pdf_text(content) and "Kota Medan" in pdf_text(content)


def test_the_page_shows_done_of_total_and_the_percentage_while_running(published, as_user, coordinator):
    client = as_user(coordinator)
    job = _queue(client)
    Job.objects.filter(pk=job.pk).update(status="running", done=1, total=3, heartbeat_at=timezone.now())
    page = client.get(f"/jobs/{job.pk}/")
    assert b"1 of 3 steps done (33%)." in page.content and REFRESH in page.content


def test_the_letter_builder_reports_each_region_then_the_pdf(published, as_user, coordinator):
    job = _queue(as_user(coordinator))
    steps: list[tuple[int, int]] = []
    content, name = cycle_letter_job(job, lambda done, total: steps.append((done, total)))
    assert steps == [(1, 3), (2, 3), (3, 3)] and name == f"results-{CYCLE}-feedback.pdf"
    assert content.startswith(b"%PDF")


def test_the_same_letter_asked_twice_is_one_job(published, as_user, coordinator):
    client = as_user(coordinator)
    first = _queue(client)
    assert client.post(PREPARE)["Location"] == f"/jobs/{first.pk}/"
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_a_job_whose_worker_died_is_run_again_and_makes_one_file(published, as_user, coordinator):
    """A worker killed half-way leaves the job running with an old heartbeat and its task
    running: recovery fails that task and queues the job again; the next run makes one file."""
    job = _queue(as_user(coordinator))
    task = DBTaskResult.objects.get()
    task.claim("killed-worker")  # as the worker does before it runs the task
    stale = timezone.now() - timedelta(seconds=600)
    Job.objects.filter(pk=job.pk).update(status="running", attempts=1, done=1, total=3, heartbeat_at=stale)

    assert job_recover_stale(stale_after=300) == 1
    assert job_recover_stale(stale_after=300) == 0  # queued once, not once per look
    task.refresh_from_db()
    assert task.status == "FAILED"
    run_worker(batch=True)

    job.refresh_from_db()
    assert (job.status, job.attempts, job.done) == ("done", 2, 3)
    _folders, files = default_storage.listdir(f"jobs/{job.pk}")
    assert files == [f"results-{CYCLE}-feedback.pdf"]  # no temporary file left behind
    job_run(job_id=job.pk)  # a late duplicate of the task changes nothing
    job.refresh_from_db()
    assert job.attempts == 2 and default_storage.listdir(f"jobs/{job.pk}")[1] == files


def test_a_failed_job_says_so_and_can_be_retried(published, as_user, coordinator):
    """The coordinator who asked loses the role before the worker runs: the job fails with
    the refusal's message; once the role is back, the retry button makes the letter."""
    client = as_user(coordinator)
    job = _queue(client)
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).delete()
    run_worker(batch=True)
    job.refresh_from_db()
    assert job.status == "failed" and DBTaskResult.objects.get().status == "FAILED"

    Membership.objects.create(user=coordinator, role=Role.COORDINATOR)
    page = client.get(f"/jobs/{job.pk}/")
    assert b"Only a national coordinator may have this letter made." in page.content
    assert b'id="job-retry"' in page.content and REFRESH not in page.content
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404
    assert client.post(f"/jobs/{job.pk}/retry/")["Location"] == f"/jobs/{job.pk}/"
    again = client.post(f"/jobs/{job.pk}/retry/")  # queued now: nothing to retry (the refusal page)
    assert again.status_code == 403 and b"Only a failed job can be tried again." in again.content
    run_worker(batch=True)
    job.refresh_from_db()
    assert (job.status, job.error, job.attempts) == ("done", "", 2)


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "assessor", None])
def test_outsiders_cannot_queue_see_retry_or_download_a_job(published, as_user, coordinator, persona, name):
    job = _queue(as_user(coordinator))
    run_worker(batch=True)
    client = as_user(persona(name))
    expected = 302 if name is None else 403  # anonymous: the log-in page
    for response in (
        client.post(PREPARE),
        client.get(f"/jobs/{job.pk}/"),
        client.post(f"/jobs/{job.pk}/retry/"),
        client.get(f"/jobs/{job.pk}/download/"),
    ):
        assert response.status_code == expected
        if name is None:
            assert response["Location"].startswith("/accounts/login/")
    assert Job.objects.count() == 1 and DBTaskResult.objects.count() == 1


def test_each_download_of_the_letter_is_audited(published, as_user, coordinator, persona):
    """Asking for the letter is one entry (the prepare view); each download of the file with
    every region's feedback is another, with the job, the cycle and the file named. Refused
    and not-yet-ready downloads record nothing."""
    client = as_user(coordinator)
    job = _queue(client)
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 404  # not made yet
    downloads = AuditEntry.objects.filter(action=Action.ASSESSOR_DATA_DOWNLOAD, target_type="job")
    assert not downloads.exists()
    run_worker(batch=True)
    for name in ("admin_a", "assessor"):
        assert as_user(persona(name)).get(f"/jobs/{job.pk}/download/").status_code == 403
    assert not downloads.exists()

    assert client.get(f"/jobs/{job.pk}/download/").status_code == 200
    assert client.get(f"/jobs/{job.pk}/download/").status_code == 200
    assert downloads.count() == 2
    entry = downloads.first()
    assert (entry.username, entry.target_id, entry.region_id) == ("coordinator", str(job.pk), None)
    assert entry.target_text == job.params["cycle_name"]
    assert entry.details == {
        "what": "cycle letter with feedback",
        "job": job.pk,
        "cycle": CYCLE,
        "file": f"results-{CYCLE}-feedback.pdf",
    }
    assert entry.request_id  # the request's id, to find it in the logs
    asked = AuditEntry.objects.filter(action=Action.ASSESSOR_DATA_DOWNLOAD, target_type="cycle")
    assert asked.count() == 1
