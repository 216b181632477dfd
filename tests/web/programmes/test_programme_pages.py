"""The programme registry pages: list, add, detail and edit, with who may do what."""

from __future__ import annotations

import uuid

import pytest
from django.conf import settings

from cityeval.web.programmes.models import Programme
from tests.web.programmes.helpers import REGION_B, programme_data, programme_url, url

READERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
OUTSIDERS = ["admin_b", "opd_b", "nobody"]


def persona(request, name: str):
    return None if name == "anonymous" else request.getfixturevalue(name)


# --- list ------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_every_member_of_the_region_reads_the_programme_list(
    request, as_user, name, patogen, medan_programme
):
    response = as_user(persona(request, name)).get(url("programme_list"))
    assert response.status_code == 200
    assert "Patogen" in response.text
    assert "Smart Living" in response.text
    assert "Medan Sehat" not in response.text  # region B's registry stays in region B


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_the_programme_list(request, as_user, name, patogen):
    assert as_user(persona(request, name)).get(url("programme_list")).status_code == 404


def test_anonymous_visitor_is_sent_to_login_from_the_programme_list(as_user, world):
    response = as_user(None).get(url("programme_list"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_programme_list_filters_by_dimension_and_quick_win(
    as_user, admin_a, patogen, kas_anak_kasir, plain_programme
):
    client = as_user(admin_a)
    by_dimension = client.get(url("programme_list"), {"dimension": "society"}).text
    assert "Kas Anak Kasir" in by_dimension and "Patogen" not in by_dimension
    not_quick = client.get(url("programme_list"), {"quick_win": "no"}).text
    assert "Posyandu Digital" in not_quick and "Patogen" not in not_quick


def test_coordinator_sees_no_add_button_on_the_programme_list(as_user, coordinator):
    response = as_user(coordinator).get(url("programme_list"))
    assert url("programme_new") not in response.text


# --- add -------------------------------------------------------------------------------------


def test_regional_admin_adds_a_programme_for_any_opd_of_the_region(as_user, admin_a, world):
    response = as_user(admin_a).post(url("programme_new"), programme_data(owner="disdik"))
    programme = Programme.objects.get(region=world.region_a, name="E-Padi")
    assert response.status_code == 302
    assert response["Location"] == programme_url("programme_detail", programme)
    assert programme.owner == world.opd_education
    assert (programme.dimension, programme.subdimension, programme.status) == (
        "governance",
        "service",
        "running",
    )
    assert (programme.start_year, programme.beneficiaries, programme.is_quick_win) == (2023, 1500, True)


def test_opd_contributor_adds_a_programme_owned_by_their_own_opd(as_user, opd_a, world):
    response = as_user(opd_a).post(url("programme_new"), programme_data())
    assert response.status_code == 302
    assert Programme.objects.get(name="E-Padi").owner == world.opd_health


def test_opd_contributor_is_offered_only_their_own_opd_as_owner(as_user, opd_a):
    response = as_user(opd_a).get(url("programme_new"))
    assert response.status_code == 200
    assert 'value="dinkes"' in response.text
    assert 'value="disdik"' not in response.text


def test_opd_contributor_cannot_add_a_programme_owned_by_another_opd(as_user, opd_a2, world):
    response = as_user(opd_a2).post(url("programme_new"), programme_data(owner="dinkes"))
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    assert not Programme.objects.exists()


def test_coordinator_cannot_add_a_programme(as_user, coordinator):
    client = as_user(coordinator)
    assert client.get(url("programme_new")).status_code == 403
    assert client.post(url("programme_new"), programme_data()).status_code == 403
    assert not Programme.objects.exists()


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_when_adding_a_programme(request, as_user, name):
    assert as_user(persona(request, name)).post(url("programme_new"), programme_data()).status_code == 404
    assert not Programme.objects.exists()


def test_anonymous_visitor_is_sent_to_login_when_adding_a_programme(as_user, world):
    response = as_user(None).post(url("programme_new"), programme_data())
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]
    assert not Programme.objects.exists()


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"dimension": "happiness"}, "Select a valid choice"),
        ({"subdimension": "tourism"}, "is not part of the dimension"),
        ({"subdimension": "teleportation"}, "Select a valid choice"),
        ({"start_year": "1989"}, "greater than or equal to 1990"),
        ({"start_year": "2101"}, "less than or equal to 2100"),
        ({"beneficiaries": "-1"}, "greater than or equal to 0"),
        # Over PostgreSQL's integer column (2**31 - 1): a 500 from the database before the bound.
        ({"beneficiaries": "99999999999999999999"}, "less than or equal to 2147483647"),
        ({"status": "paused"}, "Select a valid choice"),
        ({"name": "  "}, "This field is required"),
    ],
)
def test_adding_a_programme_with_bad_input_says_why_and_saves_nothing(as_user, admin_a, changes, message):
    response = as_user(admin_a).post(url("programme_new"), programme_data(**changes))
    assert response.status_code == 200
    assert message in response.text
    assert Programme.objects.count() == 0


def test_adding_a_programme_whose_name_the_region_already_has_is_a_form_error(as_user, admin_a, patogen):
    response = as_user(admin_a).post(url("programme_new"), programme_data(name="PATOGEN"))
    assert response.status_code == 200
    assert "already has a programme named" in response.text
    assert Programme.objects.count() == 1


def test_another_region_may_reuse_a_programme_name(as_user, admin_b, patogen):
    response = as_user(admin_b).post(url("programme_new", REGION_B), programme_data(name="Patogen"))
    assert response.status_code == 302
    assert Programme.objects.filter(name="Patogen").count() == 2


def test_the_add_form_shows_dimension_labels_in_indonesian(as_user, admin_a):
    client = as_user(admin_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    text = client.get(url("programme_new")).text
    assert "Layanan Publik" in text and "Ekosistem Pariwisata" in text


def test_the_add_form_shows_dimension_labels_in_english(as_user, admin_a):
    text = as_user(admin_a).get(url("programme_new")).text
    assert "Public service" in text and "Layanan Publik" not in text


# --- detail and edit -------------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_every_member_of_the_region_reads_a_programme(request, as_user, name, patogen):
    response = as_user(persona(request, name)).get(programme_url("programme_detail", patogen))
    assert response.status_code == 200
    assert "Tuberculosis screening by X-ray" in response.text
    assert "Dinas Kesehatan" in response.text


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_a_programme(request, as_user, name, patogen):
    assert as_user(persona(request, name)).get(programme_url("programme_detail", patogen)).status_code == 404


def test_anonymous_visitor_is_sent_to_login_from_a_programme(as_user, patogen):
    response = as_user(None).get(programme_url("programme_detail", patogen))
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_programme_of_another_region_is_not_found_under_this_region(as_user, admin_a, medan_programme):
    assert as_user(admin_a).get(programme_url("programme_detail", medan_programme)).status_code == 404


def test_an_unknown_programme_is_not_found(as_user, admin_a, world):
    assert as_user(admin_a).get(url("programme_detail", programme=uuid.uuid4())).status_code == 404


def test_the_edit_form_is_shown_to_the_owning_opd_only(as_user, opd_a, opd_a2, patogen):
    assert 'id="programme-edit"' in as_user(opd_a).get(programme_url("programme_detail", patogen)).text
    assert 'id="programme-edit"' not in as_user(opd_a2).get(programme_url("programme_detail", patogen)).text


def test_opd_contributor_edits_their_own_opds_programme(as_user, opd_a, patogen):
    data = programme_data(name="Patogen", dimension="living", subdimension="health", status="stopped")
    response = as_user(opd_a).post(programme_url("programme_detail", patogen), data)
    assert response.status_code == 302
    patogen.refresh_from_db()
    assert (patogen.status, patogen.beneficiaries) == ("stopped", 1500)


def test_regional_admin_hands_a_programme_to_another_opd(as_user, admin_a, patogen, world):
    data = programme_data(name="Patogen", owner="disdik")
    assert as_user(admin_a).post(programme_url("programme_detail", patogen), data).status_code == 302
    patogen.refresh_from_db()
    assert patogen.owner == world.opd_education


def test_opd_contributor_cannot_edit_another_opds_programme(as_user, opd_a2, patogen):
    data = programme_data(name="Renamed", owner="disdik")
    assert as_user(opd_a2).post(programme_url("programme_detail", patogen), data).status_code == 403
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


def test_opd_contributor_cannot_hand_their_programme_to_another_opd(as_user, opd_a, patogen, world):
    data = programme_data(name="Patogen", owner="disdik")
    response = as_user(opd_a).post(programme_url("programme_detail", patogen), data)
    assert response.status_code == 200
    assert "Select a valid choice" in response.text
    patogen.refresh_from_db()
    assert patogen.owner == world.opd_health


def test_coordinator_cannot_edit_a_programme(as_user, coordinator, patogen):
    data = programme_data(name="Renamed")
    assert as_user(coordinator).post(programme_url("programme_detail", patogen), data).status_code == 403
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


@pytest.mark.parametrize("name", ["admin_b", "opd_b"])
def test_outsiders_get_404_when_editing_a_programme(request, as_user, name, patogen):
    data = programme_data(name="Renamed")
    assert (
        as_user(persona(request, name)).post(programme_url("programme_detail", patogen), data).status_code
        == 404
    )
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


def test_anonymous_visitor_cannot_edit_a_programme(as_user, patogen):
    response = as_user(None).post(programme_url("programme_detail", patogen), programme_data(name="Renamed"))
    assert response.status_code == 302
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


def test_renaming_a_programme_to_a_name_the_region_has_is_a_form_error(
    as_user, admin_a, patogen, kas_anak_kasir
):
    data = programme_data(name="Kas Anak Kasir", dimension="living", subdimension="health")
    response = as_user(admin_a).post(programme_url("programme_detail", patogen), data)
    assert response.status_code == 200
    assert "already has a programme named" in response.text
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


def test_editing_with_a_subdimension_of_another_dimension_says_why_and_saves_nothing(
    as_user, admin_a, patogen
):
    data = programme_data(name="Patogen", dimension="living", subdimension="waste")
    response = as_user(admin_a).post(programme_url("programme_detail", patogen), data)
    assert response.status_code == 200
    assert "is not part of the dimension" in response.text
    patogen.refresh_from_db()
    assert (patogen.subdimension, patogen.status) == ("health", "running")
