"""The programme registry API: the pages' permissions, session (with CSRF) and token auth."""

from __future__ import annotations

import json
import uuid

import pytest
from django.test import Client
from django.urls import reverse

from cityeval.web.accounts.services import token_create
from cityeval.web.programmes.models import Programme
from tests.web.programmes.helpers import REGION_A, REGION_B

READERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]


def persona(request, name: str):
    return None if name == "anonymous" else request.getfixturevalue(name)


def collection(region: str = REGION_A) -> str:
    return f"/api/regions/{region}/programmes"


def one(programme: Programme, region: str = REGION_A) -> str:
    return f"{collection(region)}/{programme.public_id}"


def payload(**changes) -> dict:
    data = {
        "name": "E-Padi", "dimension": "governance", "subdimension": "service", "owner": "dinkes",
        "status": "running", "start_year": 2023, "beneficiaries": 1500, "is_quick_win": True,
    }  # fmt: skip
    data.update(changes)
    return data


def post(client: Client, path: str, data: dict, **headers):
    return client.post(path, json.dumps(data), content_type="application/json", **headers)


def patch(client: Client, path: str, data: dict, **headers):
    return client.patch(path, json.dumps(data), content_type="application/json", **headers)


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", READERS)
def test_every_member_of_the_region_lists_its_programmes(request, as_user, name, patogen, medan_programme):
    response = as_user(persona(request, name)).get(collection())
    assert response.status_code == 200
    [only] = response.json()
    assert only["public_id"] == str(patogen.public_id)
    assert (only["owner"], only["dimension"], only["subdimension"]) == ("dinkes", "living", "health")
    assert (only["beneficiaries"], only["is_quick_win"], only["status"]) == (4200, True, "running")


def test_the_programme_list_filters_by_quick_win(as_user, admin_a, patogen, plain_programme):
    response = as_user(admin_a).get(collection(), {"quick_win": "false"})
    assert [p["name"] for p in response.json()] == ["Posyandu Digital"]


@pytest.mark.parametrize("name", ["admin_b", "opd_b", "nobody"])
def test_outsiders_get_404_on_the_programme_api(request, as_user, name, patogen):
    client = as_user(persona(request, name))
    assert client.get(collection()).status_code == 404
    assert client.get(one(patogen)).status_code == 404


def test_anonymous_callers_get_401_on_the_programme_api(as_user, patogen):
    client = as_user(None)
    assert client.get(collection()).status_code == 401
    assert client.get(one(patogen)).status_code == 401
    assert post(client, collection(), payload()).status_code == 401
    assert patch(client, one(patogen), {"status": "stopped"}).status_code == 401
    assert Programme.objects.count() == 1


@pytest.mark.parametrize("name", READERS)
def test_every_member_of_the_region_reads_one_programme(request, as_user, name, patogen):
    response = as_user(persona(request, name)).get(one(patogen))
    assert response.status_code == 200
    assert response.json()["description"] == "Tuberculosis screening by X-ray"


def test_a_programme_of_another_region_is_not_found_under_this_region_in_the_api(
    as_user, admin_a, medan_programme
):
    assert as_user(admin_a).get(one(medan_programme)).status_code == 404
    assert as_user(admin_a).get(f"{collection()}/{uuid.uuid4()}").status_code == 404


# --- creating --------------------------------------------------------------------------------


def test_regional_admin_creates_a_programme_through_the_api(as_user, admin_a, world):
    response = post(as_user(admin_a), collection(), payload(owner="disdik"))
    assert response.status_code == 201
    created = Programme.objects.get(public_id=response.json()["public_id"])
    assert (created.region, created.owner, created.start_year) == (world.region_a, world.opd_education, 2023)


def test_opd_contributor_creates_a_programme_for_their_own_opd_through_the_api(as_user, opd_a, world):
    response = post(as_user(opd_a), collection(), payload())
    assert response.status_code == 201
    assert Programme.objects.get().owner == world.opd_health


def test_opd_contributor_cannot_create_a_programme_for_another_opd_through_the_api(as_user, opd_a2):
    assert post(as_user(opd_a2), collection(), payload(owner="dinkes")).status_code == 403
    assert not Programme.objects.exists()


def test_coordinator_cannot_create_a_programme_through_the_api(as_user, coordinator):
    assert post(as_user(coordinator), collection(), payload()).status_code == 403
    assert not Programme.objects.exists()


@pytest.mark.parametrize("name", ["admin_b", "opd_b"])
def test_outsiders_get_404_when_creating_through_the_api(request, as_user, name):
    assert post(as_user(persona(request, name)), collection(), payload()).status_code == 404
    assert not Programme.objects.exists()


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"dimension": "happiness"}, "dimension", "Unknown dimension"),
        ({"subdimension": "tourism"}, "subdimension", "is not part of the dimension"),
        ({"start_year": 1989}, "start_year", "between 1990 and 2100"),
        ({"beneficiaries": -5}, "beneficiaries", "greater than or equal to 0"),
        # Over PostgreSQL's integer column (2**31 - 1): a 500 from the database before the bound.
        ({"beneficiaries": 99999999999999999999}, "beneficiaries", "less than or equal to 2147483647"),
        ({"beneficiaries": 2**31}, "beneficiaries", "less than or equal to 2147483647"),
        ({"status": "paused"}, "status", "Unknown status"),
        ({"owner": "no-such-opd"}, "owner", "no OPD “no-such-opd” in this region"),
        ({"name": ""}, "name", "Give the programme a name"),
        ({"name": "patogen"}, "name", "already has a programme named"),
    ],
)
def test_creating_with_bad_input_answers_422_and_saves_nothing(
    as_user, admin_a, patogen, changes, field, message
):
    response = post(as_user(admin_a), collection(), payload(**changes))
    assert response.status_code == 422
    body = response.json()
    assert message in " ".join(body["errors"][field])
    assert message in body["detail"]
    assert Programme.objects.count() == 1


def test_creating_with_a_missing_field_answers_422(as_user, admin_a):
    data = payload()
    del data["start_year"]
    response = post(as_user(admin_a), collection(), data)
    assert response.status_code == 422
    assert "start_year" in json.dumps(response.json())
    assert not Programme.objects.exists()


def test_an_owner_slug_of_another_region_does_not_reach_that_region(as_user, admin_b, world):
    # Both regions have an OPD with the slug "dinkes"; B's admin names B's own.
    response = post(as_user(admin_b), collection(REGION_B), payload())
    assert response.status_code == 201
    assert Programme.objects.get().owner == world.opd_b


# --- updating --------------------------------------------------------------------------------


def test_opd_contributor_updates_their_own_opds_programme_through_the_api(as_user, opd_a, patogen):
    response = patch(as_user(opd_a), one(patogen), {"status": "stopped", "beneficiaries": None})
    assert response.status_code == 200
    assert (response.json()["status"], response.json()["beneficiaries"]) == ("stopped", None)
    patogen.refresh_from_db()
    assert (patogen.status, patogen.beneficiaries, patogen.name) == ("stopped", None, "Patogen")


def test_regional_admin_moves_a_programme_to_another_opd_through_the_api(as_user, admin_a, patogen, world):
    assert patch(as_user(admin_a), one(patogen), {"owner": "disdik"}).status_code == 200
    patogen.refresh_from_db()
    assert patogen.owner == world.opd_education


def test_opd_contributor_cannot_update_another_opds_programme_through_the_api(as_user, opd_a2, patogen):
    assert patch(as_user(opd_a2), one(patogen), {"status": "stopped"}).status_code == 403
    patogen.refresh_from_db()
    assert patogen.status == "running"


def test_opd_contributor_cannot_hand_their_programme_to_another_opd_through_the_api(
    as_user, opd_a, patogen, world
):
    assert patch(as_user(opd_a), one(patogen), {"owner": "disdik"}).status_code == 403
    patogen.refresh_from_db()
    assert patogen.owner == world.opd_health


def test_coordinator_cannot_update_a_programme_through_the_api(as_user, coordinator, patogen):
    assert patch(as_user(coordinator), one(patogen), {"status": "stopped"}).status_code == 403
    patogen.refresh_from_db()
    assert patogen.status == "running"


@pytest.mark.parametrize("name", ["admin_b", "opd_b"])
def test_outsiders_get_404_when_updating_through_the_api(request, as_user, name, patogen):
    assert patch(as_user(persona(request, name)), one(patogen), {"status": "stopped"}).status_code == 404
    patogen.refresh_from_db()
    assert patogen.status == "running"


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"subdimension": "waste"}, "subdimension"),
        ({"name": None}, "name"),
        ({"beneficiaries": 99999999999999999999}, "beneficiaries"),
        ({"name": "Kas Anak Kasir"}, "name"),
    ],
)
def test_updating_with_bad_input_answers_422_and_changes_nothing(
    as_user, admin_a, patogen, kas_anak_kasir, changes, field
):
    response = patch(as_user(admin_a), one(patogen), changes)
    assert response.status_code == 422
    assert field in response.json()["errors"]
    patogen.refresh_from_db()
    assert (patogen.name, patogen.subdimension) == ("Patogen", "health")


@pytest.mark.parametrize("changes", [{"name": "Pato\x00gen"}, {"name": "ok", "owner": "\x00"}])
def test_a_nul_character_in_the_json_is_refused_with_400_and_changes_nothing(
    as_user, admin_a, patogen, changes
):
    """Found by the API fuzz test on PostgreSQL, which cannot store U+0000 in text: it was a 500."""
    response = patch(as_user(admin_a), one(patogen), changes)
    assert response.status_code == 400
    assert response.json() == {"detail": "Text cannot contain the NUL character (U+0000).", "errors": {}}
    patogen.refresh_from_db()
    assert patogen.name == "Patogen"


def test_the_text_backslash_u0000_is_not_a_nul_character(as_user, admin_a, patogen):
    response = patch(as_user(admin_a), one(patogen), {"name": "Pato\\u0000gen"})
    assert response.status_code == 200
    patogen.refresh_from_db()
    assert patogen.name == "Pato\\u0000gen"


# --- authentication --------------------------------------------------------------------------


def _csrf_client(user) -> Client:
    client = Client(enforce_csrf_checks=True)
    if user is not None:
        client.force_login(user)
    return client


def test_a_session_write_without_the_csrf_token_is_refused(admin_a):
    response = post(_csrf_client(admin_a), collection(), payload())
    assert response.status_code == 403
    assert not Programme.objects.exists()


def test_a_session_write_with_the_csrf_token_succeeds(admin_a):
    client = _csrf_client(admin_a)
    client.get(reverse("programmes:programme_new", kwargs={"region": REGION_A}))  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = post(client, collection(), payload(), HTTP_X_CSRFTOKEN=token)
    assert response.status_code == 201


def test_a_bearer_token_reads_without_a_session(admin_a, patogen):
    token = token_create(user=admin_a, name="script")
    client = _csrf_client(None)  # a script: no session, no CSRF cookie
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert [p["name"] for p in client.get(collection(), **auth).json()] == ["Patogen"]
    assert client.get(one(patogen), **auth).status_code == 200


def test_a_bearer_token_carries_its_users_region_scope(admin_a, medan_programme):
    token = token_create(user=admin_a, name="script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert _csrf_client(None).get(collection(REGION_B), **auth).status_code == 404


def test_a_bearer_token_writes_without_a_session(admin_a, patogen):
    token = token_create(user=admin_a, name="script")
    client = _csrf_client(None)  # a script: no session, no CSRF cookie
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert post(client, collection(), payload(), **auth).status_code == 201
    assert patch(client, one(patogen), {"status": "stopped"}, **auth).status_code == 200


def test_an_unknown_bearer_token_answers_401(world):
    auth = {"HTTP_AUTHORIZATION": "Bearer ce_not-a-real-token"}
    assert _csrf_client(None).get(collection(), **auth).status_code == 401
