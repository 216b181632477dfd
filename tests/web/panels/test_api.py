"""The panels API: the pages' rules (blind first marks, 404 outsiders, closed cycle), with
session or bearer-token authentication."""

from __future__ import annotations

import json

import pytest
from django.test import Client

from cityeval.web.accounts.services import token_create
from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import ItemScore
from tests.helpers.panels import LEVEL_ITEM, STAGE, THRESHOLD_ITEM

OUTSIDERS = ["assessor", "admin_a", "opd_a", "admin_b", "nobody"]


def persona(request, name):
    return request.getfixturevalue(name)


def post_json(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def scores(response) -> list[tuple[str, str, float]]:
    return [(s["item"], s["assessor"], s["score"]) for s in response.json()]


# --- my panels -----------------------------------------------------------------------------------------


def test_an_assessor_lists_their_panel_regions(world, as_user, chair, panel_region, score_all):
    score_all(chair)
    body = as_user(chair).get("/api/panels/mine").json()
    assert len(body) == 1
    row = body[0]
    assert (row["cycle"], row["stage"], row["region"], row["panel"], row["chair"], row["submitted"]) == (
        "gmsc-2024", STAGE, "kab-deli-serdang", "Panel 1", True, False,
    )  # fmt: skip
    assert (row["items_scored"], row["items_expected"]) == (111, 111)
    assert row["panel_id"] == str(panel_region.panel.public_id)


def test_an_assessor_on_no_panel_gets_an_empty_list(world, as_user, assessor, panel_region):
    assert as_user(assessor).get("/api/panels/mine").json() == []


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "coordinator", "nobody"])
def test_non_assessors_get_404_on_mine(request, world, as_user, panel_region, name):
    assert as_user(persona(request, name)).get("/api/panels/mine").status_code == 404


def test_anonymous_gets_401(world, as_user, panel_region, urls):
    client = as_user(None)
    assert client.get("/api/panels/mine").status_code == 401
    assert client.get(urls.api_scores()).status_code == 401
    assert post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3}).status_code == 401
    assert ItemScore.objects.count() == 0


# --- scores: reading with the blind rule -------------------------------------------------------------


@pytest.fixture
def two_scores(panel_region, chair, assessor2):
    ItemScore.objects.create(
        panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=1.75, note="chair"
    )
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=assessor2, score=3)


def test_before_submitting_a_member_reads_only_their_own_scores(
    world, as_user, assessor2, two_scores, submitted, urls
):
    client = as_user(assessor2)
    assert scores(client.get(urls.api_scores())) == [(LEVEL_ITEM, "assessor2", 3.0)]
    submitted(assessor2, 2.0)
    after = scores(client.get(urls.api_scores()))
    assert (LEVEL_ITEM, "chair", 1.75) in after
    assert (LEVEL_ITEM, "assessor2", 2.0) in after  # the latest revision: submitted() scored again


def test_the_coordinator_reads_every_score_anytime(world, as_user, coordinator, two_scores, urls):
    assert scores(as_user(coordinator).get(urls.api_scores())) == [
        (LEVEL_ITEM, "assessor2", 3.0),
        (LEVEL_ITEM, "chair", 1.75),
    ]


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404(request, world, as_user, two_scores, urls, name):
    client = as_user(persona(request, name))
    assert client.get(urls.api_scores()).status_code == 404
    assert post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3}).status_code == 404
    assert ItemScore.objects.count() == 2


def test_unknown_region_or_stage_is_404(world, as_user, chair, panel_region, urls):
    client = as_user(chair)
    assert client.get(urls.api_scores(region="kota-medan")).status_code == 404
    assert client.get(urls.api_scores(stage="stage_9")).status_code == 404


# --- scores: writing ---------------------------------------------------------------------------------


def test_a_member_records_a_revision(world, as_user, chair, panel_region, urls):
    client = as_user(chair)
    response = post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3, "note": "SK"})
    assert response.status_code == 201
    assert (response.json()["score"], response.json()["note"], response.json()["assessor"]) == (
        3.0,
        "SK",
        "chair",
    )
    assert (
        post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3, "note": "SK"}).status_code
        == 200
    )
    assert post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 3.5}).status_code == 201
    assert list(ItemScore.objects.order_by("id").values_list("score", flat=True)) == [3.0, 3.5]


@pytest.mark.parametrize(
    ("item", "score"), [(LEVEL_ITEM, 4.01), (THRESHOLD_ITEM, -0.5), ("baseline.nope", 2)]
)
def test_an_invalid_score_gets_422_and_nothing_is_saved(
    world, as_user, chair, panel_region, urls, item, score
):
    response = post_json(as_user(chair), urls.api_scores(), {"item": item, "score": score})
    assert response.status_code == 422
    assert item in response.json()["errors"]
    assert ItemScore.objects.count() == 0


def test_the_coordinator_cannot_score(world, as_user, coordinator, panel_region, urls):
    response = post_json(as_user(coordinator), urls.api_scores(), {"item": LEVEL_ITEM, "score": 3})
    assert response.status_code == 403
    assert ItemScore.objects.count() == 0


def test_a_closed_cycle_refuses_scores_with_the_reason(world, as_user, chair, panel_region, urls):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    response = post_json(as_user(chair), urls.api_scores(), {"item": LEVEL_ITEM, "score": 3})
    assert response.status_code == 403
    assert "can no longer change" in response.json()["detail"]
    assert ItemScore.objects.count() == 0


def test_a_bearer_token_works_without_csrf(world, chair, panel_region, urls):
    token = token_create(user=chair, name="script")
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    response = post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 2}, **auth)
    assert response.status_code == 201
    assert scores(client.get(urls.api_scores(), **auth)) == [(LEVEL_ITEM, "chair", 2.0)]


def test_a_session_write_needs_csrf(world, chair, panel_region, urls):
    client = Client(enforce_csrf_checks=True)
    client.force_login(chair)
    assert post_json(client, urls.api_scores(), {"item": LEVEL_ITEM, "score": 2}).status_code == 403
    assert ItemScore.objects.count() == 0
