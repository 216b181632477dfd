"""Writes for the programme registry: programmes, quick-win criteria answers and risks.

Every service validates what it is given and raises ``InvalidInput`` (field → messages)
before writing anything, so pages and the API report the same errors and nothing is saved
half-way.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.web.bounds import POSITIVE_INTEGER_MAX, max_length
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.programmes.models import Programme, QuickWinCriterionAnswer, Risk
from cityeval.web.programmes.selectors import criterion_answers_latest, quick_win_criteria
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Opd, Region

FIRST_START_YEAR = 1990
LAST_START_YEAR = 2100
NAME_MAX_LENGTH = max_length(Programme, "name")


class InvalidInput(Refused, ValueError):
    """Input a service refuses; ``errors`` maps a field name (or ``__all__``) to messages."""

    status = 422

    def __init__(self, errors: dict[str, list[str]]):
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        super().__init__(detail, errors=errors)


@dataclass(frozen=True)
class ProgrammeFields:
    """Everything a region says about one of its programmes."""

    name: str
    dimension: str
    owner: Opd
    start_year: int
    subdimension: str = ""
    status: str = Programme.Status.PLANNED
    description: str = ""
    beneficiaries: int | None = None
    is_quick_win: bool = False


def _name_error(*, region: Region, name: str, programme: Programme | None) -> str | None:
    if not name:
        return _("Give the programme a name.")
    if len(name) > NAME_MAX_LENGTH:
        return _("The name is longer than %(max)d characters.") % {"max": NAME_MAX_LENGTH}
    # Case-insensitive: "E-Padi" and "e-padi" are the same programme to a reader.
    same_name = Programme.objects.filter(region=region, name__iexact=name)
    if programme is not None:
        same_name = same_name.exclude(pk=programme.pk)
    if same_name.exists():
        return _("This region already has a programme named “%(name)s”.") % {"name": name}
    return None


def _tree_errors(*, framework: Framework, dimension: str, subdimension: str) -> dict[str, str]:
    """The dimension must be in the framework's tree, the sub-dimension (if any) under it."""
    dimensions = {d.code: d for d in framework.dimensions}
    if dimension not in dimensions:
        known = ", ".join(dimensions)
        return {
            "dimension": _("Unknown dimension “%(code)s” (known: %(known)s).")
            % {"code": dimension, "known": known}
        }
    if subdimension and subdimension not in {s.code for s in dimensions[dimension].subdimensions}:
        return {
            "subdimension": _("The sub-dimension “%(sub)s” is not part of the dimension “%(dim)s”.")
            % {"sub": subdimension, "dim": dimension}
        }
    return {}


def _programme_errors(
    *, region: Region, framework: Framework, fields: ProgrammeFields, programme: Programme | None
) -> dict[str, list[str]]:
    found: dict[str, str | None] = {
        "name": _name_error(region=region, name=fields.name.strip(), programme=programme),
        **_tree_errors(framework=framework, dimension=fields.dimension, subdimension=fields.subdimension),
    }
    if fields.owner.region_id != region.id:
        found["owner"] = _("The owning OPD must be an OPD of this region.")
    if fields.status not in Programme.Status.values:
        found["status"] = _("Unknown status “%(status)s” (choose one of %(known)s).") % {
            "status": fields.status,
            "known": ", ".join(Programme.Status.values),
        }
    if not FIRST_START_YEAR <= fields.start_year <= LAST_START_YEAR:
        found["start_year"] = _("The start year must be between %(first)d and %(last)d.") % {
            "first": FIRST_START_YEAR,
            "last": LAST_START_YEAR,
        }
    if fields.beneficiaries is not None and fields.beneficiaries < 0:
        found["beneficiaries"] = _("The number of users or beneficiaries cannot be negative.")
    elif fields.beneficiaries is not None and fields.beneficiaries > POSITIVE_INTEGER_MAX:
        found["beneficiaries"] = _("The number of users or beneficiaries cannot exceed %(max)d.") % {
            "max": POSITIVE_INTEGER_MAX
        }
    return {field: [message] for field, message in found.items() if message}


def _programme_save(programme: Programme, fields: ProgrammeFields) -> Programme:
    programme.name = fields.name.strip()
    programme.dimension = fields.dimension
    programme.subdimension = fields.subdimension
    programme.owner = fields.owner
    programme.status = fields.status
    programme.start_year = fields.start_year
    programme.description = fields.description.strip()
    programme.beneficiaries = fields.beneficiaries
    programme.is_quick_win = fields.is_quick_win
    try:
        # A savepoint, so that losing a race on the unique name leaves the caller's
        # transaction usable and the error is reported like the checked duplicate.
        with transaction.atomic():
            programme.save()
    except IntegrityError:
        raise InvalidInput(
            {"name": [_("This region already has a programme named “%(name)s”.") % {"name": programme.name}]}
        ) from None
    return programme


def programme_create(*, region: Region, framework: Framework, fields: ProgrammeFields) -> Programme:
    """Add a programme to the region's registry; ``framework`` supplies the dimension tree."""
    errors = _programme_errors(region=region, framework=framework, fields=fields, programme=None)
    if errors:
        raise InvalidInput(errors)
    return _programme_save(Programme(region=region), fields)


def programme_update(*, programme: Programme, framework: Framework, fields: ProgrammeFields) -> Programme:
    """Replace what the registry says about a programme (its region never changes)."""
    errors = _programme_errors(
        region=programme.region, framework=framework, fields=fields, programme=programme
    )
    if errors:
        raise InvalidInput(errors)
    return _programme_save(programme, fields)


@dataclass(frozen=True)
class CriterionInput:
    level: float
    note: str = ""


def _criteria_errors(
    *, cycle: Cycle, group: str, answers: Mapping[str, CriterionInput]
) -> dict[str, list[str]]:
    framework = cycle.framework.framework
    known = {item.code for item in quick_win_criteria(framework=framework, group=group)}
    errors: dict[str, list[str]] = {}
    for code, answer in answers.items():
        if code not in known:
            errors[code] = [_("“%(code)s” is not a Quick Win criterion of this cycle.") % {"code": code}]
        elif not (math.isfinite(answer.level) and framework.scale.contains(answer.level)):
            errors[code] = [
                _("The level must be between %(min)g and %(max)g.")
                % {"min": framework.scale.min, "max": framework.scale.max}
            ]
    return errors


def quick_win_criteria_record(
    *,
    programme: Programme,
    cycle: Cycle,
    answers: Mapping[str, CriterionInput],
    author: User,
) -> list[QuickWinCriterionAnswer]:
    """Record a quick win's self-assessed levels on the cycle's Quick Win criteria.

    Answers are appended, never updated (the latest per criterion counts), so the history of a
    self-assessment stays readable. An answer equal to the one that counts is not repeated.
    All or nothing: one bad level saves none. The criteria are part of the region's
    self-assessment: once it is closed (submitted, past the deadline, or the cycle is not open)
    nothing is saved and ``CycleClosed`` says why. The cycle row and then the participation row
    are locked for the transaction, as for the self-assessment's answers, so an answer racing
    the region's submission or the cycle's close cannot land after it.
    """
    if not programme.is_quick_win:
        raise InvalidInput({"__all__": [_("Only a quick win has a Quick Win criteria self-assessment.")]})
    with transaction.atomic():
        participation = Participation.objects.filter(cycle=cycle, region_id=programme.region_id).first()
        if participation is None:
            raise InvalidInput({"__all__": [_("The region does not take part in this cycle.")]})
        participation = phases.lock_participation(participation)
        phases.require_self_assessment(participation)
        errors = _criteria_errors(cycle=cycle, group=participation.group, answers=answers)
        if errors:
            raise InvalidInput(errors)
        current = criterion_answers_latest(programme=programme, cycle=cycle)
        created = []
        for code, answer in answers.items():
            latest = current[code].latest if code in current else None
            note = answer.note.strip()
            if latest is not None and latest.level == answer.level and latest.note == note:
                continue
            created.append(
                QuickWinCriterionAnswer.objects.create(
                    programme=programme,
                    cycle=cycle,
                    criterion=code,
                    level=answer.level,
                    note=note,
                    author=author,
                )
            )
    return created


def risk_add(
    *, programme: Programme, risk: str, likelihood: str, impact: str, mitigation: str, owner: str
) -> Risk:
    """Add a row to a quick win's risk register."""
    errors: dict[str, list[str]] = {}
    if not programme.is_quick_win:
        errors["__all__"] = [_("Only a quick win has a risk register.")]
    for field, value in (("risk", risk), ("mitigation", mitigation), ("owner", owner)):
        if not value.strip():
            errors[field] = [_("This field is required.")]
    if len(owner.strip()) > max_length(Risk, "owner"):
        errors["owner"] = [_("The owner is longer than 200 characters.")]
    for field, value in (("likelihood", likelihood), ("impact", impact)):
        if value not in Risk.Rating.values:
            errors[field] = [
                _("Choose one of %(known)s.") % {"known": ", ".join(str(v) for v in Risk.Rating.values)}
            ]
    if errors:
        raise InvalidInput(errors)
    return Risk.objects.create(
        programme=programme,
        risk=risk.strip(),
        likelihood=likelihood,
        impact=impact,
        mitigation=mitigation.strip(),
        owner=owner.strip(),
    )


def risk_delete(*, risk: Risk) -> None:
    risk.delete()
