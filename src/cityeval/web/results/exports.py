"""Export files: CSV, XLSX and JSON of the stored tables, unrounded.

Text a spreadsheet would run as a formula is neutralised in CSV (``engine.spreadsheet``) and
written as text in XLSX; XLSX shows numbers with two decimals but keeps their full value.

The national table is in the component-level format of ``cityeval score``, so an analyst can
re-score it with the CLI and get the same finals and ranks.

The national table carries each region's stored intervals (issue 15, ``results.intervals``):
``final_lo, final_hi`` (the final's 5th and 95th percentiles over the draws), ``rank_lo,
rank_hi`` (the national rank's) and ``p_top10``, empty where the run has none; the JSON says
how they were drawn (``uncertainty``). They are read, failing closed, only where the results
are: by the coordinator, and by everyone else once the cycle is published.

The same files are made on a request (the download links) and by a background job
(``results.jobs``), which reports each ``CHUNK`` of rows written.
"""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from typing import Any

import polars as pl

from cityeval.engine.numbers import TWO_DECIMALS
from cityeval.engine.spreadsheet import write_csv
from cityeval.web.downloads import new_workbook
from cityeval.web.evaluations.models import Cycle
from cityeval.web.results.models import RegionInterval, ResultRun, RunUncertainty
from cityeval.web.results.selectors import ResultsAccess

FORMATS = ("csv", "xlsx", "json")
CHUNK = 500  # rows written between two progress reports
RowsWritten = Callable[[int], None]


def _no_report(rows: int) -> None:
    return None


INTERVAL_COLUMNS = {
    "final_lo": pl.Float64,
    "final_hi": pl.Float64,
    "rank_lo": pl.Int64,
    "rank_hi": pl.Int64,
    "p_top10": pl.Float64,
}


def _readable(access: ResultsAccess) -> ResultRun | None:
    """The run whose intervals ``access`` may read: the coordinator's always, anyone else's
    only once the cycle is published (fails closed, whatever the caller checked)."""
    if not access.is_coordinator and access.cycle.status != Cycle.Status.PUBLISHED:
        return None
    return access.run


def uncertainty_meta(access: ResultsAccess) -> dict | None:
    """How the run's intervals were drawn (draws, seed, sources, weight range), or None when
    it has none (imported, computed before them, or could not be stored)."""
    run = _readable(access)
    record = (
        None
        if run is None
        else RunUncertainty.objects.filter(run=run, reason=RunUncertainty.Reason.NONE).first()
    )
    if record is None:
        return None
    return {
        "draws": record.draws,
        "seed": record.seed,
        "sources": record.sources,
        "weight_range": record.weight_range,
        "percentiles": [5, 95],  # final_lo/final_hi and rank_lo/rank_hi over the draws
    }


def region_interval(access: ResultsAccess, region_id: int) -> dict[str, Any] | None:
    """One region's stored intervals (the columns of :data:`INTERVAL_COLUMNS`), or None where
    the run or the region has none. One query."""
    run = _readable(access)
    if run is None:
        return None
    return RegionInterval.objects.filter(run=run, region_id=region_id).values(*INTERVAL_COLUMNS).first()


def with_intervals(access: ResultsAccess, table: pl.DataFrame) -> pl.DataFrame:
    """``table`` (one row per region, by name) with the run's stored intervals: ``final_lo,
    final_hi, rank_lo, rank_hi, p_top10``, unrounded, empty where the run or region has none.
    One query."""
    run = _readable(access)
    rows = (
        RegionInterval.objects.filter(run=run).values_list("region__name", *INTERVAL_COLUMNS)
        if run is not None
        else []
    )
    found = {name: values for name, *values in rows}
    empty = [None] * len(INTERVAL_COLUMNS)
    names = table["region"].to_list()
    return table.with_columns(
        pl.Series(column, [found.get(name, empty)[i] for name in names], dtype=dtype)
        for i, (column, dtype) in enumerate(INTERVAL_COLUMNS.items())
    )


def table_xlsx(table: pl.DataFrame, *, sheet: str, written: RowsWritten = _no_report) -> bytes:
    """One sheet with a header row; blanks stay blank, numbers keep full precision.

    Decimal numbers carry a two-decimal format, so a spreadsheet shows them as the pages do.
    ``written(rows)`` is told how many rows are written, every ``CHUNK`` rows and at the end.
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
        if r % CHUNK == 0:
            written(r)
    written(table.height)
    worksheet.freeze_panes(1, 1)
    worksheet.set_column(0, 0, 28)
    workbook.close()
    return out.getvalue()


def table_csv(table: pl.DataFrame, *, written: RowsWritten = _no_report) -> str:
    """``engine.spreadsheet.write_csv`` of the table, written ``CHUNK`` rows at a time (the same
    text as in one go: each chunk is written with the header, which is kept only once)."""
    header = write_csv(table.head(0))
    parts = [header]
    for start in range(0, table.height, CHUNK):
        chunk = write_csv(table.slice(start, CHUNK))
        parts.append(chunk.removeprefix(header))
        written(min(start + CHUNK, table.height))
    if table.height == 0:
        written(0)
    return "".join(parts)


def table_file(
    table: pl.DataFrame,
    *,
    fmt: str,
    filename: str,
    sheet: str,
    meta: dict[str, Any],
    key: str,
    written: RowsWritten = _no_report,
) -> tuple[bytes, str]:
    """The table as CSV, XLSX or JSON (``meta`` plus the rows under ``key``): the file's content
    and its name (``filename`` with the format's extension)."""
    if fmt == "csv":
        content: bytes | str = table_csv(table, written=written)
    elif fmt == "xlsx":
        content = table_xlsx(table, sheet=sheet, written=written)
    else:
        payload = {**meta, key: table.to_dicts()}
        content = json.dumps(payload, ensure_ascii=False, indent=1, default=str) + "\n"
        written(table.height)
    data = content.encode("utf-8") if isinstance(content, str) else content
    return data, f"{filename}.{fmt}"
