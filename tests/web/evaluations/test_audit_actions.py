"""Audit entries of cycle transitions (national: no region) and of a self-assessment's
submission and reopening (in the region that submitted)."""

from __future__ import annotations

import pytest

from cityeval.web.assessments.services import self_assessment_reopen, self_assessment_submit
from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.services import cycle_transition


def test_closing_a_cycle_is_recorded(world, coordinator):
    cycle_transition(cycle=world.cycle, action="close", user=coordinator)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.region) == (Action.CYCLE_TRANSITION, coordinator, None)
    assert (entry.target_type, entry.target_id, entry.target_text) == ("cycle", "gmsc-2024", "GMSC 2024")
    assert entry.details == {"transition": "close", "from": "open", "to": "closed", "reason": ""}


def test_reopening_a_cycle_is_recorded_with_its_reason(world, coordinator):
    cycle_transition(cycle=world.cycle, action="close", user=coordinator)
    cycle_transition(cycle=world.cycle, action="reopen", user=coordinator, reason="Medan's upload failed")
    entry = AuditEntry.objects.get(action=Action.CYCLE_REOPEN)
    assert (entry.user, entry.target_id) == (coordinator, "gmsc-2024")
    assert entry.details == {
        "transition": "reopen",
        "from": "closed",
        "to": "open",
        "reason": "Medan's upload failed",
    }


def test_a_refused_transition_records_nothing(world, coordinator):
    """Reopening an open cycle is refused: the refusal rolls the entry back with the rest."""
    with pytest.raises(CycleClosed):
        cycle_transition(cycle=world.cycle, action="reopen", user=coordinator, reason="why not")
    assert not AuditEntry.objects.exists()


def test_a_submission_is_recorded_in_its_region(world, admin_a):
    self_assessment_submit(participation=world.participation_a, user=admin_a)
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.region) == (
        Action.SELF_ASSESSMENT_SUBMIT,
        admin_a,
        world.region_a,
    )
    assert entry.target_text == "Kab. Deli Serdang in GMSC 2024"
    assert entry.details == {"cycle": "gmsc-2024"}


def test_reopening_a_submission_is_recorded_with_its_reason(world, admin_a, coordinator):
    self_assessment_submit(participation=world.participation_a, user=admin_a)
    self_assessment_reopen(participation=world.participation_a, user=coordinator, reason="Wrong file")
    entry = AuditEntry.objects.get(action=Action.SELF_ASSESSMENT_REOPEN)
    assert (entry.user, entry.region) == (coordinator, world.region_a)
    assert entry.details == {"cycle": "gmsc-2024", "reason": "Wrong file"}
