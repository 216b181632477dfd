"""Cycles and frameworks: the national coordinator's pages."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.engine import FrameworkError
from cityeval.engine.framework import MAX_FRAMEWORK_BYTES
from cityeval.web.accounts.access import require_coordinator
from cityeval.web.evaluations.forms import CycleForm, FrameworkUploadForm, ParticipantForm
from cityeval.web.evaluations.models import Cycle, Stage
from cityeval.web.evaluations.services import (
    CycleStateError,
    cycle_create,
    cycle_transition,
    framework_version_chosen,
    framework_version_store,
    participation_add,
    participations_import,
)
from cityeval.web.imports import REFUSED_STATUS, ImportRejected, read_upload
from cityeval.web.regions.forms import UploadForm


@login_required
def cycle_list(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    cycles = Cycle.objects.select_related("framework").prefetch_related("stages")
    return render(request, "evaluations/cycle_list.html", {"cycles": cycles})


@login_required
def cycle_new(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    form = CycleForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        framework = framework_version_chosen(data["framework"])
        cycle = cycle_create(
            slug=data["slug"],
            name=data["name"],
            year=data["year"],
            framework=framework,
            self_assessment_deadline=data["self_assessment_deadline"],
            stages={
                Stage.Kind.STAGE_I: (data["stage_1_starts"], data["stage_1_ends"], None),
                Stage.Kind.STAGE_II: (data["stage_2_starts"], data["stage_2_ends"], None),
            },
        )
        messages.success(request, _("Cycle created. Add the participating regions, then open it."))
        return redirect("evaluations:cycle_detail", cycle=cycle.slug)
    return render(request, "evaluations/cycle_new.html", {"form": form})


@login_required
def framework_upload(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    form = FrameworkUploadForm(request.POST or None, request.FILES or None)
    problems: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        # Refused on the declared size before a byte is read, and on what was read (at most
        # one byte over the limit) in case the declared size is wrong.
        raw = b"" if upload.size > MAX_FRAMEWORK_BYTES else upload.read(MAX_FRAMEWORK_BYTES + 1)
        if upload.size > MAX_FRAMEWORK_BYTES or len(raw) > MAX_FRAMEWORK_BYTES:
            problems = [_("The file is larger than 2 MB; a framework is a small text file.")]
        else:
            try:
                version = framework_version_store(text=raw.decode("utf-8"), user=request.user)
            except UnicodeDecodeError:
                problems = [_("The file is not UTF-8 text.")]
            except FrameworkError as exc:
                problems = exc.problems
            else:
                messages.success(
                    request,
                    _("Framework %(code)s stored as %(hash)s.")
                    % {"code": version.code, "hash": version.digest[:12]},
                )
                return redirect("evaluations:cycle_new")
    return render(
        request,
        "evaluations/framework_upload.html",
        {"form": form, "problems": problems},
        status=REFUSED_STATUS if problems else 200,
    )


@login_required
def cycle_detail(request: HttpRequest, cycle: str) -> HttpResponse:
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle.objects.select_related("framework"), slug=cycle)
    framework = the_cycle.framework.framework
    form = ParticipantForm(request.POST or None, groups=framework.group_codes)
    if request.method == "POST" and form.is_valid():
        try:
            participation_add(
                cycle=the_cycle, region=form.cleaned_data["region"], group=form.cleaned_data["group"]
            )
        except CycleStateError:
            messages.error(request, _("The cycle is closed: its regions can no longer change."))
        else:
            messages.success(request, _("Region added."))
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    return _cycle_page(request, the_cycle, form)


def _cycle_page(
    request: HttpRequest, the_cycle: Cycle, form: ParticipantForm | None = None, *, status: int = 200
) -> HttpResponse:
    framework = the_cycle.framework.framework
    return render(
        request,
        "evaluations/cycle_detail.html",
        {
            "cycle": the_cycle,
            "framework": framework,
            "participations": the_cycle.participations.select_related("region", "region__province"),
            "form": form or ParticipantForm(groups=framework.group_codes),
            "upload_form": UploadForm(),
        },
        status=status,
    )


@login_required
@require_POST
def participants_import(request: HttpRequest, cycle: str) -> HttpResponse:
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle.objects.select_related("framework"), slug=cycle)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV or XLSX file."))
    else:
        try:
            count = participations_import(cycle=the_cycle, table=read_upload(form.cleaned_data["file"]))
        except ImportRejected as exc:
            # The page is shown again (not redirected to) so that the refusal carries a 4xx status.
            messages.error(request, _("Nothing was imported: %(errors)s") % {"errors": "; ".join(exc.errors)})
            return _cycle_page(request, the_cycle, status=REFUSED_STATUS)
        else:
            messages.success(request, _("%(count)d regions added or updated.") % {"count": count})
    return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)


@login_required
@require_POST
def cycle_change(request: HttpRequest, cycle: str, action: str) -> HttpResponse:
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    if action not in ("open", "close"):
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    try:
        cycle_transition(cycle=the_cycle, action=action)
    except CycleStateError:
        messages.error(request, _("This cycle cannot be changed that way in its current status."))
    else:
        messages.success(request, _("Cycle is now %(status)s.") % {"status": the_cycle.get_status_display()})
    return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
