"""A regional role given to a panel member after the assignment is a conflict of interest.

The assignment refuses a member with a role in the region, but the role can come later: the
member is then a regional user of that region. Their panel pages and the scores API of the
region answer 404 (unless they are the coordinator too), no score, submission, feedback or
evidence request of theirs is taken, and the coordinator sees the conflict on the panel page.
A declared conflict keeps the region's pages open but refuses evidence requests like scores.
"""

from __future__ import annotations

import pytest

from cityeval.web.accounts import access as access_module
from cityeval.web.accounts.access import require_evidence_reader
from cityeval.web.accounts.models import Membership, Role
from cityeval.web.panels.models import Conflict, EvidenceRequest, Feedback, ItemScore, ScoreSubmission
from cityeval.web.panels.services import (
    PanelRejected,
    evidence_request_toggle,
    feedback_record,
    item_scores_record,
    scores_submit,
)
from tests.helpers.panels import LEVEL_ITEM, REGION_A

WRITES = ["scores_save", "submit", "evidence_request", "feedback", "consolidation"]


def counts() -> tuple[int, int, int, int]:
    return (
        ItemScore.objects.count(),
        ScoreSubmission.objects.count(),
        Feedback.objects.count(),
        EvidenceRequest.objects.count(),
    )


def give_role(world, user, role: str) -> Membership:
    opd = world.opd_health if role == Role.OPD_CONTRIBUTOR else None
    return Membership.objects.create(user=user, role=role, region=world.region_a, opd=opd)


@pytest.fixture(params=[Role.REGIONAL_ADMIN, Role.OPD_CONTRIBUTOR])
def role(request) -> str:
    return request.param


def test_a_member_given_a_role_in_the_region_gets_404_on_its_panel_pages(
    world, as_user, chair, panel_region, score_all, urls, role
):
    score_all(chair)  # all items scored, so a submission would be taken
    client = as_user(chair)
    assert client.get(urls.region()).status_code == 200
    give_role(world, chair, role)
    assert client.get(urls.region()).status_code == 404
    assert client.get(urls.region("consolidation")).status_code == 404
    before = counts()
    data = {"item": LEVEL_ITEM, f"score-{LEVEL_ITEM}": "1", "strengths": "x", "score": "2", "reason": "r"}
    for view in WRITES:
        assert client.post(urls.region(view), data).status_code == 404, view
    assert counts() == before


def test_a_member_given_a_role_in_the_region_gets_404_from_the_api(
    world, as_user, assessor2, panel_region, urls, role
):
    give_role(world, assessor2, role)
    client = as_user(assessor2)
    assert client.get(urls.api_scores()).status_code == 404
    response = client.post(
        urls.api_scores(), {"item": LEVEL_ITEM, "score": 3}, content_type="application/json"
    )
    assert response.status_code == 404
    assert ItemScore.objects.count() == 0
    assert client.get("/api/panels/mine").json() == []  # the region is no longer listed
    assert urls.region().encode() not in client.get(urls.mine).content


def test_a_role_in_another_region_changes_nothing(world, as_user, assessor2, panel_region, urls):
    Membership.objects.create(user=assessor2, role=Role.REGIONAL_ADMIN, region=world.region_b)
    client = as_user(assessor2)
    assert client.get(urls.region()).status_code == 200
    assert client.post(urls.region("evidence_request"), {"item": LEVEL_ITEM}).status_code == 302
    assert EvidenceRequest.objects.count() == 1


def test_the_services_refuse_a_member_with_a_role_in_the_region(
    world, assessor2, panel_region, score_all, role
):
    score_all(assessor2)
    give_role(world, assessor2, role)
    before = counts()
    writes = [
        lambda: item_scores_record(
            panel_region=panel_region, assessor=assessor2, scores={LEVEL_ITEM: (1.0, "")}
        ),
        lambda: scores_submit(panel_region=panel_region, assessor=assessor2),
        lambda: feedback_record(
            panel_region=panel_region, assessor=assessor2, strengths="x", weaknesses="", recommendations=""
        ),
        lambda: evidence_request_toggle(panel_region=panel_region, item=LEVEL_ITEM, user=assessor2),
    ]
    for write in writes:
        with pytest.raises(PanelRejected, match=r"You have a role in Kab\. Deli Serdang"):
            write()
    assert counts() == before


def test_a_coordinator_member_with_a_role_reads_but_cannot_score(
    world, as_user, coordinator, panel, panel_region, urls
):
    from cityeval.web.panels.models import PanelMember

    Membership.objects.create(user=coordinator, role=Role.ASSESSOR)
    PanelMember.objects.create(panel=panel, user=coordinator, affiliation="ministry")
    give_role(world, coordinator, Role.REGIONAL_ADMIN)
    client = as_user(coordinator)
    page = client.get(urls.region())
    assert page.status_code == 200 and b'id="conflicted"' in page.content
    assert b"You have a role in this region" in page.content
    assert b'id="scores-form"' not in page.content
    for view in ["scores_save", "submit", "evidence_request", "feedback"]:
        response = client.post(urls.region(view), {"item": LEVEL_ITEM, f"score-{LEVEL_ITEM}": "3"})
        assert response.status_code == 403, view
        assert b"You have a role in Kab. Deli Serdang" in response.content
    assert counts() == (0, 0, 0, 0)


def test_the_panel_page_shows_a_role_in_a_region_as_a_conflict(
    world, as_user, coordinator, panel, panel_region, assessor3, urls, role
):
    give_role(world, assessor3, role)
    content = as_user(coordinator).get(urls.panel(panel)).content.decode()
    assert "conflict-warning" in content
    assert "assessor3 was given a role in Kab. Deli Serdang" in content


def test_evidence_access_of_a_member_with_a_role_comes_from_the_role(
    world, assessor2, panel_region, monkeypatch, role
):
    """Their panel membership grants nothing there: the regional role decides."""
    give_role(world, assessor2, role)
    asked = []
    real = access_module.region_access

    def spy(user, slug):
        asked.append(slug)
        return real(user, slug)

    monkeypatch.setattr(access_module, "region_access", spy)
    require_evidence_reader(assessor2, world.participation_a)
    assert asked == [REGION_A]


def test_a_member_without_a_role_reads_evidence_through_the_panel(world, assessor2, panel_region):
    require_evidence_reader(assessor2, world.participation_a)  # no 404


# --- a declared conflict and evidence requests ------------------------------------------------------


def test_a_member_with_a_declared_conflict_cannot_request_evidence(
    world, as_user, assessor3, panel_region, urls
):
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Family")
    client = as_user(assessor3)
    page = client.get(urls.region())
    assert page.status_code == 200
    assert urls.region("evidence_request") not in page.content.decode()
    response = client.post(urls.region("evidence_request"), {"item": LEVEL_ITEM})
    assert response.status_code == 403
    assert b"You declared a conflict of interest with Kab. Deli Serdang" in response.content
    assert EvidenceRequest.objects.count() == 0
    with pytest.raises(PanelRejected, match="declared a conflict"):
        evidence_request_toggle(panel_region=panel_region, item=LEVEL_ITEM, user=assessor3)
    assert EvidenceRequest.objects.count() == 0


def test_a_deactivated_role_in_the_region_stays_a_conflict_on_the_panel_pages(
    world, as_user, chair, panel_region, urls, role
):
    """Security review: the pages read active memberships only, so deactivating the regional
    role re-opened the region's panel pages (and the interview) to its former member."""
    give_role(world, chair, role).__class__.objects.filter(user=chair, region=world.region_a).update(
        active=False
    )
    client = as_user(chair)
    assert client.get(urls.region()).status_code == 404
    assert client.get(urls.region("consolidation")).status_code == 404


def test_a_deactivated_role_in_the_region_gives_no_evidence_through_the_panel(
    world, assessor2, panel_region, role
):
    from django.http import Http404

    give_role(world, assessor2, role).__class__.objects.filter(user=assessor2, region=world.region_a).update(
        active=False
    )
    with pytest.raises(Http404):
        require_evidence_reader(assessor2, world.participation_a)
