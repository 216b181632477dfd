"""Who sees which KKPD page, with outsiders for every view; flag status changes and history;
the public page's aggregates and what it must never show."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from cityeval.web.kkpd.models import Flag, FlagStatusChange, Spending, Transaction
from cityeval.web.kkpd.services import statement_import
from tests.helpers.kkpd import AS_OF, STATEMENT, upload
from tests.helpers.web import without_csrf_tokens

A = {"region": "kab-deli-serdang"}
READ_PAGES = ("kkpd:dashboard", "kkpd:cards", "kkpd:transactions", "kkpd:flags")


@pytest.fixture
def imported(world, kkpd, kkpd_admin):
    statement_import(region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF)
    return Flag.objects.get(rule="card_type_mismatch")  # on R3, the education office's card 2222


@pytest.mark.parametrize("page", READ_PAGES)
def test_region_wide_readers_see_the_region(page, imported, kkpd_admin, inspector, coordinator, as_user):
    for persona in (kkpd_admin, inspector, coordinator):
        assert as_user(persona).get(reverse(page, kwargs=A)).status_code == 200


@pytest.mark.parametrize("page", READ_PAGES)
def test_outsiders_get_404(page, imported, kkpd_admin_b, admin_a, opd_a, nobody, as_user):
    """Region B's administrator, A's regional admin and OPD contributor without a KKPD role,
    and a user with no role: the region's KKPD might as well not exist."""
    for persona in (kkpd_admin_b, admin_a, opd_a, nobody):
        assert as_user(persona).get(reverse(page, kwargs=A)).status_code == 404


@pytest.mark.parametrize("page", READ_PAGES)
def test_anonymous_is_sent_to_login(page, imported, as_user):
    response = as_user(None).get(reverse(page, kwargs=A))
    assert response.status_code == 302 and "/accounts/login" in response["Location"]


def test_a_card_holder_sees_only_their_own_opds_cards_and_transactions(imported, holder, holder2, as_user):
    """holder is the health office's (card 1111: R1, R2); holder2 the education office's (2222: R3)."""
    cards = as_user(holder).get(reverse("kkpd:cards", kwargs=A)).content.decode()
    assert "1111" in cards and "Siti Aminah" in cards
    assert "2222" not in cards and "Budi Santoso" not in cards
    rows = as_user(holder).get(reverse("kkpd:transactions", kwargs=A)).content.decode()
    assert ">R1<" in rows and ">R2<" in rows and ">R3<" not in rows
    flags = as_user(holder).get(reverse("kkpd:flags", kwargs=A)).content.decode()
    assert "outside_working_days" in flags and str(imported.public_id) not in flags
    other = as_user(holder2).get(reverse("kkpd:transactions", kwargs=A)).content.decode()
    assert ">R3<" in other and ">R1<" not in other


def test_the_dashboard_of_a_card_holder_counts_their_opd_only(imported, holder, as_user):
    """Health office: R1 1.500.000 + R2 700.000 = 2.200.000 (R3's 900.000 is education's)."""
    html = as_user(holder).get(reverse("kkpd:dashboard", kwargs=A)).content.decode()
    assert "2,200,000" in html and "3,100,000" not in html


def _status_url(flag: Flag) -> str:
    return reverse("kkpd:flag_status", kwargs={**A, "flag": flag.public_id})


def test_the_inspector_explains_a_flag_and_the_history_keeps_who_when_why(
    imported, inspector, kkpd_admin, as_user
):
    response = as_user(inspector).post(
        _status_url(imported), {"status": "explained", "reason": "Hotel for a training"}
    )
    assert response.status_code == 302
    as_user(kkpd_admin).post(
        _status_url(imported), {"status": "resolved", "reason": "Charged to travel budget"}
    )
    imported.refresh_from_db()
    assert imported.status == "resolved"
    history = list(
        FlagStatusChange.objects.filter(flag=imported).values_list("status", "reason", "changed_by__username")
    )
    assert history == [
        ("explained", "Hotel for a training", "inspector"),
        ("resolved", "Charged to travel budget", "kkpd_admin"),
    ]
    page = as_user(inspector).get(reverse("kkpd:flags", kwargs=A)).content.decode()
    assert "Hotel for a training" in page and "Charged to travel budget" in page


def test_a_status_change_needs_a_reason(imported, inspector, as_user):
    response = as_user(inspector).post(_status_url(imported), {"status": "resolved", "reason": "  "})
    assert response.status_code == 400
    imported.refresh_from_db()
    assert imported.status == "open" and not FlagStatusChange.objects.exists()


def test_only_the_administrator_and_inspector_change_a_flag(
    imported, holder, holder2, coordinator, kkpd_admin_b, nobody, as_user
):
    """The education holder owns the flagged card but may not change its status (403); the health
    holder does not even see it (404); the coordinator reads only (403); outsiders get 404."""
    data = {"status": "resolved", "reason": "x"}
    assert as_user(holder2).post(_status_url(imported), data).status_code == 403
    assert as_user(holder).post(_status_url(imported), data).status_code == 404
    assert as_user(coordinator).post(_status_url(imported), data).status_code == 403
    for persona in (kkpd_admin_b, nobody):
        assert as_user(persona).post(_status_url(imported), data).status_code == 404
    assert as_user(None).post(_status_url(imported), data).status_code == 302
    imported.refresh_from_db()
    assert imported.status == "open" and not FlagStatusChange.objects.exists()


def test_only_the_administrator_imports(kkpd, inspector, holder, coordinator, kkpd_admin_b, as_user):
    """The inspector reads everything but changes no data other than flag status."""
    url = reverse("kkpd:import", kwargs=A)
    post = {"bank": str(kkpd.public_id), "file": upload(STATEMENT)}
    for persona in (inspector, holder, coordinator):
        assert as_user(persona).get(url).status_code == 403
        assert as_user(persona).post(url, {**post, "file": upload(STATEMENT)}).status_code == 403
    assert as_user(kkpd_admin_b).post(url, {**post, "file": upload(STATEMENT)}).status_code == 404
    assert not Transaction.objects.exists()


def test_the_administrator_imports_through_the_page(kkpd, kkpd_admin, as_user):
    url = reverse("kkpd:import", kwargs=A)
    assert as_user(kkpd_admin).get(url).status_code == 200
    response = as_user(kkpd_admin).post(
        url, {"bank": str(kkpd.public_id), "file": upload(STATEMENT)}, follow=True
    )
    assert "3 transactions added" in response.content.decode()
    again = as_user(kkpd_admin).post(
        url, {"bank": str(kkpd.public_id), "file": upload(STATEMENT)}, follow=True
    )
    assert "Nothing new: all 3 transactions were already imported." in again.content.decode()
    assert Transaction.objects.count() == 3


def test_the_public_page_shows_aggregates_and_no_card_holder_or_merchant(
    world, imported, kkpd_admin, as_user
):
    """By hand: KKPD spending 1.500.000 + 700.000 + 900.000 = 3.100.000; realised spending in June
    16.000.000 (health) + 10.000.000 + 5.000.000 (education) = 31.000.000, a KKPD share of 10%."""
    Spending.objects.create(region=world.region_a, opd=world.opd_health, month=dt.date(2024, 6, 1),
                            goods_services=16_000_000, capital=0, created_by=kkpd_admin)  # fmt: skip
    Spending.objects.create(region=world.region_a, opd=world.opd_education, month=dt.date(2024, 6, 1),
                            goods_services=10_000_000, capital=5_000_000, created_by=kkpd_admin)  # fmt: skip
    response = as_user(None).get(reverse("kkpd:public", kwargs=A))
    assert response.status_code == 200
    html = without_csrf_tokens(response.content.decode())
    assert "3,100,000" in html and "31,000,000" in html and "10%" in html
    assert "Dinas Kesehatan" in html and "2,200,000" in html  # by OPD: the health office's June
    by_category = html[html.index('id="by-category"') : html.index('id="by-opd"')]
    assert "2024-06" in by_category and "Rp 3,100,000" in by_category and "Rp 0" in by_category
    for secret in (
        "1111",
        "2222",
        "Siti Aminah",
        "Budi Santoso",
        "Toko ATK Maju",
        "Hotel Sejahtera",
        "R1",
        "M1",
    ):
        assert secret not in html


def test_the_public_page_exists_only_for_regions_running_kkpd(world, as_user):
    assert as_user(None).get(reverse("kkpd:public", kwargs=A)).status_code == 404


def test_the_national_side_by_side_is_the_coordinators(imported, coordinator, kkpd_admin, nobody, as_user):
    html = as_user(coordinator).get(reverse("kkpd:national")).content.decode()
    assert "Kab. Deli Serdang" in html and "Kota Medan" in html and "3,100,000" in html
    assert as_user(kkpd_admin).get(reverse("kkpd:national")).status_code == 403
    assert as_user(nobody).get(reverse("kkpd:national")).status_code == 403
    assert as_user(None).get(reverse("kkpd:national")).status_code == 302


def test_kkpd_roles_lead_to_the_kkpd_pages_not_the_region_pages(world, kkpd, kkpd_admin, holder, as_user):
    """A KKPD-only user is sent to the KKPD dashboard and the menu links it, not the region's
    dashboard (which their role does not open)."""
    client = as_user(kkpd_admin)
    response = client.get("/")
    assert response.status_code == 302 and response["Location"] == reverse("kkpd:dashboard", kwargs=A)
    page = client.get(reverse("kkpd:dashboard", kwargs=A)).content.decode()
    assert f'href="{reverse("regions:dashboard", kwargs=A)}"' not in page
    assert client.get(reverse("regions:dashboard", kwargs=A)).status_code == 404
    assert as_user(holder).get("/")["Location"] == reverse("kkpd:dashboard", kwargs=A)


def test_the_administrator_sets_the_rule_file_and_the_checks_rerun(
    imported, kkpd_admin, inspector, holder, as_user
):
    """By hand: R2 (700.000, 1 June) and R1 (1.500.000, 3 June) at the same merchant on card 1111
    are two days apart, each under a threshold of 2.000.000 and together 2.200.000: with that
    threshold both are flagged split_purchase. The explained flag stays explained."""
    url = reverse("kkpd:rules", kwargs=A)
    imported.status = "explained"
    imported.save()
    assert as_user(holder).get(url).status_code == 200  # readers see the rules
    assert (
        as_user(inspector).post(url, {"rules_yaml": "split_purchase:\n  threshold: 2000000\n"}).status_code
        == 403
    )
    refused = as_user(kkpd_admin).post(url, {"rules_yaml": "split_purchase:\n  threshold: -1\n"})
    assert refused.status_code == 400 and "threshold" in refused.content.decode()
    assert not Flag.objects.filter(rule="split_purchase").exists()
    response = as_user(kkpd_admin).post(url, {"rules_yaml": "split_purchase:\n  threshold: 2000000\n"})
    assert response.status_code == 302
    split = sorted(
        Flag.objects.filter(rule="split_purchase").values_list("transaction__reference", flat=True)
    )
    assert split == ["R1", "R2"]
    imported.refresh_from_db()
    assert imported.status == "explained"


def test_outsiders_cannot_read_or_set_the_rules(imported, kkpd_admin_b, nobody, as_user):
    url = reverse("kkpd:rules", kwargs=A)
    for persona in (kkpd_admin_b, nobody):
        assert as_user(persona).get(url).status_code == 404
        assert as_user(persona).post(url, {"rules_yaml": ""}).status_code == 404
