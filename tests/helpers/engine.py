"""What engine tests share: the small framework file the tests build variants of, and the
columns of an item-level score table."""

from __future__ import annotations

from pathlib import Path

import polars as pl

DATA = Path(__file__).resolve().parents[1] / "engine" / "data"
TINY = (DATA / "tiny.yaml").read_text(encoding="utf-8")

# The columns of an item-level score table, as score_items reads them.
SCORE_SCHEMA = {
    "region": pl.String,
    "group": pl.String,
    "item": pl.String,
    "assessor": pl.String,
    "score": pl.Float64,
}
