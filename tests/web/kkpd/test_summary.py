"""The KKPD summary PDF: its figures, who may download it, and attaching it as evidence to a
self-assessment item (the view lives in the assessments app and calls the KKPD summary)."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cityeval.web.assessments.models import Evidence
from cityeval.web.kkpd.models import KkpdRegion
from cityeval.web.kkpd.services import statement_import
from cityeval.web.kkpd.summary import summary_html
from tests.helpers.kkpd import AS_OF, STATEMENT, upload

A = {"region": "kab-deli-serdang"}
ITEM = "baseline.legal_basis"


@pytest.fixture
def imported(world, kkpd, kkpd_admin):
    statement_import(region=world.region_a, bank=kkpd, upload=upload(STATEMENT), user=kkpd_admin, as_of=AS_OF)


def _attach_url(item: str = ITEM) -> str:
    return reverse("assessments:kkpd_summary_attach", kwargs={**A, "cycle": "gmsc-2024", "item": item})


def test_the_summary_holds_the_years_aggregates_and_no_card_or_merchant(world, imported):
    """By hand: 1.500.000 + 700.000 + 900.000 = 3.100.000 in 2024, two flags raised; 2023 is empty."""
    html = summary_html(region=world.region_a, year=2024)
    assert "3,100,000" in html and "Kab. Deli Serdang" in html
    for secret in ("1111", "2222", "Siti Aminah", "Toko ATK Maju", "Hotel Sejahtera"):
        assert secret not in html
    assert "3,100,000" not in summary_html(region=world.region_a, year=2023)


def test_region_wide_readers_download_the_summary(
    imported, kkpd_admin, inspector, holder, kkpd_admin_b, as_user
):
    url = reverse("kkpd:summary_pdf", kwargs=A) + "?year=2024"
    response = as_user(kkpd_admin).get(url)
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert as_user(inspector).get(url).status_code == 200
    assert as_user(holder).get(url).status_code == 403
    assert as_user(kkpd_admin_b).get(url).status_code == 404


def test_the_region_attaches_the_summary_to_an_item(world, imported, admin_a, as_user):
    client = as_user(admin_a)
    page = client.get(reverse("assessments:item", kwargs={**A, "cycle": "gmsc-2024", "item": ITEM}))
    html = page.content.decode()
    assert 'id="kkpd-form"' in html and reverse("kkpd:public", kwargs=A) in html
    response = client.post(_attach_url(), {"year": "2024"})
    assert response.status_code == 302
    evidence = Evidence.objects.select_related("blob").get()
    assert (evidence.item, evidence.participation, evidence.uploaded_by) == (
        ITEM,
        world.participation_a,
        admin_a,
    )
    assert evidence.original_name == "kkpd-summary-kab-deli-serdang-2024.pdf"
    assert evidence.blob.content_type == "application/pdf"


def test_outsiders_cannot_attach(world, imported, admin_b, kkpd_admin, nobody, as_user):
    """Region B's admin and a KKPD administrator without a role in the self-assessment: 404."""
    for persona in (admin_b, kkpd_admin, nobody):
        assert as_user(persona).post(_attach_url(), {"year": "2024"}).status_code == 404
    assert as_user(None).post(_attach_url(), {"year": "2024"}).status_code == 302
    assert not Evidence.objects.exists()


def test_no_attach_for_a_region_without_kkpd(world, admin_a, as_user):
    KkpdRegion.objects.filter(region=world.region_a).delete()
    assert as_user(admin_a).post(_attach_url(), {"year": "2024"}).status_code == 404
    page = as_user(admin_a).get(reverse("assessments:item", kwargs={**A, "cycle": "gmsc-2024", "item": ITEM}))
    assert 'id="kkpd-form"' not in page.content.decode()
