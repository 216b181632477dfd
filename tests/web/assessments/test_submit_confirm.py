"""Submitting a self-assessment goes through a confirmation that counts the unanswered items;
only the coordinator reopens a submission, with a written reason kept in the history.

The expected 111 is the number of items a REGULER region answers in GMSC 2024, as the issue
reporting Kota Medan's "0 of 111 items" submission counted them."""

from __future__ import annotations

import pytest
from django.urls import reverse

from cityeval.web.evaluations.models import Participation, StatusChange

MEDAN = "kota-medan"
CYCLE = "gmsc-2024"


def _url(name: str, region: str = MEDAN) -> str:
    return reverse(f"assessments:{name}", kwargs={"region": region, "cycle": CYCLE})


def _medan(world) -> Participation:
    return Participation.objects.get(pk=world.participation_b.pk)


def test_the_confirmation_counts_the_unanswered_items(world, as_user, admin_b):
    response = as_user(admin_b).get(_url("submit"))
    text = response.content.decode()
    assert response.status_code == 200
    assert "111 of 111 items unanswered (0 answered)." in text
    assert text.count("<li>baseline.") >= 1  # the unanswered items are listed by code and name
    assert _medan(world).submitted_at is None


def test_the_count_drops_with_each_answer(world, as_user, admin_b, answer):
    answer("baseline.legal_basis", level=3, participation=world.participation_b)
    text = as_user(admin_b).get(_url("submit")).content.decode()
    assert "110 of 111 items unanswered (1 answered)." in text
    assert "<li>baseline.legal_basis" not in text


def test_a_post_without_the_confirmation_submits_nothing(world, as_user, admin_b):
    response = as_user(admin_b).post(_url("submit"))
    assert response.status_code == 200 and b'name="confirm" value="yes"' in response.content
    assert _medan(world).submitted_at is None
    response = as_user(admin_b).post(_url("submit"), {"confirm": "yes"})
    assert response.status_code == 302 and _medan(world).submitted_by == admin_b
    change = StatusChange.objects.get(participation=world.participation_b)
    assert (change.action, change.changed_by, change.reason) == ("submit", admin_b, "")


def _submitted(world, as_user, admin_b) -> None:
    as_user(admin_b).post(_url("submit"), {"confirm": "yes"})
    assert _medan(world).submitted_at is not None


def test_the_coordinator_reopens_with_a_reason_kept_in_the_history(world, as_user, admin_b, coordinator):
    _submitted(world, as_user, admin_b)
    client = as_user(coordinator)
    assert b'id="reopen-link"' in client.get(_url("overview")).content
    assert client.get(_url("reopen")).status_code == 200
    for empty in ({"confirm": "yes"}, {"confirm": "yes", "reason": "   "}):
        response = client.post(_url("reopen"), empty)
        assert response.status_code == 400 and b"Give the reason for reopening" in response.content
    assert _medan(world).submitted_at is not None
    client.post(_url("reopen"), {"reason": "Submitted by mistake"})  # no confirm: nothing happens
    assert _medan(world).submitted_at is not None
    response = client.post(_url("reopen"), {"confirm": "yes", "reason": "Submitted by mistake with 0 of 111"})
    assert response.status_code == 302 and _medan(world).submitted_at is None
    history = list(StatusChange.objects.filter(participation=world.participation_b).order_by("id"))
    assert [(c.action, c.changed_by) for c in history] == [("submit", admin_b), ("reopen", coordinator)]
    assert history[1].reason == "Submitted by mistake with 0 of 111"
    overview = as_user(admin_b).get(_url("overview")).content.decode()
    assert "Submitted by mistake with 0 of 111" in overview and 'id="submit-form"' in overview


@pytest.mark.parametrize("name", ["admin_a", "opd_a", "assessor", "nobody"])
def test_outsiders_get_404_on_the_confirmation_and_reopen(world, as_user, admin_b, request, name):
    _submitted(world, as_user, admin_b)
    client = as_user(request.getfixturevalue(name))
    for url in (_url("submit"), _url("reopen")):
        assert client.get(url).status_code == 404, url
        assert client.post(url, {"confirm": "yes", "reason": "x"}).status_code == 404, url
    assert _medan(world).submitted_at is not None


def test_the_region_itself_cannot_reopen_its_submission(world, as_user, admin_b, opd_b):
    _submitted(world, as_user, admin_b)
    for user in (admin_b, opd_b):
        client = as_user(user)
        assert client.get(_url("reopen")).status_code == 403
        assert client.post(_url("reopen"), {"confirm": "yes", "reason": "x"}).status_code == 403
    assert as_user(opd_b).get(_url("submit")).status_code == 403  # an OPD contributor never submits
    assert _medan(world).submitted_at is not None
