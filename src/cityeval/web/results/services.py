"""Writes for results: compute a closed cycle's results and publish them (the import of a
past cycle's table is in ``history``).

The engine computes; these services gather its inputs from the database and store what it
returns, with the framework hash and the parameters, in one transaction. The engine's region
key is the region's name (unique), as in the panels' tables and in the exports.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from typing import Any

import polars as pl
from django.contrib.auth.models import User
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.engine import Framework, InputError, score_items
from cityeval.engine.agreement import agreement_by
from cityeval.engine.scoring import ScoreResult
from cityeval.web.audit import services as audit
from cityeval.web.engine_errors import input_error_text
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Participation, Stage
from cityeval.web.evaluations.phases import Activity
from cityeval.web.evaluations.services import cycle_transition
from cityeval.web.notices import services as notices
from cityeval.web.notices.models import Kind
from cityeval.web.notices.selectors import region_admins
from cityeval.web.panels.tables import (
    conflicted_pairs,
    consolidated_table,
    excluded_assessors,
    panels_table,
    scores_tables,
)
from cityeval.web.refusals import Refused
from cityeval.web.results.intervals import intervals_store
from cityeval.web.results.models import (
    AgreementResult,
    LetterDetails,
    RegionResult,
    ResultRun,
)
from cityeval.web.results.stored import BATCH, finite_or_none, items_store, regions_store

AGREEMENT_LEVEL = "ordinal"
NOT_SCORED = "-"  # assessor name of the placeholder row of a region nobody scored
MARKS_RULE = "after-discussion revision if any, else first mark"


class ResultsRefused(Refused):
    """Nothing was computed or changed; the message says why (the cycle's status refuses with
    :class:`~cityeval.web.evaluations.phases.CycleClosed`)."""


# --- compute ---------------------------------------------------------------------------------


@transaction.atomic
def results_compute(*, cycle: Cycle, stage: str = Stage.Kind.STAGE_II, user: User | None) -> ResultRun:
    """Score the closed cycle's assessor marks at ``stage`` and store the results.

    Items → components → final → improvement (against the previous cycle, see
    :func:`previous_cycle`) → national and provincial ranks, plus per-dimension scores and the
    agreement inside each panel per component. Each assessor's counted mark is their latest
    after-discussion revision if any, else their first mark; the chairs' consolidated scores
    replace the panel means of their items; agreement is computed on the first marks. Marks of
    an assessor with a conflict of interest with the region do not count. A region of the
    cycle that no assessor scored is listed as a non-participant (0 everywhere, not ranked).
    The new run becomes the current one; earlier runs are kept. It records the cycle's inputs
    version, which publishing checks (:func:`scores_changed_since`). The uncertainty of the
    finals and ranks is computed and stored with it (``intervals.intervals_store``).
    """
    locked = phases.lock(cycle, Activity.COMPUTE)
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
    overrides = consolidated_table(locked, stage)
    try:
        result = score_items(table, framework, previous=previous, overrides=overrides)
    except InputError as exc:
        raise ResultsRefused(
            _("The scores cannot be computed: %(error)s") % {"error": input_error_text(exc)}
        ) from None
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
        conflicts_digest=conflicts_digest(locked),
    )
    panel_of = dict(zip(panels["region"].to_list(), panels["panel"].to_list(), strict=True))
    regions_store(run, result, framework, participations, panel_of)
    items_store(run, result, participations)
    _store_agreement(run, _agreement(first_marks, panels, framework))
    intervals_store(
        run,
        scores=table,
        overrides=overrides,
        result=result,
        framework=framework,
        participations=participations,
    )
    audit.record(
        action=audit.Action.RESULTS_COMPUTE, user=user, target=locked,
        details={"stage": stage, "run": str(run.public_id), "regions": len(participations)},
    )  # fmt: skip
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


def run_start(
    cycle: Cycle,
    *,
    stage: str,
    result: ScoreResult,
    user: User | None,
    previous_cycle: Cycle | None,
    extra: dict[str, Any],
    inputs_version: int | None = None,
    conflicts_digest: str = "",
) -> ResultRun:
    ResultRun.objects.filter(cycle=cycle, is_current=True).update(is_current=False)
    return ResultRun.objects.create(
        cycle=cycle,
        inputs_version=inputs_version,
        conflicts_digest=conflicts_digest,
        stage=stage,
        framework_digest=result.framework_hash,
        level=result.level,
        parameters={**dict(result.parameters), **extra},
        previous_cycle=previous_cycle,
        computed_by=user,
        is_current=True,
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
                alpha=finite_or_none(row["alpha"]),
                icc2=finite_or_none(row["icc2"]),
                icc2k=finite_or_none(row["icc2k"]),
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


def conflicts_digest(cycle: Cycle) -> str:
    """SHA-256 of the cycle's conflicted (region id, user id) pairs, sorted (see
    ``conflicted_pairs``): recorded on a run, so that staleness is decided without reading
    the scores while neither the pairs nor the inputs version moved."""
    return _pairs_digest(frozenset(conflicted_pairs(cycle)))


@lru_cache(maxsize=8)
def _pairs_digest(pairs: frozenset[tuple[int, int]]) -> str:
    """The digest of ``pairs``, remembered: a pure function of them, asked for with the same
    pairs by every look at the national page (the stale check)."""
    return hashlib.sha256(json.dumps(sorted(pairs)).encode()).hexdigest()


def scores_changed_since(run: ResultRun, *, cycle: Cycle | None = None) -> bool:
    """Whether what the run was computed from changed since (possible when the cycle was
    reopened), so the stored results are out of date: the cycle's inputs version moved (a
    score, revision, consolidated score, conflict, participation or panel assignment was
    written; see ``cycle_inputs_changed``), the assessors left out for a conflict of interest
    are not the same (a regional role given meanwhile), or the previous cycle's results were
    replaced. Decided by counters and ids, never by clocks. Published and imported runs are
    never out of date.

    ``cycle``: the run's cycle, if the caller read it in this request (else it is read)."""
    if run.level != ResultRun.Level.ITEM or run.published_at is not None:
        return False
    if cycle is None or cycle.pk != run.cycle_id:
        cycle = Cycle.objects.get(pk=run.cycle_id)
    if run.inputs_version is None or run.inputs_version != cycle.inputs_version:
        return True
    # The same scores (the version) and the same conflicted pairs leave out the same
    # assessors: the join over all the cycle's scores below is needed only when they differ.
    same_pairs = bool(run.conflicts_digest) and run.conflicts_digest == conflicts_digest(cycle)
    if not same_pairs and excluded_assessors(cycle, run.stage) != run.parameters.get("excluded_assessors"):
        return True
    before = previous_cycle(cycle.year, exclude=cycle)
    return (before.pk if before else None) != run.previous_cycle_id or _current_run_id(before) != (
        run.parameters.get("previous_run")
    )


@transaction.atomic
def cycle_publish(*, cycle: Cycle, user: User | None) -> ResultRun:
    """Publish the current results: the cycle becomes published, which is final (no
    recomputation, no reopening) and opens the results to everyone. The status moves by the
    "publish" transition of ``evaluations.phases``, like every other status change; the
    results being current is its precondition, checked under the cycle's lock."""
    runs: list[ResultRun] = []

    def publishable(locked: Cycle) -> None:
        run = ResultRun.objects.filter(cycle=locked, is_current=True).first()
        if run is None:
            raise ResultsRefused(_("There are no results to publish: compute them first."))
        if scores_changed_since(run):
            raise ResultsRefused(
                _(
                    "What the results are computed from changed after they were computed (scores, "
                    "revisions, consolidated scores or conflicts of interest): compute them again "
                    "before publishing."
                )
            )
        runs.append(run)

    cycle_transition(cycle=cycle, action="publish", user=user, precondition=publishable)
    run = runs[0]
    run.published_at = timezone.now()
    run.published_by = user
    run.save(update_fields=["published_at", "published_by"])
    _notify_published(cycle)
    return run


def _notify_published(cycle: Cycle) -> None:
    """Tell each participating region's admins that the results are out, with their page."""
    for participation in Participation.objects.filter(cycle=cycle).select_related("region"):
        region = participation.region
        notices.notice_send(
            users=region_admins(region.pk),
            kind=Kind.RESULTS_PUBLISHED,
            params={"cycle": cycle.name, "region": region.name},
            url=reverse("results:region", kwargs={"region": region.slug, "cycle": cycle.slug}),
            dedupe_key=f"results-published:{cycle.pk}:{region.pk}",
        )


def letter_details_save(*, cycle: Cycle, data: dict[str, Any], user: User) -> LetterDetails:
    """Set the cycle's letter details (``data``: the model's fields, validated by its form)."""
    details, _created = LetterDetails.objects.update_or_create(
        cycle=cycle, defaults={**data, "updated_by": user}
    )
    return details
