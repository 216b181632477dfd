"""Numbers on pages, letters and exports as the ministry prints them: rounded half up on the
decimal value (2.125 → 2.13, 3.405 → 3.41, −0.265 → −0.27: the issue's comparison with the
published letters), with the decimal mark of the page's language (Indonesian ``2,13``, English
``2.13``); CSV keeps full values with formula text neutralised; XLSX keeps full values with a
two-decimal number format."""

from __future__ import annotations

import csv
import io

import fastexcel
import polars as pl
import pytest
from django.conf import settings
from django.template import Context, Template
from django.utils import translation

from cityeval.web.evaluations.templatetags.cityeval import number_formatter
from cityeval.web.regions.models import Region
from cityeval.web.results.exports import table_xlsx
from cityeval.web.results.models import RegionResult
from tests.helpers.results import A_FINAL, CYCLE, REGION_A
from tests.web.results.helpers import pdf_text, xlsx_hyperlinks, xlsx_number_formats

FILTERS = Template("{% load cityeval results_tags %}{{ v|score }} {{ v|signed }} {{ p|percent }}")


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [
        (2.125, "2,13 +2,13", "2.13 +2.13"),
        (3.405, "3,41 +3,41", "3.41 +3.41"),
        (-0.265, "-0,27 -0,27", "-0.27 -0.27"),
        (None, "– –", "– –"),
    ],
)
def test_the_score_filters_round_half_up_in_the_page_s_language(value, indonesian, english):
    for language, expected in (("id", indonesian), ("en", english)):
        with translation.override(language):
            assert FILTERS.render(Context({"v": value, "p": 0.125})) == f"{expected} 13%"


@pytest.mark.parametrize(
    ("value", "indonesian", "english"),
    [(2.125, "2,13 +2,13", "2.13 +2.13"), (-0.265, "-0,27 -0,27", "-0.27 -0.27"), (None, "– –", "– –")],
)
def test_a_tables_number_formatter_writes_what_the_filters_write(value, indonesian, english):
    """``number_formatter`` (the decimal mark read once for a table) against the same
    hand-rounded texts as the filters, in each language."""
    for language, expected in (("id", indonesian), ("en", english)):
        with translation.override(language):
            number = number_formatter()
            assert f"{number(value)} {number(value, signed=True)}" == expected


def _national(client, language: str) -> str:
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = language
    return client.get(f"/results/{CYCLE}/").content.decode()


def test_the_national_page_prints_the_letters_digits_in_each_language(published, as_user):
    """A stored final of 2.125 and improvement of −0.265 (set here: only presentation is under
    test) show as 2,13 and -0,27 in Indonesian, 2.13 and -0.27 in English."""
    RegionResult.objects.filter(run=published, region__slug=REGION_A).update(final=2.125, improvement=-0.265)
    client = as_user(None)
    indonesian, english = _national(client, "id"), _national(client, "en")
    assert "<strong>2,13</strong>" in indonesian and ">-0,27<" in indonesian
    assert "<strong>2.13</strong>" in english and ">-0.27<" in english
    assert "2.12" not in english and "2,12" not in indonesian


def test_the_region_letter_in_indonesian_uses_the_decimal_comma(published, client):
    """Final 3.568 → 3,57, improvement 0.339 → +0,34 (tests/web/results/conftest.py)."""
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    text = pdf_text(client.get(f"/r/{REGION_A}/{CYCLE}/results/letter.pdf").content)
    assert "3,57" in text and "+0,34" in text and "3.57" not in text


def test_the_csv_exports_neutralise_formulas_and_keep_numbers(published, as_user):
    """A region named like a formula reaches the public CSVs as text; the numbers parse."""
    Region.objects.filter(slug=REGION_A).update(name='=HYPERLINK("http://x","y")')
    Region.objects.filter(slug="kota-medan").update(name="-cmd")
    client = as_user(None)
    national = list(
        csv.DictReader(io.StringIO(client.get(f"/results/{CYCLE}/national.csv").content.decode()))
    )
    assert [r["region"] for r in national] == ['\'=HYPERLINK("http://x","y")', "'-cmd"]
    assert float(national[0]["final"]) == pytest.approx(A_FINAL, abs=1e-12)
    assert float(national[1]["improvement"]) == pytest.approx(0.1, abs=1e-12)
    items = list(csv.DictReader(io.StringIO(client.get(f"/results/{CYCLE}/items.csv").content.decode())))
    assert {r["region"] for r in items} == {'\'=HYPERLINK("http://x","y")', "'-cmd"}
    assert all(float(r["score"]) >= 0 for r in items)


def test_the_xlsx_export_keeps_full_values_with_a_two_decimal_format(published, as_user):
    content = as_user(None).get(f"/results/{CYCLE}/national.xlsx").content
    formats = xlsx_number_formats(content)
    # Columns: region, group, 5 components (C–G), final (H), improvement (I), rank_national (J).
    assert formats["H2"] == "0.00" and formats["I2"] == "0.00" and formats["C2"] == "0.00"
    assert formats["J2"] == "General" and formats["A2"] == "General"


URL_LIKE = ["external:\\\\attacker\\share\\x.exe", "https://evil.example/login", "mailto:x@evil.example"]


def test_the_xlsx_export_writes_url_like_names_as_text_not_links(published, as_user):
    """xlsxwriter turns strings that look like URLs into live hyperlinks unless told not to:
    "external:\\\\attacker\\share\\x.exe" became a file:// link. A region named so stays a
    plain string cell, and the workbook has no hyperlink at all."""
    Region.objects.filter(slug=REGION_A).update(name=URL_LIKE[0])
    Region.objects.filter(slug="kota-medan").update(name=URL_LIKE[1])
    content = as_user(None).get(f"/results/{CYCLE}/national.xlsx").content
    assert xlsx_hyperlinks(content) == []
    regions = fastexcel.read_excel(content).load_sheet(0, dtypes="string").to_polars()["region"].to_list()
    assert sorted(regions) == sorted(URL_LIKE[:2])


def test_the_xlsx_writer_keeps_every_url_like_string_as_text():
    table = pl.DataFrame({"region": URL_LIKE, "final": [1.0, 2.0, 3.0]})
    content = table_xlsx(table, sheet="t")
    assert xlsx_hyperlinks(content) == []
    assert fastexcel.read_excel(content).load_sheet(0).to_polars()["region"].to_list() == URL_LIKE
