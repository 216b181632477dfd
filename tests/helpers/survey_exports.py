"""Offline survey exports for the engine's reader: three submissions written as KoboToolbox
(CSV, XLSX), ODK Central and cityeval-template files, and the table they must all read into."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime

import polars as pl
import xlsxwriter

from cityeval.engine import load_framework
from cityeval.engine.survey import build_forms, response_columns, template_csv

SALT = "region-A-secret"
FORM = build_forms(load_framework("gmsc-2024"))[0]  # service: s_service_1..3


# Three submissions as the respondent gave them.
SUBMISSIONS = [
    {
        "uuid": "1b2c3d4e-0000-4000-8000-000000000001",
        "start": "2024-10-01T09:15:02.123+07:00",
        "end": "2024-10-01T09:19:40.456+07:00",
        "used": "yes",
        "answers": ("3", "4", "2"),
        "age": "25-34",
        "sex": "f",
        "district": "Lubuk Pakam",
        "phone": "0812-3456-7890",
        "assisted": "no",
    },
    {
        "uuid": "1b2c3d4e-0000-4000-8000-000000000002",
        "start": "2024-10-01T10:00:00.000+07:00",
        "end": "2024-10-01T10:00:30.000+07:00",
        "used": "no",
        "answers": ("", "", ""),
        "age": "",
        "sex": "",
        "district": "",
        "phone": "",
        "assisted": "",
    },
    {
        "uuid": "1b2c3d4e-0000-4000-8000-000000000003",
        "start": "2024-10-02T08:00:00.000+07:00",
        "end": "2024-10-02T08:05:00.000+07:00",
        "used": "yes",
        "answers": ("0", "1", "4"),
        "age": "65+",
        "sex": "m",
        "district": "Tanjung Morawa",
        "phone": "+62 813 1111 2222",
        "assisted": "yes",
    },
]


KOBO_HEADER = [
    "start", "end", "used_service", "statements/s_service_1", "statements/s_service_2",
    "statements/s_service_3", "respondent/age_band", "respondent/sex", "respondent/district",
    "respondent/phone", "assisted", "meta/instanceID", "_id", "_uuid", "_submission_time",
    "_validation_status", "_notes", "_status", "_submitted_by", "__version__", "_tags", "_index",
]  # fmt: skip


ODK_HEADER = [
    "SubmissionDate", "start", "end", "used_service", "statements-s_service_1", "statements-s_service_2",
    "statements-s_service_3", "respondent-age_band", "respondent-sex", "respondent-district",
    "respondent-phone", "assisted", "meta-instanceID", "KEY", "SubmitterID", "SubmitterName",
    "AttachmentsPresent", "AttachmentsExpected", "Status", "ReviewState", "DeviceID", "Edits", "FormVersion",
]  # fmt: skip


def kobo_rows() -> list[list[str]]:
    rows = []
    for i, s in enumerate(SUBMISSIONS, start=1):
        values = [s["start"], s["end"], s["used"], *s["answers"], s["age"], s["sex"], s["district"]]
        values += [s["phone"], s["assisted"], f"uuid:{s['uuid']}", str(100 + i), s["uuid"]]
        values += ["2024-10-02T01:00:00", "", "[]", "submitted_via_web", "", "vAbC", "[]", str(i)]
        rows.append(values)
    return rows


def kobo_csv() -> bytes:
    lines = [";".join(f'"{h}"' for h in KOBO_HEADER)]
    lines += [";".join(f'"{v}"' for v in row) for row in kobo_rows()]
    return ("\n".join(lines) + "\n").encode("utf-8")


def kobo_xlsx() -> bytes:
    buffer = io.BytesIO()
    workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
    sheet = workbook.add_worksheet("cityeval_service")
    sheet.write_row(0, 0, KOBO_HEADER)
    for r, row in enumerate(kobo_rows(), start=1):
        for c, value in enumerate(row):
            if KOBO_HEADER[c].startswith("statements/") and value:
                sheet.write_number(r, c, int(value))
            elif value:
                sheet.write_string(r, c, value)
    workbook.close()
    return buffer.getvalue()


def odk_csv() -> bytes:
    lines = [",".join(ODK_HEADER)]
    for s in SUBMISSIONS:
        values = [
            "2024-10-02T01:00:00.000Z",
            s["start"],
            s["end"],
            s["used"],
            *s["answers"],
            s["age"],
            s["sex"],
        ]
        values += [s["district"], s["phone"], s["assisted"], f"uuid:{s['uuid']}", f"uuid:{s['uuid']}"]
        values += ["7", "enumerator 1", "0", "0", "", "", "collect:abc", "0", "2024100101"]
        lines.append(",".join(values))
    return ("\n".join(lines) + "\n").encode("utf-8")


def template_bytes(rows: list[list[str]] | None = None) -> bytes:
    header = template_csv(FORM).decode().strip()
    if rows is None:
        rows = [[s["uuid"], s["start"], s["end"], s["used"], *s["answers"], *_person(s)] for s in SUBMISSIONS]
    return (header + "\n" + "\n".join(",".join(r) for r in rows) + "\n").encode()


def _person(s: dict) -> list[str]:
    return [s["age"], s["sex"], s["district"], s["phone"], s["assisted"]]


def expected() -> pl.DataFrame:
    def utc(*parts: int) -> datetime:
        return datetime(*parts, tzinfo=UTC)

    phone_hash = hashlib.sha256((SALT + "6281234567890").encode()).hexdigest()
    other_hash = hashlib.sha256((SALT + "6281311112222").encode()).hexdigest()
    return pl.DataFrame(
        {
            "response_id": [s["uuid"] for s in SUBMISSIONS],
            "form": ["service"] * 3,
            "started_at": [utc(2024, 10, 1, 2, 15, 2, 123000), utc(2024, 10, 1, 3), utc(2024, 10, 2, 1)],
            "ended_at": [
                utc(2024, 10, 1, 2, 19, 40, 456000),
                utc(2024, 10, 1, 3, 0, 30),
                utc(2024, 10, 2, 1, 5),
            ],
            "used_service": [True, False, True],
            "s_service_1": [3, None, 0],
            "s_service_2": [4, None, 1],
            "s_service_3": [2, None, 4],
            "age_band": ["25-34", None, "65+"],
            "sex": ["f", None, "m"],
            "district": ["Lubuk Pakam", None, "Tanjung Morawa"],
            "identity_hash": [phone_hash, None, other_hash],
            "assisted": [False, None, True],
            "review_state": [None, None, None],
        },
        schema=response_columns(FORM),
    )
