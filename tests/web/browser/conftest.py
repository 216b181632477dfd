"""Browser tests: a real Chromium, driven by Playwright, against pytest-django's live server.

Every test in this folder is marked ``browser`` (``-m "not browser"`` leaves them out). Chromium
is Debian's, at /usr/bin/chromium or ``CHROMIUM_PATH``; Playwright never downloads a browser.
When Chromium or the playwright package is missing the tests are skipped with the reason, or
fail when ``CITYEVAL_REQUIRE_ALL=1`` (as in ``.ci/run``).

Fixtures: ``browser`` (one Chromium per session), ``page`` (a fresh desktop context per test,
its base URL the live server), ``phone_page`` (390x844, mobile), ``screenshot(page, name)``
(PNG in test-artifacts/screenshots/) and ``login(page, live_server, username, password)``.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.browser import DESKTOP, PHONE, TIMEOUT_MS, log_in, require_all

# Playwright's sync API keeps an asyncio event loop in this thread; Django's ORM refuses to run
# where a loop is running unless told that this is safe (it is: one thread, no coroutines).
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
# The live server listens on the loopback address only.
os.environ.setdefault("DJANGO_LIVE_TEST_SERVER_ADDRESS", "127.0.0.1")

HERE = Path(__file__).resolve().parent
CHROMIUM_PATH = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
_FAILED = pytest.StashKey[bool]()  # set on each browser test: did its call phase fail?


def missing_reason() -> str | None:
    """Why browser tests cannot run here, or None when they can."""
    if importlib.util.find_spec("playwright") is None:
        return "playwright package not installed: browser tests skipped (run `make dev`)"
    if not (os.path.isfile(CHROMIUM_PATH) and os.access(CHROMIUM_PATH, os.X_OK)):
        return f"Chromium not found at {CHROMIUM_PATH}: browser tests skipped"
    return None


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects by marker
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    reason = missing_reason()
    for item in items:
        if HERE not in item.path.parents:
            continue
        item.add_marker(pytest.mark.browser)
        if reason and not require_all():
            item.add_marker(pytest.mark.skip(reason=reason))


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[Any]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = missing_reason()
    if reason:
        if require_all():
            pytest.fail(f"{reason.split(':')[0]}, and CITYEVAL_REQUIRE_ALL=1 requires the browser tests")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM_PATH, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts_dir(pytestconfig: pytest.Config) -> Path:
    path = pytestconfig.rootpath / "test-artifacts" / "screenshots"
    path.mkdir(parents=True, exist_ok=True)
    return path


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-")[:150]


def _new_page(
    browser: Any, live_server: Any, request: pytest.FixtureRequest, artifacts: Path, **options: Any
) -> Iterator[Any]:
    context = browser.new_context(base_url=live_server.url, locale="en-US", **options)
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    yield page
    if request.node.stash.get(_FAILED, False):
        with contextlib.suppress(Exception):  # the page may be gone; the failure is what matters
            page.screenshot(path=str(artifacts / f"FAILED-{_slug(request.node.nodeid)}.png"), full_page=True)
    context.close()


@pytest.fixture
def page(browser, live_server, request, artifacts_dir) -> Iterator[Any]:
    """A page in a fresh desktop browser context; relative URLs go to the live server."""
    yield from _new_page(browser, live_server, request, artifacts_dir, viewport=DESKTOP)


@pytest.fixture
def phone_page(browser, live_server, request, artifacts_dir) -> Iterator[Any]:
    """A page in a fresh phone-sized context (390x844, mobile, touch)."""
    yield from _new_page(
        browser, live_server, request, artifacts_dir, viewport=PHONE, is_mobile=True, has_touch=True
    )


@pytest.fixture
def screenshot(artifacts_dir) -> Callable[[Any, str], Path]:
    """``screenshot(page, name)`` saves the full page as test-artifacts/screenshots/<name>.png."""

    def take(page: Any, name: str) -> Path:
        path = artifacts_dir / f"{_slug(name)}.png"
        page.screenshot(path=str(path), full_page=True)
        return path

    return take


@pytest.fixture
def login() -> Callable[[Any, Any, str, str], None]:
    """``login(page, live_server, username, password)``: log in through the login page."""
    return log_in


@pytest.fixture(autouse=True)
def _committed_data(transactional_db):
    """The live server answers from its own thread: the tests' data must be committed for it
    (a plain ``db`` test keeps its data in an open transaction)."""
