"""``cityeval kkpd``: checks on files, the default rule file, bad input."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cityeval.cli import main
from cityeval.engine.kkpd import DEFAULT_RULES_YAML, RULES, default_rules, parse_rules
from cityeval.engine.kkpd.mapping import EXAMPLE_MAPPING_YAML


def run(capsys, *args: object) -> tuple[int, str, str]:
    code = main([str(a) for a in args])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture(scope="module")
def demo(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("kkpd")
    assert main(["kkpd", "demo", str(folder)]) == 0
    return {name: folder / f"kkpd-{name}.csv" for name in ("cards", "transactions", "settlements")}


def test_rules_prints_the_default_rule_file(capsys):
    code, out, _ = run(capsys, "kkpd", "rules")
    assert code == 0 and out == DEFAULT_RULES_YAML
    assert parse_rules(out) == default_rules()


def test_check_prints_one_csv_row_per_flag_and_says_which_rule_it_skipped(capsys, demo):
    code, out, err = run(
        capsys,
        "kkpd",
        "check",
        demo["transactions"],
        "--cards",
        demo["cards"],
        "--as-of",
        "2024-12-31",
        "--format",
        "csv",
    )
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "reference,rule,card,merchant,amount,detail"
    rules = {line.split(",")[1] for line in lines[1:]}
    assert rules == set(RULES) - {"late_settlement"}
    assert "late_settlement skipped" in err


def test_check_with_settlements_as_json_counts_every_rule(capsys, demo, tmp_path):
    output = tmp_path / "flags.json"
    code, out, _ = run(
        capsys,
        "kkpd",
        "check",
        demo["transactions"],
        "--cards",
        demo["cards"],
        "--settlements",
        demo["settlements"],
        "--as-of",
        "2024-12-31",
        "--format",
        "json",
        "-o",
        output,
    )
    assert code == 0 and out == ""
    data = json.loads(output.read_text(encoding="utf-8"))
    assert set(data["counts"]) == set(RULES) and all(n >= 1 for n in data["counts"].values())
    assert data["skipped"] == {} and data["parameters"]["as_of"] == "2024-12-31"
    late = [f for f in data["flags"] if f["rule"] == "late_settlement"]
    assert {f["code"] for f in late} == {"late_settlement.late", "late_settlement.unpaid"}
    assert isinstance(late[0]["params"]["days"], int)


def test_check_table_shows_the_flags_and_the_counts(capsys, demo):
    code, out, _ = run(
        capsys, "kkpd", "check", demo["transactions"], "--cards", demo["cards"], "--as-of", "2024-12-31"
    )
    assert code == 0
    assert "PLANT-blocked_merchant_category-1" in out and "flags per rule:" in out
    assert "late_settlement skipped" in out


def test_check_reads_another_banks_layout_with_a_mapping_and_a_custom_rule_file(capsys, tmp_path):
    (tmp_path / "mapping.yaml").write_text(EXAMPLE_MAPPING_YAML, encoding="utf-8")
    (tmp_path / "rules.yaml").write_text("outside_working_days: {weekend: [5, 6, 7]}\n", encoding="utf-8")
    (tmp_path / "cards.csv").write_text(
        "card,opd,card_type,holder,limit,limit_period\n1234,Dinas Kesehatan,goods,Ani,1.000.000,month\n",
        encoding="utf-8",
    )
    (tmp_path / "bank.csv").write_text(
        "No Referensi;Nomor Kartu;Tanggal Transaksi;Nama Merchant;MID;MCC;Debet;Kredit;Jenis;Tanggal SPJ\n"
        "TRX-1;5264 81** **** 1234;08/03/2024;Toko A;M1;5111;1.500.000,00;;Pembelian;08/03/2024\n",
        encoding="utf-8",
    )
    code, out, _ = run(
        capsys,
        "kkpd",
        "check",
        tmp_path / "bank.csv",
        "--cards",
        tmp_path / "cards.csv",
        "--mapping",
        tmp_path / "mapping.yaml",
        "--rules",
        tmp_path / "rules.yaml",
        "--as-of",
        "2024-03-08",
        "--format",
        "csv",
    )
    assert code == 0
    assert [line.split(",")[:2] for line in out.splitlines()[1:]] == [
        ["TRX-1", "over_card_limit"],
        ["TRX-1", "outside_working_days"],
    ]


def test_bad_input_exits_2_with_one_line_naming_file_row_and_column(capsys, demo, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(
        "reference,card,date,merchant,merchant_id,mcc,amount,kind,receipt_date\n"
        "A,DS-DINKES-G1,2024-03-04,Toko,M1,5111,1500000,purchase,\n"
        "B,DS-DINKES-G1,2024-03-04,Toko,M1,5111,15000.50,purchase,\n",
        encoding="utf-8",
    )
    code, out, err = run(capsys, "kkpd", "check", bad, "--cards", demo["cards"])
    assert code == 2 and out == ""
    reason = "'15000.50' is not a positive whole number of rupiah"
    assert err == f"cityeval: error: {bad}, row 3, column 'amount': {reason}\n"


def test_a_bad_rule_file_or_date_exits_2(capsys, demo, tmp_path):
    rules = tmp_path / "rules.yaml"
    rules.write_text("split_purchase: {window: 3}\n", encoding="utf-8")
    code, _, err = run(
        capsys, "kkpd", "check", demo["transactions"], "--cards", demo["cards"], "--rules", rules
    )
    assert code == 2 and "split_purchase.window: unknown key" in err
    with pytest.raises(SystemExit) as caught:
        main(
            [
                "kkpd",
                "check",
                str(demo["transactions"]),
                "--cards",
                str(demo["cards"]),
                "--as-of",
                "31/12/2024",
            ]
        )
    assert caught.value.code == 2
