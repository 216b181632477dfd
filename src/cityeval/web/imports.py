"""Shared handling of uploaded tables: read with the engine's reader, collect row errors.

An import either lands whole or not at all: services validate every row first and write
only when no row failed, inside one transaction.
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
from django.core.files.uploadedfile import UploadedFile

from cityeval.engine import InputError, read_table
from cityeval.engine.tables import ROW

MAX_ROW_ERRORS = 50


@dataclass
class RowErrors:
    """Errors found in an uploaded table, each naming its row and column."""

    errors: list[str] = field(default_factory=list)

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.errors) < MAX_ROW_ERRORS:
            where = ", ".join(
                p for p in (f"row {row}" if row else "", f"column '{column}'" if column else "") if p
            )
            self.errors.append(f"{where}: {message}" if where else message)

    def __bool__(self) -> bool:
        return bool(self.errors)


class ImportRejected(Exception):
    """Nothing was saved; ``errors`` says why, row by row."""

    def __init__(self, errors: list[str]) -> None:
        self.errors = errors
        super().__init__("; ".join(errors))


def read_upload(upload: UploadedFile) -> pl.DataFrame:
    """Read an uploaded CSV or XLSX (told apart by content) into a table of text columns."""
    suffix = Path(upload.name or "upload").suffix[:10]
    with tempfile.NamedTemporaryFile(suffix=suffix) as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
        handle.flush()
        try:
            return read_table(handle.name)
        except InputError as exc:
            raise ImportRejected([str(InputError(exc.reason, row=exc.row, column=exc.column))]) from None


def cell(row: dict, column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


__all__ = ["ROW", "ImportRejected", "RowErrors", "cell", "read_upload"]
