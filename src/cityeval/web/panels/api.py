"""API: an assessor's panel regions and the scores of a region, with the pages' rules.

``GET /panels/mine``: the assessor's panel regions (404 for users without an assessor role).
``GET …/scores``: the latest scores the user may see — before submitting their own marks a
member sees only their own; after, every member's; the coordinator always all; others 404.
``POST …/scores``: a member records a score revision (403 with the reason when the cycle does
not take scores or the user may not score; 422 naming the item for an invalid score; nothing
is saved on either).
"""

from __future__ import annotations

import datetime as dt

from django.http import Http404, HttpRequest, JsonResponse
from ninja import Router, Schema, Status

from cityeval.web.accounts.access import is_assessor
from cityeval.web.panels.models import ItemScore
from cityeval.web.panels.scoresheet import latest_scores
from cityeval.web.panels.selectors import PanelRegionAccess, my_panel_regions, panel_region_access
from cityeval.web.panels.services import PanelRejected, PanelsClosed, ScoreRejected, item_scores_record
from cityeval.web.refusals import ApiError as ErrorOut

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
    score: float
    note: str
    created_at: dt.datetime


class ScoreIn(Schema):
    item: str
    score: float
    note: str = ""


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


def _score_out(row: ItemScore) -> ScoreOut:
    return ScoreOut(
        item=row.item,
        assessor=row.assessor.get_username(),
        score=row.score,
        note=row.note,
        created_at=row.created_at,
    )


def _visible(access: PanelRegionAccess, user) -> list[ScoreOut]:
    scores = latest_scores(access.panel_region, assessor=None if access.sees_all_scores else user)
    rows = [row for by_assessor in scores.values() for row in by_assessor.values()]
    return [_score_out(r) for r in sorted(rows, key=lambda r: (r.item, r.assessor.get_username()))]


@router.get(_SCORES, response=list[ScoreOut])
def list_scores(request: HttpRequest, cycle: str, stage: str, region: str):
    """The latest score per item and assessor, as far as the blind rule lets the user see."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    return _visible(access, request.user)


def _error(status: int, detail: str, errors: dict[str, str] | None = None) -> JsonResponse:
    return JsonResponse(ErrorOut(detail=detail, errors=errors or {}).model_dump(), status=status)


@router.post(_SCORES, response={200: ScoreOut, 201: ScoreOut})
def record_score(request: HttpRequest, cycle: str, stage: str, region: str, payload: ScoreIn):
    """Record a revision of the user's score of an item (201), or return the latest one
    unchanged (200) when score and note are the same."""
    access = panel_region_access(request.user, cycle=cycle, stage=stage, region=region)
    if access.member is None:
        return _error(403, "Only the members of the panel score its regions.")
    try:
        created = item_scores_record(
            panel_region=access.panel_region,
            assessor=request.user,
            scores={payload.item: (payload.score, payload.note)},
        )
    except PanelsClosed as exc:
        return _error(403, exc.reason)
    except PanelRejected as exc:
        return _error(403, str(exc))
    except ScoreRejected as exc:
        return _error(422, "; ".join(exc.errors.values()), exc.errors)
    if created:
        return Status(201, _score_out(created[0]))
    latest = latest_scores(access.panel_region, assessor=request.user)[payload.item][request.user.pk]
    return Status(200, _score_out(latest))
