"""Uncertainty of finals and ranks on the results pages (issue 15, docs/uncertainty.md "On the
web"): computed with each item-level run, stored per region, shown as "n (lo–hi)" and tied
blocks on the national table and as an interval chart on the region page."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.engine import score_items
from cityeval.engine.uncertainty import uncertainty
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.panels.models import ConsolidatedScore, ItemScore
from cityeval.web.panels.tables import consolidated_table, scores_tables
from cityeval.web.regions.models import Region
from cityeval.web.results.charts import IntervalRow, interval_axis, interval_svg
from cityeval.web.results.intervals import (
    DRAWS,
    SEED,
    SOURCES,
    WEIGHT_RANGE,
    intervals_store,
    national_intervals,
    region_intervals,
    tied_blocks,
    uncertainty_input,
)
from cityeval.web.results.kept import forget_all
from cityeval.web.results.models import RegionInterval, RegionResult, ResultRun, RunUncertainty
from cityeval.web.results.selectors import ResultsAccess
from cityeval.web.results.services import results_compute
from tests.helpers.results import A_FINAL, B_FINAL, CYCLE, REGION_A, REGION_B

NATIONAL = f"/results/{CYCLE}/"
REGION_A_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
OUTSIDERS = ["admin_b", "nobody", None]


def _text(html: bytes) -> str:
    """The page's text: tags dropped, spaces folded."""
    return " ".join(re.sub(r"<[^>]+>", " ", html.decode()).split())


# --- tied blocks and the chart, by hand -------------------------------------------------------


def test_tied_blocks_follow_the_first_region_of_each_block():
    # Intervals 1–3, 1–2, 2–5 overlap the first's (1–3): block 1; 4–6 and 5–6: block 2; 8–8 alone.
    rows = [
        (10, 1, 1, 3),
        (11, 2, 1, 2),
        (12, 3, 2, 5),
        (13, 4, 4, 6),
        (14, 5, 5, 6),
        (15, 8, 8, 8),
        (16, None, None, None),
    ]
    assert tied_blocks(rows) == {10: 1, 11: 1, 12: 1, 13: 2, 14: 2}
    # Collapsed intervals tie only equal ranks.
    assert tied_blocks([(1, 1, 1, 1), (2, 2, 2, 2), (3, 2, 2, 2)]) == {2: 1, 3: 1}


def test_the_interval_chart_is_an_accessible_image_zoomed_on_the_intervals():
    svg = interval_svg(
        [IntervalRow("1. A", 3.5, 3.4, 3.6), IntervalRow("2. B", 3.2, 3.1, 3.35, highlight=True)],
        scale_min=0,
        scale_max=4,
        title="Intervals <of> B",
        legend=("Interval", "Final"),
    )
    assert 'role="img"' in svg and 'aria-label="Intervals &lt;of&gt; B"' in svg
    assert svg.count('class="interval"') == 2 and 'class="interval-row this"' in svg
    # 3.1–3.6 is drawn from 3.1 to 3.6 in steps of 0.1, not on the whole 0–4 scale.
    assert interval_axis(3.1, 3.6, scale_min=0, scale_max=4) == pytest.approx((3.1, 3.6, 0.1))
    assert ">3.1<" in svg and ">3.6<" in svg and ">0<" not in svg
    # A collapsed interval still gets an axis around it, within the scale.
    start, end, _step = interval_axis(4.0, 4.0, scale_min=0, scale_max=4)
    assert start < 4.0 and end == 4.0


# --- computed with the run ---------------------------------------------------------------------


def test_stored_intervals_equal_a_direct_engine_call_with_the_same_seed(computed):
    cycle = computed.cycle
    framework = cycle.framework.framework
    scores, _first = scores_tables(cycle, "stage_2")
    overrides = consolidated_table(cycle, "stage_2")
    direct = uncertainty(
        uncertainty_input(scores, overrides), framework, draws=DRAWS, seed=SEED, sources=SOURCES,
        weight_range=WEIGHT_RANGE,
    )  # fmt: skip
    record = RunUncertainty.objects.get(run=computed)
    assert (record.draws, record.seed, record.sources, record.weight_range, record.reason) == (
        1000, 0, ["assessors", "weights"], 0.2, "",
    )  # fmt: skip
    assert record.shares == {k: pytest.approx(v) for k, v in direct.shares.items()}
    assert record.parameters["framework_hash"] == computed.framework_digest
    stored = {i.region.name: i for i in RegionInterval.objects.filter(run=computed).select_related("region")}
    assert set(stored) == {"Kab. Deli Serdang", "Kota Medan"}
    for row in direct.regions.iter_rows(named=True):
        got = stored[row["region"]]
        assert (got.final, got.final_lo, got.final_hi, got.p_top10) == (
            row["final"], row["final_lo"], row["final_hi"], row["p_top10"],
        )  # fmt: skip
        assert (got.rank_national, got.rank_lo, got.rank_hi) == (
            row["rank_national"],
            row["rank_lo"],
            row["rank_hi"],
        )
        assert got.share_assessors == pytest.approx(row["share_assessors"])
        assert got.share_weights == pytest.approx(row["share_weights"])
        assert got.share_survey is None
    # The consolidated item does not vary: the point finals are the run's (conftest: by hand).
    assert stored["Kab. Deli Serdang"].final == pytest.approx(A_FINAL)
    assert stored["Kota Medan"].final == pytest.approx(B_FINAL)
    a = stored["Kab. Deli Serdang"]
    assert a.final_lo < A_FINAL < a.final_hi  # five assessors who disagree: a real interval


def test_intervals_collapse_when_every_assessor_agrees(scored, history_2023, coordinator):
    """All of A's marks 3, all of B's 2, no consolidated score: every resampled panel gives the
    same item scores, and since every component of a region is the same, any renormalised
    weights give the same final (Σ w' × 3 = 3): each interval is the point result."""
    ItemScore.objects.filter(panel_region__participation=scored.participation_a).update(score=3.0)
    ItemScore.objects.filter(panel_region__participation=scored.participation_b).update(score=2.0)
    ConsolidatedScore.objects.all().delete()
    run = results_compute(cycle=scored.cycle, user=coordinator)
    stored = {i.region.name: i for i in RegionInterval.objects.filter(run=run).select_related("region")}
    a, b = stored["Kab. Deli Serdang"], stored["Kota Medan"]
    assert (a.final_lo, a.final, a.final_hi) == pytest.approx((3.0, 3.0, 3.0), abs=1e-12)
    assert (b.final_lo, b.final, b.final_hi) == pytest.approx((2.0, 2.0, 2.0), abs=1e-12)
    assert (a.rank_national, a.rank_lo, a.rank_hi, a.p_top10) == (1, 1, 1, 1.0)
    assert (b.rank_national, b.rank_lo, b.rank_hi, b.p_top10) == (2, 2, 2, 1.0)


def test_an_imported_run_has_no_intervals_and_the_pages_say_why(published, history_2023, as_user):
    assert history_2023.result_runs.get().level == ResultRun.Level.COMPONENT
    assert not RunUncertainty.objects.filter(run__cycle=history_2023).exists()
    client = as_user(None)
    for url in (f"/results/{history_2023.slug}/", f"/r/{REGION_A}/{history_2023.slug}/results/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "imported as component scores" in _text(response.content), url
        assert b'id="interval-chart"' not in response.content


# --- the national page ---------------------------------------------------------------------------


def _set(run, slug, rank, low, high):
    """Hand-set intervals, written behind the services' back (a run's intervals never change
    once computed): the process forgets what it kept of the run."""
    RegionInterval.objects.filter(run=run, region__slug=slug).update(
        rank_national=rank, rank_lo=low, rank_hi=high
    )
    forget_all()


def test_the_national_page_shows_rank_intervals_and_tied_blocks(computed, as_user, coordinator):
    client = as_user(coordinator)
    # Hand-set intervals: A 1 (1–1), B 2 (2–2): no block.
    _set(computed, REGION_A, 1, 1, 1)
    _set(computed, REGION_B, 2, 2, 2)
    text = _text(client.get(NATIONAL).content)
    assert "1 (1–1)" in text and "2 (2–2)" in text and "≈" not in text.split("National rank:")[0]
    # A 1 (1–2), B 2 (1–2): B's interval starts before A's ends, one tied block.
    _set(computed, REGION_A, 1, 1, 2)
    _set(computed, REGION_B, 2, 1, 2)
    response = client.get(NATIONAL)
    text = _text(response.content)
    assert "1 (1–2) ≈1" in text and "2 (1–2) ≈1" in text
    assert response.content.count(b'data-block="1"') == 2
    assert 'id="tied-legend"' in response.content.decode() and "There is 1 such block." in text
    assert "seed 0" in text and "1000 re-computations" in text


def test_the_national_page_in_indonesian(computed, as_user, coordinator):
    _set(computed, REGION_A, 1, 1, 2)
    _set(computed, REGION_B, 2, 1, 2)
    client = as_user(coordinator)
    client.cookies["django_language"] = "id"
    text = _text(client.get(NATIONAL, HTTP_ACCEPT_LANGUAGE="id").content)
    assert "1 (1–2)" in text and "blok seri" in text.lower()


def test_the_intervals_cost_two_queries_whatever_the_number_of_regions(computed, coordinator):
    access = ResultsAccess(cycle=computed.cycle, run=computed, is_coordinator=True)
    with CaptureQueriesContext(connection) as few:
        small = national_intervals(access)
    province = Region.objects.get(slug=REGION_A).province
    extra = Region.objects.bulk_create(
        Region(name=f"Kab. Test {k}", slug=f"kab-test-{k}", kind="kabupaten", province=province)
        for k in range(60)
    )
    RegionInterval.objects.bulk_create(
        RegionInterval(run=computed, region=r, final=1.0, final_lo=0.9, final_hi=1.1, rank_national=3 + k,
                       rank_lo=3 + k, rank_hi=4 + k, p_top10=0.0)
        for k, r in enumerate(extra)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as many:
        large = national_intervals(access)
    assert len(few) == len(many) == 2
    assert len(small.by_region) == 2 and len(large.by_region) == 62
    # The region page's neighbours: two queries too, among 62 regions (B is 2nd: 1 above, 5 below).
    row = RegionResult.objects.select_related("region").get(run=computed, region__slug=REGION_B)
    with CaptureQueriesContext(connection) as region_queries:
        found = region_intervals(access, row)
    assert len(region_queries) == 2 and len(found.neighbours) == 7 and found.ranked == 62


def test_the_national_page_costs_the_same_queries_with_more_intervals(computed, as_user, coordinator):
    client = as_user(coordinator)
    client.get(NATIONAL)  # warm the caches (session, framework)
    with CaptureQueriesContext(connection) as before:
        client.get(NATIONAL)
    province = Region.objects.get(slug=REGION_A).province
    extra = Region.objects.bulk_create(
        Region(name=f"Kab. Test {k}", slug=f"kab-test-{k}", kind="kabupaten", province=province)
        for k in range(30)
    )
    RegionInterval.objects.bulk_create(
        RegionInterval(run=computed, region=r, final=1.0, final_lo=0.9, final_hi=1.1, rank_national=3 + k,
                       rank_lo=3, rank_hi=9, p_top10=0.0)
        for k, r in enumerate(extra)
    )  # fmt: skip
    with CaptureQueriesContext(connection) as after:
        client.get(NATIONAL)
    assert len(after) == len(before)


# --- the region page -----------------------------------------------------------------------------


def test_the_region_page_draws_the_interval_against_its_neighbours(computed, as_user, coordinator):
    response = as_user(coordinator).get(f"/r/{REGION_B}/{CYCLE}/results/")
    html = response.content.decode()
    b = RegionInterval.objects.get(run=computed, region__slug=REGION_B)
    assert 'id="interval-chart"' in html and 'class="intervals" role="img"' in html
    chart = html.split('id="interval-chart"')[1].split("</figure>")[0]
    assert "aria-label=" in chart and chart.count('class="interval"') == 2  # B and the one above it
    table = html.split('id="interval-table"')[1].split("</table>")[0]
    assert 'id="interval-kab-deli-serdang"' in table and 'id="interval-kota-medan" class="this"' in table
    text = _text(response.content)
    assert f"the final lies between {number(b.final_lo)} and {number(b.final_hi)} (final: 2.60)" in text
    # B is below A in every draw but a handful (A's lowest final, all marks 3, is 2.98; B's highest 3.0).
    assert (b.rank_lo, b.rank_hi) == (2, 2)
    assert "national rank, 2 of 2, is 2 in at least 90% of them" in text
    assert "top 10 in 100% of them" in text  # two regions: always in the top 10
    _set(computed, REGION_B, 2, 1, 2)
    text = _text(as_user(coordinator).get(f"/r/{REGION_B}/{CYCLE}/results/").content)
    assert "national rank, 2 of 2, lies between 1 and 2" in text


def test_the_region_page_in_indonesian_says_it_in_words(computed, as_user, coordinator):
    _set(computed, REGION_B, 2, 1, 2)
    RegionInterval.objects.filter(run=computed, region__slug=REGION_B).update(final_lo=2.5, final_hi=2.75)
    client = as_user(coordinator)
    client.cookies["django_language"] = "id"
    text = _text(client.get(f"/r/{REGION_B}/{CYCLE}/results/", HTTP_ACCEPT_LANGUAGE="id").content)
    assert "antara 2,50 dan 2,75" in text and "antara 1 dan 2" in text


def test_a_run_computed_before_the_intervals_says_so(computed, as_user, coordinator):
    RunUncertainty.objects.filter(run=computed).delete()
    RegionInterval.objects.filter(run=computed).delete()
    text = _text(as_user(coordinator).get(REGION_A_PAGE).content)
    assert "computing the results again adds it" in text


# --- who sees them -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_see_nothing_before_publication(computed, as_user, persona, name):
    client = as_user(persona(name))
    for url in (NATIONAL, REGION_A_PAGE):
        response = client.get(url)
        assert response.status_code == 404 and b"interval" not in response.content, url


def test_the_selectors_fail_closed_for_anyone_but_the_coordinator_before_publication(computed):
    outsider = ResultsAccess(cycle=computed.cycle, run=computed, is_coordinator=False)
    assert national_intervals(outsider).by_region == {} and national_intervals(outsider).record is None
    row = RegionResult.objects.select_related("region").get(run=computed, region__slug=REGION_A)
    found = region_intervals(outsider, row)
    assert found.own is None and found.chart == "" and found.reason == ""


@pytest.mark.parametrize("name", [*OUTSIDERS, "admin_a"])
def test_everyone_sees_the_intervals_after_publication(published, as_user, persona, name):
    client = as_user(persona(name))
    assert b'id="rank-intervals"' in client.get(NATIONAL).content
    assert b'id="interval-chart"' in client.get(REGION_A_PAGE).content


def test_marks_that_do_not_give_back_the_stored_finals_store_no_interval(computed, as_user, coordinator):
    """Leaving out the chair's consolidated score (2 instead of the panel's 3.6 on one of A's
    items) re-scores A differently from its stored final: nothing is stored, the page says why."""
    cycle = computed.cycle
    framework = cycle.framework.framework
    scores, _first = scores_tables(cycle, "stage_2")
    result = score_items(scores, framework, overrides=consolidated_table(cycle, "stage_2"))
    RunUncertainty.objects.filter(run=computed).delete()
    RegionInterval.objects.filter(run=computed).delete()
    participations = {
        p.region.name: p for p in Participation.objects.filter(cycle=cycle).select_related("region")
    }
    record = intervals_store(
        computed,
        scores=scores,
        overrides=None,
        result=result,
        framework=framework,
        participations=participations,
    )
    assert record.reason == RunUncertainty.Reason.POINT_MISMATCH
    assert not RegionInterval.objects.filter(run=computed).exists()
    text = _text(as_user(coordinator).get(NATIONAL).content)
    assert "did not give back the stored finals" in text and "1 (" not in text
