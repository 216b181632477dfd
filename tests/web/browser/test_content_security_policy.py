"""In Chromium, under the Content-Security-Policy: nothing on the pages is blocked, the API docs
render from the site's own files with no network beyond the site, and the language switcher
(the one script) still works."""

from __future__ import annotations

from urllib.parse import urlsplit

from tests.helpers.web import PASSWORD


def _watch(page) -> tuple[list[str], list[str]]:
    """Console messages about the policy, and every host the page requested."""
    violations: list[str] = []
    hosts: list[str] = []
    page.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    page.on("request", lambda r: hosts.append(urlsplit(r.url).netloc))
    return violations, hosts


def test_the_api_docs_render_offline_under_the_policy(page, live_server, coordinator, login):
    """Before the fix /api/docs loaded Swagger UI from a CDN: blank without internet."""
    login(page, live_server, "coordinator", PASSWORD)
    violations, hosts = _watch(page)
    page.goto("/api/docs")
    page.wait_for_selector(".swagger-ui .info .title")
    assert "cityeval API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.locator(".opblock").count() > 10  # the operations from /api/openapi.json
    assert violations == []
    assert set(hosts) == {urlsplit(live_server.url).netloc}


def test_pages_raise_no_policy_violation_and_the_language_switch_works(page, live_server, coordinator, login):
    violations, _hosts = _watch(page)
    login(page, live_server, "coordinator", PASSWORD)
    assert page.locator("h1").inner_text() == "Evaluation cycles"
    assert not page.locator("form.lang button").is_visible()  # site.js submits on change instead
    with page.expect_navigation():
        page.select_option("#language", "id")  # submitted by site.js, no inline handler
    assert page.locator("html").get_attribute("lang") == "id"
    assert violations == []
