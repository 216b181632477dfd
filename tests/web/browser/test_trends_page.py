"""Results over the years in Chromium, on the demo (2023 imported as history, 2024 computed
and published): the regional admin goes from the region's dashboard to its trends page and
reads the table and the charts, on a desktop and on a 390 px phone (the page no wider than the
window, the charts within it); the coordinator reads the finals per year on a phone."""

from __future__ import annotations

from typing import Any

from cityeval import demo
from cityeval.web.demo import load_demo
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.regions.models import Region
from cityeval.web.results.models import RegionResult
from tests.helpers.browser import log_in

ADMIN = "admin.deliserdang"
COORDINATOR = "koordinator"
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"


def _open_trends(page: Any, live_server: Any, password: str) -> Region:
    log_in(page, live_server, ADMIN, password)
    home = Region.objects.get(name=demo.HOME)
    page.goto(f"/r/{home.slug}/")
    with page.expect_navigation():
        page.click("#trends-link")
    assert page.url.endswith(f"/r/{home.slug}/trends/")
    return home


def _check_table(page: Any, home: Region) -> None:
    for year in (2023, 2024):
        line = RegionResult.objects.get(run__is_current=True, run__cycle__year=year, region=home)
        row = page.locator(f"#trend-{year} td")
        assert row.nth(1).inner_text() == number(line.final)
        assert row.nth(2).inner_text().startswith(f"{line.rank_national} of ")
    assert "Imported published table" in page.locator("#trend-2023 td.source").inner_text()
    assert "Computed by the platform" in page.locator("#trend-2024 td.source").inner_text()
    chart = page.locator("#trend-scores svg[role=img]")
    assert chart.is_visible()
    assert chart.get_attribute("aria-label").startswith(f"{demo.HOME}: final and components")
    assert page.locator("#trend-scores svg circle.point").count() >= 2
    assert page.locator("#trend-rank svg[role=img]").is_visible()


def test_the_admin_reads_the_trends_on_a_desktop(transactional_db, page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    home = _open_trends(page, live_server, passwords[ADMIN])
    _check_table(page, home)
    screenshot(page, "desktop-en-trends")


def test_the_trends_pages_fit_a_phone(transactional_db, phone_page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    home = _open_trends(phone_page, live_server, passwords[ADMIN])
    _check_table(phone_page, home)
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    for chart in ("#trend-scores svg", "#trend-rank svg"):
        box = phone_page.locator(chart).bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= window, (chart, box)
    screenshot(phone_page, "phone-en-trends")
    phone_page.context.clear_cookies()
    log_in(phone_page, live_server, COORDINATOR, passwords[COORDINATOR])
    phone_page.goto("/results/")
    with phone_page.expect_navigation():
        phone_page.click("#national-trends-link")
    assert phone_page.locator("#national-trend-2023").is_visible()
    assert phone_page.locator("#national-trend-2024").is_visible()
    assert phone_page.locator("#trend-distribution svg.boxplot[role=img] rect.box").count() == 2
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    screenshot(phone_page, "phone-en-national-trends")
