"""Statement import: all or nothing with every bad row named, idempotent on the reference,
other banks' layouts through a saved mapping, then the rule checks store their flags."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cityeval.web.kkpd.models import Flag, ImportBatch, Transaction
from cityeval.web.kkpd.services import bank_set_mapping, statement_import
from tests.helpers.kkpd import AS_OF, HEADER, STATEMENT, upload


def test_it_imports_a_statement_and_stores_the_flags(world, kkpd, kkpd_admin):
    """By hand: R2 falls on Saturday 1 June 2024 (outside_working_days) and R3 is a hotel,
    MCC 7011, on a goods card (card_type_mismatch); R1 is clean. So 3 rows, 2 flags."""
    outcome = statement_import(
        region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF
    )
    assert (outcome.rows, outcome.added, outcome.already, outcome.flags_added) == (3, 3, 0, 2)
    flags = sorted(Flag.objects.values_list("rule", "transaction__reference", "status"))
    assert flags == [("card_type_mismatch", "R3", "open"), ("outside_working_days", "R2", "open")]
    r1 = Transaction.objects.get(reference="R1")
    assert (r1.card.last_four, r1.amount, r1.kind, r1.receipt_date) == (
        "1111",
        1_500_000,
        "purchase",
        dt.date(2024, 6, 4),
    )


def test_a_reimport_adds_nothing_and_keeps_flag_status(world, kkpd, kkpd_admin):
    statement_import(region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF)
    Flag.objects.filter(rule="outside_working_days").update(status="explained")
    again = statement_import(
        region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF
    )
    assert (again.added, again.already, again.flags_added) == (0, 3, 0)
    assert Transaction.objects.count() == 3
    assert Flag.objects.get(rule="outside_working_days").status == "explained"


def test_every_bad_row_is_reported_and_nothing_is_saved(world, kkpd, kkpd_admin, as_user):
    bad = HEADER + (
        "R1,1111,2024-06-03,Toko,M1,5111,1500000,purchase,\n"
        "R2,9999,2024-06-03,Toko,M1,5111,1500000,purchase,\n"  # unknown card
        "R3,1111,2024-13-03,Toko,M1,5111,1500000,purchase,\n"  # no such month
        "R4,1111,2024-06-03,Toko,M1,5111,15.5,purchase,\n"  # not whole rupiah
        "R5,1111,2024-06-03,Toko,M1,5111,1000,gift,\n"  # unknown kind
    )
    response = as_user(kkpd_admin).post(
        reverse("kkpd:import", kwargs={"region": "kab-deli-serdang"}),
        {"bank": str(kkpd.public_id), "file": upload(bad)},
    )
    assert response.status_code == 400
    html = response.content.decode()
    for row, column in ((3, "card"), (4, "date"), (5, "amount"), (6, "kind")):
        assert f"row {row}, column &#x27;{column}&#x27;" in html
    assert Transaction.objects.count() == 0 and ImportBatch.objects.count() == 0


def test_another_banks_layout_imports_through_its_mapping(world, kkpd, kkpd_admin):
    """The fictional contoh-bank layout: day-first dates, Indonesian amounts, debit/credit.
    The credit row is a refund of Rp 200.000."""
    bank_set_mapping(
        bank=kkpd,
        mapping_yaml="""\
name: contoh-bank
columns: {No Referensi: reference, Nomor Kartu: card, Tanggal Transaksi: date, Nama Merchant: merchant,
  MID: merchant_id, MCC: mcc, Debet: amount, Jenis: kind, Tanggal SPJ: receipt_date}
credit_column: Kredit
date_format: "%d/%m/%Y"
amount_style: id
sign: debit_credit
kinds: {pembelian: purchase, biaya: fee, pengembalian: refund}
""",
    )
    text = (
        "No Referensi;Nomor Kartu;Tanggal Transaksi;Nama Merchant;MID;MCC;Debet;Kredit;Jenis;Tanggal SPJ\n"
        "B1;4111-2222-3333-1111;03/06/2024;Toko ATK;M1;5111;1.500.000,00;;pembelian;04/06/2024\n"
        "B2;4111-2222-3333-1111;04/06/2024;Toko ATK;M1;5111;;200.000,00;pengembalian;04/06/2024\n"
    )
    outcome = statement_import(
        region=world.region_a, bank=kkpd, upload=upload(text), user=kkpd_admin, as_of=AS_OF
    )
    assert outcome.added == 2
    got = sorted(Transaction.objects.values_list("reference", "card__last_four", "date", "amount", "kind"))
    assert got == [
        ("B1", "1111", dt.date(2024, 6, 3), 1_500_000, "purchase"),
        ("B2", "1111", dt.date(2024, 6, 4), 200_000, "refund"),
    ]


def test_a_bad_mapping_is_refused_with_its_reason(world, kkpd):
    from cityeval.web.kkpd.services import InvalidInput

    with pytest.raises(InvalidInput, match="no bank column is mapped to 'amount'"):
        bank_set_mapping(
            bank=kkpd,
            mapping_yaml="name: x\ncolumns: {Ref: reference, Kartu: card, Tgl: date, MCC: mcc}\n",
        )


def test_a_full_card_number_is_never_stored(world, kkpd, kkpd_admin):
    """The statement carries the full number; only its last four digits reach the database."""
    text = HEADER + "F1,4111222233331111,2024-06-03,Toko,M1,5111,1000,purchase,2024-06-03\n"
    statement_import(region=world.region_a, bank=kkpd, upload=upload(text), user=kkpd_admin, as_of=AS_OF)
    assert Transaction.objects.get().card.last_four == "1111"
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM kkpd_transaction")
        assert "4111222233331111" not in repr(cursor.fetchall())


def test_the_administrator_saves_a_banks_mapping_through_the_page(world, kkpd, kkpd_admin, as_user):
    from cityeval.engine.kkpd.mapping import EXAMPLE_MAPPING_YAML

    url = reverse("kkpd:bank_mapping", kwargs={"region": "kab-deli-serdang", "bank": kkpd.public_id})
    page = as_user(kkpd_admin).get(url).content.decode()
    assert "receipt_date: receipt_date" in page and "contoh-bank" in page  # the two presets
    assert as_user(kkpd_admin).post(url, {"mapping_yaml": EXAMPLE_MAPPING_YAML}).status_code == 302
    kkpd.refresh_from_db()
    assert kkpd.mapping_yaml == EXAMPLE_MAPPING_YAML
    refused = as_user(kkpd_admin).post(url, {"mapping_yaml": "name: x\ncolumns: {Ref: reference}\n"})
    assert refused.status_code == 400 and "no bank column is mapped to" in refused.content.decode()
    kkpd.refresh_from_db()
    assert kkpd.mapping_yaml == EXAMPLE_MAPPING_YAML


def test_only_the_administrator_changes_a_mapping(
    world, kkpd, inspector, holder, kkpd_admin_b, nobody, as_user
):
    from cityeval.engine.kkpd.mapping import EXAMPLE_MAPPING_YAML

    bank_set_mapping(bank=kkpd, mapping_yaml=EXAMPLE_MAPPING_YAML)
    url = reverse("kkpd:bank_mapping", kwargs={"region": "kab-deli-serdang", "bank": kkpd.public_id})
    for persona in (inspector, holder):
        assert as_user(persona).post(url, {"mapping_yaml": ""}).status_code == 403
    for persona in (kkpd_admin_b, nobody):
        assert as_user(persona).post(url, {"mapping_yaml": ""}).status_code == 404
    kkpd.refresh_from_db()
    assert kkpd.mapping_yaml == EXAMPLE_MAPPING_YAML
