"""What the survey's writes share: the refusals they raise, the cycle's state (the survey freezes
with its cycle) and the engine's description of a stored form.

The writes themselves live in ``plans.py`` (the plan, its forms and the raking margins) and
``responses.py`` (web submissions and imports).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy

from cityeval.engine.survey import FormSpec
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.phases import Activity
from cityeval.web.imports import ImportRejected
from cityeval.web.refusals import Refused
from cityeval.web.surveys.models import SurveyForm
from cityeval.web.surveys.readiness import unnamed_subdimensions

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
    service of every sub-dimension it asks about."""
    return form.is_open and cycle_is_open(form.plan.participation) and not unnamed_subdimensions(form)


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
