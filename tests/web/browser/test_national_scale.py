"""Issue acceptance, in Chromium: a 550-region cycle (generated here with bulk inserts) whose
national results and participants the coordinator searches, filters and pages through.

Which region is where comes from how tests/web/national.py builds them (region i ranks i-th),
not from the pages under test. Screenshots: test-artifacts/screenshots/scale-*.png.
"""

from __future__ import annotations

from tests.helpers.web import PASSWORD
from tests.web.national import add_regions, add_run, name_of

NO_OVERFLOW = "document.documentElement.scrollWidth <= window.innerWidth"


def _first_cells(page, table: str) -> list[str]:
    return [text.strip() for text in page.locator(f"#{table} tbody tr td:first-child a").all_inner_texts()]


def _go(page, action) -> None:
    with page.expect_navigation():
        action()


def test_the_coordinator_searches_and_pages_550_regions(
    world, coordinator, page, phone_page, live_server, login, screenshot
):
    participations = add_regions(world.cycle, 550, outside=10)
    add_run(world.cycle, participations)
    login(page, live_server, "coordinator", PASSWORD)

    # The national results: 50 a page in rank order, 11 pages.
    page.goto(f"/results/{world.cycle.slug}/")
    assert _first_cells(page, "national-table") == [name_of(i) for i in range(1, 51)]
    assert page.inner_text("#national-count").strip() == "1–50 of 550"
    _go(page, lambda: page.click("#national-pages a[rel=next]"))
    assert _first_cells(page, "national-table")[0] == name_of(51)
    _go(page, lambda: page.click("#national-pages a:text-is('11')"))
    assert page.inner_text("#national-count").strip() == "501–550 of 550"
    assert _first_cells(page, "national-table")[-1] == name_of(550)

    # Searching by name, then narrowing by province, keeps the sort order chosen.
    _go(page, lambda: page.click("#national-table th a:text-is('Final')"))  # best first
    page.fill("#national-q", "uji 27")
    _go(page, lambda: page.click("#national-filters [type=submit]"))
    assert _first_cells(page, "national-table") == [name_of(i) for i in range(270, 280)]
    assert "sort=final" in page.url and "q=uji+27" in page.url
    # Provinsi 08 holds i ≡ 7 (mod 38): of 270 to 279, only 273.
    page.select_option("#national-province", "Provinsi 08")
    _go(page, lambda: page.click("#national-filters [type=submit]"))
    assert _first_cells(page, "national-table") == [name_of(273)]
    screenshot(page, "scale-national-search")
    _go(page, lambda: page.click("#national-clear"))
    assert page.inner_text("#national-count").strip() == "1–50 of 550"

    # The participants: 552 (the world's two and the 550), searched and paged.
    page.goto(f"/cycles/{world.cycle.slug}/")
    assert page.inner_text("#participants-count").strip() == "1–50 of 552"
    page.fill("#participants-q", "uji 54")
    _go(page, lambda: page.click("#participants-filters [type=submit]"))
    assert sorted(_first_cells(page, "participants-table")) == sorted(name_of(i) for i in range(540, 550))
    page.fill("#participants-q", "kab. uji")
    _go(page, lambda: page.click("#participants-filters [type=submit]"))
    assert page.inner_text("#participants-count").strip() == "1–50 of 275"  # even i ≤ 550
    _go(page, lambda: page.click("#participants-pages a:text-is('6')"))
    assert page.inner_text("#participants-count").strip() == "251–275 of 275"
    assert _first_cells(page, "participants-table")[-1] == name_of(550)

    # Adding a region: found by name among the 10 outside the cycle, not from 560 options.
    assert page.locator("#add-region select[name=region]").count() == 0
    page.fill("#find", "uji 55")
    _go(page, lambda: page.click("#add-region [role=search] [type=submit]"))
    assert page.inner_text("#found-count").strip() == "9 regions match."  # 551 to 559; 550 takes part
    _go(page, lambda: page.click("#pick-uji-551"))
    assert "Region added." in page.inner_text(".messages")
    screenshot(page, "scale-participants")

    # The same table on a phone: searchable, and the page does not scroll sideways.
    login(phone_page, live_server, "coordinator", PASSWORD)
    phone_page.goto(f"/results/{world.cycle.slug}/?page=2")
    assert _first_cells(phone_page, "national-table")[0] == name_of(51)
    assert phone_page.evaluate(NO_OVERFLOW)
    final = phone_page.locator("#national-table thead th").nth(1).bounding_box()
    assert final["x"] + final["width"] <= 390  # the final is in view without scrolling
    screenshot(phone_page, "scale-national-phone")
