"""Results work done by background jobs (``cityeval.web.jobs``): the national table and the item
scores as files, and computing a closed cycle's results.

The coordinator asks on the national page (``views.export_prepare``, ``views.compute``); the
worker runs these with the asker's language active. Each checks again that the asker is still
a national coordinator: a role lost meanwhile fails the job with the refusal's message.

Progress: an export reports one step for reading the table, then its rows as they are written
(``exports.CHUNK`` at a time). Computing is one step: it writes in one transaction with the
job's completion (``jobs.services.IN_ONE_TRANSACTION``), so a run cut off leaves nothing and a
second run of the same job cannot add a second set of results.
"""

from __future__ import annotations

from collections.abc import Callable

import polars as pl
from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.accounts.access import is_coordinator
from cityeval.web.evaluations.models import Cycle
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import JobFile, JobLink, job_enqueue
from cityeval.web.refusals import Refused
from cityeval.web.results.exports import RowsWritten, table_file, uncertainty_meta, with_intervals
from cityeval.web.results.models import LetterDetails
from cityeval.web.results.selectors import ResultsAccess, items_table, national_table, results_access
from cityeval.web.results.services import results_compute

Progress = Callable[[int, int], None]


class NotCoordinator(Refused):
    status = 403
    default_message = gettext_lazy("Only a national coordinator may have this done.")


def cycle_letter_enqueue(*, user: User, access: ResultsAccess, language: str) -> Job:
    """Queue the whole-cycle letter with every region's feedback: one job per letter content
    (the run, the letter details as last edited, the language), so the same letter asked again
    is the same job."""
    run = access.require_run()
    details = LetterDetails.objects.filter(cycle=access.cycle).first()
    edited = details.updated_at.isoformat() if details else "-"
    return job_enqueue(
        user=user,
        kind=Job.Kind.CYCLE_LETTER,
        key=f"cycle_letter:{access.cycle.pk}:{run.pk}:feedback:{language}:{edited}",
        params={"cycle": access.cycle.slug, "cycle_name": access.cycle.name, "language": language},
    )


def _asker(job: Job) -> User:
    """Who asked, still a national coordinator; else the job fails with the refusal."""
    user = job.created_by
    if user is None or not is_coordinator(user):
        raise NotCoordinator
    return user


def export_meta(access: ResultsAccess) -> dict:
    """What a JSON export says about the results before its rows."""
    run = access.require_run()
    return {
        "cycle": access.cycle.slug,
        "year": access.cycle.year,
        "status": access.cycle.status,
        "framework": {"code": access.framework.code, "hash": run.framework_digest},
        "computed_at": run.computed_at.isoformat(),
        "level": run.level,
        "parameters": run.parameters,
        "uncertainty": uncertainty_meta(access),
    }


def export_table(access: ResultsAccess, table_name: str) -> tuple[pl.DataFrame, str, str]:
    """The current results' national table (``table_name`` "national", with the intervals of
    finals and ranks) or item scores ("items"), with the XLSX sheet's name and the JSON key of
    its rows."""
    run = access.require_run()
    if table_name == "national":
        return with_intervals(access, national_table(run, access.framework)), _("Results"), "regions"
    return items_table(run), _("Item scores"), "items"


def export_file(access: ResultsAccess, table_name: str, fmt: str) -> tuple[bytes, str]:
    """The table as a file (its content and name), made on a request: the download links."""
    table, sheet, key = export_table(access, table_name)
    return _file(access, table, table_name, fmt, sheet=sheet, key=key)


def _file(
    access: ResultsAccess,
    table: pl.DataFrame,
    table_name: str,
    fmt: str,
    *,
    sheet: str,
    key: str,
    written: RowsWritten | None = None,
) -> tuple[bytes, str]:
    """The one way both the links and the jobs make an export file."""
    extra = {} if written is None else {"written": written}
    return table_file(
        table, fmt=fmt, filename=f"results-{access.cycle.slug}-{table_name}", sheet=sheet,
        meta=export_meta(access), key=key, **extra,
    )  # fmt: skip


def _export_job(job: Job, progress: Progress, table_name: str) -> JobFile:
    """One step for reading the table, then one per row written."""
    access = results_access(_asker(job), job.params["cycle"])
    table, sheet, key = export_table(access, table_name)
    total = 1 + table.height
    progress(1, total)
    content, name = _file(
        access, table, table_name, job.params["format"], sheet=sheet, key=key,
        written=lambda rows: progress(1 + rows, total),
    )  # fmt: skip
    return JobFile(content, name)


def national_export_job(job: Job, progress: Progress) -> JobFile:
    return _export_job(job, progress, "national")


def items_export_job(job: Job, progress: Progress) -> JobFile:
    return _export_job(job, progress, "items")


def results_compute_job(job: Job, progress: Progress) -> JobLink:
    """Compute the cycle's results as the coordinator who asked (see ``results_compute``)."""
    user = _asker(job)
    cycle = Cycle.objects.get(slug=job.params["cycle"])
    run = results_compute(cycle=cycle, stage=job.params["stage"], user=user)
    text = _("Results computed for %(count)d regions with framework %(hash)s.") % {
        "count": run.regions.count(),
        "hash": run.framework_digest[:12],
    }
    return JobLink(text, reverse("results:national", kwargs={"cycle": cycle.slug}))
