"""read_table on CSV bytes: what it refuses, and how it names the problem."""

from __future__ import annotations

import pytest

from cityeval.engine.errors import InputError
from cityeval.engine.tables import read_table

BOM = b"\xef\xbb\xbf"  # what Excel writes first in a "CSV UTF-8" file


def test_a_file_holding_only_the_byte_order_mark_is_empty():
    """Excel's "CSV UTF-8" of an empty sheet is just the 3-byte mark: an empty file, said as such
    (it used to escape as polars' NoDataError)."""
    with pytest.raises(InputError, match="the file is empty"):
        read_table(BOM)
    with pytest.raises(InputError, match="the file is empty"):
        read_table(BOM + b" \r\n")


def test_a_byte_that_is_not_utf8_is_named_after_a_byte_order_mark_too():
    """Line 3 holds 0xE9 (é in Windows-1252). With the mark in front, the byte named used to be
    the one three places earlier ('-')."""
    data = BOM + b"region,score\nKab. A,3\nKab. Cianjur-B\xe9,2\n"
    with pytest.raises(InputError) as caught:
        read_table(data)
    assert caught.value.reason == "not UTF-8 text (byte 0xe9 on line 3); save it as 'CSV UTF-8' or as XLSX"


def test_cells_are_stripped_once_and_only_neutralised_cells_lose_their_apostrophe():
    """A cell our CSV writer neutralised ('=x) reads as written; an apostrophe before anything
    else is the user's and stays."""
    table = read_table(b"region,note\n  '=Kab. A ,'hello\n'-B, x \n")
    assert table.get_column("region").to_list() == ["=Kab. A", "-B"]
    assert table.get_column("note").to_list() == ["'hello", "x"]


def test_a_value_to_strip_far_down_a_column_is_stripped_whether_the_column_has_few_values_or_many():
    """Columns are looked at through their distinct values when the first rows show few (the
    answers here), cell by cell when they show many (the ids): a padded value past those first
    rows is stripped either way, and a column that needs nothing keeps its values."""
    rows = [f"id{k},3,x" for k in range(2500)] + [" id-last ,  4 ,x", "'=y,'=z,x"]
    table = read_table(("id,answer,same\n" + "\n".join(rows) + "\n").encode())
    assert table.get_column("id").to_list()[-2:] == ["id-last", "=y"]
    assert table.get_column("answer").to_list()[-3:] == ["3", "4", "=z"]
    assert table.get_column("same").unique().to_list() == ["x"]
