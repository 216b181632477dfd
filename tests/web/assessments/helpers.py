"""Real file bytes for upload tests, and the codes of the items the tests answer."""

from __future__ import annotations

import io
import struct
import zipfile

CYCLE = "gmsc-2024"
REGION_A = "kab-deli-serdang"
LEVEL_ITEM = "baseline.legal_basis"  # kind level
THRESHOLD_ITEM = "outcome.realisation_governance"  # percent, thresholds 20/40/60/80 → 1/2/3/4
COUNT_ITEM = "baseline.programmes_last_year"  # count without thresholds
SURVEY_ITEM = "impact.service.1"


def pdf_bytes(text: str = "evidence") -> bytes:
    """A minimal valid one-page PDF (header, catalog, pages, page, xref, trailer)."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="xml" ContentType="application/xml"/></Types>'
)


def ooxml_bytes(main_part: str, *, extra: dict[str, bytes] | None = None) -> bytes:
    """An Office Open XML package: [Content_Types].xml plus the main part (word/document.xml
    for DOCX, xl/workbook.xml for XLSX)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", "<Relationships/>")
        archive.writestr(main_part, "<document/>")
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return out.getvalue()


def odf_bytes(mime: str = "application/vnd.oasis.opendocument.spreadsheet") -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("mimetype", mime)  # first and stored, as the OpenDocument spec wants
        archive.writestr("content.xml", "<office:document-content/>")
    return out.getvalue()


def zip_bytes() -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("run.exe", b"MZ\x90\x00payload")
    return out.getvalue()


def ole_bytes(stream_name: str = "WordDocument") -> bytes:
    """A minimal OLE2 compound file ([MS-CFB] version 3): header, one FAT sector (sector 0)
    and one directory sector (sector 1) with the root entry and one stream entry."""
    free, end, fat_sector = 0xFFFFFFFF, 0xFFFFFFFE, 0xFFFFFFFD
    header = bytearray(512)
    header[0:8] = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
    struct.pack_into("<HHHHH", header, 0x18, 0x3E, 3, 0xFFFE, 9, 6)
    struct.pack_into("<IIIIIIII", header, 0x2C, 1, 1, 0, 4096, end, 0, end, 0)
    difat = [0] + [free] * 108
    struct.pack_into("<109I", header, 0x4C, *difat)
    fat = struct.pack("<128I", fat_sector, end, *([free] * 126))

    def entry(name: str, kind: int) -> bytes:
        raw = bytearray(128)
        encoded = (name + "\x00").encode("utf-16-le")
        raw[0 : len(encoded)] = encoded
        struct.pack_into("<HB", raw, 64, len(encoded), kind)
        struct.pack_into("<III", raw, 68, free, free, free)
        return bytes(raw)

    directory = entry("Root Entry", 5) + entry(stream_name, 2) + bytes(128 * 2)
    return bytes(header) + fat + directory
