"""My tasks: the page an OPD contributor lands on after logging in. Each open cycle of each
region they answer for, with their items (answered or not) and the deadline with days left.

Access: members of a region with a regional role (OPD contributor, regional admin); anyone
else has no tasks here (404), the coordinator included (their work is the cycle pages)."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render

from cityeval.web.accounts.access import regions_of
from cityeval.web.assessments.overview import STATUS_LABELS
from cityeval.web.assessments.tasks import task_lists


@login_required
def tasks(request: HttpRequest) -> HttpResponse:
    if not regions_of(request.user):
        raise Http404
    context = {"lists": task_lists(request.user), "status_labels": STATUS_LABELS}
    return render(request, "assessments/tasks.html", context)
