"""The follow-up pages (issue 15; :mod:`cityeval.web.results.followup` says who sees what):
a region's actions, making them from a published cycle's recommendations, one action with its
history and evidence, the next cycle's assessors' read-only view, and the coordinator's
follow-up rates. Every write is a POST that redirects back; a refusal shows the page again
with the reason (422) and nothing saved."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.csrf import csrf_exempt, csrf_protect
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import acting_user, require_coordinator
from cityeval.web.assessments.services import EvidenceNotStored, clean_file_name
from cityeval.web.assessments.uploads import SizeLimitHandler
from cityeval.web.downloads import stored_file_response
from cityeval.web.evaluations.models import Cycle
from cityeval.web.results.followup import (
    ActionAccess,
    FollowUpRefused,
    action_access,
    action_create,
    action_evidence_add,
    action_update,
    actions_visible,
    earlier_actions,
    followup_access,
    followup_rates,
    published_participation,
    recommendations,
    review_access,
    split_text,
)
from cityeval.web.results.followup_forms import ActionCreateForm, ActionUpdateForm, EvidenceForm
from cityeval.web.results.followup_models import ActionEvidence
from cityeval.web.results.models import ResultRun


@login_required
def region_actions(request: HttpRequest, region: str) -> HttpResponse:
    rights = followup_access(request.user, region)
    actions = (
        actions_visible(rights).select_related("cycle", "opd").order_by("-cycle__year", "created_at", "id")
    )
    # Cycles published from panel scores: an imported table of an earlier year has no
    # recommendations to follow up.
    published = (
        rights.region.participations.filter(
            cycle__status=Cycle.Status.PUBLISHED,
            cycle__result_runs__is_current=True,
            cycle__result_runs__level=ResultRun.Level.ITEM,
        )
        .select_related("cycle")
        .order_by("-cycle__year")
    )
    context = {
        "region": rights.region,
        "rights": rights,
        "actions": list(actions),
        "published": [p.cycle for p in published] if rights.is_admin else [],
    }
    return render(request, "results/followup_region.html", context)


@login_required
def create(request: HttpRequest, region: str, cycle: str) -> HttpResponse:
    """The published recommendations on the region, each with a form that makes actions of it."""
    rights = followup_access(request.user, region)
    rights.require_admin()
    participation = published_participation(rights, cycle)
    found = recommendations(participation)
    forms = {
        r.feedback.pk: ActionCreateForm(
            region=rights.region, prefix=f"r{k}", initial={"text": r.feedback.recommendations}
        )
        for k, r in enumerate(found)
    }
    status = 200
    if request.method == "POST":
        chosen = next((r for r in found if str(r.feedback.pk) == request.POST.get("recommendation")), None)
        if chosen is None:
            raise Http404
        k = found.index(chosen)
        form = ActionCreateForm(request.POST, region=rights.region, prefix=f"r{k}")
        forms[chosen.feedback.pk] = form
        if form.is_valid():
            data = form.cleaned_data
            try:
                made = action_create(
                    participation=participation, feedback=chosen.feedback,
                    texts=split_text(data["text"], per_line=data["per_line"]), opd=data["opd"],
                    due_on=data["due_on"], user=acting_user(request),
                )  # fmt: skip
            except FollowUpRefused as exc:
                form.add_error(None, str(exc))
            else:
                text = ngettext(
                    "%(n)d action made from the recommendation.",
                    "%(n)d actions made from the recommendation.",
                    len(made),
                )
                messages.success(request, text % {"n": len(made)})
                return redirect("results:followup_region", region=rights.region.slug)
        status = 422
    context = {
        "region": rights.region,
        "cycle": participation.cycle,
        "items": [(r, forms[r.feedback.pk]) for r in found],
    }
    return render(request, "results/followup_create.html", context, status=status)


def _action_page(
    request: HttpRequest,
    access: ActionAccess,
    *,
    update_form: ActionUpdateForm | None = None,
    evidence_form: EvidenceForm | None = None,
    status: int = 200,
) -> HttpResponse:
    action = access.action
    if access.may_change and update_form is None:
        initial = {
            "status": action.status, "due_on": action.due_on, "done_on": action.done_on,
            "text": action.text, "opd": action.opd_id,
        }  # fmt: skip
        update_form = ActionUpdateForm(region=action.region, assign=access.may_assign, initial=initial)
    refused = next((f for f in (update_form, evidence_form) if f is not None and f.is_bound), None)
    lost = evidence_form.lost_file() if evidence_form is not None else ""
    context = {
        "region": action.region,
        "action": action,
        "access": access,
        # A refused form is summed up at the top of the page (on a phone its fields are far below).
        "refused_form": refused,
        "lost_file": clean_file_name(lost) if lost else "",
        "history": list(action.history.select_related("changed_by")),
        "evidence": list(action.evidence.select_related("added_by")),
        "update_form": update_form,
        "evidence_form": evidence_form or EvidenceForm(),
    }
    return render(request, "results/followup_action.html", context, status=status)


@login_required
def action(request: HttpRequest, region: str, action: str) -> HttpResponse:
    return _action_page(request, action_access(request.user, region, action))


def _require_change(access: ActionAccess) -> None:
    if not access.may_change:
        raise PermissionDenied


@login_required
@require_POST
def action_change(request: HttpRequest, region: str, action: str) -> HttpResponse:
    access = action_access(request.user, region, action)
    _require_change(access)
    form = ActionUpdateForm(request.POST, region=access.action.region, assign=access.may_assign)
    if form.is_valid():
        data = form.cleaned_data
        try:
            action_update(
                action=access.action, user=acting_user(request), status=data["status"],
                due_on=data["due_on"], done_on=data["done_on"], note=data["note"],
                assign=access.may_assign, text=data.get("text") or access.action.text, opd=data.get("opd"),
            )  # fmt: skip
        except FollowUpRefused as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("The action was updated; the change is kept in its history."))
            return redirect("results:followup_action", region=region, action=access.action.public_id)
    return _action_page(request, access, update_form=form, status=422)


def _add_errors(form, exc: FollowUpRefused) -> None:
    fields = {k: v for k, v in exc.errors.items() if k in form.fields}
    for field, message in fields.items():
        form.add_error(field, str(message))
    if not fields:
        form.add_error(None, str(exc))


@csrf_exempt  # CSRF is checked below, once the size-limiting upload handler is in place
@login_required
def evidence_add(request: HttpRequest, region: str, action: str) -> HttpResponse:
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    # Before the body is parsed (by the CSRF check): an oversized file is never read in full.
    handler = SizeLimitHandler(request)
    request.upload_handlers.insert(0, handler)  # type: ignore[union-attr]
    return _evidence_add(request, region, action, handler)


@csrf_protect
def _evidence_add(request: HttpRequest, region: str, action: str, handler: SizeLimitHandler) -> HttpResponse:
    access = action_access(request.user, region, action)
    _require_change(access)
    form = EvidenceForm(request.POST, request.FILES, too_large=handler.exceeded)
    if form.is_valid():
        data = form.cleaned_data
        try:
            action_evidence_add(
                action=access.action, user=acting_user(request), url=data["url"], note=data["note"],
                upload=data["file"],
            )  # fmt: skip
        except EvidenceNotStored as exc:
            form.add_error("file", str(exc))
            return _action_page(request, access, evidence_form=form, status=503)
        except FollowUpRefused as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Evidence added."))
            return redirect("results:followup_action", region=region, action=access.action.public_id)
    return _action_page(request, access, evidence_form=form, status=422)


def _file(found: ActionEvidence) -> FileResponse:
    if found.blob is None:
        raise Http404  # a link or a note: the page shows it
    return stored_file_response(
        found.blob.file.open("rb"), filename=found.original_name, content_type=found.blob.content_type
    )


@login_required
def evidence_file(request: HttpRequest, region: str, action: str, evidence: str) -> FileResponse:
    """An evidence file, always as a download, to those who may read the action."""
    access = action_access(request.user, region, action)
    return _file(
        get_object_or_404(
            ActionEvidence.objects.select_related("blob"), action=access.action, public_id=evidence
        )
    )


@login_required
def review_file(request: HttpRequest, cycle: str, region: str, evidence: str) -> FileResponse:
    """An evidence file of an earlier cycle's action, to the assessors who may read the review."""
    participation = review_access(request.user, cycle, region)
    found = get_object_or_404(
        ActionEvidence.objects.select_related("blob"),
        action__in=earlier_actions(participation).values("id"),
        public_id=evidence,
    )
    return _file(found)


@login_required
def review(request: HttpRequest, cycle: str, region: str) -> HttpResponse:
    """What the region did about earlier cycles' recommendations, read-only, for the assessors
    of a panel the region is assigned to in ``cycle``."""
    participation = review_access(request.user, cycle, region)
    context = {
        "region": participation.region,
        "cycle": participation.cycle,
        "actions": list(earlier_actions(participation)),
    }
    return render(request, "results/followup_review.html", context)


@login_required
def rates(request: HttpRequest) -> HttpResponse:
    require_coordinator(request.user)
    cycles = list(Cycle.objects.filter(status=Cycle.Status.PUBLISHED).order_by("-year", "slug"))
    chosen = None
    if slug := request.GET.get("cycle"):
        chosen = get_object_or_404(Cycle, slug=slug)
    rows, national = followup_rates(chosen)
    context = {"cycles": cycles, "chosen": chosen, "rows": rows, "national": national}
    return render(request, "results/followup_rates.html", context)
