"""How far a run's finals and ranks can be trusted (issue 15): the engine's Monte Carlo
(:mod:`cityeval.engine.uncertainty`) run with every computation from the assessors' marks,
stored per region, and what the national and region pages show of it.

**Computed** by :func:`intervals_store`, inside ``services.results_compute`` (so in the
compute job's transaction): ``DRAWS`` draws with seed ``SEED`` over the sources ``SOURCES`` —
the assessors (each region's panel resampled with replacement) and the weights (each component
weight times a factor uniform in ±``WEIGHT_RANGE``, renormalised) — and, when the cycle's
survey has counted answers for at least one region, the survey (``SURVEY``: each Impact item's
statement's answers resampled with replacement, the item's score moved by the resampled mean's
deviation, docs/uncertainty.md) — with the variance shares. The survey's answer counts are the
ones behind the assessors' proposed levels (``surveys.selectors.impact_counts``: the responses
the survey's quality rules keep, pooled over the region's forms, two queries for the cycle);
the number of regions and statements they cover is kept in the record's parameters
(``survey_regions``, ``survey_statements``; absent from runs computed before the survey was
included). The survey moves no point score, so the point finals are the same with it or
without. The marks are the ones the run was scored from; an item whose score a panel chair
consolidated counts the chair's score from every assessor who marked it, so it does not vary
with the panel (the chair decided it); a consolidated Impact item still moves with the survey's
sampling, as every Impact item with counted answers does. The engine's point finals must give
back the run's stored finals, else no interval is stored and the reason is kept. Imported runs
(component scores, no marks) get none: the pages say why.

**Shown**: the national table's rank cell reads "32 (25–38)" — the point rank and the 5th–95th
percentile interval of the rank over the draws — and regions in one *tied block* carry its
number. Blocks are formed in national rank order: a block starts with a region and takes every
following region whose rank interval starts at or before the end of the first region's rank
interval, so every member's interval overlaps its first region's; a block of one is no block.
The region page draws its final's 90 % interval against the ``NEIGHBOURS`` regions above and
below it in the national ranking. Both say which sources the run's draws varied
(:func:`method_text`, from the stored record, so a run keeps saying what it was computed with)
and their shares of the variance.

Visibility: the pages' own (``results_access``); and, failing closed, the rows of a run are
read for anyone but the national coordinator only once its cycle is published. Every read
here is one or two queries, whatever the number of regions.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import polars as pl
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _

from cityeval.engine import Framework, InputError
from cityeval.engine.scoring import ScoreResult
from cityeval.engine.uncertainty import uncertainty
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.templatetags.cityeval import decimal_mark, percent
from cityeval.web.kept import Kept
from cityeval.web.results.charts import IntervalRow, interval_svg
from cityeval.web.results.kept import run_key
from cityeval.web.results.models import RegionInterval, RegionResult, ResultRun, RunUncertainty
from cityeval.web.results.selectors import ResultsAccess
from cityeval.web.results.stored import BATCH, finite_or_none
from cityeval.web.surveys.selectors import impact_counts

DRAWS = 1000
SEED = 0  # the engine's and `cityeval uncertainty`'s default: the same draws on the same marks
SOURCES = ("assessors", "weights")
SURVEY = "survey"  # added to SOURCES when the cycle's survey has counted answers
WEIGHT_RANGE = 0.2
NEIGHBOURS = 5
TOLERANCE = 1e-9  # the engine's point final against the stored one


# --- compute and store -----------------------------------------------------------------------


def uncertainty_input(scores: pl.DataFrame, overrides: pl.DataFrame | None) -> pl.DataFrame:
    """The run's marks with each consolidated score in place of every mark of its item (see
    the module's docstring): the engine's item-level input for the Monte Carlo."""
    if overrides is None or overrides.height == 0:
        return scores
    chosen = overrides.select(
        pl.col("region").cast(pl.String), pl.col("item").cast(pl.String), pl.col("score").alias("_chair")
    )
    return (
        scores.join(chosen, on=["region", "item"], how="left")
        .with_columns(
            pl.when(pl.col("_chair").is_not_null() & pl.col("score").is_not_null())
            .then(pl.col("_chair"))
            .otherwise(pl.col("score"))
            .cast(scores.schema["score"])
            .alias("score")
        )
        .drop("_chair")
    )


def intervals_store(
    run: ResultRun,
    *,
    scores: pl.DataFrame,
    overrides: pl.DataFrame | None,
    result: ScoreResult,
    framework: Framework,
    participations: dict[str, Participation],
) -> RunUncertainty:
    """Run the Monte Carlo on the marks ``run`` was scored from (``result``) and store it,
    with the survey source when the cycle's survey has counted answers (see the module's
    docstring)."""
    started = time.perf_counter()
    counts = impact_counts(run.cycle)
    sources = (*SOURCES, SURVEY) if counts.height else SOURCES
    record = RunUncertainty(run=run, draws=DRAWS, seed=SEED, sources=list(sources), weight_range=WEIGHT_RANGE)
    survey = {"survey_regions": counts.get_column("region").n_unique(), "survey_statements": counts.height}
    options = {k: result.parameters[k] for k in ("consolidation", "unscored") if k in result.parameters}
    try:
        outcome = uncertainty(
            uncertainty_input(scores, overrides),
            framework,
            draws=DRAWS,
            seed=SEED,
            sources=sources,
            weight_range=WEIGHT_RANGE,
            survey=counts if counts.height else None,
            **options,
        )
    except (InputError, ValueError):
        record.reason = RunUncertainty.Reason.FAILED
        record.parameters = survey
        record.seconds = time.perf_counter() - started
        record.save()
        return record
    record.seconds = time.perf_counter() - started
    record.parameters = dict(outcome.parameters) | survey
    record.shares = {source: finite_or_none(value) for source, value in outcome.shares.items()}
    stored = dict(zip(result.regions["region"].to_list(), result.regions["final"].to_list(), strict=True))
    table = outcome.regions
    if any(
        abs(final - stored.get(region, float("nan"))) > TOLERANCE or region not in stored
        for region, final in zip(table["region"].to_list(), table["final"].to_list(), strict=True)
    ):
        record.reason = RunUncertainty.Reason.POINT_MISMATCH
        record.save()
        return record
    record.save()
    RegionInterval.objects.bulk_create(
        (
            RegionInterval(
                run=run,
                region_id=participations[row["region"]].region_id,
                final=row["final"],
                final_lo=row["final_lo"],
                final_hi=row["final_hi"],
                rank_national=row["rank_national"],
                rank_lo=row["rank_lo"],
                rank_hi=row["rank_hi"],
                p_top10=row["p_top10"],
                share_assessors=finite_or_none(row.get("share_assessors")),
                share_weights=finite_or_none(row.get("share_weights")),
                share_survey=finite_or_none(row.get("share_survey")),
            )
            for row in table.iter_rows(named=True)
        ),
        batch_size=BATCH,
    )
    return record


# --- what the pages show ---------------------------------------------------------------------


def _uncertainty_of(run: ResultRun) -> RunUncertainty | None:
    return RunUncertainty.objects.filter(run=run).first()


def why_none(run: ResultRun, record: RunUncertainty | None) -> str:
    """Why a run has no intervals, in the page's language ("" when it has them)."""
    if run.level == ResultRun.Level.COMPONENT:
        return _(
            "These results were imported as component scores: without the assessors' marks, "
            "the uncertainty of the finals and ranks cannot be computed."
        )
    if record is None and run.published_at is not None:
        return _(
            "These results were published before the uncertainty of finals and ranks was "
            "computed with the results."
        )
    if record is None:
        return _(
            "These results were computed before the uncertainty of finals and ranks was "
            "computed with them: computing the results again adds it."
        )
    if record.reason == RunUncertainty.Reason.POINT_MISMATCH:
        return _(
            "The uncertainty could not be stored: re-scoring the assessors' marks did not give "
            "back the stored finals."
        )
    if record.reason == RunUncertainty.Reason.FAILED:
        return _("The uncertainty could not be computed from the assessors' marks.")
    return ""


SOURCE_LABELS = {
    "assessors": gettext_lazy("assessors"),
    "weights": gettext_lazy("weights"),
    SURVEY: gettext_lazy("survey"),
}


def method_text(record: RunUncertainty) -> str:
    """What each of the run's draws varied, the sources used and, when the survey's sampling is
    not among them, why; in the page's language, from the stored record (so a run computed
    before the survey was included still says so)."""
    values = {"range": percent(record.weight_range), "seed": record.seed}
    if SURVEY in record.sources:
        what = _(
            "Each re-computation draws each region's panel again (its assessors, with replacement), "
            "varies every component weight by up to ±%(range)s and draws the survey's counted "
            "answers to each Impact statement again (its respondents, with replacement); random "
            "seed %(seed)s."
        )
        why = ""
    else:
        what = _(
            "Each re-computation draws each region's panel again (its assessors, with replacement) "
            "and varies every component weight by up to ±%(range)s; random seed %(seed)s."
        )
        if "survey_regions" in record.parameters:
            why = _(
                "The survey's sampling is not included: no region has counted survey answers to its "
                "Impact statements."
            )
        else:
            why = _("The survey's sampling is not included: these intervals were computed before it was.")
    used = _("Sources: %(sources)s.") % {
        "sources": ", ".join(str(SOURCE_LABELS.get(s, s)) for s in record.sources)
    }
    return " ".join(part for part in (what % values, used, why) if part)


@dataclass(frozen=True)
class Share:
    """One source's share of the variance, named in the page's language."""

    source: str
    label: str
    value: float | None


def ordered_shares(record: RunUncertainty, shares: dict[str, Any]) -> list[Share]:
    """``shares`` in the order of ``record.sources`` (the order "Sources: …" names them), then
    any other stored source, so the national page, the region page and the letter list the
    sources alike. Values are shown as estimated, never clipped: a first-order share may come
    out above 100 % or below 0 % (docs/uncertainty.md, "Variance shares")."""
    order = [s for s in record.sources if s in shares] + [s for s in shares if s not in record.sources]
    return [Share(source=s, label=str(SOURCE_LABELS.get(s, s)), value=shares[s]) for s in order]


def interval_caption() -> str:
    """The interval chart's caption: how the region is drawn (``charts.interval_svg``'s
    highlight: red-brown, a thicker line, a bold name) and how many neighbours it shows."""
    return _(
        "This region (red-brown, with a thicker line and its name in bold) among up to %(n)d "
        "regions ranked above it and %(n)d below it: the line is the final's 90%% interval, the "
        "dot the final."
    ) % {"n": NEIGHBOURS}


@dataclass(frozen=True)
class RankInterval:
    rank: int | None
    low: int | None
    high: int | None
    block: int | None  # the tied block's number, None outside a block of two or more
    shaded: bool  # every other block is shaded, so neighbouring blocks can be told apart


@dataclass(frozen=True)
class Drawn:
    """What the national table says of the run's uncertainty record (kept between requests, so
    not the model object itself: a frozen copy of what is shown)."""

    draws: int


@dataclass(frozen=True)
class NationalIntervals:
    """The run's rank intervals for the national table, by region id (empty with ``reason``
    when the run has none)."""

    record: Drawn | None
    reason: str
    by_region: Mapping[int, RankInterval] = field(default_factory=dict)
    blocks: int = 0  # tied blocks of two or more regions
    method: str = ""  # method_text of the record
    shares: Sequence[Share] = field(default_factory=list)  # of all finals, in the sources' order

    def get(self, region_id: int) -> RankInterval | None:
        return self.by_region.get(region_id)


def tied_blocks(rows: list[tuple[int, int | None, int | None, int | None]]) -> dict[int, int]:
    """Block numbers (from 1, national rank order) of ``(region_id, rank, rank_lo, rank_hi)``
    rows of the ranked regions, for blocks of two or more (see the module's docstring).

    Example: intervals 1–3, 1–2, 2–5, 4–6, 5–6 → the first three form block 1 (1 and 2 start
    at or before 3); 4–6 and 5–6 block 2."""
    ranked = sorted(
        (
            (region, rank, rank if low is None else low, rank if high is None else high)
            for region, rank, low, high in rows
            if rank is not None
        ),
        key=lambda r: (r[1], r[0]),
    )
    blocks: dict[int, int] = {}
    number, i = 0, 0
    while i < len(ranked):
        end = ranked[i][3]
        j = i + 1
        while j < len(ranked) and ranked[j][2] <= end:
            j += 1
        if j - i > 1:
            number += 1
            for member in ranked[i:j]:
                blocks[member[0]] = number
        i = j
    return blocks


def _readable(access: ResultsAccess) -> ResultRun | None:
    """The run the page shows, if ``access`` may read its rows: the coordinator always, anyone
    else only once the cycle is published (fails closed, whatever the caller checked)."""
    if not access.is_coordinator and access.cycle.status != Cycle.Status.PUBLISHED:
        return None
    return access.run


def national_intervals(access: ResultsAccess) -> NationalIntervals:
    """Every region's rank interval and tied block of the page's run (two queries, whatever the
    number of regions; none for an imported run)."""
    run = _readable(access)
    if run is None:
        return NationalIntervals(record=None, reason="")
    return _national_intervals(run)


def _national_intervals(run: ResultRun) -> NationalIntervals:
    record = None if run.level == ResultRun.Level.COMPONENT else _uncertainty_of(run)
    reason = why_none(run, record)
    if reason or record is None:
        return NationalIntervals(record=None if record is None else Drawn(record.draws), reason=reason)
    rows = list(
        RegionInterval.objects.filter(run=run).values_list("region_id", "rank_national", "rank_lo", "rank_hi")
    )
    blocks = tied_blocks(rows)
    by_region = {
        region_id: RankInterval(
            rank=rank,
            low=low,
            high=high,
            block=blocks.get(region_id),
            shaded=blocks.get(region_id, 0) % 2 == 0,
        )
        for region_id, rank, low, high in rows
    }
    return NationalIntervals(
        record=Drawn(record.draws),
        reason="",
        by_region=MappingProxyType(by_region),
        blocks=max(blocks.values(), default=0),
        method=method_text(record),
        shares=tuple(ordered_shares(record, record.shares)),
    )


NATIONAL_KEPT = 16
_national_kept: Kept[NationalIntervals] = Kept(NATIONAL_KEPT)


def national_intervals_kept(access: ResultsAccess) -> NationalIntervals:
    """:func:`national_intervals`, kept by the process (see :mod:`.kept`): a run's intervals
    and uncertainty record are stored with it and never change. Who may read them is decided
    on every call, before the cache; the key holds the rest of what the value depends on —
    whether the run is published (the reason given when it has none), the page's language
    (the method's words, the sources' names) and decimal mark."""
    run = _readable(access)
    if run is None:
        return NationalIntervals(record=None, reason="")
    key = (run_key(run), run.published_at is not None, get_language(), decimal_mark())
    return _national_kept.get(key, lambda: _national_intervals(run))


@dataclass(frozen=True)
class Neighbour:
    name: str
    slug: str
    final: float
    final_lo: float
    final_hi: float
    rank: int | None
    rank_lo: int | None
    rank_hi: int | None
    this: bool


@dataclass(frozen=True)
class RegionIntervals:
    """One region's intervals for its page: its own row, its neighbours in the national ranking
    (itself included, best first) and their chart; ``reason`` when there are none."""

    reason: str
    record: RunUncertainty | None = None
    own: Neighbour | None = None
    p_top10: float | None = None
    ranked: int = 0
    neighbours: list[Neighbour] = field(default_factory=list)
    chart: str = ""
    shares: list[Share] = field(default_factory=list)  # of this final, in the sources' order
    method: str = ""  # method_text of the record
    caption: str = ""  # the chart's (interval_caption)


def region_intervals(access: ResultsAccess, row: RegionResult) -> RegionIntervals:
    """``row``'s region in the page's run against the ``NEIGHBOURS`` ranked regions above and
    below it (two queries, whatever the number of regions)."""
    run, framework = _readable(access), access.framework
    if run is None or row.run_id != run.pk:
        return RegionIntervals(reason="")
    record = None if run.level == ResultRun.Level.COMPONENT else _uncertainty_of(run)
    reason = why_none(run, record)
    if reason or record is None:
        return RegionIntervals(reason=reason, record=record)
    fields = (
        "region_id", "region__name", "region__slug", "final", "final_lo", "final_hi", "rank_national",
        "rank_lo", "rank_hi", "p_top10", "share_assessors", "share_weights", "share_survey",
    )  # fmt: skip
    lines = sorted(
        RegionInterval.objects.filter(run=run).values_list(*fields),
        key=lambda r: (r[6] is None, r[6] or 0, r[1]),
    )
    index = next((i for i, line in enumerate(lines) if line[0] == row.region_id), None)
    if index is None:
        return RegionIntervals(reason=_("No interval was computed for this region."), record=record)
    mine = lines[index]
    ranked = [line for line in lines if line[6] is not None]

    def neighbour(line: tuple) -> Neighbour:
        region_id, name, slug, final, low, high, rank, rank_lo, rank_hi = line[:9]
        return Neighbour(
            name=name, slug=slug, final=final, final_lo=low, final_hi=high, rank=rank, rank_lo=rank_lo,
            rank_hi=rank_hi, this=region_id == row.region_id,
        )  # fmt: skip

    own = neighbour(mine)
    if mine[6] is None:  # did not take part: no place in the ranking to draw
        return RegionIntervals(
            reason="", record=record, own=own, p_top10=mine[9], ranked=len(ranked), method=method_text(record)
        )
    place = ranked.index(mine)
    around = [neighbour(line) for line in ranked[max(0, place - NEIGHBOURS) : place + NEIGHBOURS + 1]]
    chart = interval_svg(
        [
            IntervalRow(
                label=f"{n.rank}. {n.name}", value=n.final, low=n.final_lo, high=n.final_hi, highlight=n.this
            )
            for n in around
        ],
        scale_min=framework.scale.min,
        scale_max=framework.scale.max,
        title=_("The final's 90%% interval of %(region)s and of its neighbours in the national ranking")
        % {"region": row.region.name},
        legend=(_("Interval of the final (90%)"), _("Final")),
        decimal_mark=decimal_mark(),
    )
    by_source = zip(("assessors", "weights", SURVEY), mine[10:13], strict=True)
    shares = {source: value for source, value in by_source if source in record.sources}
    return RegionIntervals(
        reason="",
        record=record,
        own=own,
        p_top10=mine[9],
        ranked=len(ranked),
        neighbours=around,
        chart=chart,
        shares=ordered_shares(record, shares),
        method=method_text(record),
        caption=interval_caption(),
    )
