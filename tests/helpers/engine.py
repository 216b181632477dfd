"""What engine tests share: the small framework file the tests build variants of."""

from __future__ import annotations

from pathlib import Path

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
TINY = (DATA / "tiny.yaml").read_text(encoding="utf-8")
