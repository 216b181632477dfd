"""The uncertainty of finals and ranks in a real browser, on the demo's published 2024 results
(computed from the assessors' marks, so with intervals): the national table's "n (lo–hi)" rank
cells and the region page's interval chart, on a desktop and on a phone, where the chart must
be visible and fit the screen's width without a sideways scroll."""

from __future__ import annotations

import re
from typing import Any

from cityeval import demo
from cityeval.web.demo import load_demo
from cityeval.web.regions.models import Region
from cityeval.web.results.models import RegionInterval

CYCLE = "gmsc-2024"
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
# A table's frame: how wide its table is against the frame, and the frame's background (the
# scroll shadows, site.css).
FRAME = "(e) => [e.scrollWidth, e.clientWidth, getComputedStyle(e).backgroundImage]"
# How many lines a cell's text takes (a range broken as "3,27– / 3,34" takes two).
LINES = """(e) => { const r = document.createRange(); r.selectNodeContents(e);
  return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size; }"""


def _check(page: Any, screenshot: Any, name: str) -> None:
    home = Region.objects.get(name=demo.HOME)
    mine = RegionInterval.objects.get(run__cycle__slug=CYCLE, run__is_current=True, region=home)
    page.goto(f"/results/{CYCLE}/")
    cell = page.locator(f"#region-{home.slug} td.rank-interval")
    assert cell.is_visible()
    assert re.match(rf"^{mine.rank_national} \({mine.rank_lo}–{mine.rank_hi}\)", cell.inner_text().strip())
    assert page.locator("#rank-intervals").is_visible()
    table, frame, background = page.locator("#national-table").locator("xpath=..").evaluate(FRAME)
    if page.viewport_size and page.viewport_size["width"] >= 1280:  # the whole table fits a desktop
        assert table <= frame, f"the national table is {table - frame} px wider than its frame"
    assert background.count("radial-gradient") == 2  # the shadows that show a table scrolls on
    assert cell.evaluate(LINES) == 1
    screenshot(page, f"{name}-national")
    page.goto(f"/r/{home.slug}/{CYCLE}/results/")
    chart = page.locator("#interval-chart svg.intervals")
    chart.scroll_into_view_if_needed()
    assert chart.is_visible()
    assert chart.get_attribute("role") == "img" and chart.get_attribute("aria-label")
    box = chart.bounding_box()
    viewport = page.viewport_size
    assert box is not None and viewport is not None
    assert box["width"] > 200 and box["x"] >= 0 and box["x"] + box["width"] <= viewport["width"] + 0.5
    scroll_width, inner_width = page.evaluate(WIDTH)
    assert scroll_width <= inner_width, "the page scrolls sideways"
    assert page.locator("#interval-table tr.this").count() == 1
    for range_cell in page.locator("#interval-table tr.this td.num").all():  # "3,27–3,34" on one line
        assert range_cell.evaluate(LINES) == 1, range_cell.inner_text()
    assert str(mine.rank_national) in page.locator("#intervals-words").inner_text()
    screenshot(page, name)


def test_the_intervals_on_a_desktop(transactional_db, page, live_server, screenshot):
    load_demo()
    _check(page, screenshot, "desktop-en-result-intervals")


def test_the_interval_chart_fits_a_phone(transactional_db, phone_page, live_server, screenshot):
    load_demo()
    _check(phone_page, screenshot, "phone-en-result-intervals")


def test_the_national_table_fits_a_desktop_in_indonesian(transactional_db, page, live_server, screenshot):
    """The walkthrough's case: Indonesian headings run longer; the table was 15 px too wide."""
    load_demo()
    page.context.add_cookies([{"name": "django_language", "value": "id", "url": live_server.url}])
    page.goto(f"/results/{CYCLE}/")
    table, frame, _background = page.locator("#national-table").locator("xpath=..").evaluate(FRAME)
    assert table <= frame, f"the national table is {table - frame} px wider than its frame"
    screenshot(page, "desktop-id-national-table")
