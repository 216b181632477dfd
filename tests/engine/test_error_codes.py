"""Input errors carry a code and parameters beside their English message, so that a caller
(the web) can say them in another language; the message itself (what the CLI prints) is
unchanged."""

from __future__ import annotations

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
