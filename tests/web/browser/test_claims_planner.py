"""The planner of the self-assessment claims (before evaluation, issue 15) in Chromium.

On the demo, Deli Serdang's admin has claimed, in the open 2025 cycle, the levels the demo
claimed in 2024 (about two thirds of the items; the rest unanswered). From the
self-assessment overview to the planner: the current claimed index, the items ranked by gain,
a simulation of a chosen set, no national rank (there is no national table before
evaluation), the action plan as XLSX — on a desktop, and on a 390 px phone without a sideways
scroll. Another region's admin gets 404.

The expected numbers are this test's own: the claims written here, as the engine's long table
(every item of the region's group, assessor "self", blank where unanswered; not through the
app's ``claims_table``), scored by ``cityeval.engine.score_items`` (mean, unscored items
skipped, as the claimed index is), once as claimed and once per change.
"""

from __future__ import annotations

import io
from typing import Any

import polars as pl
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import translation
from openpyxl import load_workbook

from cityeval import demo
from cityeval.engine import Framework, score_items
from cityeval.web.assessments.models import AnswerRevision, ItemAssignment
from cityeval.web.demo import load_demo
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.regions.models import Region
from tests.helpers.browser import log_in

ADMIN = "admin.deliserdang"
OTHER_ADMIN = "admin.medan"
CYCLE = "gmsc-2025"  # open; the demo's 2024 cycle is published, where this planner refuses
WIDTH = "[document.documentElement.scrollWidth, window.innerWidth]"
OPD = "Dinas Kesehatan"  # the OPD the test assigns the top item to


class Claims:
    """The claims this test put in place and what the engine makes of them."""

    def __init__(self, participation: Participation, levels: dict[str, float]) -> None:
        self.region = participation.region
        self.group = participation.group
        self.framework: Framework = participation.cycle.framework.framework
        self.levels = levels
        self.codes = [item.code for _component, item in self.framework.items_for(self.group)]
        self.top = float(self.framework.scale.max)  # the planner's default target

    def index(self, changes: dict[str, float] | None = None) -> float:
        """The claimed index with ``changes`` (item → level) applied."""
        levels = {**self.levels, **(changes or {})}
        n = len(self.codes)
        table = pl.DataFrame(
            {
                "region": [self.region.slug] * n,
                "group": [self.group] * n,
                "item": self.codes,
                "assessor": ["self"] * n,
                "score": [levels.get(code) for code in self.codes],
            },
            schema={
                "region": pl.String,
                "group": pl.String,
                "item": pl.String,
                "assessor": pl.String,
                "score": pl.Float64,
            },
        )
        return float(
            score_items(table, self.framework, consolidation="mean", unscored="skip").regions["final"][0]
        )

    def below(self) -> list[str]:
        """The answered items below the target level (the ones the planner ranks)."""
        return [c for c in self.codes if c in self.levels and self.levels[c] < self.top]

    def unanswered(self) -> list[str]:
        return [c for c in self.codes if c not in self.levels]

    def gain(self, item: str) -> float:
        return self.index({item: self.top}) - self.index()


def _claims() -> Claims:
    """Copy the demo's 2024 claims of Deli Serdang (levels, about two thirds of the items) into
    its open 2025 self-assessment, as its admin."""
    home = Region.objects.get(name=demo.HOME)
    admin = get_user_model().objects.get(username=ADMIN)
    before = Participation.objects.get(cycle__slug="gmsc-2024", region=home)
    now = Participation.objects.get(cycle__slug=CYCLE, region=home)
    levels: dict[str, float] = {}
    for answer in AnswerRevision.objects.filter(participation=before).order_by("item", "created_at", "id"):
        assert answer.level is not None  # the demo claims levels only
        levels[answer.item] = float(answer.level)
    for item, level in levels.items():
        AnswerRevision.objects.create(participation=now, item=item, level=level, author=admin, narrative="")
    claims = Claims(now, levels)
    assert 0 < len(levels) < len(claims.codes)  # some items are left unanswered
    return claims


def _open(page: Any, live_server: Any, password: str, claims: Claims) -> None:
    log_in(page, live_server, ADMIN, password)
    page.goto(f"/r/{claims.region.slug}/{CYCLE}/self-assessment/")
    with page.expect_navigation():
        page.click("#claims-planner-link a")
    assert page.url.split("?")[0].endswith(f"/r/{claims.region.slug}/{CYCLE}/self-assessment/planner/")


def _check_table(page: Any, claims: Claims) -> list[str]:
    """The claimed index, the items ranked by gain, and no national rank; the items listed."""
    assert page.locator("#claims-source").is_visible()
    assert page.locator("#planner-final").inner_text() == number(claims.index())
    assert page.locator("#rank-unavailable").inner_text().startswith("Not available before evaluation")
    assert page.locator("#planner-table th", has_text="New national rank").count() == 0
    below = claims.below()
    assert (
        page.locator("#planner-form p.help")
        .first.inner_text()
        .startswith(f"{len(below)} answered items are below")
    )
    rows = page.locator("#planner-table tbody tr")
    assert rows.count() == min(10, len(below))  # the default limit
    listed = page.locator("#planner-table input[name=item]").evaluate_all("boxes => boxes.map(b => b.value)")
    gains = [claims.gain(code) for code in listed]
    # Ranked by gain, the best first (equal gains compared at 9 decimals, as floating-point
    # sums of the same gain may differ in the last bits): the top gain is the best of every
    # item below the target.
    rounded = [round(gain, 9) for gain in gains]
    assert rounded == sorted(rounded, reverse=True)
    assert gains[0] == pytest.approx(max(claims.gain(code) for code in below), abs=1e-12)
    for i, code in enumerate(listed):
        cells = rows.nth(i).locator("td")
        assert cells.nth(1).inner_text() == number(gains[i], 3, signed=True), code
        assert cells.nth(2).inner_text() == number(claims.index({code: claims.top})), code
    return listed


def _simulate(page: Any, claims: Claims, chosen: list[str]) -> None:
    for code in chosen:
        page.check(f"#planner-table input[value='{code}']")
    with page.expect_navigation():
        page.click("#planner-simulate")
    together = claims.index(dict.fromkeys(chosen, claims.top))
    assert page.locator("#simulated-final").inner_text() == number(together)
    assert page.locator("#simulated-gain").inner_text() == number(together - claims.index(), 3, signed=True)
    assert page.locator("#simulated-rank").count() == 0  # no national rank before evaluation
    for code in chosen:
        assert page.locator(f"#planner-table input[value='{code}']").is_checked()


def test_the_admin_plans_from_the_claims_on_a_desktop(transactional_db, page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    claims = _claims()
    _open(page, live_server, passwords[ADMIN], claims)
    listed = _check_table(page, claims)
    assert not set(listed) & set(claims.unanswered())  # only answered items are ranked
    # the unanswered items, listed apart: their count, and each one under its component
    unanswered = claims.unanswered()
    assert page.locator("#unanswered h2").inner_text() == f"{len(unanswered)} unanswered items"
    shown = page.locator("#unanswered li code").evaluate_all("codes => codes.map(c => c.textContent)")
    assert sorted(shown) == sorted(unanswered)
    # "Simulate" with nothing chosen says what to do
    with page.expect_navigation():
        page.click("#planner-simulate")
    assert page.locator("#nothing-chosen").is_visible() and page.locator("#simulation").count() == 0
    # The best item and the next answered item of the same component (below the target): the
    # claims re-scored with both raised give the simulated index.
    component = {code: found[0].code for code, found in claims.framework.items_by_code.items()}
    same = [c for c in claims.below() if component[c] == component[listed[0]] and c != listed[0]]
    chosen = [listed[0], same[0] if same else listed[1]]
    home = claims.region
    dinkes = home.opds.get(name=OPD)
    ItemAssignment.objects.create(
        participation=Participation.objects.get(cycle__slug=CYCLE, region=home),
        item=listed[0],
        opd=dinkes,
        assigned_by=get_user_model().objects.get(username=ADMIN),
    )
    _simulate(page, claims, chosen)
    assert page.locator("#nothing-chosen").count() == 0
    assert page.locator(f"[id='plan-{listed[0]}'] td").last.inner_text() == OPD
    screenshot(page, "desktop-en-claims-planner")
    with page.expect_download() as download:
        page.click("#planner-export")
    assert download.value.suggested_filename == f"claimed-action-plan-{home.slug}-{CYCLE}.xlsx"
    with open(download.value.path(), "rb") as file:
        sheet = load_workbook(io.BytesIO(file.read())).active
    lines = list(sheet.iter_rows(values_only=True))
    header = lines[2]
    assert header[6:8] == ("Gain in claimed index", "New claimed index")
    assert "New national rank" not in header
    items = {line[1]: line for line in lines[3:] if line[1] is not None}
    together = claims.index(dict.fromkeys(chosen, claims.top))
    assert lines[-1][0] == "The 2 items of this plan together at level 4"
    assert lines[-1][6] == pytest.approx(together - claims.index(), abs=1e-9)
    assert lines[-1][7] == pytest.approx(together, abs=1e-9)
    assert sorted(items) == sorted(chosen)
    top = items[listed[0]]
    assert top[0] == OPD
    assert top[5] == claims.top
    assert top[6] == pytest.approx(claims.gain(listed[0]), abs=1e-9)
    assert top[7] == pytest.approx(claims.index({listed[0]: claims.top}), abs=1e-9)
    assert items[chosen[1]][0] == "Not assigned to an OPD"


def test_the_claims_planner_fits_a_phone(transactional_db, phone_page, live_server, screenshot):
    passwords = {login.username: login.password for login in load_demo()}
    claims = _claims()
    _open(phone_page, live_server, passwords[ADMIN], claims)
    listed = _check_table(phone_page, claims)
    _simulate(phone_page, claims, listed[:2])
    assert phone_page.locator("#simulated-final").is_visible()
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    screenshot(phone_page, "phone-en-claims-planner")
    # In Indonesian (longer words, a decimal comma): still no sideways scroll.
    phone_page.context.add_cookies(
        [{"name": settings.LANGUAGE_COOKIE_NAME, "value": "id", "url": live_server.url}]
    )
    phone_page.reload()
    assert phone_page.evaluate("document.documentElement.lang") == "id"
    with translation.override("id"):
        now, together = number(claims.index()), number(claims.index(dict.fromkeys(listed[:2], claims.top)))
    assert "," in now
    assert phone_page.locator("#planner-final").inner_text() == now
    assert phone_page.locator("#simulated-final").inner_text() == together
    assert not phone_page.locator("#rank-unavailable").inner_text().startswith("Not available")
    scroll, window = phone_page.evaluate(WIDTH)
    assert scroll <= window, (scroll, window)
    screenshot(phone_page, "phone-id-claims-planner")


def test_another_region_s_admin_gets_404(transactional_db, page, live_server):
    passwords = {login.username: login.password for login in load_demo()}
    claims = _claims()
    log_in(page, live_server, OTHER_ADMIN, passwords[OTHER_ADMIN])
    for suffix in ("", "action-plan.xlsx"):
        response = page.goto(f"/r/{claims.region.slug}/{CYCLE}/self-assessment/planner/{suffix}")
        assert response is not None and response.status == 404, suffix
    assert page.locator("#planner-table").count() == 0
