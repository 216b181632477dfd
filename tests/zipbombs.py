"""Small spreadsheets and zip bombs for the tests of bounded reading, written with zipfile."""

from __future__ import annotations

import io
import struct
import zipfile


def sheet_xlsx(
    rows: list[list[str]], *, dimension: str | None = "auto", level: int = 6, extra: str = ""
) -> bytes:
    """A minimal XLSX (inline strings) written with zipfile, with or without ``<dimension>``;
    ``extra`` is raw XML appended to the sheet's rows."""
    if dimension == "auto":
        dimension = f"A1:{chr(ord('A') + max(len(r) for r in rows) - 1)}{len(rows)}"
    cells = "".join(
        "<row>" + "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in row) + "</row>" for row in rows
    )
    cells += extra
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        'spreadsheetml/2006/main">'
        + (f'<dimension ref="{dimension}"/>' if dimension else "")
        + f"<sheetData>{cells}</sheetData></worksheet>"
    )
    files = {
        "_rels/.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/'
        'relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
        'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>',
        "xl/workbook.xml": '<?xml version="1.0"?><workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/'
        '2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets>'
        '<sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
        "xl/_rels/workbook.xml.rels": '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.'
        'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
        "xl/worksheets/sheet1.xml": sheet,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=level) as archive:
        for name, text in files.items():
            archive.writestr(name, text)
    return out.getvalue()


def declare_unpacked(data: bytes, member: str, size: int) -> bytes:
    """Rewrite the central directory so that ``member`` declares ``size`` unpacked bytes: what a
    zip bomb's directory says, built without writing the gigabyte."""
    entry = data.index(b"PK\x01\x02")
    while True:
        name_length = struct.unpack_from("<H", data, entry + 28)[0]
        if data[entry + 46 : entry + 46 + name_length].decode() == member:
            break
        entry = data.index(b"PK\x01\x02", entry + 4)
    return data[: entry + 24] + struct.pack("<I", size) + data[entry + 28 :]


def lie_about_size(data: bytes, member: str, size: int) -> bytes:
    """Make ``member`` declare ``size`` unpacked bytes in both its local header and the central
    directory, its content unchanged: Python's zip reader stops at the declared size, the
    spreadsheet reader unpacks the content to its end."""
    data = declare_unpacked(data, member, size)
    local = data.index(b"PK\x03\x04")
    while True:
        name_length = struct.unpack_from("<H", data, local + 26)[0]
        if data[local + 30 : local + 30 + name_length].decode() == member:
            break
        local = data.index(b"PK\x03\x04", local + 4)
    return data[: local + 22] + struct.pack("<I", size) + data[local + 26 :]


def replace_member(data: bytes, member: str, text: bytes, *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    """The same zip with ``member`` holding ``text`` instead, or added (every member written
    with ``method``: stored members are read in chunks that start at known places)."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w", method) as copy:
        for info in source.infolist():
            body = text if info.filename == member else source.read(info.filename)
            copy.writestr(info.filename, body)
        if member not in source.namelist():
            copy.writestr(member, text)
    return out.getvalue()


def sheet_with(body: str) -> bytes:
    """A minimal sheet XML (no ``<dimension>``) whose ``<sheetData>`` is ``body``, as is."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{body}</sheetData></worksheet>'
    ).encode()


# The first bytes of an OLE compound file (an old Excel .xls), padded to one sector.
OLE_XLS = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 504
