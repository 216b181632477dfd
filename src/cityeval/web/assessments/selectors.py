"""Reads for the self-assessment: whose it is, the latest answers, the claimed index."""

from __future__ import annotations

import datetime as dt
import threading
from collections import OrderedDict
from dataclasses import dataclass

import polars as pl
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils import timezone

from cityeval.engine import Framework, score_items
from cityeval.engine.framework import Component, Item, Label
from cityeval.web.accounts.access import RegionAccess, User, region_access
from cityeval.web.assessments.models import AnswerRevision, Evidence, ItemAssignment
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.phases import Activity
from cityeval.web.panels.models import EvidenceRequest

SELF_ASSESSOR = "self"  # the assessor name of the region's own claims in the engine's table


@dataclass(frozen=True)
class SelfAssessment:
    """A region's self-assessment in one cycle, as one user may see it."""

    access: RegionAccess
    participation: Participation

    @property
    def framework(self) -> Framework:
        return self.participation.cycle.framework.framework


def self_assessment_for(user: User, region: str, cycle: str) -> SelfAssessment:
    """The region's participation in the cycle; 404 to outsiders and for unknown cycles."""
    access = region_access(user, region)
    participation = get_object_or_404(
        Participation.objects.select_related("cycle", "cycle__framework", "region", "submitted_by"),
        cycle__slug=cycle,
        region=access.region,
    )
    return SelfAssessment(access=access, participation=participation)


def item_of(participation: Participation, code: str) -> tuple[Component, Item]:
    """The (component, item) a region of this group answers; 404 for any other code."""
    framework = participation.cycle.framework.framework
    found = framework.items_by_code.get(code)
    if found is None or found[1] not in found[0].items_for(participation.group):
        raise Http404
    return found


def topup_until(participation: Participation) -> dict[str, dt.datetime]:
    """The items a panel marked "needs evidence" whose interview's evidence top-up window is
    still open, with its deadline (only while the cycle is open)."""
    if not phases.allows(participation.cycle.status, Activity.EVIDENCE_TOPUP):
        return {}
    rows = EvidenceRequest.objects.filter(
        panel_region__participation=participation,
        panel_region__interview__evidence_topup_until__gt=timezone.now(),
    ).values_list("item", "panel_region__interview__evidence_topup_until")
    out: dict[str, dt.datetime] = {}
    for item, until in rows:
        if until is not None:  # never None past the filter; says so to the type checker
            out[item] = max(until, out.get(item, until))
    return out


def evidence_closed_reason(participation: Participation, item: str) -> str | None:
    """Why evidence can no longer be added to ``item``; None while the self-assessment is open
    or while the panel's top-up window for the item is (answers stay read-only then)."""
    reason = phases.self_assessment_refusal(participation)
    if reason is None or item in topup_until(participation):
        return None
    return reason


def assignments(participation: Participation) -> dict[str, ItemAssignment]:
    return {
        a.item: a for a in ItemAssignment.objects.filter(participation=participation).select_related("opd")
    }


def may_answer(access: RegionAccess, assignment: ItemAssignment | None) -> bool:
    """Regional admins answer any item; an OPD contributor the items assigned to their OPD."""
    return access.may_edit_for_opd(assignment.opd_id if assignment else None)


def counted_level(framework: Framework, item: Item, revision: AnswerRevision) -> float | None:
    """The level a claim counts as: derived from the raw value when the item has thresholds,
    otherwise the claimed level (None: a raw value alone, which scores nothing)."""
    if item.kind == "quantity" and item.thresholds is not None and revision.raw_value is not None:
        return framework.level_for(item, revision.raw_value)
    return revision.level


@dataclass(frozen=True)
class LatestAnswer:
    revision: AnswerRevision
    revisions: int
    level: float | None  # the counted level, see counted_level


# What the overview and the claimed index read of a revision: the level and the raw value (not
# its author, narrative or time: reading and converting those was most of the read's cost).
_LEVEL_FIELDS = ("id", "item", "level", "raw_value")


def latest_answers(participation: Participation, *, full: bool = True) -> dict[str, LatestAnswer]:
    """The latest revision of each answered item, with the number of revisions. ``full=False``
    reads only the levels and raw values (any other field would then cost a query per
    revision), for pages that show only those."""
    framework = participation.cycle.framework.framework
    latest: dict[str, AnswerRevision] = {}
    counts: dict[str, int] = {}
    rows = AnswerRevision.objects.filter(participation=participation).order_by("item", "-created_at", "-id")
    rows = rows.select_related("author") if full else rows.only(*_LEVEL_FIELDS)
    for revision in rows:
        latest.setdefault(revision.item, revision)
        counts[revision.item] = counts.get(revision.item, 0) + 1
    out = {}
    for code, revision in latest.items():
        found = framework.items_by_code.get(code)
        level = counted_level(framework, found[1], revision) if found else None
        out[code] = LatestAnswer(revision=revision, revisions=counts[code], level=level)
    return out


def answer_history(participation: Participation, item: str) -> list[AnswerRevision]:
    """Every revision of an item's answer, newest first."""
    return list(
        AnswerRevision.objects.filter(participation=participation, item=item)
        .select_related("author")
        .order_by("-created_at", "-id")
    )


def evidence_counts(participation: Participation) -> dict[str, int]:
    # order_by(): the model's ordering would join the participation, its cycle and region for nothing.
    rows = (
        Evidence.objects.filter(participation=participation).order_by().values("item").annotate(n=Count("id"))
    )
    return {row["item"]: row["n"] for row in rows}


def evidence_for(participation: Participation, item: str) -> list[Evidence]:
    return list(
        Evidence.objects.filter(participation=participation, item=item)
        .select_related("blob", "uploaded_by")
        .order_by("-uploaded_at", "-id")
    )


@dataclass(frozen=True)
class ItemRow:
    component: Component
    item: Item
    assignment: ItemAssignment | None
    answer: LatestAnswer | None
    evidence: int

    @property
    def status(self) -> str:
        if self.answer is None:
            return "missing"
        return "answered" if self.evidence else "no_evidence"


@dataclass(frozen=True)
class ComponentRows:
    component: Component
    weight: float
    rows: list[ItemRow]


def item_rows(
    participation: Participation, *, answers: dict[str, LatestAnswer], opd: str | None = None
) -> list[ComponentRows]:
    """The overview table: the group's items by component. ``opd`` filters to the items
    assigned to that OPD (by slug), or to unassigned items with ``"-"``."""
    framework = participation.cycle.framework.framework
    weights = framework.weights_for(participation.group)
    assigned = assignments(participation)
    evidence = evidence_counts(participation)
    grouped: dict[str, ComponentRows] = {}
    for component, item in framework.items_for(participation.group):
        assignment = assigned.get(item.code)
        if opd == "-" and assignment is not None:
            continue
        if opd not in (None, "-") and (assignment is None or assignment.opd.slug != opd):
            continue
        block = grouped.setdefault(
            component.code, ComponentRows(component=component, weight=weights[component.code], rows=[])
        )
        block.rows.append(
            ItemRow(component, item, assignment, answers.get(item.code), evidence.get(item.code, 0))
        )
    return list(grouped.values())


@dataclass(frozen=True)
class ClaimedComponent:
    code: str
    label: Label
    weight: float
    score: float | None
    items_scored: int
    items_expected: int
    coverage: float


@dataclass(frozen=True)
class ClaimedIndex:
    """The engine's scoring applied to the region's own claims (assessor ``self``)."""

    final: float
    coverage: float
    items_scored: int
    items_expected: int
    components: tuple[ClaimedComponent, ...]  # shared between requests (see claimed_index)
    framework_code: str
    framework_hash: str


def claims_table(participation: Participation, answers: dict[str, LatestAnswer]) -> pl.DataFrame:
    """The engine's long item table: one row per expected item, blank where nothing counts,
    so unanswered items lower coverage instead of disappearing."""
    framework = participation.cycle.framework.framework
    codes = [item.code for _component, item in framework.items_for(participation.group)]
    return pl.DataFrame(
        {
            "region": [participation.region.slug] * len(codes),
            "group": [participation.group] * len(codes),
            "item": codes,
            "assessor": [SELF_ASSESSOR] * len(codes),
            "score": [answers[c].level if c in answers else None for c in codes],
        },
        schema={
            "region": pl.String,
            "group": pl.String,
            "item": pl.String,
            "assessor": pl.String,
            "score": pl.Float64,
        },
    )


def claimed_index(
    participation: Participation, answers: dict[str, LatestAnswer] | None = None
) -> ClaimedIndex:
    """Score the latest claims with the engine's ``score_items``, as assessors would be.

    Remembered by the process under everything it is computed from (the framework's content
    hash, the group, the region and every item's counted level): a changed claim is a new key,
    scored anew. The overview page asks this on every view."""
    framework = participation.cycle.framework.framework
    if answers is None:
        answers = latest_answers(participation)
    table = claims_table(participation, answers)
    key = (
        participation.cycle.framework.digest,
        participation.group,
        participation.region.slug,
        tuple(table["item"].to_list()),
        tuple(table["score"].to_list()),
    )
    with _claimed_lock:
        found = _claimed.get(key)
        if found is not None:
            _claimed.move_to_end(key)
            return found
    result = score_items(table, framework)
    region = result.regions.row(0, named=True)
    components = tuple(
        ClaimedComponent(
            code=row["component"],
            label=framework.component(row["component"]).label,
            weight=row["weight"],
            score=row["score"],
            items_scored=row["items_scored"],
            items_expected=row["items_expected"],
            coverage=row["coverage"],
        )
        for row in result.components.iter_rows(named=True)
    )
    index = ClaimedIndex(
        final=region["final"],
        coverage=region["coverage"],
        items_scored=sum(c.items_scored for c in components),
        items_expected=sum(c.items_expected for c in components),
        components=components,
        framework_code=result.framework_code,
        framework_hash=result.framework_hash,
    )
    with _claimed_lock:
        _claimed[key] = index
        while len(_claimed) > CLAIMED_KEPT:
            _claimed.popitem(last=False)
    return index


CLAIMED_KEPT = 2048  # claimed indexes a process remembers (a few hundred bytes each)
_claimed: OrderedDict[tuple, ClaimedIndex] = OrderedDict()
_claimed_lock = threading.Lock()
