"""A national-size cycle for the list pages: many regions added to the ``world`` cycle with
bulk inserts (fast), and optionally a computed run whose finals and ranks are known by
construction, so that tests can say which region is on which page without the engine.

Region ``i`` (1-based) is "Kota Uji 001" … ("Kab. Uji …" for even ``i``), in province
"Provinsi 01" … "Provinsi 38" (``i`` modulo 38), group REGULER. In the run its final is
``4 - i/1000`` and its national rank ``i`` (the world's two regions are not in the run).
"""

from __future__ import annotations

from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import Panel, PanelRegion
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.models import RegionResult, ResultRun

PROVINCES = 38


def name_of(i: int) -> str:
    return f"{'Kab.' if i % 2 == 0 else 'Kota'} Uji {i:03d}"


def province_of(i: int) -> str:
    return f"Provinsi {i % PROVINCES + 1:02d}"


def add_regions(cycle: Cycle, count: int, *, outside: int = 0) -> list[Participation]:
    """``count`` regions taking part in ``cycle`` and ``outside`` more that do not."""
    Province.objects.bulk_create([Province(name=f"Provinsi {n:02d}") for n in range(1, PROVINCES + 1)])
    provinces = {p.name: p for p in Province.objects.filter(name__startswith="Provinsi ")}
    Region.objects.bulk_create(
        [
            Region(
                name=name_of(i),
                slug=f"uji-{i:03d}",
                kind="kabupaten" if i % 2 == 0 else "kota",
                province=provinces[province_of(i)],
                code=f"99.{i:03d}",
            )
            for i in range(1, count + outside + 1)
        ]
    )
    regions = list(Region.objects.filter(slug__startswith="uji-").order_by("slug"))
    Participation.objects.bulk_create(
        [Participation(cycle=cycle, region=region, group="REGULER") for region in regions[:count]]
    )
    return list(
        Participation.objects.filter(cycle=cycle, region__slug__startswith="uji-")
        .select_related("region")
        .order_by("region__slug")
    )


def add_run(cycle: Cycle, participations: list[Participation], *, published: bool = False) -> ResultRun:
    """A current run in which the i-th participation ranks i-th with final ``4 - i/1000``."""
    run = ResultRun.objects.create(
        cycle=cycle, stage="stage_2", framework_digest=cycle.framework.digest, level="item"
    )
    RegionResult.objects.bulk_create(
        [
            RegionResult(
                run=run,
                participation=p,
                region=p.region,
                group=p.group,
                province=p.region.province.name,
                final=4 - i / 1000,
                rank_national=i,
                rank_province=None,
                coverage=1.0,
            )
            for i, p in enumerate(participations, start=1)
        ]
    )
    if published:
        Cycle.objects.filter(pk=cycle.pk).update(status=Cycle.Status.PUBLISHED)
    return run


def add_panels(cycle: Cycle, participations: list[Participation], *, per_panel: int) -> list[Panel]:
    """Stage II panels "Panel 01", … each given the next ``per_panel`` participations in order."""
    count = -(-len(participations) // per_panel)
    Panel.objects.bulk_create(
        [Panel(cycle=cycle, stage="stage_2", name=f"Panel {n:02d}") for n in range(1, count + 1)]
    )
    panels = list(Panel.objects.filter(cycle=cycle, name__startswith="Panel ").order_by("name"))
    PanelRegion.objects.bulk_create(
        [
            PanelRegion(panel=panels[i // per_panel], participation=p, stage="stage_2")
            for i, p in enumerate(participations)
        ]
    )
    return panels
