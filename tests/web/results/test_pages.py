"""The national table (sorting, filtering), the region page, and the coordinator's
compute and publish buttons."""

from __future__ import annotations

import pytest
from django.contrib.messages import get_messages

from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import job_run
from cityeval.web.regions.models import Province, Region
from cityeval.web.results.models import ResultRun
from cityeval.web.results.services import results_compute
from tests.helpers.results import CYCLE, REGION_A

NATIONAL = f"/results/{CYCLE}/"
REGION_PAGE = f"/r/{REGION_A}/{CYCLE}/results/"


def _order(content: bytes, names=("Kab. Deli Serdang", "Kota Medan", "Kota Binjai")) -> list[str]:
    text = content.decode()
    table = text[text.index('id="national-table"') :]
    found = [(table.index(n), n) for n in names if n in table]
    return [n for _position, n in sorted(found)]


@pytest.fixture
def three_regions(scored, history_2023, coordinator):
    """Kota Binjai in another province (Riau, for the test), scored by nobody: not ranked."""
    riau = Province.objects.create(name="Riau")
    binjai = Region.objects.create(name="Kota Binjai", slug="kota-binjai", kind="kota", province=riau)
    Participation.objects.create(cycle=scored.cycle, region=binjai, group="REGULER")
    return results_compute(cycle=scored.cycle, user=coordinator)


def test_the_table_is_in_rank_order_by_default(three_regions, as_user, coordinator):
    response = as_user(coordinator).get(NATIONAL)
    assert _order(response.content) == ["Kab. Deli Serdang", "Kota Medan", "Kota Binjai"]
    assert b"did not take part" in response.content


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("sort=final&dir=asc", ["Kota Binjai", "Kota Medan", "Kab. Deli Serdang"]),
        ("sort=final&dir=desc", ["Kab. Deli Serdang", "Kota Medan", "Kota Binjai"]),
        ("sort=region&dir=asc", ["Kab. Deli Serdang", "Kota Binjai", "Kota Medan"]),
        # Binjai has no scored baseline item: 0 (with coverage 0), so first in ascending order.
        ("sort=baseline&dir=asc", ["Kota Binjai", "Kota Medan", "Kab. Deli Serdang"]),
        ("sort=improvement&dir=desc", ["Kab. Deli Serdang", "Kota Medan", "Kota Binjai"]),
        ("sort=rank_national&dir=desc", ["Kota Medan", "Kab. Deli Serdang", "Kota Binjai"]),
        ("sort=province&dir=desc", ["Kab. Deli Serdang", "Kota Medan", "Kota Binjai"]),
        ("sort=no_such_column", ["Kab. Deli Serdang", "Kota Medan", "Kota Binjai"]),
    ],
)
def test_the_table_sorts_by_any_column_on_the_server(three_regions, as_user, coordinator, query, expected):
    assert _order(as_user(coordinator).get(f"{NATIONAL}?{query}").content) == expected


def test_the_column_heading_links_reverse_the_active_sort_and_keep_the_filters(
    three_regions, as_user, coordinator
):
    content = as_user(coordinator).get(f"{NATIONAL}?sort=final&dir=desc&province=Riau").content
    assert b'href="?province=Riau&amp;sort=final&amp;dir=asc"' in content
    assert b'aria-sort="descending"' in content


def test_the_table_filters_by_province_and_group(three_regions, as_user, coordinator):
    client = as_user(coordinator)
    assert _order(client.get(f"{NATIONAL}?province=Riau").content) == ["Kota Binjai"]
    assert _order(client.get(f"{NATIONAL}?province=Sumatera+Utara").content) == [
        "Kab. Deli Serdang",
        "Kota Medan",
    ]
    assert _order(client.get(f"{NATIONAL}?group=KPPN_IKN").content) == []
    assert len(_order(client.get(f"{NATIONAL}?group=REGULER").content)) == 3


def test_each_row_links_to_the_region_page(computed, as_user, coordinator):
    assert f'href="{REGION_PAGE}"'.encode() in as_user(coordinator).get(NATIONAL).content


def test_the_region_page_shows_components_ranks_improvement_and_charts(published, as_user):
    content = as_user(None).get(REGION_PAGE).content.decode()
    assert 'id="final">3.57<' in content
    assert 'id="improvement">+0.34<' in content
    assert 'id="rank-national">1 of 2<' in content and 'id="rank-province">1 of 2<' in content
    assert 'id="coverage">100%<' in content
    assert 'id="component-baseline"' in content and ">3.28<" in content and ">3.44<" in content  # 2023
    assert content.count('<svg xmlns="http://www.w3.org/2000/svg" class="radar"') == 2
    assert 'id="agreement"' in content and 'id="history"' in content and "history-2023" in content
    assert 'id="items"' in content and "baseline.legal_basis" in content


def test_the_region_page_of_an_imported_cycle_has_no_item_breakdown(history_2023, as_user):
    content = as_user(None).get(f"/r/{REGION_A}/history-2023/results/").content.decode()
    assert 'id="final">3.23<' in content and 'id="coverage"' not in content and 'id="items"' not in content


# --- coordinator actions ---------------------------------------------------------------------------


def _messages(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_the_coordinator_computes_and_publishes_from_the_page(scored, as_user, coordinator):
    client = as_user(coordinator)
    response = client.post(f"/results/{CYCLE}/compute/")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    job_run(job_id=job.pk)  # as the worker does
    pinned = scored.cycle.framework.digest[:12]  # the built-in's hash changes with its content
    outcome = client.get(f"/jobs/{job.pk}/").content.decode()
    assert f"Results computed for 2 regions with framework {pinned}." in outcome
    assert f'href="{NATIONAL}"' in outcome
    assert b'id="publish-form"' in client.get(NATIONAL).content
    response = client.post(f"/results/{CYCLE}/publish/", {"confirm": "yes"})
    assert _messages(response) == ["The results are published. The cycle is now locked."]
    scored.cycle.refresh_from_db()
    assert scored.cycle.status == Cycle.Status.PUBLISHED
    page = client.get(NATIONAL).content
    assert b'id="compute-form"' not in page and b'id="publish-form"' not in page


def test_computing_an_open_cycle_from_the_page_says_why_and_saves_nothing(world, as_user, coordinator):
    response = as_user(coordinator).post(f"/results/{CYCLE}/compute/")
    assert _messages(response) == ["The cycle is open: close it before computing the results."]
    assert ResultRun.objects.count() == 0
    page = as_user(coordinator).get(NATIONAL).content
    assert b"Close the cycle to compute its results." in page and b'id="compute-form"' not in page


def test_publishing_without_results_from_the_page_is_refused(scored, as_user, coordinator):
    response = as_user(coordinator).post(f"/results/{CYCLE}/publish/", {"confirm": "yes"})
    assert _messages(response) == ["There are no results to publish: compute them first."]


def test_the_results_index_lists_what_each_user_may_open(computed, history_2023, as_user, coordinator):
    assert b"GMSC 2024" in as_user(coordinator).get("/results/").content
    public = as_user(None).get("/results/").content
    assert b"GMSC 2024" not in public and b"history-2023" in public
