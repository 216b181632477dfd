"""Reads for results: who may see what, the national table, and the report data.

Access fails closed. Before publication only the national coordinator sees a cycle's results;
everyone else (regional users, assessors, anonymous citizens) gets 404, so no one sees
results early. After publication everyone sees the national table and the region pages. The
assessors' feedback on a region is shown to the coordinator always and, after publication,
to that region's own members (regional admin, OPD contributors) — never to other users or
anonymous visitors.

Pages, exports, PDF letters and the API all read the stored run through this module and
build the engine's report data from it, so they show the same numbers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial
from typing import Any

import polars as pl
from django.db.models import Count
from django.http import Http404
from django.shortcuts import get_object_or_404

from cityeval.engine import Framework
from cityeval.engine.report import CycleReport, RegionReport, cycle_report, region_report
from cityeval.web.accounts.access import User, is_coordinator, memberships
from cityeval.web.accounts.models import Role
from cityeval.web.evaluations.models import Cycle
from cityeval.web.kept import Kept
from cityeval.web.panels.tables import feedback_for
from cityeval.web.regions.models import Region
from cityeval.web.results.kept import run_key
from cityeval.web.results.models import (
    AgreementResult,
    DimensionResult,
    ItemResult,
    RegionResult,
    ResultRun,
)
from cityeval.web.results.stored import run_lines, stored_result

REGIONAL_ROLES = (Role.REGIONAL_ADMIN, Role.OPD_CONTRIBUTOR)


def current_run(cycle: Cycle) -> ResultRun | None:
    return ResultRun.objects.filter(cycle=cycle, is_current=True).select_related("computed_by").first()


@dataclass(frozen=True)
class ResultsAccess:
    """A user's view of one cycle's results."""

    cycle: Cycle
    run: ResultRun | None  # None only for the coordinator, before the first computation
    is_coordinator: bool

    @property
    def published(self) -> bool:
        return self.cycle.status == Cycle.Status.PUBLISHED

    @property
    def framework(self) -> Framework:
        return self.cycle.framework.framework

    def require_run(self) -> ResultRun:
        if self.run is None:
            raise Http404
        return self.run


def results_access(user: User, cycle: str) -> ResultsAccess:
    """The cycle's results as ``user`` may see them; 404 when they may not (yet)."""
    the_cycle = get_object_or_404(Cycle.objects.select_related("framework"), slug=cycle)
    coordinator = is_coordinator(user)
    run = current_run(the_cycle)
    if not coordinator and (the_cycle.status != Cycle.Status.PUBLISHED or run is None):
        raise Http404
    return ResultsAccess(cycle=the_cycle, run=run, is_coordinator=coordinator)


def may_see_feedback(user: User, access: ResultsAccess, region_id: int) -> bool:
    """The coordinator always; the region's own members once the results are published."""
    if access.is_coordinator:
        return True
    if not access.published:
        return False
    return any(m.role in REGIONAL_ROLES and m.region_id == region_id for m in memberships(user))


@dataclass(frozen=True)
class RegionResults:
    access: ResultsAccess
    row: RegionResult
    sees_feedback: bool


def region_results(user: User, cycle: str, region: str) -> RegionResults:
    """One region's stored results; 404 for a region not in the results."""
    access = results_access(user, cycle)
    row = get_object_or_404(
        RegionResult.objects.select_related("region__province", "participation"),
        run=access.require_run(),
        region__slug=region,
    )
    return RegionResults(access=access, row=row, sees_feedback=may_see_feedback(user, access, row.region_id))


def visible_cycles(user: User) -> list[tuple[Cycle, ResultRun | None]]:
    """Cycles whose results the user may open: published ones; for the coordinator also
    closed cycles and any cycle with results."""
    runs = {r.cycle_id: r for r in ResultRun.objects.filter(is_current=True)}
    cycles = Cycle.objects.select_related("framework").order_by("-year", "slug")
    if is_coordinator(user):
        shown = [c for c in cycles if c.id in runs or c.status == Cycle.Status.CLOSED]
    else:
        shown = [c for c in cycles if c.status == Cycle.Status.PUBLISHED and c.id in runs]
    return [(c, runs.get(c.id)) for c in shown]


# --- the national table ----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NationalLine:
    """What the national table shows of a region's line: the stored ``RegionResult``'s columns
    and the region's name and link, read as plain values (a page of 50 from 550 lines needs
    neither the 550 model instances nor their items per component)."""

    region_id: int
    region_name: str
    region_slug: str
    group: str
    province: str
    final: float
    improvement: float | None
    rank_national: int | None
    rank_province: int | None
    coverage: float | None
    participant: bool


@dataclass(frozen=True, slots=True)
class NationalRow:
    result: NationalLine
    components: tuple[float | None, ...]  # in the framework's component order


def sortable_columns(framework: Framework) -> list[str]:
    """The national table's columns in the order the page shows them: the key ones (region,
    final, national rank) first, so that a phone shows them without scrolling sideways."""
    return [
        "region",
        "final",
        "rank_national",
        "group",
        "province",
        *framework.component_codes,
        "improvement",
        "rank_province",
        "coverage",
    ]


def _sort_key(column: str, framework: Framework) -> Callable[[NationalRow], Any]:
    if column in framework.component_codes:
        index = framework.component_codes.index(column)
        return lambda row: row.components[index]
    if column == "region":
        return lambda row: row.result.region_name.casefold()
    return lambda row: getattr(row.result, column)


# The run's columns of a NationalLine, in its order (around the region's name and slug).
LINE_COLUMNS = (
    "region_id",
    "group",
    "province",
    "final",
    "improvement",
    "rank_national",
    "rank_province",
    "coverage",
    "participant",
)


# The national table's rows of a run for the regions' names as read (kept per run, component
# codes and names: see ``kept``): a run's lines never change, and a renamed region is a new key.
NATIONAL_ROWS_KEPT = 16
_national_rows_kept: Kept[tuple[NationalRow, ...]] = Kept(NATIONAL_ROWS_KEPT)


def _rows_in_rank_order(
    run: ResultRun, codes: tuple[str, ...], named: tuple[tuple[int, str, str], ...]
) -> tuple[NationalRow, ...]:
    """Every line of the run whose region is in ``named`` (``pk, name, slug``), in national
    rank order (the unranked last), then by name."""
    lines = run_lines(run)
    names = {pk: (name, slug) for pk, name, slug in named}
    out = []
    columns = zip(*(lines[field] for field in (*LINE_COLUMNS, "components")), strict=True)
    for pk, *values, components in columns:
        if pk not in names:
            continue
        name, slug = names[pk]
        line = NationalLine(pk, name, slug, *values)
        out.append(NationalRow(line, tuple(components.get(code) for code in codes)))
    out.sort(
        key=lambda row: (
            row.result.rank_national is None,
            row.result.rank_national or 0,
            row.result.region_name,
        )
    )
    return tuple(out)


def national_rows(
    run: ResultRun,
    framework: Framework,
    *,
    sort: str = "rank_national",
    descending: bool = False,
    province: str = "",
    group: str = "",
    search: str = "",
) -> list[NationalRow]:
    """The national table, filtered (``search``: part of the region's name) and sorted on any
    column; blanks always sort last.

    An unknown ``sort`` falls back to the national rank. Ties keep the rank order.
    """
    # Names and slugs are the region's, read now (every region: about 550, fewer than the
    # run's subquery costs); a search matches as the database does.
    # The kept rows are every region's: a search picks among them (the matching regions read
    # apart), so searches do not push the run's rows out of the store.
    named = tuple(Region.objects.order_by("pk").values_list("pk", "name", "slug"))
    codes = tuple(framework.component_codes)
    names = hashlib.blake2b(repr(named).encode(), digest_size=16).digest()  # smaller than 550 names
    rows = _national_rows_kept.get(
        (run_key(run), codes, names), lambda: _rows_in_rank_order(run, codes, named)
    )
    found = (
        set(Region.objects.filter(name__icontains=search).values_list("pk", flat=True)) if search else None
    )
    out = [
        row
        for row in rows
        if (found is None or row.result.region_id in found)
        and (not province or row.result.province == province)
        and (not group or row.result.group == group)
    ]
    if sort not in sortable_columns(framework):
        sort, descending = "rank_national", False
    key = _sort_key(sort, framework)
    present = [row for row in out if key(row) is not None]
    blank = [row for row in out if key(row) is None]
    present.sort(key=key, reverse=descending)
    return present + blank


def filter_choices(run: ResultRun) -> tuple[list[str], list[str]]:
    """The provinces and groups present in a run, for the filter form."""
    lines = run_lines(run)
    return sorted(set(lines["province"])), sorted(set(lines["group"]))


def ranked_count(run: ResultRun) -> int:
    """How many of the run's regions have a national rank."""
    return sum(rank is not None for rank in run_lines(run)["rank_national"])


# --- tables for exports ----------------------------------------------------------------------


def national_table(run: ResultRun, framework: Framework) -> pl.DataFrame:
    """The national table in the component-level format of ``cityeval score`` (unrounded):
    ``region, group, <component codes>, final, improvement, rank_national, province,
    rank_province``, in national rank order."""
    codes = list(framework.component_codes)
    columns: dict[str, list[Any]] = {
        c: []
        for c in (
            "region",
            "group",
            *codes,
            "final",
            "improvement",
            "rank_national",
            "province",
            "rank_province",
        )
    }
    rows = RegionResult.objects.filter(run=run).select_related("region")
    for r in sorted(rows, key=lambda r: (-r.final, r.region.name)):
        columns["region"].append(r.region.name)
        columns["group"].append(r.group)
        for code in codes:
            columns[code].append(r.components.get(code))
        for name in ("final", "improvement", "rank_national", "province", "rank_province"):
            columns[name].append(getattr(r, name))
    schema: dict[str, Any] = {c: pl.Float64 for c in columns}
    schema |= {"region": pl.String, "group": pl.String, "province": pl.String}
    schema |= {"rank_national": pl.Int64, "rank_province": pl.Int64}
    return pl.DataFrame(columns, schema=schema)


ITEM_EXPORT_COLUMNS = (
    "region", "group", "province", "component", "item", "dimension",
    "n_assessors", "panel_score", "consolidated", "score",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class RegionItem:
    """One line of the region page's item scores."""

    item: str
    n_assessors: int
    score: float | None
    consolidated: bool


def region_items(run: ResultRun, region_id: int) -> list[RegionItem]:
    """The region's consolidated item scores for its page, in the order of
    :func:`items_table` (component, then item): one query, no table of the cycle."""
    rows = ItemResult.objects.filter(run=run, region_id=region_id).order_by("component", "item")
    return [RegionItem(*row) for row in rows.values_list("item", "n_assessors", "score", "consolidated")]


def items_table(run: ResultRun, *, region_id: int | None = None) -> pl.DataFrame:
    """Consolidated item scores (the panel mean, or the chair's consolidated score), never an
    individual assessor's score: ``region, group, province, component, item, dimension,
    n_assessors, panel_score, consolidated, score``."""
    lines = RegionResult.objects.filter(run=run)
    rows = ItemResult.objects.filter(run=run).order_by("region__name", "component", "item")
    if region_id is not None:  # one region's page reads its own line, not the 550 of the cycle
        lines, rows = lines.filter(region_id=region_id), rows.filter(region_id=region_id)
    attributes = {
        pk: (name, group, province)
        for pk, name, group, province in lines.values_list("region_id", "region__name", "group", "province")
    }
    data: dict[str, list[Any]] = {c: [] for c in ITEM_EXPORT_COLUMNS}
    fields = (
        "region_id",
        "component",
        "item",
        "dimension",
        "n_assessors",
        "panel_score",
        "consolidated",
        "score",
    )
    for region_id_, component, item, dimension, n, panel_score, consolidated, score in rows.values_list(
        *fields
    ):
        name, group, province = attributes[region_id_]
        for column, value in zip(
            ITEM_EXPORT_COLUMNS,
            (name, group, province, component, item, dimension or None, n, panel_score, consolidated, score),
            strict=True,
        ):
            data[column].append(value)
    schema = {c: pl.String for c in ITEM_EXPORT_COLUMNS} | {
        "n_assessors": pl.Int64,
        "panel_score": pl.Float64,
        "consolidated": pl.Boolean,
        "score": pl.Float64,
    }
    return pl.DataFrame(data, schema=schema)


# --- the engine's report data, from the stored run ----------------------------------------------


def previous_run(run: ResultRun) -> ResultRun | None:
    if run.previous_cycle_id is None:
        return None
    # Only a published previous cycle is shown beside this one (see services.previous_cycle).
    return ResultRun.objects.filter(
        cycle_id=run.previous_cycle_id, is_current=True, cycle__status=Cycle.Status.PUBLISHED
    ).first()


def _previous_tables(
    run: ResultRun, region_id: int | None
) -> tuple[pl.DataFrame | None, pl.DataFrame | None]:
    """Last year's dimension and component scores (``region, dimension|component, score``)."""
    before = previous_run(run)
    if before is None:
        return None, None
    dims = DimensionResult.objects.filter(run=before)
    comps = RegionResult.objects.filter(run=before)
    if region_id is not None:
        dims, comps = dims.filter(region_id=region_id), comps.filter(region_id=region_id)
    dimensions = pl.DataFrame(
        list(dims.values_list("region__name", "dimension", "score")),
        schema={"region": pl.String, "dimension": pl.String, "score": pl.Float64},
        orient="row",
    )
    components = pl.DataFrame(
        [
            (name, code, value)
            for name, scores in comps.values_list("region__name", "components")
            for code, value in scores.items()
        ],
        schema={"region": pl.String, "component": pl.String, "score": pl.Float64},
        orient="row",
    )
    return dimensions, components


def _agreement(run: ResultRun, panel: str | None = None) -> pl.DataFrame:
    rows = AgreementResult.objects.filter(run=run)
    if panel is not None:
        rows = rows.filter(panel=panel)
    fields = ("panel", "component", "alpha", "icc2", "icc2k", "n_units", "n_coders", "complete")
    return pl.DataFrame(
        list(rows.values_list(*fields)),
        schema={
            "panel": pl.String,
            "component": pl.String,
            "alpha": pl.Float64,
            "icc2": pl.Float64,
            "icc2k": pl.Float64,
            "n_units": pl.Int64,
            "n_coders": pl.Int64,
            "complete": pl.Boolean,
        },
        orient="row",
    )


def region_report_of(results: RegionResults) -> RegionReport:
    """The engine's report of one region, from the stored run; feedback only if visible."""
    access, row = results.access, results.row
    run = access.require_run()
    framework = access.framework
    previous_dimensions, previous_components = _previous_tables(run, row.region_id)
    feedback = feedback_for(row.participation, run.stage) if results.sees_feedback else []
    return region_report(
        stored_result(run, framework, region_id=row.region_id),
        framework,
        region=row.region.name,
        previous_dimensions=previous_dimensions,
        previous_components=previous_components,
        feedback=feedback,
        agreement=_agreement(run, row.panel) if row.panel else None,
    )


def cycle_report_of(
    access: ResultsAccess, *, with_feedback: bool, progress: Callable[[int, int], None] | None = None
) -> CycleReport:
    """Every region's report; feedback (coordinator only) read per region, each region
    reported to ``progress(done, total)`` (the letter job's progress)."""
    run = access.require_run()
    framework = access.framework
    previous_dimensions, previous_components = _previous_tables(run, None)
    rows = list(RegionResult.objects.filter(run=run).select_related("region", "participation"))
    feedback = {}
    if with_feedback:
        for done, r in enumerate(rows, 1):
            feedback[r.region.name] = feedback_for(r.participation, run.stage)
            if progress is not None:
                progress(done, len(rows))
    return cycle_report(
        stored_result(run, framework),
        framework,
        previous_dimensions=previous_dimensions,
        previous_components=previous_components,
        feedback=feedback,
        agreement=_agreement(run),
        panels={r.region.name: r.panel for r in rows if r.panel},
    )


@dataclass(frozen=True)
class HistoryPoint:
    cycle: Cycle
    final: float
    rank_national: int | None
    ranked: int


# How many regions each run ranked: a run's lines never change (see ``kept``).
RANKED_KEPT = 64
_ranked_kept: Kept[int] = Kept(RANKED_KEPT)


def _ranked_counts(runs: list[ResultRun]) -> dict[int, int]:
    """Each run's count of ranked regions, kept per run; the runs not kept yet are counted in
    one query, whatever their number."""
    missing = [run.pk for run in runs if run_key(run) not in _ranked_kept]
    counted: dict[int, int] = {}
    if missing:
        rows = (
            RegionResult.objects.filter(run_id__in=missing, rank_national__isnull=False)
            .order_by()
            .values("run")
            .annotate(n=Count("pk"))
            .values_list("run", "n")
        )
        counted = dict.fromkeys(missing, 0) | dict(rows)

    def count(pk: int) -> int:
        if pk in counted:
            return counted[pk]
        # Kept when the query above was planned, pushed out since by a neighbour's count.
        return RegionResult.objects.filter(run_id=pk, rank_national__isnull=False).count()

    return {run.pk: _ranked_kept.get(run_key(run), partial(count, run.pk)) for run in runs}


def region_history(region_id: int, *, coordinator: bool) -> list[HistoryPoint]:
    """The region's final in every cycle whose results the user may see, oldest first. One
    query, whatever the number of cycles (two when a run's count of ranked regions is not kept
    yet: see :func:`_ranked_counts`)."""
    rows = (
        RegionResult.objects.filter(run__is_current=True, region_id=region_id)
        .select_related("run__cycle")
        # The cycles' order (one current run each), without the lines' own (the region's name).
        .order_by("-run__cycle__year", "run__cycle__slug")
    )
    if not coordinator:
        rows = rows.filter(run__cycle__status=Cycle.Status.PUBLISHED)
    lines = list(rows)
    ranked = _ranked_counts([r.run for r in lines])
    return [
        HistoryPoint(cycle=r.run.cycle, final=r.final, rank_national=r.rank_national, ranked=ranked[r.run.pk])
        for r in sorted(lines, key=lambda r: r.run.cycle.year)
    ]
