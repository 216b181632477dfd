"""The regional admin follows up the assessors' recommendations in a real browser, on the demo's
published 2024 results: from the region's results page to its follow-up actions, an action
made from a recommendation and owned by an OPD, then moved to "in progress" with a note that
lands in its history — on a desktop, and on a phone whose page stays within its width."""

from __future__ import annotations

from typing import Any

from cityeval import demo
from cityeval.web.demo import load_demo
from cityeval.web.regions.models import Region
from cityeval.web.results.followup_models import ActionChange, FollowUpAction
from tests.helpers.browser import PHONE, log_in

ADMIN = "admin.deliserdang"
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"


def _follow_up(page: Any, live_server: Any, password: str, *, text: str, note: str) -> None:
    log_in(page, live_server, ADMIN, password)
    home = Region.objects.get(name=demo.HOME)
    page.goto(f"/r/{home.slug}/gmsc-2024/results/")
    with page.expect_navigation():
        page.click("#followup-link")
    assert page.url.endswith(f"/r/{home.slug}/follow-up/")
    assert page.locator("#no-actions").is_visible()
    with page.expect_navigation():
        page.click("#from-cycles a")
    first = page.locator("#recommendation-1")
    first.locator("textarea").fill(text)
    first.locator("select").select_option(label="Dinkes")
    with page.expect_navigation():
        first.locator("button[type=submit]").click()
    rows = page.locator("#actions tbody tr")
    assert rows.count() == 1
    assert "Planned" in rows.first.inner_text() and "Dinkes" in rows.first.inner_text()
    with page.expect_navigation():
        rows.first.locator("a").click()
    page.select_option("#id_status", "in_progress")
    page.fill("#id_note", note)
    with page.expect_navigation():
        page.click("#change-save")
    assert page.locator("#action-status").inner_text() == "In progress"
    history = page.locator("#history").inner_text()
    assert "Status Planned → In progress" in history and note in history


def _stored(text: str, note: str) -> None:
    action = FollowUpAction.objects.get()
    assert (action.text, action.status, str(action.opd)) == (text, "in_progress", "Dinkes")
    changes = list(ActionChange.objects.filter(action=action).values_list("from_status", "to_status", "note"))
    assert changes == [("", "planned", ""), ("planned", "in_progress", note)]


def test_the_admin_updates_an_action_on_a_desktop(transactional_db, page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    text, note = "Form the cross-OPD data team", "Decree drafted"
    _follow_up(page, live_server, passwords[ADMIN], text=text, note=note)
    screenshot(page, "desktop-en-followup-action")
    _stored(text, note)


def test_the_admin_updates_an_action_on_a_phone(transactional_db, phone_page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    text, note = "Publish the literacy plan", "Started with Dinkes"
    _follow_up(phone_page, live_server, passwords[ADMIN], text=text, note=note)
    width, window = phone_page.evaluate(WIDTH)
    assert width <= window <= PHONE["width"], (width, window)
    screenshot(phone_page, "phone-en-followup-action")
    _stored(text, note)


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"


def _add_evidence(page: Any, url: str) -> None:
    page.set_input_files(
        "#evidence_file", files=[{"name": "Laporan.pdf", "mimeType": "application/pdf", "buffer": PDF}]
    )
    page.fill("#evidence_url", url)
    with page.expect_navigation():
        page.click("#evidence-form button[type=submit]")


def test_a_refused_evidence_form_says_so_at_the_top_of_a_phone(
    transactional_db, phone_page, live_server, screenshot
):
    """The walkthrough's phone: the only error was far down the page and the chosen file was
    silently lost. Now the error and the lost file are summed up in view at the top; a bare
    domain is taken as an https link, with the file."""
    passwords = {login.username: login.password for login in load_demo()}
    _follow_up(phone_page, live_server, passwords[ADMIN], text="Publish the plan", note="Started")
    phone_page.fill("#evidence_note", "Laporan triwulan")
    _add_evidence(phone_page, "ftp://contoh.go.id/laporan.pdf")
    summary = phone_page.locator("#form-errors")
    box = summary.bounding_box()
    assert box is not None and box["y"] + box["height"] <= PHONE["height"], box
    text = summary.inner_text()
    assert "Link (http or https)" in text and "The file “Laporan.pdf” was not saved: choose it again." in text
    assert phone_page.input_value("#evidence_note") == "Laporan triwulan"
    screenshot(phone_page, "phone-en-followup-evidence-refused")
    _add_evidence(phone_page, "www.contoh.go.id")
    evidence = phone_page.locator("#evidence").inner_text()
    assert (
        "Laporan.pdf" in evidence
        and "https://www.contoh.go.id" in evidence
        and "Laporan triwulan" in evidence
    )
    assert phone_page.locator("#form-errors").count() == 0
