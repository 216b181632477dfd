"""The worker loop behind ``cityeval worker``: django-tasks' database worker, with stale jobs
queued again between its passes (the library leaves a task whose worker died as running)."""

from __future__ import annotations

import logging
import time

from django.utils.crypto import get_random_string

from cityeval.web.jobs.services import job_recover_stale

logger = logging.getLogger(__name__)


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
        worker.run()
        if batch or not worker.running:
            return
        time.sleep(interval)
