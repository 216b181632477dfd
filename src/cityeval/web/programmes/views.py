"""The programme and quick-win registry of a region.

Any member of the region reads (the coordinator too); writes follow the owning OPD: a regional
admin changes every programme, an OPD contributor only those their own OPD owns.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from cityeval.web.accounts.access import RegionAccess, acting_user, region_access
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.labels import page_language
from cityeval.web.programmes.forms import CriteriaForm, ProgrammeForm, RiskForm, add_service_errors
from cityeval.web.programmes.models import Programme, Risk
from cityeval.web.programmes.selectors import (
    criterion_answers_latest,
    dimension_labels,
    programme_of_region,
    programmes_of_region,
    quick_win_criteria,
    region_framework,
    region_participations,
    subdimension_labels,
)
from cityeval.web.programmes.services import (
    InvalidInput,
    programme_create,
    programme_update,
    quick_win_criteria_record,
    risk_add,
    risk_delete,
)
from cityeval.web.refusals import Refused, refused_page
from cityeval.web.regions.models import Opd


def _owners_for(access: RegionAccess) -> QuerySet[Opd]:
    """The OPDs this user may name as a programme's owner."""
    if access.is_admin:
        return access.region.opds.all()
    if access.opd is not None:
        return access.region.opds.filter(pk=access.opd.pk)
    return access.region.opds.none()


def _programme_form(access: RegionAccess, data=None, *, initial=None) -> ProgrammeForm:
    return ProgrammeForm(
        data,
        initial=initial,
        framework=region_framework(region=access.region),
        owners=_owners_for(access),
        language=page_language(),
    )


@login_required
def programme_list(request: HttpRequest, region: str) -> HttpResponse:
    access = region_access(request.user, region)
    framework = region_framework(region=access.region)
    language = page_language()
    dimension = request.GET.get("dimension", "")
    status = request.GET.get("status", "")
    quick_win = {"yes": True, "no": False}.get(request.GET.get("quick_win", ""))
    programmes = programmes_of_region(
        region=access.region, dimension=dimension, status=status, quick_win=quick_win
    )
    return render(
        request,
        "programmes/programme_list.html",
        {
            "access": access,
            "region": access.region,
            "programmes": programmes,
            "dimensions": dimension_labels(framework, language),
            "subdimensions": subdimension_labels(framework, language),
            "statuses": Programme.Status.choices,
            "chosen": {
                "dimension": dimension,
                "status": status,
                "quick_win": request.GET.get("quick_win", ""),
            },
        },
    )


@login_required
def programme_new(request: HttpRequest, region: str) -> HttpResponse:
    access = region_access(request.user, region)
    if not access.can_edit_anything:
        raise PermissionDenied
    form = _programme_form(access, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        # The owner choices already hold only OPDs this user may edit for; checked again here
        # so the rule lives in the access helper, not in a form's queryset.
        access.require_edit_for_opd(form.cleaned_data["owner"].id)
        try:
            programme = programme_create(
                region=access.region,
                framework=region_framework(region=access.region),
                fields=form.programme_fields(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Programme added."))
            return redirect(
                "programmes:programme_detail", region=access.region.slug, programme=programme.public_id
            )
    return render(
        request, "programmes/programme_new.html", {"access": access, "region": access.region, "form": form}
    )


@dataclass
class CycleCriteria:
    participation: Participation
    answered: int
    total: int


def _render_detail(
    request: HttpRequest,
    access: RegionAccess,
    programme: Programme,
    *,
    form: ProgrammeForm | None = None,
    risk_form: RiskForm | None = None,
) -> HttpResponse:
    framework = region_framework(region=access.region)
    language = page_language()
    can_edit = access.may_edit_for_opd(programme.owner_id)
    if can_edit and form is None:
        form = _programme_form(access, initial=ProgrammeForm.initial_for(programme))
    cycles = []
    if programme.is_quick_win:
        for participation in region_participations(region=access.region):
            criteria = quick_win_criteria(
                framework=participation.cycle.framework.framework, group=participation.group
            )
            codes = {item.code for item in criteria}
            answered = set(criterion_answers_latest(programme=programme, cycle=participation.cycle)) & codes
            cycles.append(
                CycleCriteria(participation=participation, answered=len(answered), total=len(criteria))
            )
    context = {
        "access": access,
        "region": access.region,
        "programme": programme,
        "dimension_label": dimension_labels(framework, language).get(
            programme.dimension, programme.dimension
        ),
        "subdimension_label": subdimension_labels(framework, language).get(
            programme.subdimension, programme.subdimension
        ),
        "can_edit": can_edit,
        "form": form if can_edit else None,
        "risk_form": (risk_form or RiskForm()) if can_edit else None,
        "risks": programme.risks.all(),
        "cycles": cycles,
    }
    return render(request, "programmes/programme_detail.html", context)


@login_required
def programme_detail(request: HttpRequest, region: str, programme: uuid.UUID) -> HttpResponse:
    """The programme, its quick-win state, and (for those who may) its edit form."""
    access = region_access(request.user, region)
    the_programme = programme_of_region(region=access.region, public_id=programme)
    if request.method != "POST":
        return _render_detail(request, access, the_programme)
    access.require_edit_for_opd(the_programme.owner_id)
    form = _programme_form(access, request.POST)
    if form.is_valid():
        # An OPD contributor may not hand their programme to another OPD.
        access.require_edit_for_opd(form.cleaned_data["owner"].id)
        try:
            programme_update(
                programme=the_programme,
                framework=region_framework(region=access.region),
                fields=form.programme_fields(),
            )
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Programme saved."))
            return redirect(
                "programmes:programme_detail", region=access.region.slug, programme=the_programme.public_id
            )
    the_programme.refresh_from_db()  # show what is stored, not the refused values
    return _render_detail(request, access, the_programme, form=form)


def _say_recorded(request: HttpRequest, count: int) -> None:
    if count:
        text = ngettext("%(count)d answer recorded.", "%(count)d answers recorded.", count)
        messages.success(request, text % {"count": count})
    else:
        messages.info(request, _("Nothing changed: these answers were already recorded."))


def _quick_win_in_cycle(
    access: RegionAccess, programme: uuid.UUID, cycle: str
) -> tuple[Programme, Participation]:
    """The region's quick win and its participation in the cycle; 404 if either is missing."""
    the_programme = programme_of_region(region=access.region, public_id=programme)
    if not the_programme.is_quick_win:
        raise Http404
    participation = get_object_or_404(
        Participation.objects.select_related("cycle", "cycle__framework"),
        region=access.region,
        cycle__slug=cycle,
    )
    return the_programme, participation


def _criteria_refused(
    request: HttpRequest,
    access: RegionAccess,
    programme: Programme,
    participation: Participation,
    reason: Refused | str,
) -> HttpResponse:
    """A criteria write the closed self-assessment does not take: 403 with the reason."""
    back = reverse(
        "programmes:quick_win_criteria",
        kwargs={
            "region": access.region.slug,
            "programme": programme.public_id,
            "cycle": participation.cycle.slug,
        },
    )
    return refused_page(request, reason, back=back, context={"region": access.region})


@login_required
def quick_win_criteria_view(
    request: HttpRequest, region: str, programme: uuid.UUID, cycle: str
) -> HttpResponse:
    """A quick win's self-assessment on the 12 Quick Win criteria of one cycle."""
    access = region_access(request.user, region)
    the_programme, participation = _quick_win_in_cycle(access, programme, cycle)
    the_cycle = participation.cycle
    framework = the_cycle.framework.framework
    criteria = quick_win_criteria(framework=framework, group=participation.group)
    states = criterion_answers_latest(programme=the_programme, cycle=the_cycle)
    reason = phases.self_assessment_refusal(participation)
    can_edit = access.may_edit_for_opd(the_programme.owner_id) and reason is None
    if request.method == "POST":
        access.require_edit_for_opd(the_programme.owner_id)
        if reason:  # before the input: a closed self-assessment answers with its reason
            return _criteria_refused(request, access, the_programme, participation, reason)
    form = CriteriaForm(
        request.POST if request.method == "POST" else None,
        criteria=criteria,
        scale=framework.scale,
        language=page_language(),
        latest={code: state.latest for code, state in states.items()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            created = quick_win_criteria_record(
                programme=the_programme, cycle=the_cycle, answers=form.answers(), author=acting_user(request)
            )
        except CycleClosed as exc:
            return _criteria_refused(request, access, the_programme, participation, exc)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            _say_recorded(request, len(created))
            return redirect(
                "programmes:quick_win_criteria",
                region=access.region.slug,
                programme=the_programme.public_id,
                cycle=the_cycle.slug,
            )
    rows = [(item, level, note, states.get(item.code)) for item, level, note in form.rows()]
    return render(
        request,
        "programmes/quick_win_criteria.html",
        {"access": access, "region": access.region, "programme": the_programme, "cycle": the_cycle,
         "scale": framework.scale, "form": form, "rows": rows, "can_edit": can_edit,
         "closed_reason": reason},
    )  # fmt: skip


@login_required
@require_POST
def risk_add_view(request: HttpRequest, region: str, programme: uuid.UUID) -> HttpResponse:
    access = region_access(request.user, region)
    the_programme = programme_of_region(region=access.region, public_id=programme)
    access.require_edit_for_opd(the_programme.owner_id)
    if not the_programme.is_quick_win:
        raise Http404  # only quick wins carry a risk register
    form = RiskForm(request.POST)
    if form.is_valid():
        try:
            risk_add(programme=the_programme, **form.cleaned_data)
        except InvalidInput as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Risk added."))
            return redirect(
                "programmes:programme_detail", region=access.region.slug, programme=the_programme.public_id
            )
    return _render_detail(request, access, the_programme, risk_form=form)


@login_required
@require_POST
def risk_delete_view(
    request: HttpRequest, region: str, programme: uuid.UUID, risk: uuid.UUID
) -> HttpResponse:
    access = region_access(request.user, region)
    the_programme = programme_of_region(region=access.region, public_id=programme)
    access.require_edit_for_opd(the_programme.owner_id)
    the_risk = get_object_or_404(Risk, programme=the_programme, public_id=risk)
    risk_delete(risk=the_risk)
    messages.success(request, _("Risk removed."))
    return redirect(
        "programmes:programme_detail", region=access.region.slug, programme=the_programme.public_id
    )
