"""Benchmark: import bombs refused before parsing, each in its own process (time, peak RSS).

Each bomb from issue 8 is written to a temporary file, then a fresh Python process reads it
with the function the web import uses, with the web app's default limits (settings.py):

(a) survey import: a ~1.4 MB XLSX whose sheet unpacks to ~315 MB (922,000 rows, no
    ``<dimension>``), read by ``read_responses`` with ``survey_limits()``;
(b) region import: a ~3.6 MB XLSX that unpacks to ~1 GB, read by ``read_upload``;
(c) region import: a CSV whose header has 5,000,000 columns, read by ``read_upload``;
(d) survey import: the same CSV header (under the survey's 20 MB size limit, so that the
    column count is what refuses it);
(e) region import: a ~100 kB XLSX of 20,000 rows whose header has one more cell, at column
    XFD (16,384): before the fix the reader allocated the whole rectangle (3 minutes, 16 GB);
(f) survey import: an XLSX under the unpacked limit (~126 MB, no ``<dimension>``, an ordinary
    compression ratio) with 600,000 rows, over the 500,000-row limit: refused by counting
    rows on the decompressed stream (the spreadsheet reader would build the whole sheet);
(g)–(i) region import: a header at A1 and one cell at XFD20000 written ``r='XFD20000'``,
    ``r = "XFD20000"``, and ``r="XFD20000"`` cut by the first megabyte after ``r="XF``: each
    passed the old check and the reader aborted allocating 10.5 GB (security review);
(j) region import: the same cell in a sheet that declares 100 bytes (the old check read
    100 bytes; the reader unpacked it all: 10.5 GB abort);
(k) region import: a sharedStrings.xml declaring 1,000 bytes and holding 400 MB (before:
    52.6 s, 11 GB RSS);
(l) region import: an old Excel .xls (5,632 bytes; before: refused after loading, 1.3 s and
    1,272 MB). Refused on its first bytes, so any .xls stands for it: this one is a bare
    compound-file header, padded.

Target per refusal: < 5 s and < 300 MB peak RSS (the child's whole process, interpreter and
Django included; its baseline is printed). Generating the bombs is not timed.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import tempfile
import time
import zipfile
import zlib
from pathlib import Path

from compare import measured

TARGET_SECONDS = 5.0
TARGET_MB = 300.0

_CHILD = r"""
import os, sys, time
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityeval.web.settings")
import django
django.setup()
from django.core.files.uploadedfile import SimpleUploadedFile
from cityeval.engine import load_framework
from cityeval.engine.limits import LimitError
from cityeval.engine.survey import build_forms, read_responses
from cityeval.web.imports import ImportRejected, read_upload, survey_limits, upload_bytes

path, target = sys.argv[1], sys.argv[2]
form = build_forms(load_framework("gmsc-2024"))[0]
if target == "baseline":
    print("baseline", 0.0)
    raise SystemExit
data = open(path, "rb").read()
started = time.perf_counter()
try:
    if target == "survey":
        limits = survey_limits()
        upload = SimpleUploadedFile("bomb", data)
        read_responses(upload_bytes(upload, limits), form=form, identity_salt="s", limits=limits)
    else:
        read_upload(SimpleUploadedFile("bomb", data))
    outcome = "ACCEPTED"
except (LimitError, ImportRejected) as exc:
    outcome = "refused: " + (exc.errors[0] if isinstance(exc, ImportRejected) else str(exc))
print(outcome, time.perf_counter() - started)
"""

_NS = "http://schemas.openxmlformats.org"
_TYPES = "application/vnd.openxmlformats-officedocument.spreadsheetml"
_RELATIONS = f"{_NS}/officeDocument/2006/relationships"
_XML = '<?xml version="1.0" encoding="UTF-8"?>'
_PACKAGE = f"{_NS}/package/2006"
_PARTS = {
    "[Content_Types].xml": f'{_XML}<Types xmlns="{_PACKAGE}/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    f'<Override PartName="/xl/workbook.xml" ContentType="{_TYPES}.sheet.main+xml"/>'
    f'<Override PartName="/xl/worksheets/sheet1.xml" ContentType="{_TYPES}.worksheet+xml"/></Types>',
    "_rels/.rels": f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONS}/officeDocument" Target="xl/workbook.xml"/></Relationships>',
    "xl/workbook.xml": f'{_XML}<workbook xmlns="{_NS}/spreadsheetml/2006/main" xmlns:r="{_RELATIONS}">'
    '<sheets><sheet name="data" sheetId="1" r:id="rId1"/></sheets></workbook>',
    "xl/_rels/workbook.xml.rels": f'{_XML}<Relationships xmlns="{_PACKAGE}/relationships">'
    f'<Relationship Id="rId1" Type="{_RELATIONS}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>',
}


def xlsx_bomb(rows: int, row_xml: str, header: list[str]) -> bytes:
    """An XLSX whose one sheet repeats ``row_xml`` (``{n}`` = row number) ``rows`` times, written
    straight into the zip in chunks, so that neither the sheet nor its rows are held whole."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as archive:
        for name, text in _PARTS.items():
            archive.writestr(name, text)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            head = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in header)
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
                b'spreadsheetml/2006/main"><sheetData><row r="1">' + head.encode() + b"</row>"
            )
            for start in range(2, rows + 2, 10_000):
                chunk = "".join(row_xml.format(n=n) for n in range(start, min(start + 10_000, rows + 2)))
                sheet.write(chunk.encode())
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def repeated_xlsx(header: list[str], row_xml: str, rows: int, *, header_extra: str = "") -> bytes:
    """An XLSX whose sheet repeats ``row_xml`` (rows without numbers, which readers accept)
    ``rows`` times, written by hand: a block of rows is deflated once after a full flush, so
    its compressed bytes can be repeated as they are. A gigabyte sheet takes about a second."""
    block_rows = 1000
    head = "".join(f'<c t="inlineStr"><is><t>{h}</t></is></c>' for h in header) + header_extra
    parts = [
        b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        b'spreadsheetml/2006/main"><sheetData><row>' + head.encode() + b"</row>",
        (row_xml * block_rows).encode(),
        b"</sheetData></worksheet>",
    ]
    times = rows // block_rows
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    packed = [deflate.compress(p) + deflate.flush(zlib.Z_FULL_FLUSH) for p in parts[:2]]
    packed[1] = packed[1] * times
    packed.append(deflate.compress(parts[2]) + deflate.flush())
    crc = zlib.crc32(parts[0])
    for _ in range(times):
        crc = zlib.crc32(parts[1], crc)
    crc = zlib.crc32(parts[2], crc)
    unpacked = len(parts[0]) + len(parts[1]) * times + len(parts[2])
    members = [
        (name, 0, text.encode(), zlib.crc32(text.encode()), len(text)) for name, text in _PARTS.items()
    ]
    members.append(("xl/worksheets/sheet1.xml", 8, b"".join(packed), crc, unpacked))
    out, directory = io.BytesIO(), io.BytesIO()
    for name, method, data, checksum, size in members:
        offset, encoded = out.tell(), name.encode()
        sizes = (checksum, len(data), size, len(encoded))
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, method, 0, 33, *sizes, 0) + encoded + data)
        entry = struct.pack(
            "<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, method, 0, 33, *sizes, 0, 0, 0, 0, 0, offset
        )
        directory.write(entry + encoded)
    start = out.tell()
    out.write(directory.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(members), len(members),
                          len(directory.getvalue()), start, 0))  # fmt: skip
    return out.getvalue()


def survey_bomb(rows: int, *, short: bool = False) -> bytes:
    """Numbered rows of a plausible template export (id, yes, three answers and, unless
    ``short``, demographics and phone): ~340 bytes a row, ~170 when short; compresses about
    35 times, under the ratio limit, so that only the row bound stops it."""
    header = ["response_id", "used_service", "s_service_1", "s_service_2", "s_service_3"]
    cells = ["r{n}", "yes", "3", "4", "2"]
    if not short:
        header += ["age_band", "sex", "district", "phone"]
        cells += ["25-34", "f", "Lubuk Pakam", "0812"]
    row = '<row r="{n}">' + "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells) + "</row>"
    return xlsx_bomb(rows, row, header)


def survey_repeated(rows: int) -> bytes:
    """The 922k-row survey bomb: template rows of ~340 bytes, repeated."""
    header = ["response_id", "used_service", "s_service_1", "s_service_2", "s_service_3", "age_band", "sex"]
    cells = ["r000001", "yes", "3", "4", "2", "25-34", "f", "Lubuk Pakam", "0812"]
    row = "<row>" + "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells) + "</row>"
    return repeated_xlsx([*header, "district", "phone"], row, rows)


def region_repeated(rows: int) -> bytes:
    """The region bomb: rows of ~1 kB (province, region, a long remark), repeated."""
    remark = "Kabupaten " * 95
    cells = ["Sumatera Utara", "Kab. Deli Serdang", remark]
    row = "<row>" + "".join(f'<c t="inlineStr"><is><t>{c}</t></is></c>' for c in cells) + "</row>"
    return repeated_xlsx(["province", "region", "remark"], row, rows)


def far_cell_bomb(rows: int) -> bytes:
    """A small sheet of ``rows`` one-cell rows whose header has a second cell at XFD1, the last
    column: the reader would allocate the whole rows × 16,384 rectangle."""
    body = '<row><c t="inlineStr"><is><t>Kab. Deli Serdang</t></is></c></row>'
    far = '<c r="XFD1" t="inlineStr"><is><t>z</t></is></c>'
    return repeated_xlsx(["region"], body, rows, header_extra=far)


def small_xlsx(sheet_data: str, *, shared: bytes | None = None) -> bytes:
    """An XLSX whose sheet's ``<sheetData>`` is ``sheet_data``, as written; ``shared`` is raw
    deflate for a sharedStrings.xml declaring 1,000 bytes (see :func:`lying_strings`)."""
    sheet = (
        '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
        f'spreadsheetml/2006/main"><sheetData>{sheet_data}</sheetData></worksheet>'
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in {**_PARTS, "xl/worksheets/sheet1.xml": sheet}.items():
            archive.writestr(name, text)
        if shared is not None:
            info = zipfile.ZipInfo("xl/sharedStrings.xml")
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, b"")
    data = out.getvalue()
    return data if shared is None else _with_raw_member(data, "xl/sharedStrings.xml", shared, 1000)


_HEADER_ROW = '<row r="1"><c r="A1" t="inlineStr"><is><t>region</t></is></c></row>'


def far_cell(reference: str, *, pad_to: int = 0) -> bytes:
    """A header at A1 and one cell written ``<c {reference} …>`` (at XFD20000); ``pad_to``
    puts a comment before it so that the reference's first five bytes (``r="XF``) end at that offset."""
    before = '<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.openxmlformats.org/'
    before += 'spreadsheetml/2006/main"><sheetData>' + _HEADER_ROW + '<row r="20000"><c '
    filler = f"<!--{'x' * (pad_to - len(before) - 7 - 5)}-->" if pad_to else ""
    body = f'{_HEADER_ROW}<row r="20000">{filler}<c {reference} t="inlineStr"><is><t>z</t></is></c></row>'
    return small_xlsx(body)


def lying_strings(megabytes: int) -> bytes:
    """A sharedStrings.xml of ``megabytes`` MB, deflated once per megabyte and repeated."""
    deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
    block = deflate.compress(b"<t>" + b"x" * (2**20 - 7) + b"</t>") + deflate.flush(zlib.Z_FULL_FLUSH)
    return block * megabytes + deflate.flush()


def _with_raw_member(data: bytes, member: str, packed: bytes, declared: int) -> bytes:
    """Rebuild the zip with ``member`` holding raw deflate ``packed`` and declaring ``declared``
    unpacked bytes (CRC left at zero: the reader stops before it checks it)."""
    with zipfile.ZipFile(io.BytesIO(data)) as source:
        members = [(i.filename, source.read(i.filename)) for i in source.infolist()]
    out, directory = io.BytesIO(), io.BytesIO()
    for name, text in members:
        body = packed
        if name != member:
            deflate = zlib.compressobj(6, zlib.DEFLATED, -15)
            body = deflate.compress(text) + deflate.flush()
        sizes = (
            0 if name == member else zlib.crc32(text),
            len(body),
            declared if name == member else len(text),
            len(name.encode()),
        )
        offset = out.tell()
        out.write(struct.pack("<4s5H3L2H", b"PK\x03\x04", 20, 0, 8, 0, 33, *sizes, 0) + name.encode() + body)
        directory.write(
            struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, 20, 0, 8, 0, 33, *sizes, 0, 0, 0, 0, 0, offset)
            + name.encode()
        )
    start = out.tell()
    out.write(directory.getvalue())
    count, length = len(members), len(directory.getvalue())
    out.write(struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, count, count, length, start, 0))
    return out.getvalue()


def declaring(data: bytes, member: str, size: int) -> bytes:
    """The same zip with ``member`` declaring ``size`` unpacked bytes (local header and
    directory), its content unchanged."""
    for signature, field, name_at in ((b"PK\x03\x04", 22, 30), (b"PK\x01\x02", 24, 46)):
        at = data.index(signature)
        while data[at + name_at : at + name_at + len(member)] != member.encode():
            at = data.index(signature, at + 4)
        data = data[: at + field] + struct.pack("<I", size) + data[at + field + 4 :]
    return data


def csv_header_bomb(columns: int) -> bytes:
    return b"c" + b",c" * (columns - 1) + b"\n1\n"


def _unpacked(data: bytes) -> int:
    return sum(i.file_size for i in zipfile.ZipFile(io.BytesIO(data)).infolist())


def _in_child(path: Path, target: str) -> tuple[str, float, float]:
    """Run the reading in a fresh process; its outcome, seconds and peak RSS (MiB, its own:
    started through ``peak.py``, see there)."""
    process, _, peak = measured(
        [sys.executable, "-c", _CHILD, str(path), target],
        cwd=tempfile.gettempdir(),
        env={**os.environ, "CITYEVAL_DATA_DIR": tempfile.gettempdir()},
    )
    if process.returncode:
        return f"child failed ({process.returncode}): {process.stderr.decode()[-300:]}", 0.0, peak
    outcome, seconds = process.stdout.decode().strip().rsplit(" ", 1)
    return outcome, float(seconds), peak


def run() -> None:
    started = time.perf_counter()
    bombs = {
        "survey XLSX, 922,000 rows": ("survey", survey_repeated(922_000)),
        "region XLSX, ~1 GB unpacked": ("regions", region_repeated(1_000_000)),
        "region CSV, 5,000,000 columns": ("regions", csv_header_bomb(5_000_000)),
        "survey CSV, 5,000,000 columns (under its 20 MB limit)": ("survey", csv_header_bomb(5_000_000)),
        "region XLSX, 20,000 rows and one cell at XFD1": ("regions", far_cell_bomb(20_000)),
        "survey XLSX under the unpacked limit": ("survey", survey_bomb(600_000, short=True)),
        "region XLSX, one cell at r='XFD20000' (single quotes)": ("regions", far_cell("r='XFD20000'")),
        'region XLSX, one cell at r = "XFD20000" (spaces)': ("regions", far_cell('r = "XFD20000"')),
        'region XLSX, r="XF | D20000" cut at 1 MB': ("regions", far_cell('r="XFD20000"', pad_to=2**20)),
        "region XLSX, sheet declaring 100 bytes, cell at XFD20000": (
            "regions",
            declaring(far_cell('r="XFD20000"'), "xl/worksheets/sheet1.xml", 100),
        ),
        "region XLSX, sharedStrings declaring 1,000 bytes, holding 400 MB": (
            "regions",
            small_xlsx(_HEADER_ROW, shared=lying_strings(400)),
        ),
        "region .xls (5,632 bytes)": ("regions", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 5624),
    }
    print(f"  bombs built in {time.perf_counter() - started:.1f} s (not timed below)")
    with tempfile.TemporaryDirectory() as folder:
        baseline = _in_child(Path(folder) / "none", "baseline")[2]
        print(f"  child baseline (Python, Django, polars imported): peak RSS {baseline:.0f} MB")
        for label, (target, data) in bombs.items():
            path = Path(folder) / "bomb"
            path.write_bytes(data)
            size = f"{len(data) / 2**20:.1f} MB"
            if data.startswith(b"PK"):
                size += f" → {_unpacked(data) / 2**20:.0f} MB unpacked"
            outcome, seconds, peak = _in_child(path, target)
            met = (
                "met"
                if seconds < TARGET_SECONDS and peak < TARGET_MB and outcome.startswith("refused")
                else "NOT met"
            )
            print(f"  {label} ({size})")
            print(f"    {outcome}")
            print(f"    {seconds:6.2f} s, peak RSS {peak:5.0f} MB   (target < 5 s, < 300 MB: {met})")


if __name__ == "__main__":
    run()
