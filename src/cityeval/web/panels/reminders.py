"""Scores-due reminders (run by ``cityeval manage send_notices``): 7 days and 1 day before the
deadline of a panel's stage (``evaluations.Stage.deadline``; a stage without one sends none),
while the cycle is open, to each member who has not submitted their marks for a region and
still has items to score there. Members with a conflict of interest with the region (who
cannot score it) get none."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict

from django.urls import reverse

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle, Stage
from cityeval.web.notices.models import Kind
from cityeval.web.notices.services import Planned, reminder_window
from cityeval.web.panels.models import Conflict, ItemScore, PanelMember, PanelRegion, ScoreSubmission


def scores_due_reminders(now: dt.datetime) -> list[Planned]:
    planned: list[Planned] = []
    stages = Stage.objects.filter(
        cycle__status=Cycle.Status.OPEN, deadline__gt=now, deadline__lte=now + dt.timedelta(days=7)
    ).select_related("cycle", "cycle__framework")
    for stage in stages:
        days = reminder_window(stage.deadline, now)
        if days is None or stage.deadline is None:
            continue
        regions = PanelRegion.objects.filter(panel__cycle=stage.cycle, stage=stage.kind).select_related(
            "panel", "participation__region"
        )
        for panel_region in regions:
            planned += _for_panel_region(stage, panel_region, days)
    return planned


def _for_panel_region(stage: Stage, panel_region: PanelRegion, days: int) -> list[Planned]:
    participation, cycle = panel_region.participation, stage.cycle
    region = participation.region
    items = [item.code for _c, item in cycle.framework.framework.items_for(participation.group)]
    scored: dict[int, set[str]] = defaultdict(set)
    for assessor_id, item in ItemScore.objects.filter(panel_region=panel_region).values_list(
        "assessor_id", "item"
    ):
        scored[assessor_id].add(item)
    submitted = set(
        ScoreSubmission.objects.filter(panel_region=panel_region).values_list("assessor_id", flat=True)
    )
    conflicted = set(Conflict.objects.filter(region=region).values_list("user_id", flat=True)) | set(
        Membership.objects.filter(region=region).values_list("user_id", flat=True)
    )
    url = reverse("panels:region", kwargs={"cycle": cycle.slug, "stage": stage.kind, "region": region.slug})
    planned = []
    # Members who still hold an active assessor role: a deactivated one hears nothing more.
    assessors = Membership.objects.filter(role=Role.ASSESSOR, active=True).values("user_id")
    members = PanelMember.objects.filter(
        panel=panel_region.panel, user__is_active=True, user_id__in=assessors
    ).select_related("user")
    for member in members.order_by("user_id"):
        missing = [code for code in items if code not in scored[member.user_id]]
        if member.user_id in submitted or member.user_id in conflicted or not missing:
            continue
        params = {
            "cycle": cycle.name, "stage": stage.kind, "region": region.name, "days": days,
            "deadline": stage.deadline.isoformat() if stage.deadline else "", "count": len(missing),
        }  # fmt: skip
        key = f"scores-due:{panel_region.pk}:{days}"
        planned.append(Planned(member.user, Kind.SCORES_DUE, params, url, key))
    return planned
