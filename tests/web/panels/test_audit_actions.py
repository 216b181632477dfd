"""Audit entries of the panels' privileged actions: the chair's consolidated score, and a
read of every member's individual marks through the API (the blind rule decides who may)."""

from __future__ import annotations

from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.panels.models import ItemScore
from cityeval.web.panels.services import consolidated_score_record
from tests.helpers.panels import LEVEL_ITEM, STAGE


def test_a_consolidated_score_is_recorded(world, chair, assessor2, assessor3, submitted, panel_region):
    for user in (chair, assessor2, assessor3):
        submitted(user, 3.0)
    consolidated_score_record(
        panel_region=panel_region, item=LEVEL_ITEM, score=2.0, reason="No decree", user=chair
    )
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.region) == (Action.PANEL_CONSOLIDATE, chair, world.region_a)
    assert (entry.target_type, entry.target_text) == ("panel", "Panel 1")
    assert entry.details == {
        "cycle": "gmsc-2024", "stage": STAGE, "item": LEVEL_ITEM, "score": 2.0, "reason": "No decree",
    }  # fmt: skip


def test_the_coordinator_reading_every_mark_is_recorded(
    world, as_user, coordinator, panel_region, chair, urls
):
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=2)
    assert as_user(coordinator).get(urls.api_scores()).status_code == 200
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.region) == (
        Action.ASSESSOR_DATA_DOWNLOAD,
        coordinator,
        world.region_a,
    )
    assert entry.details == {"cycle": "gmsc-2024", "stage": STAGE, "what": "panel scores (API)"}
    assert entry.network == "127.0.0.0/24"


def test_a_member_reading_only_their_own_marks_is_not_recorded(world, as_user, assessor2, panel_region, urls):
    """Before submitting, a member sees only their own marks: nobody else's data is read."""
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=assessor2, score=3)
    assert as_user(assessor2).get(urls.api_scores()).status_code == 200
    assert not AuditEntry.objects.exists()
