"""The content check of evidence files: decided by bytes, never by name or content type."""

from __future__ import annotations

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.web.assessments.uploads import UploadRejected, inspect_upload
from tests.web.assessments.helpers import odf_bytes, ole_bytes, ooxml_bytes, pdf_bytes, zip_bytes

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00\xff\xd9"
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,"
WEBP = b"RIFF\x1a\x00\x00\x00WEBPVP8L\x0d\x00\x00\x00/\x00\x00\x00\x10\x07\x10\x11\x11\x88\x88\xfe\x07\x00"

# A title line above a table, as spreadsheet exports often have, and a quoted comma.
TABLE_WITH_TITLE = (
    "Rekap program smart city 2024\n"
    + "dimensi,program,status\n"
    + "".join(f'governance,"E-Padi, Bapenda {i}",berjalan\n' for i in range(8))
).encode()
PROSE = (
    b"The debugger supports post-mortem debugging, which is useful.\n"
    b"Commands are entered at the prompt, one per line, and some take arguments.\n"
    b"It is a module, not a program; run it with the interpreter, or import it.\n"
    b"Breakpoints, watches and stepping are the usual tools, as in most debuggers, of course.\n"
    b"See the documentation.\n"
)


def inspect(data: bytes, name: str = "evidence.bin", content_type: str = "application/octet-stream"):
    return inspect_upload(SimpleUploadedFile(name, data, content_type=content_type))


@pytest.fixture(autouse=True)
def _limit(settings):
    settings.EVIDENCE_MAX_MB = 1


@pytest.mark.parametrize(
    ("data", "content_type", "kind"),
    [
        (pdf_bytes(), "application/pdf", "PDF"),
        (PNG, "image/png", "PNG"),
        (JPEG, "image/jpeg", "JPEG"),
        (GIF, "image/gif", "GIF"),
        (WEBP, "image/webp", "WebP"),
        (
            ooxml_bytes("word/document.xml"),
            "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            "DOCX",
        ),
        (
            ooxml_bytes("xl/workbook.xml"),
            "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "XLSX",
        ),
        (
            ooxml_bytes("ppt/presentation.xml"),
            "application/vnd.openxmlformats-officedocument.presentationml.presentation",
            "PPTX",
        ),
        (odf_bytes(), "application/vnd.oasis.opendocument.spreadsheet", "ODS"),
        (
            odf_bytes("application/vnd.oasis.opendocument.text"),
            "application/vnd.oasis.opendocument.text",
            "ODT",
        ),
        (ole_bytes("WordDocument"), "application/msword", "DOC"),
        (ole_bytes("Workbook"), "application/vnd.ms-excel", "XLS"),
        (ole_bytes("PowerPoint Document"), "application/vnd.ms-powerpoint", "PPT"),
        (b"kecamatan,jumlah\nLubuk Pakam,12\n", "text/csv", "CSV"),
        ("\ufeffkecamatan;jumlah\nTanjung Morawa;7\n".encode(), "text/csv", "CSV"),
        (TABLE_WITH_TITLE, "text/csv", "CSV"),
    ],
)
def test_allowed_types_are_recognised_by_content_whatever_the_name(data, content_type, kind):
    found = inspect(data, name="whatever.txt")
    assert (found.content_type, found.kind) == (content_type, kind)
    assert found.sha256 == hashlib.sha256(data).hexdigest()
    assert found.size == len(data)


@pytest.mark.parametrize(
    ("data", "name"),
    [
        (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + bytes(200), "report.pdf"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "report.pdf"),
        (b"  <html><body>a,b</body></html>", "data.csv"),
        (b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "chart.png"),
        (b'{"a": 1, "b": 2}', "data.csv"),
        (b"#!/bin/sh\nrm -rf /,now\n", "data.csv"),
        (zip_bytes(), "report.docx"),
        (ooxml_bytes("word/document.xml", extra={"word/vbaProject.bin": b"macro"}), "report.docx"),
        (ole_bytes("SummaryInformation"), "report.doc"),
        (ole_bytes("Macros"), "report.doc"),
        (b"\x7fELF\x02\x01\x01" + bytes(100), "report.pdf"),
        (b"just one line of prose without any delimiter", "notes.csv"),
        (PROSE, "notes.csv"),
        ("kota;jumlah\nMedan;3\n".encode("utf-16"), "data.csv"),
        (b"caf\xe9,12\nb,3\n", "latin1.csv"),
        (b"PK\x03\x04broken zip", "report.xlsx"),
    ],
)
def test_anything_else_is_refused_with_the_allowed_types(data, name):
    with pytest.raises(UploadRejected) as caught:
        inspect(data, name=name, content_type="application/pdf")
    assert "This file type is not allowed." in str(caught.value)
    assert "Allowed types: PDF" in str(caught.value)


def test_an_empty_file_is_refused():
    with pytest.raises(UploadRejected, match=r"The file is empty\."):
        inspect(b"")


def test_a_file_over_the_limit_is_refused_before_reading():
    class Unreadable(SimpleUploadedFile):
        def read(self, *args):
            raise AssertionError("read although the size alone refuses it")

    big = Unreadable("big.pdf", b"%PDF-1.4", content_type="application/pdf")
    big.size = 1024 * 1024 + 1
    with pytest.raises(UploadRejected, match="larger than the limit of 1 MB"):
        inspect_upload(big)


def test_a_file_exactly_at_the_limit_is_accepted():
    data = pdf_bytes()
    data += b"%" * (1024 * 1024 - len(data))
    assert inspect(data).size == 1024 * 1024


def _with(data: bytes, extra: dict[str, bytes]) -> bytes:
    import io
    import zipfile

    source, out = zipfile.ZipFile(io.BytesIO(data)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            archive.writestr(info, source.read(info))
        for name, payload in extra.items():
            archive.writestr(name, payload)
    return out.getvalue()


def test_macros_are_refused_whatever_the_part_is_called():
    """Review finding: a VBA part renamed word/macros.bin is still declared in
    [Content_Types].xml; OpenDocument keeps macros under Basic/."""
    import io
    import zipfile

    docx = ooxml_bytes("word/document.xml", extra={"word/macros.bin": b"\x00VBA"})
    source, out = zipfile.ZipFile(io.BytesIO(docx)), io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for info in source.infolist():
            data = source.read(info)
            if info.filename == "[Content_Types].xml":
                data = data.replace(
                    b"</Types>",
                    b'<Override PartName="/word/macros.bin" '
                    b'ContentType="application/vnd.ms-office.vbaProject"/></Types>',
                )
            archive.writestr(info, data)
    odt = _with(odf_bytes("application/vnd.oasis.opendocument.text"), {"Basic/Standard/Module1.xml": b"<x/>"})
    for name, data in (("report.docx", out.getvalue()), ("report.odt", odt)):
        with pytest.raises(UploadRejected, match="macros"):
            inspect_upload(SimpleUploadedFile(name, data))
