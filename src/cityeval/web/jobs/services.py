"""Jobs: queue one (once per key), run it with progress, store its file or record what it did,
retry, recover.

Effects happen once: a run first claims the job (a locked read; a job already done is left
alone), the file is written whole through the storage (local or object storage, never over an
existing file), and the job is marked done in the same locked transaction that records the
file's name. A job that writes to the database instead (``IN_ONE_TRANSACTION``: computing a
cycle's results, importing survey responses or regions) does its writes in the transaction that
marks it done, which commits only if no other run of the job finished first; its reading and
checking may come first, outside the transaction, with progress (``PREPARERS``); an import's
upload is stored for it and deleted once imported (``job_enqueue_upload``). A job whose every
effect claims itself (sending notices: each notice is claimed before it is mailed) returns a
:class:`JobLink` outside any transaction. A run that died half-way (``kill -9``) recorded
nothing but its claims and is queued again by :func:`job_recover_stale`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import timedelta
from functools import partial
from importlib import import_module
from typing import Any, NamedTuple

from django.conf import settings
from django.contrib.auth.models import User
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import F
from django.db.models.functions import Greatest
from django.http import HttpRequest
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _
from django_tasks import task

from cityeval.engine import CityevalError
from cityeval.web.audit import services as audit
from cityeval.web.downloads import safe_filename
from cityeval.web.engine_errors import input_error_text
from cityeval.web.jobs.models import Job
from cityeval.web.refusals import Refused

logger = logging.getLogger(__name__)


class JobFile(NamedTuple):
    """What a job that makes a file returns: its content and the name it is downloaded as."""

    content: bytes
    name: str


class JobLink(NamedTuple):
    """What a job that writes to the database returns: what it did, in the asker's language,
    and the page that shows it."""

    text: str
    url: str


# What each kind of job runs: ``runner(job, progress) -> JobFile | JobLink``, where
# ``progress(done, total)`` records how far it is. Imported by path: jobs know no app.
RUNNERS = {
    Job.Kind.CYCLE_LETTER: "cityeval.web.results.letters.cycle_letter_job",
    Job.Kind.NATIONAL_EXPORT: "cityeval.web.results.jobs.national_export_job",
    Job.Kind.ITEMS_EXPORT: "cityeval.web.results.jobs.items_export_job",
    Job.Kind.RESULTS_COMPUTE: "cityeval.web.results.jobs.results_compute_job",
    Job.Kind.SURVEY_IMPORT: "cityeval.web.surveys.jobs.survey_import_job",
    Job.Kind.REGION_IMPORT: "cityeval.web.evaluations.region_imports.region_import_job",
    Job.Kind.NOTICES_SEND: "cityeval.web.panels.jobs.notices_send_job",
    Job.Kind.JOBS_PRUNE: "cityeval.web.jobs.retention.jobs_prune_job",
}
# Kinds whose runner writes to the database: it runs inside the transaction that marks the job
# done (one step: its progress does not move while it runs, as nothing inside the transaction
# is seen by others before it commits).
IN_ONE_TRANSACTION = {Job.Kind.RESULTS_COMPUTE, Job.Kind.SURVEY_IMPORT, Job.Kind.REGION_IMPORT}
# Of those, the kinds that first read and check outside the transaction, with progress:
# ``prepare(job, progress) -> prepared``, then ``runner(job, progress, prepared)`` inside it.
PREPARERS = {
    Job.Kind.SURVEY_IMPORT: "cityeval.web.surveys.jobs.survey_import_prepare",
    Job.Kind.REGION_IMPORT: "cityeval.web.evaluations.region_imports.region_import_prepare",
}
Progress = Callable[[int, int], None]
# Downloads the audit trail keeps, by kind: the action and what the file is. The whole-cycle
# letter carries every region's feedback with the assessors' names, like the other reads of
# individual assessors' data: asking for it is recorded (results.views.cycle_letter_prepare),
# and so is each download of the file.
AUDITED_DOWNLOADS = {
    Job.Kind.CYCLE_LETTER: (audit.Action.ASSESSOR_DATA_DOWNLOAD, "cycle letter with feedback"),
}


class JobNotRetryable(Refused):
    status = 409
    default_message = _("Only a failed job can be tried again.")


def _enqueue(job: Job) -> None:
    job.task_id = str(run_job.enqueue(job.pk).id)
    job.save(update_fields=["task_id"])


@transaction.atomic
def job_enqueue(*, user: User | None, kind: str, key: str, params: dict[str, Any]) -> Job:
    """The job for ``key``: the one already queued, running or done, else a new one queued
    (a failed one is queued again, now as ``user``'s: whoever asked first may have lost the
    right since). The queue row is written in the same transaction. The request's origin is
    kept for the audit entries the job records. ``user`` is None for the jobs the worker
    queues itself (sending notices)."""
    params = {**params, "origin": audit.current_origin()}
    job, created = Job.objects.select_for_update().get_or_create(
        key=key, defaults={"kind": kind, "params": params, "created_by": user}
    )
    if not created and job.status == Job.Status.FAILED:
        job.created_by, job.params = user, params
        job.save(update_fields=["created_by", "params"])
    if created or job.status == Job.Status.FAILED:
        _requeue(job)
    return job


def job_enqueue_upload(
    *, user: User, kind: str, key: str, folder: str, data: bytes, digest: str, file_name: str,
    params: dict[str, Any],
) -> Job:  # fmt: skip
    """Store an upload that a job of ``kind`` imports, under ``folder`` through the storage
    (never over another file), and queue the job for ``key`` (which names the file by its
    ``digest``, SHA-256), with the stored name, the digest and the upload's name in its params.
    The same key while its job is queued, running or done is that job: this copy is not kept.
    A failed job is queued again with this copy, and its own copy is deleted."""
    stored = default_storage.save(
        f"{folder}/{digest[:16]}-{safe_filename(file_name or 'export')}", ContentFile(data)
    )
    before = Job.objects.filter(key=key).values_list("params", flat=True).first() or {}
    job = job_enqueue(
        user=user,
        kind=kind,
        key=key,
        params={**params, "file": stored, "file_name": file_name[:255], "sha256": digest},
    )
    if job.params.get("file") != stored:
        default_storage.delete(stored)  # the job already holds a copy of this very file
    elif before.get("file") and before["file"] != stored:
        default_storage.delete(before["file"])  # a failed job's copy, replaced by this one
    return job


def job_upload_read(job: Job) -> bytes:
    """The bytes of the upload a job imports (stored by :func:`job_enqueue_upload`)."""
    with default_storage.open(job.params["file"], "rb") as file:
        return file.read()


def job_upload_forget(job: Job) -> None:
    """Delete the job's stored upload once the transaction that imports it commits (a failed
    import keeps it for the retry)."""
    transaction.on_commit(partial(default_storage.delete, job.params["file"]))


def job_schedule(*, kind: str, every: float, now: float | None = None) -> Job | None:
    """Queue the job of ``kind`` for the current period of ``every`` seconds unless it exists
    (queued, running, done or failed: a failed one waits for the next period, it is not
    retried at every pass); the job, or None when the period's job was there already. Several
    workers queue one job per period: its key names the period."""
    start = int((time.time() if now is None else now) // every * every)
    key = f"{kind}:{start}"
    if Job.objects.filter(key=key).exists():
        return None
    try:
        return job_enqueue(user=None, kind=kind, key=key, params={"period_start": start})
    except IntegrityError:  # another worker queued it a moment ago
        return None


def _load(path: str) -> Callable[..., Any]:
    module, _dot, name = path.rpartition(".")
    return getattr(import_module(module), name)


def job_download_record(*, user: User, job: Job, request: HttpRequest | None = None) -> None:
    """The audit trail's entry for a download of a job's file, for the kinds that need one."""
    if job.kind not in AUDITED_DOWNLOADS:
        return
    action, what = AUDITED_DOWNLOADS[Job.Kind(job.kind)]
    audit.record(
        action=action,
        user=user,
        target=job,
        target_text=str(job.params.get("cycle_name") or job.download_name),
        details={
            "what": what,
            "job": job.pk,
            "cycle": job.params.get("cycle", ""),
            "file": job.download_name,
        },
        request=request,
    )


def _requeue(job: Job) -> None:
    job.status, job.error, job.done, job.heartbeat_at = Job.Status.QUEUED, "", 0, None
    job.save(update_fields=["status", "error", "done", "heartbeat_at"])
    _enqueue(job)


@transaction.atomic
def job_retry(*, user: User, job_id: int) -> Job:
    """Queue a failed job again (the retry button), as the same asker's: a job that failed
    because its asker lost the right is asked for again from its page, which makes it the new
    asker's (``job_enqueue``); anything else is refused."""
    job = Job.objects.select_for_update().get(pk=job_id)
    if job.status != Job.Status.FAILED:
        raise JobNotRetryable
    _requeue(job)
    return job


def job_recover_stale(*, stale_after: float | None = None) -> int:
    """Queue again every running job whose worker stopped reporting ``stale_after`` seconds
    ago (its worker was killed); returns how many. Each is queued once: the locked read sees
    the job queued again by another worker and leaves it."""
    seconds = settings.JOBS_STALE_SECONDS if stale_after is None else stale_after
    cutoff = timezone.now() - timedelta(seconds=seconds)
    recovered = 0
    for pk in Job.objects.filter(status=Job.Status.RUNNING, heartbeat_at__lt=cutoff).values_list(
        "pk", flat=True
    ):
        with transaction.atomic():
            job = Job.objects.select_for_update().get(pk=pk)
            if job.status != Job.Status.RUNNING or job.heartbeat_at is None or job.heartbeat_at >= cutoff:
                continue
            _mark_lost_task(job.task_id)
            logger.warning("job %s: its worker stopped at %s/%s; queued again", job.pk, job.done, job.total)
            _requeue(job)
            recovered += 1
    return recovered


def _mark_lost_task(task_id: str) -> None:
    from django_tasks_db.models import DBTaskResult

    lost = DBTaskResult.objects.filter(pk=task_id, status="RUNNING").first() if task_id else None
    if lost is not None:
        lost.set_failed(RuntimeError("the worker running this task stopped; the job was queued again"))


def _claim(job_id: int) -> Job | None:
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job_id)
        if job.status in (Job.Status.DONE, Job.Status.FAILED):
            return None  # done already, or given up: nothing happens twice
        job.status, job.attempts, job.heartbeat_at = Job.Status.RUNNING, job.attempts + 1, timezone.now()
        job.save(update_fields=["status", "attempts", "heartbeat_at"])
        return job


def _progress(job: Job) -> Progress:
    delay = settings.JOBS_STEP_DELAY  # 0 but in the kill-the-worker test, which needs a slow job

    def report(done: int, total: int) -> None:
        Job.objects.filter(pk=job.pk).update(done=done, total=total, heartbeat_at=timezone.now())
        if delay:
            time.sleep(delay)

    return report


class _FinishedElsewhere(Exception):
    """Another run of the job finished first: this run's writes are rolled back."""


def job_run(*, job_id: int) -> None:
    """Run the job (the worker's task): claim, build, store, mark done; a failure is recorded
    with a message for the page (in the asker's language) and raised again for the queue's own
    record."""
    job = _claim(job_id)
    if job is None:
        return
    asked = job.params
    with (
        translation.override(asked.get("language") or settings.LANGUAGE_CODE),
        audit.origin_kept(asked.get("origin")),
    ):
        try:
            runner = _load(RUNNERS[Job.Kind(job.kind)])
            if job.kind in IN_ONE_TRANSACTION:
                _run_in_one_transaction(job, runner)
                return
            outcome = runner(job, _progress(job))
            if isinstance(outcome, JobLink):
                _finish_link(job, outcome)
                return
            stored = _store(f"jobs/{job.pk}/{safe_filename(outcome.name)}", outcome.content)
        except _FinishedElsewhere:
            return
        except Exception as exc:
            # A run queued again while this one was slow may have finished: its outcome stands.
            Job.objects.filter(pk=job.pk).exclude(status=Job.Status.DONE).update(
                status=Job.Status.FAILED, error=_failure_text(exc), finished_at=timezone.now()
            )
            raise
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if job.status == Job.Status.DONE:  # another run finished first: keep its file only
            default_storage.delete(stored)
            return
        job.status, job.file_name, job.download_name = Job.Status.DONE, stored, safe_filename(outcome.name)
        job.done, job.finished_at = job.total, timezone.now()
        job.save(update_fields=["status", "file_name", "download_name", "done", "finished_at"])


def _run_in_one_transaction(job: Job, runner: Callable[..., JobLink]) -> None:
    """Run a job that writes to the database: its writes and the job's completion commit
    together, and only if the job is still running (a late duplicate, or a run queued again
    while this one was slow, rolls back its writes)."""
    progress = _progress(job)
    progress(0, 1)
    if job.kind in PREPARERS:  # reading and checking, seen step by step on the job's page
        prepared = _load(PREPARERS[Job.Kind(job.kind)])(job, progress)
        runner = partial(runner, prepared=prepared)
    with transaction.atomic():
        outcome = runner(job, lambda done, total: None)
        if not _finish_link(job, outcome):
            raise _FinishedElsewhere


def _finish_link(job: Job, outcome: JobLink) -> bool:
    """Mark a running job done with its outcome; whether it was still running (another run of
    it may have finished first). For a job whose effects claimed themselves one by one, a later
    run finds nothing left to do, so marking it done twice changes nothing."""
    return bool(
        Job.objects.filter(pk=job.pk, status=Job.Status.RUNNING).update(
            status=Job.Status.DONE,
            result_text=outcome.text,
            result_url=outcome.url,
            done=Greatest(F("total"), 1),
            total=Greatest(F("total"), 1),
            finished_at=timezone.now(),
        )
    )


def _failure_text(exc: Exception) -> str:
    """What the job page says about a failure: a refusal's message, an engine error translated;
    anything else only in the server's log (empty here)."""
    if isinstance(exc, Refused):
        return str(exc.message)
    if isinstance(exc, CityevalError):
        return input_error_text(exc)
    return ""


def _store(name: str, content: bytes) -> str:
    """Write ``content`` through the configured storage (local files or an S3-compatible bucket)
    and return the name it was stored under. Neither storage replaces an existing file: if a run
    killed while writing left a partial file under ``name``, this one gets a new name, and the
    job records only a name whose write completed."""
    return default_storage.save(name, ContentFile(content))


@task()
def run_job(job_id: int) -> None:
    """The one task the queue knows: run a job by its id."""
    job_run(job_id=job_id)
