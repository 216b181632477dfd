"""Engine errors shown in Indonesian pages are in Indonesian (issue 11): an import of
participants with an unknown region said "row 3, column 'region': no region …" on an
Indonesian page. The row and column, and errors that carry a code, are translated."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import translation

from cityeval.engine import InputError, read_table
from cityeval.web.engine_errors import input_error_text
from cityeval.web.evaluations.models import Participation
from cityeval.web.evaluations.services import framework_version_builtin
from cityeval.web.imports import ImportRejected
from cityeval.web.results.history import history_import


def test_a_coded_engine_error_is_said_in_indonesian():
    error = InputError(
        "the table has no column 'group' (columns found: region)",
        column="group",
        code="missing_column",
        params={"column": "group", "columns": "region"},
    )
    # The message names the column: it is not said twice (review: "kolom 'group': … kolom 'group'").
    with translation.override("id"):
        assert input_error_text(error) == "tabel tidak memiliki kolom 'group' (kolom yang ada: region)"
    with translation.override("en"):
        assert input_error_text(error) == "the table has no column 'group' (columns found: region)"


def test_a_byte_that_is_not_utf8_names_its_line_once():
    error = InputError("not UTF-8", row=2, code="not_utf8", params={"byte": "0xe9", "line": 2})
    with translation.override("en"):
        assert input_error_text(error).startswith("not UTF-8 text (byte 0xe9 on line 2)")
    # A place the message does not name is still said.
    other = InputError("x", row=4, column="sex", code="not_a_sex", params={"value": "q"})
    with translation.override("en"):
        assert input_error_text(other) == "row 4, column 'sex': 'q' is not f or m (perempuan/laki-laki)"


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


def test_a_history_import_with_a_word_for_a_number_is_refused_in_indonesian(world, settings):
    """The engine's number reader raises not_a_number; the history import shows it translated."""
    header = "region,group,baseline,output,outcome,impact,quick_win"
    table = read_table(f"{header}\nKab. Deli Serdang,REGULER,3.44,tiga,3.25,3.12,3.80\n".encode())
    with translation.override("id"), pytest.raises(ImportRejected) as caught:
        history_import(
            table=table, user=None, year=2023, framework_version=framework_version_builtin("gmsc-2023")
        )
    assert caught.value.errors == ["baris 2, kolom 'output': 'tiga' bukan angka"]
