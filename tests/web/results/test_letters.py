"""PDF results letters: downloaded as attachments, valid PDFs, pages that are not blank,
and the same numbers as the pages."""

from __future__ import annotations

from tests.helpers.results import CYCLE, REGION_A
from tests.web.results.helpers import page_ink, pdf_text, read_pgm


def _check_pdf(response, filename: str) -> bytes:
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="{filename}"'
    assert response.content.startswith(b"%PDF")
    ink = page_ink(response.content)
    assert ink and all(share > 0.005 for share in ink), ink  # every page has something drawn on it
    return response.content


def test_the_region_letter_renders_with_the_page_numbers(published, as_user):
    content = _check_pdf(
        as_user(None).get(f"/r/{REGION_A}/{CYCLE}/results/letter.pdf"), f"results-{CYCLE}-{REGION_A}.pdf"
    )
    text = pdf_text(content)
    assert "Kab. Deli Serdang" in text and "3.57" in text and "+0.34" in text and "1 of 2" in text
    assert "3.28" in text and "3.44" in text  # baseline this year and in 2023


def test_the_cycle_letter_renders_the_national_table(published, as_user, coordinator):
    content = _check_pdf(as_user(coordinator).get(f"/results/{CYCLE}/letter.pdf"), f"results-{CYCLE}.pdf")
    text = pdf_text(content)
    assert "Kab. Deli Serdang" in text and "Kota Medan" in text and "2.60" in text and "3.57" in text


def test_the_letter_speaks_the_visitor_s_language_indonesian_by_default(published, client, settings):
    """Strings already in the Indonesian catalogue: Kelompok (Group), Bobot (Weight)."""
    settings.LANGUAGE_CODE = "id"
    url = f"/r/{REGION_A}/{CYCLE}/results/letter.pdf"
    indonesian = pdf_text(client.get(url).content)
    assert "Kelompok REGULER" in indonesian and "Bobot" in indonesian
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"  # chosen with the language switcher
    english = pdf_text(client.get(url).content)
    assert "Group REGULER" in english and "Weight" in english


def test_the_pgm_reader_by_hand():
    """A 3×2 image: header tokens, a comment, one whitespace, then 6 pixel bytes."""
    width, height, pixels = read_pgm(b"P5\n# made by hand\n3 2\n255\n" + bytes([255, 0, 255, 255, 255, 12]))
    assert (width, height, pixels) == (3, 2, bytes([255, 0, 255, 255, 255, 12]))
