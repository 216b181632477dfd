"""Panel pages: the coordinator forms panels and assigns regions; an assessor sees their
panels and declares conflicts of interest. The region scoring pages are in scoring_views.py.

Access: panel management is the coordinator's (others 403, anonymous users log in). "My
panels" and "my conflicts" are for assessors (the coordinator sees the cycles instead); every
other user gets 404, regional users included. Once the cycle is closed or published every
write is refused with 403 and the reason, and nothing changes.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, is_assessor, is_coordinator, require_coordinator
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.phases import Activity, CycleClosed
from cityeval.web.imports import REFUSED_STATUS, ImportRejected, read_upload
from cityeval.web.listing import Filter, listing
from cityeval.web.panels.forms import ConflictForm, MemberChoiceForm, MemberForm, PanelForm
from cityeval.web.panels.models import Conflict, Panel, PanelMember
from cityeval.web.panels.selectors import (
    assessor_users,
    members_of,
    my_panel_regions,
    panel_conflicts,
    panels_of,
    unassigned_participations,
)
from cityeval.web.panels.services import (
    PanelRejected,
    conflict_declare,
    panel_assignments_import,
    panel_chair_set,
    panel_create,
    panel_member_add,
    panel_member_remove,
    panel_region_assign,
    panel_region_unassign,
)
from cityeval.web.refusals import refused_page
from cityeval.web.regions.forms import UploadForm
from cityeval.web.regions.models import Region
from cityeval.web.regions.selectors import back_to_finder, region_finder

# --- assessor: my panels, my conflicts -----------------------------------------------------------


@login_required
def mine(request: HttpRequest) -> HttpResponse:
    """The assessor's regions to score; for the coordinator, the cycles' panel pages."""
    assessor, coordinator = is_assessor(request.user), is_coordinator(request.user)
    if not (assessor or coordinator):
        raise Http404
    rows = my_panel_regions(request.user)
    cycles = {row.panel_region.participation.cycle_id for row in rows}
    stages = {(s.cycle_id, s.kind): s for s in Stage.objects.filter(cycle_id__in=cycles)}
    context = {
        # Each row with its stage, whose deadline (or last day) is when the marks are due.
        "rows": [
            (
                row,
                stages.get((row.panel_region.participation.cycle_id, row.panel_region.stage)),
                row.expected - row.scored,
            )
            for row in rows
        ],
        "is_assessor": assessor,
        "cycles": Cycle.objects.all() if coordinator else [],
    }
    return render(request, "panels/mine.html", context)


@login_required
def conflicts(request: HttpRequest) -> HttpResponse:
    if not is_assessor(request.user):
        raise Http404
    form = ConflictForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            conflict_declare(
                user=acting_user(request),
                region=form.cleaned_data["region"],
                reason=form.cleaned_data["reason"],
            )
        except PanelRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Conflict of interest recorded."))
            return redirect("panels:conflicts")
    declared = (
        Conflict.objects.filter(user=acting_user(request)).select_related("region").order_by("region__name")
    )
    found = region_finder(request, Region.objects.exclude(id__in=declared.values("region_id")))
    return render(request, "panels/conflicts.html", {"form": form, "conflicts": declared, "found": found})


# --- coordinator: panels of a cycle --------------------------------------------------------------------


def _cycle(user, slug: str) -> Cycle:
    require_coordinator(user)
    return get_object_or_404(Cycle.objects.select_related("framework"), slug=slug)


@login_required
def panel_list(request: HttpRequest, cycle: str) -> HttpResponse:
    the_cycle = _cycle(request.user, cycle)
    back = request.path
    form = PanelForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            panel = panel_create(
                cycle=the_cycle, stage=form.cleaned_data["stage"], name=form.cleaned_data["name"]
            )
        except CycleClosed as exc:
            return refused_page(request, exc, back=back)
        except PanelRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("%(name)s created. Add its assessors.") % {"name": panel.name})
            return redirect("panels:panel_detail", panel=panel.public_id)
    return _panel_list_page(request, the_cycle, form)


def _panel_list_page(
    request: HttpRequest, the_cycle: Cycle, form: PanelForm | None = None, *, status: int = 200
) -> HttpResponse:
    stages = [
        (stage, len(unassigned_participations(the_cycle, stage.kind))) for stage in the_cycle.stages.all()
    ]
    panels = listing(
        request,
        panels_of(the_cycle),
        search=("name", "regions__participation__region__name", "members__user__username"),
        filters=[Filter("stage", _("Stage"), Stage.Kind.choices, _("Both stages"), "stage")],
        id="panels",
        search_label=_("Panel, region or assessor"),
    )
    context = {
        "cycle": the_cycle,
        "stages": stages,
        "panels": panels,
        "form": form or PanelForm(),
        "upload_form": UploadForm(),
        "closed_reason": phases.refusal(the_cycle, Activity.PANELS),
    }
    return render(request, "panels/panel_list.html", context, status=status)


@login_required
@require_POST
def assignments_import(request: HttpRequest, cycle: str) -> HttpResponse:
    the_cycle = _cycle(request.user, cycle)
    back = redirect("panels:panel_list", cycle=the_cycle.slug)
    form = UploadForm(request.POST, request.FILES)
    if not form.is_valid():
        messages.error(request, _("Choose a CSV or XLSX file."))
        return back
    try:
        count = panel_assignments_import(cycle=the_cycle, table=read_upload(form.cleaned_data["file"]))
    except CycleClosed as exc:
        return refused_page(request, exc, back=back.url)
    except ImportRejected as exc:
        # The page is shown again (not redirected to) so that the refusal carries a 4xx status.
        messages.error(request, _("Nothing was assigned: %(errors)s") % {"errors": "; ".join(exc.errors)})
        return _panel_list_page(request, the_cycle, status=REFUSED_STATUS)
    else:
        messages.success(request, _("%(count)d assignments imported.") % {"count": count})
    return back


# --- coordinator: one panel ---------------------------------------------------------------------------


def _panel(user, public_id) -> Panel:
    require_coordinator(user)
    return get_object_or_404(Panel.objects.select_related("cycle__framework"), public_id=public_id)


def _assignable_regions(panel: Panel):
    """The cycle's regions without a panel at this panel's stage."""
    free = [p.id for p in unassigned_participations(panel.cycle, panel.stage)]
    return Region.objects.filter(participations__in=free).order_by("name")


@login_required
def panel_detail(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    context = {
        "panel": the_panel,
        "cycle": the_panel.cycle,
        "members": members_of(the_panel),
        "panel_regions": the_panel.regions.select_related("participation__region").order_by(
            "participation__region__name"
        ),
        "member_form": MemberForm(assessors=assessor_users().exclude(panel_memberships__panel=the_panel)),
        "found": region_finder(request, _assignable_regions(the_panel)),
        "warnings": panel_conflicts(the_panel),
        "closed_reason": phases.refusal(the_panel.cycle, Activity.PANELS),
    }
    return render(request, "panels/panel_detail.html", context)


def _to_panel(panel: Panel) -> HttpResponseRedirect:
    return redirect("panels:panel_detail", panel=panel.public_id)


def _run(request: HttpRequest, panel: Panel, action, success: str) -> HttpResponse:
    """Call a service; closed cycle → 403 with the reason, a refused rule → the message."""
    try:
        action()
    except CycleClosed as exc:
        return refused_page(request, exc, back=_to_panel(panel).url)
    except PanelRejected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, success)
    return _to_panel(panel)


@login_required
@require_POST
def member_add(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    form = MemberForm(request.POST, assessors=assessor_users())
    if not form.is_valid():
        messages.error(request, _("Nothing was added: choose an assessor and their affiliation."))
        return _to_panel(the_panel)
    data = form.cleaned_data
    return _run(
        request,
        the_panel,
        lambda: panel_member_add(
            panel=the_panel,
            user=data["user"],
            affiliation=data["affiliation"],
            organisation=data["organisation"],
            is_chair=data["is_chair"],
        ),
        _("%(user)s added to the panel.") % {"user": data["user"].get_username()},
    )


def _member(panel: Panel, request: HttpRequest) -> PanelMember | None:
    form = MemberChoiceForm(request.POST)
    if not form.is_valid():
        return None
    return (
        PanelMember.objects.filter(panel=panel, user__username=form.cleaned_data["user"])
        .select_related("user")
        .first()
    )


@login_required
@require_POST
def member_remove(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    member = _member(the_panel, request)
    if member is None:
        raise Http404
    if reason := phases.refusal(the_panel.cycle, Activity.PANELS):
        return refused_page(request, reason, back=_to_panel(the_panel).url)
    if not confirmed(request):  # the Remove button leads here first
        name = member.user.get_username()
        return confirm_page(
            request,
            title=_("Remove %(user)s from %(panel)s?") % {"user": name, "panel": the_panel.name},
            action=request.path,
            cancel=_to_panel(the_panel).url,
            button=_("Yes, remove from the panel"),
            consequences=[
                _("%(user)s no longer sees or scores this panel's regions.") % {"user": name},
                _(
                    "An assessor who has recorded marks or feedback here stays on the record "
                    "and cannot be removed."
                ),
            ],
            hidden=[("user", name)],
        )
    return _run(
        request,
        the_panel,
        lambda: panel_member_remove(panel=the_panel, user=member.user),
        _("%(user)s is no longer on the panel.") % {"user": member.user.get_username()},
    )


@login_required
@require_POST
def chair_set(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    member = _member(the_panel, request)
    if member is None:
        raise Http404
    return _run(
        request,
        the_panel,
        lambda: panel_chair_set(panel=the_panel, user=member.user),
        _("%(user)s chairs the panel.") % {"user": member.user.get_username()},
    )


def _participation(panel: Panel, request: HttpRequest) -> Participation | None:
    slug = request.POST.get("region", "")
    return (
        Participation.objects.filter(cycle=panel.cycle, region__slug=slug)
        .select_related("region", "cycle")
        .first()
    )


@login_required
@require_POST
def region_assign(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    participation = _participation(the_panel, request)
    if participation is None:
        messages.error(request, _("Nothing was assigned: choose a region taking part in this cycle."))
        return _to_panel(the_panel)
    response = _run(
        request,
        the_panel,
        lambda: panel_region_assign(panel=the_panel, participation=participation),
        _("%(region)s assigned to the panel.") % {"region": participation.region.name},
    )
    if response.status_code == 302:
        response["Location"] = back_to_finder(response["Location"], request)
    return response


@login_required
@require_POST
def region_unassign(request: HttpRequest, panel) -> HttpResponse:
    the_panel = _panel(request.user, panel)
    participation = _participation(the_panel, request)
    if participation is None:
        raise Http404
    return _run(
        request,
        the_panel,
        lambda: panel_region_unassign(panel=the_panel, participation=participation),
        _("%(region)s is no longer on the panel.") % {"region": participation.region.name},
    )
