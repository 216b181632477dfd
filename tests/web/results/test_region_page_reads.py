"""The region page's reads (issue 10): its queries do not grow with the years of history, and
the run's lines kept by the process (``stored.run_lines``) never show stale data: region names
are read fresh, a new run is read anew, a rolled-back run's reused primary key does not bring
back its lines, and a run's peers reach a user other than the coordinator only once published.

Numbers from the fixtures (``conftest``): A 3.568, B 2.6 in 2024; A 3.229, B 2.5 in 2023, both
REGULER in Sumatera Utara, A first.
"""

from __future__ import annotations

import polars as pl
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.panels.models import ItemScore
from cityeval.web.regions.models import Region
from cityeval.web.results.history import history_import
from cityeval.web.results.models import RegionResult
from cityeval.web.results.peers import peer_table
from cityeval.web.results.services import results_compute
from cityeval.web.results.stored import run_lines, stored_result
from tests.helpers.results import A_2023, A_FINAL, B_FINAL, CYCLE, REGION_A, REGION_B

REGION_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
pytestmark = pytest.mark.django_db


def _warm_count(client, url: str) -> int:
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def _history_year(year: int, version: str, coordinator, a: float, b: float) -> Cycle:
    table = pl.DataFrame(
        {
            "region": ["Kab. Deli Serdang", "kota-medan"],
            "group": ["REGULER", "REGULER"],
            **{code: [a, b] for code in A_2023},
        }
    )
    return history_import(
        year=year, framework_version=framework_version_builtin(version), table=table, user=coordinator
    )


def test_the_region_page_reads_as_many_queries_with_three_years_of_history_as_with_two(
    published, as_user, coordinator
):
    """2023 and 2024 first; then 2022 and 2021 imported too: the same count, and the history
    table lists four years, each with A first of 2 (every imported year ranks A above B)."""
    client = as_user(coordinator)
    two_years = _warm_count(client, REGION_PAGE)
    _history_year(2022, "gmsc-2022", coordinator, a=3.0, b=2.0)
    _history_year(2021, "gmsc-2022", coordinator, a=2.9, b=2.1)
    four_years = _warm_count(client, REGION_PAGE)
    assert four_years == two_years
    content = client.get(REGION_PAGE).content.decode()
    table = content[content.index('id="history"') : content.index("</table>", content.index('id="history"'))]
    assert table.count("<tr>") == 1 + 4  # the heading and four years
    assert table.count("1 of 2") == 4 or table.count("1 dari 2") == 4


def test_the_region_page_of_the_regional_admin_reads_as_many_queries_with_more_years(
    published, as_user, admin_a, coordinator
):
    client = as_user(admin_a)
    before = _warm_count(client, REGION_PAGE)
    _history_year(2022, "gmsc-2022", coordinator, a=3.0, b=2.0)
    assert _warm_count(client, REGION_PAGE) == before


def test_a_renamed_region_is_shown_by_its_new_name_although_the_runs_lines_were_kept(published):
    run = published.cycle.result_runs.get(is_current=True)
    framework = published.cycle.framework.framework
    run_lines(run)  # kept
    Region.objects.filter(slug=REGION_A).update(name="Kab. Deli Serdang Baru")
    regions = stored_result(run, framework).regions
    assert regions["region"].to_list() == ["Kab. Deli Serdang Baru", "Kota Medan"]
    table = peer_table(run, framework, published_only=True)
    assert sorted(table["region"].to_list()) == ["Kab. Deli Serdang Baru", "Kota Medan"]


def test_computing_again_shows_the_new_runs_lines_not_the_kept_ones(computed, as_user, coordinator):
    """B's scores raised to A's (3, 3, 4, 4, 4 → 3.6 on every item, no consolidated score):
    B's final becomes 3.6 and B moves above A (3.568)."""
    first = run_lines(computed)
    assert first["final"] == pytest.approx((A_FINAL, B_FINAL))
    for score, new in ((3.0, 4.0), (2.0, 3.0)):  # the threes first, then the twos
        ItemScore.objects.filter(panel_region__participation__region__slug=REGION_B, score=score).update(
            score=new
        )
    run = results_compute(cycle=computed.cycle, user=coordinator)
    assert run.pk != computed.pk
    assert run_lines(run)["final"] == pytest.approx((3.6, A_FINAL))
    assert run_lines(computed)["final"] == pytest.approx((A_FINAL, B_FINAL))  # the old run, unchanged
    content = as_user(coordinator).get(f"/r/{REGION_B}/{CYCLE}/results/").content.decode()
    assert 'id="final">3,60<' in content or 'id="final">3.60<' in content


def test_a_rolled_back_run_whose_primary_key_is_reused_does_not_lend_its_lines(computed, coordinator):
    """SQLite gives a rolled-back run's primary key to the next run: the kept lines are keyed
    by the run's public id too, so the next run is read from the database."""
    with transaction.atomic():
        ItemScore.objects.filter(panel_region__participation__region__slug=REGION_B).update(score=1.0)
        doomed = results_compute(cycle=computed.cycle, user=coordinator)
        assert run_lines(doomed)["final"][-1] == pytest.approx(1.0)
        transaction.set_rollback(True)
    run = results_compute(cycle=computed.cycle, user=coordinator)
    stored = dict(RegionResult.objects.filter(run=run).values_list("region__slug", "final"))
    assert stored[REGION_B] == pytest.approx(B_FINAL)
    lines = run_lines(run)
    assert lines["final"] == pytest.approx((A_FINAL, B_FINAL))


def test_a_runs_peers_are_read_for_others_only_once_its_cycle_is_published(computed, coordinator):
    """The coordinator's read keeps the lines; another user's read of the same run, the cycle
    closed, is still empty (publication is checked on every read)."""
    framework = computed.cycle.framework.framework
    assert peer_table(computed, framework, published_only=False).height == 2
    assert peer_table(computed, framework, published_only=True).height == 0
    Cycle.objects.filter(pk=computed.cycle_id).update(status=Cycle.Status.PUBLISHED)
    assert peer_table(computed, framework, published_only=True).height == 2


def test_the_kept_lines_are_read_in_one_query_then_none(computed):
    with CaptureQueriesContext(connection) as first:
        run_lines(computed)
    with CaptureQueriesContext(connection) as second:
        again = run_lines(computed)
    assert (len(first), len(second)) == (1, 0)
    assert again["region_id"] == tuple(
        RegionResult.objects.filter(run=computed)
        .order_by("rank_national")
        .values_list("region_id", flat=True)
    )
