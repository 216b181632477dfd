"""Large survey imports as background jobs (``cityeval.web.jobs``).

The import page checks the upload in the request (its size, and what can be checked on the
bytes without parsing them: an XLSX's unpacked size and declared rows, a CSV's columns), stores
it through the storage under ``imports/surveys/`` (never over another file) and queues a job;
a file up to ``SURVEY_IMPORT_SYNC_MAX_KB`` is imported in the request instead, in the same way
(``responses.responses_import``). The worker reads and checks the rows outside any transaction,
reporting the rows checked (``survey_import_prepare``), then stores them in the transaction that
marks the job done (``survey_import_job``, a kind in ``jobs.services.IN_ONE_TRANSACTION``): the
import lands whole or not at all, and a run killed half-way, or run twice, adds nothing twice
(every response id the form holds is skipped, as for the page's own imports). The job's outcome
is the page's own summary and a link back to the import page; a refused file fails the job
with the page's own message, in the asker's language. The job runs as its asker, who must still
be a regional admin of the survey's region.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.urls import reverse
from django.utils.translation import get_language, gettext_lazy

from cityeval.web.accounts.access import is_regional_admin
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import (
    JobLink,
    Progress,
    job_enqueue_upload,
    job_upload_forget,
    job_upload_read,
)
from cityeval.web.refusals import Refused
from cityeval.web.surveys.models import ImportBatch, Response, SurveyForm
from cityeval.web.surveys.responses import import_rows, import_summary, responses_read, responses_store


class NotRegionalAdmin(Refused):
    status = 403
    default_message = gettext_lazy("Only a regional admin of the survey's region may import its responses.")


def survey_import_enqueue(*, form: SurveyForm, data: bytes, file_name: str, kind: str, user: User) -> Job:
    """Store the checked upload and queue its import; the job. The same file sent again by the
    same person before its import ran is the same job (the second copy is not kept); once it
    ran, sending it again is a new job, which adds nothing and says so, as on the page."""
    participation = form.plan.participation
    digest = hashlib.sha256(data).hexdigest()
    imports_before = ImportBatch.objects.filter(form=form).count()
    back = reverse(
        "surveys:import", kwargs={"region": participation.region.slug, "cycle": participation.cycle.slug}
    )
    return job_enqueue_upload(
        user=user,
        kind=Job.Kind.SURVEY_IMPORT,
        key=f"survey_import:{form.pk}:{user.pk}:{digest}:{imports_before}",
        folder=f"imports/surveys/{form.pk}",
        data=data,
        digest=digest,
        file_name=file_name,
        params={
            "region": participation.region_id,
            "form": form.pk,
            "form_code": form.code,
            "kind": kind,
            "language": get_language(),
            "back_url": back,
        },
    )


def import_jobs_unfinished(*, forms: Sequence[SurveyForm], user: User, everyone: bool) -> list[Job]:
    """The import jobs into ``forms`` (one survey's) queued, running or failed, for the import
    page: the user's own (``everyone``: the coordinator's view, all of them) — the ones whose
    page they may open."""
    jobs = Job.objects.filter(
        kind=Job.Kind.SURVEY_IMPORT, params__form__in=[form.pk for form in forms]
    ).exclude(status=Job.Status.DONE)
    if not everyone:
        jobs = jobs.filter(created_by=user)
    return list(jobs.order_by("-created_at")[:20])


@dataclass(frozen=True)
class PreparedImport:
    user: User
    form: SurveyForm
    rows: list[Response]


def _asker_form(job: Job) -> tuple[User, SurveyForm]:
    """Who asked, still a regional admin of the form's region, and the form; else the job
    fails with the refusal."""
    user = job.created_by
    form = SurveyForm.objects.select_related("plan__participation").filter(pk=job.params.get("form")).first()
    if user is None or form is None or form.plan.participation.region_id != job.params.get("region"):
        raise NotRegionalAdmin
    if not is_regional_admin(user, job.params.get("region")):
        raise NotRegionalAdmin
    return user, form


def survey_import_prepare(job: Job, progress: Progress) -> PreparedImport:
    """Read and check the stored file (one step), then its rows: ``rows + 1`` steps in all, the
    last one storing them."""
    user, form = _asker_form(job)
    table = responses_read(form=form, data=job_upload_read(job), kind=job.params["kind"])
    total = table.height + 1
    progress(0, total)
    rows = import_rows(table, form, progress=lambda done: progress(done, total))
    return PreparedImport(user=user, form=form, rows=rows)


def survey_import_job(job: Job, progress: Progress, prepared: PreparedImport) -> JobLink:
    """Store the prepared rows (inside the job's transaction); the stored upload is deleted
    once that commits (a failed import keeps it for the retry)."""
    result = responses_store(
        form=prepared.form,
        rows=prepared.rows,
        digest=job.params["sha256"],
        file_name=job.params["file_name"],
        kind=job.params["kind"],
        user=prepared.user,
    )
    job_upload_forget(job)
    _warning, text = import_summary(result)
    return JobLink(text, job.params["back_url"])
