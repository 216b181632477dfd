"""XLSForms: written with xlsxwriter, converted by pyxform and checked by ODK Validate.

ODK Validate needs Java: without it these tests skip, unless CITYEVAL_REQUIRE_ALL=1, where a
missing Java fails them.
"""

from __future__ import annotations

import io
import os
import shutil

import fastexcel
import pytest

from cityeval.engine import load_framework
from cityeval.engine.survey import XLSFormError, build_forms, validate_xlsform, xlsform_bytes


def require_java() -> None:
    if shutil.which("java") is None:
        if os.environ.get("CITYEVAL_REQUIRE_ALL", "").lower() in ("1", "true", "yes", "on"):
            pytest.fail("Java is not installed, and CITYEVAL_REQUIRE_ALL=1 requires ODK Validate to run")
        pytest.skip("Java is not installed: ODK Validate cannot run")


@pytest.fixture(scope="module")
def framework():
    return load_framework("gmsc-2024")


def sheet(data: bytes, name: str) -> list[dict]:
    return fastexcel.read_excel(data).load_sheet(name, dtypes="string").to_polars().to_dicts()


def test_split_and_combined_forms_pass_odk_validate(framework):
    require_java()
    split = build_forms(framework)[0]
    combined = build_forms(framework, modes={"society": "combined"})[-4]
    assert combined.code == "society"
    for form in (split, combined):
        validate_xlsform(xlsform_bytes(form, framework, version="2024100101"))


def test_the_form_screens_users_first_and_shows_statements_only_to_them(framework):
    form = build_forms(framework)[0]
    data = xlsform_bytes(form, framework)
    rows = sheet(data, "survey")
    names = [r["name"] for r in rows]
    assert names[:3] == ["start", "end", "used_service"]
    statements = [r for r in rows if r["name"].startswith("s_")]
    assert [r["name"] for r in statements] == ["s_service_1", "s_service_2", "s_service_3"]
    assert all(r["relevant"] == "${used_service} = 'yes'" for r in statements)
    assert statements[0]["label::Indonesian (id)"] == framework.statements_by_code["service.1"][2].label.id
    assert statements[0]["label::English (en)"] == framework.statements_by_code["service.1"][2].label.en
    assert {"age_band", "sex", "district", "phone", "assisted"} <= set(names)
    settings = sheet(data, "settings")[0]
    assert settings["form_id"] == "cityeval_service"
    assert settings["default_language"] == "Indonesian (id)"
    agreement = [c for c in sheet(data, "choices") if c["list_name"] == "agreement"]
    assert [(c["name"], c["label::Indonesian (id)"]) for c in agreement][::4] == [
        ("0", "Sangat tidak setuju"),
        ("4", "Sangat setuju"),
    ]


def test_the_same_form_gives_the_same_bytes(framework):
    form = build_forms(framework)[5]
    assert xlsform_bytes(form, framework) == xlsform_bytes(form, framework)


def test_pyxform_conversion_without_odk_validate_needs_no_java(framework):
    validate_xlsform(xlsform_bytes(build_forms(framework)[1], framework), odk_validate=False)


def test_a_broken_form_raises_xlsform_error_with_the_tools_message():
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    survey = workbook.add_worksheet("survey")
    survey.write_row(0, 0, ["type", "name", "label"])
    survey.write_row(1, 0, ["select_one missing_list", "q1", "Question"])
    workbook.close()
    with pytest.raises(XLSFormError, match="choices sheet"):
        validate_xlsform(buffer.getvalue(), odk_validate=False)
    with pytest.raises(XLSFormError, match="not an XLSX workbook"):
        validate_xlsform(b"not a workbook", odk_validate=False)


def test_odk_validate_rejects_a_form_that_pyxform_accepts(framework):
    """A relevant expression calling an unknown function converts, and only ODK Validate fails it."""
    require_java()
    import xlsxwriter

    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    survey = workbook.add_worksheet("survey")
    survey.write_row(0, 0, ["type", "name", "label", "relevant"])
    survey.write_row(1, 0, ["integer", "q1", "Question", ""])
    survey.write_row(2, 0, ["integer", "q2", "Question 2", "no_such_function(${q1}) > 1"])
    workbook.close()
    validate_xlsform(buffer.getvalue(), odk_validate=False)
    with pytest.raises(XLSFormError, match="ODK Validate"):
        validate_xlsform(buffer.getvalue())


def test_it_says_so_when_java_is_missing(framework, monkeypatch):
    monkeypatch.setattr(shutil, "which", lambda _name: None)
    with pytest.raises(XLSFormError, match="needs Java"):
        validate_xlsform(xlsform_bytes(build_forms(framework)[0], framework))


def test_a_url_like_title_is_written_as_text_not_a_link(framework):
    """A form title (user text) that looks like a URL must stay a string cell: xlsxwriter's
    default strings_to_urls turned "external:\\\\attacker\\share\\x.exe" into a file:// link."""
    import zipfile

    title = "external:\\\\attacker\\share\\x.exe"
    data = xlsform_bytes(build_forms(framework)[0], framework, title=title)
    with zipfile.ZipFile(io.BytesIO(data)) as book:
        rels = [book.read(n).decode() for n in book.namelist() if n.endswith(".rels")]
    assert not [r for r in rels if "/hyperlink" in r]
    assert sheet(data, "settings")[0]["form_title"] == title
