"""A region's panel pages at one stage: the self-assessment beside the score form, evidence
requests, submission, feedback, the interview record and the chair's consolidation.

Access (``panel_region_access``): the panel's members and the coordinator; everyone else 404,
regional users included (a member who got a role in the region too). A member with a conflict
of interest with the region may read but not score, submit, write feedback or request evidence.
Blind rule: a member sees the other members' scores, feedback and the consolidation only after
submitting their own marks. Scoring writes are the members'; the interview is edited by the chair
and the coordinator (other members 403); consolidated scores are recorded by the chair after
submitting. Writes are refused with 403 and the reason once the cycle is closed or published
(scoring writes also before it opens).
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.phases import Activity, CycleClosed
from cityeval.web.kept import Kept
from cityeval.web.panels.access import PanelRegionAccess, panel_region_access, stage_label
from cityeval.web.panels.forms import (
    ConsolidatedScoreForm,
    FeedbackForm,
    InterviewForm,
    RevisionForm,
    ScoresForm,
    score_field,
)
from cityeval.web.panels.scoresheet import (
    consolidation_table,
    interview_of,
    latest_feedback,
)
from cityeval.web.panels.scoring_cache import scoring_sheet
from cityeval.web.panels.selectors import members_of
from cityeval.web.panels.services import (
    PanelRejected,
    ScoreRejected,
    consolidated_score_record,
    evidence_request_toggle,
    feedback_record,
    interview_record,
    item_scores_record,
    score_revise,
    scores_submit,
)
from cityeval.web.refusals import refused_page


def _kwargs(access: PanelRegionAccess) -> dict[str, str]:
    return {
        "cycle": access.cycle.slug,
        "stage": access.panel_region.stage,
        "region": access.participation.region.slug,
    }


def _page_url(access: PanelRegionAccess) -> str:
    return reverse("panels:region", kwargs=_kwargs(access))


def _to_page(access: PanelRegionAccess, anchor: str = "") -> HttpResponse:
    return redirect(_page_url(access) + anchor)


def _require_member(access: PanelRegionAccess) -> None:
    """Scoring writes are the members' own: the coordinator reads (403)."""
    if access.member is None:
        raise PermissionDenied


def _conflict_refusal(request: HttpRequest, access: PanelRegionAccess) -> HttpResponse | None:
    """A member with a conflict of interest with the region (declared, or a role in it) may not
    score it, submit, write feedback or mark items as needing evidence: 403 with the reason."""
    if access.may_score:
        return None
    region = access.participation.region.name
    if access.role_in_region:
        reason = _("You have a role in %(region)s, a conflict of interest: you cannot score it.")
    else:
        reason = _("You declared a conflict of interest with %(region)s: you cannot score it.")
    return refused_page(request, reason % {"region": region}, back=_page_url(access))


def _require_scorer(request: HttpRequest, access: PanelRegionAccess) -> HttpResponse | None:
    """The right to score: a member of the panel (else 403) without a conflict of interest with
    the region, in a cycle that takes scores (else 403 with the reason)."""
    _require_member(access)
    return _scoring_refusal(request, access) or _conflict_refusal(request, access)


class _DrawnForm:
    """An unbound form's paragraphs drawn before: what the page's template asks of it."""

    def __init__(self, html: str) -> None:
        self.html = html

    def as_p(self) -> str:
        return self.html


FORMS_KEPT = 256  # unbound interview and feedback forms a process keeps, drawn
_drawn_forms: Kept[str] = Kept(FORMS_KEPT)


def _unbound(form_class: type[InterviewForm] | type[FeedbackForm], initial: dict | None) -> _DrawnForm:
    """``form_class(initial=initial)`` as the page shows it, drawn once per initial values,
    language and time zone (everything an unbound form is drawn from: a template of the
    project's, the same for the process): the interview and feedback forms of every page view
    took as long as the rest of the page."""
    key = (
        form_class.__name__,
        get_language() or "",
        timezone.get_current_timezone_name(),
        tuple(initial.items()) if initial else None,
    )
    html = _drawn_forms.find(key)
    if html is None:
        html = form_class(initial=initial).as_p()
        _drawn_forms.put(key, html)
    return _DrawnForm(html)


def _interview_form(access: PanelRegionAccess, interview) -> _DrawnForm:
    if interview is None:
        return _unbound(InterviewForm, None)
    return _unbound(
        InterviewForm,
        {
            "scheduled_at": interview.scheduled_at,
            "link": interview.link,
            "attendees": interview.attendees,
            "notes": interview.notes,
            "evidence_topup_until": interview.evidence_topup_until,
        },
    )


def _region_page(request: HttpRequest, access: PanelRegionAccess, **forms) -> HttpResponse:
    viewer = acting_user(request)
    reason = phases.refusal(access.cycle, Activity.SCORING)
    can_score = access.may_score and reason is None
    can_mark_first = can_score and access.submitted is None
    members = members_of(access.panel)
    # The score inputs are shown only to a member giving their first marks; a posted form
    # comes back with its values and errors.
    sheet = scoring_sheet(
        access, viewer, members=members, mark_first=can_mark_first, scores_form=forms.get("scores_form")
    )
    blocks: dict[str, dict] = {}
    for component, item in sheet.items:
        blocks.setdefault(component.code, {"component": component, "rows": []})["rows"].append(item.code)
    # The items the member has not scored yet: those without a revision.
    revisions = sheet.revisions() if access.member else {}
    missing = sum(1 for _c, item in sheet.items if item.code not in revisions) if access.member else 0
    interview = interview_of(access.panel_region)
    feedback = latest_feedback(access.panel_region, assessor=None if access.sees_all_scores else viewer)
    mine = feedback.pop(viewer.pk, None)
    context = {
        "access": access,
        "panel": access.panel,
        "cycle": access.cycle,
        "region": access.participation.region,
        "participation": access.participation,
        "stage": access.panel_region.stage,
        "stage_label": stage_label(access.panel_region.stage),
        "framework": access.framework,
        "sheet": sheet,
        "blocks": list(blocks.values()),
        # Without a posted form, one without fields gives the form's id (the inputs are written
        # from the sheet).
        "scores_form": sheet.scores_form or ScoresForm(codes=[], framework=access.framework),
        "missing": missing,
        "item_total": len(sheet.items),
        "scored": len(sheet.items) - missing,
        "revise_url": reverse("panels:revise", kwargs=_kwargs(access)),
        "evidence_request_url": reverse("panels:evidence_request", kwargs=_kwargs(access)),
        "members": members,
        "submitted_ids": set(access.panel_region.submissions.values_list("assessor_id", flat=True)),
        "interview": interview,
        "interview_form": forms.get("interview_form") or _interview_form(access, interview),
        "my_feedback": mine,
        "other_feedback": list(feedback.values()),
        "feedback_form": forms.get("feedback_form")
        or _unbound(
            FeedbackForm,
            {
                "strengths": mine.strengths,
                "weaknesses": mine.weaknesses,
                "recommendations": mine.recommendations,
            }
            if mine
            else None,
        ),
        "closed_reason": reason,
        "can_score": can_score,
        "can_mark_first": can_mark_first,
        "can_revise": can_score and access.submitted is not None,
        "revision": forms.get("revision_form"),
        "can_edit_interview": access.may_edit_interview
        and phases.refusal(access.cycle, Activity.PANELS) is None,
    }
    return render(request, "panels/region.html", context)


@login_required
def region_page(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    return _region_page(request, access)


def _scoring_refusal(request: HttpRequest, access: PanelRegionAccess) -> HttpResponse | None:
    """Checked before the input: a closed cycle answers with its reason."""
    reason = phases.refusal(access.cycle, Activity.SCORING)
    return refused_page(request, reason, back=_page_url(access)) if reason else None


@login_required
@require_POST
def scores_save(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if refusal := _require_scorer(request, access):
        return refusal
    # Validated before the scoring rows are built: a valid post redirects without them.
    codes = [item.code for _component, item in access.framework.items_for(access.participation.group)]
    form = ScoresForm(request.POST, codes=codes, framework=access.framework)
    if form.is_valid():
        try:
            created = item_scores_record(
                panel_region=access.panel_region, assessor=acting_user(request), scores=form.entries()
            )
        except (CycleClosed, PanelRejected) as exc:
            return refused_page(request, exc, back=_page_url(access))
        except ScoreRejected as exc:
            for item, message in exc.errors.items():
                form.add_error(score_field(item) if score_field(item) in form.fields else None, message)
        else:
            messages.success(request, _("%(count)d scores saved as new revisions.") % {"count": len(created)})
            if item := request.POST.get("evidence_item"):
                # The "needs evidence" button of the score form: the scores typed so far are
                # saved (above) before the item is marked, so none is lost to the reload.
                return _evidence_toggle(request, access, item)
            return _to_page(access)
    messages.error(request, _("Nothing was saved: correct the scores marked below."))
    return _region_page(request, access, scores_form=form)


@login_required
@require_POST
def submit(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if refusal := _require_scorer(request, access):
        return refusal
    try:
        scores_submit(panel_region=access.panel_region, assessor=acting_user(request))
    except CycleClosed as exc:
        return refused_page(request, exc, back=_page_url(access))
    except PanelRejected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("Your marks are submitted: the other members' scores are now shown."))
    return _to_page(access)


def _require_item(access: PanelRegionAccess, item: str) -> None:
    """404 unless ``item`` is one of the items the region's group is scored on."""
    if item not in {code.code for _c, code in access.framework.items_for(access.participation.group)}:
        raise Http404


@login_required
@require_POST
def revise(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    """An after-discussion revision of one of the member's submitted marks, with its reason."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if refusal := _require_scorer(request, access):
        return refusal
    form = RevisionForm(request.POST)
    if form.is_valid():
        item = form.cleaned_data["item"]
        _require_item(access, item)
        try:
            score_revise(panel_region=access.panel_region, assessor=acting_user(request), **form.cleaned_data)
        except (CycleClosed, PanelRejected) as exc:
            return refused_page(request, exc, back=_page_url(access))
        except ScoreRejected as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Revision after discussion of %(item)s recorded.") % {"item": item})
            return _to_page(access, f"#item-{item}")
    messages.error(request, _("Nothing was saved: correct the revision marked below."))
    return _region_page(request, access, revision_form=form)


@login_required
@require_POST
def evidence_request(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if refusal := _require_scorer(request, access):
        return refusal
    return _evidence_toggle(request, access, request.POST.get("item", ""))


def _evidence_toggle(request: HttpRequest, access: PanelRegionAccess, item: str) -> HttpResponse:
    _require_item(access, item)
    try:
        marked = evidence_request_toggle(
            panel_region=access.panel_region, item=item, user=acting_user(request)
        )
    except (CycleClosed, PanelRejected) as exc:
        return refused_page(request, exc, back=_page_url(access))
    if marked:
        messages.success(request, _("%(item)s is marked: needs evidence.") % {"item": item})
    else:
        messages.success(request, _("%(item)s no longer needs evidence.") % {"item": item})
    return _to_page(access, f"#item-{item}")


@login_required
@require_POST
def feedback(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if refusal := _require_scorer(request, access):
        return refusal
    form = FeedbackForm(request.POST)
    if form.is_valid():
        try:
            feedback_record(
                panel_region=access.panel_region, assessor=acting_user(request), **form.cleaned_data
            )
        except CycleClosed as exc:
            return refused_page(request, exc, back=_page_url(access))
        except PanelRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Feedback saved as a new revision."))
            return _to_page(access, "#feedback")
    return _region_page(request, access, feedback_form=form)


@login_required
@require_POST
def interview(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if not access.may_edit_interview:
        raise PermissionDenied
    if reason := phases.refusal(access.cycle, Activity.PANELS):
        return refused_page(request, reason, back=_page_url(access))
    form = InterviewForm(request.POST)
    if form.is_valid():
        try:
            interview_record(panel_region=access.panel_region, **form.cleaned_data)
        except CycleClosed as exc:
            return refused_page(request, exc, back=_page_url(access))
        except PanelRejected as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Interview record saved."))
            return _to_page(access, "#interview")
    return _region_page(request, access, interview_form=form)


def _consolidate(
    request: HttpRequest, access: PanelRegionAccess, form: ConsolidatedScoreForm
) -> HttpResponse | None:
    """Record the chair's consolidated score from ``form``: the response (a redirect, a
    refusal), or None when the form keeps errors to show on the page."""
    if not access.may_consolidate:
        raise PermissionDenied
    if refusal := _scoring_refusal(request, access):
        return refusal
    codes = {item.code for _c, item in access.framework.items_for(access.participation.group)}
    if not form.is_valid():
        return None
    if form.cleaned_data["item"] not in codes:
        raise Http404
    try:
        consolidated_score_record(
            panel_region=access.panel_region,
            item=form.cleaned_data["item"],
            score=form.cleaned_data["score"],
            reason=form.cleaned_data["reason"],
            user=acting_user(request),
        )
    except (CycleClosed, PanelRejected) as exc:
        return refused_page(request, exc, back=_page_url(access))
    except ScoreRejected as exc:
        for field, message in exc.errors.items():
            form.add_error(field if field in form.fields else None, message)
        return None
    messages.success(
        request, _("Consolidated score of %(item)s recorded.") % {"item": form.cleaned_data["item"]}
    )
    url = reverse("panels:consolidation", kwargs=_kwargs(access))
    return redirect(url + f"#item-{form.cleaned_data['item']}")


@login_required
def consolidation(request: HttpRequest, cycle: str, stage: str, region: str) -> HttpResponse:
    """The chair's page (after their own submission) and the coordinator's (read-only)."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if not access.may_view_consolidation:
        if access.is_chair:
            return refused_page(
                request,
                _("Submit your own marks first: then the consolidation opens."),
                back=_page_url(access),
            )
        raise PermissionDenied
    form = None
    if request.method == "POST":
        form = ConsolidatedScoreForm(request.POST)
        if answered := _consolidate(request, access, form):
            return answered
    flagged_only = request.GET.get("flagged") == "1"
    table = consolidation_table(access.panel_region, flagged_only=flagged_only)
    context = {
        "access": access,
        "panel": access.panel,
        "cycle": access.cycle,
        "region": access.participation.region,
        "stage": access.panel_region.stage,
        "stage_label": stage_label(access.panel_region.stage),
        "framework": access.framework,
        "table": table,
        "flagged_only": flagged_only,
        "form": form,
        "form_item": form.data.get("item") if form is not None else None,
        "closed_reason": phases.refusal(access.cycle, Activity.SCORING),
        "can_consolidate": access.may_consolidate and phases.refusal(access.cycle, Activity.SCORING) is None,
    }
    return render(request, "panels/consolidation.html", context)
