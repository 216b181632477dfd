"""Importing offline responses: KoboToolbox and ODK Central exports and the cityeval template.

The fixture files follow the exporters' documented layouts (XML names as headers): Kobo puts
group paths with ``/`` and the submission id in ``_uuid`` (CSV separated by ``;``); ODK
Central joins groups with ``-`` and keeps the id in ``KEY`` (``uuid:…``).
"""

from __future__ import annotations

import html

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.web.surveys.models import ImportBatch, Response
from cityeval.web.surveys.responses import identity_hash, responses_import
from cityeval.web.surveys.services import ImportRejected
from tests.helpers.web_surveys import (
    KOBO_HEADER,
    KOBO_ROWS,
    ODK_HEADER,
    ODK_ROWS,
    csv_bytes,
    kobo_csv,
    odk_csv,
    url,
    xlsx_bytes,
)


def upload(client, data: bytes, *, name: str = "export.csv", kind: str = "auto", form: str = "service"):
    return client.post(
        url("import"), {"form": form, "kind": kind, "file": SimpleUploadedFile(name, data)}, follow=True
    )


def test_a_kobo_export_is_imported_through_the_page(as_user, admin_a, service_form):
    response = upload(as_user(admin_a), kobo_csv(), name="kobo.csv", kind="kobo")
    assert response.status_code == 200
    assert "3 responses added, 0 already there" in response.text
    stored = {r.response_id: r for r in Response.objects.filter(form=service_form)}
    assert set(stored) == {"6f1c0c1e-0001", "6f1c0c1e-0002", "6f1c0c1e-0003"}
    first = stored["6f1c0c1e-0001"]
    assert first.source == "import" and first.batch.uploaded_by == admin_a
    assert first.answers == {"service.1": 3, "service.2": 4, "service.3": 2}
    assert (first.age_band, first.sex, first.district) == ("25-34", "f", "Lubuk Pakam")
    assert (first.ended_at - first.started_at).total_seconds() == 270
    assert first.identity_hash == identity_hash("0812 1111 2222")  # web and import hashes agree
    assert stored["6f1c0c1e-0002"].assisted is True
    assert stored["6f1c0c1e-0003"].used_service is False
    batch = ImportBatch.objects.get()
    assert (batch.rows_added, batch.rows_skipped_duplicate, batch.kind) == (3, 0, "kobo")


def test_a_kobo_xlsx_export_is_recognised_automatically(service_form, admin_a):
    result = responses_import(
        form=service_form,
        data=xlsx_bytes(KOBO_HEADER, KOBO_ROWS),
        file_name="kobo.xlsx",
        kind="auto",
        user=admin_a,
    )
    assert result.added == 3


def test_an_odk_central_export_is_imported(as_user, admin_a, service_form):
    response = upload(as_user(admin_a), odk_csv(), name="odk.csv", kind="odk")
    assert "2 responses added" in response.text
    stored = Response.objects.get(response_id="0d9e-0001")  # the uuid: prefix is dropped
    assert stored.answers == {"service.1": 2, "service.2": 3, "service.3": 3}
    # The same phone written two ways (Kobo 0812…, ODK +62 812…) is the same respondent.
    upload(as_user(admin_a), kobo_csv(), kind="kobo")
    kobo = Response.objects.get(response_id="6f1c0c1e-0001")
    assert stored.identity_hash == kobo.identity_hash != ""


def test_the_template_round_trips(as_user, admin_a, service_form):
    client = as_user(admin_a)
    header = client.get(url("template", form="service")).content.decode().strip().split(",")
    assert header[:4] == ["response_id", "start", "end", "used_service"]
    row = {"response_id": "tmpl-0001", "used_service": "ya", "s_service_1": "1", "s_service_2": "2"}
    row |= {"s_service_3": "4", "age_band": "15-24", "sex": "perempuan", "district": "Pagar Merbau"}
    data = csv_bytes(header, [[row.get(h, "") for h in header]])
    assert "1 responses added" in upload(client, data, kind="template").text
    assert Response.objects.get(response_id="tmpl-0001").sex == "f"


def test_reimporting_the_same_file_adds_nothing_and_says_so(as_user, admin_a, service_form):
    client = as_user(admin_a)
    upload(client, kobo_csv(), kind="kobo")
    again = upload(client, kobo_csv(), kind="kobo")
    assert "was imported before: nothing was added" in again.text
    assert Response.objects.count() == 3
    second = ImportBatch.objects.order_by("-id").first()
    assert (second.rows_added, second.rows_skipped_duplicate) == (0, 3)


def test_an_overlapping_export_adds_only_the_new_rows(admin_a, service_form):
    responses_import(
        form=service_form,
        data=csv_bytes(KOBO_HEADER, KOBO_ROWS[:2], ";"),
        file_name="a.csv",
        kind="kobo",
        user=admin_a,
    )
    result = responses_import(
        form=service_form, data=kobo_csv(), file_name="b.csv", kind="kobo", user=admin_a
    )
    assert (result.added, result.skipped) == (1, 2)
    assert Response.objects.count() == 3


def test_a_web_response_is_not_duplicated_by_an_import_of_the_same_id(admin_a, service_form):
    Response.objects.create(form=service_form, response_id="6f1c0c1e-0001", source="web", used_service=True)
    result = responses_import(
        form=service_form, data=kobo_csv(), file_name="k.csv", kind="kobo", user=admin_a
    )
    assert (result.added, result.skipped) == (2, 1)
    assert Response.objects.get(response_id="6f1c0c1e-0001").source == "web"  # never overwritten


def broken_missing_column() -> bytes:
    drop = KOBO_HEADER.index("penilaian/s_service_2")
    return csv_bytes(
        [h for i, h in enumerate(KOBO_HEADER) if i != drop],
        [[v for i, v in enumerate(r) if i != drop] for r in KOBO_ROWS],
        ";",
    )


def broken_answer_5() -> bytes:
    rows = [list(r) for r in KOBO_ROWS]
    rows[1][KOBO_HEADER.index("penilaian/s_service_3")] = "5"
    return csv_bytes(KOBO_HEADER, rows, ";")


def broken_encoding() -> bytes:
    rows = [list(r) for r in ODK_ROWS]
    rows[1][ODK_HEADER.index("district")] = "Sei Tuan Selatan – Désa"
    return csv_bytes(ODK_HEADER, rows).decode("utf-8").encode("cp1252")


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (broken_missing_column(), "column 's_service_2'"),
        (broken_answer_5(), "row 3, column 'penilaian/s_service_3'"),
        (broken_encoding(), "not UTF-8"),
    ],
    ids=["missing-column", "answer-5", "bad-encoding"],
)
def test_a_broken_file_is_refused_whole_with_its_row_and_column(
    as_user, admin_a, service_form, data, expected
):
    response = upload(as_user(admin_a), data)
    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert expected in html.unescape(response.text)
    assert Response.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_the_row_of_a_bad_encoding_is_named(admin_a, service_form):
    with pytest.raises(ImportRejected) as refused:
        responses_import(
            form=service_form, data=broken_encoding(), file_name="x.csv", kind="odk", user=admin_a
        )
    # Named once, by the message itself (not "row 3: … on line 3").
    message = refused.value.errors[0]
    assert "on line 3" in message and "row 3" not in message


def test_a_file_of_another_tool_is_refused_with_the_reason(admin_a, service_form):
    with pytest.raises(ImportRejected) as refused:
        responses_import(
            form=service_form, data=b"name,age\nA,3\n", file_name="x.csv", kind="auto", user=admin_a
        )
    assert "cannot tell which tool" in refused.value.errors[0]
