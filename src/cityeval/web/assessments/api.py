"""API: self-assessment answers and the claimed index, with the pages' permissions.

Reading: any member of the region (others 404). Writing an answer: the regional admin, or the
contributor of the OPD the item is assigned to (others 403); refused with 403 and the reason
once the self-assessment is closed; invalid values get 422 naming the field, and nothing is
saved.
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from ninja import Router, Schema

from cityeval.web.accounts.access import acting_user
from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.assessments.selectors import (
    SelfAssessment,
    answer_history,
    assignments,
    claimed_index,
    counted_level,
    item_of,
    latest_answers,
    may_answer,
    self_assessment_for,
)
from cityeval.web.assessments.services import AnswerRejected, answer_record
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.refusals import api_error, api_refusal

router = Router(tags=["self-assessment"])
_BASE = "/regions/{slug}/cycles/{cycle}"


class AnswerOut(Schema):
    item: str
    level: float | None  # as claimed
    raw_value: float | None
    derived_level: float | None  # the level that counts: from the thresholds, else as claimed
    narrative: str
    author: str
    updated_at: dt.datetime
    revisions: int


class RevisionOut(Schema):
    item: str
    level: float | None
    raw_value: float | None
    derived_level: float | None
    narrative: str
    author: str
    created_at: dt.datetime


class AnswerIn(Schema):
    level: float | None = None
    raw_value: float | None = None
    narrative: str | None = None


class ComponentOut(Schema):
    code: str
    weight: float
    score: float | None
    items_scored: int
    items_expected: int
    coverage: float


class ClaimedIndexOut(Schema):
    region: str
    cycle: str
    group: str
    framework: str
    framework_hash: str
    final: float
    coverage: float
    items_scored: int
    items_expected: int
    components: list[ComponentOut]


def _revision_out(sa: SelfAssessment, revision: AnswerRevision) -> RevisionOut:
    _component, item = item_of(sa.participation, revision.item)
    return RevisionOut(
        item=revision.item,
        level=revision.level,
        raw_value=revision.raw_value,
        derived_level=counted_level(sa.framework, item, revision),
        narrative=revision.narrative,
        author=revision.author.get_username(),
        created_at=revision.created_at,
    )


def _answers_out(sa: SelfAssessment, only: str | None = None) -> list[AnswerOut]:
    out = []
    for code, answer in sorted(latest_answers(sa.participation).items()):
        if only is not None and code != only:
            continue
        revision = answer.revision
        out.append(
            AnswerOut(
                item=code,
                level=revision.level,
                raw_value=revision.raw_value,
                derived_level=answer.level,
                narrative=revision.narrative,
                author=revision.author.get_username(),
                updated_at=revision.created_at,
                revisions=answer.revisions,
            )
        )
    return out


@router.get(_BASE + "/answers", response=list[AnswerOut])
def list_answers(request: HttpRequest, slug: str, cycle: str):
    """The latest answer of every answered item."""
    return _answers_out(self_assessment_for(request.user, slug, cycle))


@router.get(_BASE + "/answers/{item}/revisions", response=list[RevisionOut])
def list_revisions(request: HttpRequest, slug: str, cycle: str, item: str):
    """Every revision of an item's answer, newest first."""
    sa = self_assessment_for(request.user, slug, cycle)
    item_of(sa.participation, item)
    return [_revision_out(sa, r) for r in answer_history(sa.participation, item)]


@router.post(_BASE + "/answers/{item}", response={201: AnswerOut})
def record_answer(request: HttpRequest, slug: str, cycle: str, item: str, payload: AnswerIn):
    """Record a new revision of an item's answer (the same rules as the item page).

    403 ``{"detail": reason}`` when the user may not answer the item or the self-assessment
    is closed (submitted, past the deadline, cycle not open); 422 ``{"detail", "errors":
    {field: message}}`` for invalid values. Nothing is saved on either.
    """
    sa = self_assessment_for(request.user, slug, cycle)
    item_of(sa.participation, item)
    if not may_answer(sa.access, assignments(sa.participation).get(item)):
        raise PermissionDenied
    try:
        answer_record(
            participation=sa.participation,
            item=item,
            level=payload.level,
            raw_value=payload.raw_value,
            narrative=payload.narrative or "",
            user=acting_user(request),
        )
    except CycleClosed as exc:
        return api_refusal(exc)
    except AnswerRejected as exc:
        return api_error(422, "; ".join(exc.errors.values()), exc.errors)
    return _answers_out(sa, only=item)[0]


@router.get(_BASE + "/claimed-index", response=ClaimedIndexOut)
def get_claimed_index(request: HttpRequest, slug: str, cycle: str):
    """The engine's scoring of the region's latest claims, with coverage."""
    sa = self_assessment_for(request.user, slug, cycle)
    index = claimed_index(sa.participation)
    return ClaimedIndexOut(
        region=sa.access.region.slug,
        cycle=sa.participation.cycle.slug,
        group=sa.participation.group,
        framework=index.framework_code,
        framework_hash=index.framework_hash,
        final=index.final,
        coverage=index.coverage,
        items_scored=index.items_scored,
        items_expected=index.items_expected,
        components=[
            ComponentOut(
                code=c.code,
                weight=c.weight,
                score=c.score,
                items_scored=c.items_scored,
                items_expected=c.items_expected,
                coverage=c.coverage,
            )
            for c in index.components
        ],
    )
