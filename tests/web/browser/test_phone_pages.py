"""Issue acceptance, in Chromium: every main page, for each role of the demo, is usable on a
390 px phone without the page itself scrolling sideways (the document is no wider than the
window; a wide table scrolls inside its own frame). Each page is also saved as a screenshot at
desktop and phone width: test-artifacts/screenshots/desktop-<language>-<role>-<page>.png and
phone-<language>-<role>-<page>.png, to look at. English is checked for every role; Indonesian
(the site's default language, whose labels run longer) for three roles at phone width.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings

from cityeval import demo
from cityeval.web.demo import load_demo
from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import PanelRegion
from cityeval.web.programmes.models import Programme
from cityeval.web.regions.models import Region
from cityeval.web.surveys.models import SurveyForm
from tests.helpers.browser import DESKTOP, PHONE, TIMEOUT_MS, log_in

WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
ITEM = "baseline.legal_basis"
INDONESIAN_ROLES = ("citizen", "koordinator", "admin.deliserdang")
# What sticks out past the phone's width, for the message: the innermost elements beyond it
# (inside a scrolling frame too: an absolutely positioned label there can escape the frame).
CULPRITS = """(limit) => {
  const over = (e) => e.getBoundingClientRect().right > limit;
  return [...document.body.querySelectorAll('*')].filter((e) => over(e) && ![...e.children].some(over))
    .slice(0, 5).map((e) => `${e.tagName.toLowerCase()}#${e.id}.${e.className}`); }"""


def _main_pages() -> dict[str, list[tuple[str, str]]]:
    """Each role's main pages, as (name, path), built from the demo's data."""
    done, trying = Cycle.objects.get(slug="gmsc-2024"), Cycle.objects.get(slug="gmsc-2025")
    home = Region.objects.get(name=demo.HOME)
    region = f"/r/{home.slug}"
    scored = PanelRegion.objects.filter(participation__cycle=done, participation__region=home).first()
    programme = Programme.objects.filter(region=home).first()
    form = SurveyForm.objects.filter(
        plan__participation__region=home, plan__participation__cycle=trying
    ).first()
    scoring = f"/panels/cycles/{done.slug}/{scored.stage}/{scored.participation.region.slug}/"
    results = [("results", "/results/"), ("national", f"/results/{done.slug}/"),
               ("region-results", f"{region}/{done.slug}/results/")]  # fmt: skip
    own = [
        ("dashboard", f"{region}/"),
        ("self-assessment", f"{region}/{trying.slug}/self-assessment/"),
        ("item", f"{region}/{trying.slug}/self-assessment/items/{ITEM}/"),
        ("people", f"/accounts/people/r/{home.slug}/"),  # after the contributor's three
        ("opds", f"{region}/opds/"),
        ("programmes", f"{region}/programmes/"),
        ("programme", f"{region}/programmes/{programme.public_id}/"),
        ("programme-new", f"{region}/programmes/new/"),
        ("survey", f"{region}/{done.slug}/survey/"),
        ("survey-plan", f"{region}/{trying.slug}/survey/plan/"),
        ("survey-quality", f"{region}/{done.slug}/survey/quality/"),
        ("survey-statistics", f"{region}/{done.slug}/survey/statistics/"),
        ("notices", "/notices/"),  # the demo's published results left the admin a notice
        ("notice-settings", "/notices/preferences/"),
        *results,
    ]
    return {
        "citizen": [
            ("home", "/"),
            ("login", "/accounts/login/"),
            *results,
            ("survey-form", f"/s/{form.token}/"),
        ],
        "koordinator": [
            ("cycles", "/cycles/"),
            ("cycle", f"/cycles/{done.slug}/"),
            ("cycle-open", f"/cycles/{trying.slug}/"),
            ("regions", "/regions/"),
            ("panels", f"/panels/cycles/{done.slug}/"),
            ("panel", f"/panels/{scored.panel.public_id}/"),
            ("consolidation", f"{scoring}consolidation/"),
            ("kkpd", "/kkpd/"),
            ("tokens", "/accounts/tokens/"),
            ("people", "/accounts/people/"),
            ("region-people", f"/accounts/people/r/{home.slug}/"),
            *results,
        ],
        "admin.deliserdang": own,
        "dinkes.deliserdang": own[:3],
        "asesor": [
            ("my-panels", "/panels/"),
            ("conflicts", "/panels/conflicts/"),
            ("scoring", scoring),
        ],
        "bpkad.deliserdang": [
            ("kkpd", f"{region}/kkpd/"),
            ("transactions", f"{region}/kkpd/transactions/"),
            ("kkpd-flags", f"{region}/kkpd/flags/"),
            ("kkpd-cards", f"{region}/kkpd/cards/"),
        ],
    }


def _context(browser: Any, live_server: Any, *, phone: bool, language: str) -> Any:
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {"viewport": DESKTOP}
    context = browser.new_context(base_url=live_server.url, locale="id-ID", **options)
    # The language switcher's cookie: the tests' settings make English the default, so the
    # Indonesian pages (the site's real default, with longer labels) are asked for explicitly.
    context.add_cookies([{"name": settings.LANGUAGE_COOKIE_NAME, "value": language, "url": live_server.url}])
    context.set_default_timeout(TIMEOUT_MS)
    return context


def _check_pages(
    browser: Any, live_server: Any, screenshot: Any, role: str, pages: list[tuple[str, str]], **how: Any
) -> list[str]:
    """The pages of ``role`` wider than a phone (``how``: phone, language, password)."""
    phone, language = how["phone"], how["language"]
    context = _context(browser, live_server, phone=phone, language=language)
    page = context.new_page()
    if role != "citizen":
        log_in(page, live_server, role, how["password"])
    too_wide = []
    for name, path in pages:
        response = page.goto(path)
        assert response is not None and response.status == 200, f"{role} {path}: {response.status}"
        assert page.evaluate("document.documentElement.lang") == language, f"{role} {path}"
        width, window = page.evaluate(WIDTH)
        # A mobile browser widens its window to fit a page that is too wide (then zooms
        # out): the window must stay the phone's 390 px, and the page within it.
        if phone and (width > window or window > PHONE["width"]):
            culprits = page.evaluate(CULPRITS, PHONE["width"])
            too_wide.append(f"{role} ({language}) {path}: {width} px in a {window} px window; {culprits}")
        screenshot(page, f"{'phone' if phone else 'desktop'}-{language}-{role}-{name}")
    context.close()
    return too_wide


def test_every_main_page_fits_a_phone_for_every_role(transactional_db, browser, live_server, screenshot):
    """Every role's pages in English at phone and desktop width; the pages of the citizen, the
    coordinator and the regional admin also in Indonesian at phone width."""
    passwords = {login.username: login.password for login in load_demo()}
    too_wide: list[str] = []
    for role, pages in _main_pages().items():
        runs = [(True, "en"), (False, "en")] + [(True, "id")] * (role in INDONESIAN_ROLES)
        for phone, language in runs:
            how = {"phone": phone, "language": language, "password": passwords.get(role)}
            too_wide += _check_pages(browser, live_server, screenshot, role, pages, **how)
    assert too_wide == [], "\n".join(too_wide)
