"""Test modules share helpers through ``tests/helpers`` (or fixtures), never by importing a
``conftest`` or another test module: pytest loads those itself, and importing one runs a test
module's code a second time and ties test files together by accident."""

from __future__ import annotations

import ast
from pathlib import Path

TESTS = Path(__file__).parent


def _offending_imports(source: str) -> list[tuple[int, str]]:
    """(line, module) of each import of a conftest or a test module in ``source``."""
    found = []
    for node in ast.walk(ast.parse(source)):
        names = [node.module or ""] if isinstance(node, ast.ImportFrom) else []
        names += [alias.name for alias in node.names] if isinstance(node, ast.Import) else []
        for name in names:
            last = name.rsplit(".", 1)[-1]
            if last == "conftest" or last.startswith("test_"):
                found.append((node.lineno, name))
    return found


def test_no_test_imports_a_conftest_or_another_test_module():
    files = sorted(TESTS.rglob("*.py"))
    assert len(files) > 50  # the walk found the suite
    offending = [
        f"{path.relative_to(TESTS.parent)}:{line}: {name}"
        for path in files
        for line, name in _offending_imports(path.read_text(encoding="utf-8"))
    ]
    assert offending == [], "move the shared helper into tests/helpers and import it from there"


def test_the_check_finds_both_spellings_and_passes_helpers():
    source = (
        "from tests.web.conftest import PASSWORD\n"
        "import tests.web.surveys.test_plan\n"
        "from tests.helpers.web import make_user\n"
    )
    assert _offending_imports(source) == [(1, "tests.web.conftest"), (2, "tests.web.surveys.test_plan")]
