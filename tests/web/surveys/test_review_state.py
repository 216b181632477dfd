"""Reviewers' marks made in KoboToolbox or ODK Central travel with an import: the row is
stored with its review state, and a rejected row is shown as excluded, not counted."""

from __future__ import annotations

import io
import zipfile

from cityeval.web.surveys.models import Response
from cityeval.web.surveys.responses import responses_import
from cityeval.web.surveys.selectors import form_rows, quality_of
from tests.helpers.web_surveys import (
    KOBO_HEADER,
    KOBO_ROWS,
    ODK_HEADER,
    ODK_ROWS,
    csv_bytes,
    url,
)


def test_a_row_rejected_in_kobo_is_stored_marked_and_excluded(as_user, admin_a, service_form):
    status = KOBO_HEADER.index("_validation_status")
    rows = [list(r) for r in KOBO_ROWS]
    rows[1][status] = "validation_status_not_approved"
    rows[0][status] = "validation_status_approved"
    data = csv_bytes(KOBO_HEADER, rows, ";")
    responses_import(form=service_form, data=data, file_name="k.csv", kind="kobo", user=admin_a)
    stored = {r.response_id: r.review_state for r in Response.objects.filter(form=service_form)}
    assert stored == {"6f1c0c1e-0001": "approved", "6f1c0c1e-0002": "rejected", "6f1c0c1e-0003": ""}
    plan = service_form.plan
    row = {r.form.code: r for r in form_rows(plan, quality_of(plan))}["service"]
    # Row 3 did not use the service; row 2 was rejected: one valid response of three.
    assert (row.received, row.valid, row.excluded["rejected"], row.excluded["not_user"]) == (3, 1, 1, 1)
    html = as_user(admin_a).get(url("quality")).text
    assert html.count('class="reason-rejected"') == 1  # the excluded row, with why
    assert "Rejected by reviewer" in html or "Ditolak peninjau" in html


def test_an_odk_central_zip_with_a_rejected_row_is_imported(admin_a, service_form):
    review = ODK_HEADER.index("ReviewState")
    rows = [list(r) for r in ODK_ROWS]
    rows[0][review] = "rejected"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("cityeval_service.csv", csv_bytes(ODK_HEADER, rows))
        archive.writestr("media/1.jpg", b"\xff\xd8\xff")
    result = responses_import(
        form=service_form, data=buffer.getvalue(), file_name="x.csv.zip", kind="auto", user=admin_a
    )
    assert result.added == 2
    assert Response.objects.get(response_id="0d9e-0001").review_state == "rejected"
    assert quality_of(service_form.plan).valid["response_id"].to_list() == ["0d9e-0002"]
