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
import xlsxwriter
from django.http import HttpResponse

from cityeval.engine.numbers import TWO_DECIMALS
from cityeval.engine.spreadsheet import write_csv

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
}
FORMATS = tuple(CONTENT_TYPES)


def xlsx_bytes(table: pl.DataFrame, *, sheet: str) -> bytes:
    """One sheet with a header row; blanks stay blank, numbers keep full precision.

    Decimal numbers carry a two-decimal format, so a spreadsheet shows them as the pages do.
    """
    out = io.BytesIO()
    workbook = xlsxwriter.Workbook(
        # Names typed by users must stay text: "=HYPERLINK(...)" is not run as a formula, and
        # "external:\\host\share\x.exe" or "https://..." is not turned into a live link.
        out,
        {
            "in_memory": True,
            "nan_inf_to_errors": True,
            "strings_to_formulas": False,
            "strings_to_urls": False,
        },
    )
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


def download(content: bytes | str, *, fmt: str, filename: str) -> HttpResponse:
    data = content.encode("utf-8") if isinstance(content, str) else content
    response = HttpResponse(data, content_type=CONTENT_TYPES.get(fmt, "application/octet-stream"))
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def table_download(
    table: pl.DataFrame, *, fmt: str, filename: str, sheet: str, meta: dict[str, Any], key: str
) -> HttpResponse:
    """The table as CSV, XLSX or JSON (``meta`` plus the rows under ``key``)."""
    if fmt == "csv":
        return download(write_csv(table), fmt=fmt, filename=f"{filename}.csv")
    if fmt == "xlsx":
        return download(xlsx_bytes(table, sheet=sheet), fmt=fmt, filename=f"{filename}.xlsx")
    payload = {**meta, key: table.to_dicts()}
    text = json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n"
    return download(text, fmt="json", filename=f"{filename}.json")
