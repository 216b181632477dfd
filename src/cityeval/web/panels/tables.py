"""The panels' marks as tables for the results pages and the scoring page: every member's
marks, the chair's consolidated scores, which panel scored which region, the assessors left out
for a conflict of interest, and the feedback a region is shown.
"""

from __future__ import annotations

from typing import Any

import polars as pl
from django.contrib.auth import get_user_model
from django.contrib.auth.models import User as AuthUser

from cityeval.web.accounts.models import Membership
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import (
    Conflict,
    ConsolidatedScore,
    Feedback,
    ItemScore,
    PanelMember,
    PanelRegion,
)

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
    cycle: a declared conflict, or a regional role in the region (a deactivated one too: having
    held it is the conflict). Their marks on that region do not count (results, agreement,
    consolidation), whenever they were given."""
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


def display_name(user: AuthUser) -> str:
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
