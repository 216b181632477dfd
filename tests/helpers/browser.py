"""What browser tests share: window sizes, the wait limit, and logging in through the page."""

from __future__ import annotations

import os
from typing import Any

DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
TIMEOUT_MS = 15_000


def log_in(page: Any, live_server: Any, username: str, password: str) -> None:
    """Log in through the real login form and wait for the page it leads to."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", password)
    with page.expect_navigation():
        page.click("form:has(#id_username) [type=submit]")
    if page.url.split("?")[0].endswith("/accounts/login/"):
        errors = page.locator(".errorlist").all_inner_texts()
        raise AssertionError(f"logging in as {username!r} failed: {errors or 'still on the login page'}")


def require_all() -> bool:
    """Whether a missing browser fails the run instead of skipping it (``.ci/run`` sets it)."""
    return os.environ.get("CITYEVAL_REQUIRE_ALL", "").strip().lower() in {"1", "true", "yes", "on"}
