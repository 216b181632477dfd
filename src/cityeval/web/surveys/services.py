"""What the survey's writes share: the refusals they raise, the cycle's state (the survey freezes
with its cycle) and the engine's description of a stored form.

The writes themselves live in ``plans.py`` (the plan, its forms and the raking margins) and
``responses.py`` (web submissions and imports).
"""

from __future__ import annotations

from django.db.models import BooleanField, Exists, F, Value
from django.utils.translation import gettext_lazy

from cityeval.engine.survey import FormSpec
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation, framework_of
from cityeval.web.evaluations.phases import Activity
from cityeval.web.imports import ImportRejected
from cityeval.web.refusals import Refused
from cityeval.web.surveys.models import PlanEntry, SurveyForm
from cityeval.web.surveys.readiness import subdimensions_of, unnamed_of

__all__ = [
    "ImportRejected",
    "InvalidInput",
    "SurveyClosed",
    "cycle_is_open",
    "form_accepts_responses",
    "require_open_cycle",
    "spec_of",
]


class InvalidInput(Refused, ValueError):
    """Input a service refuses; ``errors`` maps a field (or ``__all__``) to messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)


class SurveyClosed(Refused):
    """The form's link is closed, or its cycle no longer open: it takes no new responses.
    (The admin's writes in a cycle that is not open refuse with ``CycleClosed``.)"""

    default_message = gettext_lazy("This survey link is closed.")


# --- the cycle's state ----------------------------------------------------------------------


def cycle_is_open(participation: Participation) -> bool:
    """Whether the participation's cycle takes survey writes (``evaluations.phases``), read
    from the database (not a cached object), so that a cycle closed or published a moment ago
    is seen as such."""
    return phases.refusal(phases.current(participation.cycle_id), Activity.SURVEY) is None


def require_open_cycle(participation: Participation) -> None:
    """Raise ``CycleClosed`` with the reason unless the participation's cycle takes survey
    writes. Every write of the plan, the forms, imports and margins calls it first; the survey
    freezes with its cycle."""
    phases.require(phases.current(participation.cycle_id), Activity.SURVEY)


def form_accepts_responses(form: SurveyForm) -> bool:
    """A form takes new responses while its link is open, its cycle is open and it names the
    service of every sub-dimension it asks about. The cycle's status and the plan's programmes
    are read from the database now (not from the form's related objects, which may be stale)."""
    if not form.is_open:
        return False
    # The cycle (with its framework's content hash, not its YAML) reached from the form's plan,
    # so that nothing the form holds is trusted; a split form's one programme is checked in the
    # same query, a combined form's sub-dimensions come from the framework parsed once per
    # process.
    split_named: Exists | Value = Value(None, output_field=BooleanField())  # combined: checked below
    if form.subdimension:
        split_named = Exists(
            PlanEntry.objects.filter(
                plan_id=form.plan_id, subdimension=form.subdimension, programme__isnull=False
            )
        )
    cycle = (
        Cycle.objects.filter(participations__survey_plan__id=form.plan_id)
        .annotate(framework_digest=F("framework__digest"), named=split_named)
        .first()
    )
    if cycle is None:  # the plan (and with it the form) was deleted since the form was read
        return False
    if phases.refusal(cycle, Activity.SURVEY) is not None:
        return False
    if form.subdimension:
        return bool(cycle.named)
    return not unnamed_of(form, subdimensions_of(framework_of(cycle.framework_digest), form.dimension, None))


# --- the plan -------------------------------------------------------------------------------


def spec_of(form: SurveyForm) -> FormSpec:
    """The engine's description of a stored form."""
    return FormSpec(
        code=form.code,
        dimension=form.dimension,
        subdimension=form.subdimension or None,
        statements=tuple(form.statements),
        mode=form.mode,  # type: ignore[arg-type]
        target=form.target,
        demographics=form.demographics,
    )
