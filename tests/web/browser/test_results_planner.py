"""The regional admin's planner in a real browser, on the demo's published 2024 results: from
the region's results page to the planner, a simulation of the two best items, and the action
plan download — on a desktop, and on a phone with JavaScript off (the page needs none)."""

from __future__ import annotations

import io
from typing import Any

from openpyxl import load_workbook

from cityeval import demo
from cityeval.engine.whatif import simulate
from cityeval.web.demo import load_demo
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.regions.models import Region
from cityeval.web.results.planner import planner_input
from cityeval.web.results.selectors import current_run
from tests.helpers.browser import PHONE, TIMEOUT_MS, log_in

ADMIN = "admin.deliserdang"
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
# An element's text line by line, as drawn (each character placed by its box's top).
LINES = """(e) => { const lines = new Map(); const walk = document.createTreeWalker(e, NodeFilter.SHOW_TEXT);
  for (let n = walk.nextNode(); n; n = walk.nextNode()) for (let i = 0; i < n.length; i++) {
    const r = document.createRange(); r.setStart(n, i); r.setEnd(n, i + 1);
    const top = Math.round(r.getBoundingClientRect().top);
    lines.set(top, (lines.get(top) || "") + n.data[i]); }
  return [...lines.keys()].sort((a, b) => a - b).map((k) => lines.get(k)); }"""


def _expected(items: list[str]) -> tuple[str, int | None]:
    """The engine's final (as the page prints it, English) and rank with ``items`` at 4."""
    cycle = Cycle.objects.get(slug="gmsc-2024")
    run = current_run(cycle)
    assert run is not None
    final, rank = simulate(
        planner_input(run), cycle.framework.framework, region=demo.HOME, changes=dict.fromkeys(items, 4.0)
    )
    return number(final), rank


def _plan_and_simulate(page: Any, live_server: Any, password: str) -> list[str]:
    log_in(page, live_server, ADMIN, password)
    home = Region.objects.get(name=demo.HOME)
    page.goto(f"/r/{home.slug}/gmsc-2024/results/")
    with page.expect_navigation():
        page.click("#planner-link")
    assert page.url.split("?")[0].endswith(f"/r/{home.slug}/gmsc-2024/results/planner/")
    rows = page.locator("#planner-table tbody tr")
    assert rows.count() == 10  # the default limit
    boxes = page.locator("#planner-table input[type=checkbox]")
    chosen = [boxes.nth(0).get_attribute("value"), boxes.nth(1).get_attribute("value")]
    boxes.nth(0).check()
    boxes.nth(1).check()
    with page.expect_navigation():
        page.click("#planner-simulate")
    final, rank = _expected(chosen)
    assert page.locator("#simulated-final").inner_text() == final
    assert page.locator("#simulated-rank").inner_text().startswith(f"{rank} of ")
    for code in chosen:
        assert page.locator(f"#planner-table input[value='{code}']").is_checked()
    return [c for c in chosen if c]


def test_the_admin_plans_and_simulates_on_a_desktop(transactional_db, page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    chosen = _plan_and_simulate(page, live_server, passwords[ADMIN])
    screenshot(page, "desktop-en-planner")
    with page.expect_download() as download:
        page.click("#planner-export")
    assert download.value.suggested_filename.endswith(".xlsx")
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    items = [row[1] for row in list(sheet.iter_rows(values_only=True))[3:] if row[1] is not None]
    assert sorted(items) == sorted(chosen)


def test_the_planner_works_on_a_phone_without_javascript(
    transactional_db, browser, live_server, phone_page, screenshot
):
    passwords = {login.username: login.password for login in load_demo()}
    context = browser.new_context(
        base_url=live_server.url, locale="en-US", viewport=PHONE, is_mobile=True, has_touch=True,
        java_script_enabled=False,
    )  # fmt: skip
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    try:
        _plan_and_simulate(page, live_server, passwords[ADMIN])
        simulated = page.url
    finally:
        context.close()
    # The same page, measured (which needs JavaScript), stays within the phone's width.
    log_in(phone_page, live_server, ADMIN, passwords[ADMIN])
    phone_page.goto(simulated)
    assert phone_page.locator("#simulated-final").is_visible()
    width, window = phone_page.evaluate(WIDTH)
    assert width <= window <= PHONE["width"], (width, window)
    # Each item is named by its readable name; its code, small below, breaks only after a dot or
    # an underscore (the walkthrough saw "output.regulatio/n").
    codes = phone_page.locator("#planner-table .item-code")
    assert codes.count() == 10
    for k in range(codes.count()):
        lines = codes.nth(k).evaluate(LINES)
        assert all(line.endswith((".", "_")) for line in lines[:-1]), lines
    screenshot(phone_page, "phone-en-planner")
