"""Writes for frameworks, cycles and participation."""

from __future__ import annotations

import datetime as dt

import polars as pl
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.shortcuts import get_object_or_404

from cityeval.engine import Framework, parse_framework
from cityeval.engine.framework import builtin_source
from cityeval.web.evaluations.models import Cycle, FrameworkVersion, Participation, Stage
from cityeval.web.imports import ROW, ImportRejected, RowErrors, cell
from cityeval.web.regions.models import Region


def framework_version_store(*, text: str, user: AbstractBaseUser | None = None) -> FrameworkVersion:
    """Validate a framework's YAML with the engine and store it under its hash (once)."""
    framework = parse_framework(text)  # raises FrameworkError naming the YAML path
    version, _ = FrameworkVersion.objects.get_or_create(
        digest=framework.hash,
        defaults={"code": framework.code, "title": framework.title.en, "source": text, "uploaded_by": user},
    )
    return version


def framework_version_builtin(name: str) -> FrameworkVersion:
    return framework_version_store(text=builtin_source(name))


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


class CycleStateError(Exception):
    pass


_TRANSITIONS = {
    "open": ({Cycle.Status.DRAFT, Cycle.Status.CLOSED}, Cycle.Status.OPEN),
    "close": ({Cycle.Status.OPEN}, Cycle.Status.CLOSED),
}


@transaction.atomic
def cycle_transition(*, cycle: Cycle, action: str) -> Cycle:
    """Open a draft (or reopen a closed) cycle, or close an open one. Published is final.

    The cycle row is locked first, as every write that the status allows locks it (answers,
    scores): a write in progress finishes before the close, and one that starts after it sees
    the cycle closed. The status is read from the locked row, not the caller's copy: a stale
    object must not reopen a cycle that was published meanwhile."""
    allowed, target = _TRANSITIONS[action]
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status not in allowed:
        cycle.status = locked.status
        raise CycleStateError(f"cannot {action} a cycle that is {locked.status}")
    locked.status = target
    locked.save(update_fields=["status"])
    cycle.status = target
    return cycle


def cycle_inputs_changed(*, cycle: Cycle) -> None:
    """Record that something the cycle's results are computed from changed: call it in the
    transaction of the write, after locking the cycle row. Stored results computed before
    then can no longer be published (see ``results.services.scores_changed_since``)."""
    Cycle.objects.filter(pk=cycle.pk).update(inputs_version=F("inputs_version") + 1)


_PARTICIPANTS_EDITABLE = (Cycle.Status.DRAFT, Cycle.Status.OPEN)


def participation_add(*, cycle: Cycle, region: Region, group: str) -> Participation:
    """Add a region to a draft or open cycle, or change its group there."""
    if cycle.status not in _PARTICIPANTS_EDITABLE:
        raise CycleStateError(f"the cycle is {cycle.status}: its regions can no longer change")
    framework = cycle.framework.framework
    if group not in framework.group_codes:
        raise ValueError(f"unknown group {group!r} (groups: {', '.join(framework.group_codes)})")
    participation, _ = Participation.objects.update_or_create(
        cycle=cycle, region=region, defaults={"group": group}
    )
    cycle_inputs_changed(cycle=cycle)
    return participation


def participations_import(*, cycle: Cycle, table: pl.DataFrame) -> int:
    """Add regions to a cycle from ``region, group`` rows; all or nothing. Returns the count."""
    if cycle.status not in _PARTICIPANTS_EDITABLE:
        raise ImportRejected([f"the cycle is {cycle.status}: its regions can no longer change"])
    framework: Framework = cycle.framework.framework
    missing = [c for c in ("region", "group") if c not in table.columns]
    if missing:
        raise ImportRejected([f"column '{missing[0]}': the table has no such column (needs region, group)"])
    regions = {r.name: r for r in Region.objects.all()} | {r.slug: r for r in Region.objects.all()}
    errors = RowErrors()
    seen: dict[str, int] = {}
    planned: list[tuple[Region, str]] = []
    for row in table.iter_rows(named=True):
        number, name, group = row[ROW], cell(row, "region"), cell(row, "group")
        region = regions.get(name)
        if region is None:
            errors.add(number, "region", f"no region '{name}' (import the regions first)")
        elif name in seen:
            errors.add(number, "region", f"'{name}' appears twice (first at row {seen[name]})")
        elif group not in framework.group_codes:
            errors.add(
                number, "group", f"unknown group '{group}' (groups: {', '.join(framework.group_codes)})"
            )
        else:
            planned.append((region, group))
        seen.setdefault(name, number)
    if errors:
        raise ImportRejected(errors.errors)
    with transaction.atomic():
        for region, group in planned:
            participation_add(cycle=cycle, region=region, group=group)
    return len(planned)
