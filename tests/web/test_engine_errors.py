"""Engine errors shown in Indonesian pages are in Indonesian (issue 11): an import of
participants with an unknown region said "row 3, column 'region': no region …" on an
Indonesian page. The row and column, and errors that carry a code, are translated."""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cityeval.engine import InputError
from cityeval.web.engine_errors import input_error_text
from cityeval.web.evaluations.models import Participation


def test_a_coded_engine_error_is_said_in_indonesian():
    error = InputError(
        "the table has no column 'group' (columns found: region)",
        column="group",
        code="missing_column",
        params={"column": "group", "columns": "region"},
    )
    with translation.override("id"):
        assert input_error_text(error) == (
            "kolom 'group': tabel tidak memiliki kolom 'group' (kolom yang ada: region)"
        )
    with translation.override("en"):
        assert input_error_text(error) == (
            "column 'group': the table has no column 'group' (columns found: region)"
        )


def test_an_error_without_a_code_keeps_its_english_message_with_a_translated_place():
    with translation.override("id"):
        assert input_error_text(InputError("odd problem", row=7)) == "baris 7: odd problem"


def test_the_participants_import_speaks_indonesian(world, coordinator, as_user, settings):
    settings.LANGUAGE_CODE = "id"
    url = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    before = Participation.objects.count()
    bad = SimpleUploadedFile("p.csv", b"region,group\nKab. Nowhere,REGULER\nKota Medan,XYZ\n")
    text = as_user(coordinator).post(url, {"file": bad}, follow=True).content.decode()
    assert "baris 2, kolom &#x27;region&#x27;: tidak ada daerah &#x27;Kab. Nowhere&#x27;" in text
    assert "baris 3, kolom &#x27;group&#x27;: kelompok &#x27;XYZ&#x27; tidak dikenal" in text
    assert "row 2" not in text and Participation.objects.count() == before


def test_an_unreadable_upload_is_refused_in_indonesian(world, coordinator, as_user, settings):
    settings.LANGUAGE_CODE = "id"
    url = reverse("evaluations:participants_import", kwargs={"cycle": world.cycle.slug})
    empty = SimpleUploadedFile("p.csv", b"region,group\n")
    text = as_user(coordinator).post(url, {"file": empty}, follow=True).content.decode()
    assert "tabel memiliki judul tetapi tidak ada baris data" in text
