"""Accessibility (issue 11, item 11): axe-core, run in Chromium on every main page each role
reaches, finds no serious or critical violation.

axe-core is the npm package pinned in package.json (``npm ci`` installs it into node_modules,
as ``make dev`` and .ci/run do); it is read from disk and evaluated in the page, so nothing is
fetched from the network. The pages are the demo's, as each demo login sees them: from the
role's home page, every page linked from it and from the pages it links to (two clicks deep),
one page per kind of page (Django's view name), downloads left out. A citizen (no login) starts
from the home page, the published results and an open survey form.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

from cityeval.web.demo import load_demo
from cityeval.web.evaluations.models import Participation
from cityeval.web.programmes.models import Programme
from cityeval.web.surveys.plans import EntryInput, PlanInput, forms_generate, plan_save
from tests.helpers.browser import DESKTOP, log_in, require_all

AXE = Path(__file__).resolve().parents[3] / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = {"serious", "critical"}
DEPTH = 2
# Not pages: downloads, actions that change state when followed, the API and evidence files.
SKIP_VIEWS = {"logout", "set_language"}
SKIP_SUFFIXES = (".pdf", ".xlsx", ".csv", ".json", ".svg", ".png", ".zip")
SKIP_PARTS = ("/api/", "/i18n/", "/evidence/", "/accounts/logout/", "/static/", "/media/")
# The published 2024 cycle first: its pages hold data (scores, responses, badges of every kind),
# where the open 2025 cycle's are mostly empty. A seed a role may not see is skipped.
SEEDS_2024 = [
    "/cycles/gmsc-2024/",
    "/panels/cycles/gmsc-2024/",
    "/r/kab-deli-serdang/gmsc-2024/self-assessment/",
    "/r/kab-deli-serdang/gmsc-2024/survey/",
    "/r/kota-medan/gmsc-2024/self-assessment/",
]
ROLES = [
    None,  # a citizen, without an account
    "koordinator",
    "admin.deliserdang",
    "dinkes.deliserdang",
    "admin.medan",
    "asesor",
    "bpkad.deliserdang",
    "inspektorat.deliserdang",
    "kkpd.dinkes.deliserdang",
]


@pytest.fixture
def axe_source() -> str:
    if not AXE.is_file():
        reason = f"axe-core not installed at {AXE}: run `npm ci` (make dev does when npm is present)"
        if require_all():
            pytest.fail(reason)
        pytest.skip(reason)
    return AXE.read_text(encoding="utf-8")


def _open_survey_form() -> str:
    """An open survey form on the demo's open 2025 cycle (the 2024 forms closed with it)."""
    participation = Participation.objects.get(cycle__slug="gmsc-2025", region__slug="kab-deli-serdang")
    e_padi = Programme.objects.get(name="E-Padi")
    plan = plan_save(
        participation=participation,
        data=PlanInput(
            target=50, demographics=True, modes={}, entries={"service": EntryInput(programme=e_padi)}
        ),
    )
    forms_generate(plan=plan)
    return f"/s/{plan.forms.get(code='service').token}/"


def _kind(path: str) -> str | None:
    """The page's kind (its view name), or None when it is not a page to check."""
    if path.endswith(SKIP_SUFFIXES) or any(part in path for part in SKIP_PARTS):
        return None
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return None if match.url_name in SKIP_VIEWS else match.view_name


def _violations(page, axe_source: str) -> list[str]:
    page.evaluate(axe_source)
    result = page.evaluate("() => axe.run(document, {resultTypes: ['violations']})")
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — {len(v['nodes'])} nodes, e.g. "
        + "; ".join(str(n["target"]) for n in v["nodes"][:3])
        for v in result["violations"]
        if v["impact"] in BLOCKING
    ]


def _check_pages(page, origin: str, seeds: list[str], axe_source: str) -> dict[str, list[str]]:
    """Pages two clicks deep from the seeds, one per kind, in the order met: each page's
    serious and critical violations."""
    checked: dict[str, list[str]] = {}
    kinds: set[str] = set()
    frontier = seeds
    for _depth in range(DEPTH + 1):
        next_frontier = []
        for path in frontier:
            kind = _kind(path)
            if kind is None or kind in kinds:
                continue
            response = page.goto(path)
            content_type = response.headers.get("content-type", "") if response else ""
            if response is None or response.status != 200 or "text/html" not in content_type:
                continue
            kinds.add(kind)
            checked[path] = _violations(page, axe_source)
            for href in page.eval_on_selector_all("a[href]", "els => els.map(e => e.href)"):
                parts = urlsplit(href)
                if f"{parts.scheme}://{parts.netloc}" == origin:
                    next_frontier.append(parts.path)
        frontier = next_frontier
    return checked


def test_axe_finds_no_serious_or_critical_violation_on_the_main_pages_of_each_role(
    browser, live_server, axe_source, screenshot
):
    """One test for every role, so that the demo is loaded once; each role in its own
    browser context. At least four kinds of page per role (three for a citizen)."""
    logins = {entry.username: entry.password for entry in load_demo()}
    survey = _open_survey_form()
    found: dict[str, list[str]] = {}
    counts = {}
    for username in ROLES:
        context = browser.new_context(base_url=live_server.url, locale="en-US", viewport=DESKTOP)
        page = context.new_page()
        if username is None:
            seeds = ["/", "/results/", "/results/gmsc-2024/", survey, "/accounts/login/"]
        else:
            log_in(page, live_server, username, logins[username])
            seeds = ["/", *SEEDS_2024]
        checked = _check_pages(page, live_server.url, seeds, axe_source)
        counts[username or "citizen"] = len(checked)
        for path, violations in checked.items():
            if violations:
                found[f"{username or 'citizen'} {path}"] = violations
                page.goto(path)
                screenshot(page, f"axe-{username or 'citizen'}-{path}")
        context.close()
    print(f"axe-core pages checked per role: {counts}")  # shown with -s
    assert all(n >= (3 if role == "citizen" else 4) for role, n in counts.items()), counts
    report = "\n".join(f"{where}\n  " + "\n  ".join(v) for where, v in found.items())
    assert not found, f"pages checked per role: {counts}; serious or critical violations:\n{report}"
