"""Every file the platform hands out: one place that builds the response (content type,
``Content-Disposition: attachment`` with a safe file name, ``nosniff``), for generated files
(exports, letters, recaps, forms) and stored uploads (evidence, receipts) alike.

A download is never rendered by the browser on this site: it is always an attachment, its type
is the one we say (``nosniff``), and a stored upload is sandboxed as well. File names are
cleaned here: no path, no control character, nothing that could end the header early.
"""

from __future__ import annotations

import io
import unicodedata
from typing import IO, Any

from django.http import FileResponse, HttpResponse
from django.utils.http import content_disposition_header

CONTENT_TYPES = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "json": "application/json",
    "pdf": "application/pdf",
}
FALLBACK_TYPE = "application/octet-stream"
NAME_MAX = 150  # characters of a file name kept, the extension included

# User text in a workbook stays text: "=HYPERLINK(...)" is not run as a formula, and
# "external:\\host\share\x.exe" or "https://..." is not turned into a live link (xlsxwriter
# makes both by default); NaN and infinities become error cells, not an exception.
WORKBOOK_OPTIONS = {
    "in_memory": True,
    "nan_inf_to_errors": True,
    "strings_to_formulas": False,
    "strings_to_urls": False,
}


def safe_filename(name: str) -> str:
    """``name`` without a path, control characters or surrounding dots and spaces, at most
    :data:`NAME_MAX` characters (the extension kept); ``download`` if nothing is left.
    Letters of any script are kept: the header carries them encoded (RFC 6266)."""
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if unicodedata.category(ch)[0] != "C")
    name = name.strip(" .")
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        if dot and len(extension) <= 10:
            name = stem[: NAME_MAX - len(extension) - 1].rstrip(" .") + dot + extension
        else:
            name = name[:NAME_MAX]
    return name or "download"


def _content_type(filename: str) -> str:
    extension = filename.rpartition(".")[2].lower()
    return CONTENT_TYPES.get(extension, FALLBACK_TYPE)


def _as_attachment(response: HttpResponse | FileResponse, filename: str) -> None:
    # None only when not an attachment and without a name; never the case here.
    header = content_disposition_header(True, safe_filename(filename))
    response["Content-Disposition"] = header or "attachment"
    response["X-Content-Type-Options"] = "nosniff"


def file_response(content: bytes | str, *, filename: str, content_type: str | None = None) -> HttpResponse:
    """A generated file as a download; its type follows the file name's extension unless given
    (text is sent as UTF-8)."""
    data = content.encode("utf-8") if isinstance(content, str) else content
    response = HttpResponse(data, content_type=content_type or _content_type(filename))
    _as_attachment(response, filename)
    return response


def stored_file_response(file: IO[bytes], *, filename: str, content_type: str) -> FileResponse:
    """A stored upload (evidence, a receipt) as a download, streamed, with the type checked
    when it was uploaded, and sandboxed: even opened directly it runs nothing."""
    response = FileResponse(file, content_type=content_type or FALLBACK_TYPE)
    _as_attachment(response, filename)
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response


def generated_file_response(file: IO[bytes], *, filename: str) -> FileResponse:
    """A file the platform made earlier and stored (a background job's letter), streamed as a
    download, its type following the file name's extension."""
    response = FileResponse(file, content_type=_content_type(filename))
    _as_attachment(response, filename)
    return response


def new_workbook(buffer: io.BytesIO) -> Any:
    """An in-memory xlsxwriter workbook that keeps user text as text (:data:`WORKBOOK_OPTIONS`)."""
    import xlsxwriter  # imported here: only workbook downloads need it

    return xlsxwriter.Workbook(buffer, WORKBOOK_OPTIONS)
