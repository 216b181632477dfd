"""Reads for assessor panels: the tables the results pages build on, who may see a region's
panel pages (the blind rule), the assessor's own panels and the coordinator's lists. The
rows of the scoring and consolidation pages are read in scoresheet.py.

The blind rule lives here: before an assessor has submitted their own marks for a region,
nothing they are shown holds another member's score or the consolidation; afterwards they see
every member's latest score. The national coordinator sees all scores at any time. Regional
users never reach a panel page (404) — a panel member included, once they hold a role in the
region (regional admin or OPD contributor): that role is a conflict of interest however late it
was given.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.web.accounts.access import User, is_assessor, is_coordinator, memberships
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation, Stage
from cityeval.web.panels.models import (
    Conflict,
    ConsolidatedScore,
    Feedback,
    ItemScore,
    Panel,
    PanelMember,
    PanelRegion,
    ScoreSubmission,
)

STAGES: tuple[str, ...] = tuple(Stage.Kind.values)
DEFAULT_DISAGREEMENT_RANGE = 2.0

# --- tables for the results pages --------------------------------------------------------------

_SCORES_SCHEMA = {
    "region": pl.String,
    "group": pl.String,
    "province": pl.String,
    "item": pl.String,
    "assessor": pl.String,
    "score": pl.Float64,
}
_CONSOLIDATED_SCHEMA = {"region": pl.String, "item": pl.String, "score": pl.Float64}
_PANELS_SCHEMA = {"region": pl.String, "panel": pl.String, "panel_id": pl.String}


def conflicted_pairs(cycle: Cycle) -> set[tuple[int, int]]:
    """(region id, user id) of every assessor with a conflict of interest with a region of the
    cycle: a declared conflict, or a regional role in the region. Their marks on that region
    do not count (results, agreement, consolidation), whenever they were given."""
    regions = Participation.objects.filter(cycle=cycle).values("region_id")
    declared = Conflict.objects.filter(region_id__in=regions).values_list("region_id", "user_id")
    roles = Membership.objects.filter(region_id__in=regions).values_list("region_id", "user_id")
    return {(region, user) for rows in (declared, roles) for region, user in rows}


def conflicted_members(panel_region: PanelRegion) -> set[int]:
    """Ids of the users whose marks on the panel region do not count: a declared conflict of
    interest with its region, or a regional role in it (see :func:`conflicted_pairs`)."""
    region = panel_region.participation.region_id
    declared = Conflict.objects.filter(region_id=region).values_list("user_id", flat=True)
    roles = Membership.objects.filter(region_id=region).values_list("user_id", flat=True)
    return set(declared) | set(roles)


def excluded_assessors(cycle: Cycle, stage: str) -> list[list[str]]:
    """``[region name, username]`` of each assessor whose marks at ``stage`` do not count
    because of a conflict of interest with the region, sorted."""
    pairs = conflicted_pairs(cycle)
    if not pairs:
        return []
    rows = (
        ItemScore.objects.filter(
            panel_region__participation__cycle=cycle,
            panel_region__stage=stage,
            panel_region__participation__region_id__in={region for region, _user in pairs},
            assessor_id__in={user for _region, user in pairs},
        )
        .values_list("panel_region__participation__region_id", "assessor_id")
        .distinct()
    )
    found = {pair for pair in rows if pair in pairs}
    users = dict(get_user_model().objects.filter(pk__in=[u for _r, u in found]).values_list("pk", "username"))
    regions = dict(Participation.objects.filter(cycle=cycle).values_list("region_id", "region__name"))
    return sorted([regions[region], users[user]] for region, user in found)


def scores_table(cycle: Cycle, stage: str, *, first_marks: bool = False) -> pl.DataFrame:
    """Every assessor's counted score of every item, for the regions of ``cycle`` at ``stage``.

    Columns: ``region`` (Region.name), ``group`` (Participation.group), ``province``
    (Region.province.name), ``item``, ``assessor`` (username), ``score`` (Float64). One row per
    (region, item, assessor): the latest after-discussion revision if there is one, else the
    first mark (the latest ``first`` revision, frozen at submission); with ``first_marks``,
    always the first mark (what agreement is computed on). See :func:`scores_tables`.
    """
    counted, first = scores_tables(cycle, stage)
    return first if first_marks else counted


def scores_tables(cycle: Cycle, stage: str) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The counted marks and the first marks (see :func:`scores_table`), read in one query.

    Ties on time are broken by the later row. Marks of an assessor with a conflict of interest
    with the region (:func:`conflicted_pairs`) are left out. The counted table is the engine's
    item-score table (``score_items``), so the item score it computes is the panel mean. Empty
    cycles give empty tables with the same columns and types.

    Example: assessor ``a`` gives ``baseline.legal_basis`` of Kab. Deli Serdang 3, submits and
    revises it to 4 after discussion; ``b`` gives 2 → counted rows (…, "a", 4.0), (…, "b",
    2.0); first marks (…, "a", 3.0), (…, "b", 2.0).
    """
    rows = (
        ItemScore.objects.filter(panel_region__participation__cycle=cycle, panel_region__stage=stage)
        .order_by("panel_region_id", "item", "assessor_id", "-created_at", "-id")
        .values_list(
            "panel_region_id",
            "item",
            "assessor_id",
            "kind",
            "panel_region__participation__region_id",
            "panel_region__participation__region__name",
            "panel_region__participation__group",
            "panel_region__participation__region__province__name",
            "assessor__username",
            "score",
        )
    )
    excluded = conflicted_pairs(cycle)
    counted: dict[tuple[int, str, int], tuple] = {}
    first: dict[tuple[int, str, int], tuple] = {}
    revised: set[tuple[int, str, int]] = set()
    # Newest first within each key: the first after-discussion row seen is the latest revision
    # and wins over any first mark; the first ``first`` row seen is the first mark.
    for panel_region, item, assessor_id, kind, region_id, region, group, province, username, score in rows:
        if excluded and (region_id, assessor_id) in excluded:
            continue
        key = (panel_region, item, assessor_id)
        values = (region, group, province, item, username, score)
        if kind == ItemScore.Kind.FIRST:
            first.setdefault(key, values)
            counted.setdefault(key, values)
        elif key not in revised:
            revised.add(key)
            counted[key] = values
    return _marks_frame(counted.values()), _marks_frame(first.values())


def _marks_frame(rows) -> pl.DataFrame:
    return pl.DataFrame(list(rows), schema=_SCORES_SCHEMA, orient="row").sort("region", "item", "assessor")


def consolidated_table(cycle: Cycle, stage: str) -> pl.DataFrame:
    """The chairs' consolidated scores: ``region`` (Region.name), ``item``, ``score`` (Float64),
    the latest ConsolidatedScore per (region, item). Pass it to the engine's ``score_items`` as
    ``overrides``; items without a row keep the panel mean. A chair's consolidated scores on a
    region they have a conflict of interest with do not count."""
    rows = (
        ConsolidatedScore.objects.filter(panel_region__participation__cycle=cycle, panel_region__stage=stage)
        .order_by("panel_region_id", "item", "-created_at", "-id")
        .values_list(
            "panel_region_id",
            "item",
            "panel_region__participation__region__name",
            "score",
            "panel_region__participation__region_id",
            "decided_by_id",
        )
    )
    excluded = conflicted_pairs(cycle)
    seen: set[tuple[int, str]] = set()
    data: dict[str, list[Any]] = {column: [] for column in _CONSOLIDATED_SCHEMA}
    for panel_region, item, region, score, region_id, decided_by in rows:
        if (panel_region, item) in seen or (region_id, decided_by) in excluded:
            continue
        seen.add((panel_region, item))
        data["region"].append(region)
        data["item"].append(item)
        data["score"].append(score)
    return pl.DataFrame(data, schema=_CONSOLIDATED_SCHEMA).sort("region", "item")


def panels_table(cycle: Cycle, stage: str) -> pl.DataFrame:
    """Which panel assessed each region: ``region`` (Region.name), ``panel`` (Panel.name),
    ``panel_id`` (the panel's public id as text)."""
    rows = (
        PanelRegion.objects.filter(participation__cycle=cycle, stage=stage)
        .values_list("participation__region__name", "panel__name", "panel__public_id")
        .order_by("participation__region__name")
    )
    data: dict[str, list[Any]] = {"region": [], "panel": [], "panel_id": []}
    for region, panel, public_id in rows:
        data["region"].append(region)
        data["panel"].append(panel)
        data["panel_id"].append(str(public_id))
    return pl.DataFrame(data, schema=_PANELS_SCHEMA)


def display_name(user: AbstractBaseUser) -> str:
    """The user's full name, or their username when they have none."""
    full = user.get_full_name().strip() if hasattr(user, "get_full_name") else ""
    return full or user.get_username()


def feedback_for(participation: Participation, stage: str) -> list[dict]:
    """Each assessor's latest feedback on the region at ``stage``, oldest assessor first.

    Each dict: ``assessor`` (display name), ``username``, ``affiliation`` (its label, e.g.
    "University"), ``affiliation_code`` (e.g. ``university``; empty if no longer a member),
    ``organisation``, ``strengths``, ``weaknesses``, ``recommendations``, ``created_at``.
    A latest revision with all three texts blank counts as withdrawn and is left out.
    """
    rows = (
        Feedback.objects.filter(panel_region__participation=participation, panel_region__stage=stage)
        .select_related("assessor", "panel_region")
        .order_by("assessor_id", "-created_at", "-id")
    )
    latest: dict[int, Feedback] = {}
    for row in rows:
        latest.setdefault(row.assessor_id, row)
    members = {
        (m.panel_id, m.user_id): m
        for m in PanelMember.objects.filter(panel__regions__participation=participation, panel__stage=stage)
    }
    out = []
    for row in sorted(latest.values(), key=lambda f: (f.created_at, f.id)):
        if not (row.strengths or row.weaknesses or row.recommendations):
            continue
        member = members.get((row.panel_region.panel_id, row.assessor_id))
        out.append(
            {
                "assessor": display_name(row.assessor),
                "username": row.assessor.get_username(),
                "affiliation": str(member.get_affiliation_display()) if member else "",
                "affiliation_code": member.affiliation if member else "",
                "organisation": member.organisation if member else "",
                "strengths": row.strengths,
                "weaknesses": row.weaknesses,
                "recommendations": row.recommendations,
                "created_at": row.created_at,
            }
        )
    return out


# --- settings and cycle state --------------------------------------------------------------------


def disagreement_range() -> float:
    """The score range (max − min) of an item from which the panel's scores are flagged as a
    disagreement: ``settings.PANEL_DISAGREEMENT_RANGE``, 2 levels by default."""
    return float(getattr(settings, "PANEL_DISAGREEMENT_RANGE", DEFAULT_DISAGREEMENT_RANGE))


def closed_reason(cycle: Cycle) -> str | None:
    """Why nothing of the cycle's panels may change any more (closed or published); None if
    panels, members, assignments and interviews may still change."""
    if cycle.status in (Cycle.Status.CLOSED, Cycle.Status.PUBLISHED):
        return _("The cycle is %(status)s: panels, scores, feedback and interviews can no longer change.") % {
            "status": cycle.get_status_display().lower()
        }
    return None


def scoring_closed_reason(cycle: Cycle) -> str | None:
    """Why scores, submissions, feedback, evidence requests and consolidated scores cannot be
    recorded: the cycle is closed or published, or not open yet. None while it is open."""
    reason = closed_reason(cycle)
    if reason is None and cycle.status != Cycle.Status.OPEN:
        reason = _("The cycle is not open yet: scores and feedback can be recorded once it opens.")
    return reason


def stage_label(stage: str) -> str:
    return str(Stage.Kind(stage).label)


# --- access ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class PanelRegionAccess:
    """What one user may see and do on a region's panel pages at one stage."""

    panel_region: PanelRegion
    member: PanelMember | None  # None: the coordinator, not on this panel
    is_coordinator: bool
    submitted: ScoreSubmission | None  # the member's own submission for this region
    conflicted: bool  # the member declared a conflict with the region, or has a role in it
    role_in_region: bool = False  # the member has a regional role in the region (a conflict)

    @property
    def panel(self) -> Panel:
        return self.panel_region.panel

    @property
    def participation(self) -> Participation:
        return self.panel_region.participation

    @property
    def cycle(self) -> Cycle:
        return self.panel_region.participation.cycle

    @property
    def framework(self) -> Framework:
        return self.cycle.framework.framework

    @property
    def is_chair(self) -> bool:
        return self.member is not None and self.member.is_chair

    @property
    def sees_all_scores(self) -> bool:
        """The blind rule: the coordinator always, a member once they submitted their marks."""
        return self.is_coordinator or self.submitted is not None

    @property
    def may_score(self) -> bool:
        return self.member is not None and not self.conflicted

    @property
    def may_edit_interview(self) -> bool:
        return self.is_coordinator or self.is_chair

    @property
    def may_view_consolidation(self) -> bool:
        return self.is_coordinator or (self.is_chair and self.submitted is not None)

    @property
    def may_consolidate(self) -> bool:
        return self.is_chair and self.submitted is not None and not self.conflicted


def stage_or_404(stage: str) -> str:
    if stage not in STAGES:
        raise Http404
    return stage


def panel_region_access(user: User, *, cycle: str, stage: str, region: str) -> PanelRegionAccess:
    """The user's access to the panel pages of ``region`` at ``stage`` of ``cycle``.

    404 unless the user is the coordinator or an assessor on the panel the region is assigned
    to (an assessor membership is needed as well: revoking it closes every panel page). A
    member with a regional role in the region (given after the assignment, which refuses it)
    is a regional user there: 404, unless they are the coordinator too, who reads on but is
    conflicted (cannot score) like a member who declared a conflict.
    """
    stage_or_404(stage)
    coordinator = is_coordinator(user)
    if not (coordinator or is_assessor(user)):
        raise Http404
    panel_region = get_object_or_404(
        PanelRegion.objects.select_related(
            "panel", "participation__cycle__framework", "participation__region__province"
        ),
        participation__cycle__slug=cycle,
        participation__region__slug=region,
        stage=stage,
    )
    member = None
    if is_assessor(user):
        member = PanelMember.objects.filter(panel=panel_region.panel, user=user).first()
    if member is None and not coordinator:
        raise Http404
    submitted = None
    conflicted = role_in_region = False
    if member is not None:
        region_id = panel_region.participation.region_id
        role_in_region = any(m.region_id == region_id for m in memberships(user))
        if role_in_region and not coordinator:
            raise Http404
        submitted = ScoreSubmission.objects.filter(panel_region=panel_region, assessor=user).first()
        conflicted = role_in_region or Conflict.objects.filter(user=user, region_id=region_id).exists()
    return PanelRegionAccess(
        panel_region=panel_region,
        member=member,
        is_coordinator=coordinator,
        submitted=submitted,
        conflicted=conflicted,
        role_in_region=role_in_region,
    )


# --- the assessor's own panels ---------------------------------------------------------------------


@dataclass(frozen=True)
class MyPanelRegion:
    panel_region: PanelRegion
    member: PanelMember
    submitted: bool
    scored: int  # items the assessor has scored
    expected: int  # items the region's group is scored on


_MY_PANEL_COLUMNS = (
    "stage",
    "panel__name",
    "participation__group",
    "participation__cycle__slug",
    "participation__cycle__name",
    "participation__cycle__year",
    "participation__cycle__framework_id",
    "participation__region__name",
    "participation__region__slug",
)


def my_panel_regions(user: User) -> list[MyPanelRegion]:
    """The regions on the user's panels, newest cycle first (empty for non-assessors). Regions
    the user has a regional role in are left out (their panel pages are closed to them), unless
    the user is the coordinator too."""
    if not is_assessor(user):
        return []
    members = {m.panel_id: m for m in PanelMember.objects.filter(user=user)}
    if not members:
        return []
    regions = PanelRegion.objects.filter(panel_id__in=members)
    if not is_coordinator(user):
        regions = regions.exclude(
            participation__region_id__in=[m.region_id for m in memberships(user) if m.region_id is not None]
        )
    # Only the columns the list shows: the framework's YAML (~45 KB) is read once per
    # framework below, not once per row.
    regions = (
        regions.select_related("panel", "participation__cycle", "participation__region")
        .only(*_MY_PANEL_COLUMNS)
        .order_by(
            "-participation__cycle__year",
            "participation__cycle__slug",
            "stage",
            "participation__region__name",
        )
    )
    frameworks: dict[int, Framework] = {}
    submitted = set(ScoreSubmission.objects.filter(assessor=user).values_list("panel_region_id", flat=True))
    scored: dict[int, set[str]] = defaultdict(set)
    for panel_region_id, item in ItemScore.objects.filter(assessor=user).values_list(
        "panel_region_id", "item"
    ):
        scored[panel_region_id].add(item)
    out = []
    for pr in regions:
        framework_id = pr.participation.cycle.framework_id
        if framework_id not in frameworks:
            frameworks[framework_id] = FrameworkVersion.objects.get(pk=framework_id).framework
        framework = frameworks[framework_id]
        codes = {item.code for _component, item in framework.items_for(pr.participation.group)}
        out.append(
            MyPanelRegion(
                panel_region=pr,
                member=members[pr.panel_id],
                submitted=pr.id in submitted,
                scored=len(scored[pr.id] & codes),
                expected=len(codes),
            )
        )
    return out


# --- coordinator pages ----------------------------------------------------------------------------------


def members_of(panel: Panel) -> list[PanelMember]:
    """The panel's members, chair first, then by username."""
    members = PanelMember.objects.filter(panel=panel).select_related("user")
    return sorted(members, key=lambda m: (not m.is_chair, m.user.get_username()))


def assessor_users():
    """Active users with an assessor role: who may be added to a panel."""
    return (
        get_user_model()
        .objects.filter(memberships__role=Role.ASSESSOR, is_active=True)
        .distinct()
        .order_by("username")
    )


def panels_of(cycle: Cycle) -> dict[str, list[Panel]]:
    """The cycle's panels by stage code, each with its members and regions prefetched."""
    out: dict[str, list[Panel]] = {stage: [] for stage in STAGES}
    panels = (
        Panel.objects.filter(cycle=cycle)
        .prefetch_related("members__user", "regions__participation__region")
        .order_by("stage", "name")
    )
    for panel in panels:
        out[panel.stage].append(panel)
    return out


def unassigned_participations(cycle: Cycle, stage: str) -> list[Participation]:
    """The cycle's regions that no panel of ``stage`` has yet."""
    taken = PanelRegion.objects.filter(participation__cycle=cycle, stage=stage).values("participation_id")
    return list(
        Participation.objects.filter(cycle=cycle)
        .exclude(id__in=taken)
        .select_related("region")
        .order_by("region__name")
    )


@dataclass(frozen=True)
class ConflictWarning:
    """A member's conflict with a region of the panel: a declared ``conflict``, or a regional
    ``role`` (regional admin, OPD contributor) in the region."""

    member: PanelMember
    conflict: Conflict | None = None
    role: Membership | None = None


def panel_conflicts(panel: Panel) -> list[ConflictWarning]:
    """Conflicts between a member and a region of the panel — possible only when the conflict
    was declared, or the regional role given, after the assignment — for the coordinator to
    resolve. Declared conflicts first, then regional roles."""
    members = {m.user_id: m for m in PanelMember.objects.filter(panel=panel).select_related("user")}
    region_ids = PanelRegion.objects.filter(panel=panel).values("participation__region_id")
    conflicts = Conflict.objects.filter(user_id__in=members, region_id__in=region_ids).select_related(
        "region"
    )
    roles = (
        Membership.objects.filter(user_id__in=members, region_id__in=region_ids)
        .select_related("region", "opd")
        .order_by("user__username", "region__name", "id")
    )
    return [ConflictWarning(member=members[c.user_id], conflict=c) for c in conflicts] + [
        ConflictWarning(member=members[m.user_id], role=m) for m in roles
    ]


def marks_unfinished(cycle: Cycle) -> list[tuple[PanelRegion, int, int]]:
    """Each region on a panel of ``cycle`` where not every member has submitted marks, with
    (submitted, members): what closing the cycle leaves unscored."""
    rows = (
        PanelRegion.objects.filter(panel__cycle=cycle)
        .select_related("panel", "participation__region")
        .annotate(
            n_members=Count("panel__members", distinct=True),
            n_submitted=Count("submissions", distinct=True),
        )
        .order_by("panel__stage", "panel__name", "participation__region__name")
    )
    return [(r, r.n_submitted, r.n_members) for r in rows if r.n_submitted < r.n_members or not r.n_members]
