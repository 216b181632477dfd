"""Self-assessment pages: the overview with the claimed index, item answers with their
history and evidence, assignment to OPDs, submission, evidence downloads.

Access: any member of the region reads (others get 404); the regional admin answers every
item, an OPD contributor the items assigned to their OPD, the coordinator none (403).
Assignment and submission are the regional admin's. Once the self-assessment is closed
(submitted, past the deadline, or the cycle is not open) every write gets 403 with the reason.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, require_evidence_reader
from cityeval.web.assessments.forms import (
    UNASSIGN,
    AnswerForm,
    AssignForm,
    EvidenceFileForm,
    EvidenceLinkForm,
)
from cityeval.web.assessments.models import AnswerRevision, Evidence
from cityeval.web.assessments.overview import KIND_LABELS, overview_tables
from cityeval.web.assessments.selectors import (
    SelfAssessment,
    answer_history,
    assignments,
    claimed_index,
    counted_level,
    evidence_closed_reason,
    evidence_for,
    item_of,
    item_rows,
    latest_answers,
    may_answer,
    self_assessment_for,
    topup_until,
)
from cityeval.web.assessments.services import (
    AnswerRejected,
    EvidenceRejected,
    answer_record,
    evidence_upload,
    item_assign,
    self_assessment_reopen,
    self_assessment_submit,
)
from cityeval.web.assessments.tasks import neighbours, opd_progress
from cityeval.web.assessments.uploads import type_name
from cityeval.web.confirm import confirm_page, confirmed
from cityeval.web.downloads import stored_file_response
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import StatusChange
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.templatetags.cityeval import label
from cityeval.web.kkpd.summary import runs_kkpd, summary_file_name, summary_pdf
from cityeval.web.refusals import Refused, refused_page


def _refused(request: HttpRequest, sa: SelfAssessment, refusal: Refused | str) -> HttpResponse:
    """A write the closed self-assessment does not take: 403 with the reason."""
    return refused_page(request, refusal, back=_overview_url(sa), context={"region": sa.access.region})


def _refused_if_closed(request: HttpRequest, sa: SelfAssessment) -> HttpResponse | None:
    """Checked before the input, so a closed self-assessment answers with its reason rather
    than with complaints about a form that cannot be used anyway."""
    reason = phases.self_assessment_refusal(sa.participation)
    return _refused(request, sa, reason) if reason else None


def _overview_url(sa: SelfAssessment) -> str:
    return reverse(
        "assessments:overview", kwargs={"region": sa.access.region.slug, "cycle": sa.participation.cycle.slug}
    )


def _to_overview(sa: SelfAssessment) -> HttpResponse:
    return redirect(_overview_url(sa))


def _to_item(sa: SelfAssessment, code: str) -> HttpResponse:
    return redirect(
        "assessments:item", region=sa.access.region.slug, cycle=sa.participation.cycle.slug, item=code
    )


@login_required
def overview(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    sa = self_assessment_for(request.user, region, cycle)
    participation = sa.participation
    opd_filter = request.GET.get("opd") or None
    answers = latest_answers(participation, full=False)
    reason = phases.self_assessment_refusal(participation)
    opds = list(sa.access.region.opds.all())
    blocks = item_rows(participation, answers=answers, opd=opd_filter)
    can_manage = sa.access.is_admin and reason is None
    tables = overview_tables(
        blocks, region=sa.access.region.slug, cycle=participation.cycle.slug, select=can_manage
    )
    context = {
        "access": sa.access,
        "region": sa.access.region,
        "participation": participation,
        "cycle": participation.cycle,
        "framework": sa.framework,
        "blocks": blocks,
        "tables": tables,
        "opd_progress": opd_progress(
            participation, blocks if opd_filter is None else item_rows(participation, answers=answers)
        )
        if sa.access.is_admin or sa.access.is_coordinator
        else [],
        "index": claimed_index(participation, answers),
        "closed_reason": reason,
        "topup": sorted(topup_until(participation).items()),
        "can_manage": can_manage,
        "opds": opds,
        "opd_filter": opd_filter,
        "can_reopen": sa.access.is_coordinator and participation.submitted_at is not None,
        "status_history": StatusChange.objects.filter(participation=participation).select_related(
            "changed_by"
        ),
    }
    return render(request, "assessments/overview.html", context)


@login_required
@require_POST
def assign(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    sa = self_assessment_for(request.user, region, cycle)
    sa.access.require_admin()
    if refused := _refused_if_closed(request, sa):
        return refused
    codes = [item.code for _component, item in sa.framework.items_for(sa.participation.group)]
    form = AssignForm(request.POST, item_codes=codes, opds=sa.access.region.opds.all())
    if not form.is_valid():
        no_choice = not request.POST.get("opd")  # a choice is required: no default removes anything
        messages.error(
            request,
            _("Nothing was assigned: choose an OPD, or “Remove the assignment”.")
            if no_choice
            else _("Nothing was assigned: choose at least one item of this self-assessment."),
        )
        return _to_overview(sa)
    opd, items = form.cleaned_data["opd"], form.cleaned_data["items"]
    if opd is None and not confirmed(request):
        return _unassign_confirmation(request, sa, items)
    try:
        count = item_assign(participation=sa.participation, items=items, opd=opd, user=acting_user(request))
    except CycleClosed as exc:
        return _refused(request, sa, exc)
    if opd is None:
        messages.success(request, _("%(count)d items are no longer assigned.") % {"count": count})
    else:
        messages.success(
            request, _("%(count)d items assigned to %(opd)s.") % {"count": count, "opd": opd.name}
        )
    return _to_overview(sa)


def _unassign_confirmation(request: HttpRequest, sa: SelfAssessment, items: list[str]) -> HttpResponse:
    """Removing assignments is never a default: the admin confirms, seeing the items."""
    current = assignments(sa.participation)
    return confirm_page(
        request,
        title=_("Remove the assignment of %(count)d items?") % {"count": len(items)},
        action=request.path,
        cancel=_overview_url(sa),
        button=_("Yes, remove the assignment"),
        consequences=[
            _("These items are no longer assigned to an OPD: only the regional admin can answer them."),
            _("Answers and evidence already given are kept."),
        ],
        details=[
            f"{code} — {current[code].opd.name if code in current else _('not assigned')}" for code in items
        ],
        details_label=_("Items"),
        hidden=[("opd", UNASSIGN), *(("items", code) for code in items)],
    )


def _unanswered(sa: SelfAssessment) -> list[str]:
    """The group's items without an answer, as "code — name" lines."""
    answers = latest_answers(sa.participation)
    return [
        f"{item.code} — {label(item.label)}"
        for _component, item in sa.framework.items_for(sa.participation.group)
        if item.code not in answers
    ]


@login_required
def submit(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    """GET: the confirmation page (what submitting does, how many items are unanswered);
    POST with ``confirm=yes``: submit. A POST without it only shows the confirmation."""
    sa = self_assessment_for(request.user, region, cycle)
    sa.access.require_admin()
    if refused := _refused_if_closed(request, sa):
        return refused
    if not confirmed(request):
        missing = _unanswered(sa)
        total = sum(1 for _pair in sa.framework.items_for(sa.participation.group))
        unfinished = []
        if missing:
            unfinished.append(
                _("%(missing)d of %(total)d items unanswered (%(answered)d answered).")
                % {"missing": len(missing), "total": total, "answered": total - len(missing)}
            )
        return confirm_page(
            request,
            title=_("Submit the self-assessment of %(region)s?") % {"region": sa.access.region.name},
            action=request.path,
            cancel=_overview_url(sa),
            button=_("Yes, submit the self-assessment"),
            consequences=[
                _("Every answer and piece of evidence becomes read-only for the region."),
                _("The assessors score what is there now; unanswered items are not scored."),
                _("Only the national coordinator can reopen it, with a written reason."),
            ],
            unfinished=unfinished,
            details=missing,
            details_label=_("Unanswered items"),
        )
    try:
        self_assessment_submit(participation=sa.participation, user=acting_user(request))
    except CycleClosed as exc:
        return _refused(request, sa, exc)
    messages.success(request, _("The self-assessment is submitted. Answers are now read-only."))
    return _to_overview(sa)


@login_required
def reopen(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    """The coordinator reopens a submitted self-assessment, with a reason kept in the history."""
    sa = self_assessment_for(request.user, region, cycle)  # 404 to outsiders
    if not sa.access.is_coordinator:
        raise PermissionDenied
    if sa.participation.submitted_at is None:
        messages.error(request, _("This self-assessment is not submitted."))
        return _to_overview(sa)
    error = ""
    if confirmed(request):
        try:
            self_assessment_reopen(
                participation=sa.participation,
                user=acting_user(request),
                reason=request.POST.get("reason", ""),
            )
        except Refused as exc:
            error = str(exc)
        else:
            messages.success(
                request, _("The self-assessment is open again; the region can change its answers.")
            )
            return _to_overview(sa)
    return confirm_page(
        request,
        title=_("Reopen the self-assessment of %(region)s?") % {"region": sa.access.region.name},
        action=request.path,
        cancel=_overview_url(sa),
        button=_("Reopen the self-assessment"),
        consequences=[
            _("The region can change its answers and evidence again until the deadline, then submits again."),
            _("The reason is kept in the history with your name and the time."),
        ],
        needs_reason=True,
        reason_error=error,
        status=400 if error else 200,
    )


def _answer_form(sa: SelfAssessment, item, latest: AnswerRevision | None) -> AnswerForm:
    """An empty form, or one holding the current answer so a correction starts from it."""
    initial = {}
    if latest is not None:
        initial = {"level": latest.level, "raw_value": latest.raw_value, "narrative": latest.narrative}
    return AnswerForm(initial=initial, item=item, framework=sa.framework)


def _item_page(request: HttpRequest, sa: SelfAssessment, code: str, **forms) -> HttpResponse:
    participation = sa.participation
    component, item = item_of(participation, code)
    assignment = assignments(participation).get(code)
    reason = phases.self_assessment_refusal(participation)
    history = [(r, counted_level(sa.framework, item, r)) for r in answer_history(participation, code)]
    files = evidence_for(participation, code)
    evidence = [(e, type_name(e.blob.content_type) if e.blob else "") for e in files]
    answer_form = forms.get("answer_form") or _answer_form(sa, item, history[0][0] if history else None)
    file_form = forms.get("file_form") or EvidenceFileForm()
    link_form = forms.get("link_form") or EvidenceLinkForm()
    for form in (answer_form, file_form, link_form):
        # One form holds all three: a browser must not refuse Upload for an empty link field.
        # The server checks each part that was filled in.
        form.use_required_attribute = False
    context = {
        "access": sa.access,
        "region": sa.access.region,
        "participation": participation,
        "cycle": participation.cycle,
        "framework": sa.framework,
        "component": component,
        "item": item,
        "kind_label": KIND_LABELS[item.kind],
        "assignment": assignment,
        "latest": history[0] if history else None,
        "history": history,
        "evidence": evidence,
        "closed_reason": reason,
        "can_answer": may_answer(sa.access, assignment) and reason is None,
        "can_add_evidence": (
            may_answer(sa.access, assignment) and evidence_closed_reason(participation, code) is None
        ),
        "topup_until": topup_until(participation).get(code),
        "answer_form": answer_form,
        "file_form": file_form,
        "link_form": link_form,
        "max_mb": settings.EVIDENCE_MAX_MB,
        "runs_kkpd": runs_kkpd(sa.access.region),
        "neighbours": neighbours(sa, code),
        "descriptors": sa.framework.descriptors_for(item),
    }
    return render(request, "assessments/item.html", context)


def _require_answerer(sa: SelfAssessment, code: str) -> None:
    item_of(sa.participation, code)  # 404 before 403: an unknown item is not there to refuse
    if not may_answer(sa.access, assignments(sa.participation).get(code)):
        raise PermissionDenied


@login_required
def item_detail(request: HttpRequest, region: str, cycle: str, item: str) -> HttpResponse:
    sa = self_assessment_for(request.user, region, cycle)
    _component, the_item = item_of(sa.participation, item)
    if request.method != "POST":
        return _item_page(request, sa, item)
    _require_answerer(sa, item)
    if refused := _refused_if_closed(request, sa):
        return refused
    form = AnswerForm(request.POST, item=the_item, framework=sa.framework)
    if form.is_valid():
        data = form.cleaned_data
        try:
            answer_record(
                participation=sa.participation,
                item=item,
                level=data.get("level"),
                raw_value=data.get("raw_value"),
                narrative=data["narrative"],
                user=acting_user(request),
            )
        except CycleClosed as exc:
            return _refused(request, sa, exc)
        except AnswerRejected as exc:
            for field, message in exc.errors.items():
                form.add_error(field if field in form.fields else None, message)
        else:
            messages.success(request, _("Answer saved as a new revision."))
            return _to_item(sa, item)
    return _item_page(request, sa, item, answer_form=form)


@login_required
def evidence_download(request: HttpRequest, evidence) -> FileResponse:
    """The stored file, to members of its region and the assessors of its panels only, always
    as a download: an uploaded file is never rendered by the browser on this site."""
    found = get_object_or_404(
        Evidence.objects.select_related("participation__region", "blob"), public_id=evidence
    )
    require_evidence_reader(request.user, found.participation)  # 404 to outsiders
    if found.blob is None:
        raise Http404  # a link: the item page links to it directly
    return stored_file_response(
        found.blob.file.open("rb"), filename=found.original_name, content_type=found.blob.content_type
    )


@login_required
@require_POST
def kkpd_summary_attach(request: HttpRequest, region: str, cycle: str, item: str) -> HttpResponse:
    """One click: the region's KKPD summary PDF for a year becomes evidence for ``item``, through
    the same evidence service as an uploaded file (checked on content, stored by hash)."""
    sa = self_assessment_for(request.user, region, cycle)
    _require_answerer(sa, item)
    region_obj = sa.access.region
    if not runs_kkpd(region_obj):
        raise Http404
    if reason := evidence_closed_reason(sa.participation, item):
        return _refused(request, sa, reason)
    year_text = request.POST.get("year", "")
    year = (
        int(year_text)
        if year_text.isdigit() and 2000 <= int(year_text) <= 2100
        else sa.participation.cycle.year
    )
    pdf = summary_pdf(region=region_obj, year=year)
    upload = SimpleUploadedFile(summary_file_name(region=region_obj, year=year), pdf, "application/pdf")
    try:
        evidence_upload(participation=sa.participation, item=item, upload=upload, user=acting_user(request))
    except CycleClosed as exc:
        return _refused(request, sa, exc)
    except EvidenceRejected as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, _("KKPD summary attached as evidence."))
    return _to_item(sa, item)
