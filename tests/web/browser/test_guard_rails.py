"""Issue 11 acceptance, in a real Chromium: submitting a self-assessment shows what is still
unanswered before anything happens, and the coordinator reopens it with a written reason.

The expected "111 of 111" is Kota Medan's case as the issue reported it: a REGULER region of
GMSC 2024 answers 111 items, and none were answered."""

from __future__ import annotations

from cityeval.web.evaluations.models import Participation, StatusChange
from tests.helpers.web import PASSWORD

OVERVIEW = "/r/kota-medan/gmsc-2024/self-assessment/"


def _medan(world) -> Participation:
    return Participation.objects.get(pk=world.participation_b.pk)


def test_submit_confirmation_then_coordinator_reopens_with_a_reason(
    world, admin_b, coordinator, page, browser, live_server, login, screenshot
):
    login(page, live_server, "admin_b", PASSWORD)
    page.goto(OVERVIEW)
    with page.expect_navigation():
        page.click("#submit-form a")
    assert "111 of 111 items unanswered (0 answered)." in page.inner_text("#unfinished")
    screenshot(page, "self-assessment-submit-confirmation")
    assert _medan(world).submitted_at is None  # the page only asks
    with page.expect_navigation():
        page.click("#confirm-button")
    assert page.locator("#read-only").is_visible()
    assert _medan(world).submitted_at is not None

    coordinator_page = browser.new_context(base_url=live_server.url, locale="en-US").new_page()
    login(coordinator_page, live_server, "coordinator", PASSWORD)
    coordinator_page.goto(OVERVIEW)
    with coordinator_page.expect_navigation():
        coordinator_page.click("#reopen-link")
    # The reason is required: the browser keeps the form from being sent empty.
    coordinator_page.click("#confirm-button")
    assert coordinator_page.url.endswith("/reopen/") and _medan(world).submitted_at is not None
    coordinator_page.fill("#reason", "Dikirim tanpa jawaban; dibuka kembali atas permintaan Kota Medan.")
    screenshot(coordinator_page, "self-assessment-reopen")
    with coordinator_page.expect_navigation():
        coordinator_page.click("#confirm-button")
    assert _medan(world).submitted_at is None
    assert "Dikirim tanpa jawaban" in coordinator_page.inner_text("#status-history")
    change = StatusChange.objects.filter(participation=world.participation_b).latest("id")
    assert (change.action, change.changed_by) == ("reopen", coordinator)

    page.goto(OVERVIEW)  # the region can answer and submit again
    assert page.locator("#read-only").count() == 0 and page.locator("#submit-form").is_visible()
