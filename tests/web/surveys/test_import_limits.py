"""Survey response imports are bounded before they are parsed (the SURVEY_IMPORT_* settings),
answer 400 naming the limit and store nothing; an over-long submission id is a row error."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.engine.limits import MB
from cityeval.web.surveys.models import ImportBatch, Response
from tests.helpers.web_surveys import KOBO_HEADER, KOBO_ROWS, csv_bytes, kobo_csv, url
from tests.zipbombs import OLE_XLS, declare_unpacked, sheet_xlsx


def _post(client, data: bytes, name: str = "export.csv"):
    return client.post(
        url("import"), {"form": "service", "kind": "auto", "file": SimpleUploadedFile(name, data)}
    )


def _stored() -> tuple[int, int]:
    return Response.objects.count(), ImportBatch.objects.count()


BOMBS = {
    "rows": (
        {"SURVEY_IMPORT_MAX_ROWS": 2},
        "k.csv",
        kobo_csv(),
        "The table has more rows than the limit of 2.",
    ),
    "columns": (
        {"SURVEY_IMPORT_MAX_COLUMNS": 10},
        "k.csv",
        kobo_csv(),
        "The table has 17 columns, over the limit of 10.",
    ),
    "size": (
        {"SURVEY_IMPORT_MAX_MB": 1},
        "k.csv",
        kobo_csv() + b"x" * MB,
        "The file is larger than the limit of 1 MB.",
    ),
    "unpacked": (
        {"SURVEY_IMPORT_MAX_UNPACKED_MB": 100},
        "k.xlsx",
        # What the 1.4 MB bomb's directory declares: 315 MB of sheet XML.
        declare_unpacked(sheet_xlsx([["_uuid"], ["x"]]), "xl/worksheets/sheet1.xml", 315 * MB),
        "The spreadsheet unpacks to 315 MB, over the limit of 100 MB.",
    ),
    "xls": ({}, "k.xls", OLE_XLS, "Old Excel .xls files are not accepted: save the file as .xlsx or CSV."),
}


@pytest.mark.parametrize("bomb", BOMBS)
def test_a_survey_export_over_a_limit_is_refused_with_400(as_user, admin_a, service_form, settings, bomb):
    overrides, name, data, message = BOMBS[bomb]
    for key, value in overrides.items():
        setattr(settings, key, value)
    response = _post(as_user(admin_a), data, name)
    assert response.status_code == 400
    assert message in response.content.decode()
    assert _stored() == (0, 0)


def test_the_default_survey_limits_refuse_the_922k_row_sheet(as_user, admin_a, service_form):
    """The sheet's dimension declares 922,001 rows; the default allows 500,000."""
    data = sheet_xlsx([["_uuid"], ["x"]], dimension="A1:Q922001")
    response = _post(as_user(admin_a), data, "bomb.xlsx")
    assert response.status_code == 400
    assert "The table has more rows than the limit of 500000." in response.content.decode()
    assert _stored() == (0, 0)


def test_a_submission_id_longer_than_its_column_is_a_row_error(as_user, admin_a, service_form):
    """Response.response_id holds 100 characters: PostgreSQL refused the insert with a 500."""
    rows = [list(r) for r in KOBO_ROWS]
    rows[1][KOBO_HEADER.index("_uuid")] = "u" * 101
    response = _post(as_user(admin_a), csv_bytes(KOBO_HEADER, rows, ";"))
    assert response.status_code == 400
    assert "row 3, column &#x27;_uuid&#x27;: the submission id has 101 characters; at most 100 are kept" in (
        response.content.decode()
    )
    assert _stored() == (0, 0)
