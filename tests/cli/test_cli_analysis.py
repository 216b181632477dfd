"""The uncertainty and whatif commands, run as a user runs them: files in, text out, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from cityeval.cli import main

TINY = Path(__file__).parents[1] / "engine" / "data" / "tiny.yaml"
ITEMS = ("first.a", "first.b", "second.count", "second.survey")


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


def scores_file(tmp_path: Path, *, province: bool = True) -> Path:
    """Four regions of group A, two assessors each; R0 best, R3 worst."""
    rows = []
    for r in range(4):
        for item in ITEMS:
            for a, bump in (("x", 0), ("y", 1)):
                rows.append(
                    {
                        "region": f"R{r}",
                        "group": "A",
                        "item": item,
                        "assessor": a,
                        "score": float(min(4, 3 - r + bump)),
                    }
                )
    table = pl.DataFrame(rows)
    if province:
        table = table.with_columns(
            pl.when(pl.col("region") < "R2").then(pl.lit("P1")).otherwise(pl.lit("P2")).alias("province")
        )
    path = tmp_path / "scores.csv"
    table.write_csv(path)
    return path


def test_uncertainty_csv_has_one_row_per_region_with_the_documented_columns(capsys, tmp_path):
    code, out, err = run(
        capsys, "uncertainty", scores_file(tmp_path), "--framework", TINY, "--draws", 200, "--format", "csv"
    )
    assert code == 0, err
    table = pl.read_csv(out.encode())
    assert table.columns == [
        "region", "group", "final", "final_lo", "final_hi", "rank_national", "rank_lo", "rank_hi",
        "province", "rank_province", "rank_province_lo", "rank_province_hi", "p_top10",
    ]  # fmt: skip
    assert table.height == 4
    assert table.filter(pl.col("region") == "R0")["final"][0] == 0.4 * 3.5 + 0.6 * 3.5
    assert (table["final_lo"] <= table["final"]).all() and (table["final"] <= table["final_hi"]).all()
    assert table["p_top10"].to_list() == [1.0] * 4


def test_uncertainty_json_adds_the_variance_shares_and_is_the_same_for_a_seed(capsys, tmp_path):
    path = scores_file(tmp_path, province=False)
    args = ("uncertainty", path, "--framework", TINY, "--draws", 300, "--seed", 7, "--format", "json")
    code, out, _ = run(capsys, *args)
    assert code == 0
    data = json.loads(out)
    assert set(data["variance_shares"]) == {"assessors", "weights"}
    assert data["parameters"]["seed"] == 7 and data["parameters"]["draws"] == 300
    assert {"share_assessors", "share_weights", "rank_lo"} <= set(data["regions"][0])
    assert run(capsys, *args)[1] == out


def test_uncertainty_with_survey_counts_and_the_table_view(capsys, tmp_path):
    counts = tmp_path / "counts.csv"
    pl.DataFrame(
        {
            "region": [f"R{r}" for r in range(4)],
            "statement": ["service.1"] * 4,
            **{f"count_{k}": [10] * 4 for k in range(5)},
        }
    ).write_csv(counts)
    out_file = tmp_path / "out.txt"
    code, _, err = run(
        capsys, "uncertainty", scores_file(tmp_path), "--framework", TINY, "--draws", 100,
        "--sources", "assessors,survey,weights", "--survey", counts, "-o", out_file,
    )  # fmt: skip
    assert code == 0, err
    text = out_file.read_text(encoding="utf-8")
    assert "R0" in text and "variance shares" in text and "survey" in text


def test_uncertainty_errors_are_one_clear_line(capsys, tmp_path):
    path = scores_file(tmp_path)
    code, _, err = run(capsys, "uncertainty", path, "--framework", TINY, "--sources", "survey")
    assert code == 2 and "needs answer counts" in err and len(err.strip().splitlines()) == 1
    bad = tmp_path / "bad-counts.csv"
    bad.write_text(
        "region,statement,count_0,count_1,count_2,count_3,count_4\nR9,service.1,1,1,1,1,1\n", encoding="utf-8"
    )
    code, _, err = run(
        capsys, "uncertainty", path, "--framework", TINY, "--sources", "survey", "--survey", bad
    )
    assert code == 2 and str(bad) in err and "row 2" in err and "not in the scores" in err
    components = tmp_path / "components.csv"
    components.write_text("region,group,first,second\nR0,A,2,3\n", encoding="utf-8")
    code, _, err = run(capsys, "uncertainty", components, "--framework", TINY)
    assert code == 2 and "needs item-level input" in err
    code, _, err = run(capsys, "whatif", components, "--framework", TINY, "--region", "R0")
    assert code == 2 and "needs item-level input" in err


def test_whatif_lists_items_with_exact_gains(capsys, tmp_path):
    """Hand calculation: R3's assessors give 0 and 1 (every item 0.5, final 0.5). A first item
    to 4 gains 0.4·3.5/2 = 0.7, a second item 0.6·3.5/2 = 1.05 → 1.55, which passes R2 (1.5)
    but not R1 (2.5) or R0 (3.5): rank 3."""
    code, out, err = run(
        capsys,
        "whatif",
        scores_file(tmp_path),
        "--framework",
        TINY,
        "--region",
        "R3",
        "--format",
        "csv",
        "--top",
        3,
    )
    assert code == 0, err
    table = pl.read_csv(out.encode())
    assert table.columns == [
        "item",
        "component",
        "weight",
        "current",
        "target",
        "gain_final",
        "new_final",
        "new_rank",
    ]
    assert table.height == 3
    best = table.row(0, named=True)
    assert best["component"] == "second" and abs(best["gain_final"] - 1.05) < 1e-12 and best["new_rank"] == 3
    code, out, _ = run(capsys, "whatif", scores_file(tmp_path), "--framework", TINY, "--region", "R3")
    assert code == 0 and "R3: final 0.50, rank 4" in out
    code, _, err = run(capsys, "whatif", scores_file(tmp_path), "--framework", TINY, "--region", "Nowhere")
    assert code == 2 and "no region 'Nowhere'" in err


def test_uncertainty_over_a_list_of_weight_sets(capsys, tmp_path):
    """R0's items are 3 and 4 (every component 3.5): any weights give 3.5. R3's first.a is
    raised to 4 by both assessors so first = (4 + 0.5)/2 = 2.25 and second 0.5: the framework's
    40/60 gives 1.2, the set "first only" (100/0) gives 2.25 — the interval's two ends."""
    path = scores_file(tmp_path, province=False)
    table = pl.read_csv(path).with_columns(
        pl.when((pl.col("region") == "R3") & (pl.col("item") == "first.a"))
        .then(4.0)
        .otherwise("score")
        .alias("score")
    )
    table.write_csv(path)
    sets = tmp_path / "sets.csv"
    sets.write_text(
        "set,group,component,weight\nofficial,A,first,40\nofficial,A,second,60\n"
        "first only,A,first,100\nfirst only,A,second,0\n",
        encoding="utf-8",
    )
    code, out, err = run(
        capsys,
        "uncertainty",
        path,
        "--framework",
        TINY,
        "--sources",
        "weights",
        "--weight-sets",
        sets,
        "--format",
        "csv",
    )
    assert code == 0, err
    rows = {r["region"]: r for r in pl.read_csv(out.encode()).iter_rows(named=True)}
    assert abs(rows["R0"]["final_lo"] - 3.5) < 1e-12 and abs(rows["R0"]["final_hi"] - 3.5) < 1e-12
    assert abs(rows["R3"]["final_lo"] - 1.2) < 1e-12 and abs(rows["R3"]["final_hi"] - 2.25) < 1e-12
    sets.write_text("set,group,component,weight\nbad,A,first,40\nbad,A,second,50\n", encoding="utf-8")
    code, _, err = run(capsys, "uncertainty", path, "--framework", TINY, "--weight-sets", sets)
    assert code == 2 and str(sets) in err and "sums to 90, not 100" in err


def test_whatif_simulates_a_set_of_changes(capsys, tmp_path):
    """Hand calculation: R3 (every item 0.5, final 0.5) with first.a and second.count at 4:
    first = second = (4 + 0.5)/2 = 2.25, final 2.25 — above R2 (1.5), below R1 (2.5) and R0
    (3.5): rank 3."""
    path = scores_file(tmp_path)
    args = (
        "whatif",
        path,
        "--framework",
        TINY,
        "--region",
        "R3",
        "--set",
        "first.a=4",
        "--set",
        "second.count=4",
    )
    code, out, err = run(capsys, *args, "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    assert abs(data["new_final"] - 2.25) < 1e-12 and data["new_rank"] == 3 and data["rank"] == 4
    code, out, _ = run(capsys, *args)
    assert code == 0 and "0.50 → 2.25" in out and "rank 4 → 3" in out
    with pytest.raises(SystemExit) as caught:  # argparse refuses it, as every bad option
        run(capsys, "whatif", path, "--framework", TINY, "--region", "R3", "--set", "first.a")
    assert caught.value.code == 2 and "expected ITEM=LEVEL" in capsys.readouterr().err
    code, _, err = run(capsys, "whatif", path, "--framework", TINY, "--region", "R3", "--set", "nope.x=3")
    assert code == 2 and "not expected" in err


def half_cent_file(tmp_path: Path, name: str = "R0", province: str = "P1") -> Path:
    """R0's final is 3.175 by hand: four assessors, first = (3.5 + 3)/2 = 3.25, second =
    (3 + 3.25)/2 = 3.125, final 0.4·3.25 + 0.6·3.125 = 3.175, printed 3.18 half up (the float
    3.175 is 3.17499…, which ``f"{x:.2f}"`` printed as 3.17). R1 marks 1 everywhere."""
    marks = {
        "first.a": [4, 4, 3, 3],
        "first.b": [3] * 4,
        "second.count": [3] * 4,
        "second.survey": [4, 3, 3, 3],
    }
    rows = [
        {"region": region, "group": "A", "province": province, "item": item, "assessor": a, "score": float(m)}
        for item, ms in marks.items()
        for region, row in ((name, ms), ("R1", [1] * 4))
        for a, m in zip("wxyz", row, strict=True)
    ]
    path = tmp_path / "half.csv"
    pl.DataFrame(rows).write_csv(path)
    return path


def test_whatif_and_uncertainty_print_a_final_as_score_does(capsys, tmp_path):
    path = half_cent_file(tmp_path)
    code, out, err = run(capsys, "score", path, "--framework", TINY)
    assert code == 0 and "3.18" in out, err
    code, out, _ = run(capsys, "whatif", path, "--framework", TINY, "--region", "R0")
    assert code == 0 and "R0: final 3.18, rank 1" in out
    # first.b to 4: first (3.5 + 4)/2 = 3.75, final 0.4·3.75 + 0.6·3.125 = 3.375 → 3.38, gain 0.2.
    code, out, _ = run(capsys, "whatif", path, "--framework", TINY, "--region", "R0", "--set", "first.b=4")
    assert code == 0 and "final 3.18 → 3.38 (+0.200)" in out
    code, out, _ = run(
        capsys,
        "uncertainty",
        path,
        "--framework",
        TINY,
        "--draws",
        20,
        "--sources",
        "weights",
        "--weight-range",
        0,
    )
    assert code == 0 and "3.18 (3.18–3.18)" in out
    assert "a share may come out below 0 % or above 100 %" in out


def test_whatif_and_uncertainty_csvs_neutralise_user_text(capsys, tmp_path):
    """A region named like a formula and a province starting with @ reach the CSV as text
    (a leading apostrophe), as in ``cityeval score --format csv``."""
    path = half_cent_file(tmp_path, name='=HYPERLINK("http://x","y")', province="@SUM(A1)")
    code, out, err = run(capsys, "uncertainty", path, "--framework", TINY, "--draws", 20, "--format", "csv")
    assert code == 0, err
    table = pl.read_csv(out.encode())
    assert '\'=HYPERLINK("http://x","y")' in table["region"].to_list()
    assert "'@SUM(A1)" in table["province"].to_list()
    code, out, err = run(
        capsys,
        "whatif",
        path,
        "--framework",
        TINY,
        "--region",
        '=HYPERLINK("http://x","y")',
        "--set",
        "first.b=4",
        "--format",
        "csv",
    )
    assert code == 0, err
    assert pl.read_csv(out.encode())["region"].to_list() == ['\'=HYPERLINK("http://x","y")']
