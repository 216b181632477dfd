"""Computing and publishing results: the stored numbers match the hand calculation in
conftest.py; refusals save nothing."""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.utils import timezone

from cityeval.engine.tables import ROW
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.services import cycle_transition
from cityeval.web.panels.models import ItemScore, Panel, PanelRegion, ScoreSubmission
from cityeval.web.panels.services import (
    conflict_declare,
    consolidated_score_record,
    item_scores_record,
    panel_assignments_import,
)
from cityeval.web.regions.models import Region
from cityeval.web.results.models import AgreementResult, DimensionResult, ItemResult, RegionResult, ResultRun
from cityeval.web.results.services import ResultsRefused, cycle_publish, results_compute, scores_changed_since
from tests.helpers.results import A_2023_FINAL, A_FINAL, B_FINAL, CONSOLIDATED_ITEM


def _region(run, slug):
    return RegionResult.objects.get(run=run, region__slug=slug)


def test_compute_stores_the_hand_calculated_results(computed, world):
    a, b = _region(computed, "kab-deli-serdang"), _region(computed, "kota-medan")
    assert a.components["baseline"] == pytest.approx(3.28, abs=1e-12)
    assert a.components["output"] == pytest.approx(3.6, abs=1e-12)
    assert a.final == pytest.approx(A_FINAL, abs=1e-12) and a.final == pytest.approx(3.568, abs=1e-12)
    assert b.final == pytest.approx(B_FINAL, abs=1e-12)
    assert a.previous_final == pytest.approx(A_2023_FINAL, abs=1e-12)
    assert a.improvement == pytest.approx(0.339, abs=1e-12)
    assert b.improvement == pytest.approx(0.1, abs=1e-12)
    assert (a.rank_national, a.rank_province, b.rank_national, b.rank_province) == (1, 1, 2, 2)
    assert a.coverage == 1.0 and a.participant and a.panel == "Panel Sumatera"
    assert a.component_items["impact"] == [54, 54]
    assert a.province == "Sumatera Utara" and a.participation == world.participation_a


def test_the_run_records_the_framework_hash_parameters_and_previous_cycle(computed, history_2023, world):
    assert computed.framework_digest == world.cycle.framework.digest
    assert computed.level == "item" and computed.stage == "stage_2" and computed.is_current
    assert computed.parameters["consolidation"] == "mean"
    assert computed.parameters["stage"] == "stage_2"
    assert computed.previous_cycle == history_2023


def test_item_results_keep_the_panel_mean_beside_the_consolidated_score(computed):
    item = ItemResult.objects.get(run=computed, region__slug="kab-deli-serdang", item=CONSOLIDATED_ITEM)
    assert (item.panel_score, item.score, item.consolidated) == (pytest.approx(3.6), 2.0, True)
    assert (item.n_assessors, item.score_min, item.score_max) == (5, 3.0, 4.0)
    assert ItemResult.objects.filter(run=computed).count() == 2 * 111  # gmsc-2024 REGULER items


def test_dimension_results_are_stored_per_region(computed):
    rows = DimensionResult.objects.filter(run=computed, region__slug="kota-medan")
    assert rows.count() == 6
    assert all(r.score == pytest.approx(2.6) and r.items_scored == r.items_expected for r in rows)


def test_agreement_is_stored_per_panel_and_component(computed):
    """ICC by hand for baseline: 10 targets (2 regions × 5 items) × 5 assessors; A's rows are
    3, 3, 4, 4, 4 (the raw scores: the consolidation does not enter agreement), B's 2, 2, 3,
    3, 3. Grand mean 3.1; SS targets = 5·10·0.5² = 12.5, SS raters = 10·(2·0.6² + 3·0.4²) =
    12, SS total = 10·2.45 = 24.5, so SS error = 0. BMS = 12.5/9, JMS = 12/4 = 3, EMS = 0:
    ICC(2,1) = BMS / (BMS + 5·3/10) = 12.5/26; ICC(2,k) = BMS / (BMS + 3/10) = 12.5/15.2."""
    rows = {r.component: r for r in AgreementResult.objects.filter(run=computed)}
    assert set(rows) == {"baseline", "output", "outcome", "impact", "quick_win"}
    baseline = rows["baseline"]
    assert (baseline.panel, baseline.n_units, baseline.n_coders, baseline.complete) == (
        "Panel Sumatera",
        10,
        5,
        True,
    )
    assert baseline.icc2 == pytest.approx(12.5 / 26, abs=1e-12)
    assert baseline.icc2k == pytest.approx(12.5 / 15.2, abs=1e-12)
    assert baseline.alpha is not None and 0 < baseline.alpha < 1


def test_a_region_nobody_scored_is_listed_as_a_non_participant(scored, coordinator):
    region = Region.objects.create(
        name="Kota Binjai", slug="kota-binjai", kind="kota", province=scored.region_a.province
    )
    Participation.objects.create(cycle=scored.cycle, region=region, group="REGULER")
    run = results_compute(cycle=scored.cycle, user=coordinator)
    binjai = _region(run, "kota-binjai")
    assert (binjai.final, binjai.participant, binjai.rank_national, binjai.rank_province) == (
        0.0,
        False,
        None,
        None,
    )
    assert _region(run, "kota-medan").rank_national == 2
    assert binjai.coverage == 0.0


def test_without_an_earlier_cycle_improvement_is_blank(scored, coordinator):
    run = results_compute(cycle=scored.cycle, user=coordinator)
    assert run.previous_cycle is None
    assert _region(run, "kab-deli-serdang").improvement is None


def test_computing_again_adds_a_run_and_keeps_the_old_one(computed, coordinator):
    again = results_compute(cycle=computed.cycle, user=coordinator)
    computed.refresh_from_db()
    assert again.is_current and not computed.is_current
    assert RegionResult.objects.filter(run=computed).count() == 2
    assert ResultRun.objects.filter(cycle=computed.cycle).count() == 2


@pytest.mark.parametrize("status", [Cycle.Status.OPEN, Cycle.Status.DRAFT])
def test_compute_refuses_a_cycle_that_is_not_closed_and_saves_nothing(scored, coordinator, status):
    Cycle.objects.filter(pk=scored.cycle.pk).update(status=status)
    with pytest.raises(CycleClosed, match="close it before computing"):
        results_compute(cycle=scored.cycle, user=coordinator)
    assert ResultRun.objects.count() == 0 and RegionResult.objects.count() == 0


def test_compute_refuses_a_cycle_nobody_scored(world, coordinator):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    with pytest.raises(ResultsRefused, match="No assessor has scored"):
        results_compute(cycle=world.cycle, user=coordinator)
    assert ResultRun.objects.count() == 0


def test_publish_without_results_is_refused(scored, coordinator):
    with pytest.raises(ResultsRefused, match="compute them first"):
        cycle_publish(cycle=scored.cycle, user=coordinator)
    scored.cycle.refresh_from_db()
    assert scored.cycle.status == Cycle.Status.CLOSED


def test_publish_refuses_a_reopened_cycle(computed, coordinator):
    cycle_transition(cycle=computed.cycle, action="reopen", reason="rescoring")
    with pytest.raises(CycleClosed, match="close it and compute"):
        cycle_publish(cycle=computed.cycle, user=coordinator)


def test_publishing_locks_the_cycle(published, coordinator):
    cycle = published.cycle
    published.refresh_from_db()
    assert cycle.status == Cycle.Status.PUBLISHED
    assert published.published_by == coordinator and published.published_at <= timezone.now()
    with pytest.raises(CycleClosed, match="published"):
        results_compute(cycle=cycle, user=coordinator)
    with pytest.raises(CycleClosed, match="published already"):
        cycle_publish(cycle=cycle, user=coordinator)
    with pytest.raises(CycleClosed):
        cycle_transition(cycle=cycle, action="reopen", reason="rescoring")
    assert ResultRun.objects.filter(cycle=cycle).count() == 1


def _reopen_and_score(cycle, panel_assessors, *, score: float = 4) -> ItemScore:
    """Reopen the cycle, record a first mark of a Kota Medan item through the service (as the
    pages and the API do), and close it again."""
    cycle_transition(cycle=cycle, action="reopen", reason="rescoring")
    panel_region = PanelRegion.objects.get(participation__region__slug="kota-medan")
    (row,) = item_scores_record(
        panel_region=panel_region, assessor=panel_assessors[0], scores={"baseline.legal_basis": (score, "")}
    )
    cycle_transition(cycle=cycle, action="close")
    return row


def test_publish_refuses_results_older_than_the_scores(computed, coordinator, panel_assessors, as_user):
    """Reopened, rescored and closed again: the stored results no longer match the scores."""
    cycle = computed.cycle
    _reopen_and_score(cycle, panel_assessors)
    assert b'id="stale"' in as_user(coordinator).get(f"/results/{cycle.slug}/").content
    with pytest.raises(ResultsRefused, match="compute them again"):
        cycle_publish(cycle=cycle, user=coordinator)
    results_compute(cycle=cycle, user=coordinator)
    assert cycle_publish(cycle=cycle, user=coordinator).is_current


def test_a_score_stamped_before_the_run_still_blocks_publishing(computed, coordinator, panel_assessors):
    """The check is a counter, not the clocks: a score whose time is earlier than the run's
    (another app server's clock behind) still makes the results out of date."""
    cycle = computed.cycle
    row = _reopen_and_score(cycle, panel_assessors)
    ItemScore.objects.filter(pk=row.pk).update(created_at=computed.computed_at - dt.timedelta(hours=1))
    with pytest.raises(ResultsRefused, match="compute them again"):
        cycle_publish(cycle=cycle, user=coordinator)
    assert Cycle.objects.get(pk=cycle.pk).status == Cycle.Status.CLOSED


def test_reopening_without_writes_leaves_the_results_publishable(computed, coordinator):
    cycle = computed.cycle
    cycle_transition(cycle=cycle, action="reopen", reason="rescoring")
    cycle_transition(cycle=cycle, action="close")
    assert not scores_changed_since(computed)
    assert cycle_publish(cycle=cycle, user=coordinator) == computed


def test_a_consolidated_score_or_a_conflict_after_compute_blocks_publishing(
    computed, coordinator, panel_assessors
):
    cycle = computed.cycle
    cycle_transition(cycle=cycle, action="reopen", reason="rescoring")
    panel_region = PanelRegion.objects.get(participation__region__slug="kota-medan")
    ScoreSubmission.objects.create(panel_region=panel_region, assessor=panel_assessors[0])
    consolidated_score_record(
        panel_region=panel_region,
        item="baseline.legal_basis",
        score=3,
        reason="Agreed",
        user=panel_assessors[0],
    )
    cycle_transition(cycle=cycle, action="close")
    assert scores_changed_since(computed)
    again = results_compute(cycle=cycle, user=coordinator)
    assert not scores_changed_since(again)
    conflict_declare(user=panel_assessors[4], region=panel_region.participation.region, reason="Advises it")
    assert scores_changed_since(again)
    with pytest.raises(ResultsRefused, match="compute them again"):
        cycle_publish(cycle=cycle, user=coordinator)


def test_an_imported_panel_assignment_after_compute_blocks_publishing(computed, coordinator):
    """The import created PanelRegions without marking the cycle's inputs changed (unlike
    panel_region_assign), so results computed before it could be published. Re-importing an
    assignment that exists already changes nothing and leaves the results publishable."""
    cycle = computed.cycle
    cycle_transition(cycle=cycle, action="reopen", reason="panels")
    again = pl.DataFrame({ROW: [2], "panel": ["Panel Sumatera"], "region": ["kota-medan"]})
    assert panel_assignments_import(cycle=cycle, table=again) == 1
    assert not scores_changed_since(computed)
    Panel.objects.create(cycle=cycle, stage="stage_1", name="Panel Tahap I")
    table = pl.DataFrame({ROW: [2], "panel": ["Panel Tahap I"], "region": ["kota-medan"]})
    assert panel_assignments_import(cycle=cycle, table=table) == 1
    cycle_transition(cycle=cycle, action="close")
    assert scores_changed_since(computed)
    with pytest.raises(ResultsRefused, match="compute them again"):
        cycle_publish(cycle=cycle, user=coordinator)


def test_an_unpublished_earlier_cycle_is_not_used_as_last_year(scored, history_2023, coordinator):
    """A 2023 cycle with results that is not published must not appear in 2024's published
    pages as the previous final (security review finding)."""
    from cityeval.web.evaluations.models import Cycle
    from cityeval.web.results.models import RegionResult
    from cityeval.web.results.services import results_compute

    Cycle.objects.filter(pk=history_2023.pk).update(status=Cycle.Status.CLOSED)
    Cycle.objects.filter(pk=scored.cycle.pk).update(status=Cycle.Status.CLOSED)
    run = results_compute(cycle=Cycle.objects.get(pk=scored.cycle.pk), user=coordinator)
    assert run.previous_cycle_id is None
    assert not RegionResult.objects.filter(run=run, previous_final__isnull=False).exists()
    Cycle.objects.filter(pk=history_2023.pk).update(status=Cycle.Status.PUBLISHED)
    run = results_compute(cycle=Cycle.objects.get(pk=scored.cycle.pk), user=coordinator)
    assert run.previous_cycle_id == history_2023.pk
    assert RegionResult.objects.filter(run=run, previous_final__isnull=False).exists()


def test_a_history_imported_after_compute_blocks_publishing(scored, coordinator, request):
    """Improvement was computed without a previous cycle; importing 2023 afterwards changes it."""
    run = results_compute(cycle=scored.cycle, user=coordinator)
    assert run.previous_cycle is None and not scores_changed_since(run)
    request.getfixturevalue("history_2023")
    assert scores_changed_since(run)
    with pytest.raises(ResultsRefused, match="compute them again"):
        cycle_publish(cycle=scored.cycle, user=coordinator)
