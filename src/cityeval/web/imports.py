"""Shared handling of uploaded tables: read with the engine's reader, collect row errors.

An import either lands whole or not at all: services validate every row first and write
only when no row failed, inside one transaction. Uploads are bounded before they are parsed
(size, unpacked size, rows, columns: the ``IMPORT_*`` settings); a refused import is answered
with :data:`REFUSED_STATUS`.
"""

from __future__ import annotations

import polars as pl
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from cityeval.engine import InputError, read_table
from cityeval.engine.limits import MB, LimitError, ReadLimits, check_size
from cityeval.engine.tables import ROW
from cityeval.web.engine_errors import input_error_text, where
from cityeval.web.refusals import Refused

MAX_ROW_ERRORS = 50
# Every import view answers a refused file with this status (the page still shows why).
REFUSED_STATUS = 400


class RowErrors:
    """Errors found in an uploaded table, each naming its row and column. The first
    :data:`MAX_ROW_ERRORS` are kept; the rest are counted and summed up in one line."""

    def __init__(self) -> None:
        self.shown: list[str] = []
        self.more = 0

    def add(self, row: int | None, column: str | None, message: str) -> None:
        if len(self.shown) >= MAX_ROW_ERRORS:
            self.more += 1
            return
        place = where(row, column)
        self.shown.append(f"{place}: {message}" if place else message)

    @property
    def errors(self) -> list[str]:
        if not self.more:
            return list(self.shown)
        more = ngettext("… and %(n)d more error", "… and %(n)d more errors", self.more) % {"n": self.more}
        return [*self.shown, more]

    def __bool__(self) -> bool:
        return bool(self.shown)


class ImportRejected(Refused):
    """Nothing was saved; ``errors`` says why, row by row (a list, unlike the field mapping of
    other refusals)."""

    status = REFUSED_STATUS

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(str(e) for e in errors))
        self.errors = errors


def table_limits() -> ReadLimits:
    """The bounds on an uploaded table (regions, participants, assignments, history)."""
    return ReadLimits(
        max_bytes=settings.IMPORT_MAX_MB * MB,
        max_unpacked_bytes=settings.IMPORT_MAX_UNPACKED_MB * MB,
        max_ratio=settings.IMPORT_MAX_RATIO,
        max_rows=settings.IMPORT_MAX_ROWS,
        max_columns=settings.IMPORT_MAX_COLUMNS,
        allow_xls=False,  # the forms offer CSV or XLSX; an .xls is only bounded after loading
    )


def survey_limits() -> ReadLimits:
    """The bounds on an uploaded survey export (one form of one region's survey)."""
    return ReadLimits(
        max_bytes=settings.SURVEY_IMPORT_MAX_MB * MB,
        max_unpacked_bytes=settings.SURVEY_IMPORT_MAX_UNPACKED_MB * MB,
        max_ratio=settings.IMPORT_MAX_RATIO,
        max_rows=settings.SURVEY_IMPORT_MAX_ROWS,
        max_columns=settings.SURVEY_IMPORT_MAX_COLUMNS,
        allow_xls=False,
    )


def limit_message(exc: LimitError) -> str:
    """The refusal of a file over a limit, in the page's language, naming the limit."""
    allowed, found = exc.allowed, exc.found
    if exc.limit == "size":
        return _("The file is larger than the limit of %(n)s MB.") % {"n": f"{allowed / MB:g}"}
    if exc.limit == "unpacked":
        return _("The spreadsheet unpacks to %(found)d MB, over the limit of %(n)s MB.") % {
            "found": found // MB,
            "n": f"{allowed / MB:g}",
        }
    if exc.limit == "ratio":
        return _("The spreadsheet is compressed %(found)d times, over the limit of %(n)d.") % {
            "found": found,
            "n": allowed,
        }
    if exc.limit == "members":
        message = _("The archive holds %(found)d files, over the limit of %(n)d.")
        return message % {"found": found, "n": allowed}
    if exc.limit == "damaged":
        return _("The file is damaged: a part is larger or smaller than it declares.")
    if exc.limit == "unreadable":
        return _("The file is not a readable spreadsheet (a damaged, encrypted or unusual zip).")
    if exc.limit == "xls":
        return _("Old Excel .xls files are not accepted: save the file as .xlsx or CSV.")
    if exc.limit == "rows":
        return _("The table has more rows than the limit of %(n)d.") % {"n": allowed}
    return _("The table has %(found)d columns, over the limit of %(n)d.") % {"found": found, "n": allowed}


def read_upload(upload: UploadedFile, *, limits: ReadLimits | None = None) -> pl.DataFrame:
    """Read an uploaded CSV or XLSX (told apart by content) into a table of text columns,
    refusing it (ImportRejected) when it is over ``limits`` (default :func:`table_limits`)."""
    limits = limits or table_limits()
    try:
        data = upload_bytes(upload, limits)
    except LimitError as exc:
        raise ImportRejected([limit_message(exc)]) from None
    return read_bytes(data, limits=limits)


def read_bytes(data: bytes, *, limits: ReadLimits | None = None) -> pl.DataFrame:
    """Read a CSV or XLSX file's bytes (an upload, or one stored for a job) into a table of text
    columns, refusing it (ImportRejected) when it is over ``limits`` (default
    :func:`table_limits`)."""
    limits = limits or table_limits()
    try:
        return read_table(data, limits=limits)
    except LimitError as exc:
        raise ImportRejected([limit_message(exc)]) from None
    except InputError as exc:
        raise ImportRejected([input_error_text(exc)]) from None


def upload_bytes(upload: UploadedFile, limits: ReadLimits) -> bytes:
    """The upload's bytes; raises LimitError, before reading, when it is over ``limits.max_bytes``
    (and after reading at most one byte more, should the declared size be wrong)."""
    check_size(upload.size or 0, limits)
    data = upload.read(limits.max_bytes + 1)
    check_size(len(data), limits)
    return data


def cell(row: dict, column: str) -> str:
    value = row.get(column)
    return "" if value is None else str(value).strip()


__all__ = [
    "REFUSED_STATUS",
    "ROW",
    "ImportRejected",
    "RowErrors",
    "cell",
    "limit_message",
    "read_bytes",
    "read_upload",
    "survey_limits",
    "table_limits",
    "upload_bytes",
]
