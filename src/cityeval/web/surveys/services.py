"""What the survey's writes share: the refusals they raise, the cycle's state (the survey freezes
with its cycle) and the engine's description of a stored form.

The writes themselves live in ``plans.py`` (the plan, its forms and the raking margins) and
``responses.py`` (web submissions and imports).
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from cityeval.engine.survey import FormSpec
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.surveys.models import SurveyForm


class InvalidInput(ValueError):
    """Input a service refuses; ``errors`` maps a field (or ``__all__``) to messages."""

    def __init__(self, errors: dict[str, list[str]]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()))


class SurveyClosed(Exception):
    """The form's link is closed: it takes no new responses."""


class CycleNotOpen(PermissionDenied):
    """The participation's cycle is not open (draft, closed or published): the survey can no
    longer change. Admin writes raise it; public submissions are refused as :class:`SurveyClosed`."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message or _("The cycle is closed: the survey can no longer change"))


class ImportRejected(Exception):
    """Nothing was imported; ``errors`` name the row and column of each problem."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


# --- the cycle's state ----------------------------------------------------------------------


def cycle_is_open(participation: Participation) -> bool:
    """Whether the participation's cycle is open, read from the database (not a cached object),
    so that a cycle closed or published a moment ago is seen as such."""
    return Cycle.objects.filter(pk=participation.cycle_id, status=Cycle.Status.OPEN).exists()


def require_open_cycle(participation: Participation) -> None:
    """Raise :class:`CycleNotOpen` unless the participation's cycle is open. Every write of the
    plan, the forms, imports and margins calls it first; the survey freezes with its cycle."""
    if not cycle_is_open(participation):
        raise CycleNotOpen


def form_accepts_responses(form: SurveyForm) -> bool:
    """A form takes new responses while its link is open and its cycle is open."""
    return form.is_open and cycle_is_open(form.plan.participation)


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
