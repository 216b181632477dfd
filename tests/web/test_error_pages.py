"""Pages that do not dead-end: Indonesian 403, 404 and 500 pages with the site's navigation
(DEBUG off, as in production), and an action address opened directly leading back to its
page instead of a blank 405."""

from __future__ import annotations

import pytest
from django.template.loader import render_to_string
from django.test import Client
from django.urls import include, path, reverse

from cityeval.web.errors import page_of


@pytest.fixture
def indonesian(settings):
    settings.DEBUG = False
    settings.LANGUAGE_CODE = "id"


def test_404_is_indonesian_with_the_navigation(world, admin_a, as_user, indonesian):
    response = as_user(admin_a).get("/tidak-ada/")
    text = response.content.decode()
    assert response.status_code == 404
    assert "Halaman tidak ditemukan" in text
    assert 'aria-label="Utama"' in text and "Kab. Deli Serdang" in text  # the user's navigation
    assert 'id="error-links"' in text


def test_403_is_indonesian_with_the_navigation(world, admin_a, as_user, indonesian):
    response = as_user(admin_a).get(reverse("evaluations:cycle_list"))
    text = response.content.decode()
    assert response.status_code == 403
    assert "Tidak diizinkan" in text and 'aria-label="Utama"' in text


def test_404_for_anonymous_offers_the_login(db, indonesian):
    text = Client().get("/tidak-ada/").content.decode()
    assert "Halaman tidak ditemukan" in text and reverse("accounts:login") in text


def test_500_renders_without_a_request_or_database(settings):
    """Django renders 500.html with an empty context (no request, no context processors)."""
    from django.utils import translation

    with translation.override("id"):
        text = render_to_string("500.html")
    assert "Terjadi kesalahan" in text and 'id="error-links"' in text and 'class="brand"' in text


def _boom(request):
    raise RuntimeError("a bug")


urlpatterns = [path("boom/", _boom), path("", include("cityeval.web.urls"))]


@pytest.mark.urls("tests.web.test_error_pages")
def test_a_server_error_is_the_indonesian_500_page(world, admin_a, indonesian):
    client = Client(raise_request_exception=False)
    client.force_login(admin_a)
    response = client.get("/boom/")
    assert response.status_code == 500
    assert "Terjadi kesalahan" in response.content.decode() and b'id="error-links"' in response.content


@pytest.mark.parametrize(
    ("action", "page"),
    [
        (
            "/r/kab-deli-serdang/gmsc-2024/self-assessment/assign/",
            "/r/kab-deli-serdang/gmsc-2024/self-assessment/",
        ),
        ("/results/gmsc-2024/compute/", "/results/gmsc-2024/"),
        ("/cycles/gmsc-2024/participants/import/", "/cycles/gmsc-2024/"),
    ],
)
def test_an_action_opened_directly_redirects_to_its_page(world, coordinator, admin_a, as_user, action, page):
    user = admin_a if action.startswith("/r/") else coordinator
    followed = as_user(user).get(action, follow=True)
    assert followed.status_code == 200 and followed.redirect_chain[-1][0] == page
    assert b"That address carries out an action" in followed.content


def test_a_chain_of_action_addresses_ends_on_a_page(world, coordinator, as_user):
    """members/remove/ → members/ (an action too) → the panel page."""
    from cityeval.web.panels.models import Panel

    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel 1")
    response = as_user(coordinator).get(f"/panels/{panel.public_id}/members/remove/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == f"/panels/{panel.public_id}/"


def test_the_api_keeps_its_405(world, coordinator, as_user):
    response = as_user(coordinator).get("/api/cycles/gmsc-2024/results/compute")
    assert response.status_code == 405


def test_page_of_walks_up_to_an_existing_page(db):
    assert page_of("/accounts/logout/") == "/"
    assert page_of("/results/gmsc-2024/compute/") == "/results/gmsc-2024/"


# --- a refused upload leaves the page usable ---------------------------------------------------


def test_a_refused_evidence_upload_keeps_the_whole_item_page(world, admin_a, as_user):
    from django.core.files.uploadedfile import SimpleUploadedFile

    base = "/r/kab-deli-serdang/gmsc-2024/self-assessment/items/baseline.legal_basis/"
    bad = SimpleUploadedFile("laporan.pdf", b"MZ\x90\x00" + bytes(300), content_type="application/pdf")
    response = as_user(admin_a).post(base + "evidence/", {"kind": "file", "file": bad})
    text = response.content.decode()
    assert response.status_code == 200 and "This file type is not allowed." in text
    for part in ('aria-label="Main"', 'id="answer-form"', 'id="upload-form"', "Kab. Deli Serdang"):
        assert part in text, part


@pytest.mark.parametrize(
    "data", [b"\x00\x01\x02PK\x03\x04 not a workbook", b"region,group\nKab. Nowhere,REGULER\n"]
)
def test_a_refused_participants_import_returns_to_the_usable_cycle_page(world, coordinator, as_user, data):
    from django.core.files.uploadedfile import SimpleUploadedFile

    response = as_user(coordinator).post(
        "/cycles/gmsc-2024/participants/import/", {"file": SimpleUploadedFile("p.csv", data)}, follow=True
    )
    text = response.content.decode()
    # A refused import answers 400 (issue 8) with the cycle page and its form, not a dead end.
    assert response.status_code == 400 and "Nothing was imported" in text
    assert 'enctype="multipart/form-data"' in text and 'aria-label="Main"' in text
