"""Writes for the survey plan: target, demographics and form modes, the forms made from it, and
the raking margins. A form that holds responses is pinned to the data collected under it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine.survey import AGE_BANDS, SEXES, build_forms
from cityeval.engine.survey.forms import Mode as FormMode
from cityeval.web.bounds import POSITIVE_INTEGER_MAX
from cityeval.web.evaluations.models import Participation
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.models import DimensionMode, Mode, PlanEntry, SurveyForm, SurveyPlan
from cityeval.web.surveys.readiness import FormNotReady, subdimensions_of, unnamed_subdimensions
from cityeval.web.surveys.services import InvalidInput, require_open_cycle

TARGET_MAX = 100_000


def plan_get_or_create(*, participation: Participation) -> SurveyPlan:
    plan, _created = SurveyPlan.objects.get_or_create(participation=participation)
    return plan


@dataclass(frozen=True)
class EntryInput:
    programme: Programme | None = None
    known_users: int | None = None


@dataclass(frozen=True)
class PlanInput:
    target: int
    demographics: bool
    modes: dict[str, str]  # dimension code → "combined" | "split"
    entries: dict[str, EntryInput] = field(default_factory=dict)  # sub-dimension code → entry


def locked_dimensions(plan: SurveyPlan) -> set[str]:
    """Dimensions whose forms already hold responses: their mode can no longer change."""
    return set(plan.forms.filter(responses__isnull=False).values_list("dimension", flat=True).distinct())


def _plan_errors(plan: SurveyPlan, data: PlanInput) -> dict[str, list[str]]:
    framework = plan.participation.cycle.framework.framework
    errors: dict[str, list[str]] = {}
    if not 1 <= data.target <= TARGET_MAX:
        errors["target"] = [_("The target must be between 1 and %(max)d.") % {"max": TARGET_MAX}]
    dimensions = {d.code for d in framework.dimensions}
    subdimensions = {s.code for d in framework.dimensions for s in d.subdimensions}
    current = {m.dimension: m.mode for m in plan.modes.all()}
    locked = locked_dimensions(plan)
    for dimension, mode in data.modes.items():
        if dimension not in dimensions or mode not in Mode.values:
            errors.setdefault("modes", []).append(_("Unknown dimension or mode: %(d)s.") % {"d": dimension})
        elif dimension in locked and current.get(dimension, Mode.SPLIT) != mode:
            errors.setdefault(f"mode_{dimension}", []).append(
                _("This dimension's forms already have responses: its form mode cannot change.")
            )
    region_id = plan.participation.region_id
    for sub, entry in data.entries.items():
        if sub not in subdimensions:
            errors.setdefault("entries", []).append(_("Unknown sub-dimension: %(s)s.") % {"s": sub})
        if entry.programme is not None and entry.programme.region_id != region_id:
            errors.setdefault(f"programme_{sub}", []).append(_("Choose a programme of this region."))
        if entry.known_users is not None and entry.known_users < 0:
            errors.setdefault(f"users_{sub}", []).append(_("The number of users cannot be negative."))
        elif entry.known_users is not None and entry.known_users > POSITIVE_INTEGER_MAX:
            errors.setdefault(f"users_{sub}", []).append(
                _("The number of users cannot exceed %(max)d.") % {"max": POSITIVE_INTEGER_MAX}
            )
    return errors


@transaction.atomic
def plan_save(*, participation: Participation, data: PlanInput) -> SurveyPlan:
    """Save the plan: target, demographics, a mode per dimension, a programme per sub-dimension.

    The forms are not touched: :func:`forms_generate` makes them from the saved plan.
    Raises CycleClosed (nothing saved) unless the cycle is open.
    """
    require_open_cycle(participation)
    plan = plan_get_or_create(participation=participation)
    plan = (
        SurveyPlan.objects.select_for_update()
        .select_related("participation__cycle__framework")
        .get(pk=plan.pk)
    )
    errors = _plan_errors(plan, data)
    if errors:
        raise InvalidInput(errors)
    plan.target, plan.demographics = data.target, data.demographics
    plan.save(update_fields=["target", "demographics", "updated_at"])
    for dimension, mode in data.modes.items():
        DimensionMode.objects.update_or_create(plan=plan, dimension=dimension, defaults={"mode": mode})
    for sub, entry in data.entries.items():
        PlanEntry.objects.update_or_create(
            plan=plan,
            subdimension=sub,
            defaults={"programme": entry.programme, "known_users": entry.known_users},
        )
    return plan


@dataclass(frozen=True)
class GenerateResult:
    created: list[str]
    updated: list[str]
    removed: list[str]
    kept: list[str]  # forms with responses the plan no longer produces: kept, closed
    unnamed: list[str] = field(default_factory=list)  # forms left closed: a service is not named


@transaction.atomic
def forms_generate(*, plan: SurveyPlan) -> GenerateResult:
    """Create or update the plan's forms from the pinned framework.

    A form that already has responses keeps its statements and mode (they are pinned to the
    data collected under them); its target and demographics follow the plan. A form the plan
    no longer produces is removed when empty and closed when it has responses. A form whose
    services the plan does not all name is created (or left) closed: see :class:`FormNotReady`.
    Raises CycleClosed (nothing changed) unless the cycle is open.
    """
    require_open_cycle(plan.participation)
    plan = (
        SurveyPlan.objects.select_for_update()
        .select_related("participation__cycle__framework")
        .get(pk=plan.pk)
    )
    framework = plan.participation.cycle.framework.framework
    # Mode from a str: build_forms refuses any mode other than the two.
    modes = {m.dimension: cast(FormMode, m.mode) for m in plan.modes.all()}
    specs = build_forms(framework, modes=modes, target=plan.target, demographics=plan.demographics)
    existing = {f.code: f for f in plan.forms.all()}
    # Forms holding responses or imports are pinned to the data collected under them.
    answered = set(plan.forms.filter(responses__isnull=False).values_list("code", flat=True))
    answered |= set(plan.forms.filter(imports__isnull=False).values_list("code", flat=True))
    named = {e.subdimension for e in plan.entries.all() if e.programme_id is not None}
    created, updated, unnamed = [], [], []
    for spec in specs:
        form = existing.pop(spec.code, None)
        ready = all(sub in named for sub in subdimensions_of(framework, spec.dimension, spec.subdimension))
        if not ready:
            unnamed.append(spec.code)
        if form is None:
            SurveyForm.objects.create(
                plan=plan,
                code=spec.code,
                dimension=spec.dimension,
                subdimension=spec.subdimension or "",
                statements=list(spec.statements),
                mode=spec.mode,
                target=spec.target,
                demographics=spec.demographics,
                is_open=ready,
            )
            created.append(spec.code)
            continue
        form.target, form.demographics = spec.target, spec.demographics
        form.is_open = form.is_open and ready
        if spec.code not in answered:
            form.dimension, form.subdimension = spec.dimension, spec.subdimension or ""
            form.statements, form.mode = list(spec.statements), spec.mode
        form.save()
        updated.append(spec.code)
    removed, kept = [], []
    for code, form in existing.items():
        if code in answered:
            form.is_open = False
            form.save(update_fields=["is_open"])
            kept.append(code)
        else:
            form.delete()
            removed.append(code)
    return GenerateResult(created=created, updated=updated, removed=removed, kept=kept, unnamed=unnamed)


def form_set_open(*, form: SurveyForm, is_open: bool) -> SurveyForm:
    """Open or close the form's link. Raises CycleClosed unless the cycle is open, and
    FormNotReady (nothing changed) when opening a form that does not name its services."""
    require_open_cycle(form.plan.participation)
    if is_open and (missing := unnamed_subdimensions(form)):
        raise FormNotReady(form, missing)
    form.is_open = is_open
    form.save(update_fields=["is_open"])
    return form


# --- raking margins -------------------------------------------------------------------------


def margins_save(*, plan: SurveyPlan, shares: dict[tuple[str, str], float] | None) -> SurveyPlan:
    """Store the population shares per (age band, sex) cell, normalised to sum to 1; ``None``
    removes them. Raises InvalidInput for unknown cells, negative shares or a zero total, and
    CycleClosed unless the cycle is open (nothing saved)."""
    require_open_cycle(plan.participation)
    if shares is None:
        plan.margins, plan.margins_updated_at = None, timezone.now()
        plan.save(update_fields=["margins", "margins_updated_at", "updated_at"])
        return plan
    errors: dict[str, list[str]] = {}
    for (age, sex), share in shares.items():
        if age not in AGE_BANDS or sex not in SEXES:
            errors.setdefault("__all__", []).append(
                _("Unknown cell %(age)s × %(sex)s.") % {"age": age, "sex": sex}
            )
        elif share < 0:
            errors.setdefault(f"cell_{age}_{sex}", []).append(_("A share cannot be negative."))
    total = sum(v for v in shares.values() if v > 0)
    if not errors and total <= 0:
        errors["__all__"] = [_("Give at least one positive share.")]
    if errors:
        raise InvalidInput(errors)
    plan.margins = [
        {"age_band": age, "sex": sex, "share": share / total} for (age, sex), share in sorted(shares.items())
    ]
    plan.margins_updated_at = timezone.now()
    plan.save(update_fields=["margins", "margins_updated_at", "updated_at"])
    return plan
