"""Cycles, frameworks and the regions import: the national coordinator's pages."""

from __future__ import annotations

import html

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.engine import FrameworkError
from cityeval.engine.framework import MAX_FRAMEWORK_BYTES
from cityeval.engine.limits import LimitError, check_bytes
from cityeval.web.accounts.access import acting_user, require_coordinator
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.forms import CycleEditForm, CycleForm, FrameworkUploadForm, ParticipantForm
from cityeval.web.evaluations.models import Cycle, Stage
from cityeval.web.evaluations.phases import Activity
from cityeval.web.evaluations.region_imports import region_import_enqueue, region_import_jobs_unfinished
from cityeval.web.evaluations.services import (
    cycle_create,
    cycle_transition,
    cycle_update,
    framework_version_chosen,
    framework_version_store,
    participation_add,
    participations_import,
)
from cityeval.web.imports import (
    REFUSED_STATUS,
    ImportRejected,
    limit_message,
    read_bytes,
    read_upload,
    table_limits,
    upload_bytes,
)
from cityeval.web.listing import Filter, Listing, listing, slug_links
from cityeval.web.refusals import Refused
from cityeval.web.regions.forms import UploadForm
from cityeval.web.regions.models import Region
from cityeval.web.regions.selectors import back_to_finder, region_filters, region_finder
from cityeval.web.regions.services import region_import_summary, regions_import


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
def cycle_edit(request: HttpRequest, cycle: str) -> HttpResponse:
    """Correct a cycle's name, deadline and stage dates (not once it is published)."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    if reason := phases.refusal(the_cycle, Activity.SETTINGS):
        messages.error(request, reason)
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    form = CycleEditForm(request.POST or None, initial=CycleEditForm.initial_for(the_cycle))
    if request.method == "POST" and form.is_valid():
        try:
            cycle_update(
                cycle=the_cycle,
                name=form.cleaned_data["name"],
                self_assessment_deadline=form.cleaned_data["self_assessment_deadline"],
                stages=form.stages(),
            )
        except Refused as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Cycle saved."))
            return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    return render(request, "evaluations/cycle_edit.html", {"cycle": the_cycle, "form": form})


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
                version = framework_version_store(text=raw.decode("utf-8"), user=acting_user(request))
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
        except phases.CycleClosed as exc:
            messages.error(request, str(exc))
        else:
            messages.success(request, _("Region added."))
        return redirect(back_to_finder(reverse("evaluations:cycle_detail", args=[the_cycle.slug]), request))
    return _cycle_page(request, the_cycle, form)


def _cycle_page(
    request: HttpRequest, the_cycle: Cycle, form: ParticipantForm | None = None, *, status: int = 200
) -> HttpResponse:
    framework = the_cycle.framework.framework
    participants = _participants(request, the_cycle, framework.group_codes)
    return render(
        request,
        "evaluations/cycle_detail.html",
        {
            "cycle": the_cycle,
            "framework": framework,
            "participants": participants,
            "participant_rows": _participant_rows(the_cycle, participants),
            # The listing counted them already when nothing narrows it.
            "participant_total": participants.count
            if not participants.narrowed
            else the_cycle.participations.count(),
            "found": region_finder(request, Region.objects.exclude(participations__cycle=the_cycle)),
            "form": form or ParticipantForm(groups=framework.group_codes),
            "upload_form": UploadForm(),
            "status_history": the_cycle.status_changes.select_related("changed_by", "participation__region"),
        },
        status=status,
    )


def _participants(request: HttpRequest, the_cycle: Cycle, groups: tuple[str, ...]) -> Listing:
    """The cycle's regions, searched and filtered by province, kind, group and submission."""
    statuses = [("submitted", _("Submitted")), ("not_submitted", _("Not submitted"))]
    return listing(
        request,
        the_cycle.participations.order_by("region__name").values(*PARTICIPANT_FIELDS),
        search=("region__name", "region__code"),
        filters=[
            *region_filters("region__"),
            Filter("group", _("Group"), [(g, g) for g in groups], _("All groups"), "group"),
            Filter("status", _("Self-assessment"), statuses, _("Submitted or not"), _by_submission),
        ],
        id="participants",
        search_label=_("Region name or code"),
    )


PARTICIPANT_FIELDS = ("pk", "group", "submitted_at", "region__name", "region__slug", "region__province__name")


def _participant_rows(the_cycle: Cycle, participants: Listing) -> list[SafeString]:
    """The page's participants as the table shows them, each row written here (the text the
    template wrote for it: 50 rows through the template cost more than the rest of the page's
    table), each link reversed once for the page."""
    dashboard = slug_links("regions:dashboard", slug="region")
    reopen = slug_links("assessments:reopen", slug="region", cycle=the_cycle.slug)
    open_ = the_cycle.status == Cycle.Status.OPEN
    cycle = html.escape(the_cycle.slug)
    submitted, again = html.escape(_("Submitted")), html.escape(_("Reopen…"))
    not_submitted = f'<span class="badge">{html.escape(_("Not submitted"))}</span>'
    rows = []
    for p in participants.items:
        if p["submitted_at"] is None:
            status = not_submitted
        elif open_:
            link = html.escape(reopen(p["region__slug"]))
            status = f'<span class="badge ok">{submitted}</span> <a href="{link}">{again}</a>'
        else:
            status = f'<span class="badge ok">{submitted}</span>'
        link = html.escape(dashboard(p["region__slug"]))
        name, province = html.escape(p["region__name"]), html.escape(p["region__province__name"])
        rows.append(
            mark_safe(  # safe: every value escaped
                f'\n  <tr><td><a href="{link}?cycle={cycle}">{name}</a></td><td>{province}</td>'
                f"<td>{html.escape(p['group'])}</td>\n    <td>{status}</td></tr>\n  "
            )
        )
    return rows


def _by_submission(participations: QuerySet, status: str) -> QuerySet:
    return participations.filter(submitted_at__isnull=status != "submitted")


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


def _close_unfinished(the_cycle: Cycle) -> list[str]:
    """What closing leaves undone: regions that have not submitted, panels without all marks."""
    from cityeval.web.panels.selectors import marks_unfinished  # panels build on evaluations

    lines = [
        _("%(region)s has not submitted its self-assessment.") % {"region": p.region.name}
        for p in the_cycle.participations.filter(submitted_at__isnull=True).select_related("region")
    ]
    lines += [
        _("%(panel)s: %(region)s — %(submitted)d of %(members)d assessors submitted their marks.")
        % {
            "panel": pr.panel.name,
            "region": pr.participation.region.name,
            "submitted": done,
            "members": total,
        }
        for pr, done, total in marks_unfinished(the_cycle)
    ]
    return lines


def _change_confirmation(
    request: HttpRequest, the_cycle: Cycle, action: str, error: str = ""
) -> HttpResponse:
    if action == "close":
        title = _("Close %(cycle)s?") % {"cycle": the_cycle.name}
        consequences = [
            _("Self-assessments and panel marks can no longer change."),
            _("The results can then be computed and published."),
            _("A closed cycle can be reopened, with a written reason, until it is published."),
        ]
        button, unfinished = _("Yes, close the cycle"), _close_unfinished(the_cycle)
    else:
        title = _("Reopen %(cycle)s?") % {"cycle": the_cycle.name}
        consequences = [
            _("Regions that have not submitted and the panels can change their work again."),
            _(
                "Computed results become out of date once a score changes; "
                "compute them again before publishing."
            ),
            _("The reason is kept in the history with your name and the time."),
        ]
        button, unfinished = _("Reopen the cycle"), []
    return confirm_page(
        request,
        title=title,
        action=request.path,
        cancel=reverse("evaluations:cycle_detail", kwargs={"cycle": the_cycle.slug}),
        button=button,
        consequences=consequences,
        unfinished=unfinished,
        needs_reason=action == "reopen",
        reason_error=error,
        status=400 if error else 200,
    )


@login_required
def cycle_change(request: HttpRequest, cycle: str, action: str) -> HttpResponse:
    """Open a draft (one POST); close or reopen through a confirmation page (GET), then a POST
    with ``confirm=yes`` (and a reason to reopen)."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    if action not in ("open", "close", "reopen"):
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    if reason := phases.transition_refusal(the_cycle, action):
        messages.error(request, reason)
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    if action != "open" and not confirmed(request):
        return _change_confirmation(request, the_cycle, action)
    if request.method != "POST":
        return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)
    try:
        cycle_transition(
            cycle=the_cycle, action=action, user=acting_user(request), reason=request.POST.get("reason", "")
        )
    except Refused as exc:
        if action == "reopen" and the_cycle.status == Cycle.Status.CLOSED:
            return _change_confirmation(request, the_cycle, action, error=str(exc))
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Cycle is now %(status)s.") % {"status": the_cycle.get_status_display()})
    return redirect("evaluations:cycle_detail", cycle=the_cycle.slug)


@login_required
def region_import(request: HttpRequest) -> HttpResponse:
    """Import regions from a CSV or XLSX file: in the request up to ``REGION_IMPORT_SYNC_MAX_KB``,
    else by a background job whose page the upload redirects to (``region_imports``)."""
    require_coordinator(request.user)
    form = UploadForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            content = upload_bytes(upload, table_limits())
            if len(content) > settings.REGION_IMPORT_SYNC_MAX_KB * 1024:
                check_bytes(content, table_limits())  # the checks that need no parsing
                job = region_import_enqueue(
                    data=content, file_name=upload.name or "", user=acting_user(request)
                )
                return redirect("jobs:job", job_id=job.pk)
            report = regions_import(table=read_bytes(content))
        except LimitError as exc:  # refused before the file was parsed
            errors = [limit_message(exc)]
        except ImportRejected as exc:
            errors = exc.errors
        else:
            messages.success(request, region_import_summary(report))
            return redirect("regions:region_list")
    return render(
        request,
        "evaluations/region_import.html",
        {
            "form": form,
            "errors": errors,
            "unfinished": region_import_jobs_unfinished(),
            "sync_max_kb": settings.REGION_IMPORT_SYNC_MAX_KB,
        },
        status=REFUSED_STATUS if errors else 200,
    )
