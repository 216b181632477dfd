"""Reading KKPD files: the template, card identifiers, amounts, errors, XLSX, bank mappings, rules."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest
import xlsxwriter
from tests.engine.kkpd.helpers import cards, purchase, text_table

from cityeval.engine import InputError
from cityeval.engine.kkpd import (
    DEFAULT_RULES_YAML,
    EXAMPLE_MAPPING,
    TEMPLATE_COLUMNS,
    RowProblems,
    RulesError,
    default_rules,
    load_rules,
    parse_mapping,
    parse_rules,
    parse_transactions,
    read_cards,
    read_transactions,
)
from cityeval.engine.kkpd.rules import Holidays

HEADER = ",".join(TEMPLATE_COLUMNS)


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_masked_and_full_card_numbers_keep_only_the_last_four_digits():
    rows = [
        ("5264 81** **** 1234", "A", "goods", "Ani", "1000", "month"),
        ("4111111111114321", "B", "goods", "Budi", "1000", "month"),
        ("4111-11XX-XXXX-9876", "C", "goods", "Citra", "1000", "month"),
        ("DINKES-01", "D", "travel", "Dewi", "1000", "year"),
    ]
    assert cards(rows).get_column("card").to_list() == ["1234", "4321", "9876", "DINKES-01"]


def test_an_identifier_hiding_a_card_number_is_refused():
    rows = [("kartu 4111 1111 1111 1111 dinkes", "A", "goods", "Ani", "1000", "month")]
    with pytest.raises(InputError, match="may hold a full card number") as caught:
        cards(rows)
    assert (caught.value.row, caught.value.column) == (2, "card")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("1500000", 1_500_000),
        ("1.500.000", 1_500_000),
        ("1,500,000", 1_500_000),
        ("Rp 1.500", 1_500),
        ("7", 7),
    ],
)
def test_amounts_are_whole_rupiah_with_optional_thousand_separators(text, expected):
    table = parse_transactions(text_table([purchase("A", "2024-03-04", text)], TEMPLATE_COLUMNS))
    assert table.get_column("amount").to_list() == [expected]


@pytest.mark.parametrize(
    "text", ["1500000.50", "1.500.000,00", "-5000", "0", "1.5000", "1.500,000", "12,5", "abc"]
)
def test_decimals_negatives_zero_and_malformed_groups_are_refused(text):
    with pytest.raises(InputError, match="is not a positive whole number of rupiah") as caught:
        parse_transactions(text_table([purchase("A", "2024-03-04", text)], TEMPLATE_COLUMNS))
    assert caught.value.column == "amount"


def test_every_bad_row_is_reported_with_its_row_and_column_and_nothing_is_returned(tmp_path):
    path = write(
        tmp_path / "statement.csv",
        f"""{HEADER}
A,G1,2024-03-04,Toko,M1,5111,1000,purchase,
A,G1,2024-03-05,Toko,M1,5111,1000,purchase,
C,ZZ,04/03/2024,Toko,M1,5111,1000,purchase,
D,G1,2024-03-06,,M1,51111,1000,buy,
E,G1,2024-03-06,Toko,M1,5111,10.5,purchase,not a date
""",
    )
    with pytest.raises(RowProblems) as caught:
        read_transactions(path, cards=cards())
    error = caught.value
    assert [(p.row, p.column) for p in error.problems] == [
        (3, "reference"),
        (4, "card"),
        (4, "date"),
        (5, "merchant"),
        (5, "mcc"),
        (5, "kind"),
        (6, "amount"),
        (6, "receipt_date"),
    ]
    assert error.total == 8
    assert str(error).startswith(f"{path}, row 3, column 'reference': reference 'A' repeats an earlier row")
    assert "7 more bad values" in str(error) and "\n" not in str(error)
    assert "card 'ZZ' is not in the card file" in [p.message for p in error.problems]


def test_a_missing_column_is_named(tmp_path):
    path = write(tmp_path / "cards.csv", "card,opd,card_type,holder,limit\nG1,A,goods,Ani,1000\n")
    with pytest.raises(InputError, match="no column 'limit_period'"):
        read_cards(path)


def test_an_xlsx_statement_with_number_and_date_cells_reads_like_the_csv(tmp_path):
    import datetime as dt

    path = tmp_path / "statement.xlsx"
    book = xlsxwriter.Workbook(str(path))
    sheet = book.add_worksheet()
    dates = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, TEMPLATE_COLUMNS)
    sheet.write_row(1, 0, ["A", "G1"])
    sheet.write_datetime(1, 2, dt.datetime(2024, 3, 4), dates)
    sheet.write_row(1, 3, ["Toko", "M1"])
    sheet.write_number(1, 5, 742)
    sheet.write_number(1, 6, 1_500_000)
    sheet.write(1, 7, "purchase")
    sheet.write_datetime(1, 8, dt.datetime(2024, 3, 5), dates)
    book.close()
    row = read_transactions(path, cards=cards()).row(0, named=True)
    assert (row["date"], row["mcc"], row["amount"], row["receipt_date"]) == (
        dt.date(2024, 3, 4),
        "0742",
        1_500_000,
        dt.date(2024, 3, 5),
    )


def test_another_banks_layout_reads_through_its_mapping_into_the_same_table(tmp_path):
    """The fictional contoh-bank layout: semicolons, Indonesian headers, masked card numbers,
    day/month/year dates, 1.500.000,00 amounts, separate debit and credit columns."""
    bank = write(
        tmp_path / "contoh-bank.csv",
        """No Referensi;Nomor Kartu;Tanggal Transaksi;Nama Merchant;MID;MCC;Debet;Kredit;Jenis;Tanggal SPJ
TRX-1;5264 81** **** 1234;04/03/2024;Toko A;M1;5111;1.500.000,00;;Pembelian;05/03/2024
TRX-2;5264 81** **** 1234;05/03/2024;Toko A;M1;5111;;250.000,00;Pengembalian;
TRX-3;5264 81** **** 1234;31/03/2024;Bank;;6012;5.000,00;;Biaya;
""",
    )
    template = write(
        tmp_path / "template.csv",
        f"""{HEADER}
TRX-1,1234,2024-03-04,Toko A,M1,5111,1500000,purchase,2024-03-05
TRX-2,1234,2024-03-05,Toko A,M1,5111,250000,refund,
TRX-3,1234,2024-03-31,Bank,,6012,5000,fee,
""",
    )
    card_table = cards([("1234", "Dinas Kesehatan", "goods", "Ani", "100000000", "month")])
    from_bank = read_transactions(bank, mapping=EXAMPLE_MAPPING, cards=card_table)
    assert from_bank.equals(read_transactions(template, cards=card_table))


def test_a_signed_layout_reads_negative_amounts_as_refunds():
    mapping = parse_mapping(
        """
name: signed-bank
columns: {ref: reference, card no: card, tgl: date, merchant: merchant, mcc: mcc, nominal: amount}
date_format: "%Y-%m-%d"
sign: signed
"""
    )
    table = text_table(
        [
            ("R1", "G1", "2024-03-04", "Toko", "5111", "1500"),
            ("R2", "G1", "2024-03-05", "Toko", "5111", "(1500)"),
        ],
        ["ref", "card_no", "tgl", "merchant", "mcc", "nominal"],
    )
    parsed = parse_transactions(table, mapping=mapping)
    assert parsed.select("kind", "amount").rows() == [("purchase", 1500), ("refund", 1500)]


def test_a_mapping_without_a_required_template_column_is_refused():
    with pytest.raises(RulesError, match="no bank column is mapped to 'amount'"):
        parse_mapping("name: x\ncolumns: {a: reference, b: card, c: date, d: merchant, e: mcc, f: kind}\n")


def test_a_mapped_file_missing_a_bank_column_names_it(tmp_path):
    path = write(tmp_path / "bank.csv", "No Referensi;Nomor Kartu\nA;1234\n")
    with pytest.raises(InputError, match="no column 'tanggal_transaksi'"):
        read_transactions(path, mapping=EXAMPLE_MAPPING)


# --- the rule file -----------------------------------------------------------------------------


def test_the_default_rules_are_the_issues_numbers():
    rules = default_rules()
    assert (rules.split_purchase.window_days, rules.split_purchase.threshold) == (3, 50_000_000)
    assert (rules.over_payee_cap.cap, rules.over_payee_cap.period) == (200_000_000, "year")
    assert rules.card_type_mismatch.travel_categories == (
        (3000, 3299),
        (4511, 4511),
        (3351, 3500),
        (7512, 7512),
        (3501, 3999),
        (7011, 7011),
        (4111, 4111),
        (4112, 4112),
        (4121, 4121),
        (4131, 4131),
        (4789, 4789),
    )
    blocked = {low for low, _ in rules.blocked_merchant_category.categories}
    assert blocked == {6010, 6011, 6051, 7995, 5813, 5993}
    assert (rules.missing_receipt.due_days, rules.duplicate_charge.window_days) == (7, 1)
    assert parse_rules("") == rules == parse_rules(DEFAULT_RULES_YAML)


def test_a_bad_rule_file_names_the_key(tmp_path):
    path = write(tmp_path / "rules.yaml", "split_purchase:\n  threshold: -1\nmissing_receipt: {due: 3}\n")
    with pytest.raises(RulesError) as caught:
        load_rules(path)
    assert "split_purchase.threshold" in str(caught.value) and "missing_receipt.due: unknown key" in str(
        caught.value
    )
    with pytest.raises(RulesError, match="not a category code"):
        parse_rules("blocked_merchant_category: {categories: [60x1]}")


def test_the_2024_calendar_has_the_public_holidays_and_the_collective_leave_days():
    """2024 cuti bersama per the joint decree of three ministers: 9 Feb, 12 Mar, 8, 9, 12 and
    15 Apr, 10 and 24 May, 18 Jun, 26 Dec; and e.g. Independence Day, 17 Aug."""
    import datetime as dt

    days = Holidays().dates([2024])
    cuti = ["02-09", "03-12", "04-08", "04-09", "04-12", "04-15", "05-10", "05-24", "06-18", "12-26"]
    assert all(dt.date.fromisoformat(f"2024-{d}") in days for d in cuti)
    assert dt.date(2024, 8, 17) in days and dt.date(2024, 3, 8) not in days


def test_the_kkpd_engine_does_not_import_django():
    code = "import sys, cityeval.engine.kkpd, cityeval.kkpd_demo; print('django' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_parsed_tables_have_the_documented_types():
    parsed = parse_transactions(text_table([purchase("A", "2024-03-04", 1000)], TEMPLATE_COLUMNS))
    assert parsed.schema["amount"] == pl.Int64 and parsed.schema["date"] == pl.Date


def test_a_bank_row_filling_both_debit_and_credit_is_reported_with_the_other_bad_rows(tmp_path):
    bank = write(
        tmp_path / "contoh-bank.csv",
        """No Referensi;Nomor Kartu;Tanggal Transaksi;Nama Merchant;MID;MCC;Debet;Kredit;Jenis;Tanggal SPJ
TRX-1;1234;04/03/2024;Toko A;M1;5111;1.500.000,00;1.500.000,00;Pembelian;
TRX-2;1234;2024-03-05;Toko A;M1;5111;1.500.000,50;;Pembelian;
""",
    )
    with pytest.raises(RowProblems) as caught:
        read_transactions(bank, mapping=EXAMPLE_MAPPING)
    assert [(p.row, p.column) for p in caught.value.problems] == [(2, "kredit"), (3, "date"), (3, "amount")]
    assert caught.value.problems[0].message == "the row fills both the debit and the credit column"


def test_a_settlement_file_names_unknown_cards_bad_months_and_repeated_bills(tmp_path):
    from cityeval.engine.kkpd import read_settlements

    path = write(
        tmp_path / "bills.csv",
        "card,month,due_date,settlement_date\nG1,2024-03,2024-04-15,\nG1,2024-03,2024-04-15,2024-04-10\n"
        "ZZ,2024-13,2024-04-15,\n",
    )
    with pytest.raises(RowProblems) as caught:
        read_settlements(path, cards=cards())
    assert [(p.row, p.column) for p in caught.value.problems] == [(3, "month"), (4, "card"), (4, "month")]
