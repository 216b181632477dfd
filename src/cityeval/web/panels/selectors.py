"""Reads for assessor panels' lists: the assessor's own panels and the coordinator's pages.

Who may open a region's panel pages (the blind rule) is in ``access.py``; the marks as tables
in ``tables.py``; the rows of the scoring and consolidation pages in ``scoresheet.py``.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.contrib.auth import get_user_model
from django.db.models import Count, Max, QuerySet

from cityeval.engine import Framework
from cityeval.web.accounts.access import User, is_assessor, is_coordinator, memberships
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation
from cityeval.web.kept import Kept
from cityeval.web.panels.models import Conflict, ItemScore, Panel, PanelMember, PanelRegion, ScoreSubmission

# --- the assessor's own panels ---------------------------------------------------------------------


@dataclass(frozen=True)
class MyPanelRegion:
    panel_region: PanelRegion
    member: PanelMember
    submitted: bool
    scored: int  # items the assessor has scored
    expected: int  # items the region's group is scored on


def my_panel_regions(user: User) -> list[MyPanelRegion]:
    """The regions on the user's panels, newest cycle first (empty for non-assessors). Regions
    the user has a regional role in are left out (their panel pages are closed to them), unless
    the user is the coordinator too."""
    if not (user.is_authenticated and is_assessor(user)):
        return []
    members = {m.panel_id: m for m in PanelMember.objects.filter(user=user)}
    if not members:
        return []
    regions = PanelRegion.objects.filter(panel_id__in=members)
    if not is_coordinator(user):
        regions = regions.exclude(
            participation__region_id__in=[m.region_id for m in memberships(user) if m.region_id is not None]
        )
    # The framework is not joined: its YAML (~45 KB) is read once per framework below, not
    # once per row. Nor are the panels and cycles (a few for ~100 rows): read once each and
    # shared by their rows, as select_related would have given them (it built one of each per
    # row, most of the list's time).
    regions = regions.select_related("participation__region").order_by(
        "-participation__cycle__year",
        "participation__cycle__slug",
        "stage",
        "participation__region__name",
    )
    regions_list = list(regions)
    panels = Panel.objects.in_bulk({pr.panel_id for pr in regions_list})
    cycles = Cycle.objects.in_bulk({pr.participation.cycle_id for pr in regions_list})
    for pr in regions_list:
        pr.panel = panels[pr.panel_id]
        pr.participation.cycle = cycles[pr.participation.cycle_id]
    frameworks: dict[int, Framework] = {}
    codes_of: dict[tuple[int, str], set[str]] = {}  # per (framework, group): its items
    for pr in regions_list:
        framework_id, group = pr.participation.cycle.framework_id, pr.participation.group
        if framework_id not in frameworks:
            frameworks[framework_id] = FrameworkVersion.objects.get(pk=framework_id).framework
        if (framework_id, group) not in codes_of:
            codes_of[framework_id, group] = {
                item.code for _component, item in frameworks[framework_id].items_for(group)
            }
    submitted = set(ScoreSubmission.objects.filter(assessor=user).values_list("panel_region_id", flat=True))
    # The items scored per region, counted by the database: only the items of the region's
    # group count (one condition per framework and group, not per region).
    ids_of: dict[tuple[int, str], list[int]] = defaultdict(list)
    for pr in regions_list:
        ids_of[pr.participation.cycle.framework_id, pr.participation.group].append(pr.id)
    scored = _scored_items(user, {key: (ids, sorted(codes_of[key])) for key, ids in ids_of.items()})
    return [
        MyPanelRegion(
            panel_region=pr,
            member=members[pr.panel_id],
            submitted=pr.id in submitted,
            scored=scored.get(pr.id, 0),
            expected=len(codes_of[pr.participation.cycle.framework_id, pr.participation.group]),
        )
        for pr in regions_list
    ]


SCORED_KEPT = 256  # assessors' counts of scored items a process keeps (~100 numbers each)
_scored_kept: Kept[dict[int, int]] = Kept(SCORED_KEPT)


def _scored_items(user: User, regions: dict[tuple[int, str], tuple[list[int], list[str]]]) -> dict[int, int]:
    """Per panel region, how many of its group's items the user scored: ``regions`` gives, per
    (framework, group), the panel regions and the group's items.

    Kept per process under the user's scores' version, (rows, largest id, latest time): scores are
    append-only (every write path inserts; ids are never used twice), so any new score
    changes it; the regions and items asked for are in the key as well. Counting them takes
    one grouped query per group (~12,000 rows at national scale)."""
    version = ItemScore.objects.filter(assessor_id=user.pk).aggregate(
        n=Count("id"), last=Max("id"), at=Max("created_at")
    )
    key = (
        user.pk,
        version["n"],
        version["last"],
        version["at"],  # as the scoring page's: a restored older database may repeat (rows, id)
        tuple((group, tuple(ids), tuple(codes)) for group, (ids, codes) in regions.items()),
    )
    scored = _scored_kept.find(key)
    if scored is None:
        scored = {}
        for ids, codes in regions.values():
            scored |= dict(
                ItemScore.objects.filter(assessor_id=user.pk, panel_region_id__in=ids, item__in=codes)
                .order_by()
                .values("panel_region_id")
                .annotate(n=Count("item", distinct=True))
                .values_list("panel_region_id", "n")
            )
        _scored_kept.put(key, scored)
    return dict(scored)


# --- coordinator pages ----------------------------------------------------------------------------------


def members_of(panel: Panel) -> list[PanelMember]:
    """The panel's members, chair first, then by username."""
    members = PanelMember.objects.filter(panel=panel).select_related("user")
    return sorted(members, key=lambda m: (not m.is_chair, m.user.get_username()))


def assessor_users():
    """Active users with an active assessor role: who may be added to a panel."""
    return (
        get_user_model()
        .objects.filter(memberships__role=Role.ASSESSOR, memberships__active=True, is_active=True)
        .distinct()
        .order_by("username")
    )


def panels_of(cycle: Cycle) -> QuerySet[Panel]:
    """The cycle's panels by stage and name, each with its members and regions prefetched."""
    return (
        Panel.objects.filter(cycle=cycle)
        .prefetch_related("members__user", "regions__participation__region")
        .order_by("stage", "name")
    )


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
