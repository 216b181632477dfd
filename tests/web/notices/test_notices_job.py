"""Sending notices as a background job: ``cityeval worker`` queues a ``notices_send`` job once
per ``JOBS_NOTICES_EVERY_SECONDS`` (``jobs.worker.jobs_schedule``); the job (``panels.jobs``)
mails every notice waiting for its e-mail, once each, even when its worker is killed half-way
and the job runs again; its progress counts one step for the reminders, then each e-mail.

Four people with immediate delivery each have one notice made without mail (as ``send_notices``
makes reminders): four e-mails are due. The cycle's deadline is 30 days ahead: no reminder.
"""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_recover_stale, job_run, job_schedule
from cityeval.web.jobs.worker import run_worker
from cityeval.web.notices import services as notice_services
from cityeval.web.notices.models import Kind, Notice
from cityeval.web.notices.services import notice_send

pytestmark = pytest.mark.django_db
HOUR = 3600
PEOPLE = ["admin_a", "admin_b", "opd_a", "opd_b"]


@pytest.fixture
def waiting(mailed):
    for name in PEOPLE:
        notice_send(
            users=[mailed[name]], kind=Kind.RESULTS_PUBLISHED,
            params={"cycle": "GMSC 2024", "region": "Kab. Deli Serdang"},
            url="/results/", dedupe_key=f"published:{name}", mail=False,
        )  # fmt: skip
    mail.outbox.clear()
    return sorted(f"{name}@example.go.id" for name in PEOPLE)


@pytest.fixture
def in_test_worker(monkeypatch):
    """The worker closes stale database connections between tasks; inside a test's transaction
    that would close the test database, so here it does nothing (as in test_letter_job)."""
    from django_tasks_db.management.commands import db_worker

    monkeypatch.setattr(db_worker, "close_old_connections", lambda: None)


def _recipients() -> list[str]:
    return sorted(m.to[0] for m in mail.outbox)


def test_one_notices_job_is_queued_per_period(db):
    start = 1_800_000_000 // HOUR * HOUR
    first = job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR, now=start + 10)
    assert first is not None and first.kind == "notices_send" and first.created_by is None
    assert job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR, now=start + HOUR - 1) is None
    Job.objects.filter(pk=first.pk).update(status=Job.Status.FAILED)
    # A failed one is not queued again at every pass of the worker: it waits for the next period.
    assert job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR, now=start + 20) is None
    second = job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR, now=start + HOUR)
    assert second is not None and second.pk != first.pk
    assert Job.objects.filter(kind="notices_send").count() == 2


def test_the_job_mails_each_waiting_notice_once_with_progress(waiting, coordinator, as_user):
    job = job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR)
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert _recipients() == waiting
    # One step for the reminders, then one per e-mail: 1 + 4.
    assert (job.status, job.done, job.total) == ("done", 5, 5)
    assert job.result_text == (
        "Sent: 0 self-assessment reminders, 0 scores-due reminders, 4 e-mails, 0 daily digests."
    )
    assert not Notice.objects.filter(emailed_at=None).exists()
    page = as_user(coordinator).get(f"/jobs/{job.pk}/").content.decode()
    assert job.result_text in page and 'id="job-result-link"' not in page

    mail.outbox.clear()
    again = job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR, now=timezone.now().timestamp() + HOUR)
    job_run(job_id=again.pk)
    again.refresh_from_db()
    assert mail.outbox == [] and "0 e-mails" in again.result_text and (again.done, again.total) == (1, 1)


def test_a_job_killed_half_way_runs_again_and_mails_nobody_twice(waiting, monkeypatch):
    """The worker dies (``kill -9``: nothing of the job's own bookkeeping runs) right after the
    second e-mail; the job is seen stale, queued again, and its second run mails the other two."""
    real = notice_services.notice_mail
    calls = []

    def killed_after_two(**kwargs):
        sent = real(**kwargs)
        calls.append(kwargs["notice_id"])
        if len(calls) == 2:
            raise KeyboardInterrupt
        return sent

    monkeypatch.setattr(notice_services, "notice_mail", killed_after_two)
    job = job_schedule(kind=Job.Kind.NOTICES_SEND, every=HOUR)
    with pytest.raises(KeyboardInterrupt):
        job_run(job_id=job.pk)
    job.refresh_from_db()
    assert job.status == "running" and (job.done, job.total) == (2, 5) and len(mail.outbox) == 2

    monkeypatch.setattr(notice_services, "notice_mail", real)
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
    assert job_recover_stale(stale_after=300) == 1
    job_run(job_id=job.pk)
    job.refresh_from_db()
    assert (job.status, job.attempts, job.done, job.total) == ("done", 2, 3, 3)
    assert _recipients() == waiting  # four e-mails, one per person


def test_the_worker_queues_and_runs_the_notices_job(waiting, settings, in_test_worker):
    settings.JOBS_NOTICES_EVERY_SECONDS = HOUR
    run_worker(batch=True)
    job = Job.objects.get(kind="notices_send")
    assert job.status == "done" and _recipients() == waiting
    run_worker(batch=True)  # the same period: no second job, no second mail
    assert Job.objects.filter(kind="notices_send").count() == 1 and len(mail.outbox) == 4


def test_no_notices_job_when_the_period_is_zero(waiting, settings, in_test_worker):
    settings.JOBS_NOTICES_EVERY_SECONDS = 0
    run_worker(batch=True)
    assert not Job.objects.exists() and mail.outbox == []
