"""Evidence uploads: size limit, type decided by content, SHA-256 while streaming.

The type is never taken from the file name or the browser's content type: both are chosen by
the uploader. The first bytes (and, for containers, the container's own directory) decide.
Allowed: PDF; PNG, JPEG, GIF and WebP images; Office documents (OOXML docx/xlsx/pptx, legacy
OLE2 doc/xls/ppt, OpenDocument odt/ods/odp), without macros; and CSV (UTF-8 text that the
csv module can read). Everything else is refused with a message naming what is allowed.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import struct
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import IO

import filetype
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.core.files.uploadhandler import FileUploadHandler, StopUpload
from django.utils.translation import gettext as _

from cityeval.web.refusals import Refused

HEAD_BYTES = 8192
CSV_SAMPLE_BYTES = 64 * 1024
CSV_MIN_CONSISTENT = 0.8  # share of rows with the table's usual number of fields

_SIMPLE_TYPES = {  # filetype's MIME → shown name, for formats a magic number identifies
    "application/pdf": "PDF",
    "image/png": "PNG",
    "image/jpeg": "JPEG",
    "image/gif": "GIF",
    "image/webp": "WebP",
}
_OOXML_PARTS = {
    "word/document.xml": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "DOCX"),
    "xl/workbook.xml": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "XLSX"),
    "ppt/presentation.xml": (
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "PPTX",
    ),
}
_ODF_TYPES = {
    "application/vnd.oasis.opendocument.text": "ODT",
    "application/vnd.oasis.opendocument.spreadsheet": "ODS",
    "application/vnd.oasis.opendocument.presentation": "ODP",
}
_OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_OLE_STREAMS = {  # a stream name that only this kind of document has → (MIME, name)
    "WordDocument": ("application/msword", "DOC"),
    "Workbook": ("application/vnd.ms-excel", "XLS"),
    "Book": ("application/vnd.ms-excel", "XLS"),
    "PowerPoint Document": ("application/vnd.ms-powerpoint", "PPT"),
}
_TYPE_NAMES = {
    **_SIMPLE_TYPES,
    **dict(_OOXML_PARTS.values()),
    **_ODF_TYPES,
    **dict(_OLE_STREAMS.values()),
    "text/csv": "CSV",
}
_OLE_MACRO_STORAGES = {"Macros", "_VBA_PROJECT_CUR", "VBA"}
_MARKUP_STARTS = ("<", "{", "[", "#!")  # HTML, XML, SVG, RTF, JSON, scripts


class UploadRejected(Refused):
    """The file was refused; the message says why, for the uploader."""

    status = 422


@dataclass(frozen=True)
class Inspected:
    sha256: str
    size: int
    content_type: str
    kind: str  # the name shown to people, e.g. "PDF", "XLSX"


def type_name(content_type: str) -> str:
    """The short name of a stored file's type, e.g. "XLSX" for the long OOXML MIME type."""
    return _TYPE_NAMES.get(content_type, content_type)


def max_bytes() -> int:
    return settings.EVIDENCE_MAX_MB * 1024 * 1024


def allowed_types_text() -> str:
    return _(
        "Allowed types: PDF; PNG, JPEG, GIF or WebP images; Word, Excel or PowerPoint documents "
        "(docx, xlsx, pptx, doc, xls, ppt) without macros; OpenDocument (odt, ods, odp); CSV."
    )


def too_large_text() -> str:
    return _("The file is larger than the limit of %(mb)d MB.") % {"mb": settings.EVIDENCE_MAX_MB}


def inspect_upload(upload: UploadedFile) -> Inspected:
    """Check an uploaded file and return its hash, size and detected type, or raise."""
    if upload.size is not None and upload.size > max_bytes():
        raise UploadRejected(too_large_text())  # refused before a byte is read
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    if not head:
        raise UploadRejected(_("The file is empty."))
    detected = _detect_binary(head, upload)
    digest, size, text_sample = _stream(upload, want_text=detected is None)
    if detected is None:
        _check_csv(text_sample)
        detected = ("text/csv", "CSV")
    return Inspected(sha256=digest, size=size, content_type=detected[0], kind=detected[1])


def _refuse_type(detail: str | None = None) -> UploadRejected:
    message = _("This file type is not allowed.")
    if detail:
        message = f"{message} {detail}"
    return UploadRejected(f"{message} {allowed_types_text()}")


def _detect_binary(head: bytes, upload: IO[bytes]) -> tuple[str, str] | None:
    """The (MIME, name) of a binary format, None for text, or raise for anything else."""
    if head.startswith(b"PK\x03\x04"):
        return _detect_zip(upload)
    if head.startswith(_OLE_SIGNATURE):
        return _detect_ole(upload)
    kind = filetype.guess(head)
    if kind is not None:
        if kind.mime in _SIMPLE_TYPES:
            return kind.mime, _SIMPLE_TYPES[kind.mime]
        raise _refuse_type()
    if b"\x00" in head:
        raise _refuse_type()  # binary data of an unknown kind
    return None


_MACRO_CONTENT_TYPES = (b"vbaproject", b"macroenabled", b"vnd.ms-office.activex")
_ODF_MACRO_FOLDERS = ("basic/", "scripts/")


def _has_macros(archive: zipfile.ZipFile, names: set[str]) -> bool:
    """A macro part under any name: OOXML declares it in [Content_Types].xml (whatever the
    part is called), OpenDocument keeps macros under Basic/ or Scripts/."""
    lowered = [name.lower() for name in names]
    if any(name.endswith("vbaproject.bin") or name.startswith(_ODF_MACRO_FOLDERS) for name in lowered):
        return True
    if "[Content_Types].xml" in names and archive.getinfo("[Content_Types].xml").file_size <= 1_000_000:
        declared = archive.read("[Content_Types].xml").lower()
        return any(marker in declared for marker in _MACRO_CONTENT_TYPES)
    return False


def _detect_zip(upload: IO[bytes]) -> tuple[str, str]:
    """Office Open XML and OpenDocument are zip files; any other zip is refused."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if _has_macros(archive, names):
                raise _refuse_type(_("Documents with macros are not accepted."))
            if "[Content_Types].xml" in names:
                for part, found in _OOXML_PARTS.items():
                    if part in names:
                        return found
            elif "mimetype" in names and archive.getinfo("mimetype").file_size <= 100:
                mime = archive.read("mimetype").decode("ascii", "replace").strip()
                if mime in _ODF_TYPES:
                    return mime, _ODF_TYPES[mime]
    except (zipfile.BadZipFile, EOFError, KeyError, NotImplementedError, RuntimeError):
        raise _refuse_type(_("The file looks like a damaged zip archive.")) from None
    raise _refuse_type()


def _detect_ole(upload: IO[bytes]) -> tuple[str, str]:
    """Legacy Office files are OLE2 compound files; so are installers, which are refused."""
    try:
        names = ole_entry_names(upload)
    except (ValueError, struct.error):
        raise _refuse_type(_("The file looks like a damaged Office document.")) from None
    if names & _OLE_MACRO_STORAGES:
        raise _refuse_type(_("Documents with macros are not accepted."))
    for stream, found in _OLE_STREAMS.items():
        if stream in names:
            return found
    raise _refuse_type()


_ENDOFCHAIN = 0xFFFFFFFE
_MAXREGSECT = 0xFFFFFFFA


def ole_entry_names(handle: IO[bytes]) -> set[str]:
    """The names of the storages and streams in an OLE2 compound file's directory.

    Follows [MS-CFB]: the header's DIFAT (and DIFAT sectors) lists the FAT sectors, the FAT
    chains the directory sectors, each directory sector holds 128-byte entries whose name is
    UTF-16LE. Raises ValueError on a malformed file.
    """
    handle.seek(0)
    header = handle.read(512)
    if len(header) < 512 or not header.startswith(_OLE_SIGNATURE):
        raise ValueError("not an OLE2 file")
    shift = struct.unpack_from("<H", header, 0x1E)[0]
    if shift not in (9, 12):
        raise ValueError("bad sector size")
    size = 1 << shift

    def sector(number: int) -> bytes:
        handle.seek((number + 1) * size)
        data = handle.read(size)
        if len(data) != size:
            raise ValueError("sector beyond the end of the file")
        return data

    fat = _ole_fat(header, sector, size)
    first_dir = struct.unpack_from("<I", header, 0x30)[0]
    names: set[str] = set()
    seen: set[int] = set()
    current = first_dir
    while current <= _MAXREGSECT and current not in seen:  # `seen` stops a looping chain
        seen.add(current)
        data = sector(current)
        for offset in range(0, size, 128):
            length, kind = struct.unpack_from("<HB", data, offset + 64)
            if kind in (1, 2, 5) and 2 <= length <= 64:
                names.add(data[offset : offset + length - 2].decode("utf-16-le", "replace"))
        current = fat[current] if current < len(fat) else _ENDOFCHAIN
    return names


def _ole_fat(header: bytes, sector, size: int) -> list[int]:
    """The file allocation table: the sectors the DIFAT lists, read in order."""
    per_sector = size // 4
    fat_count = struct.unpack_from("<I", header, 0x2C)[0]
    following, difat_count = struct.unpack_from("<II", header, 0x44)
    difat = list(struct.unpack_from("<109I", header, 0x4C))
    for _step in range(min(difat_count, 10_000)):  # bounded: a corrupt count cannot loop
        if following > _MAXREGSECT:
            break
        entries = struct.unpack(f"<{per_sector}I", sector(following))
        difat.extend(entries[:-1])
        following = entries[-1]
    fat: list[int] = []
    for number in [s for s in difat if s <= _MAXREGSECT][:fat_count]:
        fat.extend(struct.unpack(f"<{per_sector}I", sector(number)))
    return fat


def _stream(upload: UploadedFile, *, want_text: bool) -> tuple[str, int, str]:
    """Hash the whole file in chunks; for a text candidate, check it decodes as UTF-8 without
    NUL bytes and keep the first part for the CSV check."""
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8-sig")()
    sample = io.StringIO()
    size = 0
    for chunk in upload.chunks():
        size += len(chunk)
        if size > max_bytes():
            raise UploadRejected(too_large_text())
        digest.update(chunk)
        if want_text:
            if b"\x00" in chunk:
                raise _refuse_type()
            try:
                text = decoder.decode(chunk)
            except UnicodeDecodeError:
                raise _refuse_type(_("Text files must be CSV in UTF-8.")) from None
            if sample.tell() < CSV_SAMPLE_BYTES:
                sample.write(text)
    if want_text:
        try:
            sample.write(decoder.decode(b"", final=True))
        except UnicodeDecodeError:
            raise _refuse_type(_("Text files must be CSV in UTF-8.")) from None
    return digest.hexdigest(), size, sample.getvalue()


def _check_csv(text: str) -> None:
    """A CSV has rows of several fields; markup (HTML, XML, SVG), JSON, RTF and scripts are
    not CSV, even when the csv module would split them."""
    stripped = text.lstrip()
    lowered = stripped[:2048].lower()
    if stripped.startswith(_MARKUP_STARTS) or "<html" in lowered or "<script" in lowered:
        raise _refuse_type()
    lines = text.splitlines()
    if len(text) >= CSV_SAMPLE_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the sample may end inside a row
    try:
        dialect = csv.Sniffer().sniff("\n".join(lines[:50]), delimiters=",;\t|")
    except csv.Error:
        dialect = csv.excel
    try:
        widths = [len(row) for row in csv.reader(lines, dialect=dialect, strict=True) if any(row)]
    except csv.Error:
        raise _refuse_type(_("The text could not be read as CSV.")) from None
    # A table has one width on most rows; prose split at its commas has many.
    common, rows = Counter(widths).most_common(1)[0] if widths else (0, 0)
    if common < 2 or rows < CSV_MIN_CONSISTENT * len(widths):
        raise _refuse_type(_("The text could not be read as CSV."))


class SizeLimitHandler(FileUploadHandler):
    """Stops receiving a file once it passes the evidence size limit, so an oversized upload
    is never written to disk in full. The view reads ``exceeded`` to say why the file is
    missing."""

    def __init__(self, request=None) -> None:
        super().__init__(request)
        self.exceeded = False
        self._received = 0

    def new_file(self, *args, **kwargs) -> None:
        super().new_file(*args, **kwargs)
        self._received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self._received += len(raw_data)
        if self._received > max_bytes():
            self.exceeded = True
            raise StopUpload(connection_reset=False)
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
