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
