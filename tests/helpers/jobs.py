"""Running background jobs in the web tests: the progress a run reports, and a run after the
worker that ran the job was killed (its job recovered as stale, then run again)."""

from __future__ import annotations

from datetime import timedelta

from django.utils import timezone

from cityeval.web.jobs import services as job_services
from cityeval.web.jobs.models import Job


def progress_recorded(monkeypatch) -> list[tuple[int, int]]:
    """The ``(done, total)`` reports of every job run from now on, in order (still recorded
    on the job as usual)."""
    reports: list[tuple[int, int]] = []
    real_progress = job_services._progress

    def recorded(job):
        report = real_progress(job)

        def both(done, total):
            reports.append((done, total))
            report(done, total)

        return both

    monkeypatch.setattr(job_services, "_progress", recorded)
    return reports


def run_again_after_a_kill(job: Job) -> Job:
    """The job's worker stopped reporting 10 minutes ago: recovered as stale (it alone), then
    run again; the job as it is after that run."""
    Job.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - timedelta(seconds=600))
    assert job_services.job_recover_stale(stale_after=300) == 1
    job_services.job_run(job_id=job.pk)
    job.refresh_from_db()
    return job
