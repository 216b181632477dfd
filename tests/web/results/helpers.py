"""Reading the PDF letters in tests with poppler-utils (pdftotext, pdftoppm).

.ci/run installs poppler-utils; without it these checks are skipped, unless
CITYEVAL_REQUIRE_ALL=1 makes a missing tool a failure.
"""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import tempfile
import zipfile
from pathlib import Path
from xml.etree import ElementTree

import pytest


def _tool(name: str) -> str:
    found = shutil.which(name)
    if found is None:
        if os.environ.get("CITYEVAL_REQUIRE_ALL") in ("1", "true", "yes", "on"):
            pytest.fail(f"{name} (poppler-utils) not found, and CITYEVAL_REQUIRE_ALL=1 requires it")
        pytest.skip(f"{name} (poppler-utils) not found: PDF contents not checked")
    return found


def pdf_text(content: bytes) -> str:
    """The PDF's text, in reading order."""
    out = subprocess.run(
        [_tool("pdftotext"), "-layout", "-", "-"], input=content, capture_output=True, check=True
    )
    return out.stdout.decode("utf-8")


def read_pgm(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and pixels of a binary 8-bit PGM (P5): header tokens, then the bytes."""
    tokens: list[bytes] = []
    position = 0
    while len(tokens) < 4:
        while data[position : position + 1].isspace():
            position += 1
        if data[position : position + 1] == b"#":  # a comment runs to the end of the line
            position = data.index(b"\n", position) + 1
            continue
        end = position
        while not data[end : end + 1].isspace():
            end += 1
        tokens.append(data[position:end])
        position = end
    magic, width, height, maximum = tokens
    if magic != b"P5" or int(maximum) > 255:
        raise ValueError("not an 8-bit binary PGM")
    pixels = data[position + 1 : position + 1 + int(width) * int(height)]
    return int(width), int(height), pixels


def page_ink(content: bytes, *, resolution: int = 20) -> list[float]:
    """For each page, the share of pixels that are not white, rendered in grey by pdftoppm
    (``-gray`` writes a binary PGM per page)."""
    tool = _tool("pdftoppm")
    with tempfile.TemporaryDirectory() as folder:
        source = Path(folder) / "letter.pdf"
        source.write_bytes(content)
        subprocess.run(
            [tool, "-r", str(resolution), "-gray", str(source), str(Path(folder) / "page")],
            check=True,
        )
        shares = []
        for page in sorted(Path(folder).glob("page*.pgm")):
            width, height, pixels = read_pgm(page.read_bytes())
            assert len(pixels) == width * height
            shares.append(sum(1 for p in pixels if p < 255) / (width * height))
        return shares


def xlsx_number_formats(xlsx: bytes) -> dict[str, str]:
    """Cell reference → number format code of the first sheet (``0.00`` is built-in format 2,
    ``General`` format 0, ECMA-376 §18.8.30)."""
    ns = {"m": "http://schemas.openxmlformats.org/spreadsheetml/2006/main"}
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        styles = ElementTree.fromstring(book.read("xl/styles.xml"))
        sheet = ElementTree.fromstring(book.read("xl/worksheets/sheet1.xml"))
    custom = {f.get("numFmtId"): f.get("formatCode") for f in styles.iterfind(".//m:numFmt", ns)}
    builtin = {"0": "General", "1": "0", "2": "0.00"}
    xfs = [xf.get("numFmtId", "0") for xf in styles.find("m:cellXfs", ns)]
    formats = {}
    for cell in sheet.iterfind(".//m:c", ns):
        fmt_id = xfs[int(cell.get("s", "0"))]
        formats[cell.get("r")] = custom.get(fmt_id) or builtin.get(fmt_id, fmt_id)
    return formats


def xlsx_hyperlinks(xlsx: bytes) -> list[str]:
    """Every hyperlink in the workbook: ``<hyperlink>`` elements of the sheets and hyperlink
    relationships (ECMA-376 §18.3.1.47), which is how a cell becomes a clickable link."""
    with zipfile.ZipFile(io.BytesIO(xlsx)) as book:
        found = []
        for name in book.namelist():
            text = book.read(name).decode("utf-8", "replace")
            if name.endswith(".rels") and "/hyperlink" in text:
                found.append(name)
            if name.startswith("xl/worksheets/") and "<hyperlink " in text:
                found.append(name)
        return found
