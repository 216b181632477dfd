"""Survey exports as the tools really write them: reviewers' marks, ODK Central's zip, Kobo's
group separators and its labels exports.

The files are the layouts of ``test_survey_imports`` (KoboToolbox "XML values and headers" CSV,
ODK Central CSV) with the one thing each test is about changed, the way the tool writes it:
KoboToolbox keeps a reviewer's mark in ``_validation_status`` as the status uid
(``validation_status_not_approved``) or, in some exports, its label (``Not Approved``); ODK
Central in ``ReviewState`` (blank, ``hasIssues``, ``edited``, ``approved``, ``rejected``). ODK
Central's "Download all data" gives ``<form id>.csv.zip`` with ``<form id>.csv``, one
``<form id>-<repeat>.csv`` per repeat group and ``media/`` attachments.
"""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.helpers.survey_exports import (
    FORM,
    KOBO_HEADER,
    ODK_HEADER,
    SALT,
    expected,
    kobo_csv,
    kobo_rows,
    odk_csv,
)

from cityeval.engine import InputError
from cityeval.engine.survey import check_responses, read_responses, statement_stats


def kobo_with_status(statuses: list[str], *, separator: str = "/") -> bytes:
    """The Kobo CSV with ``_validation_status`` set per row (and groups joined by ``separator``)."""
    column = KOBO_HEADER.index("_validation_status")
    header = [h.replace("/", separator) for h in KOBO_HEADER]
    rows = kobo_rows()
    for row, status in zip(rows, statuses, strict=True):
        row[column] = status
    lines = [";".join(f'"{h}"' for h in header)] + [";".join(f'"{v}"' for v in row) for row in rows]
    return ("\n".join(lines) + "\n").encode()


def odk_with_review(states: list[str]) -> bytes:
    column = ODK_HEADER.index("ReviewState")
    lines = odk_csv().decode().splitlines()
    out = [lines[0]]
    for line, state in zip(lines[1:], states, strict=True):
        values = line.split(",")
        values[column] = state
        out.append(",".join(values))
    return ("\n".join(out) + "\n").encode()


def odk_zip(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- reviewers' marks -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "rejected",
    ["validation_status_not_approved", "Not Approved"],
    ids=["status-uid", "status-label"],
)
def test_a_row_rejected_in_kobo_is_kept_marked_and_left_out_of_the_statistics(rejected):
    """Row 3 (answers 0, 1, 4) is rejected: the statistics are row 1's alone (3, 4, 2; row 2
    did not use the service), by hand."""
    data = kobo_with_status(["validation_status_approved", "validation_status_on_hold", rejected])
    table = read_responses(data, form=FORM, identity_salt=SALT)
    assert table.height == 3
    assert table["review_state"].to_list() == ["approved", "on_hold", "rejected"]
    report = check_responses(table, min_seconds=None)
    assert report.responses["reason"].to_list() == [None, "not_user", "rejected"]
    summary = report.forms.row(0, named=True)
    assert (summary["n_received"], summary["n_valid"], summary["excluded_rejected"]) == (3, 1, 1)
    stats = statement_stats(report.valid)
    assert stats["mean"].to_list() == [3.0, 4.0, 2.0] and stats["n"].to_list() == [1, 1, 1]


def test_a_row_rejected_in_odk_central_is_excluded_and_the_others_kept():
    data = odk_with_review(["approved", "hasIssues", "rejected"])
    table = read_responses(data, form=FORM, identity_salt=SALT)
    assert table["review_state"].to_list() == ["approved", "has_issues", "rejected"]
    report = check_responses(table, min_seconds=None)
    assert report.responses["reason"].to_list() == [None, "not_user", "rejected"]
    assert report.valid["response_id"].to_list() == [table["response_id"][0]]


def test_rejected_rows_count_when_asked_and_statistics_leave_them_out_even_unchecked():
    """Answers of the used-service rows 1 and 3: s_service_1 = 3 and 0. With row 3 rejected the
    mean is 3; counted anyway it is 1.5 (by hand)."""
    table = read_responses(odk_with_review(["", "", "rejected"]), form=FORM, identity_salt=SALT)
    users = table.filter(pl.col("used_service"))
    assert statement_stats(users, statements=["service.1"])["mean"].to_list() == [3.0]
    assert statement_stats(users, statements=["service.1"], exclude_rejected=False)["mean"].to_list() == [1.5]
    kept = check_responses(table, min_seconds=None, exclude_rejected=False)
    assert kept.responses["reason"].to_list() == [None, "not_user", None]


def test_an_unknown_review_state_is_refused_with_its_row():
    with pytest.raises(InputError, match=r"row 3, column 'ReviewState'.*'maybe' is not a review state"):
        read_responses(odk_with_review(["", "maybe", ""]), form=FORM, identity_salt=SALT)


# --- ODK Central's zip ------------------------------------------------------------------------


def test_the_odk_central_zip_is_read_from_its_main_csv():
    data = odk_zip(
        {
            "cityeval_service.csv": odk_csv(),
            "cityeval_service-statements.csv": b"PARENT_KEY,KEY\nuuid:x,uuid:x/statements[1]\n",
            "media/1700000000000.jpg": b"\xff\xd8\xff\xe0 not a real photo",
        }
    )
    assert_frame_equal(read_responses(data, form=FORM, identity_salt=SALT), expected())
    assert_frame_equal(read_responses(data, form=FORM, kind="odk", identity_salt=SALT), expected())


def test_a_zip_with_too_many_members_is_refused_before_reading():
    members = {"cityeval_service.csv": odk_csv()} | {f"media/{i}.jpg": b"x" for i in range(20)}
    with pytest.raises(InputError, match="the zip holds 21 files, more than the limit of 10"):
        read_responses(odk_zip(members), form=FORM, identity_salt=SALT, zip_max_members=10)


def test_a_main_csv_larger_than_the_limit_is_refused():
    data = odk_zip({"cityeval_service.csv": odk_csv()})
    expected_message = r"cityeval_service\.csv in the zip unpacks to more than the limit of 100 bytes"
    with pytest.raises(InputError, match=expected_message):
        read_responses(data, form=FORM, identity_salt=SALT, zip_max_csv_bytes=100)


def test_a_main_csv_that_lies_about_its_size_is_refused_as_damaged():
    """The declared size is the uploader's to write; reading stops there and the mismatch is
    reported instead of read on (by the bounds checked on every zip, before the CSV is sought)."""
    size = len(odk_csv()).to_bytes(4, "little")
    data = odk_zip({"cityeval_service.csv": odk_csv()}).replace(size, (10).to_bytes(4, "little"))
    with pytest.raises(InputError, match="the file is damaged: a part is larger or smaller than it declares"):
        read_responses(data, form=FORM, identity_salt=SALT, zip_max_csv_bytes=100)


def test_a_zip_without_one_main_csv_says_what_it_holds():
    data = odk_zip({"a.csv": odk_csv(), "b.csv": odk_csv()})
    with pytest.raises(InputError, match=r"needs one main CSV \(its CSV files: a, b\)"):
        read_responses(data, form=FORM, identity_salt=SALT)


# --- KoboToolbox headers ----------------------------------------------------------------------


@pytest.mark.parametrize("separator", [".", ":"])
def test_kobo_group_separators_other_than_slash_are_read(separator):
    data = kobo_with_status(["", "", ""], separator=separator)
    assert b"statements" + separator.encode() + b"s_service_1" in data
    assert_frame_equal(read_responses(data, form=FORM, identity_salt=SALT), expected())


def test_a_kobo_labels_export_is_recognised_and_the_right_export_named():
    labels = {
        "used_service": "Apakah Anda pernah menggunakan layanan ini?",
        "statements/s_service_1": "Pernyataan/Layanan mudah diakses",
    }
    data = kobo_csv()
    for name, label in labels.items():
        data = data.replace(f'"{name}"'.encode(), f'"{label}"'.encode(), 1)
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    message = str(caught.value)
    assert "KoboToolbox export with labels" in message
    assert 'Data → Downloads with Value and header format "XML values and headers"' in message


def test_a_kobo_export_with_label_values_is_recognised():
    data = kobo_csv().replace(b'"3";"4";"2"', b'"Setuju";"Sangat setuju";"Netral"')
    with pytest.raises(InputError, match=r"the answers are labels \('setuju'\).*XML values and headers"):
        read_responses(data, form=FORM, identity_salt=SALT)


def test_a_kobo_labels_export_with_one_word_labels_still_gets_the_hint():
    """Short labels ("Pengguna", "Usia") hold no spaces; the missing screening question, which
    every cityeval form asks first, still points to the export setting."""
    data = kobo_csv().replace(b'"used_service"', b'"Pengguna"', 1)
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert "no column 'used_service'" in str(caught.value)
    assert '"XML values and headers"' in str(caught.value)
