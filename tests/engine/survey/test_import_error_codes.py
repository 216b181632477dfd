"""Every error a survey import (and the survey weighting) raises for a user carries a code and
parameters beside its English message, so that the web can say it in the page's language
(issue 11 item 7). Each case reads a real bad file (a small Kobo, ODK Central or template
export, written here) and checks the code and the parameters; the English message, which the
CLI prints, is checked where its wording matters.

The expected parameters come from the bad file itself: the value written in it, its row as a
spreadsheet numbers it (header = row 1), the columns it lacks.
"""

from __future__ import annotations

import io
import zipfile

import polars as pl
import pytest
from tests.helpers.engine import TINY
from tests.helpers.survey_exports import FORM, SALT, SUBMISSIONS, kobo_csv, odk_csv, template_bytes

from cityeval.engine import InputError, load_framework, parse_framework
from cityeval.engine.survey import RakingError, form_by_code, rake, read_responses, template_csv

HEADER = template_csv(FORM).decode().strip().split(",")
BANDS = "15-24, 25-34, 35-44, 45-54, 55-64, 65+"


def row(**changes: str) -> list[str]:
    """The first submission as a template row, with some values changed (by column name)."""
    s = SUBMISSIONS[0]
    values = dict.fromkeys(HEADER, "")
    values.update(response_id=s["uuid"], start=s["start"], end=s["end"], used_service=s["used"])
    values.update(zip(FORM.questions, s["answers"], strict=True))
    values.update(
        age_band=s["age"], sex=s["sex"], district=s["district"], phone=s["phone"], assisted=s["assisted"]
    )
    values.update(changes)
    return [values[h] for h in HEADER]


def refused(data: bytes | str, **options) -> InputError:
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT, **options)
    return caught.value


def zipped(members: dict[str, bytes], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return buffer.getvalue()


# --- values that are not what the column holds -------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "column", "code", "params"),
    [
        ({"start": "yesterday 9am"}, "start", "not_a_timestamp", {"value": "yesterday 9am"}),
        ({"end": "2024-13-45 25:00:00"}, "end", "not_a_timestamp", {"value": "2024-13-45 25:00:00"}),
        ({"used_service": "maybe"}, "used_service", "not_yes_no", {"value": "maybe"}),
        ({"assisted": "kadang"}, "assisted", "not_yes_no", {"value": "kadang"}),
        ({"s_service_2": "5"}, "s_service_2", "not_an_answer", {"value": "5"}),
        ({"s_service_1": "sangat"}, "s_service_1", "not_an_answer", {"value": "sangat"}),
        ({"age_band": "12-14"}, "age_band", "not_an_age_band", {"value": "12-14", "bands": BANDS}),
        ({"sex": "x"}, "sex", "not_a_sex", {"value": "x"}),
        ({"response_id": ""}, "response_id", "empty_value", {}),
    ],
)
def test_a_bad_value_is_coded_with_the_value_and_its_place(changes, column, code, params):
    error = refused(template_bytes([row(**changes)]))
    assert (error.code, error.params, error.row, error.column) == (code, params, 2, column)


def test_an_answer_outside_the_range_keeps_its_english_message():
    error = refused(template_bytes([row(), row(s_service_2="7")]))
    assert (error.code, error.params) == ("not_an_answer", {"value": "7"})
    assert str(error) == "row 3, column 's_service_2': '7' is not an answer 0, 1, 2, 3 or 4"


def test_an_unknown_review_state_is_coded():
    header = ",".join(HEADER) + ",review_state"
    data = f"{header}\n{','.join(row())},maybe later\n".encode()
    error = refused(data)
    assert (error.code, error.params, error.row, error.column) == (
        "not_a_review_state",
        {"value": "maybe later"},
        2,
        "review_state",
    )


def test_further_bad_values_are_counted_and_placed_in_the_params():
    """Three bad values: the first is the error, the other two are counted (``more``) and placed
    (``others``, row and column in the order a reader meets them)."""
    rows = [row(s_service_1="5"), row(s_service_2="9"), row(used_service="maybe")]
    error = refused(template_bytes(rows))
    assert (error.code, error.row, error.column) == ("not_an_answer", 2, "s_service_1")
    assert error.params == {"value": "5", "more": 2, "others": [(3, "s_service_2"), (4, "used_service")]}
    assert str(error) == (
        "row 2, column 's_service_1': '5' is not an answer 0, 1, 2, 3 or 4 "
        "(2 more bad values: row 3, column 's_service_2'; row 4, column 'used_service')"
    )


def test_more_bad_values_than_are_placed_are_counted_all():
    """Seven bad answers: four others are placed (five problems are looked at), six counted."""
    error = refused(template_bytes([row(s_service_3="8") for _ in range(7)]))
    assert error.params["more"] == 6
    assert error.params["others"] == [(r, "s_service_3") for r in (3, 4, 5, 6)]


def test_a_submission_id_longer_than_kept_is_coded():
    error = refused(template_bytes([row()]), max_id_length=10)
    assert (error.code, error.params, error.row, error.column) == (
        "submission_id_too_long",
        {"found": 36, "allowed": 10},
        2,
        "response_id",
    )


# --- columns -------------------------------------------------------------------------------------


def test_a_file_no_tool_wrote_is_coded():
    assert (refused(b"name,score\nA,3\n").code, refused(b"name,score\nA,3\n").params) == (
        "unknown_exporter",
        {},
    )


def test_a_missing_statement_column_names_the_column_and_the_form():
    data = template_bytes([row()]).replace(b"s_service_2", b"s_service_9", 1)
    error = refused(data)
    assert (error.code, error.params, error.column) == (
        "missing_form_column",
        {"column": "s_service_2", "form": "service"},
        "s_service_2",
    )


def test_a_kobo_export_without_the_screening_question_gets_the_export_hint_code():
    data = kobo_csv().replace(b'"used_service"', b'"Pengguna"', 1)
    error = refused(data)
    assert (error.code, error.params) == (
        "missing_screening_column",
        {"column": "used_service", "form": "service"},
    )
    assert '"XML values and headers"' in str(error)


def test_a_kobo_export_with_labels_as_headers_is_coded():
    data = kobo_csv().replace(b'"used_service"', b'"Apakah Anda pernah menggunakan layanan ini?"', 1)
    error = refused(data)
    assert (error.code, error.params) == ("kobo_label_headers", {})


def test_a_kobo_export_with_label_values_is_coded_with_the_first_label():
    data = kobo_csv().replace(b'"3";"4";"2"', b'"Setuju";"Sangat setuju";"Netral"')
    error = refused(data)
    assert (error.code, error.params, error.column) == (
        "kobo_label_values",
        {"value": "setuju"},
        "statements/s_service_1",
    )


def test_two_columns_for_one_question_are_coded():
    header = ",".join(HEADER) + ",extra/s_service_1"
    data = f"{header}\n{','.join(row())},3\n".encode()
    error = refused(data)
    assert (error.code, error.params, error.column) == (
        "column_twice",
        {"key": "s_service_1", "first": "s_service_1", "second": "extra/s_service_1"},
        "extra/s_service_1",
    )


def test_a_header_naming_a_question_twice_is_coded():
    """The same name twice (not two group paths): polars would have renamed the second copy."""
    header = ",".join(HEADER) + ",s_service_1"
    error = refused(f"{header}\n{','.join(row())},0\n".encode())
    assert (error.code, error.params) == ("repeated_column", {"column": "s_service_1"})


def test_an_odk_file_without_its_submission_id_is_coded():
    error = refused(template_bytes([row()]), kind="odk")
    assert (error.code, error.params, error.column) == (
        "no_submission_id_column",
        {"columns": "key, instanceid"},
        "key",
    )


# --- the file itself -----------------------------------------------------------------------------


def test_an_empty_file_is_coded():
    assert (refused(b"").code, refused(b" \n").code) == ("empty_file", "empty_file")


def test_a_file_not_in_utf8_names_the_byte_and_line():
    data = template_bytes([row(district="Lubuk Pakam")]).replace(b"Pakam", b"P\xe9kam")
    error = refused(data)
    assert (error.code, error.params, error.row) == ("not_utf8", {"byte": "0xe9", "line": 2}, 2)


def test_a_short_row_is_coded_with_its_counts():
    data = template_bytes([row()]) + b"abc-123,,,yes\n"
    error = refused(data)
    assert (error.code, error.params) == ("short_row", {"row": 3, "values": 4, "columns": 12})


def test_a_malformed_csv_is_coded_with_the_parsers_words():
    error = refused(b'response_id,used_service\nabc,"yes"x"\n')
    assert error.code == "malformed_csv"
    assert error.params["detail"].startswith("could not parse")


def test_a_file_that_is_no_spreadsheet_is_coded():
    error = refused(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1not a workbook at all")
    assert error.code == "not_a_spreadsheet"
    assert error.params["detail"] and "\n" not in error.params["detail"]


def test_a_missing_or_unreadable_path_is_coded(tmp_path):
    missing = refused(tmp_path / "none.csv")
    assert (missing.code, missing.params, missing.source) == (
        "file_not_found",
        {},
        str(tmp_path / "none.csv"),
    )
    folder = refused(tmp_path)
    assert (folder.code, folder.params) == ("file_unreadable", {"reason": "Is a directory"})


# --- ODK Central's zip ---------------------------------------------------------------------------


def test_a_damaged_zip_is_coded():
    """A stored member whose bytes were changed after zipping: sizes agree (the bounds pass),
    its CRC-32 does not."""
    data = zipped({"cityeval_service.csv": odk_csv()}, method=zipfile.ZIP_STORED)
    data = data.replace(b"SubmissionDate", b"SubmissionDatE", 1)
    error = refused(data)
    assert error.code == "zip_damaged"
    assert "CRC" in error.params["detail"]


def test_a_zip_with_too_many_files_is_coded():
    members = {"cityeval_service.csv": odk_csv()} | {f"media/{i}.jpg": b"x" for i in range(4)}
    error = refused(zipped(members), zip_max_members=3)
    assert (error.code, error.params) == ("zip_too_many_files", {"found": 5, "allowed": 3})


def test_a_zip_without_one_main_csv_lists_its_csv_files():
    error = refused(zipped({"a.csv": odk_csv(), "b.csv": odk_csv()}))
    assert (error.code, error.params) == ("zip_not_odk", {"files": "a, b"})
    only_media = refused(zipped({"media/photo.jpg": b"x"}))
    assert (only_media.code, only_media.params) == ("zip_not_odk", {"files": "–"})


def test_a_main_csv_over_the_limit_is_coded():
    error = refused(zipped({"cityeval_service.csv": odk_csv()}), zip_max_csv_bytes=100)
    assert (error.code, error.params) == (
        "zip_csv_too_large",
        {"file": "cityeval_service.csv", "limit": "100 bytes"},
    )


# --- forms ---------------------------------------------------------------------------------------


def test_an_unknown_form_is_coded_with_the_forms_there_are():
    framework = load_framework("gmsc-2024")
    with pytest.raises(InputError) as caught:
        form_by_code(framework, "nope")
    assert caught.value.code == "unknown_form"
    assert caught.value.params["framework"] == "gmsc-2024" and caught.value.params["form"] == "nope"
    assert caught.value.params["forms"].startswith("governance, service, policy")
    with pytest.raises(InputError) as caught:
        form_by_code(framework, "governance", mode="split")
    assert (caught.value.code, caught.value.params["mode"]) == ("unknown_form_of_mode", "split")
    assert caught.value.params["forms"].startswith("service, policy")


def test_a_code_both_a_dimension_and_a_sub_dimension_is_coded():
    text = TINY.replace("- code: service\n", "- code: governance\n").replace("service.1", "governance.1")
    framework = parse_framework(text)
    with pytest.raises(InputError) as caught:
        form_by_code(framework, "governance")
    assert (caught.value.code, caught.value.params) == ("ambiguous_form", {"form": "governance"})


# --- weighting -----------------------------------------------------------------------------------


def people(cells: dict[tuple[str, str], int]) -> pl.DataFrame:
    rows = [(sex, age) for (sex, age), count in cells.items() for _ in range(count)]
    return pl.DataFrame(rows, schema=["sex", "age_band"], orient="row")


def rake_error(data: pl.DataFrame, margins: dict, **options) -> InputError | RakingError:
    with pytest.raises((InputError, RakingError)) as caught:
        rake(data, margins=margins, **options)
    return caught.value


def test_weighting_input_errors_are_coded():
    margins = {"sex": {"f": 1, "m": 1}}
    assert rake_error(people({}), margins).code == "no_responses_to_weight"
    missing = rake_error(people({("f", "y"): 1}), {"district": {"a": 1}})
    assert (missing.code, missing.params) == ("no_weighting_column", {"column": "district"})
    blank = rake_error(pl.DataFrame({"sex": ["f", None]}, schema={"sex": pl.String}), margins)
    assert (blank.code, blank.params, blank.row, blank.column) == ("empty_category", {}, 3, "sex")
    stray = rake_error(pl.DataFrame({"sex": ["f", "m", "x"]}), margins)
    assert (stray.code, stray.params, stray.row) == (
        "category_without_share",
        {"value": "x", "column": "sex"},
        4,
    )


def test_margins_that_cannot_be_met_are_coded():
    even = people({("f", "young"): 3, ("f", "old"): 3, ("m", "young"): 3, ("m", "old"): 3})
    totals = rake_error(even, {"sex": {"f": 600, "m": 400}, "age_band": {"young": 500, "old": 600}})
    assert (totals.code, totals.params) == (
        "margin_totals_differ",
        {"low": "sex", "high": "age_band", "low_total": "1000", "high_total": "1100"},
    )
    nobody = rake_error(even, {"sex": {"f": 50, "m": 49, "x": 1}})
    assert (nobody.code, nobody.params) == (
        "category_without_respondent",
        {"column": "sex", "category": "x", "target": "1 %"},
    )


def test_conflicting_margins_are_coded_with_the_cells():
    """Every woman is young; young people are 30 % but women 50 % (test_survey_weighting)."""
    data = people({("f", "young"): 5, ("m", "young"): 5, ("m", "old"): 5})
    error = rake_error(data, {"sex": {"f": 50, "m": 50}, "age_band": {"young": 30, "old": 70}})
    assert (error.code, error.params) == (
        "margins_conflict",
        {
            "column": "sex",
            "categories": "'f'",
            "other": "age_band",
            "cells": "age_band 'old' × sex 'f'",
            "linked": "'young'",
            "have": "30 %",
            "need": "50 %",
        },
    )


def test_margins_that_need_a_zero_weight_are_coded():
    data = people({("f", "y"): 2, ("m", "o"): 2, ("m", "y"): 1})
    error = rake_error(data, {"sex": {"f": 50, "m": 50}, "age_band": {"y": 50, "o": 50}})
    assert (error.code, error.params) == (
        "margins_tight",
        {
            "column": "sex",
            "categories": "'f'",
            "other": "age_band",
            "cells": "sex 'm' × age_band 'y'",
            "linked": "'y'",
            "have": "50 %",
        },
    )


def test_raking_that_does_not_converge_is_coded():
    data = people({("f", "young"): 19, ("f", "old"): 1, ("m", "young"): 1, ("m", "old"): 19})
    error = rake_error(data, {"sex": {"f": 50, "m": 50}, "age_band": {"young": 80, "old": 20}}, max_iter=2)
    assert error.code == "raking_not_converged"
    assert (error.params["sweeps"], error.params["tol"]) == (2, "1e-08")
    assert error.params["off"].startswith("sex '")
