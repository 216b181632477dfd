"""Bounds on what a reader accepts, checked on the bytes before any parser sees them.

An uploaded table can be small on the wire and huge once read: an XLSX is a zip, and a
1.4 MB file can unpack to 315 MB of sheet XML; a CSV header can declare millions of columns.
:func:`check_bytes` refuses such files from what they declare about themselves (the zip's
central directory, the sheet's ``<dimension>``, the CSV header line), at a cost that does not
grow with the unpacked size; the readers then load at most ``max_rows + 1`` rows, so a file
that does not declare its size honestly is still stopped after the limit.

Callers choose the limits (:class:`ReadLimits`); the engine reads no settings. The defaults
suit the command line and the benchmarks (a million survey responses); the web app passes its
own, smaller ones.
"""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass
from typing import IO, Literal

from cityeval.engine.errors import InputError

__all__ = [
    "DEFAULT_LIMITS",
    "LimitError",
    "ReadLimits",
    "check_bytes",
    "check_csv_header",
    "check_size",
    "check_zip",
]

MB = 1024 * 1024
_ZIP_MAGIC = b"PK\x03\x04"
_CENTRAL_ENTRY = b"PK\x01\x02"
# Below this unpacked size the compression ratio is not worth refusing: small sheets of
# repeated values compress very well and cost nothing to read.
_RATIO_FLOOR = 8 * MB
_DIMENSION = re.compile(rb"<(?:\w+:)?dimension\s+ref=\"([A-Z]+)(\d+)(?::([A-Z]+)(\d+))?\"")
_SHEET = re.compile(rb"<(?:\w+:)?sheet\b[^>]*?\br:id=\"([^\"]+)\"")
_RELATION = re.compile(rb"<Relationship\b[^>]*>")
_HEAD = 16 * 1024
_CHUNK = 1024 * 1024

Limit = Literal["size", "unpacked", "ratio", "members", "rows", "columns"]


@dataclass(frozen=True)
class ReadLimits:
    """What one read may cost. Sizes in bytes; ``max_ratio`` is unpacked ÷ packed size."""

    max_bytes: int = 256 * MB
    max_unpacked_bytes: int = 1024 * MB
    max_ratio: float = 100.0
    max_members: int = 10_000
    max_rows: int = 2_000_000
    max_columns: int = 2_000


DEFAULT_LIMITS = ReadLimits()


class LimitError(InputError):
    """A file is over one of the :class:`ReadLimits`: ``limit`` names which, ``allowed`` is its
    value and ``found`` what the file has (or declares), so callers can word the refusal."""

    def __init__(self, limit: Limit, *, allowed: float, found: float, source: str | None = None) -> None:
        self.limit = limit
        self.allowed = allowed
        self.found = found
        super().__init__(_describe(limit, allowed, found), source=source)

    def with_source(self, source: str) -> LimitError:
        return LimitError(self.limit, allowed=self.allowed, found=self.found, source=source)


def _describe(limit: Limit, allowed: float, found: float) -> str:
    mb = f"{allowed / MB:g} MB"
    return {
        "size": f"the file is larger than the limit of {mb}",
        "unpacked": f"the spreadsheet unpacks to {found / MB:.0f} MB, over the limit of {mb}",
        "ratio": f"the spreadsheet is compressed {found:.0f} times, over the limit of {allowed:g}",
        "members": f"the archive holds {found:.0f} files, over the limit of {allowed:.0f}",
        "rows": f"the table has more than the limit of {allowed:.0f} rows",
        "columns": f"the table has {found:.0f} columns, over the limit of {allowed:.0f}",
    }[limit]


def check_size(size: int, limits: ReadLimits) -> None:
    """Refuse a file of ``size`` bytes over ``limits.max_bytes`` (call it before reading)."""
    if size > limits.max_bytes:
        raise LimitError("size", allowed=limits.max_bytes, found=size)


def check_bytes(data: bytes, limits: ReadLimits) -> None:
    """Every check that can be made on a whole file's bytes without parsing it."""
    check_size(len(data), limits)
    if data.startswith(_ZIP_MAGIC):
        check_zip(data, limits)
        check_sheet(data, limits)
    elif not data.startswith(b"\xd0\xcf\x11\xe0"):  # OLE (.xls) is checked after loading
        check_csv_header(data, limits)


def check_zip(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip whose central directory declares too many members, too many unpacked
    bytes in total, or a compression ratio no real spreadsheet has. Nothing is decompressed.

    A zip that cannot be opened is left for the reader to report in its own words.
    """
    # Counting directory signatures bounds the work zipfile does before it is asked anything.
    members = data.count(_CENTRAL_ENTRY)
    if members > limits.max_members:
        raise LimitError("members", allowed=limits.max_members, found=members)
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        return
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise LimitError("unpacked", allowed=limits.max_unpacked_bytes, found=unpacked)
    ratio = unpacked / max(len(data), 1)
    if unpacked > _RATIO_FLOOR and ratio > limits.max_ratio:
        raise LimitError("ratio", allowed=limits.max_ratio, found=ratio)


def check_sheet(data: bytes, limits: ReadLimits) -> None:
    """Refuse an XLSX whose first sheet declares (``<dimension ref="A1:X922001">``) or holds
    more rows, or declares more columns, than allowed.

    The declaration is read from the first few kilobytes of the sheet's XML. The rows are then
    counted on the decompressed stream, chunk by chunk, stopping once over the limit: the
    spreadsheet readers build the whole sheet whatever number of rows they are asked for, so
    a sheet that does not declare its size must be counted before it is handed to them.
    """
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            first = _first_sheet(archive)
            # When the first sheet cannot be told from the workbook, every sheet is checked.
            names = [first] if first else [n for n in archive.namelist() if n.startswith("xl/worksheets/")]
            for name in names:
                with archive.open(name) as member:
                    head = member.read(_HEAD)
                _check_declared(head, limits)
                with archive.open(name) as member:
                    _count_rows(member, limits)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError, EOFError, NotImplementedError):
        return


def _count_rows(member: IO[bytes], limits: ReadLimits) -> None:
    """Count the rows, and look for a cell or row reference beyond the limits: the readers
    allocate every cell of the rectangle up to the farthest reference, so one cell at XFD1
    in an otherwise small sheet costs gigabytes."""
    far_column = re.compile(rb'r="(' + _letters_beyond(_column_letters(limits.max_columns)) + rb")\d")
    far_row = re.compile(rb'r="[A-Z]{0,3}(\d{%d,})"' % len(str(limits.max_rows + 1)))
    rows, tail = -1, b""  # the header row is not counted
    while chunk := member.read(_CHUNK):
        text = tail + chunk
        rows += text.count(b"<row ") + text.count(b"<row>")
        if rows > limits.max_rows:
            raise LimitError("rows", allowed=limits.max_rows, found=rows)
        if column := far_column.search(text):
            found = _column_number(column.group(1).decode())
            raise LimitError("columns", allowed=limits.max_columns, found=found)
        for row in far_row.finditer(text):
            if int(row.group(1)) - 1 > limits.max_rows:
                raise LimitError("rows", allowed=limits.max_rows, found=int(row.group(1)) - 1)
        tail = text[-4:]  # shorter than a row tag, so no row is counted twice


def _check_declared(head: bytes, limits: ReadLimits) -> None:
    match = _DIMENSION.search(head)
    if not match:
        return
    last_column, last_row = (match.group(3), match.group(4)) if match.group(3) else match.group(1, 2)
    rows = int(last_row) - 1  # the header is row 1
    if rows > limits.max_rows:
        raise LimitError("rows", allowed=limits.max_rows, found=rows)
    columns = _column_number(last_column.decode())
    if columns > limits.max_columns:
        raise LimitError("columns", allowed=limits.max_columns, found=columns)


def _first_sheet(archive: zipfile.ZipFile) -> str | None:
    """The member holding the workbook's first sheet (what the readers load), via its relation."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relations = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return None
    sheet = _SHEET.search(workbook)
    if not sheet:
        return None
    for relation in _RELATION.findall(relations):
        if re.search(rb'\bId="' + re.escape(sheet.group(1)) + rb'"', relation):
            target = re.search(rb'\bTarget="([^"]+)"', relation)
            if target:
                path = target.group(1).decode()
                return path.lstrip("/") if path.startswith("/") else f"xl/{path}"
    return None


def _column_letters(number: int) -> str:
    """1 → A, 27 → AA, 300 → KN."""
    letters = ""
    while number > 0:
        number, rest = divmod(number - 1, 26)
        letters = chr(ord("A") + rest) + letters
    return letters


def _letters_beyond(letters: str) -> bytes:
    """A pattern matching the column names after ``letters`` (longer, or as long and later)."""
    options = [f"[A-Z]{{{len(letters) + 1},}}"]
    for i, letter in enumerate(letters):
        if letter < "Z":
            options.append(f"{letters[:i]}[{chr(ord(letter) + 1)}-Z][A-Z]{{{len(letters) - i - 1}}}")
    return "|".join(options).encode()


def _column_number(letters: str) -> int:
    number = 0
    for letter in letters:
        number = number * 26 + ord(letter) - ord("A") + 1
    return number


def check_csv_header(data: bytes, limits: ReadLimits) -> None:
    """Refuse a CSV whose header line has more columns than allowed, counted on the bytes.

    Separators inside quotes are counted too, so the count may be high by a few, never low.
    """
    end = data.find(b"\n")
    header = data if end < 0 else data[:end]
    columns = max(header.count(s) for s in (b",", b";", b"\t")) + 1
    if columns > limits.max_columns:
        raise LimitError("columns", allowed=limits.max_columns, found=columns)


def check_loaded(rows: int, columns: int, limits: ReadLimits) -> None:
    """After loading at most ``max_rows + 1`` rows: refuse if the limit was reached."""
    if rows > limits.max_rows:
        raise LimitError("rows", allowed=limits.max_rows, found=rows)
    if columns > limits.max_columns:
        raise LimitError("columns", allowed=limits.max_columns, found=columns)
