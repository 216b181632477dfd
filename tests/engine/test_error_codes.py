"""Input errors carry a code and parameters beside their English message, so that a caller
(the web) can say them in another language; the message itself (what the CLI prints) is
unchanged."""

from __future__ import annotations

import polars as pl
import pytest

from cityeval.engine import InputError, read_table


@pytest.mark.parametrize(
    ("data", "code", "params", "message"),
    [
        (b"", "empty_file", {}, "the file is empty"),
        (b"region,group\n", "no_data_rows", {}, "the table has a header but no data rows"),
        (
            b"Region,region\nA,B\n",
            "repeated_column",
            {"column": "region"},
            "the header repeats column 'region'",
        ),
        (
            b"region\n\xff\n",
            "not_utf8",
            {"byte": "0xff", "line": 2},
            "not UTF-8 text (byte 0xff on line 2); save it as 'CSV UTF-8' or as XLSX",
        ),
    ],
)
def test_table_errors_carry_a_code_and_parameters(data, code, params, message):
    with pytest.raises(InputError) as caught:
        read_table(data)
    assert (caught.value.code, caught.value.params, str(caught.value)) == (code, params, message)


def test_the_code_survives_naming_the_source():
    error = InputError("the value is empty", row=4, column="region", code="empty_value")
    named = error.with_source("peserta.csv")
    assert (named.code, named.params, str(named)) == (
        "empty_value",
        {},
        "peserta.csv, row 4, column 'region': the value is empty",
    )


def test_an_empty_assessor_in_item_scores_carries_the_empty_value_code():
    """The item-score checks (scoring_checks) say an empty cell as the table reader does, with
    the code the web translates; a merge had dropped it there. Row 3: the second data row."""
    from cityeval.engine import load_framework, score_items

    framework = load_framework("gmsc-2024")
    item = next(iter(framework.items_for("REGULER")))[1].code
    table = pl.DataFrame(
        {
            "region": ["Kab. A", "Kab. A"],
            "group": ["REGULER", "REGULER"],
            "item": [item, item],
            "assessor": ["a", ""],
            "score": [3.0, 2.0],
        }
    )
    with pytest.raises(InputError) as caught:
        score_items(table, framework=framework)
    assert (caught.value.code, str(caught.value)) == (
        "empty_value",
        "row 3, column 'assessor': the value is empty",
    )


@pytest.mark.parametrize(
    ("data", "code", "params"),
    [
        (b"region,group\nA\n", "short_row", {"row": 2, "values": 1, "columns": 2}),
        (b"region,region\nA,B,C\n", "repeated_header", {}),
    ],
    ids=["short-row", "repeated-header"],
)
def test_a_ragged_csv_is_coded(data, code, params):
    with pytest.raises(InputError) as caught:
        read_table(data)
    assert (caught.value.code, caught.value.params) == (code, params)


def test_a_csv_header_naming_a_column_twice_is_refused_not_renamed():
    """polars reads "score,score" as "score" and "score_duplicated_0": the second column's
    values were kept under a name no reader asks for, and lost without a word."""
    with pytest.raises(InputError) as caught:
        read_table(b"region,score,score\nA,3,4\n")
    assert (caught.value.code, caught.value.params, str(caught.value)) == (
        "repeated_column",
        {"column": "score"},
        "the header repeats column 'score'",
    )


def test_a_csv_the_parser_refuses_is_coded_with_its_words():
    with pytest.raises(InputError) as caught:
        read_table(b'region,group\nA,"B"x"\n')
    assert caught.value.code == "malformed_csv"
    assert caught.value.params["detail"].startswith("could not parse")
    assert str(caught.value) == f"malformed CSV ({caught.value.params['detail']})"


def test_a_file_that_is_no_spreadsheet_is_coded():
    with pytest.raises(InputError) as caught:
        read_table(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1not a workbook")
    assert caught.value.code == "not_a_spreadsheet" and caught.value.params["detail"]


def test_a_missing_or_unreadable_path_is_coded(tmp_path):
    with pytest.raises(InputError) as caught:
        read_table(tmp_path / "none.csv")
    assert (caught.value.code, caught.value.params) == ("file_not_found", {})
    with pytest.raises(InputError) as caught:
        read_table(tmp_path)
    assert (caught.value.code, caught.value.params) == ("file_unreadable", {"reason": "Is a directory"})
