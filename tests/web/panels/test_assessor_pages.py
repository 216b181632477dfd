"""An assessor's own pages: the list of their panel regions and their conflicts of interest.
Assessors only (the coordinator sees the cycles on "my panels"); everyone else 404."""

from __future__ import annotations

import pytest

from cityeval.web.panels.models import Conflict

REGIONAL = ["admin_a", "opd_a", "admin_b", "nobody"]


def persona(request, name):
    return request.getfixturevalue(name)


def test_an_assessor_sees_the_regions_of_their_panels(world, as_user, chair, panel_region, score_all, urls):
    score_all(chair)
    page = as_user(chair).get(urls.mine)
    assert page.status_code == 200
    content = page.content.decode()
    assert urls.region() in content and "Panel 1" in content
    assert "111 / 111" in content and "Not submitted" in content


def test_an_assessor_on_no_panel_sees_an_empty_list(world, as_user, assessor, panel_region, urls):
    page = as_user(assessor).get(urls.mine)
    assert page.status_code == 200
    assert b"not on any panel yet" in page.content
    assert urls.region().encode() not in page.content


def test_the_coordinator_sees_the_cycles(world, as_user, coordinator, urls):
    page = as_user(coordinator).get(urls.mine)
    assert page.status_code == 200 and f"/panels/cycles/{world.cycle.slug}/".encode() in page.content


@pytest.mark.parametrize("name", REGIONAL)
def test_regional_users_and_others_get_404(request, world, as_user, panel_region, urls, name):
    client = as_user(persona(request, name))
    assert client.get(urls.mine).status_code == 404
    assert client.get(urls.conflicts).status_code == 404
    assert client.post(urls.conflicts, {"region": "kota-medan", "reason": "x"}).status_code == 404
    assert Conflict.objects.count() == 0


def test_anonymous_is_sent_to_log_in(world, as_user, urls):
    for response in (as_user(None).get(urls.mine), as_user(None).get(urls.conflicts)):
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_an_assessor_declares_a_conflict(world, as_user, assessor, urls):
    client = as_user(assessor)
    response = client.post(urls.conflicts, {"region": "kota-medan", "reason": "I advise Medan's Diskominfo"})
    assert response.status_code == 302
    conflict = Conflict.objects.get()
    assert (conflict.user, conflict.region, conflict.reason) == (
        assessor,
        world.region_b,
        "I advise Medan's Diskominfo",
    )
    assert b"I advise Medan" in client.get(urls.conflicts).content


def test_a_conflict_needs_a_reason_and_is_declared_once(world, as_user, assessor, urls):
    client = as_user(assessor)
    assert client.post(urls.conflicts, {"region": "kota-medan", "reason": " "}).status_code == 200
    assert Conflict.objects.count() == 0
    client.post(urls.conflicts, {"region": "kota-medan", "reason": "advises"})
    response = client.post(urls.conflicts, {"region": "kota-medan", "reason": "again"})
    assert b"declared a conflict with Kota Medan already" in response.content
    assert Conflict.objects.count() == 1


def test_a_conflicted_member_cannot_score(world, as_user, assessor3, panel_region, urls):
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Family")
    client = as_user(assessor3)
    page = client.get(urls.region())
    assert page.status_code == 200 and b'id="conflicted"' in page.content
    response = client.post(urls.region("scores_save"), {"score-baseline.legal_basis": "3"})
    assert response.status_code == 403
    assert panel_region.scores.count() == 0
