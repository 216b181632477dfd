"""The administrator's registers: banks, cards (last four digits only), the merchant register and
its import, realised spending entered by hand, and monthly bills raising ``late_settlement``.
Every page is tried with outsiders: region B's administrator, A's regional admin without a KKPD
role and a user with no role (404), the inspector and card holders (403 on writes), anonymous
(sent to log in)."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from cityeval.web.kkpd.models import Bank, Card, CardChange, Flag, Merchant, Settlement, Spending
from cityeval.web.kkpd.services import statement_import
from tests.helpers.kkpd import AS_OF, STATEMENT, upload

A = {"region": "kab-deli-serdang"}
FULL_NUMBER = "4111111111111111"  # a 16-digit (test) card number typed by mistake
CARD = {
    "bank": None, "opd": None, "card_type": "travel", "holder_name": "Rina Wati", "administrator": "Ahmad",
    "authorised_users": "Rina Wati\nDodi", "limit": "25000000", "limit_period": "year",
    "valid_from": "2024-01-01", "valid_until": "2025-12-31",
}  # fmt: skip


def _card_data(world, bank, **more) -> dict:
    return CARD | {"bank": bank.pk, "opd": world.opd_health.pk} | more


@pytest.fixture
def registers(world, kkpd):
    """Region A's card 1111 (health), bank and one merchant; the URLs of every new page."""
    merchant = Merchant.objects.create(region=world.region_a, merchant_id="M1", name="Toko ATK Maju")
    card = Card.objects.get(last_four="1111")
    return {
        "banks": reverse("kkpd:banks", kwargs=A),
        "bank_edit": reverse("kkpd:bank_edit", kwargs={**A, "bank": kkpd.public_id}),
        "card_new": reverse("kkpd:card_new", kwargs=A),
        "card_edit": reverse("kkpd:card_edit", kwargs={**A, "card": card.public_id}),
        "merchants": reverse("kkpd:merchants", kwargs=A),
        "merchant_edit": reverse("kkpd:merchant_edit", kwargs={**A, "merchant": merchant.pk}),
        "merchant_import": reverse("kkpd:merchant_import", kwargs=A),
        "spending_entry": reverse("kkpd:spending_entry", kwargs=A),
        "settlements": reverse("kkpd:settlements", kwargs=A),
    }


READ_PAGES = ("banks", "merchants", "settlements")
ADMIN_PAGES = ("bank_edit", "card_new", "card_edit", "merchant_edit", "spending_entry")
WRITES = (*READ_PAGES, *ADMIN_PAGES, "merchant_import")


def _snapshot() -> tuple:
    return (
        list(Bank.objects.values_list("name", flat=True)),
        list(Card.objects.values_list("holder_name", "card_type", "limit")),
        list(Merchant.objects.values_list("merchant_id", "name")),
        Spending.objects.count(),
        Settlement.objects.count(),
    )


@pytest.mark.parametrize("page", READ_PAGES)
def test_kkpd_readers_see_the_register_lists(
    page, registers, kkpd_admin, inspector, holder, coordinator, as_user
):
    for persona in (kkpd_admin, inspector, holder, coordinator):
        assert as_user(persona).get(registers[page]).status_code == 200


@pytest.mark.parametrize("page", ADMIN_PAGES)
def test_only_the_administrator_opens_the_forms(
    page, registers, kkpd_admin, inspector, holder, coordinator, as_user
):
    """holder is the health office's, whose card 1111 is the one edited: still 403."""
    assert as_user(kkpd_admin).get(registers[page]).status_code == 200
    for persona in (inspector, holder, coordinator):
        assert as_user(persona).get(registers[page]).status_code == 403


@pytest.mark.parametrize("page", WRITES)
def test_outsiders_get_404_and_anonymous_logs_in(page, registers, kkpd_admin_b, admin_a, nobody, as_user):
    for persona in (kkpd_admin_b, admin_a, nobody):
        assert as_user(persona).get(registers[page]).status_code == 404
        assert as_user(persona).post(registers[page], {"name": "X"}).status_code == 404
    for method in ("get", "post"):
        response = getattr(as_user(None), method)(registers[page])
        assert response.status_code == 302 and "/accounts/login" in response["Location"]


@pytest.mark.parametrize("page", WRITES)
def test_readers_cannot_write_and_nothing_changes(
    page, world, kkpd, registers, inspector, holder, coordinator, as_user
):
    """A valid-looking post of every form by each reader: 403 and the records as they were."""
    data = _card_data(world, kkpd) | {
        "name": "Bank Baru", "merchant_id": "M9", "last_four": "9999", "opd": world.opd_health.pk,
        "month": "2024-06", "goods_services": "5", "capital": "5",
    }  # fmt: skip
    before = _snapshot()
    for persona in (inspector, holder, coordinator):
        assert as_user(persona).post(registers[page], data).status_code == 403
    assert _snapshot() == before


def test_a_card_holder_of_another_opd_does_not_see_the_card(registers, holder2, as_user):
    """Card 1111 is the health office's; holder2 holds the education office's card."""
    assert as_user(holder2).get(registers["card_edit"]).status_code == 404
    assert as_user(holder2).post(registers["card_edit"], {}).status_code == 404


def test_a_full_card_number_is_refused_not_stored_and_not_echoed(world, kkpd, registers, kkpd_admin, as_user):
    response = as_user(kkpd_admin).post(registers["card_new"], _card_data(world, kkpd, last_four=FULL_NUMBER))
    assert response.status_code == 400
    html = response.content.decode()
    assert FULL_NUMBER not in html and FULL_NUMBER[-4:] + '"' not in html
    assert not Card.objects.filter(holder_name="Rina Wati").exists()
    assert not Card.objects.filter(last_four__regex=r"\d{5,}").exists()


@pytest.mark.parametrize("bad", ["123", "12a4", "1234 ", "", "٣٣٣٣"])
def test_anything_but_four_ascii_digits_is_refused(world, kkpd, registers, kkpd_admin, as_user, bad):
    response = as_user(kkpd_admin).post(registers["card_new"], _card_data(world, kkpd, last_four=bad))
    if bad == "1234 ":  # surrounding spaces are trimmed: a valid card
        assert response.status_code == 302 and Card.objects.filter(last_four="1234").exists()
        return
    assert response.status_code == 400
    assert not Card.objects.filter(holder_name="Rina Wati").exists()


def test_the_administrator_registers_a_card(world, kkpd, registers, kkpd_admin, as_user):
    response = as_user(kkpd_admin).post(registers["card_new"], _card_data(world, kkpd, last_four="4321"))
    assert response.status_code == 302
    card = Card.objects.get(region=world.region_a, last_four="4321")
    assert (card.card_type, card.limit, card.limit_period, card.opd) == (
        "travel",
        25_000_000,
        "year",
        world.opd_health,
    )
    assert card.authorised_users.splitlines() == ["Rina Wati", "Dodi"]


def test_a_card_with_four_digits_the_region_has_is_refused(world, kkpd, registers, kkpd_admin, as_user):
    response = as_user(kkpd_admin).post(registers["card_new"], _card_data(world, kkpd, last_four="1111"))
    assert response.status_code == 400
    assert Card.objects.filter(last_four="1111").count() == 1


def test_a_card_expiring_before_it_is_valid_is_refused(world, kkpd, registers, kkpd_admin, as_user):
    data = _card_data(world, kkpd, last_four="4321", valid_until="2023-12-31")
    assert as_user(kkpd_admin).post(registers["card_new"], data).status_code == 400
    assert not Card.objects.filter(last_four="4321").exists()


def test_region_bs_bank_cannot_be_given_to_a_card(world, kkpd, registers, kkpd_admin, as_user):
    other = Bank.objects.get(region=world.region_b)
    data = _card_data(world, kkpd, last_four="4321") | {"bank": other.pk}
    assert as_user(kkpd_admin).post(registers["card_new"], data).status_code == 400
    assert not Card.objects.filter(last_four="4321").exists()


def test_editing_a_card_keeps_its_digits_and_records_who_changed_what(
    world, kkpd, registers, kkpd_admin, as_user
):
    """The conftest's card 1111: goods, Rp 10,000,000 a month, holder Siti Aminah."""
    data = _card_data(world, kkpd, last_four="9999", holder_name="Siti Aminah", card_type="goods",
                      limit="12000000", limit_period="month")  # fmt: skip
    assert as_user(kkpd_admin).post(registers["card_edit"], data).status_code == 302
    card = Card.objects.get(region=world.region_a, holder_name="Siti Aminah")
    assert card.last_four == "1111" and card.limit == 12_000_000
    change = CardChange.objects.get(card=card)
    assert change.changed_by == kkpd_admin
    assert change.changes["limit"] == ["10000000", "12000000"]
    assert "last_four" not in change.changes and "holder_name" not in change.changes


def test_banks_are_registered_and_renamed_with_unique_names(world, kkpd, registers, kkpd_admin, as_user):
    client = as_user(kkpd_admin)
    assert client.post(registers["banks"], {"name": "Bank BRI"}).status_code == 302
    assert client.post(registers["banks"], {"name": "bank sumut"}).status_code == 400
    assert client.post(registers["bank_edit"], {"name": "Bank Sumut Syariah"}).status_code == 302
    assert sorted(Bank.objects.filter(region=world.region_a).values_list("name", flat=True)) == [
        "Bank BRI", "Bank Sumut Syariah"
    ]  # fmt: skip


def test_merchants_are_added_and_edited_with_a_valid_mcc(world, registers, kkpd_admin, as_user):
    client = as_user(kkpd_admin)
    new = {"merchant_id": "M2", "name": "Warung Bu Sri", "mcc": "5812", "micro_small": "on"}
    assert client.post(registers["merchants"], new).status_code == 302
    assert client.post(registers["merchants"], new | {"name": "Again"}).status_code == 400
    assert client.post(registers["merchants"], new | {"merchant_id": "M3", "mcc": "58"}).status_code == 400
    edit = {"merchant_id": "M1", "name": "Toko ATK Maju", "mcc": "5111", "domestic": "on"}
    assert client.post(registers["merchant_edit"], edit).status_code == 302
    rows = dict(Merchant.objects.values_list("merchant_id", "mcc"))
    assert rows == {"M1": "5111", "M2": "5812"}
    assert Merchant.objects.get(merchant_id="M2").micro_small is True


MERCHANTS = "merchant_id,name,mcc,micro_small,domestic\n"


def test_a_merchant_import_reports_every_bad_row_and_saves_nothing(world, registers, kkpd_admin, as_user):
    """Row 2 is fine; row 3's micro_small is 'maybe', row 4 repeats M5 and row 5's MCC is 'ab12'.
    The engine's checks (rows 3, 4) come first; the web's own (MCC, name) once they pass."""
    text = (
        MERCHANTS + "M5,Toko A,5411,ya,tidak\nM6,Toko B,5411,maybe,ya\nM5,Toko C,,no,no\nM7,Toko D,ab12,1,0\n"
    )
    response = as_user(kkpd_admin).post(registers["merchant_import"], {"file": upload(text, "merchants.csv")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "row 3" in html and "row 4" in html
    assert list(Merchant.objects.values_list("merchant_id", flat=True)) == ["M1"]


def test_a_merchant_import_without_a_column_says_so_in_indonesian(
    world, registers, kkpd_admin, as_user, settings
):
    """The engine's missing_column error through the page's language (it was shown in English)."""
    settings.LANGUAGE_CODE = "id"
    text = "merchant_id,name,micro_small\nM5,Toko A,ya\n"
    response = as_user(kkpd_admin).post(registers["merchant_import"], {"file": upload(text, "merchants.csv")})
    assert response.status_code == 400
    page = response.content.decode()
    assert "kolom &#x27;domestic&#x27;: tabel tidak memiliki kolom &#x27;domestic&#x27;" in page
    assert "has no column" not in page


def test_a_merchant_import_adds_and_updates_the_register(world, registers, kkpd_admin, as_user):
    text = MERCHANTS + "M1,Toko ATK Maju Jaya,5111,ya,ya\nM8,Koperasi Tani,5499,ya,ya\n"
    response = as_user(kkpd_admin).post(registers["merchant_import"], {"file": upload(text, "m.csv")})
    assert response.status_code == 302
    m1 = Merchant.objects.get(merchant_id="M1")
    assert (m1.name, m1.mcc, m1.micro_small, m1.domestic) == ("Toko ATK Maju Jaya", "5111", True, True)
    assert Merchant.objects.filter(region=world.region_a).count() == 2


def test_the_merchant_register_is_read_from_xlsx_too(world, registers, kkpd_admin, as_user):
    """The same import from a spreadsheet (the file's type is told from its content, not its name)."""
    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    for r, row in enumerate(
        [MERCHANTS.strip().split(","), ["M9", "CV Sumber Rezeki", "5732", "tidak", "ya"]]
    ):
        sheet.write_row(r, 0, row)
    book.close()
    data = SimpleUploadedFile("register.bin", out.getvalue())
    assert as_user(kkpd_admin).post(registers["merchant_import"], {"file": data}).status_code == 302
    m9 = Merchant.objects.get(region=world.region_a, merchant_id="M9")
    assert (m9.name, m9.mcc, m9.micro_small, m9.domestic) == ("CV Sumber Rezeki", "5732", False, True)


def test_a_bad_mcc_and_an_empty_name_are_each_reported(world, registers, kkpd_admin, as_user):
    text = MERCHANTS + "M7,Toko D,ab12,1,0\nM8,,5411,1,0\nM9,Toko E,5411,1,0\n"
    response = as_user(kkpd_admin).post(registers["merchant_import"], {"file": upload(text, "m.csv")})
    html = response.content.decode()
    assert response.status_code == 400
    assert "row 2, column &#x27;mcc&#x27;" in html and "row 3, column &#x27;name&#x27;" in html
    assert "row 4" not in html
    assert list(Merchant.objects.values_list("merchant_id", flat=True)) == ["M1"]


def test_spending_entered_by_hand_is_appended_and_the_latest_counts(world, registers, kkpd_admin, as_user):
    client = as_user(kkpd_admin)
    first = {"opd": world.opd_health.pk, "month": "2024-06", "goods_services": "1000000", "capital": "0"}
    assert client.post(registers["spending_entry"], first).status_code == 302
    assert client.post(registers["spending_entry"], first | {"goods_services": "1200000"}).status_code == 302
    rows = list(Spending.objects.order_by("id").values_list("month", "goods_services"))
    assert rows == [(dt.date(2024, 6, 1), 1_000_000), (dt.date(2024, 6, 1), 1_200_000)]
    assert client.post(registers["spending_entry"], first | {"capital": "-5"}).status_code == 400
    assert client.post(registers["spending_entry"], first | {"month": "June"}).status_code == 400
    assert client.post(registers["spending_entry"], first | {"opd": world.opd_b.pk}).status_code == 400
    assert Spending.objects.count() == 2


BILLS = "card,month,due_date,settlement_date\n"


@pytest.fixture
def statement(world, kkpd, kkpd_admin):
    """June 2024 transactions on cards 1111 and 2222 (the conftest's statement)."""
    statement_import(region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF)


def _late() -> list[tuple[str, str]]:
    return sorted(Flag.objects.filter(rule="late_settlement").values_list("card__last_four", "key"))


def test_a_bill_settled_after_its_due_date_is_flagged_and_one_settled_on_time_is_not(
    statement, registers, kkpd_admin, as_user
):
    """By hand: 1111's June bill is due 10 July and settled 12 July (2 days late: flagged);
    2222's is due 10 July and settled 10 July (on time: not flagged)."""
    text = BILLS + "1111,2024-06,2024-07-10,2024-07-12\n2222,2024-06,2024-07-10,2024-07-10\n"
    response = as_user(kkpd_admin).post(registers["settlements"], {"file": upload(text, "bills.csv")})
    assert response.status_code == 302
    assert _late() == [("1111", "late_settlement:1111:bill 2024-06")]
    flag = Flag.objects.get(rule="late_settlement")
    assert flag.params["days"] == 2 and flag.transaction is None and flag.date == dt.date(2024, 7, 10)
    page = as_user(kkpd_admin).get(reverse("kkpd:flags", kwargs=A) + "?rule=late_settlement")
    assert "late_settlement" in page.content.decode()


def test_two_cards_late_in_the_same_month_get_a_flag_each(statement, registers, kkpd_admin, as_user):
    """Both June bills settled on 12 July: the bill reference is the same ('bill 2024-06'), so
    a key without the card would keep only one of the two flags."""
    text = BILLS + "1111,2024-06,2024-07-10,2024-07-12\n2222,2024-06,2024-07-10,2024-07-12\n"
    as_user(kkpd_admin).post(registers["settlements"], {"file": upload(text, "bills.csv")})
    assert [card for card, _key in _late()] == ["1111", "2222"]


def test_an_unpaid_bill_past_its_due_date_is_flagged_and_paying_it_adds_a_row(
    statement, registers, kkpd_admin, as_user
):
    """1111's June 2024 bill, due 10 July 2024, unpaid: overdue as of today (the checks run as of
    the day of the import). Paid later on 15 July, the new row counts; the flag stays as it was."""
    client = as_user(kkpd_admin)
    client.post(registers["settlements"], {"file": upload(BILLS + "1111,2024-06,2024-07-10,\n", "b.csv")})
    assert Flag.objects.get(rule="late_settlement").code == "late_settlement.unpaid"
    client.post(
        registers["settlements"], {"file": upload(BILLS + "1111,2024-06,2024-07-10,2024-07-15\n", "b.csv")}
    )
    assert list(Settlement.objects.order_by("id").values_list("settlement_date", flat=True)) == [
        None, dt.date(2024, 7, 15)
    ]  # fmt: skip
    assert _late() == [("1111", "late_settlement:1111:bill 2024-06")]


def test_a_reimported_bill_adds_nothing_and_a_bad_file_saves_nothing(
    statement, registers, kkpd_admin, as_user
):
    client = as_user(kkpd_admin)
    good = BILLS + "1111,2024-06,2024-07-10,2024-07-12\n"
    client.post(registers["settlements"], {"file": upload(good, "bills.csv")})
    client.post(registers["settlements"], {"file": upload(good, "bills.csv")})
    assert Settlement.objects.count() == 1 and len(_late()) == 1
    bad = BILLS + "2222,2024-07,2024-08-10,\n9999,2024-07,2024-08-10,2024-08-09\n1111,2024-13,2024-08-10,\n"
    response = client.post(registers["settlements"], {"file": upload(bad, "bills.csv")})
    assert response.status_code == 400
    html = response.content.decode()
    assert "row 3" in html and "row 4" in html
    assert Settlement.objects.count() == 1


def test_a_card_holder_sees_only_their_opds_bills(statement, registers, kkpd_admin, holder, as_user):
    text = BILLS + "1111,2024-06,2024-07-10,2024-07-12\n2222,2024-06,2024-07-10,2024-07-09\n"
    as_user(kkpd_admin).post(registers["settlements"], {"file": upload(text, "bills.csv")})
    html = as_user(holder).get(registers["settlements"]).content.decode()
    assert "1111" in html and "2222" not in html
