"""Importing regions: the coordinator's page, and a large file as a background job
(``cityeval.web.jobs``), in the same way as a large survey import (``surveys.jobs``).

The page (``views.region_import``) checks the upload in the request (its size, and what can be
checked on the bytes without parsing them: an XLSX's unpacked size and declared rows, a CSV's
columns); a file up to ``REGION_IMPORT_SYNC_MAX_KB`` is imported there and then
(``regions.services.regions_import``), a larger one is stored through the storage under
``imports/regions/`` (never over another file) and queued. The worker reads and checks the rows
outside any transaction, reporting the rows checked (``region_import_prepare``), then creates
the regions in the transaction that marks the job done (``region_import_job``, a kind in
``jobs.services.IN_ONE_TRANSACTION``): the import lands whole or not at all, and a run killed
half-way, or run twice, creates nothing twice. The job's outcome is the page's own summary
(regions created, already present) with a link to the regions list; a refused file fails the
job with the page's own message, in the asker's language. The job runs as its asker, who must
still be a national coordinator; its page is the coordinators' only.

Here rather than beside the regions: ``regions`` sits below ``jobs`` in the apps' order
(docs/architecture.md), so the page that queues a job lives in the lowest app above ``jobs``,
the one that holds the coordinator's other national imports (participants, frameworks).
"""

from __future__ import annotations

import hashlib

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.db.models import Max, Q
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy

from cityeval.web.accounts.access import is_coordinator
from cityeval.web.imports import read_bytes
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import (
    JobLink,
    Progress,
    job_enqueue_upload,
    job_upload_forget,
    job_upload_read,
)
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region
from cityeval.web.regions.services import (
    RegionImportPlan,
    region_import_summary,
    regions_check,
    regions_store,
)


class NotCoordinator(Refused):
    status = 403
    default_message = gettext_lazy("Only a national coordinator may import regions.")


class RegionsChangedMeanwhile(Refused):
    status = 409
    default_message = gettext_lazy(
        "Some of these regions were created by another import while this file was being checked. "
        "Nothing was imported from it: try again, and the regions now present will be counted as "
        "already present."
    )


def region_import_enqueue(*, data: bytes, file_name: str, user: User) -> Job:
    """Store the checked upload and queue its import; the job. The same file sent again by the
    same person before its import ran is the same job (the second copy is not kept); once it
    ran, sending it again is a new job, which creates nothing and says so, as the page does."""
    digest = hashlib.sha256(data).hexdigest()
    # The last import done so far names this one: a count of them would go down when old jobs
    # are deleted (jobs.retention) and could name an earlier, done import of the same file.
    done = Job.objects.filter(kind=Job.Kind.REGION_IMPORT, status=Job.Status.DONE)
    imports_before = done.aggregate(last=Max("pk"))["last"] or 0
    return job_enqueue_upload(
        user=user,
        kind=Job.Kind.REGION_IMPORT,
        key=f"region_import:{user.pk}:{digest}:{imports_before}",
        folder="imports/regions",
        data=data,
        digest=digest,
        file_name=file_name,
        params={"language": get_language(), "back_url": reverse("evaluations:region_import")},
    )


def region_import_jobs_unfinished() -> list[Job]:
    """The region imports queued, running or failed, newest first, for the import page (a
    coordinator's: they may open every one)."""
    jobs = Job.objects.filter(kind=Job.Kind.REGION_IMPORT).exclude(status=Job.Status.DONE)
    return list(jobs.order_by("-created_at")[:20])


def _require_asker(job: Job) -> None:
    """The job's asker is still a national coordinator; else the job fails with the refusal."""
    if job.created_by is None or not is_coordinator(job.created_by):
        raise NotCoordinator


def region_import_prepare(job: Job, progress: Progress) -> RegionImportPlan:
    """Read the stored file (one step), then check its rows: ``rows + 1`` steps in all, the last
    one creating the regions."""
    _require_asker(job)
    table = read_bytes(job_upload_read(job))
    total = table.height + 1
    progress(0, total)
    return regions_check(table=table, progress=lambda done: progress(done, total))


def region_import_job(job: Job, progress: Progress, prepared: RegionImportPlan) -> JobLink:
    """Create the checked regions (inside the job's transaction); the stored upload is deleted
    once that commits (a failed import keeps it for the retry)."""
    names = [name for name, *_ in prepared.to_create]
    slugs = [slug for _, slug, *_ in prepared.to_create]
    if Region.objects.filter(Q(name__in=names) | Q(slug__in=slugs)).exists():
        raise RegionsChangedMeanwhile
    try:
        with transaction.atomic():  # a savepoint: a clash found only by the database is refused too
            report = regions_store(plan=prepared)
    except IntegrityError:
        raise RegionsChangedMeanwhile from None
    job_upload_forget(job)
    return JobLink(region_import_summary(report), reverse("regions:region_list"))
