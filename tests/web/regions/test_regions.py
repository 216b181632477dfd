"""Regions: national list and import (coordinator), dashboard and OPDs (members), API."""

from __future__ import annotations

import io

import pytest
import xlsxwriter
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from cityeval.web.accounts.services import token_create
from cityeval.web.regions.models import Opd, Province, Region


def _csv(text: str, name: str = "regions.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")


# --- national pages: coordinator only -----------------------------------------------------------


@pytest.mark.parametrize("url", ["regions:region_list", "evaluations:region_import"])
def test_national_region_pages_are_for_the_coordinator(url, coordinator, admin_a, opd_a, as_user):
    assert as_user(coordinator).get(reverse(url)).status_code == 200
    assert as_user(admin_a).get(reverse(url)).status_code == 403
    assert as_user(opd_a).get(reverse(url)).status_code == 403
    assert Client().get(reverse(url)).status_code == 302


def test_the_region_import_creates_provinces_and_regions(coordinator, as_user):
    upload = _csv(
        "province,region,code\nAceh,Kota Banda Aceh,11.71\nAceh,Kab. Aceh Besar,11.06\nRiau,Kota Pekanbaru,\n"
    )
    response = as_user(coordinator).post(reverse("evaluations:region_import"), {"file": upload})
    assert response.status_code == 302
    banda = Region.objects.get(name="Kota Banda Aceh")
    assert (banda.kind, banda.province.name, banda.code, banda.slug) == (
        "kota",
        "Aceh",
        "11.71",
        "kota-banda-aceh",
    )
    assert Region.objects.get(name="Kab. Aceh Besar").kind == "kabupaten"
    assert Province.objects.filter(name__in=["Aceh", "Riau"]).count() == 2


def test_a_region_import_with_a_bad_row_saves_nothing_and_names_the_rows(coordinator, as_user):
    before = (Region.objects.count(), Province.objects.count())
    upload = _csv(
        "province,region\nAceh,Kota Banda Aceh\n,Kota Sabang\nAceh,Kota Banda Aceh\nJambi,Muaro Jambi\n"
        "Riau,Kota Medan\n"
    )
    response = as_user(coordinator).post(reverse("evaluations:region_import"), {"file": upload})
    assert response.status_code == 400
    errors = response.context["errors"]
    assert errors == [
        "row 3, column 'province': the province is empty",
        "row 4, column 'region': 'Kota Banda Aceh' appears twice (first at row 2)",
        "row 5, column 'kind': say 'kabupaten' or 'kota' (or start the name with 'Kab.' or 'Kota')",
        "row 6, column 'province': 'Kota Medan' is already in Sumatera Utara, not Riau",
    ]
    assert (Region.objects.count(), Province.objects.count()) == before


def test_the_region_import_reads_xlsx_by_content(coordinator, as_user):
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer)
    sheet = book.add_worksheet()
    for r, row in enumerate(
        [["Province", "Region"], ["Bali", "Kab. Badung"], ["Sumatera Utara", "Kota Medan"]]
    ):
        sheet.write_row(r, 0, row)
    book.close()
    upload = SimpleUploadedFile("regions.bin", buffer.getvalue())
    response = as_user(coordinator).post(reverse("evaluations:region_import"), {"file": upload})
    assert response.status_code == 302
    assert Region.objects.filter(name="Kab. Badung").exists()
    assert Region.objects.filter(name="Kota Medan").count() == 1  # already there: unchanged


def test_a_broken_upload_is_a_clear_error(coordinator, as_user):
    upload = SimpleUploadedFile("regions.csv", b"province,region\nAceh,Kota \xe9\n")
    response = as_user(coordinator).post(reverse("evaluations:region_import"), {"file": upload})
    assert response.context["errors"] == [
        "not UTF-8 text (byte 0xe9 on line 2); save it as 'CSV UTF-8' or as XLSX"
    ]


# --- regional pages --------------------------------------------------------------------------------


@pytest.mark.parametrize("url", ["regions:dashboard", "regions:opd_list"])
def test_regional_pages_fail_closed(url, world, coordinator, admin_a, opd_a, admin_b, opd_b, nobody, as_user):
    path = reverse(url, kwargs={"region": world.region_a.slug})
    for member in (admin_a, opd_a, coordinator):
        assert as_user(member).get(path).status_code == 200
    for outsider in (admin_b, opd_b, nobody):
        assert as_user(outsider).get(path).status_code == 404
    assert Client().get(path).status_code == 302
    assert as_user(admin_a).get(reverse(url, kwargs={"region": "no-such-region"})).status_code == 404


def test_only_the_regional_admin_adds_opds(world, admin_a, opd_a, coordinator, admin_b, as_user):
    path = reverse("regions:opd_list", kwargs={"region": world.region_a.slug})
    data = {"name": "Badan Pendapatan Daerah", "short_name": "Bapenda"}
    assert as_user(opd_a).post(path, data).status_code == 403
    assert as_user(coordinator).post(path, data).status_code == 403
    assert as_user(admin_b).post(path, data).status_code == 404
    assert not Opd.objects.filter(short_name="Bapenda").exists()
    assert as_user(admin_a).post(path, data).status_code == 302
    assert Opd.objects.get(short_name="Bapenda").region == world.region_a


def test_a_duplicate_opd_name_is_a_form_error(world, admin_a, as_user):
    path = reverse("regions:opd_list", kwargs={"region": world.region_a.slug})
    response = as_user(admin_a).post(path, {"name": "Dinas Kesehatan"})
    assert response.status_code == 200 and "already has an OPD" in response.content.decode()
    assert world.region_a.opds.filter(name="Dinas Kesehatan").count() == 1


# --- API ---------------------------------------------------------------------------------------------


def test_api_lists_all_regions_to_the_coordinator_and_own_regions_to_members(coordinator, admin_a, as_user):
    assert {r["slug"] for r in as_user(coordinator).get("/api/regions").json()} == {
        "kab-deli-serdang",
        "kota-medan",
    }
    assert [r["slug"] for r in as_user(admin_a).get("/api/regions").json()] == ["kab-deli-serdang"]


def test_api_region_and_opds_fail_closed(world, admin_a, admin_b, opd_a, as_user):
    assert as_user(opd_a).get("/api/regions/kab-deli-serdang/opds").status_code == 200
    assert as_user(admin_b).get("/api/regions/kab-deli-serdang").status_code == 404
    assert as_user(admin_b).get("/api/regions/kab-deli-serdang/opds").status_code == 404
    assert Client().get("/api/regions").status_code == 401


def test_api_accepts_a_bearer_token_and_refuses_a_wrong_one(admin_a):
    token = token_create(user=admin_a, name="script")
    ok = Client().get("/api/regions/kab-deli-serdang/opds", headers={"Authorization": f"Bearer {token}"})
    assert ok.status_code == 200 and {o["slug"] for o in ok.json()} == {"dinkes", "disdik"}
    wrong = Client().get("/api/regions", headers={"Authorization": "Bearer ce_wrong"})
    assert wrong.status_code == 401


def test_the_openapi_schema_is_published(world):
    schema = Client().get("/api/openapi.json")
    assert schema.status_code == 200 and "/api/regions" in schema.json()["paths"]


def test_the_dashboard_names_the_cycle_frameworks_dimensions_in_the_page_language(world, admin_a, as_user):
    """The dimension rows come from the participation's framework, found by its content hash
    (``framework_of``): the GMSC's six dimensions, in English or Indonesian."""
    from cityeval.web.evaluations.models import framework_of

    client = as_user(admin_a)
    path = reverse("regions:dashboard", kwargs={"region": world.region_a.slug})
    framework = world.cycle.framework.framework
    assert framework_of(world.cycle.framework.digest) is framework  # the parsed copy, kept
    client.cookies["django_language"] = "en"
    english = client.get(path).content.decode()
    client.cookies["django_language"] = "id"
    indonesian = client.get(path).content.decode()
    for dimension in framework.dimensions:
        assert f"<tr><td>{dimension.label.en}</td>" in english
        assert f"<tr><td>{dimension.label.id}</td>" in indonesian
    assert len(framework.dimensions) == 6
