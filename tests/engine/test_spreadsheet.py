"""CSV written for spreadsheets: text that Excel or LibreOffice would run as a formula gets a
leading apostrophe (OWASP "CSV injection": cells starting with =, +, -, @, tab, carriage
return); numbers are never changed, whatever their sign."""

from __future__ import annotations

import csv
import io

import polars as pl
import pytest

from cityeval.engine.spreadsheet import spreadsheet_safe, write_csv
from cityeval.engine.tables import read_table

DANGEROUS = ['=HYPERLINK("http://evil","x")', "+1", "-cmd", "@SUM(A1)", "\tTab", "\rReturn"]


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_formula_start_is_neutralised(text):
    assert spreadsheet_safe(text) == "'" + text


@pytest.mark.parametrize("text", ["Kab. Deli Serdang", "3.23", "", "a=b", "'=already"])
def test_other_text_is_left_alone(text):
    assert spreadsheet_safe(text) == text


def test_write_csv_neutralises_text_cells_by_type_and_keeps_numbers():
    table = pl.DataFrame(
        {
            "region": DANGEROUS,
            "group": ["REGULER"] * 6,
            "final": [3.23, -0.5, 2.0, 1.0, 0.0, 4.0],
            "improvement": [-0.26, None, 0.44, -1e-20, -3.0, 0.1],
            "rank": [-1, 2, 3, 4, 5, 6],
        }
    )
    rows = list(csv.DictReader(io.StringIO(write_csv(table))))
    assert [r["region"] for r in rows] == ["'" + t for t in DANGEROUS]
    assert rows[0]["improvement"] == "-0.26" and float(rows[0]["improvement"]) == -0.26
    assert rows[1]["final"] == "-0.5" and rows[0]["rank"] == "-1"
    assert [float(r["final"]) for r in rows] == table["final"].to_list()


def test_write_csv_neutralises_column_names_too():
    """Column names include framework codes, which a framework file may spell freely."""
    text = write_csv(pl.DataFrame({"region": ["a"], "=evil": [1.0]}))
    assert text.splitlines()[0] == "region,'=evil"


def test_read_table_undoes_the_neutralisation(tmp_path):
    """An export read back (re-scoring, `--previous`) has the names as the user typed them."""
    path = tmp_path / "export.csv"
    path.write_text(write_csv(pl.DataFrame({"region": ["=x", "-y", "plain"], "'=v": ["1", "2", "3"]})))
    table = read_table(path)
    assert table["region"].to_list() == ["=x", "-y", "plain"]
    assert "=v" in table.columns
