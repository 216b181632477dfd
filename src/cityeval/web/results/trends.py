"""Results over the years: a region's final, components and national rank in every cycle with
results (the region trends page), and the distribution of the finals in each year (the
coordinator's national trends page).

Both read the current run of every cycle in a fixed number of queries, whatever the number of
years and regions. A year comes either from a cycle the platform computed or from a published
table imported as history (``history_import``); the pages say which.

Visibility, failing closed: ``published_only`` (every user but the national coordinator) keeps
the published cycles only — imported history is published by nature — so no one sees a year's
results before they are public. A year where the region did not take part is a gap, never a
zero.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import polars as pl
from django.db.models import Count
from django.utils.translation import gettext as _

from cityeval.engine import Framework
from cityeval.engine.peers import score_distribution
from cityeval.web.accounts.access import REGION_ROLES, User, memberships
from cityeval.web.accounts.models import Role
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark
from cityeval.web.labels import page_label
from cityeval.web.regions.models import Region
from cityeval.web.results.charts import BoxRow, LineSeries, box_plot_svg, line_chart_svg, rank_ticks
from cityeval.web.results.models import RegionResult, ResultRun


def may_see_trends(user: User, region_id: int) -> bool:
    """Whether ``user`` may open the region's trends page: the national coordinator and the
    region's own members, as :func:`~cityeval.web.accounts.access.region_access` says."""
    return any(
        m.role == Role.COORDINATOR or (m.role in REGION_ROLES and m.region_id == region_id)
        for m in memberships(user)
    )


def trend_runs(*, published_only: bool) -> list[ResultRun]:
    """The current run of every cycle with results, oldest year first (one query)."""
    runs = ResultRun.objects.filter(is_current=True).select_related("cycle__framework")
    if published_only:
        runs = runs.filter(cycle__status=Cycle.Status.PUBLISHED)
    return sorted(runs, key=lambda r: (r.cycle.year, r.cycle.slug))


def is_imported(run: ResultRun) -> bool:
    """Whether the run is a published table imported as history (not computed from scores)."""
    return run.level == ResultRun.Level.COMPONENT or bool(run.parameters.get("imported"))


def source_label(run: ResultRun) -> str:
    return _("Imported published table") if is_imported(run) else _("Computed by the platform")


@dataclass(frozen=True)
class TrendComponent:
    code: str
    label: str


@dataclass(frozen=True)
class TrendYear:
    cycle: Cycle
    imported: bool
    source: str
    took_part: bool
    group: str
    final: float | None
    rank_national: int | None
    ranked: int  # regions with a national rank that year
    scores: list[float | None]  # one per component of RegionTrends.components

    @property
    def label(self) -> str:
        return str(self.cycle.year)


@dataclass(frozen=True)
class RegionTrends:
    region: Region
    components: list[TrendComponent]
    years: list[TrendYear]
    scores_chart: str | None
    rank_chart: str | None

    @property
    def years_taken_part(self) -> int:
        return sum(1 for y in self.years if y.took_part)


def _components(frameworks: list[Framework], present: set[str]) -> list[TrendComponent]:
    """The components the region has a score in, in the newest framework's order, then any
    only older frameworks have; each labelled by the newest framework that has it."""
    labels: dict[str, str] = {}
    for framework in reversed(frameworks):  # newest first
        for component in framework.components:
            labels.setdefault(component.code, page_label(component.label))
    return [TrendComponent(code, label) for code, label in labels.items() if code in present]


def _ranked_counts(runs: list[ResultRun]) -> dict[int, int]:
    counts = (
        RegionResult.objects.filter(run__in=runs, rank_national__isnull=False)
        .values("run_id")
        .annotate(n=Count("id"))
    )
    return {row["run_id"]: row["n"] for row in counts}


def region_trends(
    region: Region, *, published_only: bool, keep: Callable[[Cycle], bool] | None = None
) -> RegionTrends:
    """The region's final, components and national rank in every cycle with results the user
    may see (and ``keep`` keeps, as a letter cuts at its own year), oldest first (three queries).
    A cycle without the region, or where it did not take part, is a year with no values."""
    runs = [r for r in trend_runs(published_only=published_only) if keep is None or keep(r.cycle)]
    lines = {
        r.run_id: r
        for r in RegionResult.objects.filter(run__in=runs, region=region, participant=True).only(
            "run", "group", "components", "final", "rank_national"
        )
    }
    counts = _ranked_counts(runs) if lines else {}
    present = {
        code for line in lines.values() for code, value in line.components.items() if value is not None
    }
    components = _components([r.cycle.framework.framework for r in runs], present)
    years = []
    for run in runs:
        line = lines.get(run.id)
        years.append(
            TrendYear(
                cycle=run.cycle,
                imported=is_imported(run),
                source=source_label(run),
                took_part=line is not None,
                group=line.group if line else "",
                final=line.final if line else None,
                rank_national=line.rank_national if line else None,
                ranked=counts.get(run.id, 0),
                scores=[line.components.get(c.code) if line else None for c in components],
            )
        )
    scores_chart, rank_chart = _region_charts(region, runs, components, years) if lines else (None, None)
    return RegionTrends(region, components, years, scores_chart, rank_chart)


def _scale(runs: list[ResultRun]) -> tuple[float, float]:
    """The widest score scale of the runs' frameworks (every built-in one is 0–4)."""
    scales = [r.cycle.framework.framework.scale for r in runs]
    return min(s.min for s in scales), max(s.max for s in scales)


def _region_charts(
    region: Region, runs: list[ResultRun], components: list[TrendComponent], years: list[TrendYear]
) -> tuple[str, str | None]:
    labels = [y.label for y in years]
    scale_min, scale_max = _scale(runs)
    series = [LineSeries(_("Final"), [y.final for y in years])]
    series += [LineSeries(c.label, [y.scores[i] for y in years]) for i, c in enumerate(components)]
    scores = line_chart_svg(
        labels,
        series,
        scale_min=scale_min,
        scale_max=scale_max,
        title=_("%(region)s: final and components, year by year") % {"region": region.name},
        decimal_mark=decimal_mark(),
    )
    ranks = [float(y.rank_national) if y.rank_national is not None else None for y in years]
    if all(r is None for r in ranks):
        return scores, None
    deepest = max(max(y.ranked for y in years), 2)
    rank = line_chart_svg(
        labels,
        [LineSeries(_("National rank"), ranks)],
        scale_min=1,
        scale_max=deepest,
        inverted=True,
        ticks=rank_ticks(deepest),
        title=_("%(region)s: national rank, year by year (1 is the top)") % {"region": region.name},
        decimal_mark=decimal_mark(),
    )
    return scores, rank


# --- the national distribution of finals, per year ------------------------------------------


@dataclass(frozen=True)
class YearDistribution:
    cycle: Cycle
    imported: bool
    source: str
    published: bool
    n: int
    min: float | None
    q1: float | None
    median: float | None
    q3: float | None
    max: float | None


@dataclass(frozen=True)
class NationalTrends:
    years: list[YearDistribution]
    chart: str | None


def finals_by_cycle(runs: list[ResultRun]) -> pl.DataFrame:
    """``cycle, final``: every participating region's final in each run (one query)."""
    rows = RegionResult.objects.filter(run__in=runs, participant=True).values_list(
        "run__cycle__slug", "final"
    )
    return pl.DataFrame(list(rows), schema={"cycle": pl.String, "final": pl.Float64}, orient="row")


def national_trends(*, published_only: bool) -> NationalTrends:
    """Each year's distribution of finals over the regions that took part (n, lowest, Q1,
    median, Q3, highest; quantiles as :func:`cityeval.engine.peers.score_distribution`), oldest
    first, and a box plot per year. Two queries."""
    runs = trend_runs(published_only=published_only)
    if not runs:
        return NationalTrends([], None)
    stats = score_distribution(finals_by_cycle(runs), scores=["final"], by="cycle")
    found = {row["cycle"]: row for row in stats.iter_rows(named=True)}
    years = []
    for run in runs:
        row = found.get(run.cycle.slug, {})
        years.append(
            YearDistribution(
                cycle=run.cycle,
                imported=is_imported(run),
                source=source_label(run),
                published=run.cycle.status == Cycle.Status.PUBLISHED,
                n=row.get("n") or 0,
                **{k: row.get(k) for k in ("min", "q1", "median", "q3", "max")},
            )
        )
    scale_min, scale_max = _scale(runs)
    chart = box_plot_svg(
        [BoxRow(str(y.cycle.year), y.q1, y.median, y.q3, low=y.min, high=y.max) for y in years],
        scale_min=scale_min,
        scale_max=scale_max,
        title=_("Distribution of the finals, year by year"),
        legend=(_("Q1 to Q3, median; whiskers: lowest to highest"), None),
        decimal_mark=decimal_mark(),
    )
    return NationalTrends(years, chart)
