"""The coordinator's distribution page (docs/peers.md) in Chromium, on the demo's published 2024
results: from the national table to the page, then, for chosen components one after the other,
the box plot and the table row against ``numpy.quantile`` (linear, numpy's default) over the
stored component scores this test reads from the database itself — for all regions and within
each group, on a desktop and on a 390 px phone (no sideways scroll, the charts within the
window). A regional admin is refused (403) and an anonymous visitor is sent to log in."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from django.conf import settings
from django.utils import translation

from cityeval.web.demo import load_demo
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.models import RegionResult
from tests.helpers.browser import log_in

CYCLE = "gmsc-2024"
COORDINATOR = "koordinator"
ADMIN = "admin.deliserdang"
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
# Every text of every box plot whose box (as Chromium lays it out) leaves the chart's viewBox,
# where the SVG clips it: [chart's label, text, left, right, bottom, viewBox width, height].
CLIPPED = """() => [...document.querySelectorAll("svg.boxplot")].flatMap(svg => {
  const view = svg.viewBox.baseVal;
  return [...svg.querySelectorAll("text")].map(t => [t, t.getBBox()])
    .filter(([t, b]) => b.x < view.x - 0.5 || b.x + b.width > view.x + view.width + 0.5
                        || b.y + b.height > view.y + view.height + 0.5)
    .map(([t, b]) => [svg.getAttribute("aria-label"), t.textContent, b.x, b.x + b.width,
                      b.y + b.height, view.width, view.height]);
})"""
# Components looked at one after the other, then the final: the first and the last of the
# framework's components and the weighted final.
CHOSEN = ("baseline", "quick_win", "final")


def _stored(score: str, group: str | None = None) -> list[float]:
    """The score of every participating region of the current 2024 run (of ``group`` only when
    given), missing ones left out: straight from the stored lines."""
    lines = RegionResult.objects.filter(run__cycle__slug=CYCLE, run__is_current=True, participant=True)
    if group is not None:
        lines = lines.filter(group=group)
    values = [line.final if score == "final" else line.components.get(score) for line in lines]
    return [float(v) for v in values if v is not None]


def _expected(values: list[float]) -> dict[str, float]:
    q1, median, q3 = np.quantile(values, [0.25, 0.5, 0.75], method="linear")
    return {"min": min(values), "q1": float(q1), "median": float(median), "q3": float(q3), "max": max(values)}


def _open(page: Any, live_server: Any, password: str) -> None:
    log_in(page, live_server, COORDINATOR, password)
    page.goto(f"/results/{CYCLE}/")
    with page.expect_navigation():
        page.click("#distribution-link")
    assert page.url.endswith(f"/results/{CYCLE}/distribution/")


def _check_score(page: Any, key: str, score: str) -> None:
    """The table row and the chart's box of ``score`` in the section ``key`` (all or a group)."""
    values = _stored(score, None if key == "all" else key)
    assert values, (key, score)
    want = _expected(values)
    row = page.locator(f"#distribution-table-{key} #distribution-{key}-{score} td")
    cells = row.all_inner_texts()
    assert cells[1:] == [
        str(len(values)),
        *(number(want[k]) for k in ("min", "q1", "median", "q3", "max")),
    ], (key, score, cells, want)
    # The chart's row of the same label: its box spans Q1 to Q3, its thick line is the median.
    label = cells[0]
    box_row = page.locator(f"#distribution-{key} svg.boxplot g.box-row").filter(
        has=page.locator("text.label", has_text=label)
    )
    assert box_row.count() == 1, (key, label)
    box = box_row.locator("rect.box")
    assert float(box.get_attribute("data-q1")) == pytest.approx(want["q1"], abs=1e-9)
    assert float(box.get_attribute("data-q3")) == pytest.approx(want["q3"], abs=1e-9)
    median = box_row.locator("line.median")
    assert float(median.get_attribute("data-value")) == pytest.approx(want["median"], abs=1e-9)
    assert box_row.locator("line.whisker").count() == 1


def _check_page(page: Any) -> None:
    keys = [s.get_attribute("id").removeprefix("distribution-") for s in page.locator("section").all()]
    groups = sorted(
        set(
            RegionResult.objects.filter(
                run__cycle__slug=CYCLE, run__is_current=True, participant=True
            ).values_list("group", flat=True)
        )
    )
    assert keys[0] == "all" and sorted(keys[1:]) == groups, keys
    for key in keys:
        chart = page.locator(f"#distribution-{key} svg.boxplot[role=img]")
        assert chart.count() == 1 and chart.get_attribute("aria-label"), key
        heading = page.locator(f"#distribution-{key} h2").inner_text()
        assert f"{len(_stored('final', None if key == 'all' else key))} region" in heading, heading
        for score in CHOSEN:
            _check_score(page, key, score)
    assert page.evaluate(CLIPPED) == []


def test_the_coordinator_reads_the_distribution_on_a_desktop(transactional_db, page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    _open(page, live_server, passwords[COORDINATOR])
    _check_page(page)
    screenshot(page, "desktop-en-peers-distribution")


def test_the_distribution_fits_a_phone(transactional_db, phone_page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    _open(phone_page, live_server, passwords[COORDINATOR])
    _check_page(phone_page)
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    for chart in phone_page.locator("svg.boxplot").all():
        chart.scroll_into_view_if_needed()
        box = chart.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= window + 0.5, box
    screenshot(phone_page, "phone-en-peers-distribution")
    # In Indonesian (longer words, a decimal comma): still no sideways scroll.
    phone_page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "id", "url": live_server.url}]
    )
    phone_page.reload()
    assert phone_page.evaluate("document.documentElement.lang") == "id"
    with translation.override("id"):
        median = number(_expected(_stored("final"))["median"])
    assert "," in median
    assert phone_page.locator("#distribution-all-final td").nth(4).inner_text() == median
    assert phone_page.evaluate(CLIPPED) == []
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    screenshot(phone_page, "phone-id-peers-distribution")


def test_a_regional_admin_is_refused_and_an_anonymous_visitor_sent_to_log_in(
    transactional_db, page, live_server
):
    passwords = {login.username: login.password for login in load_demo()}
    url = f"/results/{CYCLE}/distribution/"
    response = page.goto(url)
    assert response is not None and page.url.split("?")[0].endswith("/accounts/login/")
    log_in(page, live_server, ADMIN, passwords[ADMIN])
    response = page.goto(url)
    assert response is not None and response.status == 403
    assert page.locator("svg.boxplot").count() == 0
    assert page.locator("#distribution-table-all").count() == 0
