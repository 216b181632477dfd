"""The command line, run as a user runs it: files in, text out, exit codes."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter

from cityeval.cli import main

ENGINE_DATA = Path(__file__).parents[1] / "engine" / "data"
PUBLISHED_2022 = ENGINE_DATA / "gmsc-2022-kppn-results.csv"
TINY = ENGINE_DATA / "tiny.yaml"


def run(capsys, *args: str) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet("results")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            sheet.write(r, c, value)
    book.close()
    return path


def test_frameworks_lists_the_built_ins(capsys):
    code, out, _ = run(capsys, "frameworks")
    assert code == 0
    for name in ("gmsc-2022", "gmsc-2023", "gmsc-2024"):
        assert name in out


def test_framework_show_prints_weights_and_hash(capsys):
    from cityeval.engine import load_framework

    code, out, _ = run(capsys, "framework", "show", "gmsc-2023", "--items")
    assert code == 0
    assert load_framework("gmsc-2023").hash in out
    assert "kolaborasi" in out and "impact.service.1" in out


def test_framework_validate_accepts_a_good_file_and_names_the_problem_in_a_bad_one(capsys, tmp_path):
    code, out, _ = run(capsys, "framework", "validate", TINY)
    assert code == 0 and "valid" in out
    bad = tmp_path / "bad.yaml"
    bad.write_text(TINY.read_text().replace("{A: 40, B: 50}", "{A: 45, B: 50}"), encoding="utf-8")
    code, out, err = run(capsys, "framework", "validate", bad)
    assert code == 2
    assert "components[*].weights.A: weights sum to 105, not 100" in err
    assert "Traceback" not in err


def test_the_published_2022_kppn_results_reproduce_through_the_cli(capsys, tmp_path):
    """Every row of the 2022 KPPN & IKN letter (component scores → final) within 0.015."""
    out_file = tmp_path / "out.csv"
    code, _, err = run(
        capsys, "score", PUBLISHED_2022, "--framework", "gmsc-2022", "--group", "KPPN_IKN",
        "--format", "csv", "--output", out_file,
    )  # fmt: skip
    assert code == 0, err
    result = pl.read_csv(out_file)
    assert result.columns == [
        "region", "group", "baseline", "output", "outcome", "impact", "quick_win",
        "final", "improvement", "rank_national",
    ]  # fmt: skip
    published = pl.read_csv(PUBLISHED_2022)
    joined = result.join(published.select("region", "final_published"), on="region")
    assert joined.height == published.height == 38
    assert (joined["final"] - joined["final_published"]).abs().max() <= 0.015
    # Competition ranking on the unrounded final: rank 1 is the highest final.
    top = result.sort("final", descending=True).row(0, named=True)
    assert top["rank_national"] == 1


def _letter(tmp_path: Path, name: str = "letter.csv") -> Path:
    path = tmp_path / name
    path.write_text(
        "region,group,province,baseline,output,outcome,impact,quick_win\n"
        "Kab. Deli Serdang,REGULER,Sumatera Utara,3.44,2.63,3.25,3.12,3.80\n"
        "Kota Medan,REGULER,Sumatera Utara,3.0,3.0,3.0,3.0,3.0\n"
        "Kota Pekanbaru,REGULER,Riau,2.0,2.0,2.0,2.0,2.0\n",
        encoding="utf-8",
    )
    return path


def test_csv_output_has_the_documented_columns_and_unrounded_values(capsys, tmp_path):
    code, out, _ = run(capsys, "score", _letter(tmp_path), "--framework", "gmsc-2023", "--format", "csv")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == (
        "region,group,baseline,output,outcome,impact,quick_win,kolaborasi,final,improvement,"
        "rank_national,province,rank_province"
    )
    deli = pl.read_csv(out.encode()).filter(pl.col("region") == "Kab. Deli Serdang").row(0, named=True)
    assert deli["final"] == pytest.approx(3.229, abs=1e-12)
    assert (deli["rank_national"], deli["rank_province"]) == (1, 1)
    assert "3.229" in lines[1]  # not rounded to 3.23


def test_table_view_rounds_to_two_decimals(capsys, tmp_path):
    code, out, _ = run(capsys, "score", _letter(tmp_path), "--framework", "gmsc-2023")
    assert code == 0
    assert "3.23" in out and "3.229" not in out


def test_json_output_carries_the_framework_hash_and_parameters(capsys, tmp_path):
    from cityeval.engine import load_framework

    code, out, _ = run(capsys, "score", _letter(tmp_path), "--framework", "gmsc-2023", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["framework"] == {"code": "gmsc-2023", "hash": load_framework("gmsc-2023").hash}
    assert data["parameters"]["level"] == "component"
    assert len(data["regions"]) == 3 and data["non_participants"] == []


def test_a_previous_score_output_gives_the_improvement(capsys, tmp_path):
    previous = tmp_path / "prev.csv"
    run(
        capsys,
        "score",
        _letter(tmp_path),
        "--framework",
        "gmsc-2023",
        "--format",
        "csv",
        "-o",
        previous,
    )
    letter = tmp_path / "this-year.csv"
    letter.write_text(_letter(tmp_path).read_text().replace("2.0,2.0,2.0,2.0,2.0", "2.5,2.5,2.5,2.5,2.5"))
    code, out, _ = run(
        capsys,
        "score",
        letter,
        "--framework",
        "gmsc-2023",
        "--previous",
        previous,
        "--format",
        "csv",
    )
    assert code == 0
    rows = {r["region"]: r["improvement"] for r in pl.read_csv(out.encode()).to_dicts()}
    assert rows["Kota Pekanbaru"] == pytest.approx(0.5)
    assert rows["Kota Medan"] == pytest.approx(0.0)


def test_xlsx_is_recognised_by_content_whatever_the_extension(capsys, tmp_path):
    path = write_xlsx(
        tmp_path / "letter.dat",
        [
            ["Region", "Group", "Baseline", "Output", "Outcome", "Impact", "Quick Win"],
            ["Kab. Deli Serdang", "REGULER", 3.44, 2.63, 3.25, 3.12, 3.8],
        ],
    )
    code, out, err = run(capsys, "score", path, "--framework", "gmsc-2023", "--format", "csv")
    assert code == 0, err
    assert pl.read_csv(out.encode())["final"][0] == pytest.approx(3.229, abs=1e-12)


def test_semicolon_csv_with_decimal_commas_as_indonesian_spreadsheets_write_it(capsys, tmp_path):
    path = tmp_path / "letter.csv"
    path.write_text(
        "region;group;baseline;output;outcome;impact;quick_win\n"
        "Kab. Deli Serdang;REGULER;3,44;2,63;3,25;3,12;3,80\n",
        encoding="utf-8-sig",
    )
    code, out, _ = run(capsys, "score", path, "--framework", "gmsc-2023", "--format", "csv")
    assert code == 0
    assert pl.read_csv(out.encode())["final"][0] == pytest.approx(3.229, abs=1e-12)


def test_item_level_input_is_told_by_its_columns(capsys, tmp_path):
    path = tmp_path / "items.csv"
    path.write_text(
        "region,group,item,assessor,score\n"
        "R,A,first.a,x,3\nR,A,first.a,y,4\nR,A,first.b,x,2\nR,A,second.count,x,1\n",
        encoding="utf-8",
    )
    code, out, _ = run(capsys, "score", path, "--framework", TINY, "--format", "csv")
    assert code == 0
    row = pl.read_csv(out.encode()).row(0, named=True)
    assert row["final"] == pytest.approx(0.4 * 2.75 + 0.6 * 1.0)
    assert row["coverage"] == 0.75


# --- errors: one line naming file, row and column; exit code 2; no traceback ------------------


def _error_line(capsys, tmp_path, content: str | bytes, *extra: str) -> str:
    path = tmp_path / "input.csv"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    code, out, err = run(capsys, "score", path, "--framework", "gmsc-2023", *extra)
    assert code == 2
    assert out == ""
    assert "Traceback" not in err
    assert err.count("\n") == 1, err
    return err.strip().replace(str(path), "FILE")


HEADER = "region,group,baseline,output,outcome,impact,quick_win\n"


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (HEADER + "A,REGULER,3,3,3,3,3\nB,NOPE,3,3,3,3,3\n",
         "FILE, row 3, column 'group': unknown group 'NOPE' (groups in gmsc-2023: REGULER, KPPN_IKN)"),
        (HEADER + "A,REGULER,3,3,3,3,4.5\n",
         "FILE, row 2, column 'quick_win': 4.5 is outside the scale 0–4"),
        (HEADER + "A,REGULER,3,3,,3,3\n",
         "FILE, row 2, column 'outcome': component 'outcome' is missing; group 'REGULER' needs it"),
        (HEADER + "A,REGULER,3,3,3,3,3\nB,REGULER,2,2,2,2,2\nA,REGULER,1,1,1,1,1\n",
         "FILE, row 4, column 'region': region 'A' appears twice (first at row 2)"),
        (HEADER + "A,REGULER,3,tiga,3,3,3\n",
         "FILE, row 2, column 'output': 'tiga' is not a number"),
        ("region,group,baseline,output,outcome,impact\nA,REGULER,3,3,3,3\n",
         "FILE, row 2, column 'quick_win': no column for component 'quick_win', which group "
         "'REGULER' needs"),
        (HEADER + "A,REGULER,3,3,3\n",
         "FILE: row 2 has 5 values but the header has 7 columns"),
        (b"region,group,baseline,output,outcome,impact,quick_win\nKab. T\xe9st,REGULER,3,3,3,3,3\n",
         "FILE: not UTF-8 text (byte 0xe9 on line 2); save it as 'CSV UTF-8' or as XLSX"),
        ("", "FILE: the file is empty"),
        (HEADER, "FILE: the table has a header but no data rows"),
    ],
    ids=["unknown-group", "outside-scale", "missing-component", "duplicate-region", "non-numeric",
         "missing-column", "ragged-row", "bad-encoding", "empty", "header-only"],
)  # fmt: skip
def test_bad_input_is_one_clear_line(capsys, tmp_path, content, expected):
    assert _error_line(capsys, tmp_path, content) == f"cityeval: error: {expected}"


def test_a_bad_previous_file_is_named(capsys, tmp_path):
    previous = tmp_path / "prev.csv"
    previous.write_text("region,final\nA,2.5\nA,2.7\n", encoding="utf-8")
    line = _error_line(capsys, tmp_path, HEADER + "A,REGULER,3,3,3,3,3\n", "--previous", str(previous))
    assert (
        line
        == f"cityeval: error: {previous}, row 3, column 'region': region 'A' appears twice (first at row 2)"
    )


def test_a_missing_input_file_and_an_unknown_framework(capsys, tmp_path):
    code, _, err = run(capsys, "score", tmp_path / "nope.csv", "--framework", "gmsc-2023")
    assert code == 2 and "nope.csv: file not found" in err
    code, _, err = run(capsys, "score", _letter(tmp_path), "--framework", "gmsc-1999")
    assert code == 2 and "no built-in framework or file named 'gmsc-1999'" in err


def test_a_broken_xlsx_is_a_clear_error(capsys, tmp_path):
    path = tmp_path / "broken.xlsx"
    path.write_bytes(b"PK\x03\x04 this is not really a zip file")
    code, _, err = run(capsys, "score", path, "--framework", "gmsc-2023")
    assert code == 2 and "not a readable spreadsheet" in err and "Traceback" not in err


def test_a_zip_bomb_and_a_wide_csv_are_refused_by_the_default_limits(capsys, tmp_path):
    """The command line reads with the engine's default ReadLimits (1 GB unpacked, 2,000 columns)."""
    from tests.zipbombs import declare_unpacked, sheet_xlsx

    bomb = tmp_path / "bomb.xlsx"
    bomb.write_bytes(declare_unpacked(sheet_xlsx([["region"], ["A"]]), "xl/worksheets/sheet1.xml", 2**31))
    code, _, err = run(capsys, "score", bomb, "--framework", "gmsc-2023")
    assert code == 2 and "bomb.xlsx: the spreadsheet unpacks to 2048 MB, over the limit of 1024 MB" in err
    wide = tmp_path / "wide.csv"
    wide.write_bytes(b"region" + b",x" * 5000 + b"\nA\n")
    code, _, err = run(capsys, "score", wide, "--framework", "gmsc-2023")
    assert code == 2 and "wide.csv: the table has 5001 columns, over the limit of 2000" in err


def test_the_installed_console_script_runs():
    exe = shutil.which("cityeval", path=str(Path(sys.executable).parent))
    assert exe is not None
    out = subprocess.run(
        [exe, "score", str(PUBLISHED_2022), "--framework", "gmsc-2022", "--group", "KPPN_IKN",
         "--format", "csv"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert len(out.stdout.splitlines()) == 39
    assert out.stderr == ""  # fast work shows no progress bar


def test_demo_prints_the_labelled_synthetic_table(capsys, tmp_path):
    code, out, _ = run(capsys, "demo", "--export", tmp_path)
    assert code == 0
    assert "SYNTHETIC" in out and "Kab. Deli Serdang" in out and "3.23" in out
    for name in ("E-Padi", "Pemuda Kaperle", "Petasan Deli", "Patogen", "Deli Serdang Berseri",
                 "Kas Anak Kasir"):  # fmt: skip
        assert name in out
    # The exported inputs, scored by the CLI, give the demo's finals.
    from cityeval.demo import run_demo

    _, result = run_demo()
    code, csv_out, _ = run(
        capsys, "score", tmp_path / "demo-2024-item-scores.csv", "--framework", "gmsc-2024",
        "--previous", tmp_path / "demo-2023-finals.csv", "--format", "csv",
    )  # fmt: skip
    assert code == 0
    scored = pl.read_csv(csv_out.encode()).select("region", "final", "improvement").sort("region")
    expected = result.regions.select("region", "final", "improvement").sort("region")
    assert scored.to_dicts() == expected.to_dicts()
