"""`cityeval score` prints numbers as the ministry's letters do, writes CSV that no spreadsheet
runs as a formula, and reads the group codes as the ministry's tables write them.

Expected values: the issue's comparison with the printed letters (2.125 → 2.13, 3.405 → 3.41)
and hand arithmetic on the 2023 REGULER weights 10/20/30/20/20 (docs/domain.md §3).
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import polars as pl
import pytest

from cityeval.cli import main

PUBLISHED_2022 = Path(__file__).parents[1] / "engine" / "data" / "gmsc-2022-kppn-results.csv"
HEADER = "region,group,province,baseline,output,outcome,impact,quick_win\n"


def run(capsys, *args) -> tuple[int, str]:
    code = main([str(a) for a in args])
    return code, capsys.readouterr().out


def _write(tmp_path: Path, body: str, name: str = "letter.csv") -> Path:
    path = tmp_path / name
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_the_table_rounds_half_up_as_the_letters_print(capsys, tmp_path):
    """Components of 2.125 and 3.405 print 2.13 and 3.41 (f"{x:.2f}" gave 2.12 and 3.40).
    The final 0.1·3.59 + 0.2·3.87 + 0.3·3.00 + 0.2·3.11 + 0.2·2.30 = 3.115 by hand → 3.12."""
    letter = _write(
        tmp_path,
        "Kab. Satu,REGULER,P,2.125,3.405,2.125,3.405,2.125\nKab. Dua,REGULER,P,3.59,3.87,3.0,3.11,2.3\n",
    )
    code, out = run(capsys, "score", letter, "--framework", "gmsc-2023")
    assert code == 0
    satu = next(line for line in out.splitlines() if "Kab. Satu" in line).split()
    assert satu.count("2.13") == 3 and satu.count("3.41") == 2
    assert "2.12" not in satu and "3.40" not in satu
    dua = next(line for line in out.splitlines() if "Kab. Dua" in line).split()
    assert "3.12" in dua and "3.11" in dua  # the final, and the outcome input 3.11 unchanged


def test_a_negative_improvement_rounds_half_away_from_zero(capsys, tmp_path):
    """Final 2.0 this year against 2.265 last year: −0.265 → −0.27 (half away from zero)."""
    previous = tmp_path / "previous.csv"
    previous.write_text("region,final\nKab. Satu,2.265\n", encoding="utf-8")
    letter = _write(tmp_path, "Kab. Satu,REGULER,P,2,2,2,2,2\n")
    code, out = run(capsys, "score", letter, "--framework", "gmsc-2023", "--previous", previous)
    assert code == 0
    assert "-0.27" in next(line for line in out.splitlines() if "Kab. Satu" in line).split()


def test_csv_output_neutralises_formulas_and_keeps_numbers(capsys, tmp_path):
    """Region names a spreadsheet would run as formulas get a leading apostrophe; numeric
    columns, including a negative improvement, stay plain numbers. (Input cells are stripped
    of spaces and tabs, so tab and carriage return are covered in tests/engine.)"""
    names = ['=HYPERLINK("http://x","y")', "+1", "-cmd", "@SUM(A1)", "Kab. Biasa"]
    quoted = [f'"{n}"' if '"' not in n else '"' + n.replace('"', '""') + '"' for n in names]
    letter = _write(tmp_path, "".join(f"{q},REGULER,=P,3,3,3,3,3\n" for q in quoted))
    previous = tmp_path / "previous.csv"
    previous.write_text('region,final\n"-cmd",3.26\n', encoding="utf-8")
    code, out = run(
        capsys, "score", letter, "--framework", "gmsc-2023", "--previous", previous, "--format", "csv"
    )
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert sorted(r["region"] for r in rows) == sorted(
        ['\'=HYPERLINK("http://x","y")', "'+1", "'-cmd", "'@SUM(A1)", "Kab. Biasa"]
    )
    assert {r["province"] for r in rows} == {"'=P"}
    cmd = next(r for r in rows if r["region"] == "'-cmd")
    assert cmd["improvement"].startswith("-0.2")  # a number, not the text "'-0.26"
    assert float(cmd["improvement"]) == pytest.approx(-0.26, abs=1e-12)
    assert all(float(r["final"]) == pytest.approx(3.0) for r in rows)


def test_the_csv_output_rescored_keeps_the_region_names(capsys, tmp_path):
    """Reading strips the apostrophe the writer added, so a re-scored export keeps its names
    and a later `--previous` join on them still matches."""
    letter = _write(tmp_path, '"=HYPERLINK(""x"")",REGULER,P,3,3,3,3,3\n')
    first = tmp_path / "first.csv"
    assert main(["score", str(letter), "--framework", "gmsc-2023", "--format", "csv", "-o", str(first)]) == 0
    code, out = run(
        capsys, "score", letter, "--framework", "gmsc-2023", "--previous", first, "--format", "csv"
    )
    assert code == 0
    row = pl.read_csv(out.encode()).row(0, named=True)
    assert row["region"] == '\'=HYPERLINK("x")' and row["improvement"] == pytest.approx(0.0)


@pytest.mark.parametrize("spelling", ["R", "r", "Reguler", " reguler ", "REGULER", "Regular"])
def test_the_ministry_spellings_of_reguler_are_accepted_in_the_input(capsys, tmp_path, spelling):
    letter = _write(tmp_path, f"Kab. Satu,{spelling},P,3.44,2.63,3.25,3.12,3.80\n")
    code, out = run(capsys, "score", letter, "--framework", "gmsc-2023", "--format", "csv")
    assert code == 0
    row = pl.read_csv(out.encode()).row(0, named=True)
    assert row["group"] == "REGULER" and row["final"] == pytest.approx(3.229, abs=1e-12)


@pytest.mark.parametrize("spelling", ["K", "KPPN & IKN", "kppn  &  ikn", "KPPN_IKN"])
def test_the_ministry_spellings_of_kppn_ikn_are_accepted_as_group(capsys, spelling):
    """The published 2022 KPPN & IKN table has no group column: `--group` takes the alias.
    Kab. Belitung, 2022 KPPN weights 10/20/30/10/30: 0.255 + 0.414 + 0.861 + 0.275 + 0.651 =
    2.456, published 2.46."""
    code, out = run(
        capsys, "score", PUBLISHED_2022, "--framework", "gmsc-2022", "--group", spelling, "--format", "csv"
    )
    assert code == 0
    table = pl.read_csv(out.encode())
    belitung = table.filter(pl.col("region") == "Kab. Belitung").row(0, named=True)
    assert set(table["group"]) == {"KPPN_IKN"}
    assert belitung["final"] == pytest.approx(2.456, abs=1e-12)


def test_an_unknown_group_spelling_is_still_refused(capsys, tmp_path):
    letter = _write(tmp_path, "Kab. Satu,X,P,3,3,3,3,3\n")
    assert main(["score", str(letter), "--framework", "gmsc-2023"]) == 2
    assert "unknown group 'X'" in capsys.readouterr().err


def test_a_published_2022_final_on_a_half_cent_prints_as_the_letter(capsys):
    """Kab. Minahasa, published 2022 KPPN & IKN table: its components give a final of exactly
    2.215 (by hand from the row above, weights 10/20/30/10/30), which the letter prints 2.22;
    f"{x:.2f}" printed 2.21."""
    code, out = run(capsys, "score", PUBLISHED_2022, "--framework", "gmsc-2022", "--group", "KPPN_IKN")
    assert code == 0
    minahasa = next(line for line in out.splitlines() if "Kab. Minahasa" in line and "Utara" not in line)
    assert "2.22" in minahasa.split() and "2.21" not in minahasa.split()
