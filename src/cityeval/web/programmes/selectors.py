"""Reads for programmes: the regional dashboard's overview."""

from __future__ import annotations

from dataclasses import dataclass, field

from cityeval.engine import Framework
from cityeval.web.programmes.models import Programme
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


def programme_overview(*, region: Region, framework: Framework | None, language: str = "en") -> ProgrammeOverview:
    """Programme count per dimension, which OPD owns a quick win in which dimension, and gaps:
    dimensions with no quick win and OPDs with no programme."""
    programmes = list(Programme.objects.filter(region=region).select_related("owner"))
    if framework is not None and framework.dimensions:
        dims = [(d.code, getattr(d.label, language, d.label.en)) for d in framework.dimensions]
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
