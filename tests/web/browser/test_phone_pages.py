"""Issue acceptance, in Chromium: every main page, for each role of the demo, is usable on a
390 px phone without the page itself scrolling sideways (the document is no wider than the
window; a wide table scrolls inside its own frame). Each page is also saved as a screenshot at
desktop and phone width: test-artifacts/screenshots/desktop-<role>-<page>.png and
phone-<role>-<page>.png, to look at.
"""

from __future__ import annotations

from typing import Any

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
    form = SurveyForm.objects.filter(plan__participation__region=home).first()
    results = [("results", "/results/"), ("national", f"/results/{done.slug}/"),
               ("region-results", f"{region}/{done.slug}/results/")]  # fmt: skip
    own = [
        ("dashboard", f"{region}/"),
        ("self-assessment", f"{region}/{trying.slug}/self-assessment/"),
        ("item", f"{region}/{trying.slug}/self-assessment/items/{ITEM}/"),
        ("opds", f"{region}/opds/"),
        ("programmes", f"{region}/programmes/"),
        ("programme", f"{region}/programmes/{programme.public_id}/"),
        ("survey", f"{region}/{done.slug}/survey/"),
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
            ("kkpd", "/kkpd/"),
            ("tokens", "/accounts/tokens/"),
            *results,
        ],
        "admin.deliserdang": own,
        "dinkes.deliserdang": own[:3],
        "asesor": [
            ("my-panels", "/panels/"),
            ("conflicts", "/panels/conflicts/"),
            ("scoring", f"/panels/cycles/{done.slug}/{scored.stage}/{scored.participation.region.slug}/"),
        ],
        "bpkad.deliserdang": [("kkpd", f"{region}/kkpd/"), ("transactions", f"{region}/kkpd/transactions/")],
    }


def _context(browser: Any, live_server: Any, *, phone: bool) -> Any:
    options = {"viewport": PHONE, "is_mobile": True, "has_touch": True} if phone else {"viewport": DESKTOP}
    context = browser.new_context(base_url=live_server.url, locale="id-ID", **options)
    context.set_default_timeout(TIMEOUT_MS)
    return context


def test_every_main_page_fits_a_phone_for_every_role(transactional_db, browser, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    too_wide: list[str] = []
    for role, pages in _main_pages().items():
        for phone in (True, False):
            context = _context(browser, live_server, phone=phone)
            page = context.new_page()
            if role != "citizen":
                log_in(page, live_server, role, passwords[role])
            for name, path in pages:
                response = page.goto(path)
                assert response is not None and response.status == 200, f"{role} {path}: {response.status}"
                width, window = page.evaluate(WIDTH)
                # A mobile browser widens its window to fit a page that is too wide (then zooms
                # out): the window must stay the phone's 390 px, and the page within it.
                if phone and (width > window or window > PHONE["width"]):
                    culprits = page.evaluate(CULPRITS, PHONE["width"])
                    too_wide.append(f"{role} {path}: {width} px in a {window} px window; {culprits}")
                screenshot(page, f"{'phone' if phone else 'desktop'}-{role}-{name}")
            context.close()
    assert too_wide == [], "\n".join(too_wide)
