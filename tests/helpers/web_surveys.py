"""The survey tests' region and cycle, persona groups, URL builders, stored responses, the
public form's POST data, the plan page's POST data and offline exports (Kobo, ODK) of region A's
service form."""

from __future__ import annotations

import datetime as dt
import io
import uuid

import xlsxwriter
from django.urls import reverse

from cityeval.web.surveys.models import Response, SurveyForm

REGION_A = "kab-deli-serdang"
REGION_B = "kota-medan"
CYCLE = "gmsc-2024"
READERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
NOT_ADMINS = ["opd_a", "opd_a2", "coordinator"]
OUTSIDERS = ["admin_b", "opd_b", "nobody"]


def persona(request, name: str):
    return None if name == "anonymous" else request.getfixturevalue(name)


def url(name: str, region: str = REGION_A, **kwargs) -> str:
    return reverse(f"surveys:{name}", kwargs={"region": region, "cycle": CYCLE, **kwargs})


def public_url(form: SurveyForm) -> str:
    return reverse("surveys:public", kwargs={"token": form.token})


def started_ago(seconds: float = 300, *, form: SurveyForm, response_id: str) -> str:
    """A signed start stamp for ``response_id`` on ``form`` as the page puts it, ``seconds`` ago
    (signed then, too)."""
    import time
    from unittest import mock

    from cityeval.web.surveys.forms import started_token

    then = time.time() - seconds
    with (
        mock.patch("django.core.signing.time.time", return_value=then),
        mock.patch(
            "cityeval.web.surveys.forms.timezone.now", return_value=dt.datetime.fromtimestamp(then, dt.UTC)
        ),
    ):
        return started_token(form, response_id)


def answers_post(form: SurveyForm, *, response_id: str, used: str = "yes", value: int = 3, **extra) -> dict:
    """The POST data of the public questionnaire, answering every statement (the page was
    rendered five minutes before)."""
    from cityeval.engine.survey import question_name

    data = {
        "response_id": response_id,
        "started": started_ago(form=form, response_id=response_id),
        "used_service": used,
        "age_band": "25-34",
        "sex": "f",
        "district": "Lubuk Pakam",
    }
    if used == "yes":
        for n, code in enumerate(form.statements):
            data[question_name(code)] = str((value + n) % 5)
    data.update(extra)
    return data


def respond(form: SurveyForm, answers: dict, *, used: bool = True, source: str = "web", **fields):
    """A stored response written directly, for read tests."""

    return Response.objects.create(
        form=form, response_id=str(uuid.uuid4()), source=source, used_service=used, answers=answers, **fields
    )


KOBO_HEADER = [
    "start", "end", "used_service", "penilaian/s_service_1", "penilaian/s_service_2", "penilaian/s_service_3",
    "age_band", "sex", "district", "phone", "assisted", "meta/instanceID", "_id", "_uuid",
    "_submission_time", "_validation_status", "_index",
]  # fmt: skip


KOBO_ROWS = [
    ["2024-10-01T09:15:00.000+07:00", "2024-10-01T09:19:30.000+07:00", "yes", "3", "4", "2", "25-34", "f",
     "Lubuk Pakam", "0812 1111 2222", "no", "uuid:6f1c0c1e-0001", "101", "6f1c0c1e-0001",
     "2024-10-01T02:20:00", "", "1"],
    ["2024-10-01T10:00:00.000+07:00", "2024-10-01T10:05:00.000+07:00", "yes", "4", "4", "3", "35-44", "m",
     "Tanjung Morawa", "", "yes", "uuid:6f1c0c1e-0002", "102", "6f1c0c1e-0002",
     "2024-10-01T03:06:00", "", "2"],
    ["2024-10-01T11:00:00.000+07:00", "2024-10-01T11:01:30.000+07:00", "no", "", "", "", "", "", "", "", "",
     "uuid:6f1c0c1e-0003", "103", "6f1c0c1e-0003", "2024-10-01T04:02:00", "", "3"],
]  # fmt: skip


ODK_HEADER = [
    "SubmissionDate", "start", "end", "used_service", "s_service_1", "s_service_2", "s_service_3", "age_band",
    "sex", "district", "phone", "assisted", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName",
    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
]  # fmt: skip


ODK_ROWS = [
    ["2024-10-02T02:00:00.000Z", "2024-10-02T08:50:00.000+07:00", "2024-10-02T08:58:00.000+07:00", "yes",
     "2", "3", "3", "45-54", "f", "Batang Kuis", "+62 812 1111 2222", "no", "uuid:0d9e-0001",
     "uuid:0d9e-0001", "5", "enumerator1", "0", "0", "", "", "collect:abc", "0", "2024100101"],
    ["2024-10-02T02:30:00.000Z", "2024-10-02T09:20:00.000+07:00", "2024-10-02T09:27:00.000+07:00", "yes",
     "1", "2", "3", "55-64", "m", "Percut Sei Tuan", "", "yes", "uuid:0d9e-0002", "uuid:0d9e-0002",
     "5", "enumerator1", "0", "0", "", "", "collect:abc", "0", "2024100101"],
]  # fmt: skip


def csv_bytes(header: list[str], rows: list[list[str]], separator: str = ",") -> bytes:
    lines = [separator.join(header)] + [separator.join(row) for row in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def xlsx_bytes(header: list[str], rows: list[list[str]]) -> bytes:
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet("Kobo export")
    sheet.write_row(0, 0, header)
    for n, row in enumerate(rows, start=1):
        sheet.write_row(n, 0, row)
    book.close()
    return out.getvalue()


def kobo_csv() -> bytes:
    return csv_bytes(KOBO_HEADER, KOBO_ROWS, ";")


def odk_csv() -> bytes:
    return csv_bytes(ODK_HEADER, ODK_ROWS)


def plan_post(**changes) -> dict:
    data = {"target": "50", "demographics": "on"}
    for dim in ("governance", "branding", "economy", "living", "society", "environment"):
        data[f"mode_{dim}"] = "split"
    data.update(changes)
    return data
