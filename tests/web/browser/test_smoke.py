"""Smoke test of the browser harness: a coordinator logs in through the real page in Chromium."""

from __future__ import annotations

from tests.helpers.web import PASSWORD


def test_a_coordinator_logs_in_and_lands_on_the_cycles(
    page, phone_page, live_server, coordinator, login, screenshot
):
    login(page, live_server, "coordinator", PASSWORD)

    assert page.url == f"{live_server.url}/cycles/"
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").inner_text() == "Evaluation cycles"
    assert "GMSC 2024" in page.locator("table").inner_text()
    assert screenshot(page, "login-coordinator").stat().st_size > 0

    phone_page.goto("/accounts/login/")
    assert phone_page.locator("h1").inner_text() == "Log in"
    assert phone_page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    screenshot(phone_page, "login-phone")


def test_the_stylesheet_is_served(transactional_db, page):
    response = page.goto("/static/cityeval/site.css")
    assert response is not None and response.status == 200
