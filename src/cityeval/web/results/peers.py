"""A region among its peers (the region page) and each component's distribution (the
coordinator's distribution page), from one stored run.

The statistics are the engine's (:mod:`cityeval.engine.peers`: quantiles by linear
interpolation, numpy's default); this module reads the run's lines (kept by the process once
read, :func:`~cityeval.web.results.stored.run_lines`) and the regions' names in a constant
number of queries, whatever the number of regions, and shapes what the pages show.

Visibility: the peers come from the run the page shows, which a user other than the national
coordinator sees only once it is published (``results_access``); and, failing closed, this
module gives a run's lines to such a user only when its cycle is published (checked on every
read, never kept). Only regions that
took part count: a non-participant's zeros would pull every median down.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.engine.peers import nearest_by_final, peer_statistics, score_distribution
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark
from cityeval.web.labels import page_label
from cityeval.web.regions.models import Region
from cityeval.web.results.charts import BoxRow, box_plot_svg
from cityeval.web.results.models import RegionResult, ResultRun
from cityeval.web.results.selectors import ResultsAccess
from cityeval.web.results.stored import run_lines

PEER_COLUMNS = ("group", "province", "kind")
NEAREST = 5


def peer_table(run: ResultRun, framework: Framework, *, published_only: bool) -> pl.DataFrame:
    """The run's participating regions, one row each: ``region, slug, group, province, kind``,
    one column per component and ``final``. At most three queries, whatever the number of
    regions: whether the cycle is published (``published_only``), the run's lines (once per
    process, see :func:`~cityeval.web.results.stored.run_lines`) and the regions' names, slugs
    and kinds (always read now).

    ``published_only``: nothing unless the run's cycle is published (for every user but the
    national coordinator)."""
    codes = list(framework.component_codes)
    columns: dict[str, list] = {c: [] for c in ("region", "slug", *PEER_COLUMNS, *codes, "final")}
    schema = {c: pl.String for c in ("region", "slug", *PEER_COLUMNS)} | {
        c: pl.Float64 for c in (*codes, "final")
    }
    if published_only and not Cycle.objects.filter(pk=run.cycle_id, status=Cycle.Status.PUBLISHED).exists():
        return pl.DataFrame(columns, schema=schema)
    lines = run_lines(run)
    ids = RegionResult.objects.filter(run=run).values("region_id")
    regions = {
        pk: rest
        for pk, *rest in Region.objects.filter(pk__in=ids)
        .order_by()
        .values_list("pk", "name", "slug", "kind")
    }
    # Column by column over the participants' positions: the same table as a loop over the
    # lines appending to every column, at a fraction of the cost.
    taking_part = [i for i, participant in enumerate(lines["participant"]) if participant]
    named = [regions[lines["region_id"][i]] for i in taking_part]
    columns["region"] = [name for name, _slug, _kind in named]
    columns["slug"] = [slug for _name, slug, _kind in named]
    columns["kind"] = [kind for _name, _slug, kind in named]
    for column in ("group", "province", "final"):
        values = lines[column]
        columns[column] = [values[i] for i in taking_part]
    scores = [lines["components"][i] for i in taking_part]
    for code in codes:
        columns[code] = [s.get(code) for s in scores]
    return pl.DataFrame(columns, schema=schema)


def _scores(framework: Framework, *, group: str | None = None) -> list[tuple[str, str]]:
    """(code, label) of each component (only those ``group`` has, when given), then the final."""
    components = [c for c in framework.components if group is None or c.applies_to(group)]
    return [(c.code, page_label(c.label)) for c in components] + [("final", _("Final"))]


@dataclass(frozen=True)
class PeerCell:
    n: int
    q1: float | None
    median: float | None
    q3: float | None


@dataclass(frozen=True)
class PeerLine:
    code: str
    label: str
    value: float | None  # the region's own score
    cells: list[PeerCell]  # one per peer set, in the sets' order


@dataclass(frozen=True)
class PeerSet:
    key: str  # group, province or kind
    name: str
    count: int  # regions in the set, the region included
    chart: str


@dataclass(frozen=True)
class Neighbour:
    name: str
    slug: str
    final: float
    difference: float  # their final minus the region's


@dataclass(frozen=True)
class RegionPeers:
    sets: list[PeerSet]
    lines: list[PeerLine]
    nearest: list[Neighbour]


def _set_name(column: str, value: str | None) -> str:
    if column == "group":
        return _("Group: %(group)s") % {"group": value}
    if column == "province":
        return _("Province: %(province)s") % {"province": value}
    kind = Region.Kind(value).label if value in Region.Kind.values else (value or "–")
    return _("Kind: %(kind)s") % {"kind": kind}


def _peer_chart(
    framework: Framework, scores: list[tuple[str, str]], records: dict, *, region: str, set_name: str
) -> str:
    """One peer set's box plot: a row per score, the region's own score as the marker."""
    boxes = [
        BoxRow(
            label,
            records[code]["q1"],
            records[code]["median"],
            records[code]["q3"],
            marker=records[code]["value"],
        )
        for code, label in scores
    ]
    return box_plot_svg(
        boxes,
        scale_min=framework.scale.min,
        scale_max=framework.scale.max,
        title=_("%(region)s against its peers (%(peers)s)") % {"region": region, "peers": set_name},
        legend=(_("Peers: Q1 to Q3, median"), region),
        decimal_mark=decimal_mark(),
    )


def region_peers(access: ResultsAccess, row: RegionResult) -> RegionPeers | None:
    """The region page's peers section; None for a region that did not take part."""
    if not row.participant:
        return None
    framework = access.framework
    table = peer_table(access.require_run(), framework, published_only=not access.is_coordinator)
    name = row.region.name
    own_rows = table.filter(pl.col("region") == name)
    if own_rows.height != 1:
        return None
    # A component the region's group does not have (kolaborasi for REGULER) is not its score.
    scores = _scores(framework, group=row.group)
    codes = [code for code, _label in scores]
    stats = peer_statistics(table, region=name, scores=codes, peers=PEER_COLUMNS)
    by_set = stats.partition_by("peers", as_dict=True, maintain_order=True)
    sets: list[PeerSet] = []
    cells: dict[str, list[PeerCell]] = {code: [] for code in codes}
    for column in PEER_COLUMNS:
        part = by_set[(column,)]
        records = {r["score"]: r for r in part.iter_rows(named=True)}
        value = part.item(0, "peer_value")
        set_name = _set_name(column, value)
        chart = _peer_chart(framework, scores, records, region=name, set_name=set_name)
        sets.append(PeerSet(key=column, name=set_name, count=records["final"]["n"], chart=chart))
        for code in codes:
            r = records[code]
            cells[code].append(PeerCell(n=r["n"], q1=r["q1"], median=r["median"], q3=r["q3"]))
    own = own_rows.row(0, named=True)
    lines = [PeerLine(code, label, own[code], cells[code]) for code, label in scores]
    slugs = dict(zip(table["region"], table["slug"], strict=True))
    nearest = [
        Neighbour(name=r["region"], slug=slugs[r["region"]], final=r["final"], difference=r["difference"])
        for r in nearest_by_final(table, region=name, count=NEAREST).iter_rows(named=True)
    ]
    return RegionPeers(sets=sets, lines=lines, nearest=nearest)


@dataclass(frozen=True)
class Distribution:
    key: str  # "all" or a group's code
    name: str
    count: int
    chart: str
    rows: list[dict]  # score, label, n, min, q1, median, q3, max


def cycle_distribution(access: ResultsAccess) -> list[Distribution]:
    """Each component's distribution over every participating region, then within each group
    (in the framework's order of groups)."""
    framework = access.framework
    table = peer_table(access.require_run(), framework, published_only=not access.is_coordinator)
    scores = _scores(framework)
    labels = dict(scores)
    codes = [code for code, _label in scores]
    parts = [("all", _("All regions"), score_distribution(table, scores=codes))]
    grouped = score_distribution(table, scores=codes, by="group")
    order = {code: i for i, code in enumerate(framework.group_codes)}
    by_group = grouped.partition_by("group", as_dict=True, maintain_order=True)
    for (group,), part in sorted(
        by_group.items(), key=lambda item: (order.get(item[0][0], len(order)), item[0])
    ):
        parts.append((str(group), _("Group: %(group)s") % {"group": group}, part))
    out = []
    for key, name, frame in parts:
        rows = [r | {"label": labels[r["score"]]} for r in frame.iter_rows(named=True)]
        boxes = [BoxRow(r["label"], r["q1"], r["median"], r["q3"], low=r["min"], high=r["max"]) for r in rows]
        chart = box_plot_svg(
            boxes,
            scale_min=framework.scale.min,
            scale_max=framework.scale.max,
            title=_("Distribution of each component (%(regions)s)") % {"regions": name},
            legend=(_("Q1 to Q3, median; whiskers: lowest to highest"), None),
            decimal_mark=decimal_mark(),
        )
        count = next(r["n"] for r in rows if r["score"] == "final")
        out.append(Distribution(key=key, name=name, count=count, chart=chart, rows=rows))
    return out
