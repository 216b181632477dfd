"""Retention: finished jobs, and the files only they hold, are deleted after a while.

A job finished (done or failed) more than ``JOBS_KEEP_DAYS`` days ago is deleted with its
files: a done job's result file (a letter, an export), a failed import's upload (kept for a
retry). The jobs the worker queues itself (``SCHEDULED_KINDS``: sending notices every hour,
this deletion every day) have no file and go after ``JOBS_SCHEDULED_KEEP_DAYS`` days. A queued
or running job is never deleted. A done import's upload was deleted when it was imported
(``job_upload_forget``), and its name may since have been given to a new upload of the same
file: it is left alone. A file another job (one that stays) still names is kept; a done
import's name of its old upload does not keep it.

Jobs are deleted in batches of ``BATCH`` rows, each in its own transaction with its audit
entry; the files of a batch are deleted once that transaction commits, so a rollback loses no
file whose job is still there. ``cityeval worker`` queues this once a day as a job
(:func:`jobs_prune_job`); ``cityeval manage prune_jobs`` runs it by hand.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.web.audit import services as audit
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import JobLink, Progress

logger = logging.getLogger(__name__)

BATCH = 1000
DAY = 86400
SCHEDULED_KINDS = (Job.Kind.NOTICES_SEND, Job.Kind.JOBS_PRUNE)
FINISHED = (Job.Status.DONE, Job.Status.FAILED)


@dataclass
class Pruned:
    """What a pruning deleted (or, in a dry run, would delete): jobs by kind, the stored files,
    and the files kept because a job that stays names them."""

    kinds: Counter[str] = field(default_factory=Counter)
    files: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)

    @property
    def jobs(self) -> int:
        return sum(self.kinds.values())


def _due(now: datetime) -> Q | None:
    """The finished jobs old enough to go; None when both periods are 0 (keep everything)."""
    due = []
    if settings.JOBS_KEEP_DAYS > 0:
        cutoff = now - timedelta(days=settings.JOBS_KEEP_DAYS)
        due.append(Q(finished_at__lt=cutoff) & ~Q(kind__in=SCHEDULED_KINDS))
    if settings.JOBS_SCHEDULED_KEEP_DAYS > 0:
        cutoff = now - timedelta(days=settings.JOBS_SCHEDULED_KEEP_DAYS)
        due.append(Q(finished_at__lt=cutoff) & Q(kind__in=SCHEDULED_KINDS))
    if not due:
        return None
    either = due[0] if len(due) == 1 else due[0] | due[1]
    return either & Q(status__in=FINISHED)


def _files_of(job: Job) -> list[str]:
    """The stored files that are the job's own: its result, and a failed import's upload (a
    done import's was deleted when imported)."""
    files = [job.file_name] if job.file_name else []
    upload = job.params.get("file") if isinstance(job.params, dict) else None
    if job.status == Job.Status.FAILED and isinstance(upload, str) and upload:
        files.append(upload)
    return files


def _named_elsewhere(names: set[str], leaving: list[int]) -> set[str]:
    """Of ``names``, those a job that stays names (its result, or an upload in its params that
    is still its own: not a done import's, which was deleted when imported, so its name may
    since be another upload's)."""
    if not names:
        return set()
    others = Job.objects.exclude(pk__in=leaving).filter(Q(file_name__in=names) | Q(params__file__in=names))
    named: set[str] = set()
    for file_name, params, status in others.values_list("file_name", "params", "status"):
        named.add(file_name)
        upload = params.get("file") if isinstance(params, dict) else None
        if isinstance(upload, str) and status != Job.Status.DONE:
            named.add(upload)
    return names & named


def _files_delete(names: list[str]) -> None:
    """Delete stored files (after the commit of their jobs' deletion). A file that cannot be
    deleted is logged and left: its job is gone, nothing names it any more."""
    for name in names:
        try:
            default_storage.delete(name)
        except Exception:
            logger.exception("job retention: the stored file %s could not be deleted", name)


def _batch(due: Q, after: int, *, dry_run: bool, pruned: Pruned) -> int | None:
    """Delete (or count) one batch of due jobs with pk above ``after``; the last pk seen, or
    None when there were none."""
    with transaction.atomic():
        rows = Job.objects.filter(due, pk__gt=after).order_by("pk")
        jobs = list((rows if dry_run else rows.select_for_update())[:BATCH])
        if not jobs:
            return None
        leaving = [job.pk for job in jobs]
        own = {name for job in jobs for name in _files_of(job)}
        kept = _named_elsewhere(own, leaving)
        files = sorted(own - kept)
        kinds = Counter(job.kind for job in jobs)
        pruned.kinds.update(kinds)
        pruned.files.extend(files)
        pruned.kept.extend(sorted(kept))
        if not dry_run:
            Job.objects.filter(pk__in=leaving).delete()
            audit.record(
                action=audit.Action.JOBS_PRUNE,
                user=None,
                target_text="background jobs",
                details={
                    "jobs": len(jobs),
                    "kinds": dict(sorted(kinds.items())),
                    "files": len(files),
                    "files_kept": len(kept),
                    "keep_days": settings.JOBS_KEEP_DAYS,
                    "scheduled_keep_days": settings.JOBS_SCHEDULED_KEEP_DAYS,
                },
            )
            transaction.on_commit(partial(_files_delete, files))
        return leaving[-1]


def jobs_prune(
    *, now: datetime | None = None, dry_run: bool = False, progress: Progress | None = None
) -> Pruned:
    """Delete the jobs finished before their retention period (as at ``now``) with the files
    only they hold, in batches of ``BATCH`` (each committed with its audit entry, its files
    deleted after the commit); with ``dry_run``, only say what would go."""
    due = _due(now or timezone.now())
    pruned = Pruned()
    if due is None:
        return pruned
    total = Job.objects.filter(due).count()
    after: int | None = 0
    while after is not None:
        if progress is not None:
            progress(min(pruned.jobs, total), total)
        after = _batch(due, after, dry_run=dry_run, pruned=pruned)
    return pruned


def jobs_prune_job(job: Job, progress: Progress) -> JobLink:
    """The daily job the worker queues: prune, and say what went. Each batch commits on its
    own, so a run cut off and run again deletes the rest (its own row, running, stays)."""
    pruned = jobs_prune(progress=progress)
    text = _("Deleted %(jobs)d finished jobs and %(files)d stored files.") % {
        "jobs": pruned.jobs,
        "files": len(pruned.files),
    }
    return JobLink(text=text, url="")
