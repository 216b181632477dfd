"""A job's page (progress, then the download or the failure with a retry button) and its
download. National coordinators see every job. A regional job (a survey import) is also its
asker's while they are still a regional admin of its region (``params["region"]``, the region's
id). Everyone else gets 403, for a job that exists or not; anonymous visitors the log-in page."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, is_coordinator, is_regional_admin
from cityeval.web.downloads import generated_file_response
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_download_record, job_retry

REFRESH_SECONDS = 3


# Kinds asked for by a region's admin, whose job is theirs as well as the coordinators'.
REGIONAL_KINDS = {Job.Kind.SURVEY_IMPORT}


def _job_for(request: HttpRequest, job_id: int) -> Job:
    user = request.user
    if is_coordinator(user):
        return get_object_or_404(Job, pk=job_id)
    job = Job.objects.filter(pk=job_id, created_by_id=user.pk, kind__in=REGIONAL_KINDS).first()
    if job is None or not is_regional_admin(user, job.params.get("region")):
        raise PermissionDenied
    return job


@login_required
def job_page(request: HttpRequest, job_id: int) -> HttpResponse:
    job = _job_for(request, job_id)
    context = {"job": job, "refresh": REFRESH_SECONDS if job.is_active else None}
    return render(request, "jobs/job.html", context)


@login_required
@require_POST
def job_retry_view(request: HttpRequest, job_id: int) -> HttpResponse:
    _job_for(request, job_id)
    try:
        job_retry(user=acting_user(request), job_id=job_id)
    except Job.DoesNotExist:  # deleted (kept days over) between the check and the retry
        raise Http404 from None
    return redirect("jobs:job", job_id=job_id)


@login_required
def job_download(request: HttpRequest, job_id: int) -> FileResponse:
    job = _job_for(request, job_id)
    if job.status != Job.Status.DONE or not job.file_name:
        raise Http404
    file = default_storage.open(job.file_name, "rb")
    job_download_record(user=acting_user(request), job=job, request=request)
    return generated_file_response(file, filename=job.download_name)
