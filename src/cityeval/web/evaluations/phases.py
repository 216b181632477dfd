"""What a cycle's status allows, and how the status moves: the one answer to "may this cycle
still change?".

A cycle goes draft → open ⇄ closed → published. Each status allows a set of activities
(:data:`ALLOWS`); every app asks :func:`refusal` (or :func:`require`, or :func:`lock` inside
a write's transaction) before a write, and gets the reason the page shows when the answer is
no. Every status change, publication included, is one of :data:`TRANSITIONS`; the services
that carry them out (``evaluations.services.cycle_transition``, through which
``results.services.cycle_publish`` publishes) check them here. A refusal is one type,
:class:`CycleClosed`, carrying its reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.refusals import Refused

Status = Cycle.Status


class Activity(StrEnum):
    """The kinds of write whose permission depends on the cycle's status."""

    SELF_ASSESSMENT = "self_assessment"  # answers, evidence, submission, Quick Win criteria
    SELF_ASSESSMENT_REOPEN = "self_assessment_reopen"  # the coordinator undoes a submission
    EVIDENCE_TOPUP = "evidence_topup"  # evidence for items a panel marked, in its interview's window
    PANELS = "panels"  # panels, members, region assignments, interviews, conflicts
    SCORING = "scoring"  # scores, submissions, feedback, evidence requests, consolidation
    SURVEY = "survey"  # the plan, forms, imports, margins and new responses
    PARTICIPANTS = "participants"  # the regions taking part and their groups
    SETTINGS = "settings"  # the cycle's name, deadline and stage dates
    COMPUTE = "compute"  # computing the results


# What each status allows. The self-assessment also needs its deadline not past (and, for one
# region, not submitted): see :func:`refusal` and :func:`self_assessment_refusal`.
ALLOWS: dict[str, frozenset[Activity]] = {
    Status.DRAFT: frozenset({Activity.PANELS, Activity.PARTICIPANTS, Activity.SETTINGS}),
    Status.OPEN: frozenset(
        {
            Activity.SELF_ASSESSMENT,
            Activity.SELF_ASSESSMENT_REOPEN,
            Activity.EVIDENCE_TOPUP,
            Activity.PANELS,
            Activity.SCORING,
            Activity.SURVEY,
            Activity.PARTICIPANTS,
            Activity.SETTINGS,
        }
    ),
    Status.CLOSED: frozenset({Activity.SETTINGS, Activity.COMPUTE}),
    Status.PUBLISHED: frozenset(),
}


class CycleClosed(Refused):
    """The cycle's status (or the self-assessment's deadline or submission) does not allow the
    write; the message says why. Nothing was changed."""

    status = 403
    default_message = gettext_lazy("The cycle does not allow this change now.")


def _status(cycle: Cycle) -> str:
    return str(cycle.get_status_display()).lower()


def _when(moment) -> str:
    return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")


def _closed(cycle: Cycle, activity: Activity) -> str:
    """Why ``activity`` is not allowed in the cycle's status, in the words of its pages."""
    status = {"status": _status(cycle)}
    opens_later = cycle.status == Status.DRAFT
    if activity == Activity.SELF_ASSESSMENT:
        return _("The cycle is not open for self-assessment (%(status)s) — answers are read-only.") % {
            "status": cycle.get_status_display()
        }
    if activity == Activity.EVIDENCE_TOPUP:
        return _("The cycle is %(status)s: evidence can no longer be added.") % status
    if activity == Activity.SELF_ASSESSMENT_REOPEN:
        return _("The cycle is %(status)s: reopen the cycle first.") % {"status": cycle.get_status_display()}
    if activity == Activity.SCORING and opens_later:
        return _("The cycle is not open yet: scores and feedback can be recorded once it opens.")
    if activity in (Activity.PANELS, Activity.SCORING):
        return (
            _("The cycle is %(status)s: panels, scores, feedback and interviews can no longer change.")
            % status
        )
    if activity == Activity.SURVEY and opens_later:
        return _("The cycle is not open yet: the survey can be prepared once it opens.")
    if activity == Activity.SURVEY:
        return _("The cycle is %(status)s: the survey can no longer change.") % status
    if activity == Activity.PARTICIPANTS:
        return _("The cycle is %(status)s: its regions can no longer change.") % status
    if activity == Activity.SETTINGS:
        return _("The cycle is published: it can no longer be changed.")
    if cycle.status == Status.PUBLISHED:  # COMPUTE
        return _("The results of this cycle are published: they can no longer be recomputed.")
    return _("The cycle is %(status)s: close it before computing the results.") % status


def allows(status: str, activity: Activity) -> bool:
    """Whether a cycle in ``status`` allows ``activity`` (the table alone, no deadline)."""
    return activity in ALLOWS[status]


def refusal(cycle: Cycle, activity: Activity) -> str | None:
    """Why the cycle does not allow ``activity`` now; None if it does. The self-assessment
    also closes at its deadline."""
    if not allows(cycle.status, activity):
        return _closed(cycle, activity)
    if activity == Activity.SELF_ASSESSMENT and timezone.now() > cycle.self_assessment_deadline:
        return _("The self-assessment deadline passed on %(when)s — answers are read-only.") % {
            "when": _when(cycle.self_assessment_deadline)
        }
    return None


def require(cycle: Cycle, activity: Activity) -> None:
    """Raise :class:`CycleClosed` with the reason unless the cycle allows ``activity`` now."""
    if reason := refusal(cycle, activity):
        raise CycleClosed(reason)


def lock(cycle: Cycle | int, activity: Activity | None = None) -> Cycle:
    """Lock the stored cycle row for the caller's transaction and check it allows ``activity``.

    Every write the status allows locks the row first, as status changes do: a write in
    progress finishes before a close, and one that starts after it sees the cycle closed.
    The stored row is read, not the caller's copy, which may be stale."""
    locked = Cycle.objects.select_for_update().get(pk=cycle if isinstance(cycle, int) else cycle.pk)
    if activity is not None:
        require(locked, activity)
    return locked


def current(cycle_id: int) -> Cycle:
    """The cycle as stored now (outside a write's transaction: a read that must see a close or
    a publication of a moment ago)."""
    return Cycle.objects.get(pk=cycle_id)


def self_assessment_refusal(participation: Participation) -> str | None:
    """Why a region's self-assessment answers can no longer change (submitted, the cycle not
    open, the deadline passed), for the people who would change them; None while they can."""
    if participation.submitted_at is not None:
        return _("Submitted on %(when)s — answers are read-only.") % {
            "when": _when(participation.submitted_at)
        }
    return refusal(participation.cycle, Activity.SELF_ASSESSMENT)


def lock_participation(participation: Participation) -> Participation:
    """Lock the cycle row, then the participation row, for the caller's transaction: the
    cycle's close locks the cycle row too, so a self-assessment write checking the status under
    this lock either commits before the close or sees the cycle closed, and one racing the
    region's submission (which locks the participation) cannot land after it."""
    cycle = lock(participation.cycle_id)
    locked = Participation.objects.select_for_update().get(pk=participation.pk)
    locked.cycle = cycle
    return locked


def require_self_assessment(participation: Participation) -> None:
    """Raise :class:`CycleClosed` with the reason unless the region's answers may change."""
    if reason := self_assessment_refusal(participation):
        raise CycleClosed(reason)


# --- transitions -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    sources: frozenset[str]
    target: str
    needs_reason: bool = False  # a written reason, kept in the history
    # A precondition only its own service checks (publishing needs current results): the
    # generic status change refuses the action without it.
    guarded: bool = False


TRANSITIONS: dict[str, Transition] = {
    "open": Transition(frozenset({Status.DRAFT}), Status.OPEN),
    "close": Transition(frozenset({Status.OPEN}), Status.CLOSED),
    "reopen": Transition(frozenset({Status.CLOSED}), Status.OPEN, needs_reason=True),
    "publish": Transition(frozenset({Status.CLOSED}), Status.PUBLISHED, guarded=True),
}


def can(cycle: Cycle, action: str) -> bool:
    """Whether ``action`` applies to the cycle's current status (before asking to confirm it)."""
    return cycle.status in TRANSITIONS[action].sources


def transition_refusal(cycle: Cycle, action: str) -> str | None:
    """Why the cycle's status cannot move by ``action``; None if it can."""
    if can(cycle, action):
        return None
    if action == "publish" and cycle.status == Status.PUBLISHED:
        return _("The results of this cycle are published already.")
    if action == "publish":
        return _("The cycle is %(status)s: close it and compute the results before publishing.") % {
            "status": _status(cycle)
        }
    return _("The cycle is %(status)s: it cannot be changed that way.") % {"status": _status(cycle)}


def require_transition(cycle: Cycle, action: str) -> Transition:
    """The transition ``action``, or :class:`CycleClosed` with the reason it does not apply."""
    if reason := transition_refusal(cycle, action):
        raise CycleClosed(reason)
    return TRANSITIONS[action]
