"""Results over the years: the region trends page and the coordinator's national trends page.

Three years, checked by hand:

- 2022, imported (gmsc-2022, REGULER, every component equal so the final is that value):
  Deli Serdang (A) 3.0, Kota Medan (B) 2.0, Kota Binjai (C) 3.5 → ranks C 1, A 2, B 3 of 3.
- 2023, imported (gmsc-2023): B 2.5, C 3.1, Kab. Karo (D) 1.3; A did not take part (a gap)
  → ranks C 1, B 2, D 3 of 3.
- 2024, computed by the platform from the panel's scores (tests/web/results/conftest.py):
  A 3.568 (baseline 3.28, the other components 3.6), B 2.6 → ranks A 1, B 2 of 2.

Distribution of the finals (numpy's default linear quantiles: position h = (n − 1)·p):
- 2022: 2.0, 3.0, 3.5 → Q1 at h = 0.5: 2 + 0.5 × 1 = 2.5; median 3.0; Q3 at h = 1.5:
  3 + 0.5 × 0.5 = 3.25.
- 2023: 1.3, 2.5, 3.1 → Q1 = 1.3 + 0.5 × 1.2 = 1.9; median 2.5; Q3 = 2.5 + 0.5 × 0.6 = 2.8.
- 2024: 2.6, 3.568 → Q1 at h = 0.25: 2.6 + 0.25 × 0.968 = 2.842; median 3.084; Q3 at h = 0.75:
  2.6 + 0.75 × 0.968 = 3.326.
"""

from __future__ import annotations

import re

import polars as pl
import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.regions.models import Region
from cityeval.web.results.history import history_import
from cityeval.web.results.models import RegionResult
from cityeval.web.results.services import cycle_publish, results_compute
from cityeval.web.results.trends import national_trends, region_trends
from tests.helpers.results import REGION_A, REGION_B

PAGE_A = f"/r/{REGION_A}/trends/"
PAGE_B = f"/r/{REGION_B}/trends/"
NATIONAL = "/results/trends/"
COMPONENTS = ("baseline", "output", "outcome", "impact", "quick_win")


def _import(year: int, finals: dict[str, float], user) -> Cycle:
    """A published table where each region has the same score in every component."""
    table = pl.DataFrame(
        {
            "region": list(finals),
            "group": ["REGULER"] * len(finals),
            **{code: list(finals.values()) for code in COMPONENTS},
        }
    )
    version = framework_version_builtin(f"gmsc-{year}")
    return history_import(year=year, framework_version=version, table=table, user=user)


@pytest.fixture
def years(scored, coordinator):
    """2022 and 2023 imported, 2024 computed (not yet published)."""
    province = scored.region_a.province
    Region.objects.create(name="Kota Binjai", slug="kota-binjai", kind="kota", province=province)
    Region.objects.create(name="Kab. Karo", slug="kab-karo", kind="kabupaten", province=province)
    _import(2022, {"Kab. Deli Serdang": 3.0, "Kota Medan": 2.0, "Kota Binjai": 3.5}, coordinator)
    _import(2023, {"Kota Medan": 2.5, "Kota Binjai": 3.1, "Kab. Karo": 1.3}, coordinator)
    results_compute(cycle=scored.cycle, user=coordinator)
    return scored


@pytest.fixture
def published_years(years, coordinator):
    cycle_publish(cycle=years.cycle, user=coordinator)
    return years


def _cells(content: bytes, row_id: str) -> list[str]:
    """The text of each cell of the table row with that id."""
    row = re.search(rf'<tr id="{row_id}"[^>]*>(.*?)</tr>', content.decode(), re.S)
    assert row is not None, row_id
    cells = re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row.group(1), re.S)
    return [re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", c)).strip() for c in cells]


def test_the_region_page_shows_each_year_with_its_source_and_a_gap(published_years, as_user, admin_a):
    response = as_user(admin_a).get(PAGE_A)
    assert response.status_code == 200
    content = response.content
    # Year, final, national rank, baseline, output, outcome, impact, quick win, source.
    assert _cells(content, "trend-2022") == [
        "2022", "3.00", "2 of 3", *["3.00"] * 5, "Imported published table",
    ]  # fmt: skip
    assert _cells(content, "trend-2023") == [
        "2023", "did not take part", "Imported published table",
    ]  # fmt: skip
    assert _cells(content, "trend-2024") == [
        "2024", "3.57", "1 of 2", "3.28", *["3.60"] * 4, "Computed by the platform",
    ]  # fmt: skip
    headers = re.search(r'<table id="trends">\s*<thead>(.*?)</thead>', content.decode(), re.S)
    assert headers is not None
    assert "Collaboration" not in headers.group(1)  # no year gives A a kolaborasi score


def test_the_charts_leave_a_gap_for_the_year_the_region_did_not_take_part(published_years):
    region = Region.objects.get(slug=REGION_A)
    trends = region_trends(region, published_only=True)
    assert [y.final for y in trends.years] == [
        pytest.approx(3.0),
        None,
        pytest.approx(0.1 * 3.28 + 0.9 * 3.6),
    ]
    assert [(y.rank_national, y.ranked) for y in trends.years] == [(2, 3), (None, 3), (1, 2)]
    assert [y.imported for y in trends.years] == [True, True, False]
    chart = trends.scores_chart
    assert chart is not None and 'role="img"' in chart and 'aria-label="Kab. Deli Serdang: final' in chart
    # Two points of the final, none for 2023, and no line across the gap.
    final = re.search(r'<g class="series" data-series="0">(.*?)</g>', chart).group(1)
    assert re.findall(r'data-point="(\d)"', final) == ["0", "2"]
    assert "<polyline" not in final
    rank = trends.rank_chart
    assert rank is not None and re.findall(r'data-value="([\d.]+)"', rank) == ["2.0", "1.0"]


def test_ranks_of_a_region_present_every_year(published_years, as_user, admin_b):
    content = as_user(admin_b).get(PAGE_B).content
    assert _cells(content, "trend-2022")[1:3] == ["2.00", "3 of 3"]
    assert _cells(content, "trend-2023")[1:3] == ["2.50", "2 of 3"]
    assert _cells(content, "trend-2024")[1:3] == ["2.60", "2 of 2"]
    # Three years in a row: one unbroken line of the final through them.
    trends = region_trends(Region.objects.get(slug=REGION_B), published_only=True)
    assert trends.scores_chart.count('class="segment"') >= 1
    final = re.search(r'<g class="series" data-series="0">(.*?)</g>', trends.scores_chart).group(1)
    assert final.count("<polyline") == 1 and final.count("<circle") == 3


def test_regional_users_see_published_years_only_the_coordinator_all(years, as_user, admin_a, coordinator):
    """2024 is computed but not published: the region's admin sees the two imported years."""
    mine = as_user(admin_a).get(PAGE_A).content
    assert b'id="trend-2022"' in mine and b'id="trend-2023"' in mine
    assert b'id="trend-2024"' not in mine and b"3.57" not in mine
    theirs = as_user(coordinator).get(PAGE_A).content
    assert _cells(theirs, "trend-2024")[0] == "2024 not published"
    assert _cells(theirs, "trend-2024")[1] == "3.57"
    # The helper fails closed on its own.
    region = Region.objects.get(slug=REGION_A)
    assert [y.cycle.year for y in region_trends(region, published_only=True).years] == [2022, 2023]
    assert [y.cycle.year for y in national_trends(published_only=True).years] == [2022, 2023]


def test_a_history_table_withdrawn_from_publication_is_hidden_from_the_region(
    published_years, as_user, opd_a
):
    Cycle.objects.filter(slug="history-2022").update(status=Cycle.Status.CLOSED)
    content = as_user(opd_a).get(PAGE_A).content
    assert b'id="trend-2022"' not in content and b'id="trend-2024"' in content


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "assessor", "nobody"])
def test_the_region_page_is_refused_to_outsiders(published_years, as_user, persona, name):
    response = as_user(persona(name)).get(PAGE_A)
    assert response.status_code == 404
    assert b"3.57" not in response.content


def test_the_region_page_sends_anonymous_visitors_to_log_in(published_years, as_user):
    response = as_user(None).get(PAGE_A)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "coordinator"])
def test_the_region_page_is_open_to_the_region_and_the_coordinator(published_years, as_user, persona, name):
    assert as_user(persona(name)).get(PAGE_A).status_code == 200


def test_the_national_page_shows_each_years_quartiles_by_hand(published_years, as_user, coordinator):
    response = as_user(coordinator).get(NATIONAL)
    assert response.status_code == 200
    content = response.content
    # Year, regions, lowest, Q1, median, Q3, highest, source.
    assert _cells(content, "national-trend-2022")[:7] == ["2022", "3", "2.00", "2.50", "3.00", "3.25", "3.50"]
    assert _cells(content, "national-trend-2023")[:7] == ["2023", "3", "1.30", "1.90", "2.50", "2.80", "3.10"]
    assert _cells(content, "national-trend-2024")[:7] == ["2024", "2", "2.60", "2.84", "3.08", "3.33", "3.57"]
    assert _cells(content, "national-trend-2024")[7] == "Computed by the platform"
    years = national_trends(published_only=False).years
    assert [(y.q1, y.median, y.q3) for y in years] == [
        pytest.approx((2.5, 3.0, 3.25)),
        pytest.approx((1.9, 2.5, 2.8)),
        pytest.approx((2.842, 3.084, 3.326)),
    ]
    charts = re.findall(r'<svg [^>]*class="boxplot" role="img"[^>]*aria-label="[^"]+"', content.decode())
    assert len(charts) == 1
    assert content.decode().count('class="box"') == 3  # a box per year


def test_the_national_page_marks_an_unpublished_year(years, as_user, coordinator):
    content = as_user(coordinator).get(NATIONAL).content
    assert _cells(content, "national-trend-2024")[0] == "2024 not published"
    assert _cells(content, "national-trend-2022")[0] == "2022"


@pytest.mark.parametrize("name", ["admin_a", "admin_b", "opd_a", "assessor", "nobody"])
def test_the_national_page_is_refused_to_everyone_but_the_coordinator(
    published_years, as_user, persona, name
):
    assert as_user(persona(name)).get(NATIONAL).status_code == 403


def test_the_national_page_sends_anonymous_visitors_to_log_in(published_years, as_user):
    response = as_user(None).get(NATIONAL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_the_pages_are_in_indonesian(published_years, as_user, admin_a, coordinator, settings):
    settings.LANGUAGE_CODE = "id"
    content = as_user(admin_a).get(PAGE_A).content.decode()
    assert "Hasil dari tahun ke tahun" in content
    assert _cells(content.encode(), "trend-2023")[1] == "tidak ikut serta"
    assert _cells(content.encode(), "trend-2022")[2] == "2 dari 3"
    assert "Tabel terbitan yang diimpor" in content and "Dihitung oleh platform" in content
    assert "Dampak" in content  # the framework's own Indonesian label of the impact component
    national = as_user(coordinator).get(NATIONAL).content.decode()
    assert "Indeks akhir dari tahun ke tahun" in national


def test_the_pages_link_to_the_trends(published_years, as_user, admin_a, admin_b, coordinator):
    assert b'id="trends-link"' in as_user(admin_a).get(f"/r/{REGION_A}/").content
    region_page = f"/r/{REGION_A}/gmsc-2024/results/"
    assert b'id="trends-link"' in as_user(admin_a).get(region_page).content
    assert b'id="trends-link"' in as_user(coordinator).get(region_page).content
    # The region page is public once published; the link is for who may follow it.
    assert b'id="trends-link"' not in as_user(admin_b).get(region_page).content
    assert b'id="trends-link"' not in as_user(None).get(region_page).content
    assert b'id="national-trends-link"' in as_user(coordinator).get("/results/").content
    assert b'id="national-trends-link"' not in as_user(admin_a).get("/results/").content


def _queries(client, url: str) -> int:
    client.get(url)  # the session's first read is not the page's
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_the_query_count_does_not_grow_with_years_or_regions(published_years, as_user, admin_b, coordinator):
    client, boss = as_user(admin_b), as_user(coordinator)
    before = (_queries(client, PAGE_B), _queries(boss, NATIONAL))
    province = Region.objects.get(slug=REGION_B).province
    more = {"Kota Medan": 2.2}
    for k in range(6):
        Region.objects.create(name=f"Kota Uji {k}", slug=f"kota-uji-{k}", kind="kota", province=province)
        more[f"Kota Uji {k}"] = 1.0 + k / 4
    table = pl.DataFrame(
        {
            "region": list(more),
            "group": ["REGULER"] * len(more),
            **{c: list(more.values()) for c in COMPONENTS},
        }
    )
    history_import(
        year=2021, framework_version=framework_version_builtin("gmsc-2022"), table=table, user=None
    )
    after = (_queries(client, PAGE_B), _queries(boss, NATIONAL))
    assert b'id="trend-2021"' in client.get(PAGE_B).content
    assert after == before


def test_a_non_participant_line_is_a_gap_not_its_stored_zero(published_years, as_user, admin_a):
    RegionResult.objects.filter(run__cycle__slug="history-2022", region__slug=REGION_A).update(
        participant=False, final=0.0, rank_national=None
    )
    content = as_user(admin_a).get(PAGE_A).content
    assert _cells(content, "trend-2022")[1] == "did not take part"
    trends = region_trends(Region.objects.get(slug=REGION_A), published_only=True)
    assert [y.final for y in trends.years][:2] == [None, None]
