"""API: results with the pages' permissions.

Reading (national table, a region's report, consolidated item scores): the coordinator at any
time after computation; everyone, anonymous included, once the cycle is published; otherwise
404. Feedback appears in a region's report for the coordinator and, after publication, for
the region's own members only. The national table and a region's report carry the stored
intervals of finals and ranks (``final_lo, final_hi, rank_lo, rank_hi, p_top10``; empty when
the run has none), read under the same rules. Compute and publish: the coordinator (403 to others); a
refusal (cycle not closed, already published, no results) is 409 with the reason.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.shortcuts import get_object_or_404
from ninja import Router, Schema, Status
from ninja.security import SessionAuth

from cityeval.engine.report import Rank
from cityeval.web.accounts.access import acting_user, require_coordinator
from cityeval.web.accounts.auth import TokenAuth
from cityeval.web.evaluations.models import Cycle
from cityeval.web.refusals import ApiError, Refused, api_refusal
from cityeval.web.results.exports import region_interval, with_intervals
from cityeval.web.results.selectors import (
    ResultsAccess,
    items_table,
    national_table,
    region_report_of,
    region_results,
    results_access,
)
from cityeval.web.results.services import cycle_publish, results_compute

router = Router(tags=["results"])
_BASE = "/cycles/{cycle}/results"


def _anyone(request: HttpRequest) -> AnonymousUser:
    """Public reads: a request without a token or session reads as an anonymous user (and
    sees only what anonymous users may, published results)."""
    return AnonymousUser()


PUBLIC = [TokenAuth(), SessionAuth(), _anyone]


class RunOut(Schema):
    cycle: str
    year: int
    status: str
    framework: str
    framework_hash: str
    level: str
    computed_at: dt.datetime | None
    parameters: dict[str, Any]


class NationalOut(Schema):
    run: RunOut
    regions: list[dict[str, Any]]


class ItemsOut(Schema):
    run: RunOut
    items: list[dict[str, Any]]


class ComponentResultOut(Schema):
    code: str
    weight: float
    score: float | None
    previous: float | None
    items_scored: int | None
    items_expected: int | None


class DimensionOut(Schema):
    code: str
    score: float | None
    previous: float | None
    items_scored: int | None
    items_expected: int | None


class RankOut(Schema):
    position: int
    of: int


class FeedbackOut(Schema):
    assessor: str
    affiliation: str
    strengths: str
    weaknesses: str
    recommendations: str


class AgreementOut(Schema):
    panel: str
    component: str
    alpha: float | None
    icc2: float | None
    icc2k: float | None
    n_units: int
    n_coders: int


class IntervalOut(Schema):
    """The region's 90 % interval of the final (5th–95th percentile over the draws), its
    national rank's, and its chance of a top-10 rank."""

    final_lo: float
    final_hi: float
    rank_lo: int | None
    rank_hi: int | None
    p_top10: float


class RegionResultOut(Schema):
    run: RunOut
    region: str
    slug: str
    province: str | None
    group: str
    final: float
    previous_final: float | None
    improvement: float | None
    rank_national: RankOut | None
    rank_province: RankOut | None
    coverage: float | None
    participant: bool
    components: list[ComponentResultOut]
    dimensions: list[DimensionOut]
    feedback: list[FeedbackOut] | None  # None: not visible to this user
    agreement: list[AgreementOut]
    intervals: IntervalOut | None  # None: the run has none for this region


def _rank(rank: Rank | None) -> RankOut | None:
    return RankOut(position=rank.position, of=rank.of) if rank is not None else None


def _interval(access: ResultsAccess, region_id: int) -> IntervalOut | None:
    found = region_interval(access, region_id)
    return IntervalOut(**found) if found is not None else None


def _run_out(access: ResultsAccess) -> RunOut:
    run = access.require_run()
    return RunOut(
        cycle=access.cycle.slug,
        year=access.cycle.year,
        status=access.cycle.status,
        framework=access.framework.code,
        framework_hash=run.framework_digest,
        level=run.level,
        computed_at=run.computed_at,
        parameters=run.parameters,
    )


@router.get(_BASE, response=NationalOut, auth=PUBLIC)
def national(request: HttpRequest, cycle: str):
    """The national table, unrounded, in the component-level format of ``cityeval score``,
    with each region's intervals (empty where the run has none)."""
    access = results_access(request.user, cycle)
    table = with_intervals(access, national_table(access.require_run(), access.framework))
    return NationalOut(run=_run_out(access), regions=table.to_dicts())


@router.get(_BASE + "/items", response=ItemsOut, auth=PUBLIC)
def items(request: HttpRequest, cycle: str):
    """Consolidated item scores of every region (never individual assessors' scores)."""
    access = results_access(request.user, cycle)
    return ItemsOut(run=_run_out(access), items=items_table(access.require_run()).to_dicts())


@router.get(_BASE + "/regions/{slug}", response=RegionResultOut, auth=PUBLIC)
def region(request: HttpRequest, cycle: str, slug: str):
    """One region's report: components, final, improvement, ranks, dimensions, agreement,
    the intervals of its final and rank, and the assessors' feedback when the user may see it."""
    results = region_results(request.user, cycle, slug)
    report = region_report_of(results)
    return RegionResultOut(
        run=_run_out(results.access),
        region=report.region,
        slug=results.row.region.slug,
        province=report.province,
        group=report.group,
        final=report.final,
        previous_final=report.previous_final,
        improvement=report.improvement,
        rank_national=_rank(report.rank_national),
        rank_province=_rank(report.rank_province),
        coverage=report.coverage,
        participant=report.participant,
        components=[ComponentResultOut.model_validate(c, from_attributes=True) for c in report.components],
        dimensions=[DimensionOut.model_validate(d, from_attributes=True) for d in report.dimensions],
        feedback=[FeedbackOut.model_validate(f, from_attributes=True) for f in report.feedback]
        if results.sees_feedback
        else None,
        agreement=[AgreementOut.model_validate(a, from_attributes=True) for a in report.agreement],
        intervals=_interval(results.access, results.row.region_id),
    )


@router.post(_BASE + "/compute", response={201: RunOut, 409: ApiError})
def compute(request: HttpRequest, cycle: str):
    """Compute the closed cycle's results (a new current run)."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    try:
        results_compute(cycle=the_cycle, user=acting_user(request))
    except Refused as exc:
        return api_refusal(exc, status=409)
    return Status(201, _run_out(results_access(request.user, cycle)))


@router.post(_BASE + "/publish", response={200: RunOut, 409: ApiError})
def publish(request: HttpRequest, cycle: str):
    """Publish the current results; the cycle is locked from then on."""
    require_coordinator(request.user)
    the_cycle = get_object_or_404(Cycle, slug=cycle)
    try:
        cycle_publish(cycle=the_cycle, user=acting_user(request))
    except Refused as exc:
        return api_refusal(exc, status=409)
    return _run_out(results_access(request.user, cycle))
