"""CSV for spreadsheets: text that Excel or LibreOffice would run as a formula is neutralised.

A cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read as a
formula by spreadsheet programs (CSV injection): a region named ``=HYPERLINK("http://…")``
would become a live link in the ministry's copy of a public export. Such *text* cells are
written with a leading apostrophe (``'=HYPERLINK(…)``), which spreadsheets show as plain text,
as OWASP recommends. Numbers are never touched: the check is by column type, not by the first
character of the written value, so an improvement of −0.26 stays the number ``-0.26``.

:func:`cityeval.engine.tables.read_table` removes that apostrophe again when it reads a text
cell, so an export re-scored with ``cityeval score`` keeps its region names.
"""

from __future__ import annotations

import polars as pl

__all__ = ["FORMULA_START", "spreadsheet_safe", "write_csv"]

#: A text cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_PATTERN = r"^[=+\-@\t\r]"
#: The pattern :func:`cityeval.engine.tables.read_table` uses to undo the neutralisation.
NEUTRALISED = r"^'([=+\-@\t\r])"


def spreadsheet_safe(text: str) -> str:
    """``text`` with a leading apostrophe when a spreadsheet would read it as a formula."""
    return "'" + text if text.startswith(FORMULA_START) else text


def write_csv(table: pl.DataFrame) -> str:
    """``table`` as CSV text (UTF-8, comma-separated, unrounded), text cells neutralised.

    Column names are neutralised too (they include framework codes, which a framework file
    may spell freely). Every CSV the project writes for people goes through here: the web
    app's exports, the survey template and ``cityeval score --format csv``.
    """
    text_columns = [
        name for name, dtype in table.schema.items() if dtype in (pl.String, pl.Categorical, pl.Enum)
    ]
    safe = table.with_columns(
        pl.when(pl.col(name).cast(pl.String).str.contains(_PATTERN))
        .then(pl.lit("'") + pl.col(name).cast(pl.String))
        .otherwise(pl.col(name).cast(pl.String))
        .alias(name)
        for name in text_columns
    )
    return safe.rename({name: spreadsheet_safe(name) for name in safe.columns}).write_csv()
