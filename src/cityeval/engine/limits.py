"""Bounds on what a reader accepts, checked on the bytes before any parser sees them.

An uploaded table can be small on the wire and huge once read: an XLSX is a zip, and a
1.4 MB file can unpack to 315 MB of sheet XML; a CSV header can declare millions of columns.
:func:`check_bytes` refuses such files first from what they declare about themselves (the zip's
central directory, the sheet's ``<dimension>``, the CSV header line); a zip is then inflated
here, in chunks, to check that each part is the size it declares (the spreadsheet reader
unpacks a part to its real end) and to count the first sheet's rows and find its farthest
cell, so the work is bounded by the unpacked limit and the memory by a chunk. The readers
then load at most ``max_rows + 1`` rows.

Callers choose the limits (:class:`ReadLimits`); the engine reads no settings. The defaults
suit the command line and the benchmarks (a million survey responses); the web app passes its
own, smaller ones.
"""

from __future__ import annotations

import io
import re
import struct
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Literal

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
_OLE_MAGIC = b"\xd0\xcf\x11\xe0"
# Signature, flags, method, name and extra lengths of a local file header (30 bytes).
_LOCAL_HEADER = struct.Struct("<4s2xHH16xHH")
# A cell or row reference, however it is quoted or spaced (r = 'XFD20000'); case-insensitive
# letters, as the readers accept them.
# The lookbehind stands for \b before r: a leading literal lets the regex engine skip ahead
# to each r, five times faster than \br.
_REFERENCE_START = rb"r(?<!\wr)\s*=\s*[\"']"
_REFERENCE_BYTES = re.compile(rb"[\sA-Za-z0-9='\"]*")  # matched on the reversed end of a chunk
_SPACES = re.compile(rb"\s+")
_ZEROS = re.compile(rb"([\"'][A-Za-z]{0,3}0)0+")
_ROW = re.compile(rb"<(?:\w+:)?row[\s>/]")
_HEAD = 16 * 1024
_CHUNK = 1024 * 1024  # inflated bytes scanned at a time
_INPUT = 64 * 1024  # compressed bytes fed at a time (what zlib copies as its unconsumed tail)
_TAIL = 64
_TAIL_MAX = 64 * 1024
_PART_MAX = 4 * MB  # of the workbook and its relations, read to find the first sheet

Limit = Literal["size", "unpacked", "ratio", "members", "rows", "columns", "damaged", "unreadable", "xls"]


@dataclass(frozen=True)
class ReadLimits:
    """What one read may cost. Sizes in bytes; ``max_ratio`` is unpacked ÷ packed size."""

    max_bytes: int = 256 * MB
    max_unpacked_bytes: int = 1024 * MB
    max_ratio: float = 100.0
    max_members: int = 10_000
    max_rows: int = 2_000_000
    max_columns: int = 2_000
    # Old Excel (.xls) files are only bounded after loading; the web app refuses them.
    allow_xls: bool = True


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
        "damaged": "the file is damaged: a part is larger or smaller than it declares",
        "unreadable": "the file is not a readable spreadsheet (a damaged, encrypted or unusual zip)",
        "xls": "old Excel .xls files are not accepted: save as .xlsx or CSV",
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
    elif data.startswith(_OLE_MAGIC):
        # An old .xls is only bounded after loading, at a cost of its own (a 5 kB file can cost
        # a gigabyte before it is refused): callers that do not need it refuse it outright.
        if not limits.allow_xls:
            raise LimitError("xls", allowed=0, found=1)
    else:
        check_csv_header(data, limits)


def check_zip(data: bytes, limits: ReadLimits) -> None:
    """Refuse a zip that holds too many members, unpacks to too many bytes, or is compressed
    at a ratio no real spreadsheet has; and, for an XLSX, whose first sheet holds or declares
    more rows or columns than allowed (see :func:`check_sheet`).

    The declared sizes are checked first (nothing is unpacked for a zip that admits being a
    bomb). Then every member is inflated here, in chunks, from its local header: the
    spreadsheet reader unpacks a member to its real end whatever size it declares, so a
    member whose real size differs from its declaration is refused, and so is a zip that
    cannot be read this way (damaged, encrypted, or compressed other than stored or deflate).
    """
    # Counting directory signatures bounds the work zipfile does before it is asked anything.
    members = data.count(_CENTRAL_ENTRY)
    if members > limits.max_members:
        raise LimitError("members", allowed=limits.max_members, found=members)
    try:
        infos = zipfile.ZipFile(io.BytesIO(data)).infolist()
    except (zipfile.BadZipFile, OSError, ValueError, EOFError):
        raise LimitError("unreadable", allowed=0, found=0) from None
    unpacked = sum(info.file_size for info in infos)
    if unpacked > limits.max_unpacked_bytes:
        raise LimitError("unpacked", allowed=limits.max_unpacked_bytes, found=unpacked)
    ratio = unpacked / max(len(data), 1)
    if unpacked > _RATIO_FLOOR and ratio > limits.max_ratio:
        raise LimitError("ratio", allowed=limits.max_ratio, found=ratio)
    sheets = _sheets_to_check(data, infos)
    for info in infos:
        if info in sheets:
            _check_sheet_stream(_inflate(data, info), limits)
        else:
            for _chunk in _inflate(data, info):
                pass


def check_sheet(data: bytes, limits: ReadLimits) -> None:
    """Refuse an XLSX whose first sheet declares (``<dimension ref="A1:X922001">``) or holds
    more rows, or declares more columns, than allowed; part of :func:`check_zip`.

    The declaration is read from the first few kilobytes of the sheet's XML. The rows are then
    counted on the inflated stream, chunk by chunk, stopping once over the limit: the
    spreadsheet readers build the whole sheet whatever number of rows they are asked for, so
    a sheet that does not declare its size must be counted before it is handed to them.
    """
    check_zip(data, limits)


def _packed(data: bytes, info: zipfile.ZipInfo) -> memoryview:
    """The member's compressed bytes, found through its local header; refuses (``unreadable``)
    a cut or encrypted header, a method other than the directory's or than stored and
    deflated, and compressed bytes shorter than declared."""
    offset = info.header_offset
    header = data[offset : offset + _LOCAL_HEADER.size]
    if len(header) < _LOCAL_HEADER.size:
        raise LimitError("unreadable", allowed=0, found=0)
    magic, flags, method, name_length, extra_length = _LOCAL_HEADER.unpack(header)
    if (
        magic != _ZIP_MAGIC
        or flags & 1
        or method != info.compress_type
        or method not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED)
    ):
        raise LimitError("unreadable", allowed=0, found=0)  # damaged, encrypted or exotic
    start = offset + _LOCAL_HEADER.size + name_length + extra_length
    packed = memoryview(data)[start : start + info.compress_size]
    if len(packed) < info.compress_size:
        raise LimitError("unreadable", allowed=0, found=0)
    return packed


def _inflate(data: bytes, info: zipfile.ZipInfo) -> Iterator[bytes]:
    """The member's real content, in chunks of at most :data:`_CHUNK` bytes, read from its
    local header over its declared compressed size; refuses (``damaged``) once the content
    passes the declared unpacked size or ends short of it."""
    packed = _packed(data, info)
    size = 0
    if info.compress_type == zipfile.ZIP_STORED:  # the local header's method, as _packed checked
        if info.compress_size != info.file_size:
            raise LimitError("damaged", allowed=info.file_size, found=info.compress_size)
        for at in range(0, len(packed), _CHUNK):
            yield bytes(packed[at : at + _CHUNK])
        return
    inflater = zlib.decompressobj(-15)
    try:
        for at in range(0, len(packed), _INPUT):
            pending: bytes | memoryview = packed[at : at + _INPUT]
            while True:
                chunk = inflater.decompress(pending, _CHUNK)
                pending = inflater.unconsumed_tail
                size += len(chunk)
                if size > info.file_size:
                    raise LimitError("damaged", allowed=info.file_size, found=size)
                if chunk:
                    yield chunk
                if not pending and len(chunk) < _CHUNK:
                    break
    except zlib.error:
        raise LimitError("unreadable", allowed=0, found=0) from None
    if not inflater.eof or size != info.file_size:
        raise LimitError("damaged", allowed=info.file_size, found=size)


def _sheets_to_check(data: bytes, infos: list[zipfile.ZipInfo]) -> list[zipfile.ZipInfo]:
    """The members holding the workbook's first sheet (what the readers load), via its relation;
    every worksheet when the first cannot be told. Empty for a zip that is not an XLSX."""
    parts = {}
    for info in infos:
        if info.filename in ("xl/workbook.xml", "xl/_rels/workbook.xml.rels"):
            parts[info.filename] = _start(_inflate(data, info), _PART_MAX)
    first = _first_sheet(parts.get("xl/workbook.xml"), parts.get("xl/_rels/workbook.xml.rels"))
    if first:
        return [i for i in infos if i.filename == first]
    return [i for i in infos if i.filename.startswith("xl/worksheets/")]


def _start(chunks: Iterator[bytes], size: int) -> bytes:
    """The first ``size`` bytes or so of a member (the first sheet is named near the start)."""
    kept = b""
    for chunk in chunks:
        kept += chunk
        if len(kept) >= size:
            break
    return kept


def _check_sheet_stream(chunks: Iterator[bytes], limits: ReadLimits) -> None:
    """Count the rows, and look for a cell or row reference beyond the limits: the readers
    allocate every cell of the rectangle up to the farthest reference, so one cell at XFD1
    in an otherwise small sheet costs gigabytes. The text kept between chunks (``tail``) is
    long enough for a reference cut by the chunk boundary; rows are counted on new bytes."""
    beyond = _letters_beyond(_column_letters(limits.max_columns))
    far_column = re.compile(_REFERENCE_START + rb"(" + beyond + rb")\d")
    # Row r holds data row r - 1 (the header is row 1): r beyond max_rows + 1 is too far.
    far_row = re.compile(
        _REFERENCE_START + rb"[A-Za-z]{0,3}0*(" + _digits_beyond(limits.max_rows + 1) + rb")[\"']"
    )
    rows, tail, head = -1, b"", b""  # the header row is not counted
    for chunk in chunks:
        if len(head) < _HEAD:
            head += chunk[: _HEAD - len(head)]
            if len(head) >= _HEAD:
                _check_declared(head, limits)
        text = tail + chunk
        # Row tags do not overlap, so those ending in the new bytes are all less those in the tail.
        rows += _rows_in(text) - _rows_in(tail)
        if rows > limits.max_rows:
            raise LimitError("rows", allowed=limits.max_rows, found=rows)
        if column := far_column.search(text):
            found = _column_number(column.group(1).decode().upper())
            raise LimitError("columns", allowed=limits.max_columns, found=found)
        if row := far_row.search(text):
            # int() refuses thousands of digits; such a row is reported as infinitely far.
            number = int(row.group(1)) if len(row.group(1)) <= 12 else float("inf")
            raise LimitError("rows", allowed=limits.max_rows, found=number - 1)
        tail = _tail(text)
    if len(head) < _HEAD:
        _check_declared(head, limits)


def _rows_in(text: bytes) -> int:
    """The row tags in ``text``: counted as bytes when they are all plain ``<row `` or ``<row>``
    (what spreadsheet programs write), which is several times faster than the regex."""
    plain = text.count(b"<row ") + text.count(b"<row>")
    if plain == text.count(b"<row") and b":row" not in text:
        return plain
    return len(_ROW.findall(text))


def _tail(text: bytes) -> bytes:
    """What to keep for the next chunk: the last 64 bytes, or more when the text ends in a run
    of the bytes a reference is written with (``r = "XFD0…``), where whitespace or leading
    zeros could stretch a reference past any fixed length; such a run is kept shortened (one
    space per whitespace run, one zero per run of leading zeros), which keeps its meaning."""
    run = _REFERENCE_BYTES.match(text[::-1])
    length = run.end() if run else 0
    if length < _TAIL:
        return text[-_TAIL:]
    kept = text[max(len(text) - length - 1, 0) :]  # one byte more, for the word boundary
    return _ZEROS.sub(rb"\1", _SPACES.sub(b" ", kept))[-_TAIL_MAX:]


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


def _first_sheet(workbook: bytes | None, relations: bytes | None) -> str | None:
    """The member named by the workbook's first sheet's relation."""
    if workbook is None or relations is None:
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
    """A pattern matching the column names after ``letters`` (longer, or as long and later), in
    either case (written out: a case-insensitive regex is several times slower)."""
    options = [f"[A-Za-z]{{{len(letters) + 1},}}"]
    for i, letter in enumerate(letters):
        if letter < "Z":
            same = "".join(f"[{c}{c.lower()}]" for c in letters[:i])
            later = f"[{chr(ord(letter) + 1)}-Z{chr(ord(letter) + 1).lower()}-z]"
            options.append(f"{same}{later}[A-Za-z]{{{len(letters) - i - 1}}}")
    return "|".join(options).encode()


def _digits_beyond(number: int) -> bytes:
    """A pattern matching the numbers (without leading zeros) greater than ``number``."""
    digits = str(number)
    options = [f"[1-9]\\d{{{len(digits)},}}"]
    for i, digit in enumerate(digits):
        if digit < "9":
            options.append(f"{digits[:i]}[{int(digit) + 1}-9]\\d{{{len(digits) - i - 1}}}")
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
