"""Reads for a region's score sheet: the scoring page's rows (self-assessment beside the
scores, proposals, evidence requests) and the chair's consolidation table.

The blind rule is applied here as well as in the views: for a member who has not submitted,
only their own scores and feedback are read from the database at all.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Set
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser

from cityeval.engine import Framework
from cityeval.engine.framework import Component, Item
from cityeval.web.assessments.selectors import LatestAnswer
from cityeval.web.panels.access import disagreement_range
from cityeval.web.panels.models import (
    ConsolidatedScore,
    EvidenceRequest,
    Feedback,
    Interview,
    ItemScore,
    PanelRegion,
)
from cityeval.web.panels.selectors import members_of
from cityeval.web.panels.tables import conflicted_members

# --- scoring page ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Mark:
    """One assessor's marks of one item: the first mark (frozen once they submit) and the
    latest after-discussion revision, if any. ``counted`` is what the result uses (the
    revision if any, else the first mark); ``excluded`` marks an assessor with a conflict of
    interest with the region, whose marks do not count at all."""

    first: ItemScore | None
    revised: ItemScore | None
    excluded: bool = False

    @property
    def counted(self) -> ItemScore:
        counted = self.revised or self.first
        assert counted is not None  # a Mark is made from at least one row
        return counted

    @property
    def score(self) -> float:
        return self.counted.score

    @property
    def note(self) -> str:
        return self.counted.note

    @property
    def assessor(self) -> AuthUser:
        return self.counted.assessor


def latest_scores(
    panel_region: PanelRegion,
    *,
    assessor: AuthUser | None = None,
    assessor_id: int | None = None,
    excluded: Set[int] | None = None,
) -> dict[str, dict[int, Mark]]:
    """Each assessor's marks per item: ``{item: {assessor_id: Mark}}``. With ``assessor`` (or
    ``assessor_id``), only that assessor's scores are read (the blind view). ``excluded``:
    :func:`conflicted_members`, if known."""
    rows = ItemScore.objects.filter(panel_region=panel_region)
    if assessor is not None:
        assessor_id = assessor.pk
    if assessor_id is not None:
        rows = rows.filter(assessor_id=assessor_id)
    latest: dict[tuple[str, int, str], ItemScore] = {}
    for row in rows.order_by("item", "assessor_id", "-created_at", "-id"):
        latest.setdefault((row.item, row.assessor_id, row.kind), row)
    # The assessors are read once each and shared by their rows, not joined to every row: a
    # region's sheet holds ~100 rows per assessor.
    users = get_user_model().objects.in_bulk({row.assessor_id for row in latest.values()})
    assessor_field = ItemScore._meta.get_field("assessor")
    for row in latest.values():
        # The row's own assessor (its assessor_id), cached as select_related would.
        assessor_field.set_cached_value(row, users[row.assessor_id])
    if excluded is None:
        excluded = conflicted_members(panel_region)
    out: dict[str, dict[int, Mark]] = defaultdict(dict)
    for (item, assessor_id, _kind), _row in latest.items():
        if assessor_id in out[item]:
            continue
        out[item][assessor_id] = Mark(
            first=latest.get((item, assessor_id, ItemScore.Kind.FIRST)),
            revised=latest.get((item, assessor_id, ItemScore.Kind.AFTER_DISCUSSION)),
            excluded=assessor_id in excluded,
        )
    return dict(out)


def score_revisions(panel_region: PanelRegion, assessor: AuthUser) -> dict[str, int]:
    """How many revisions the assessor recorded per item (the page counts them in
    ``scoring_cache.panel_marks``; this uncached count is its tests' oracle)."""
    counts: dict[str, int] = defaultdict(int)
    for item in ItemScore.objects.filter(panel_region=panel_region, assessor=assessor).values_list(
        "item", flat=True
    ):
        counts[item] += 1
    return dict(counts)


def proposal_for(
    framework: Framework, item: Item, answer: LatestAnswer | None, survey: dict[str, float]
) -> float | None:
    """The level proposed to the assessors: the survey mean for a survey item, the threshold
    level of the region's latest value for a quantity item with thresholds; otherwise none."""
    if item.kind == "survey":
        return survey.get(item.code)
    if item.kind == "quantity" and item.thresholds is not None and answer is not None:
        raw = answer.revision.raw_value
        return framework.level_for(item, raw) if raw is not None else None
    return None


def evidence_requests(panel_region: PanelRegion) -> set[str]:
    return set(EvidenceRequest.objects.filter(panel_region=panel_region).values_list("item", flat=True))


def interview_of(panel_region: PanelRegion) -> Interview | None:
    return Interview.objects.filter(panel_region=panel_region).first()


def missing_items(panel_region: PanelRegion, assessor: AuthUser) -> list[str]:
    """The items of the region's group the assessor has not scored yet, in framework order."""
    participation = panel_region.participation
    framework = participation.cycle.framework.framework
    scored = set(
        ItemScore.objects.filter(panel_region=panel_region, assessor=assessor).values_list("item", flat=True)
    )
    return [
        item.code for _component, item in framework.items_for(participation.group) if item.code not in scored
    ]


def latest_feedback(panel_region: PanelRegion, *, assessor: AuthUser | None = None) -> dict[int, Feedback]:
    """The latest feedback per assessor (only ``assessor``'s when given)."""
    rows = Feedback.objects.filter(panel_region=panel_region).select_related("assessor")
    if assessor is not None:
        rows = rows.filter(assessor=assessor)
    out: dict[int, Feedback] = {}
    for row in rows.order_by("assessor_id", "-created_at", "-id"):
        out.setdefault(row.assessor_id, row)
    return out


# --- consolidation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConsolidationRow:
    component: Component
    item: Item
    scores: list[Mark | None]  # one per column of ConsolidationTable.assessors
    mean: float | None  # the engine's default item score: the panel mean of the counted marks
    low: float | None
    high: float | None
    flagged: bool
    consolidated: ConsolidatedScore | None

    @property
    def spread(self) -> float | None:
        return None if self.low is None or self.high is None else self.high - self.low

    @property
    def item_score(self) -> float | None:
        """What counts: the chair's latest consolidated score, otherwise the panel mean."""
        return self.consolidated.score if self.consolidated is not None else self.mean


@dataclass(frozen=True)
class ConsolidationTable:
    assessors: list[AuthUser]
    rows: list[ConsolidationRow]
    threshold: float
    excluded: list[AuthUser]  # assessors whose marks do not count (conflict of interest)

    @property
    def flagged(self) -> int:
        return sum(row.flagged for row in self.rows)


def latest_consolidated(panel_region: PanelRegion, *, excluded: set[int]) -> dict[str, ConsolidatedScore]:
    """The latest consolidated score per item, leaving out those of a chair in ``excluded``
    (a conflict of interest with the region), as the results do."""
    out: dict[str, ConsolidatedScore] = {}
    rows = ConsolidatedScore.objects.filter(panel_region=panel_region).select_related("decided_by")
    for row in rows.order_by("item", "-created_at", "-id"):
        if row.decided_by_id not in excluded:
            out.setdefault(row.item, row)
    return out


def consolidation_table(panel_region: PanelRegion, *, flagged_only: bool = False) -> ConsolidationTable:
    """Every member's marks per item (first mark and after-discussion revision side by side)
    with the mean, the range and a disagreement flag (range ≥ :func:`disagreement_range`) of
    the counted marks, and the latest consolidated score. Marks of an assessor with a conflict
    of interest with the region are shown but do not count.

    The mean is the arithmetic mean of the counted marks (the after-discussion revision if
    any, else the first mark), as the engine's ``score_items`` consolidates by default.
    Example: marks 1, 3, 4 → mean 2.67, range 3 → flagged.
    """
    participation = panel_region.participation
    framework = participation.cycle.framework.framework
    threshold = disagreement_range()
    scores = latest_scores(panel_region)
    members = [m.user for m in members_of(panel_region.panel)]
    known = {u.pk for u in members}
    extra = {
        s.assessor.pk: s.assessor for by in scores.values() for s in by.values() if s.assessor.pk not in known
    }
    assessors = members + sorted(extra.values(), key=lambda u: u.get_username())
    excluded = conflicted_members(panel_region)
    consolidated = latest_consolidated(panel_region, excluded=excluded)
    rows = []
    for component, item in framework.items_for(participation.group):
        by_assessor = scores.get(item.code, {})
        values = [s.score for s in by_assessor.values() if not s.excluded]
        low, high = (min(values), max(values)) if values else (None, None)
        flagged = low is not None and high is not None and (high - low) >= threshold - 1e-9
        if flagged_only and not flagged:
            continue
        rows.append(
            ConsolidationRow(
                component=component,
                item=item,
                scores=[by_assessor.get(u.pk) for u in assessors],
                mean=statistics.fmean(values) if values else None,
                low=low,
                high=high,
                flagged=flagged,
                consolidated=consolidated.get(item.code),
            )
        )
    return ConsolidationTable(
        assessors=assessors,
        rows=rows,
        threshold=threshold,
        excluded=[u for u in assessors if u.pk in excluded],
    )
