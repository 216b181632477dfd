"""Receipts checked on content, corrections as new records, realised spending imports."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from cityeval.web.kkpd.models import Flag, Receipt, Spending, Transaction
from cityeval.web.kkpd.selectors import region_summary
from cityeval.web.kkpd.services import flags_refresh, receipt_attach, statement_import
from tests.helpers.kkpd import AS_OF, HEADER, STATEMENT, upload

A = {"region": "kab-deli-serdang"}
PDF = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"


@pytest.fixture
def imported(world, kkpd, kkpd_admin):
    statement_import(region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF)
    return {t.reference: t for t in Transaction.objects.all()}


def _url(name: str, t: Transaction) -> str:
    return reverse(name, kwargs={**A, "transaction": t.public_id})


def test_a_card_holder_attaches_a_pdf_receipt_to_their_own_transaction(imported, holder, as_user):
    r1 = imported["R1"]
    response = as_user(holder).post(
        _url("kkpd:receipt_upload", r1), {"file": SimpleUploadedFile("spj.pdf", PDF)}
    )
    assert response.status_code == 302
    receipt = Receipt.objects.get()
    assert (receipt.transaction, receipt.content_type, receipt.original_name) == (
        r1,
        "application/pdf",
        "spj.pdf",
    )
    assert receipt.file.read() == PDF


def test_a_receipt_is_checked_on_content_not_name(imported, holder, as_user):
    """An HTML page named .pdf is refused; nothing is stored."""
    fake = SimpleUploadedFile(
        "spj.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )
    response = as_user(holder).post(_url("kkpd:receipt_upload", imported["R1"]), {"file": fake})
    assert response.status_code == 400 and "PDF, PNG or JPEG" in response.content.decode()
    assert not Receipt.objects.exists()


def test_receipts_are_refused_to_other_opds_and_the_inspector(imported, holder, holder2, inspector, as_user):
    r1 = imported["R1"]  # the health office's
    assert (
        as_user(holder2)
        .post(_url("kkpd:receipt_upload", r1), {"file": SimpleUploadedFile("a.pdf", PDF)})
        .status_code
        == 404
    )
    assert (
        as_user(inspector)
        .post(_url("kkpd:receipt_upload", r1), {"file": SimpleUploadedFile("a.pdf", PDF)})
        .status_code
        == 403
    )
    assert as_user(holder2).get(_url("kkpd:transaction", r1)).status_code == 404
    assert not Receipt.objects.exists()


def test_an_uploaded_receipt_counts_for_the_missing_receipt_rule(world, kkpd, kkpd_admin):
    """Two purchases today without a receipt date from the bank; a receipt is uploaded today for
    N1 only. Thirty days later (past the 7-day default) only N2 is flagged missing_receipt."""
    today = timezone.localdate()
    text = HEADER + "".join(f"{ref},1111,{today},Toko,M1,5111,1000,purchase,\n" for ref in ("N1", "N2"))
    statement_import(region=world.region_a, bank=kkpd, upload=upload(text), user=kkpd_admin, as_of=today)
    assert not Flag.objects.filter(rule="missing_receipt").exists()  # not yet due
    n1 = Transaction.objects.get(reference="N1")
    receipt_attach(transaction=n1, upload=SimpleUploadedFile("a.pdf", PDF), user=kkpd_admin)
    flags_refresh(region=world.region_a, as_of=today + dt.timedelta(days=30))
    missing = Flag.objects.filter(rule="missing_receipt").values_list("transaction__reference", flat=True)
    assert list(missing) == ["N2"]


def test_a_correction_is_a_new_record_and_the_original_stops_counting(imported, kkpd_admin, as_user):
    """R1 (1.500.000) corrected to 1.000.000: the region's KKPD total goes from 3.100.000 to
    2.600.000; R1 is unchanged and both records remain."""
    r1 = imported["R1"]
    response = as_user(kkpd_admin).post(
        _url("kkpd:correct", r1),
        {"amount": "1000000", "kind": "purchase", "reason": "Bank charged twice the unit price"},
    )
    assert response.status_code == 302
    r1.refresh_from_db()
    assert r1.amount == 1_500_000
    correction = Transaction.objects.get(corrects=r1)
    assert (correction.reference, correction.amount, correction.created_by) == ("R1#1", 1_000_000, kkpd_admin)
    assert region_summary(region=r1.region).total == 2_600_000
    again = as_user(kkpd_admin).post(
        _url("kkpd:correct", r1), {"amount": "5", "kind": "purchase", "reason": "x"}
    )
    assert again.status_code == 400 and Transaction.objects.count() == 4


def test_only_the_administrator_corrects(imported, inspector, holder, kkpd_admin_b, as_user):
    data = {"amount": "1", "kind": "purchase", "reason": "x"}
    assert as_user(inspector).post(_url("kkpd:correct", imported["R1"]), data).status_code == 403
    assert as_user(holder).post(_url("kkpd:correct", imported["R1"]), data).status_code == 403
    assert as_user(kkpd_admin_b).post(_url("kkpd:correct", imported["R1"]), data).status_code == 404
    assert Transaction.objects.count() == 3


def test_realised_spending_imports_whole_or_not_at_all(world, kkpd, kkpd_admin, inspector, as_user):
    url = reverse("kkpd:spending", kwargs=A)
    bad = (
        "opd,month,goods_services,capital\ndinkes,2024-06,16000000,0\nnope,2024-06,1,0\ndisdik,2024-13,1,0\n"
    )
    response = as_user(kkpd_admin).post(url, {"file": upload(bad, "spending.csv")})
    assert response.status_code == 400 and not Spending.objects.exists()
    assert "row 4, column &#x27;month&#x27;" in response.content.decode()
    good = "opd,month,goods_services,capital\ndinkes,2024-06,16000000,0\nDisdik,2024-06,10000000,5000000\n"
    assert as_user(kkpd_admin).post(url, {"file": upload(good, "spending.csv")}).status_code == 302
    assert Spending.objects.count() == 2
    assert region_summary(region=world.region_a).realised == 31_000_000
    assert as_user(inspector).post(url, {"file": upload(good, "spending.csv")}).status_code == 403
    assert Spending.objects.count() == 2


def test_register_shares_by_hand_and_as_the_engine_gives_them_on_every_transaction(world, imported):
    """Register: M1 (Toko ATK Maju) micro/small, not domestic; M2 (the hotel) domestic, not
    micro/small. Purchases R1 1.500.000 + R2 700.000 at M1 and R3 900.000 at M2: micro/small
    share 2.200.000 / 3.100.000, domestic share 900.000 / 3.100.000. The dashboard sums in the
    database; the engine on the individual transactions must agree."""
    import polars as pl

    from cityeval.engine.kkpd import kkpd_shares
    from cityeval.web.kkpd.models import Card, Merchant
    from cityeval.web.kkpd.selectors import cards_frame, transactions_frame

    Merchant.objects.create(region=world.region_a, merchant_id="M1", name="Toko ATK Maju", micro_small=True)
    Merchant.objects.create(region=world.region_a, merchant_id="M2", name="Hotel Sejahtera", domestic=True)
    summary = region_summary(region=world.region_a)
    assert summary.micro_small_share == 2_200_000 / 3_100_000
    assert summary.domestic_share == 900_000 / 3_100_000
    register = pl.DataFrame(
        {
            "merchant_id": ["M1", "M2"],
            "name": ["a", "b"],
            "micro_small": [True, False],
            "domestic": [False, True],
        }
    )
    engine = kkpd_shares(
        transactions_frame(region=world.region_a), cards_frame(Card.objects.all()), merchants=register
    ).select(pl.col("purchases").sum(), pl.col("micro_small").sum(), pl.col("domestic").sum())
    assert engine.row(0) == (3_100_000, 2_200_000, 900_000)


def test_a_receipt_downloads_to_those_who_see_its_transaction(
    imported, holder, holder2, inspector, kkpd_admin_b, as_user
):
    r1 = imported["R1"]
    as_user(holder).post(_url("kkpd:receipt_upload", r1), {"file": SimpleUploadedFile("spj.pdf", PDF)})
    receipt = Receipt.objects.get()
    url = reverse(
        "kkpd:receipt_download", kwargs={**A, "transaction": r1.public_id, "receipt": receipt.public_id}
    )
    for persona in (holder, inspector):
        response = as_user(persona).get(url)
        assert response.status_code == 200 and b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment")
    for persona in (holder2, kkpd_admin_b):
        assert as_user(persona).get(url).status_code == 404
