"""The worker loop behind ``cityeval worker``: django-tasks' database worker, with stale jobs
queued again between its passes (the library leaves a task whose worker died as running), and
the notices job queued once per ``JOBS_NOTICES_EVERY_SECONDS`` (reminders due, e-mail not sent
yet, daily digests: what ``cityeval manage send_notices`` does when run by cron), and the
deletion of old finished jobs once a day (``retention``: what ``cityeval manage prune_jobs``
does)."""

from __future__ import annotations

import logging
import time

from django.conf import settings
from django.utils.crypto import get_random_string

from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_recover_stale, job_schedule

logger = logging.getLogger(__name__)
# Old finished jobs are deleted once a day (``retention.jobs_prune``; periods start at 00:00 UTC).
PRUNE_EVERY_SECONDS = 86400


def run_worker(*, interval: float = 1.0, batch: bool = False) -> None:
    """Run queued tasks until stopped (SIGTERM or Ctrl+C finish the task at hand first); with
    ``batch``, run what is queued and return."""
    from django_tasks_db.management.commands.db_worker import Worker

    worker = Worker(
        queue_names=["default"],
        interval=0,
        batch=True,  # one pass over the ready tasks, then back here to look for stale jobs
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=get_random_string(32),
        excluded_queue_names=[],
    )
    if not batch:
        worker.configure_signals()
        logger.info("worker %s started", worker.worker_id)
    while True:
        job_recover_stale()
        jobs_schedule()
        worker.run()
        if batch or not worker.running:
            return
        time.sleep(interval)


def jobs_schedule() -> None:
    """Queue the periodic jobs whose period has begun (one job per period, however many
    workers run)."""
    if settings.JOBS_NOTICES_EVERY_SECONDS > 0:
        job_schedule(kind=Job.Kind.NOTICES_SEND, every=settings.JOBS_NOTICES_EVERY_SECONDS)
    if settings.JOBS_KEEP_DAYS > 0 or settings.JOBS_SCHEDULED_KEEP_DAYS > 0:
        job_schedule(kind=Job.Kind.JOBS_PRUNE, every=PRUNE_EVERY_SECONDS)
