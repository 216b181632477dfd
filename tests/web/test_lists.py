"""Search, filters and pagination on the long lists (regions, a cycle's participants, the
national results): what a coordinator with 550 regions needs, read from the querystring.

Expected rows come from how tests/web/national.py builds the regions (region i: "Kota Uji i"
or "Kab. Uji i" for even i, province "Provinsi (i mod 38)+1", rank i, final 4 - i/1000),
not from the code under test; the world's two regions come first or last by name.
"""

from __future__ import annotations

import re

import pytest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone

from cityeval.web.evaluations.models import Participation
from cityeval.web.listing import slug_links
from cityeval.web.panels.models import PanelRegion
from tests.helpers.web import without_csrf_tokens
from tests.web.national import add_panels, add_regions, add_run, name_of

REGIONS = "/regions/"


def _rows(content: bytes, table: str) -> list[str]:
    """The link texts of the first cell of each row of the table with id ``table``."""
    text = content.decode()
    body = text[text.index(f'id="{table}"') :]
    body = body[body.index("<tbody>") : body.index("</tbody>")]
    return re.findall(r"<tr[^>]*>\s*<td><a [^>]*>([^<]+)</a>", body)


def _found(content: str) -> list[str]:
    """The regions offered by a region finder (the slugs its buttons send)."""
    if 'id="found-regions"' not in content:
        return []
    found = content[content.index('id="found-regions"') :]
    return re.findall(r'name="region" value="([^"]+)"', found[: found.index("</ul>")])


@pytest.fixture
def many(world):
    """120 regions in the world's cycle and 15 outside it."""
    return add_regions(world.cycle, 120, outside=15)


# --- regions ----------------------------------------------------------------------------------------


def test_the_region_list_pages_by_50_in_name_order(many, as_user, coordinator):
    client = as_user(coordinator)
    first = client.get(REGIONS)
    assert first.status_code == 200
    rows = _rows(first.content, "region-table")
    # 137 regions by name: "Kab. Deli Serdang", then the 67 "Kab. Uji" (even i ≤ 134), …
    assert len(rows) == 50 and rows[0] == "Kab. Deli Serdang" and rows[1] == name_of(2)
    assert "1–50 of 137" in first.content.decode()
    last = client.get(f"{REGIONS}?page=3")
    assert _rows(last.content, "region-table")[-1] == "Kota Uji 135"
    assert "101–137 of 137" in last.content.decode()
    assert _rows(client.get(f"{REGIONS}?page=999").content, "region-table") == _rows(
        last.content, "region-table"
    )  # past the end: the last page, not an error
    assert client.get(f"{REGIONS}?page=abc").status_code == 200


def test_the_region_list_searches_by_name_or_code_and_filters_by_province_and_kind(
    many, as_user, coordinator
):
    client = as_user(coordinator)
    assert _rows(client.get(f"{REGIONS}?q=uji+007").content, "region-table") == ["Kota Uji 007"]
    assert _rows(client.get(f"{REGIONS}?q=99.040").content, "region-table") == ["Kab. Uji 040"]
    # Provinsi 03 holds i ≡ 2 (mod 38): 2, 40, 78, 116 (≤ 135), all even, so all kabupaten.
    expected = ["Kab. Uji 002", "Kab. Uji 040", "Kab. Uji 078", "Kab. Uji 116"]
    assert _rows(client.get(f"{REGIONS}?province=Provinsi+03").content, "region-table") == expected
    assert _rows(client.get(f"{REGIONS}?province=Provinsi+03&kind=kota").content, "region-table") == []
    medan = client.get(f"{REGIONS}?kind=kota&q=medan")
    assert _rows(medan.content, "region-table") == ["Kota Medan"]
    assert b"No region matches this search." not in medan.content


def test_an_unknown_filter_value_shows_the_whole_list(many, as_user, coordinator):
    content = as_user(coordinator).get(f"{REGIONS}?kind=desa&province=Atlantis").content
    assert "1–50 of 137" in content.decode()


def test_page_links_keep_the_search_and_the_filters(many, as_user, coordinator):
    content = as_user(coordinator).get(f"{REGIONS}?q=uji&kind=kota&page=1").content.decode()
    # Kota Uji: odd i ≤ 135, 68 regions: two pages.
    assert "1–50 of 68" in content
    assert 'href="?q=uji&amp;kind=kota&amp;page=2" rel="next"' in content
    # The form shows what is searched and filtered, so that narrowing further keeps it.
    assert 'name="q" id="regions-q" value="uji"' in content
    assert '<option value="kota" selected>' in content


@pytest.mark.parametrize("persona", ["admin_a", "opd_a", "assessor", "nobody"])
def test_outsiders_cannot_search_the_region_list(request, many, as_user, persona):
    response = as_user(request.getfixturevalue(persona)).get(f"{REGIONS}?q=uji&page=2")
    assert response.status_code == 403
    assert "Uji" not in without_csrf_tokens(response.content.decode())


def test_anonymous_users_are_sent_to_log_in(many, as_user):
    response = as_user(None).get(f"{REGIONS}?q=uji")
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


# --- a cycle's participants and the add-region finder ---------------------------------------------------


def _cycle_url(world) -> str:
    return reverse("evaluations:cycle_detail", kwargs={"cycle": world.cycle.slug})


def test_the_participants_are_searched_filtered_and_paged(world, many, as_user, coordinator):
    client = as_user(coordinator)
    url = _cycle_url(world)
    first = client.get(url).content.decode()
    assert "Participating regions (122)" in first and "1–50 of 122" in first
    assert _rows(client.get(f"{url}?q=uji+11").content, "participants-table") == sorted(
        name_of(i) for i in range(110, 120)
    )  # by name: the five "Kab." first
    Participation.objects.filter(region__slug__in=["uji-003", "uji-050"]).update(submitted_at=timezone.now())
    submitted = _rows(client.get(f"{url}?status=submitted").content, "participants-table")
    assert submitted == ["Kab. Uji 050", "Kota Uji 003"]
    waiting = client.get(f"{url}?status=not_submitted&kind=kota").content.decode()
    assert "1–50 of 60" in waiting  # Kota Medan and the 60 odd i ≤ 120, less Kota Uji 003
    assert _rows(client.get(f"{url}?q=uji&page=3").content, "participants-table")[-1] == "Kota Uji 119"


def test_the_participants_total_and_links_stay_the_same_when_the_list_is_narrowed(
    world, many, as_user, coordinator
):
    """The heading counts every participant (122) with or without a search; each row links
    the region's dashboard for the cycle, and a submitted one in the open cycle its reopening,
    as the routes write them."""
    client = as_user(coordinator)
    url = _cycle_url(world)
    Participation.objects.filter(region__slug="uji-050").update(submitted_at=timezone.now())
    for query in ("", "?q=uji+05", "?status=submitted"):
        assert "Participating regions (122)" in client.get(f"{url}{query}").content.decode()
    page = client.get(f"{url}?q=uji+05").content.decode()
    dashboard = reverse("regions:dashboard", kwargs={"region": "uji-050"})
    reopen = reverse("assessments:reopen", kwargs={"region": "uji-050", "cycle": world.cycle.slug})
    assert f'<a href="{dashboard}?cycle={world.cycle.slug}">Kab. Uji 050</a>' in page
    assert f'<a href="{reopen}">' in page
    assert page.count("/self-assessment/reopen/") == 1  # the submitted one only


def test_slug_links_write_what_reverse_writes():
    """One reversal per page, then the slug written in: the same URL as reversing each, and a
    value the slug converter refuses is refused as reverse refuses it."""
    link = slug_links("results:region", slug="region", cycle="national-2024")
    for slug in ("kota-medan", "region_001", "KAB-9"):
        assert link(slug) == reverse("results:region", kwargs={"region": slug, "cycle": "national-2024"})
    with pytest.raises(NoReverseMatch):
        link("kota medan/x")
    # A cycle's slug that holds the placeholder text itself: every link is reversed whole.
    odd = slug_links("results:region", slug="region", cycle="slug-placeholder")
    assert odd("kota-medan") == reverse(
        "results:region", kwargs={"region": "kota-medan", "cycle": "slug-placeholder"}
    )


def test_the_add_region_finder_lists_only_regions_outside_the_cycle(world, many, as_user, coordinator):
    client = as_user(coordinator)
    url = _cycle_url(world)
    assert 'id="found-regions"' not in client.get(url).content.decode()  # nothing until typed
    found = client.get(f"{url}?find=uji+12").content.decode()
    listed = _found(found)
    # Uji 120 to 129 match; 120 is in the cycle. By name: the "Kab." (even) first.
    outside = [
        "uji-122",
        "uji-124",
        "uji-126",
        "uji-128",
        "uji-121",
        "uji-123",
        "uji-125",
        "uji-127",
        "uji-129",
    ]
    assert listed == outside
    assert "9 regions match." in found and "The first" not in found
    everything = client.get(f"{url}?find=uji").content.decode()
    assert len(_found(everything)) == 10
    assert "15 regions match. The first 10 are shown" in everything
    added = client.post(url, {"region": "uji-121", "group": "REGULER", "find": "uji 12"})
    assert added.status_code == 302 and added["Location"] == f"{url}?find=uji+12"  # back to the list
    again = client.get(added["Location"]).content.decode()
    assert _found(again) == [s for s in outside if s != "uji-121"]


@pytest.mark.parametrize("persona", ["admin_a", "opd_a", "assessor", "nobody"])
def test_outsiders_cannot_search_participants_or_find_regions(request, world, many, as_user, persona):
    response = as_user(request.getfixturevalue(persona)).get(f"{_cycle_url(world)}?q=uji&find=uji")
    assert response.status_code == 403
    assert "Uji" not in without_csrf_tokens(response.content.decode())


# --- the national results -------------------------------------------------------------------------------


def _national(world) -> str:
    return reverse("results:national", kwargs={"cycle": world.cycle.slug})


def test_the_national_table_pages_in_rank_order_and_keeps_the_sort(world, many, as_user, coordinator):
    add_run(world.cycle, many)
    client = as_user(coordinator)
    url = _national(world)
    assert _rows(client.get(url).content, "national-table") == [name_of(i) for i in range(1, 51)]
    assert _rows(client.get(f"{url}?page=2").content, "national-table")[0] == name_of(51)
    lowest = client.get(f"{url}?sort=final&dir=asc&page=1").content.decode()
    assert _rows(lowest.encode(), "national-table")[0] == name_of(120)
    assert 'href="?sort=final&amp;dir=asc&amp;page=2" rel="next"' in lowest
    assert '<input type="hidden" name="sort" value="final">' in lowest  # the filter form keeps it


def test_the_national_table_is_searched_and_filtered(world, many, as_user, coordinator):
    add_run(world.cycle, many)
    client = as_user(coordinator)
    url = _national(world)
    assert _rows(client.get(f"{url}?q=uji+07").content, "national-table") == [
        name_of(i) for i in range(70, 80)
    ]
    assert _rows(client.get(f"{url}?province=Provinsi+03").content, "national-table") == [
        name_of(i) for i in (2, 40, 78, 116)
    ]
    content = client.get(f"{url}?q=uji+07&sort=final").content.decode()
    assert 'href="?q=uji+07&amp;sort=final&amp;dir=desc"' in content  # headings keep the search


def test_the_key_columns_come_first(world, many, as_user, coordinator):
    add_run(world.cycle, many)
    content = as_user(coordinator).get(_national(world)).content.decode()
    headings = re.findall(r"<th[^>]*>\s*<a [^>]*>([^<]+)</a>", content)
    assert [h.strip(" ↑↓") for h in headings[:3]] == ["Region", "Final", "National rank"]
    row = content[content.index('id="region-uji-001"') :]
    assert re.findall(r'<td class="num">(?:<strong>)?([^<]+)<', row)[:2] == ["4.00", "1"]  # 4 - 1/1000


def test_citizens_search_a_published_table_but_outsiders_see_nothing_before(
    world, many, as_user, admin_a, assessor
):
    add_run(world.cycle, many)
    url = f"{_national(world)}?q=uji+07&page=1"
    for user in (None, admin_a, assessor):
        assert as_user(user).get(url).status_code == 404
    world.cycle.status = "published"
    world.cycle.save(update_fields=["status"])
    assert _rows(as_user(None).get(url).content, "national-table") == [name_of(i) for i in range(70, 80)]


# --- panels and their regions ---------------------------------------------------------------------------


def _panels(world) -> str:
    return reverse("panels:panel_list", kwargs={"cycle": world.cycle.slug})


def test_the_panels_are_searched_by_panel_region_or_assessor_and_paged(world, many, as_user, coordinator):
    add_panels(world.cycle, many, per_panel=2)  # 60 panels: Panel 04 has regions 7 and 8
    client = as_user(coordinator)
    url = _panels(world)
    first = client.get(url).content.decode()
    assert "1–50 of 60" in first and _rows(first.encode(), "panels-table")[0] == "Panel 01"
    assert _rows(client.get(f"{url}?page=2").content, "panels-table")[-1] == "Panel 60"
    assert _rows(client.get(f"{url}?q=uji+007").content, "panels-table") == ["Panel 04"]
    assert _rows(client.get(f"{url}?q=panel+05").content, "panels-table") == ["Panel 05"]
    none = client.get(f"{url}?stage=stage_1").content.decode()
    assert _rows(none.encode(), "panels-table") == [] and "No panel matches this search." in none
    assert "2 participating regions have no panel at this stage." in first  # the world's two


def test_the_panel_region_finder_offers_only_regions_without_a_panel(world, many, as_user, coordinator):
    panels = add_panels(world.cycle, many, per_panel=2)
    client = as_user(coordinator)
    url = reverse("panels:panel_detail", kwargs={"panel": panels[0].public_id})
    assert "0 regions match." in client.get(f"{url}?find=uji").content.decode()  # all have a panel
    found = client.get(f"{url}?find=sumatera").content.decode()  # by province
    assert _found(found) == ["kab-deli-serdang", "kota-medan"]
    action = reverse("panels:region_assign", kwargs={"panel": panels[0].public_id})
    assert f'action="{action}"' in found
    assigned = client.post(action, {"region": "kota-medan", "find": "sumatera"})
    assert assigned.status_code == 302 and assigned["Location"] == f"{url}?find=sumatera"
    assert PanelRegion.objects.filter(panel=panels[0], participation__region__slug="kota-medan").exists()


@pytest.mark.parametrize("persona", ["admin_a", "opd_a", "assessor", "nobody"])
def test_outsiders_cannot_search_panels_or_find_regions_for_them(request, world, many, as_user, persona):
    panels = add_panels(world.cycle, many, per_panel=2)
    client = as_user(request.getfixturevalue(persona))
    detail = reverse("panels:panel_detail", kwargs={"panel": panels[0].public_id})
    for url in (f"{_panels(world)}?q=uji", f"{detail}?find=sumatera"):
        response = client.get(url)
        assert response.status_code == 403 and "Uji" not in without_csrf_tokens(response.content.decode())


def test_an_assessor_finds_the_region_to_declare_a_conflict_with(world, many, as_user, assessor):
    client = as_user(assessor)
    url = reverse("panels:conflicts")
    assert 'name="region"' not in client.get(url).content.decode()  # no dropdown of every region
    assert _found(client.get(f"{url}?find=medan").content.decode()) == ["kota-medan"]
    declared = client.post(url, {"region": "kota-medan", "reason": "I advise Medan", "find": "medan"})
    assert declared.status_code == 302
    assert _found(client.get(f"{url}?find=medan").content.decode()) == []  # declared already
    refused = client.post(url, {"region": "kab-deli-serdang", "reason": " ", "find": "deli"})
    assert refused.status_code == 200 and _found(refused.content.decode()) == ["kab-deli-serdang"]


@pytest.mark.parametrize("persona", ["coordinator", "admin_a", "nobody"])
def test_only_assessors_use_the_conflict_finder(request, world, many, as_user, persona):
    response = as_user(request.getfixturevalue(persona)).get(f"{reverse('panels:conflicts')}?find=uji")
    assert response.status_code == 404 and "Uji" not in without_csrf_tokens(response.content.decode())
