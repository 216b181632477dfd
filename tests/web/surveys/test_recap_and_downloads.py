"""The recap a region sends to the ministry (PDF, XLSX) and the offline forms (XLSForm)."""

from __future__ import annotations

import shutil
import subprocess

import fastexcel
import pytest

from cityeval.engine.survey import validate_xlsform
from cityeval.web.surveys.demo import load_survey_demo
from tests.helpers.web_surveys import url
from tests.web.results.helpers import xlsx_hyperlinks, xlsx_number_formats


@pytest.fixture
def demo(world, e_padi):
    load_survey_demo(participation=world.participation_a, programmes_by_subdimension={"service": e_padi})


def dark_share_of_first_page(pdf: bytes, tmp_path) -> float:
    """Render page 1 with pdftoppm (grey, 40 dpi) and return the share of non-white pixels."""
    source = tmp_path / "recap.pdf"
    source.write_bytes(pdf)
    subprocess.run(
        ["pdftoppm", "-gray", "-r", "40", "-f", "1", "-l", "1", str(source), str(tmp_path / "p")], check=True
    )
    data = next(tmp_path.glob("p*.pgm")).read_bytes()
    magic, width, height, _maxval, pixels = data.split(maxsplit=4)
    assert magic == b"P5"
    pixels = pixels[: int(width) * int(height)]
    return sum(1 for p in pixels if p < 200) / len(pixels)


@pytest.mark.skipif(shutil.which("pdftoppm") is None, reason="pdftoppm (poppler-utils) not installed")
def test_the_recap_pdf_renders_a_non_blank_page(as_user, opd_a, demo, tmp_path):
    response = as_user(opd_a).get(url("recap_pdf"))
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    assert dark_share_of_first_page(response.content, tmp_path) > 0.01


def test_the_recap_xlsx_has_a_row_per_statement_with_means_and_flags(as_user, coordinator, demo, tmp_path):
    response = as_user(coordinator).get(url("recap_xlsx"))
    assert response.status_code == 200
    book = fastexcel.read_excel(response.content)
    recap = book.load_sheet(0, header_row=3).to_polars()
    assert recap.height == 54
    service_1 = recap.filter(recap["Statement"] == "service.1").row(0, named=True)
    assert service_1["Service"] == "E-Padi" and service_1["Valid"] == 48
    assert 0 <= service_1["95% low"] <= service_1["Mean"] <= service_1["95% high"] <= 4
    assert "1 excluded: Straight-lining" in service_1["Flags"]
    policy = recap.filter(recap["Sub-dimension"] == "Public policy").row(0, named=True)
    assert "known users" in policy["Flags"]
    forms = book.load_sheet(1).to_polars()
    assert forms.height == 18


def test_the_recap_xlsx_keeps_full_means_with_a_two_decimal_format(as_user, coordinator, demo):
    """Means are written unrounded (they used to be rounded half to even on the float) and
    shown with two decimals by the cell format, which spreadsheets round half up."""
    content = as_user(coordinator).get(url("recap_xlsx")).content
    recap = fastexcel.read_excel(content).load_sheet(0, header_row=3).to_polars()
    assert any(round(m, 2) != m for m in recap["Mean"].drop_nulls())
    formats = xlsx_number_formats(content)
    # Row 5 is the first statement; L = Mean, M/N = its interval, K = n.
    assert formats["L5"] == formats["M5"] == formats["N5"] == "0.00" and formats["K5"] == "General"


def test_the_recap_of_a_survey_without_forms_still_renders(as_user, admin_a, world):
    assert as_user(admin_a).get(url("recap_pdf")).content.startswith(b"%PDF")
    assert as_user(admin_a).get(url("recap_xlsx")).status_code == 200


def test_the_xlsform_download_is_a_valid_xlsform_with_the_forms_questions(as_user, opd_a, service_form):
    response = as_user(opd_a).get(url("xlsform", form="service"))
    assert response.status_code == 200
    assert response["Content-Disposition"].endswith('.xlsx"')
    # pyxform's conversion, and ODK Validate (what ODK Collect and KoboCollect load) when Java is there.
    validate_xlsform(response.content, odk_validate=shutil.which("java") is not None)
    survey = fastexcel.read_excel(response.content).load_sheet("survey").to_polars()
    names = survey.get_column("name").to_list()
    assert {"used_service", "s_service_1", "s_service_2", "s_service_3", "age_band", "phone"} <= set(names)


def test_the_overview_links_each_form_publicly_and_offline(as_user, admin_a, service_form):
    html = as_user(admin_a).get(url("overview")).text
    assert f"http://testserver/s/{service_form.token}/" in html
    assert url("xlsform", form="service") in html and url("template", form="service") in html


def test_the_recap_xlsx_writes_a_url_like_programme_name_as_text(as_user, coordinator, world, e_padi):
    """A programme named "external:\\\\attacker\\share\\x.exe" used to become a live file://
    link in the recap (xlsxwriter's strings_to_urls); it is a plain string cell now."""
    name = "external:\\\\attacker\\share\\x.exe"
    e_padi.name = name
    e_padi.save()
    load_survey_demo(participation=world.participation_a, programmes_by_subdimension={"service": e_padi})
    content = as_user(coordinator).get(url("recap_xlsx")).content
    assert xlsx_hyperlinks(content) == []
    recap = fastexcel.read_excel(content).load_sheet(0, header_row=3).to_polars()
    assert recap.filter(recap["Statement"] == "service.1")["Service"].to_list() == [name]
