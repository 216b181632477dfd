"""Self-assessment deadline reminders (run by ``cityeval manage send_notices``): 7 days and 1
day before an open cycle's deadline, to the people with unanswered items — the contributors of
the OPDs those items are assigned to, and the admins of the region."""

from __future__ import annotations

import datetime as dt
from collections import Counter

from django.urls import reverse

from cityeval.web.assessments.models import AnswerRevision, ItemAssignment
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.notices.models import Kind
from cityeval.web.notices.selectors import opd_contributors, region_admins
from cityeval.web.notices.services import Planned, reminder_window


def unanswered_items(participation: Participation) -> list[str]:
    """The items of the region's group without any answer, in framework order."""
    framework = participation.cycle.framework.framework
    answered = set(AnswerRevision.objects.filter(participation=participation).values_list("item", flat=True))
    return [item.code for _c, item in framework.items_for(participation.group) if item.code not in answered]


def self_assessment_reminders(now: dt.datetime) -> list[Planned]:
    """The reminders due at ``now``, one per person, cycle, region and window (7 or 1)."""
    planned: list[Planned] = []
    cycles = Cycle.objects.filter(
        status=Cycle.Status.OPEN,
        self_assessment_deadline__gt=now,
        self_assessment_deadline__lte=now + dt.timedelta(days=7),
    ).select_related("framework")
    for cycle in cycles:
        days = reminder_window(cycle.self_assessment_deadline, now)
        if days is None:
            continue
        participations = cycle.participations.filter(submitted_at=None).select_related("region")
        for participation in participations:
            participation.cycle = cycle
            planned += _for_region(participation, days)
    return planned


def _for_region(participation: Participation, days: int) -> list[Planned]:
    unanswered = unanswered_items(participation)
    if not unanswered:
        return []
    cycle, region = participation.cycle, participation.region
    by_opd = Counter(
        ItemAssignment.objects.filter(participation=participation, item__in=unanswered).values_list(
            "opd_id", flat=True
        )
    )
    url = reverse("assessments:overview", kwargs={"region": region.slug, "cycle": cycle.slug})
    key = f"sa-reminder:{cycle.pk}:{days}:{region.pk}"
    params = {
        "cycle": cycle.name, "region": region.name, "days": days,
        "deadline": cycle.self_assessment_deadline.isoformat(),
    }  # fmt: skip
    planned = [
        Planned(user, Kind.SELF_ASSESSMENT_REMINDER, {**params, "count": len(unanswered)}, url, key)
        for user in region_admins(region.pk)
    ]
    seen = {p.user.pk for p in planned}
    for opd_id, count in sorted(by_opd.items()):
        for user in opd_contributors([opd_id]):
            if user.pk not in seen:
                seen.add(user.pk)
                planned.append(
                    Planned(user, Kind.SELF_ASSESSMENT_REMINDER, {**params, "count": count}, url, key)
                )
    return planned
