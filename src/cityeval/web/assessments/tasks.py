"""Work lists of the self-assessment: an OPD contributor's (or regional admin's) items to
answer in each open cycle, the next and previous item of that list, and the regional admin's
progress per OPD. Reads only."""

from __future__ import annotations

import math
from dataclasses import dataclass

from django.utils import timezone

from cityeval.web.accounts.access import RegionAccess, User, region_access, regions_of
from cityeval.web.assessments.selectors import (
    ItemRow,
    SelfAssessment,
    item_rows,
    latest_answers,
)
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.regions.models import Opd


def _opd_filter(access: RegionAccess) -> str | None:
    """Whose items are the user's work: their OPD's; for the regional admin, the items not
    assigned to any OPD (the admin answers those); for the coordinator, all."""
    if access.opd is not None:
        return access.opd.slug
    return "-" if access.is_admin else None


def work_rows(participation: Participation, access: RegionAccess, answers=None) -> list[ItemRow]:
    """The user's items in framework order (see ``_opd_filter``)."""
    answers = latest_answers(participation) if answers is None else answers
    blocks = item_rows(participation, answers=answers, opd=_opd_filter(access))
    return [row for block in blocks for row in block.rows]


def neighbours(sa: SelfAssessment, code: str) -> tuple[str | None, str | None, int, int]:
    """The previous and next item of the user's work list around ``code``, its position (from 1)
    and the list's length. An item outside the list (the admin opening an assigned item) walks
    the group's whole item list instead."""
    codes = [row.item.code for row in work_rows(sa.participation, sa.access, answers={})]
    if code not in codes:
        codes = [item.code for _component, item in sa.framework.items_for(sa.participation.group)]
    at = codes.index(code)
    before = codes[at - 1] if at > 0 else None
    after = codes[at + 1] if at + 1 < len(codes) else None
    return before, after, at + 1, len(codes)


def days_left(participation: Participation) -> int | None:
    """Whole days, rounded up, until the self-assessment deadline; None once it has passed."""
    left = (participation.cycle.self_assessment_deadline - timezone.now()).total_seconds()
    return math.ceil(left / 86400) if left > 0 else None


@dataclass(frozen=True)
class TaskList:
    access: RegionAccess
    participation: Participation
    rows: list[ItemRow]
    closed_reason: str | None
    days_left: int | None

    @property
    def answered(self) -> int:
        return sum(1 for row in self.rows if row.answer is not None)

    @property
    def unanswered(self) -> int:
        return len(self.rows) - self.answered


def task_lists(user: User) -> list[TaskList]:
    """The user's work in each open cycle of each region they answer for, region by region."""
    out = []
    for region in regions_of(user):
        access = region_access(user, region.slug)
        participations = Participation.objects.filter(
            region=region, cycle__status=Cycle.Status.OPEN
        ).select_related("cycle", "cycle__framework", "region")
        for participation in participations.order_by("-cycle__year", "cycle__slug"):
            out.append(
                TaskList(
                    access=access,
                    participation=participation,
                    rows=work_rows(participation, access),
                    closed_reason=phases.self_assessment_refusal(participation),
                    days_left=days_left(participation),
                )
            )
    return out


@dataclass(frozen=True)
class OpdProgress:
    opd: Opd | None  # None: the items no OPD is assigned (the regional admin's)
    assigned: int
    answered: int

    @property
    def unanswered(self) -> int:
        return self.assigned - self.answered


def opd_progress(participation: Participation, blocks) -> list[OpdProgress]:
    """Items and answers per OPD, from the overview's rows (``item_rows`` unfiltered): the
    OPDs with assigned items by name, then the unassigned items."""
    counts: dict[int | None, list] = {}
    opds: dict[int | None, Opd | None] = {None: None}
    for block in blocks:
        for row in block.rows:
            key = row.assignment.opd_id if row.assignment else None
            if row.assignment:
                opds[key] = row.assignment.opd
            tally = counts.setdefault(key, [0, 0])
            tally[0] += 1
            tally[1] += row.answer is not None
    keyed = sorted((k for k in counts if k is not None), key=lambda k: opds[k].name)  # type: ignore[union-attr]
    order = [*keyed, None] if None in counts else keyed
    return [OpdProgress(opd=opds[k], assigned=counts[k][0], answered=counts[k][1]) for k in order]
