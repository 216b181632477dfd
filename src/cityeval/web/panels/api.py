"""API: an assessor's panel regions and the scores of a region, with the pages' rules.

``GET /panels/mine``: the assessor's panel regions (404 for users without an assessor role).
``GET …/scores``: the marks the user may see — before submitting their own marks a member sees
only their own; after, every member's; the coordinator always all; others 404. Each row holds
the counted ``score`` (the after-discussion revision if any, else the first mark) beside the
``first_score``.
``POST …/scores``: a member records a mark. ``kind: first`` (the default) before they submit;
after submitting, the first marks are final (403 with the reason) and a change is ``kind:
after_discussion`` with a ``reason`` (403 before submitting). 403 with the reason as well when
the cycle does not take scores or the user may not score; 422 naming the field for an invalid
score or a missing reason; nothing is saved on any refusal.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from django.http import Http404, HttpRequest
from ninja import Router, Schema, Status

from cityeval.web.accounts.access import acting_user, is_assessor
from cityeval.web.audit import services as audit
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.panels.access import PanelRegionAccess, panel_region_access
from cityeval.web.panels.scoresheet import Mark, latest_scores
from cityeval.web.panels.selectors import my_panel_regions
from cityeval.web.panels.services import (
    PanelRejected,
    ScoreRejected,
    item_scores_record,
    score_revise,
)
from cityeval.web.refusals import api_error, api_refusal

router = Router(tags=["panels"])
_SCORES = "/cycles/{cycle}/stages/{stage}/regions/{region}/scores"


class PanelRegionOut(Schema):
    cycle: str
    cycle_name: str
    stage: str
    region: str
    region_name: str
    panel: str
    panel_id: str
    chair: bool
    submitted: bool
    items_scored: int
    items_expected: int


class ScoreOut(Schema):
    item: str
    assessor: str
    score: float  # the counted mark: the after-discussion revision if any, else the first mark
    note: str
    kind: Literal["first", "after_discussion"]  # of the counted mark
    reason: str  # of the after-discussion revision; empty for a first mark
    first_score: float | None  # the first mark, frozen once the assessor submitted
    counts: bool  # false when the assessor has a conflict of interest with the region
    created_at: dt.datetime


class ScoreIn(Schema):
    item: str
    score: float
    note: str = ""
    kind: Literal["first", "after_discussion"] = "first"
    reason: str = ""  # required for an after-discussion revision


@router.get("/panels/mine", response=list[PanelRegionOut])
def my_panels(request: HttpRequest):
    """The regions on the user's panels, with their submission state."""
    if not is_assessor(request.user):
        raise Http404
    return [
        PanelRegionOut(
            cycle=row.panel_region.participation.cycle.slug,
            cycle_name=row.panel_region.participation.cycle.name,
            stage=row.panel_region.stage,
            region=row.panel_region.participation.region.slug,
            region_name=row.panel_region.participation.region.name,
            panel=row.panel_region.panel.name,
            panel_id=str(row.panel_region.panel.public_id),
            chair=row.member.is_chair,
            submitted=row.submitted,
            items_scored=row.scored,
            items_expected=row.expected,
        )
        for row in my_panel_regions(request.user)
    ]


def _score_out(item: str, mark: Mark) -> ScoreOut:
    row = mark.counted
    return ScoreOut(
        item=item,
        assessor=row.assessor.get_username(),
        score=row.score,
        note=row.note,
        kind=row.kind,  # type: ignore[arg-type]  # a str column; pydantic checks it against the Literal
        reason=row.reason,
        first_score=mark.first.score if mark.first is not None else None,
        counts=not mark.excluded,
        created_at=row.created_at,
    )


def _visible(access: PanelRegionAccess, user) -> list[ScoreOut]:
    scores = latest_scores(access.panel_region, assessor=None if access.sees_all_scores else user)
    rows = [(item, mark) for item, by_assessor in scores.items() for mark in by_assessor.values()]
    return [_score_out(i, m) for i, m in sorted(rows, key=lambda r: (r[0], r[1].assessor.get_username()))]


@router.get(_SCORES, response=list[ScoreOut])
def list_scores(request: HttpRequest, cycle: str, stage: str, region: str):
    """The latest score per item and assessor, as far as the blind rule lets the user see."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if access.sees_all_scores:  # every member's marks, by name: the audit trail keeps who read them
        panel_region = access.panel_region
        audit.record(
            action=audit.Action.ASSESSOR_DATA_DOWNLOAD, user=acting_user(request), target=panel_region.panel,
            region=panel_region.participation.region, request=request,
            details={"cycle": cycle, "stage": stage, "what": "panel scores (API)"},
        )  # fmt: skip
    return _visible(access, request.user)


@router.post(_SCORES, response={200: ScoreOut, 201: ScoreOut})
def record_score(request: HttpRequest, cycle: str, stage: str, region: str, payload: ScoreIn):
    """Record the user's first mark of an item, or after submitting an after-discussion
    revision with its reason (201); a first mark equal to the latest one changes nothing
    (200)."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if access.member is None:
        return api_error(403, "Only the members of the panel score its regions.")
    try:
        if payload.kind == "after_discussion":
            created = [
                score_revise(
                    panel_region=access.panel_region,
                    assessor=acting_user(request),
                    item=payload.item,
                    score=payload.score,
                    reason=payload.reason,
                    note=payload.note,
                )
            ]
        else:
            created = item_scores_record(
                panel_region=access.panel_region,
                assessor=acting_user(request),
                scores={payload.item: (payload.score, payload.note)},
            )
    except (CycleClosed, PanelRejected) as exc:
        return api_refusal(exc)
    except ScoreRejected as exc:
        return api_error(422, "; ".join(exc.errors.values()), exc.errors)
    assessor = acting_user(request)
    mark = latest_scores(access.panel_region, assessor=assessor)[payload.item][assessor.pk]
    return Status(201 if created else 200, _score_out(payload.item, mark))
