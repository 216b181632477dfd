"""Every download is built by ``web.downloads``: an attachment with a safe file name, the type
we say (nosniff), stored uploads sandboxed, and workbooks that keep user text as text."""

import io

import pytest
from openpyxl import load_workbook

from cityeval.web.downloads import (
    CONTENT_TYPES,
    NAME_MAX,
    file_response,
    new_workbook,
    safe_filename,
    stored_file_response,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("results-2025-national.csv", "results-2025-national.csv"),
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\x\\laporan.pdf", "laporan.pdf"),
        ("laporan\x07akhir\r\n.pdf", "laporanakhir.pdf"),
        ("  ..hidden. ", "hidden"),
        ("Laporan Dinas Kominfo — Ä.pdf", "Laporan Dinas Kominfo — Ä.pdf"),
        ("", "download"),
        ("\x00/", "download"),
    ],
)
def test_file_names_lose_paths_and_control_characters(name, expected):
    assert safe_filename(name) == expected


def test_a_long_name_is_cut_and_keeps_its_extension():
    name = safe_filename("a" * 400 + ".xlsx")
    assert len(name) == NAME_MAX and name.endswith("a.xlsx")


def test_a_generated_file_is_an_attachment_of_the_type_of_its_extension():
    response = file_response("a;b\n", filename="table.csv")
    assert response["Content-Type"] == CONTENT_TYPES["csv"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"] == 'attachment; filename="table.csv"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response.content == b"a;b\n"
    assert file_response(b"%PDF", filename="x.pdf")["Content-Type"] == "application/pdf"
    assert file_response(b"?", filename="x.exe")["Content-Type"] == "application/octet-stream"


def test_a_name_that_would_break_the_header_is_quoted_or_encoded():
    """A quote is escaped (RFC 6266 quoted string), a letter outside ASCII goes in filename*."""
    assert file_response(b"", filename='a"b.pdf')["Content-Disposition"] == 'attachment; filename="a\\"b.pdf"'
    header = file_response(b"", filename="laporan ä.pdf")["Content-Disposition"]
    assert header == "attachment; filename*=utf-8''laporan%20%C3%A4.pdf"


def test_a_stored_upload_is_a_sandboxed_attachment():
    response = stored_file_response(
        io.BytesIO(b"%PDF-1.4"), filename="../sk.pdf", content_type="application/pdf"
    )
    assert response["Content-Disposition"] == 'attachment; filename="sk.pdf"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Security-Policy"] == "default-src 'none'; sandbox"
    assert response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content) == b"%PDF-1.4"


def test_a_workbook_keeps_formulas_and_links_typed_by_users_as_text():
    buffer = io.BytesIO()
    book = new_workbook(buffer)
    sheet = book.add_worksheet("s")
    sheet.write(0, 0, '=HYPERLINK("https://evil.example","x")')
    sheet.write(1, 0, "https://evil.example")
    sheet.write(2, 0, float("nan"))
    book.close()
    cells = load_workbook(io.BytesIO(buffer.getvalue()))["s"]
    assert cells["A1"].data_type == "s" and cells["A1"].value.startswith("=HYPERLINK")
    assert cells["A2"].hyperlink is None
    assert cells["A3"].value == "=#NUM!"  # an error cell (xlsxwriter writes it as a formula), no exception
