"""Reading exports of KoboToolbox, ODK Central and cityeval's template into one table.

The fixtures follow the exporters' documented layouts, kept small:

- KoboToolbox "XML values and headers" export: CSV separated by ``;`` with every value
  quoted, groups as ``group/question``, metadata columns ``meta/instanceID``, ``_id``,
  ``_uuid``, ``_submission_time``, ``_validation_status``, ``_notes``, ``_status``,
  ``_submitted_by``, ``__version__``, ``_tags``, ``_index``; the XLSX export has the same
  columns with answers stored as numbers.
- ODK Central CSV export: ``SubmissionDate`` first, groups joined by ``-``
  (``meta-instanceID``), then ``KEY`` (= instanceID, ``uuid:…``), ``SubmitterID``,
  ``SubmitterName``, ``AttachmentsPresent``, ``AttachmentsExpected``, ``Status``,
  ``ReviewState``, ``DeviceID``, ``Edits``, ``FormVersion``.
"""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from tests.helpers.survey_exports import (
    FORM,
    KOBO_HEADER,
    SALT,
    SUBMISSIONS,
    expected,
    kobo_csv,
    kobo_rows,
    kobo_xlsx,
    odk_csv,
    template_bytes,
)

from cityeval.engine import InputError
from cityeval.engine.survey import identity_hash, read_responses, response_columns, template_csv


@pytest.mark.parametrize(
    ("source", "kind"),
    [(kobo_csv, "kobo"), (kobo_xlsx, "kobo"), (odk_csv, "odk"), (template_bytes, "template")],
    ids=["kobo-csv", "kobo-xlsx", "odk-central-csv", "template"],
)
def test_every_layout_reads_into_the_same_normalised_table(source, kind):
    data = source()
    assert_frame_equal(read_responses(data, form=FORM, identity_salt=SALT), expected())
    assert_frame_equal(read_responses(data, form=FORM, kind=kind, identity_salt=SALT), expected())


def test_it_reads_a_file_by_path_and_names_it_in_errors(tmp_path):
    path = tmp_path / "export.csv"
    path.write_bytes(kobo_csv())
    assert read_responses(path, form=FORM, identity_salt=SALT).height == 3
    path.write_bytes(kobo_csv().replace(b'"4";"2"', b'"5";"2"'))
    with pytest.raises(InputError, match=r"export\.csv, row 2, column 'statements/s_service_2'"):
        read_responses(str(path), form=FORM, identity_salt=SALT)


def test_the_raw_phone_number_never_appears_in_the_output():
    table = read_responses(template_bytes(), form=FORM, identity_salt=SALT)
    text = str(table.rows())
    assert "3456" not in text and "7890" not in text and "phone" not in table.columns


def test_phone_numbers_written_differently_hash_alike_and_the_salt_matters():
    phones = ["0812-3456-7890", "+62 812 3456 7890", "812 3456 7890", "6281234567890"]
    rows = [[f"r{i}", "", "", "yes", "1", "2", "3", "25-34", "f", "X", p, "no"] for i, p in enumerate(phones)]
    hashes = read_responses(template_bytes(rows), form=FORM, identity_salt=SALT)["identity_hash"]
    assert hashes.n_unique() == 1
    assert hashes[0] == hashlib.sha256((SALT + "6281234567890").encode()).hexdigest()
    other = read_responses(template_bytes(rows), form=FORM, identity_salt="another salt")["identity_hash"]
    assert other[0] != hashes[0]
    # The one-number form (used by the web form) is the same rule.
    assert {identity_hash(p, salt=SALT) for p in phones} == {hashes[0]}
    assert identity_hash("tidak ada", salt=SALT) is None


def test_identity_hashes_already_stored_do_not_change():
    """Hashes kept by earlier imports must still match: the literals below are what main's code
    (hashlib, one number at a time) gave before hashing moved to polars-hash, and hashlib
    recomputes each one here; a non-ASCII salt is hashed as its UTF-8 bytes."""
    stored = {
        ("0812-3456-7890", SALT): "8b40e8c592e17bd061428779c8d16cb47fdf4c6738cb2b8aa352eaa752ec710a",
        ("0857 1234 5678", "garam rahasia – ü"): (
            "d08c53d317e83cfd726585f1403eae650158a0dcb58f33ef47d2342ecaf07b27"
        ),
    }
    for (phone, salt), stored_hash in stored.items():
        digits = "62" + "".join(c for c in phone if c.isdigit())[1:]
        assert hashlib.sha256((salt + digits).encode("utf-8")).hexdigest() == stored_hash
        assert identity_hash(phone, salt=salt) == stored_hash
    # Many rows at once (one batch), some without a number: each as hashlib gives it, or null.
    phones = [f"08{n:010d}" for n in range(0, 5000, 7)] + ["", "tanpa nomor"]
    rows = [[f"r{i}", "", "", "yes", "1", "2", "3", "25-34", "f", "X", p, "no"] for i, p in enumerate(phones)]
    hashes = read_responses(template_bytes(rows), form=FORM, identity_salt=SALT)["identity_hash"].to_list()
    expected_all = [hashlib.sha256((SALT + "628" + p[2:]).encode()).hexdigest() for p in phones[:-2]]
    assert hashes == [*expected_all, None, None]


def test_template_round_trip_keeps_every_value():
    """template_csv's header, filled in by hand, reads back to the values written."""
    header = template_csv(FORM).decode().strip().split(",")
    assert header == [
        "response_id", "start", "end", "used_service", "s_service_1", "s_service_2", "s_service_3",
        "age_band", "sex", "district", "phone", "assisted",
    ]  # fmt: skip
    rows = [
        [
            "a-1",
            "2024-10-01 09:00",
            "2024-10-01 09:10:30",
            "ya",
            "4",
            "4",
            "3",
            "35-44",
            "P",
            "Batang Kuis",
            "",
            "tidak",
        ]
    ]
    table = read_responses(template_bytes(rows), form=FORM, identity_salt=SALT)
    assert table.row(0, named=True) == {
        "response_id": "a-1",
        "form": "service",
        "started_at": datetime(2024, 10, 1, 9, 0, tzinfo=UTC),
        "ended_at": datetime(2024, 10, 1, 9, 10, 30, tzinfo=UTC),
        "used_service": True,
        "s_service_1": 4,
        "s_service_2": 4,
        "s_service_3": 3,
        "age_band": "35-44",
        "sex": "f",
        "district": "Batang Kuis",
        "identity_hash": None,
        "assisted": False,
        "review_state": None,
    }


def test_duplicate_ids_are_kept_for_the_quality_checks():
    data = template_bytes()
    lines = data.decode().splitlines()
    table = read_responses(("\n".join([*lines, lines[1]]) + "\n").encode(), form=FORM, identity_salt=SALT)
    assert table.height == 4 and table["response_id"].n_unique() == 3


def test_a_header_only_file_gives_an_empty_table():
    table = read_responses(template_csv(FORM), form=FORM, identity_salt=SALT)
    assert table.height == 0 and table.schema == pl.Schema(response_columns(FORM))


# --- broken files ------------------------------------------------------------------------------


def test_a_missing_statement_column_is_named():
    data = odk_csv().replace(b"statements-s_service_2", b"statements-s_other")
    with pytest.raises(InputError, match="no column 's_service_2'") as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert caught.value.column == "s_service_2"


def test_an_answer_of_5_is_refused_with_row_and_column():
    data = template_bytes().replace(b",0,1,4,", b",0,1,5,")
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (4, "s_service_3")
    assert "'5' is not an answer 0, 1, 2, 3 or 4" in str(caught.value)


def test_several_bad_values_are_reported_first_one_then_counted():
    data = template_bytes().replace(b",3,4,2,", b",x,4,2,").replace(b",0,1,4,", b",0,9,4,")
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (2, "s_service_1")
    assert "1 more bad value: row 4, column 's_service_2'" in str(caught.value)


def test_a_yes_no_answer_not_recognised_is_refused():
    data = kobo_csv().replace(b'"yes";"0";"1"', b'"maybe";"0";"1"')
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (4, "used_service")
    assert "'maybe' is not yes or no" in str(caught.value)


def test_a_file_not_in_utf8_is_refused_with_its_line():
    data = template_bytes().replace(b"Tanjung Morawa", "Tanjung Moráwa".encode("cp1252"))
    with pytest.raises(InputError, match=r"not UTF-8 text .* on line 4") as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert caught.value.row == 4


def test_an_unparseable_timestamp_is_refused():
    data = odk_csv().replace(b"2024-10-01T10:00:30.000+07:00", b"kemarin sore")
    with pytest.raises(InputError) as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (3, "end")


def test_an_empty_submission_id_is_refused():
    data = template_bytes().replace(SUBMISSIONS[1]["uuid"].encode(), b"")
    with pytest.raises(InputError, match="submission id is empty") as caught:
        read_responses(data, form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (3, "response_id")


def test_a_file_from_an_unknown_tool_is_refused():
    with pytest.raises(InputError, match="cannot tell which tool"):
        read_responses(b"a,b\n1,2\n", form=FORM, identity_salt=SALT)


def test_the_salt_is_required():
    with pytest.raises(ValueError, match="identity_salt"):
        read_responses(template_bytes(), form=FORM, identity_salt="")


def test_an_edited_kobo_submission_keeps_its_root_uuid_as_the_response_id():
    """KoboToolbox gives an edited submission a new _uuid and instanceID but keeps
    meta/rootUuid (documented by the Kobo maintainers). The root id is the response's
    identity; a row without one (never edited) keeps its _uuid."""
    header = [*KOBO_HEADER, "meta/rootUuid"]
    rows = kobo_rows()
    edited = list(rows[0])
    edited[header.index("_uuid")] = "0000edited"
    edited[header.index("meta/instanceID")] = "uuid:0000edited"
    lines = [";".join(f'"{h}"' for h in header)]
    lines.append(";".join(f'"{v}"' for v in [*rows[0], f"uuid:{rows[0][header.index('_uuid')]}"]))
    lines.append(";".join(f'"{v}"' for v in [*edited, f"uuid:{rows[0][header.index('_uuid')]}"]))
    lines.append(";".join(f'"{v}"' for v in [*rows[1], ""]))
    table = read_responses(("\n".join(lines) + "\n").encode(), form=FORM, identity_salt=SALT)
    ids = table["response_id"].to_list()
    assert ids[0] == ids[1] == rows[0][header.index("_uuid")]  # the edit is the same response
    assert ids[2] == rows[1][header.index("_uuid")]


# --- a column however it is written ------------------------------------------------------------


def _many_rows(used: list[str], answers: list[str], sex: list[str], assisted: list[str]) -> list[list[str]]:
    """Rows cycling through the given values, enough of them (240) that each column is read
    through its few distinct values."""
    return [
        [
            f"r{i:03d}",
            "2024-10-01 09:15:00+07:00",
            "2024-10-01 09:20:00+07:00",
            used[i % len(used)],
            answers[i % len(answers)],
            answers[(i + 1) % len(answers)],
            "2",
            "25-34",
            sex[i % len(sex)],
            "X",
            "",
            assisted[i % len(assisted)],
        ]
        for i in range(240)
    ]


@pytest.mark.parametrize(
    ("used", "answers", "sex", "assisted"),
    [
        # As the template writes them: answers are their own numbers, sexes their own codes…
        (["yes", "no", "ya"], ["0", "1", "2", "3", "4"], ["f", "m"], ["no", "yes", "tidak"]),
        # …or not: each value still read as the table of accepted spellings says.
        (["Y", "false", "1.0", "TIDAK"], ["0.0", "1", "02", "3", "4.0"], ["Perempuan", "L"], ["true"]),
    ],
    ids=["as-the-template-writes", "other-spellings"],
)
def test_few_valued_columns_read_the_same_however_they_are_written(used, answers, sex, assisted):
    """Expected values by hand from the accepted spellings (yes/ya/y/true/1 → true, no/tidak/
    n/false/0 → false; an answer is its number; f/perempuan/p → f, m/laki-laki/l → m)."""
    truth = {"yes": True, "ya": True, "y": True, "true": True, "1.0": True}
    table = read_responses(
        template_bytes(_many_rows(used, answers, sex, assisted)), form=FORM, identity_salt=SALT
    )
    rows = range(table.height)
    for column, written in (("used_service", used), ("assisted", assisted)):
        assert table[column].to_list() == [truth.get(written[i % len(written)].lower(), False) for i in rows]
    assert table["s_service_1"].to_list() == [int(float(answers[i % len(answers)])) for i in rows]
    assert table["s_service_2"].to_list() == [int(float(answers[(i + 1) % len(answers)])) for i in rows]
    assert table["s_service_1"].dtype == pl.Int8 and table["used_service"].dtype == pl.Boolean
    assert table["sex"].to_list() == ["m" if sex[i % len(sex)] in ("m", "L") else "f" for i in rows]


def test_a_bad_value_among_many_good_ones_is_named_as_before():
    """The one unrecognised value in a column of a few spellings: its row and column, and the
    count of the others."""
    rows = _many_rows(["yes", "no"], ["0", "1", "2", "3", "4"], ["f", "m"], ["no"])
    rows[150][3] = "maybe"
    rows[200][11] = "kadang"
    with pytest.raises(InputError) as caught:
        read_responses(template_bytes(rows), form=FORM, identity_salt=SALT)
    assert (caught.value.row, caught.value.column) == (152, "used_service")
    assert "'maybe' is not yes or no" in str(caught.value)
    assert "1 more bad value: row 202, column 'assisted'" in str(caught.value)


def test_blanks_around_a_value_deep_in_a_long_file_are_stripped():
    """Surrounding blanks are found wherever they are, in a column of many distinct values
    (ids, timestamps) as in one of few."""
    rows = _many_rows(["yes"], ["1"], ["f"], ["no"])
    rows[230][0] = "  r230 "
    rows[231][1] = "\t2024-10-01 09:15:00+07:00 "
    rows[232][3] = " ya"
    table = read_responses(template_bytes(rows), form=FORM, identity_salt=SALT)
    assert table["response_id"][230] == "r230"
    assert table["started_at"][231] == datetime(2024, 10, 1, 2, 15, tzinfo=UTC)
    assert table["used_service"][232] is True


@pytest.mark.parametrize("data", [b"\xef\xbb\xbf\xef\xbb\xbf", b"\xef\xbb\xbf\xef\xbb\xbf\n"])
def test_a_file_of_two_byte_order_marks_is_refused_as_input(data):
    """A review: before, polars' own "empty CSV" error escaped (not an InputError); the file is
    now refused as one without the exporter's id column."""
    with pytest.raises(InputError):
        read_responses(data, form=FORM, identity_salt=SALT)
