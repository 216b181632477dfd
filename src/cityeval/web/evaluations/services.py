"""Writes for frameworks, cycles and participation."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

import polars as pl
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import Framework, load_framework, parse_framework
from cityeval.engine.framework import builtin_source
from cityeval.web.audit import services as audit
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation, Stage, StatusChange
from cityeval.web.evaluations.phases import Activity
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region


def framework_version_store(*, text: str, user: User | None = None) -> FrameworkVersion:
    """Validate a framework's YAML with the engine and store it under its hash (once)."""
    framework = parse_framework(text)  # raises FrameworkError naming the YAML path
    return _stored(framework, text, user)


def framework_version_builtin(name: str) -> FrameworkVersion:
    """A built-in framework's version, stored once; its text ships with cityeval and is parsed
    once per process (``load_framework`` caches it), not at every call."""
    text = builtin_source(name)  # raises FrameworkError for an unknown name
    return _stored(load_framework(name), text, None)


def _stored(framework: Framework, text: str, user: User | None) -> FrameworkVersion:
    version, _ = FrameworkVersion.objects.get_or_create(
        digest=framework.hash,
        defaults={"code": framework.code, "title": framework.title.en, "source": text, "uploaded_by": user},
    )
    return version


def framework_version_chosen(choice: str) -> FrameworkVersion:
    """The version a framework choice names: ``builtin:<name>`` or ``hash:<digest>`` (404)."""
    kind, _sep, key = choice.partition(":")
    if kind == "builtin":
        return framework_version_builtin(key)
    return get_object_or_404(FrameworkVersion, digest=key)


@transaction.atomic
def cycle_create(
    *,
    slug: str,
    name: str,
    year: int,
    framework: FrameworkVersion,
    self_assessment_deadline: dt.datetime,
    stages: dict[str, tuple[dt.date, dt.date, dt.datetime | None]],
) -> Cycle:
    cycle = Cycle.objects.create(
        slug=slug,
        name=name,
        year=year,
        framework=framework,
        self_assessment_deadline=self_assessment_deadline,
    )
    for kind, (starts_on, ends_on, deadline) in stages.items():
        Stage.objects.create(cycle=cycle, kind=kind, starts_on=starts_on, ends_on=ends_on, deadline=deadline)
    return cycle


class CycleStateError(Refused):
    """A cycle change its status allows but its content does not (no stages, a past deadline,
    no reason for reopening); the status refusals are :class:`~.phases.CycleClosed`."""


@transaction.atomic
def cycle_update(
    *,
    cycle: Cycle,
    name: str,
    self_assessment_deadline: dt.datetime,
    stages: dict[str, tuple[dt.date, dt.date]],
) -> Cycle:
    """Correct a cycle's name, deadline and stage dates; refused once it is published, and an
    open cycle keeps a deadline that is not past and both its stages."""
    locked = phases.lock(cycle, Activity.SETTINGS)
    if locked.status == Cycle.Status.OPEN:
        problems = cycle_open_problems(locked, stages=len(stages))
        if self_assessment_deadline < timezone.now():
            problems.append(_("An open cycle's self-assessment deadline cannot be in the past."))
        if problems:
            raise CycleStateError(" ".join(problems))
    locked.name = name
    locked.self_assessment_deadline = self_assessment_deadline
    locked.save(update_fields=["name", "self_assessment_deadline"])
    for kind, (starts_on, ends_on) in stages.items():
        Stage.objects.update_or_create(
            cycle=locked, kind=kind, defaults={"starts_on": starts_on, "ends_on": ends_on}
        )
    return locked


def cycle_open_problems(
    cycle: Cycle, *, deadline: dt.datetime | None = None, stages: int | None = None
) -> list[str]:
    """Why the cycle cannot be open: it has no stages, or (opening a draft) its self-assessment
    deadline is past. ``deadline``/``stages`` check planned values before they are saved."""
    deadline = deadline if deadline is not None else cycle.self_assessment_deadline
    stages = stages if stages is not None else cycle.stages.count()
    problems = []
    if stages < len(Stage.Kind.values):
        problems.append(_("The cycle needs both stages with their dates before it can be open."))
    if cycle.status == Cycle.Status.DRAFT and deadline < timezone.now():
        problems.append(_("The self-assessment deadline is in the past: move it before opening the cycle."))
    return problems


def status_change_record(
    *,
    cycle: Cycle,
    action: str,
    from_status: str,
    to_status: str,
    user: User | None,
    reason: str = "",
    participation: Participation | None = None,
) -> StatusChange:
    """Append a row to the status history (never updated or deleted)."""
    return StatusChange.objects.create(
        cycle=cycle,
        participation=participation,
        subject=StatusChange.Subject.SELF_ASSESSMENT if participation else StatusChange.Subject.CYCLE,
        action=action,
        from_status=from_status,
        to_status=to_status,
        reason=reason,
        changed_by=user,
    )


# Transitions the audit trail names apart; the others are "cycle status changed".
_AUDITED = {"reopen": audit.Action.CYCLE_REOPEN, "publish": audit.Action.RESULTS_PUBLISH}


@transaction.atomic
def cycle_transition(
    *,
    cycle: Cycle,
    action: str,
    user: User | None = None,
    reason: str = "",
    precondition: Callable[[Cycle], None] | None = None,
) -> Cycle:
    """Move the cycle's status by ``action``, one of ``phases.TRANSITIONS``: open a draft,
    close an open cycle, reopen a closed one (with a written reason), publish a closed one.
    Published is final. Every change is kept in the status history.

    Publishing is guarded: only ``results.services.cycle_publish`` does it, passing the
    ``precondition`` that its results are current; the precondition runs under the lock and
    refuses by raising. The cycle row is locked first, as every write that the status allows
    locks it (answers, scores): a write in progress finishes before the close, and one that
    starts after it sees the cycle closed."""
    transition = phases.TRANSITIONS[action]
    if transition.guarded and precondition is None:
        raise ValueError(f"{action!r} has a precondition its own service checks")
    reason = reason.strip()
    if transition.needs_reason and not reason:
        raise CycleStateError(_("Give the reason for reopening; it is kept in the history."))
    # Lock the stored row, not the caller's copy: a stale object must not reopen a cycle
    # that was published meanwhile.
    locked = phases.lock(cycle)
    try:
        phases.require_transition(locked, action)
    except phases.CycleClosed:
        cycle.status = locked.status
        raise
    if transition.target == Cycle.Status.OPEN and (problems := cycle_open_problems(locked)):
        raise CycleStateError(" ".join(problems))
    if precondition is not None:
        precondition(locked)
    status_change_record(
        cycle=locked,
        action=action,
        from_status=locked.status,
        to_status=transition.target,
        user=user,
        reason=reason,
    )
    audit.record(
        action=_AUDITED.get(action, audit.Action.CYCLE_TRANSITION), user=user, target=locked,
        details={"transition": action, "from": locked.status, "to": transition.target, "reason": reason},
    )  # fmt: skip
    Cycle.objects.filter(pk=cycle.pk).update(status=transition.target)
    cycle.refresh_from_db(fields=["status"])
    return cycle


def cycle_inputs_changed(*, cycle: Cycle) -> None:
    """Record that something the cycle's results are computed from changed: call it in the
    transaction of the write, after locking the cycle row. Stored results computed before
    then can no longer be published (see ``results.services.scores_changed_since``)."""
    Cycle.objects.filter(pk=cycle.pk).update(inputs_version=F("inputs_version") + 1)


def participation_add(*, cycle: Cycle, region: Region, group: str) -> Participation:
    """Add a region to a draft or open cycle, or change its group there."""
    phases.require(cycle, Activity.PARTICIPANTS)
    framework = cycle.framework.framework
    code = framework.resolve_group(group)
    if code is None:
        raise ValueError(f"unknown group {group!r} (groups: {', '.join(framework.group_codes)})")
    participation, _ = Participation.objects.update_or_create(
        cycle=cycle, region=region, defaults={"group": code}
    )
    cycle_inputs_changed(cycle=cycle)
    return participation


def participations_import(*, cycle: Cycle, table: pl.DataFrame) -> int:
    """Add regions to a cycle from ``region, group`` rows; all or nothing. Returns the count."""
    if reason := phases.refusal(cycle, Activity.PARTICIPANTS):
        raise ImportRejected([reason])
    framework: Framework = cycle.framework.framework
    missing = [c for c in ("region", "group") if c not in table.columns]
    if missing:
        raise ImportRejected([f"column '{missing[0]}': the table has no such column (needs region, group)"])
    regions = {r.name: r for r in Region.objects.all()} | {r.slug: r for r in Region.objects.all()}
    errors = RowErrors()
    seen: dict[int, int] = {}  # region pk → first row: a name and a slug of one region are one region
    planned: list[tuple[Region, str]] = []
    for row in table.iter_rows(named=True):
        number, name, group = row[ROW], cell(row, "region"), cell(row, "group")
        code = framework.resolve_group(group)
        region = regions.get(name)
        if region is None:
            errors.add(
                number, "region", _("no region '%(name)s' (import the regions first)") % {"name": name}
            )
        elif region.pk in seen:
            errors.add(
                number,
                "region",
                _("the region %(region)s appears twice (rows %(first)s and %(row)s)")
                % {"region": region.name, "first": seen[region.pk], "row": number},
            )
        elif code is None:
            errors.add(
                number,
                "group",
                _("unknown group '%(group)s' (groups: %(groups)s)")
                % {"group": group, "groups": ", ".join(framework.group_codes)},
            )
        else:
            planned.append((region, code))
        if region is not None:
            seen.setdefault(region.pk, number)
    if errors:
        raise ImportRejected(errors.errors)
    with transaction.atomic():
        for region, group in planned:
            participation_add(cycle=cycle, region=region, group=group)
    return len(planned)
