"""Start-up cost: `cityeval frameworks` and `cityeval score` load only what they use.

bench/bench_startup.py times them; this keeps the reason they are fast from eroding. Each
command runs in a fresh process, which then lists the heavy modules it loaded."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

TABLE = Path(__file__).parents[1] / "engine" / "data" / "gmsc-2022-kppn-results.csv"
HEAVY = (
    "numpy",
    "scipy",
    "xlsxwriter",
    "django",
    "cityeval.engine.agreement",
    "cityeval.engine.kkpd",
    "cityeval.engine.report",
    "cityeval.engine.survey",
    "cityeval.engine.uncertainty",
)


def _loaded_after(*argv: str, heavy: tuple[str, ...] = HEAVY) -> list[str]:
    code = (
        "import contextlib, io, sys\n"
        "from cityeval.cli import main\n"
        f"with contextlib.redirect_stdout(io.StringIO()): code = main({list(argv)!r})\n"
        f"print(code, sorted(m for m in {heavy!r} if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    status, _, loaded = out.stdout.strip().partition(" ")
    assert status == "0", out.stderr
    return ast.literal_eval(loaded)


def test_listing_frameworks_loads_none_of_the_heavy_modules():
    assert _loaded_after("frameworks") == []


def test_scoring_the_2022_table_loads_none_of_the_heavy_modules():
    assert _loaded_after("score", str(TABLE), "--framework", "gmsc-2022", "--group", "KPPN_IKN") == []


def test_the_check_sees_a_heavy_module_when_one_is_loaded():
    """The survey command does load the survey engine: the check can fail."""
    assert "cityeval.engine.survey" in _loaded_after("survey", "forms", "--framework", "gmsc-2024")


def test_scoring_into_a_csv_file_does_not_load_rich(tmp_path):
    """rich draws the tables printed on a terminal; a command that writes a file has none to draw."""
    out = tmp_path / "scores.csv"
    argv = ("score", str(TABLE), "--framework", "gmsc-2022", "--group", "KPPN_IKN", "--format", "csv")
    assert _loaded_after(*argv, "-o", str(out), heavy=("rich",)) == []
    assert out.read_text().startswith("region")


def test_printing_the_scores_as_a_table_loads_rich():
    """The same check sees rich when the command prints a table: it can fail."""
    argv = ("score", str(TABLE), "--framework", "gmsc-2022", "--group", "KPPN_IKN")
    assert _loaded_after(*argv, heavy=("rich",)) == ["rich"]
