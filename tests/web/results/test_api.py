"""The results API: the same data and permissions as the pages (access is in test_access)."""

from __future__ import annotations

import pytest

from cityeval.web.accounts.models import ApiToken
from cityeval.web.evaluations.models import Cycle
from cityeval.web.results.models import ResultRun
from tests.helpers.results import A_FINAL, CYCLE, REGION_A

BASE = f"/api/cycles/{CYCLE}/results"


def test_the_national_table_is_public_after_publication(published, as_user):
    data = as_user(None).get(BASE).json()
    assert data["run"]["status"] == "published" and data["run"]["framework"] == "gmsc-2024"
    a = data["regions"][0]
    assert a["region"] == "Kab. Deli Serdang" and a["final"] == pytest.approx(A_FINAL, abs=1e-12)
    assert (a["rank_national"], a["rank_province"]) == (1, 1)


def test_a_region_report_has_ranks_with_totals_and_last_year(published, as_user):
    data = as_user(None).get(f"{BASE}/regions/{REGION_A}").json()
    assert data["rank_national"] == {"position": 1, "of": 2}
    assert data["improvement"] == pytest.approx(0.339, abs=1e-12)
    baseline = data["components"][0]
    assert baseline["code"] == "baseline" and baseline["score"] == pytest.approx(3.28)
    assert baseline["previous"] == 3.44
    assert [a["component"] for a in data["agreement"]] == [
        "baseline",
        "output",
        "outcome",
        "impact",
        "quick_win",
    ]
    assert data["feedback"] is None


def test_item_scores_are_consolidated(published, as_user):
    items = as_user(None).get(f"{BASE}/items").json()["items"]
    assert len(items) == 222 and "assessor" not in items[0]


def test_a_token_reads_as_its_user(computed, as_user, coordinator, client):
    token = ApiToken.new_token()
    ApiToken.objects.create(
        user=coordinator, name="script", digest=ApiToken.digest_of(token), hint=token[-4:]
    )
    assert client.get(BASE, HTTP_AUTHORIZATION=f"Bearer {token}").status_code == 200  # not published yet
    assert client.get(BASE).status_code == 404


def test_the_coordinator_computes_and_publishes_through_the_api(scored, as_user, coordinator):
    client = as_user(coordinator)
    response = client.post(f"{BASE}/compute")
    assert response.status_code == 201 and response.json()["level"] == "item"
    response = client.post(f"{BASE}/publish")
    assert response.status_code == 200 and response.json()["status"] == "published"
    response = client.post(f"{BASE}/compute")
    assert response.status_code == 409
    assert response.json() == {  # the one ApiError shape, like every other refusal of the API
        "detail": "The results of this cycle are published: they can no longer be recomputed.",
        "errors": {},
    }
    assert ResultRun.objects.filter(cycle=scored.cycle).count() == 1


def test_refusals_are_409_with_the_reason(world, as_user, coordinator):
    client = as_user(coordinator)
    response = client.post(f"{BASE}/compute")
    assert response.status_code == 409 and "close it before computing" in response.json()["detail"]
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    response = client.post(f"{BASE}/publish")
    assert response.status_code == 409 and "compute them first" in response.json()["detail"]
    assert ResultRun.objects.count() == 0
