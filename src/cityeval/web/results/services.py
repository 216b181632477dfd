"""Writes for results: compute a closed cycle's results and publish them (the import of a
past cycle's table is in ``history``).

The engine computes; these services gather its inputs from the database and store what it
returns, with the framework hash and the parameters, in one transaction. The engine's region
key is the region's name (unique), as in the panels' tables and in the exports.
"""

from __future__ import annotations

import math
from typing import Any

import polars as pl
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import Framework, InputError, score_items
from cityeval.engine.agreement import agreement_by
from cityeval.engine.scoring import ScoreResult
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.services import status_change_record
from cityeval.web.panels.selectors import consolidated_table, excluded_assessors, panels_table, scores_tables
from cityeval.web.results.models import (
    AgreementResult,
    DimensionResult,
    ItemResult,
    LetterDetails,
    RegionResult,
    ResultRun,
)

BATCH = 2000
AGREEMENT_LEVEL = "ordinal"
NOT_SCORED = "-"  # assessor name of the placeholder row of a region nobody scored
MARKS_RULE = "after-discussion revision if any, else first mark"


class ResultsRefused(Exception):
    """Nothing was computed or changed; the message says why."""


# --- compute ---------------------------------------------------------------------------------


@transaction.atomic
def results_compute(
    *, cycle: Cycle, stage: str = Stage.Kind.STAGE_II, user: AbstractBaseUser | None
) -> ResultRun:
    """Score the closed cycle's assessor marks at ``stage`` and store the results.

    Items → components → final → improvement (against the previous cycle, see
    :func:`previous_cycle`) → national and provincial ranks, plus per-dimension scores and the
    agreement inside each panel per component. Each assessor's counted mark is their latest
    after-discussion revision if any, else their first mark; the chairs' consolidated scores
    replace the panel means of their items; agreement is computed on the first marks. Marks of
    an assessor with a conflict of interest with the region do not count. A region of the
    cycle that no assessor scored is listed as a non-participant (0 everywhere, not ranked).
    The new run becomes the current one; earlier runs are kept. It records the cycle's inputs
    version, which publishing checks (:func:`scores_changed_since`).
    """
    locked = Cycle.objects.select_for_update().select_related("framework").get(pk=cycle.pk)
    if locked.status == Cycle.Status.PUBLISHED:
        raise ResultsRefused(_("The results of this cycle are published: they can no longer be recomputed."))
    if locked.status != Cycle.Status.CLOSED:
        raise ResultsRefused(
            _("The cycle is %(status)s: close it before computing the results.")
            % {"status": locked.get_status_display().lower()}
        )
    if stage not in Stage.Kind.values:
        raise ResultsRefused(_("Unknown stage."))
    framework = locked.framework.framework
    participations = _participations(locked)
    scores, first_marks = scores_tables(locked, stage)
    if scores.height == 0:
        raise ResultsRefused(
            _("No assessor has scored any region at %(stage)s: there is nothing to compute.")
            % {"stage": Stage.Kind(stage).label}
        )
    table = _with_unscored(scores, participations, framework)
    before, previous = previous_results(locked.year, exclude=locked)
    try:
        result = score_items(table, framework, previous=previous, overrides=consolidated_table(locked, stage))
    except InputError as exc:
        raise ResultsRefused(_("The scores cannot be computed: %(error)s") % {"error": exc}) from None
    panels = panels_table(locked, stage)
    run = run_start(
        locked,
        stage=stage,
        result=result,
        user=user,
        previous_cycle=before,
        extra={
            "stage": stage,
            "agreement_level": AGREEMENT_LEVEL,
            "marks": MARKS_RULE,
            "agreement_marks": "first",
            "excluded_assessors": excluded_assessors(locked, stage),
            "previous_run": _current_run_id(before),
        },
        inputs_version=locked.inputs_version,
    )
    panel_of = dict(zip(panels["region"].to_list(), panels["panel"].to_list(), strict=True))
    regions_store(run, result, framework, participations, panel_of)
    _store_items(run, result, participations)
    _store_agreement(run, _agreement(first_marks, panels, framework))
    return run


def _current_run_id(cycle: Cycle | None) -> str | None:
    """The public id of the cycle's current results run (the previous cycle's, whose finals
    improvement is computed against), as text."""
    if cycle is None:
        return None
    run = ResultRun.objects.filter(cycle=cycle, is_current=True).values_list("public_id", flat=True).first()
    return str(run) if run is not None else None


def _participations(cycle: Cycle) -> dict[str, Participation]:
    rows = Participation.objects.filter(cycle=cycle).select_related("region__province")
    return {p.region.name: p for p in rows}


def _with_unscored(
    scores: pl.DataFrame, participations: dict[str, Participation], framework: Framework
) -> pl.DataFrame:
    """The score table with the province from the regions, plus one blank row for each
    participating region nobody scored, so it is listed (as a non-participant) too."""
    scored = set(scores.get_column("region").unique().to_list())
    extra = []
    for name, p in participations.items():
        if name in scored:
            continue
        first = next(iter(framework.items_for(p.group)), None)
        if first is not None:
            extra.append((name, p.group, p.region.province.name, first[1].code, NOT_SCORED, None))
    if extra:
        scores = pl.concat([scores, pl.DataFrame(extra, schema=scores.schema, orient="row")])
    provinces = {name: p.region.province.name for name, p in participations.items()}
    return scores.with_columns(
        pl.col("region").replace_strict(provinces, default=pl.col("province")).alias("province")
    )


def previous_cycle(cycle_year: int, *, exclude: Cycle | None = None) -> Cycle | None:
    """The most recent PUBLISHED cycle of an earlier year with current results (computed or
    imported). An unpublished cycle's results must not appear, even as "last year", on the
    published pages of a later cycle."""
    cycles = Cycle.objects.filter(
        year__lt=cycle_year, result_runs__is_current=True, status=Cycle.Status.PUBLISHED
    )
    if exclude is not None:
        cycles = cycles.exclude(pk=exclude.pk)
    return cycles.order_by("-year", "-created_at").first()


def previous_results(year: int, *, exclude: Cycle | None) -> tuple[Cycle | None, pl.DataFrame | None]:
    """The previous cycle (see :func:`previous_cycle`) and its participants' finals as
    ``region, previous_final``, the engine's ``previous`` table."""
    before = previous_cycle(year, exclude=exclude)
    if before is None:
        return None, None
    rows = RegionResult.objects.filter(run__cycle=before, run__is_current=True, participant=True).values_list(
        "region__name", "final"
    )
    names, finals = zip(*rows, strict=True) if rows else ((), ())
    table = pl.DataFrame(
        {"region": list(names), "previous_final": list(finals)},
        schema={"region": pl.String, "previous_final": pl.Float64},
    )
    return before, table


def _agreement(scores: pl.DataFrame, panels: pl.DataFrame, framework: Framework) -> pl.DataFrame:
    """Agreement per panel and component: units are (region, item), coders the assessors."""
    component_of = {code: component.code for code, (component, _item) in framework.items_by_code.items()}
    table = (
        scores.filter(pl.col("score").is_not_null())
        .join(panels.select("region", "panel"), on="region", how="inner")
        .with_columns(
            (pl.col("region") + "|" + pl.col("item")).alias("unit"),
            pl.col("item").replace_strict(component_of, default=None).alias("component"),
        )
    )
    if table.height == 0:
        return pl.DataFrame()
    return agreement_by(
        table.select("panel", "component", "unit", "assessor", "score"),
        by=["panel", "component"],
        unit="unit",
        coder="assessor",
        value="score",
        level=AGREEMENT_LEVEL,
    )


# --- storing ---------------------------------------------------------------------------------


def _number(value: Any) -> float | None:
    """A stored float: NaN (an undefined statistic) is stored as missing."""
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


def run_start(
    cycle: Cycle,
    *,
    stage: str,
    result: ScoreResult,
    user: AbstractBaseUser | None,
    previous_cycle: Cycle | None,
    extra: dict[str, Any],
    inputs_version: int | None = None,
) -> ResultRun:
    ResultRun.objects.filter(cycle=cycle, is_current=True).update(is_current=False)
    return ResultRun.objects.create(
        cycle=cycle,
        inputs_version=inputs_version,
        stage=stage,
        framework_digest=result.framework_hash,
        level=result.level,
        parameters={**dict(result.parameters), **extra},
        previous_cycle=previous_cycle,
        computed_by=user,
        is_current=True,
    )


def regions_store(
    run: ResultRun,
    result: ScoreResult,
    framework: Framework,
    participations: dict[str, Participation],
    panel_of: dict[str, str],
) -> None:
    counts: dict[str, dict[str, list[int]]] = {}
    if "items_scored" in result.components.columns:
        for row in result.components.select(
            "region", "component", "items_scored", "items_expected"
        ).iter_rows():
            counts.setdefault(row[0], {})[row[1]] = [int(row[2]), int(row[3])]
    objects = []
    for row in result.regions.iter_rows(named=True):
        p = participations[row["region"]]
        objects.append(
            RegionResult(
                run=run,
                participation=p,
                region=p.region,
                group=row["group"],
                province=p.region.province.name,
                panel=panel_of.get(row["region"], ""),
                components={code: _number(row[code]) for code in framework.component_codes},
                component_items=counts.get(row["region"], {}),
                final=row["final"],
                previous_final=_number(row["previous_final"]),
                improvement=_number(row["improvement"]),
                rank_national=row["rank_national"],
                rank_province=row.get("rank_province"),
                coverage=_number(row.get("coverage")),
                participant=row["participant"],
            )
        )
    RegionResult.objects.bulk_create(objects, batch_size=BATCH)


def _store_items(run: ResultRun, result: ScoreResult, participations: dict[str, Participation]) -> None:
    regions = {name: p.region_id for name, p in participations.items()}
    if result.items is not None:
        ItemResult.objects.bulk_create(
            (
                ItemResult(
                    run=run,
                    region_id=regions[row["region"]],
                    item=row["item"],
                    component=row["component"],
                    dimension=row["dimension"] or "",
                    n_assessors=row["n_assessors"],
                    panel_score=row["panel_score"],
                    consolidated=row["consolidated"],
                    score=row["score"],
                    score_min=row["score_min"],
                    score_max=row["score_max"],
                )
                for row in result.items.iter_rows(named=True)
            ),
            batch_size=BATCH,
        )
    if result.dimensions is not None:
        DimensionResult.objects.bulk_create(
            (
                DimensionResult(
                    run=run,
                    region_id=regions[row["region"]],
                    dimension=row["dimension"],
                    score=row["score"],
                    items_scored=row["items_scored"],
                    items_expected=row["items_expected"],
                )
                for row in result.dimensions.iter_rows(named=True)
            ),
            batch_size=BATCH,
        )


def _store_agreement(run: ResultRun, agreement: pl.DataFrame) -> None:
    if agreement.height == 0:
        return
    AgreementResult.objects.bulk_create(
        (
            AgreementResult(
                run=run,
                panel=row["panel"],
                component=row["component"] or "",
                alpha=_number(row["alpha"]),
                icc2=_number(row["icc2"]),
                icc2k=_number(row["icc2k"]),
                n_units=row["n_units"] or 0,
                n_values=row["n_values"] or 0,
                n_coders=row["n_coders"] or 0,
                complete=bool(row["complete"]),
            )
            for row in agreement.iter_rows(named=True)
        ),
        batch_size=BATCH,
    )


# --- publish ---------------------------------------------------------------------------------


def scores_changed_since(run: ResultRun) -> bool:
    """Whether what the run was computed from changed since (possible when the cycle was
    reopened), so the stored results are out of date: the cycle's inputs version moved (a
    score, revision, consolidated score, conflict, participation or panel assignment was
    written; see ``cycle_inputs_changed``), the assessors left out for a conflict of interest
    are not the same (a regional role given meanwhile), or the previous cycle's results were
    replaced. Decided by counters and ids, never by clocks. Published and imported runs are
    never out of date."""
    if run.level != ResultRun.Level.ITEM or run.published_at is not None:
        return False
    cycle = Cycle.objects.get(pk=run.cycle_id)
    if run.inputs_version is None or run.inputs_version != cycle.inputs_version:
        return True
    if excluded_assessors(cycle, run.stage) != run.parameters.get("excluded_assessors"):
        return True
    before = previous_cycle(cycle.year, exclude=cycle)
    return (before.pk if before else None) != run.previous_cycle_id or _current_run_id(before) != (
        run.parameters.get("previous_run")
    )


@transaction.atomic
def cycle_publish(*, cycle: Cycle, user: AbstractBaseUser | None) -> ResultRun:
    """Publish the current results: the cycle becomes published, which is final (no
    recomputation, no reopening) and opens the results to everyone."""
    locked = Cycle.objects.select_for_update().get(pk=cycle.pk)
    if locked.status == Cycle.Status.PUBLISHED:
        raise ResultsRefused(_("The results of this cycle are published already."))
    if locked.status != Cycle.Status.CLOSED:
        raise ResultsRefused(
            _("The cycle is %(status)s: close it and compute the results before publishing.")
            % {"status": locked.get_status_display().lower()}
        )
    run = ResultRun.objects.filter(cycle=locked, is_current=True).first()
    if run is None:
        raise ResultsRefused(_("There are no results to publish: compute them first."))
    if scores_changed_since(run):
        raise ResultsRefused(
            _(
                "What the results are computed from changed after they were computed (scores, revisions, "
                "consolidated scores or conflicts of interest): compute them again before publishing."
            )
        )
    status_change_record(
        cycle=locked, action="publish", from_status=locked.status, to_status=Cycle.Status.PUBLISHED, user=user
    )
    locked.status = Cycle.Status.PUBLISHED
    locked.save(update_fields=["status"])
    run.published_at = timezone.now()
    run.published_by = user
    run.save(update_fields=["published_at", "published_by"])
    cycle.status = locked.status
    return run


def letter_details_save(*, cycle: Cycle, data: dict[str, Any], user: AbstractBaseUser) -> LetterDetails:
    """Set the cycle's letter details (``data``: the model's fields, validated by its form)."""
    details, _created = LetterDetails.objects.update_or_create(
        cycle=cycle, defaults={**data, "updated_by": user}
    )
    return details
