"""The self-assessment API: the pages' permissions, session (with CSRF) or bearer token."""

from __future__ import annotations

import datetime as dt
import json

import pytest
from django.test import Client
from django.utils import timezone

from cityeval.web.accounts.services import token_create
from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.evaluations.models import Cycle
from tests.web.assessments.helpers import COUNT_ITEM, LEVEL_ITEM, THRESHOLD_ITEM

MEMBERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
OUTSIDERS = ["admin_b", "opd_b", "nobody"]


def post_json(client, url, data, **headers):
    return client.post(url, json.dumps(data), content_type="application/json", **headers)


def persona(request, name):
    return request.getfixturevalue(name)


def endpoints(urls) -> list[str]:
    return [urls.api("/answers"), urls.api(f"/answers/{LEVEL_ITEM}/revisions"), urls.api("/claimed-index")]


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MEMBERS)
def test_members_read_answers_revisions_and_the_claimed_index(request, world, answer, as_user, urls, name):
    answer(LEVEL_ITEM, level=2, narrative="draft")
    answer(LEVEL_ITEM, level=3, narrative="final")
    answer(THRESHOLD_ITEM, raw_value=85)
    client = as_user(persona(request, name))
    answers = client.get(urls.api("/answers")).json()
    assert [(a["item"], a["level"], a["raw_value"], a["derived_level"], a["revisions"]) for a in answers] == [
        (LEVEL_ITEM, 3.0, None, 3.0, 2),
        (THRESHOLD_ITEM, None, 85.0, 4.0, 1),
    ]
    assert answers[0]["narrative"] == "final" and answers[0]["author"] == "admin_a"
    revisions = client.get(urls.api(f"/answers/{LEVEL_ITEM}/revisions")).json()
    assert [r["narrative"] for r in revisions] == ["final", "draft"]
    index = client.get(urls.api("/claimed-index")).json()
    # baseline = 3 (1 of 5), outcome = 4 (1 of 33): final = 0.1·3 + 0.3·4 = 1.5
    assert index["final"] == pytest.approx(1.5)
    assert index["coverage"] == pytest.approx(2 / 111)
    baseline = {"code": "baseline", "weight": 0.1, "score": 3.0, "items_scored": 1, "items_expected": 5}
    assert index["components"][0] == {**baseline, "coverage": 0.2}
    assert (index["group"], index["framework"]) == ("REGULER", "gmsc-2024")


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404(request, world, as_user, urls, name):
    client = as_user(persona(request, name))
    for url in endpoints(urls):
        assert client.get(url).status_code == 404
    assert post_json(client, urls.api(f"/answers/{LEVEL_ITEM}"), {"level": 3}).status_code == 404
    assert AnswerRevision.objects.count() == 0


def test_anonymous_gets_401(world, as_user, urls):
    client = as_user(None)
    for url in endpoints(urls):
        assert client.get(url).status_code == 401
    assert post_json(client, urls.api(f"/answers/{LEVEL_ITEM}"), {"level": 3}).status_code == 401
    assert AnswerRevision.objects.count() == 0


def test_unknown_item_or_cycle_is_404(world, as_user, admin_a, urls):
    client = as_user(admin_a)
    assert client.get(urls.api("/answers/baseline.nope/revisions")).status_code == 404
    assert post_json(client, urls.api("/answers/baseline.nope"), {"level": 3}).status_code == 404
    assert client.get("/api/regions/kab-deli-serdang/cycles/gmsc-1999/answers").status_code == 404


# --- writing ---------------------------------------------------------------------------------


def test_the_admin_records_a_revision(world, as_user, admin_a, urls):
    response = post_json(
        as_user(admin_a), urls.api(f"/answers/{LEVEL_ITEM}"), {"level": 3, "narrative": "SK"}
    )
    assert response.status_code == 201
    body = response.json()
    assert (body["item"], body["level"], body["derived_level"], body["revisions"]) == (
        LEVEL_ITEM,
        3.0,
        3.0,
        1,
    )
    assert AnswerRevision.objects.get().author == admin_a


def test_a_quantity_with_thresholds_gets_its_derived_level(world, as_user, admin_a, urls):
    response = post_json(as_user(admin_a), urls.api(f"/answers/{THRESHOLD_ITEM}"), {"raw_value": 45})
    assert response.status_code == 201
    assert response.json()["derived_level"] == 2.0


def test_the_assigned_opd_writes_and_another_opd_gets_403(world, as_user, opd_a, opd_a2, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    url = urls.api(f"/answers/{LEVEL_ITEM}")
    assert post_json(as_user(opd_a2), url, {"level": 3}).status_code == 403
    assert AnswerRevision.objects.count() == 0
    assert post_json(as_user(opd_a), url, {"level": 3}).status_code == 201


def test_the_coordinator_cannot_write(world, as_user, coordinator, urls):
    assert (
        post_json(as_user(coordinator), urls.api(f"/answers/{LEVEL_ITEM}"), {"level": 3}).status_code == 403
    )
    assert AnswerRevision.objects.count() == 0


@pytest.mark.parametrize(
    ("item", "data", "field", "message"),
    [
        (LEVEL_ITEM, {"level": 5}, "level", "The level must be between 0 and 4."),
        (LEVEL_ITEM, {}, "level", "Give a level."),
        (LEVEL_ITEM, {"level": 3, "raw_value": 4}, "raw_value", "This item takes a level, not a value."),
        (THRESHOLD_ITEM, {"raw_value": 101}, "raw_value", "A percentage cannot be above 100."),
        (THRESHOLD_ITEM, {"raw_value": 50, "level": 4}, "level", "derived from its value"),
        (COUNT_ITEM, {"raw_value": -1}, "raw_value", "The value cannot be negative."),
        (LEVEL_ITEM, {"level": 3, "narrative": "x" * 10_001}, "narrative", "under 10000 characters"),
    ],
)
def test_bad_input_is_422_naming_the_field(world, as_user, admin_a, urls, item, data, field, message):
    response = post_json(as_user(admin_a), urls.api(f"/answers/{item}"), data)
    assert response.status_code == 422
    assert message in response.json()["errors"][field]
    assert AnswerRevision.objects.count() == 0


def test_a_non_number_is_422(world, as_user, admin_a, urls):
    response = post_json(as_user(admin_a), urls.api(f"/answers/{LEVEL_ITEM}"), {"level": "three"})
    assert response.status_code == 422
    assert AnswerRevision.objects.count() == 0


def test_writes_after_the_deadline_or_submission_are_403_with_the_reason(world, as_user, admin_a, urls):
    client = as_user(admin_a)
    url = urls.api(f"/answers/{LEVEL_ITEM}")
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(days=1)
    )
    response = post_json(client, url, {"level": 3})
    assert response.status_code == 403
    assert "The self-assessment deadline passed on" in response.json()["detail"]
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() + dt.timedelta(days=1)
    )
    client.post(urls.submit, {"confirm": "yes"})
    response = post_json(client, url, {"level": 3})
    assert response.status_code == 403
    assert "Submitted on" in response.json()["detail"]
    assert AnswerRevision.objects.count() == 0


# --- authentication --------------------------------------------------------------------------


def test_a_bearer_token_reads_and_writes_without_a_session_or_csrf(world, admin_a, urls):
    token = token_create(user=admin_a, name="script")
    client = Client(enforce_csrf_checks=True)
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert client.get(urls.api("/answers"), **auth).status_code == 200
    response = post_json(client, urls.api(f"/answers/{LEVEL_ITEM}"), {"level": 3}, **auth)
    assert response.status_code == 201
    assert AnswerRevision.objects.get().author == admin_a


def test_a_token_has_its_users_permissions(world, admin_b, urls):
    token = token_create(user=admin_b, name="script")
    auth = {"HTTP_AUTHORIZATION": f"Bearer {token}"}
    assert Client().get(urls.api("/answers"), **auth).status_code == 404
    assert Client().get(urls.api("/answers"), HTTP_AUTHORIZATION="Bearer wrong").status_code == 401


def test_a_session_write_needs_the_csrf_token(world, admin_a, urls):
    client = Client(enforce_csrf_checks=True)
    client.force_login(admin_a)
    url = urls.api(f"/answers/{LEVEL_ITEM}")
    assert post_json(client, url, {"level": 3}).status_code == 403
    assert AnswerRevision.objects.count() == 0
    client.get(urls.overview)  # the page sets the CSRF cookie
    response = post_json(client, url, {"level": 3}, HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value)
    assert response.status_code == 201


def test_a_non_finite_number_is_422(world, as_user, admin_a, urls):
    """JSON parsers in Python accept NaN; a claimed level never is one."""
    url = urls.api(f"/answers/{LEVEL_ITEM}")
    response = as_user(admin_a).post(url, '{"level": NaN}', content_type="application/json")
    assert response.status_code == 422
    assert response.json()["errors"]["level"] == "The level must be a finite number."
    assert AnswerRevision.objects.count() == 0
