"""Export files: CSV, XLSX and JSON of the stored tables, unrounded.

Text a spreadsheet would run as a formula is neutralised in CSV (``engine.spreadsheet``) and
written as text in XLSX; XLSX shows numbers with two decimals but keeps their full value.

The national table is in the component-level format of ``cityeval score``, so an analyst can
re-score it with the CLI and get the same finals and ranks.
"""

from __future__ import annotations

import io
import json
from typing import Any

import polars as pl
from django.http import HttpResponse

from cityeval.engine.numbers import TWO_DECIMALS
from cityeval.engine.spreadsheet import write_csv
from cityeval.web.downloads import file_response, new_workbook

FORMATS = ("csv", "xlsx", "json")


def table_xlsx(table: pl.DataFrame, *, sheet: str) -> bytes:
    """One sheet with a header row; blanks stay blank, numbers keep full precision.

    Decimal numbers carry a two-decimal format, so a spreadsheet shows them as the pages do.
    """
    out = io.BytesIO()
    workbook = new_workbook(out)
    worksheet = workbook.add_worksheet(sheet[:31])
    bold = workbook.add_format({"bold": True})
    two_decimals = workbook.add_format({"num_format": TWO_DECIMALS})
    worksheet.write_row(0, 0, table.columns, bold)
    for r, row in enumerate(table.iter_rows(), start=1):
        for c, value in enumerate(row):
            if isinstance(value, float):
                worksheet.write(r, c, value, two_decimals)
            elif value is not None:
                worksheet.write(r, c, value)
    worksheet.freeze_panes(1, 1)
    worksheet.set_column(0, 0, 28)
    workbook.close()
    return out.getvalue()


def table_download(
    table: pl.DataFrame, *, fmt: str, filename: str, sheet: str, meta: dict[str, Any], key: str
) -> HttpResponse:
    """The table as CSV, XLSX or JSON (``meta`` plus the rows under ``key``)."""
    if fmt == "csv":
        return file_response(write_csv(table), filename=f"{filename}.csv")
    if fmt == "xlsx":
        return file_response(table_xlsx(table, sheet=sheet), filename=f"{filename}.xlsx")
    payload = {**meta, key: table.to_dicts()}
    text = json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n"
    return file_response(text, filename=f"{filename}.json")
