"""Reading is bounded before parsing: size, unpacked size, ratio, rows and columns.

Each bomb is made small by lowering the limits, except where the real-size bomb is cheap to
build (a zip whose central directory declares a gigabyte; a CSV header of 5 million columns).
"""

from __future__ import annotations

import io
import zipfile

import pytest
from tests.zipbombs import OLE_XLS, declare_unpacked, lie_about_size, replace_member, sheet_with, sheet_xlsx

from cityeval.engine import FrameworkError, InputError, parse_framework, read_table
from cityeval.engine.limits import MB, LimitError, ReadLimits, check_bytes, check_sheet, check_zip
from cityeval.engine.survey import build_forms, read_responses

SMALL = ReadLimits(max_bytes=10_000, max_unpacked_bytes=50_000, max_rows=3, max_columns=4)


ROWS = [["region", "group"], ["Kota Medan", "REGULER"], ["Kab. Badung", "KPPN_IKN"]]


def test_a_small_xlsx_within_the_limits_is_read():
    table = read_table(sheet_xlsx(ROWS), limits=SMALL)
    assert table["region"].to_list() == ["Kota Medan", "Kab. Badung"]


def test_a_zip_declaring_a_gigabyte_is_refused_from_its_central_directory():
    """The real bomb's figure (1 GB unpacked) with the default limits: nothing is unpacked."""
    data = declare_unpacked(sheet_xlsx(ROWS), "xl/worksheets/sheet1.xml", 1024 * MB)
    with pytest.raises(LimitError) as caught:
        read_table(data)
    assert (caught.value.limit, caught.value.found) == ("unpacked", pytest.approx(1024 * MB, rel=0.01))
    assert "over the limit of 1024 MB" in str(caught.value)


def test_an_absurd_compression_ratio_is_refused():
    """9 MB of one repeated cell compresses about 1000 times; no real sheet does."""
    rows = [["a"]] + [["x"]] * 300_000
    data = sheet_xlsx(rows, level=9)
    with pytest.raises(LimitError) as caught:
        check_zip(data, ReadLimits(max_ratio=100))
    assert caught.value.limit == "ratio" and caught.value.found > 100


def test_an_archive_of_too_many_members_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for n in range(30):
            archive.writestr(f"f{n}", "")
    with pytest.raises(LimitError, match="holds 30 files, over the limit of 20"):
        check_zip(out.getvalue(), ReadLimits(max_members=20))


def test_the_declared_sheet_dimension_is_refused_before_loading():
    """The dimension says 1,000,000 rows; the sheet holds two (a lie the loader would catch)."""
    data = sheet_xlsx(ROWS, dimension="A1:B1000001")
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        read_table(data, limits=SMALL)
    with pytest.raises(LimitError, match="has 30 columns, over the limit of 4"):
        read_table(sheet_xlsx(ROWS, dimension="A1:AD3"), limits=SMALL)


def test_a_sheet_without_a_dimension_is_stopped_after_the_row_limit():
    """The rows are counted on the decompressed stream before the reader builds the sheet."""
    rows = [["a", "b"]] + [[str(n), "x"] for n in range(4)]
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        check_sheet(sheet_xlsx(rows, dimension=None), SMALL)
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        read_table(sheet_xlsx(rows, dimension=None), limits=SMALL)
    assert read_table(sheet_xlsx(rows[:4], dimension=None), limits=SMALL).height == 3


def test_one_far_cell_is_refused_before_the_reader_allocates_the_rectangle():
    """A 100 kB sheet of 20,000 rows with one cell at XFD1 took the reader 3 minutes and 16 GB
    (every cell of the 20,000 × 16,384 rectangle); the reference is found on the stream."""
    far_cell = '<row r="1"><c r="XFD1" t="inlineStr"><is><t>z</t></is></c></row>'
    limits = ReadLimits(max_rows=20_000, max_columns=300)
    with pytest.raises(LimitError) as caught:
        read_table(sheet_xlsx(ROWS * 6_000, dimension=None, extra=far_cell), limits=limits)
    assert (caught.value.limit, caught.value.found) == ("columns", 16_384)
    far_row = '<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>z</t></is></c></row>'
    with pytest.raises(LimitError, match="more than the limit of 20000 rows"):
        check_sheet(sheet_xlsx(ROWS, dimension=None, extra=far_row), limits)
    near = '<row r="20001"><c r="KN20001" t="inlineStr"><is><t>z</t></is></c></row>'
    check_sheet(sheet_xlsx(ROWS, dimension=None, extra=near), limits)  # column 300, row 20,001: allowed


HEADER = '<row r="1"><c r="A1" t="inlineStr"><is><t>region</t></is></c></row>'
SHEET = "xl/worksheets/sheet1.xml"
WEB = ReadLimits(max_rows=20_000, max_columns=300)  # the web's region import limits (settings.py)


def _far(reference: str) -> bytes:
    """An XLSX of a header at A1 and one cell written ``<c {reference} …>``, e.g. r='XFD20000'."""
    far = f'<row r="20000"><c {reference} t="inlineStr"><is><t>z</t></is></c></row>'
    return replace_member(sheet_xlsx(ROWS), SHEET, sheet_with(HEADER + far))


@pytest.mark.parametrize(
    "reference",
    ["r='XFD20000'", 'r = "XFD20000"', "r\n=\t'XFD20000'", 'r="xfd20000"', 'r="XFD00000000020000"'],
)
def test_a_far_cell_is_found_however_its_reference_is_quoted_or_spaced(reference):
    """Each of these (security review) passed the old check; the reader then tried to allocate
    20,000 × 16,384 cells (10.5 GB) and aborted. Checked with check_bytes, not the reader, so
    that a miss fails the test instead of the process."""
    with pytest.raises(LimitError) as caught:
        check_bytes(_far(reference.replace("\\n", "\n").replace("\\t", "\t")), WEB)
    assert (caught.value.limit, caught.value.found) == ("columns", 16_384)


def test_a_far_row_in_single_quotes_is_found():
    """r='1000000' made the reader try to allocate 524 GB."""
    far = "<row r='1000000'><c r='A1000000' t=\"inlineStr\"><is><t>z</t></is></c></row>"
    with pytest.raises(LimitError, match="more than the limit of 20000 rows"):
        check_bytes(replace_member(sheet_xlsx(ROWS), SHEET, sheet_with(HEADER + far)), WEB)


def test_the_last_allowed_row_is_row_20001_however_written():
    """Row 1 is the header, so 20,000 data rows end at row 20,001; row 20,002 is one too many.
    Leading zeros do not hide a row (0020002 is row 20,002)."""

    def sheet(reference: str) -> bytes:
        cell = f'<row><c r={reference} t="inlineStr"><is><t>z</t></is></c></row>'
        return replace_member(sheet_xlsx(ROWS), SHEET, sheet_with(HEADER + cell))

    check_bytes(sheet("'KN20001'"), WEB)
    check_bytes(sheet('"A000020001"'), WEB)
    for reference in ("'A20002'", '"A0020002"', "'A" + "9" * 5000 + "'"):
        with pytest.raises(LimitError) as caught:
            check_bytes(sheet(reference), WEB)
        assert caught.value.limit == "rows" and caught.value.found >= 20_001


@pytest.mark.parametrize("padding", [0, 1, 40, 100, 70_000])
def test_a_far_cell_cut_by_the_one_megabyte_chunk_boundary_is_found(padding):
    """``r="XF`` ends the first megabyte of the sheet (where the old scan cut it, keeping 4
    bytes), after ``padding`` spaces between ``r`` and ``=``; the 64-byte tail or the kept run
    of reference bytes joins it to ``D20000"``. Deflated, and stored (whose chunks are cut at
    each megabyte exactly)."""
    reference = "r" + " " * padding + '="XF'
    head = sheet_with(HEADER).split(b"</sheetData>")[0] + b"<row>"
    filler = "<!--" + "x" * (MB - len(head) - len(reference) - len("<c ") - 7) + "-->"
    body = HEADER + "<row>" + filler + "<c " + reference + 'D20000" t="inlineStr"><is><t>z</t></is></c></row>'
    sheet = sheet_with(body)
    assert sheet.index(b"D20000") == MB  # the cut falls between XF and D
    for method in (zipfile.ZIP_DEFLATED, zipfile.ZIP_STORED):
        with pytest.raises(LimitError) as caught:
            check_bytes(replace_member(sheet_xlsx(ROWS), SHEET, sheet, method=method), WEB)
        assert caught.value.found == 16_384


def test_rows_cut_by_chunk_boundaries_are_each_counted_once():
    """Rows of 33 bytes cross every chunk boundary at a different place: 40,000 rows (1.3 MB)
    are over a 39,999-row limit and within a 40,000 one (the header is not counted)."""
    rows = '<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 40_000
    data = replace_member(sheet_xlsx(ROWS), SHEET, sheet_with(HEADER + rows), method=zipfile.ZIP_STORED)
    check_bytes(data, ReadLimits(max_rows=40_000))
    with pytest.raises(LimitError, match="more than the limit of 39999 rows"):
        check_bytes(data, ReadLimits(max_rows=39_999))


def test_a_sheet_lying_about_its_size_is_refused_as_damaged():
    """The sheet declares 100 bytes and holds a far cell: Python's zip reader stopped at 100
    bytes and the check never saw it; the spreadsheet reader unpacked it all (10.5 GB abort)."""
    data = lie_about_size(_far('r="XFD20000"'), SHEET, 100)
    with pytest.raises(LimitError) as caught:
        check_bytes(data, WEB)
    assert caught.value.limit == "damaged"
    assert str(caught.value) == "the file is damaged: a part is larger or smaller than it declares"


def test_shared_strings_lying_about_their_size_are_refused_once_past_it():
    """A part declaring 1,000 bytes and holding 2 MB (the review's held 400 MB: 52 s, 11 GB):
    refused after inflating at most a chunk past its declaration."""
    data = replace_member(sheet_xlsx(ROWS), "xl/sharedStrings.xml", b"<sst>" + b"x" * (2 * MB) + b"</sst>")
    with pytest.raises(LimitError) as caught:
        check_zip(lie_about_size(data, "xl/sharedStrings.xml", 1000), ReadLimits())
    assert caught.value.limit == "damaged" and caught.value.allowed == 1000
    assert caught.value.found <= 1000 + 1024 * 1024


def test_a_part_shorter_than_it_declares_is_refused_as_damaged():
    with pytest.raises(LimitError, match="damaged"):
        check_bytes(lie_about_size(sheet_xlsx(ROWS), SHEET, 5000), ReadLimits())


def test_an_unreadable_zip_is_refused_not_passed_on():
    """A zip whose directory cannot be read, and one compressed with bzip2 (which the check
    cannot follow), are refused instead of being handed to the reader unchecked."""
    data = sheet_xlsx(ROWS)
    with pytest.raises(LimitError) as caught:
        check_bytes(data[: len(data) // 2], ReadLimits())
    assert caught.value.limit == "unreadable"
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_BZIP2) as archive:
        archive.writestr(SHEET, sheet_with(HEADER))
    with pytest.raises(LimitError, match="not a readable spreadsheet"):
        check_bytes(out.getvalue(), ReadLimits())


def test_a_stored_xlsx_is_checked_like_a_deflated_one():
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(_far('r="XFD20000"'))) as source, zipfile.ZipFile(out, "w") as copy:
        for name in source.namelist():
            copy.writestr(name, source.read(name))
    with pytest.raises(LimitError, match="16384 columns"):
        check_bytes(out.getvalue(), WEB)


def test_an_xls_is_refused_on_its_magic_only_when_the_limits_say_so():
    """The web's limits refuse .xls outright (a 5.6 kB one cost 1.3 s and 1.3 GB to refuse
    after loading); the engine's defaults keep reading them."""
    with pytest.raises(LimitError, match=r"old Excel \.xls files are not accepted: save as \.xlsx or CSV"):
        check_bytes(OLE_XLS, ReadLimits(allow_xls=False))
    check_bytes(OLE_XLS, ReadLimits())


def test_every_sheet_is_checked_when_the_first_cannot_be_told():
    """A workbook whose sheet relation uses another attribute prefix: the reader may still find
    the sheet, so each worksheet member is counted."""
    rows = [["a"]] + [[str(n)] for n in range(5)]
    out = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(sheet_xlsx(rows, dimension=None))) as source,
        zipfile.ZipFile(out, "w") as copy,
    ):
        for name in source.namelist():
            data = source.read(name)
            copy.writestr(
                name, data.replace(b'r:id="rId1"', b'q:id="rId1"') if name == "xl/workbook.xml" else data
            )
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        check_sheet(out.getvalue(), SMALL)


def test_a_csv_header_of_five_million_columns_is_refused_on_its_bytes():
    """The real bomb (10 MB of header) with the default limits."""
    data = b"a" + b",a" * 4_999_999 + b"\n1\n"
    with pytest.raises(LimitError, match="has 5000000 columns, over the limit of 2000"):
        read_table(data)


def test_csv_rows_over_the_limit_are_refused_and_the_limit_itself_is_read():
    header = b"region,group\n"
    assert read_table(header + b"A,R\n" * 3, limits=SMALL).height == 3
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        read_table(header + b"A,R\n" * 4, limits=SMALL)


def test_a_file_over_the_size_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "big.csv"
    path.write_bytes(b"a,b\n" + b"1,2\n" * 3000)
    with pytest.raises(LimitError) as caught:
        read_table(path, limits=SMALL)
    assert caught.value.limit == "size" and caught.value.source == str(path)


def test_a_short_csv_row_is_an_error_naming_the_row():
    with pytest.raises(InputError, match="row 3 has 1 values but the header has 3 columns"):
        read_table(b"a,b,c\n1,2,3\n4\n5,6,7\n")


# --- survey responses ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def service_form():
    from cityeval.engine import load_framework

    return next(f for f in build_forms(load_framework("gmsc-2024"), modes={}) if f.code == "service")


def _template(form, ids: list[str], *, short: bool = False) -> bytes:
    header = ["response_id", "used_service", *form.questions, "age_band", "sex", "district"]
    rows = [[i, "yes", *["3"] * len(form.questions), "25-34", "f", "Lubuk Pakam"] for i in ids]
    if short:
        rows[1] = rows[1][:-1]
    return ("\n".join(",".join(r) for r in [header, *rows]) + "\n").encode()


def test_a_survey_export_over_the_row_limit_is_refused(service_form):
    data = _template(service_form, [f"id-{n:04d}" for n in range(4)])
    with pytest.raises(LimitError, match="more than the limit of 3 rows"):
        read_responses(data, form=service_form, identity_salt="s", limits=ReadLimits(max_rows=3))


def test_a_survey_xlsx_declaring_too_many_rows_is_refused(service_form):
    data = sheet_xlsx([["response_id"], ["x"]], dimension="A1:Q922001")
    with pytest.raises(LimitError, match="more than the limit of 500000 rows"):
        read_responses(data, form=service_form, identity_salt="s", limits=ReadLimits(max_rows=500_000))


def test_a_short_row_in_a_survey_csv_is_an_error_naming_it(service_form):
    """polars pads a short row with nulls; it would be read as a blank answer."""
    data = _template(service_form, ["id-0001", "id-0002", "id-0003"], short=True)
    with pytest.raises(InputError, match="row 3 has"):
        read_responses(data, form=service_form, identity_salt="s")


def test_a_submission_id_longer_than_the_store_keeps_is_a_row_error(service_form):
    data = _template(service_form, ["id-0001", "uuid:" + "x" * 101])
    with pytest.raises(InputError) as caught:
        read_responses(data, form=service_form, identity_salt="s", max_id_length=100)
    assert (caught.value.row, caught.value.column) == (3, "response_id")
    assert "101 characters; at most 100" in caught.value.reason
    ok = _template(service_form, ["uuid:" + "x" * 100])
    assert read_responses(ok, form=service_form, identity_salt="s", max_id_length=100).height == 1


# --- framework YAML --------------------------------------------------------------------------------


def test_a_yaml_alias_bomb_is_refused_before_it_expands():
    """ "Billion laughs": nine levels of nine aliases would build 9**9 strings."""
    lines = ['a0: &a0 ["lol"]'] + [f"a{n}: &a{n} [{', '.join([f'*a{n - 1}'] * 9)}]" for n in range(1, 10)]
    with pytest.raises(FrameworkError, match="aliases"):
        parse_framework("\n".join(lines))


def test_a_framework_over_the_size_limit_is_refused_before_parsing():
    with pytest.raises(FrameworkError, match=r"larger than the limit of 0\.5 MB"):
        parse_framework("code: x\n" + "# padding\n" * 60_000, max_bytes=MB // 2)


def test_deeply_nested_yaml_is_a_framework_error():
    """5,000 nested lists exhaust the parser's recursion: a FrameworkError, not RecursionError."""
    with pytest.raises(FrameworkError, match="nested too deeply"):
        parse_framework("a: " + "[" * 5000 + "]" * 5000 + "\n")


def test_aliases_are_allowed_only_when_asked_for_stored_text():
    """The tiny framework with its weights written once and referred to by an alias."""
    from pathlib import Path

    text = (Path(__file__).parent / "data" / "tiny.yaml").read_text(encoding="utf-8")
    anchored = text.replace("weights: {A: 40, B: 50}", "weights: &half {A: 50, B: 50}").replace(
        "weights: {A: 60, B: 50}", "weights: *half"
    )
    with pytest.raises(FrameworkError, match="aliases"):
        parse_framework(anchored)
    framework = parse_framework(anchored, allow_aliases=True)
    assert framework.components[1].weights == {"A": 50, "B": 50}


def test_a_workbook_written_by_xlsxwriter_passes_the_checks_and_is_read(tmp_path):
    """A real writer's file (shared strings, two sheets, a second one larger than the limits,
    which the readers do not load): inflating every part and checking the first sheet does
    not refuse what spreadsheet programs write."""
    import xlsxwriter

    path = tmp_path / "regions.xlsx"
    with xlsxwriter.Workbook(str(path)) as book:
        first = book.add_worksheet("regions")
        for r, row in enumerate(ROWS):
            first.write_row(r, 0, row)
        other = book.add_worksheet("notes")
        other.write(30_000, 400, "far, but not on the first sheet")
    table = read_table(path, limits=WEB)
    assert table["region"].to_list() == ["Kota Medan", "Kab. Badung"]
    assert table["group"].to_list() == ["REGULER", "KPPN_IKN"]
