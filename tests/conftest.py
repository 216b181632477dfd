"""Suite-wide reporting: which database the run used, and which parts of the suite were skipped.

``make test`` runs the whole suite on SQLite, then the web tests on PostgreSQL when
``CITYEVAL_TEST_DATABASE_URL`` is set; the header names the database so a log shows which pass
it is. At the end, skipped tests are summed up by part (browser tests, a test folder) and reason,
so a skipped part is not lost among dots.
"""

from __future__ import annotations

from collections import Counter
from pathlib import PurePosixPath

import pytest

# Asserts inside the shared helpers report their values like the tests' own.
pytest.register_assert_rewrite("tests.helpers")


def pytest_report_header(config: pytest.Config) -> list[str]:
    try:
        from django.conf import settings

        db = settings.DATABASES["default"]
    except Exception as error:  # settings not configured: report rather than break the run
        return [f"database: unknown ({error})"]
    vendor = db["ENGINE"].rsplit(".", 1)[-1]
    if vendor == "sqlite3":
        return ["database: sqlite3 (the default; tests run on an in-memory database)"]
    host = f"{db.get('HOST') or 'localhost'}:{db.get('PORT') or 'default port'}"
    return [f"database: {vendor} at {host} (tests run in test_{db.get('NAME')}, created and dropped)"]


def _part(report: pytest.TestReport | pytest.CollectReport) -> str:
    if "browser" in getattr(report, "keywords", {}):
        return "browser tests"
    path = PurePosixPath(report.nodeid.split("::")[0])
    folder = path.parent if path.suffix == ".py" else path
    return f"{folder}/"


def _reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    longrepr = report.longrepr
    reason = str(longrepr[2]) if isinstance(longrepr, tuple) and len(longrepr) == 3 else str(longrepr)
    return reason.removeprefix("Skipped: ")


def pytest_terminal_summary(terminalreporter, exitstatus: int, config: pytest.Config) -> None:
    skipped = [r for r in terminalreporter.stats.get("skipped", []) if not hasattr(r, "wasxfail")]
    if not skipped:
        return
    counts = Counter((_part(r), _reason(r)) for r in skipped)
    terminalreporter.section("skipped parts", sep="=", bold=True, yellow=True)
    for (part, reason), n in sorted(counts.items()):
        tests = f"{n} test{'s' if n != 1 else ''}"
        terminalreporter.line(f"SKIPPED PARTS: {part} ({tests}): {reason}", yellow=True)
