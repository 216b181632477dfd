"""Queries per page do not grow with the data (issue 10: no N+1 at national scale).

Each main page is requested on the national fixture (``cityeval.web.results.national``) loaded with N
regions and again with 3N regions and three times the survey responses; the number of SQL
queries of the second request of a page (the first fills the per-process caches) must be the
same at both sizes. A query per row would add 2N queries at 3N and fail.
"""

from __future__ import annotations

import json

import pytest
from django.contrib.auth import get_user_model
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client
from django.test.utils import CaptureQueriesContext

from cityeval.web.results.national import load_national
from cityeval.web.surveys.models import SurveyForm

pytestmark = pytest.mark.django_db

CYCLE = "national-2024"
SMALL = 5  # one panel of five regions
RESPONSES_PER_FORM = 2


def _client(username: str | None) -> Client:
    client = Client()
    if username:
        client.force_login(get_user_model().objects.get(username=username))
    return client


def _pages() -> dict[str, tuple[str | None, str]]:
    token = SurveyForm.objects.filter(plan__participation__region__slug="region-002").order_by("id")[0].token
    return {
        "national results": ("koordinator", f"/results/{CYCLE}/"),
        "cycle page": ("koordinator", f"/cycles/{CYCLE}/"),
        "region results": ("koordinator", f"/r/region-002/{CYCLE}/results/"),
        "regional dashboard": ("admin.region-002", "/r/region-002/"),
        "region trends": ("admin.region-002", "/r/region-002/trends/"),
        "national trends": ("koordinator", "/results/trends/"),
        "self-assessment overview": ("admin.region-002", f"/r/region-002/{CYCLE}/self-assessment/"),
        "scoring page": ("asesor01", f"/panels/cycles/{CYCLE}/stage_2/region-002/"),
        "my panels": ("asesor01", "/panels/"),
        "people": ("koordinator", "/accounts/people/"),
        "region people": ("koordinator", "/accounts/people/r/region-002/"),
        "survey form": (None, f"/s/{token}/"),
        "survey API start": (None, f"/api/survey/{token}/start"),
        "openapi": (None, "/api/openapi.json"),
    }


def _submit_through_api(client: Client, token: str, number: int) -> int:
    start = client.get(f"/api/survey/{token}/start").json()
    form = SurveyForm.objects.get(token=token)
    body = {
        "response_id": start["response_id"],
        "started": start["started"],
        "used_service": True,
        "answers": {code: 3 for code in form.statements},
        "age_band": "",
        "sex": "",
        "district": "",
        "phone": f"0812000000{number:02d}",
    }
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            f"/api/survey/{token}/responses", json.dumps(body), content_type="application/json"
        )
    assert response.status_code == 201, response.content
    return len(queries)


def _counts(regions: int) -> dict[str, int]:
    cache.clear()
    load_national(
        regions=regions, responses=regions * 18 * RESPONSES_PER_FORM, assessors=5, say=lambda _: None
    )
    counts = {}
    for name, (username, url) in _pages().items():
        client = _client(username)
        assert client.get(url).status_code == 200, name
        with CaptureQueriesContext(connection) as queries:
            response = client.get(url)
        assert response.status_code == 200, name
        counts[name] = len(queries)
    token = _pages()["survey form"][1].split("/")[2]
    _submit_through_api(Client(), token, 1)
    counts["survey API submit"] = _submit_through_api(Client(), token, 2)
    return counts


def _in_rolled_back_transaction(regions: int) -> dict[str, int]:
    with transaction.atomic():
        counts = _counts(regions)
        transaction.set_rollback(True)
    return counts


def test_queries_per_page_do_not_grow_with_regions_and_responses():
    """5 regions (90 forms × 2 responses) against 15 regions (270 forms × 2 responses, three
    times as many in all): every page, same number of queries."""
    small = _in_rolled_back_transaction(SMALL)
    large = _in_rolled_back_transaction(3 * SMALL)
    assert large == small
