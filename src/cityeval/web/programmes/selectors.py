"""Reads for programmes: the regional dashboard's overview, the registry and quick-win state."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import lru_cache

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from cityeval.engine import Framework, load_framework
from cityeval.engine.framework import Item, label_text
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.programmes.models import Programme, QuickWinCriterionAnswer
from cityeval.web.regions.models import Opd, Region


@dataclass
class DimensionRow:
    code: str
    label: str
    total: int = 0
    running: int = 0
    quick_wins: list[Programme] = field(default_factory=list)


@dataclass
class OpdRow:
    opd: Opd
    programmes: int
    quick_wins_by_dimension: dict[str, list[Programme]]


@dataclass
class ProgrammeOverview:
    dimensions: list[DimensionRow]
    opds: list[OpdRow]
    dimensions_without_quick_win: list[DimensionRow]
    opds_without_programme: list[Opd]
    total: int


def programme_overview(
    *, region: Region, framework: Framework | None, language: str = "en"
) -> ProgrammeOverview:
    """Programme count per dimension, which OPD owns a quick win in which dimension, and gaps:
    dimensions with no quick win and OPDs with no programme."""
    programmes = list(Programme.objects.filter(region=region).select_related("owner"))
    if framework is not None and framework.dimensions:
        dims = [(d.code, label_text(d.label, language)) for d in framework.dimensions]
    else:
        dims = sorted({(p.dimension, p.dimension) for p in programmes})
    rows = {code: DimensionRow(code=code, label=label) for code, label in dims}
    for p in programmes:
        row = rows.setdefault(p.dimension, DimensionRow(code=p.dimension, label=p.dimension))
        row.total += 1
        row.running += p.status == Programme.Status.RUNNING
        if p.is_quick_win:
            row.quick_wins.append(p)
    opds = []
    for opd in region.opds.all():
        owned = [p for p in programmes if p.owner_id == opd.id]
        by_dim = {code: [p for p in owned if p.is_quick_win and p.dimension == code] for code in rows}
        opds.append(OpdRow(opd=opd, programmes=len(owned), quick_wins_by_dimension=by_dim))
    return ProgrammeOverview(
        dimensions=list(rows.values()),
        opds=opds,
        dimensions_without_quick_win=[r for r in rows.values() if not r.quick_wins],
        opds_without_programme=[o.opd for o in opds if o.programmes == 0],
        total=len(programmes),
    )


# --- reads for the programme registry pages and API ------------------------------------------

# The GMSC dimension tree is identical across years, so a region that takes part in no cycle
# yet classifies its programmes with the newest built-in framework.
DEFAULT_FRAMEWORK = "gmsc-2024"


@lru_cache(maxsize=1)
def _default_framework() -> Framework:
    return load_framework(DEFAULT_FRAMEWORK)


def region_framework(*, region: Region) -> Framework:
    """The framework whose dimension tree classifies the region's programmes: that of the
    region's latest cycle, or the built-in default when it has none (or one without a tree)."""
    latest = (
        Participation.objects.filter(region=region)
        .select_related("cycle__framework")
        .order_by("-cycle__year", "-cycle__created_at")
        .first()
    )
    if latest is not None and latest.cycle.framework.framework.dimensions:
        return latest.cycle.framework.framework
    return _default_framework()


def dimension_labels(framework: Framework, language: str) -> dict[str, str]:
    return {d.code: label_text(d.label, language) for d in framework.dimensions}


def subdimension_labels(framework: Framework, language: str) -> dict[str, str]:
    return {s.code: label_text(s.label, language) for d in framework.dimensions for s in d.subdimensions}


def programmes_of_region(
    *, region: Region, dimension: str = "", status: str = "", quick_win: bool | None = None
) -> QuerySet[Programme]:
    """The region's programmes, optionally narrowed; never another region's."""
    found = Programme.objects.filter(region=region).select_related("owner")
    if dimension:
        found = found.filter(dimension=dimension)
    if status:
        found = found.filter(status=status)
    if quick_win is not None:
        found = found.filter(is_quick_win=quick_win)
    return found.order_by("dimension", "name")


def programme_of_region(*, region: Region, public_id: uuid.UUID | str) -> Programme:
    """One programme of the region: 404 for another region's programme, as for a missing one."""
    return get_object_or_404(
        Programme.objects.select_related("owner", "region"), region=region, public_id=public_id
    )


def quick_win_criteria(*, framework: Framework, group: str) -> tuple[Item, ...]:
    """The Quick Win criteria a region of ``group`` is assessed on; none if the framework has no
    ``quick_win`` component (e.g. a non-GMSC framework) or does not weight it for the group."""
    try:
        component = framework.component("quick_win")
    except KeyError:
        return ()
    return component.items_for(group)


@dataclass(frozen=True)
class CriterionState:
    latest: QuickWinCriterionAnswer | None
    history: int  # how many answers were recorded, the latest included


def criterion_answers_latest(*, programme: Programme, cycle: Cycle) -> dict[str, CriterionState]:
    """Per criterion code: the answer that counts (the latest) and how many were ever given."""
    states: dict[str, CriterionState] = {}
    answers = QuickWinCriterionAnswer.objects.filter(programme=programme, cycle=cycle).select_related(
        "author"
    )
    for answer in answers.order_by("criterion", "-created_at", "-id"):
        state = states.get(answer.criterion)
        if state is None:
            states[answer.criterion] = CriterionState(latest=answer, history=1)
        else:
            states[answer.criterion] = CriterionState(latest=state.latest, history=state.history + 1)
    return states


def region_participations(*, region: Region) -> list[Participation]:
    """The cycles the region takes part in, newest first (where quick wins are self-assessed)."""
    found = Participation.objects.filter(region=region).select_related("cycle", "cycle__framework")
    return list(found.order_by("-cycle__year", "-cycle__created_at"))
