"""The region letter's charts (issue 15): the region page's peers box plots and final's interval
chart, and the region's trend over the years, drawn by the same chart code as the pages, each
with its numbers in a table, in the letter's language. Read with pdftotext (poppler-utils).

Peers by hand (conftest: A and B, both REGULER in Sumatera Utara; A a kabupaten, B a kota):
A's baseline 3.28 and B's 2.6 → median 2.94, Q1 2.6 + 0.25 × 0.68 = 2.77, Q3 3.11; finals
3.568 and 2.6 → median 3.084, Q1 2.842, Q3 3.326; the kind "kabupaten" holds A alone.
"""

from __future__ import annotations

import html
import re

import polars as pl
import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.evaluations.templatetags.cityeval import number
from cityeval.web.results.history import history_import
from cityeval.web.results.letters import region_letter_context
from cityeval.web.results.models import RegionInterval, RunUncertainty
from cityeval.web.results.selectors import region_results
from tests.helpers.results import CYCLE, REGION_A
from tests.web.results.helpers import page_ink, pdf_text

LETTER = f"/r/{REGION_A}/{CYCLE}/results/letter.pdf"
PAGE = f"/r/{REGION_A}/{CYCLE}/results/"
OUTSIDERS = ["admin_a", "admin_b", "nobody", None]


def _words(text: str) -> str:
    """pdftotext's layout text on one line, single spaces (sentences wrap across lines)."""
    return " ".join(text.split())


def _letter(client) -> str:
    response = client.get(LETTER)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert all(share > 0.005 for share in page_ink(response.content))
    return _words(pdf_text(response.content))


def _cells(page: str, table_id: str) -> list[list[str]]:
    """The body cells of the page's table ``table_id``, as text."""
    table = page[page.index(f'id="{table_id}"') :]
    body = table[table.index("<tbody>") : table.index("</tbody>")]
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", body, flags=re.S)
    return [
        [
            _words(html.unescape(re.sub(r"<[^>]+>", " ", cell)))
            for cell in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        ]
        for row in rows
    ]


def test_the_letter_holds_the_three_charts_drawn_by_the_page_s_chart_code(published):
    context = region_letter_context(region_results(AnonymousUser(), CYCLE, REGION_A))
    markup = render_to_string("results/pdf/region_letter.html", context)
    assert markup.count('class="boxplot"') == 3  # group, province, kind
    assert markup.count('class="intervals"') == 1
    assert markup.count('class="linechart"') == 2  # final and components; national rank
    assert context["peers"].sets[0].chart in markup and context["intervals"].chart in markup


def test_the_letter_shows_the_peers_by_hand_and_the_page_s_numbers(published, as_user):
    client = as_user(None)
    text = _letter(client)
    assert "Among its peers" in text
    assert text.count("Peers: Q1 to Q3, median") == 3  # each box plot's legend, drawn in the PDF
    assert "Group: REGULER · 2 regions" in text and "Kind: Regency (kabupaten) · 1 region" in text
    assert "Baseline 3.28 2.94 (2.77–3.11) 2.94 (2.77–3.11) 3.28 (3.28–3.28)" in text
    assert "Final 3.57 3.08 (2.84–3.33) 3.08 (2.84–3.33) 3.57 (3.57–3.57)" in text
    page = client.get(PAGE).content.decode()
    for row in _cells(page, "peers-table"):
        assert " ".join(row) in text, row


def test_the_letter_s_interval_chart_and_table_equal_the_page_and_the_stored_values(published, as_user):
    client = as_user(None)
    text = _letter(client)
    assert "How certain are the final and the rank?" in text
    assert "1. Kab. Deli Serdang" in text and "2. Kota Medan" in text  # the chart's row labels
    assert "Interval of the final (90%)" in text  # the chart's legend
    page = client.get(PAGE).content.decode()
    rows = _cells(page, "interval-table")
    assert len(rows) == 2
    for row in rows:
        assert " ".join(row) in text, row
    a = RegionInterval.objects.get(run=published, region__slug=REGION_A)
    words = f"the final lies between {number(a.final_lo)} and {number(a.final_hi)} (final: {number(a.final)})"
    assert words in text
    assert (
        f"1 Kab. Deli Serdang 3.57 {number(a.final_lo)}–{number(a.final_hi)} {a.rank_lo}–{a.rank_hi}" in text
    )


def test_the_letter_draws_the_trend_with_its_table(published, as_user):
    text = _letter(as_user(None))
    assert "Results over the years" in text
    assert "National rank, year by year (1 is the top)." in text
    # 2023: the imported history (conftest: 3.229, first of two); 2024: this cycle.
    assert "2023 3.23 1 of 2 3.44 2.63 3.25 3.12 3.80 Imported published table" in text
    assert "2024 3.57 1 of 2 3.28 3.60 3.60 3.60 3.60 Computed by the platform" in text


def test_the_letter_s_trend_numbers_equal_the_trends_page(published, as_user, admin_a):
    client = as_user(admin_a)
    text = _letter(client)
    rows = _cells(client.get(f"/r/{REGION_A}/trends/").content.decode(), "trends")
    assert len(rows) == 2
    for row in rows:
        assert " ".join(row) in text, row


def test_the_trend_stops_at_the_letter_s_year(published, as_user, coordinator):
    """A later year's results (imported 2025) are not in the 2024 letter."""
    history_import(
        year=2025,
        framework_version=framework_version_builtin("gmsc-2024"),
        table=pl.DataFrame(
            {
                "region": ["Kab. Deli Serdang", "Kota Medan"],
                "group": ["REGULER", "REGULER"],
                **{c: [1.5, 1.0] for c in ("baseline", "output", "outcome", "impact", "quick_win")},
            }
        ),
        user=coordinator,
    )
    text = _letter(as_user(None))
    assert "2024 3.57 1 of 2" in text and "2025" not in text and "1.50" not in text


@pytest.mark.parametrize("name", ["coordinator", None])
def test_the_trend_leaves_out_other_cycles_not_published(published, as_user, persona, name):
    """The 2023 cycle taken back from publication: not in anyone's 2024 letter (a letter is sent
    out), the coordinator's included."""
    Cycle.objects.filter(year=2023).update(status=Cycle.Status.CLOSED)
    text = _letter(as_user(persona(name)))
    assert "2024 3.57" in text and "Imported published table" not in text and "3.44" not in text


def test_the_coordinator_s_letter_before_publication_marks_the_year_not_published(
    computed, as_user, coordinator
):
    text = _letter(as_user(coordinator))
    # The cell wraps in the table: "2024 (not" then, after the row's other cells, "published)".
    assert re.search(r"2024 \(not 3\.57 1 of 2 .*? published\)", text), text


def test_a_run_without_intervals_says_why_in_the_letter(computed, as_user, coordinator):
    RegionInterval.objects.filter(run=computed).delete()
    RunUncertainty.objects.filter(run=computed).delete()
    text = _letter(as_user(coordinator))
    assert "How certain are the final and the rank?" in text
    assert "computed before the uncertainty of finals and ranks was computed with them" in text
    assert "1. Kab. Deli Serdang" not in text and "Interval of the final (90%)" not in text
    assert "Among its peers" in text and "Results over the years" in text


def test_the_letter_s_charts_speak_indonesian_by_default(published, client, settings):
    """Strings already in the Indonesian catalogue (the region page's)."""
    settings.LANGUAGE_CODE = "id"
    text = _words(pdf_text(client.get(LETTER).content))
    assert "Di antara daerah sebanding" in text  # Among its peers
    assert "Seberapa pasti indeks akhir dan peringkatnya?" in text
    assert "Hasil dari tahun ke tahun" in text and "Tabel terbitan yang diimpor" in text
    assert "Among its peers" not in text and "Results over the years" not in text


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_no_letter_before_publication(computed, as_user, persona, name):
    response = as_user(persona(name)).get(LETTER)
    assert response.status_code == 404 and not response.content.startswith(b"%PDF")
