"""Official letters (issue 11, item 10): the coordinator sets, per cycle, the issuing body and
letterhead, the letter number, place and date, and the signatory; the region letter and the cycle
letter open with them on a page of their own, the results report following as the attachment.
Everyone else is refused the settings page. The PDFs are read with pdftotext (poppler-utils)."""

from __future__ import annotations

import pytest

from cityeval.web.results.models import LetterDetails
from tests.helpers.web_surveys import CYCLE, REGION_A
from tests.web.results.helpers import pdf_text

SETTINGS_URL = f"/results/{CYCLE}/letter/"
DETAILS = {
    "issuing_body": "Kementerian Komunikasi dan Digital",
    "issuing_unit": "Direktorat Jenderal Aplikasi Informatika",
    "letterhead_address": "Jalan Medan Merdeka Barat No. 9, Jakarta 10110",
    "number": "B-1234/DJAI/HM.01/12/2024",
    "place": "Jakarta",
    "date": "2024-12-16",
    "subject": "Hasil Evaluasi Gerakan Menuju Smart City 2024",
    "signatory_name": "Dr. Siti Contoh, M.Kom.",
    "signatory_position": "Direktur Jenderal Aplikasi Informatika",
    "signatory_id": "197001012000032001",
}


def _set_details(as_user, coordinator):
    response = as_user(coordinator).post(SETTINGS_URL, DETAILS)
    assert response.status_code == 302, response.content.decode()[:500]


def _pages(content: bytes) -> list[str]:
    return pdf_text(content).split("\f")


def test_the_coordinator_sets_the_details_and_the_region_letter_opens_with_them(
    published, as_user, coordinator
):
    _set_details(as_user, coordinator)
    stored = LetterDetails.objects.get(cycle__slug=CYCLE)
    assert (stored.number, str(stored.date), stored.updated_by) == (
        DETAILS["number"],
        "2024-12-16",
        coordinator,
    )
    pages = _pages(as_user(None).get(f"/r/{REGION_A}/{CYCLE}/results/letter.pdf").content)
    letter = " ".join(pages[0].split())
    for value in ("issuing_unit", "letterhead_address", "number", "subject", "signatory_name"):
        assert DETAILS[value] in letter, value
    assert "KEMENTERIAN KOMUNIKASI DAN DIGITAL" in letter  # the letterhead prints it in capitals
    assert "Jakarta, 16 December 2024" in letter
    assert "NIP 197001012000032001" in letter and "Direktur Jenderal Aplikasi Informatika" in letter
    assert "The Head of Region of Kab. Deli Serdang" in letter
    assert "an achievement index (final) of 3.57" in letter and "national rank is 1 of 2" in letter
    # The report is the attachment, from the next page on, unchanged.
    attachment = " ".join(" ".join(pages[1:]).split())
    assert attachment.startswith(f"Attachment · {DETAILS['number']}")
    assert "Components" in attachment and "3.57" in attachment and "+0.34" in attachment
    assert "Components" not in letter


def test_the_cycle_letter_opens_with_the_same_details(published, as_user, coordinator):
    _set_details(as_user, coordinator)
    pages = _pages(as_user(None).get(f"/results/{CYCLE}/letter.pdf").content)
    letter = " ".join(pages[0].split())
    assert DETAILS["number"] in letter and DETAILS["signatory_name"] in letter
    assert "The heads of the participating regions" in letter and "for 2 regions" in letter
    assert "National table" in " ".join(pages[1:])


def test_without_details_the_letter_is_marked_as_a_draft(published, as_user):
    text = " ".join(pdf_text(as_user(None).get(f"/r/{REGION_A}/{CYCLE}/results/letter.pdf").content).split())
    assert "Draft: the coordinator has not set the letter details" in text


def test_the_letter_reads_as_an_indonesian_letter(published, as_user, coordinator, client, settings):
    _set_details(as_user, coordinator)
    settings.LANGUAGE_CODE = "id"
    letter = " ".join(_pages(client.get(f"/r/{REGION_A}/{CYCLE}/results/letter.pdf").content)[0].split())
    assert "Nomor" in letter and "Lampiran" in letter and "Perihal" in letter
    assert "Jakarta, 16 Desember 2024" in letter


def test_a_letter_without_a_number_is_refused_and_nothing_saved(published, as_user, coordinator):
    response = as_user(coordinator).post(SETTINGS_URL, {**DETAILS, "number": ""})
    assert response.status_code == 400
    assert not LetterDetails.objects.exists()


def test_the_settings_page_shows_the_stored_details(published, as_user, coordinator):
    _set_details(as_user, coordinator)
    page = as_user(coordinator).get(SETTINGS_URL).content.decode()
    assert f'value="{DETAILS["number"]}"' in page and 'value="2024-12-16"' in page


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "admin_b", "assessor", "nobody"])
def test_everyone_but_the_coordinator_is_refused_the_letter_details(published, as_user, persona, name):
    client = as_user(persona(name))
    assert client.get(SETTINGS_URL).status_code == 403
    assert client.post(SETTINGS_URL, DETAILS).status_code == 403
    assert not LetterDetails.objects.exists()


def test_anonymous_visitors_are_sent_to_log_in(published, as_user):
    response = as_user(None).post(SETTINGS_URL, DETAILS)
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not LetterDetails.objects.exists()


def test_an_unknown_cycle_is_404(as_user, coordinator):
    assert as_user(coordinator).get("/results/no-such-cycle/letter/").status_code == 404


def test_the_demo_letters_carry_example_details_that_say_so(db):
    """The demo's published 2024 cycle has letter details, each value marked as an example."""
    from cityeval.web.demo import load_demo

    load_demo()
    details = LetterDetails.objects.get(cycle__slug="gmsc-2024")
    assert "contoh" in details.issuing_body.lower() and "CONTOH" in details.number
    assert "contoh" in details.signatory_name.lower()


def test_the_cycle_page_links_the_letter_details_before_results_are_computed(world, as_user, coordinator):
    """The coordinator reaches the letter settings from the cycle's own page while the cycle is
    still open and nothing is computed (the national results page only shows the link once
    results exist)."""
    from cityeval.web.results.models import ResultRun

    assert not ResultRun.objects.filter(cycle=world.cycle).exists()
    page = as_user(coordinator).get(f"/cycles/{CYCLE}/").content.decode()
    assert 'id="letter-details-link"' in page and f'href="{SETTINGS_URL}"' in page
