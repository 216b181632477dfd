"""The phase table: what each cycle status allows, checked against the services that do each
activity, and the status transitions (publication included) in one table.

The expected table is written out by hand from the cycle's process: a draft is prepared
(regions, panels, dates) but takes no work; an open cycle takes the regions' self-assessments,
the panels' work and the survey; a closed cycle takes only the computation of its results
(and corrections of its dates); publication is final. It was checked against the behaviour
before the rules were gathered in ``evaluations.phases`` (each app's own checks: panels
``closed_reason``/``scoring_closed_reason``, assessments ``closed_reason``, surveys
``cycle_is_open``, results ``results_compute``/``cycle_publish``, evaluations
``participation_add``/``cycle_update``/``_TRANSITIONS``).
"""

from __future__ import annotations

import datetime as dt

import polars as pl
import pytest
from django.utils import timezone, translation

from cityeval.web.assessments.services import (
    evidence_link_add,
    self_assessment_reopen,
    self_assessment_submit,
)
from cityeval.web.evaluations import phases
from cityeval.web.evaluations.models import Cycle, Stage, StatusChange
from cityeval.web.evaluations.phases import Activity, CycleClosed
from cityeval.web.evaluations.services import (
    cycle_transition,
    cycle_update,
    participation_add,
    participations_import,
)
from cityeval.web.imports import ROW, ImportRejected
from cityeval.web.panels.models import EvidenceRequest, Interview, Panel, PanelMember, PanelRegion
from cityeval.web.panels.services import item_scores_record, panel_create
from cityeval.web.refusals import Refused
from cityeval.web.results.services import ResultsRefused, cycle_publish, results_compute
from cityeval.web.surveys.plans import PlanInput, plan_save

S = Cycle.Status
A = Activity
# status → the activities it allows (hand-written; see the module docstring)
EXPECTED = {
    S.DRAFT: {A.PANELS, A.PARTICIPANTS, A.SETTINGS},
    S.OPEN: {
        A.SELF_ASSESSMENT,
        A.SELF_ASSESSMENT_REOPEN,
        A.EVIDENCE_TOPUP,
        A.PANELS,
        A.SCORING,
        A.SURVEY,
        A.PARTICIPANTS,
        A.SETTINGS,
    },
    S.CLOSED: {A.SETTINGS, A.COMPUTE},
    S.PUBLISHED: set(),
}
CELLS = [(status, activity) for status in S.values for activity in Activity]


@pytest.mark.parametrize(("status", "activity"), CELLS)
def test_the_table_says_what_each_status_allows(status, activity):
    assert phases.allows(status, activity) is (activity in EXPECTED[status])


def _set_status(world, status: str) -> Cycle:
    Cycle.objects.filter(pk=world.cycle.pk).update(status=status)
    return Cycle.objects.get(pk=world.cycle.pk)


def _scoring_setup(world, assessor) -> PanelRegion:
    panel = Panel.objects.create(cycle=world.cycle, stage=Stage.Kind.STAGE_I, name="Panel 1")
    PanelMember.objects.create(panel=panel, user=assessor, affiliation="academic")
    return PanelRegion.objects.create(
        panel=panel, participation=world.participation_b, stage=Stage.Kind.STAGE_I
    )


def _topup(world, coordinator, assessor):
    """Region B submitted; its panel marked an item "needs evidence", with a top-up window open
    for a week: a link added to that item is the top-up."""
    participation = world.participation_b
    item = next(iter(participation.cycle.framework.framework.items_for(participation.group)))[1].code
    panel_region = _scoring_setup(world, assessor)
    Interview.objects.create(
        panel_region=panel_region,
        scheduled_at=timezone.now(),
        evidence_topup_until=timezone.now() + dt.timedelta(days=7),
    )
    EvidenceRequest.objects.create(panel_region=panel_region, item=item, requested_by=assessor)
    type(participation).objects.filter(pk=participation.pk).update(submitted_at=timezone.now())
    participation.refresh_from_db()
    try:
        return evidence_link_add(
            participation=participation, item=item, url="https://example.org", user=coordinator
        )
    except CycleClosed:  # the refusal names the submission; the phase is the topup's
        raise CycleClosed(phases.refusal(participation.cycle, A.EVIDENCE_TOPUP) or "") from None


def _do(activity: Activity, world, coordinator, assessor):
    """Carry out ``activity`` through the service that does it (for the region of world B)."""
    cycle = Cycle.objects.get(pk=world.cycle.pk)
    participation = world.participation_b
    if activity == A.SELF_ASSESSMENT:
        return self_assessment_submit(participation=participation, user=coordinator)
    if activity == A.SELF_ASSESSMENT_REOPEN:
        type(participation).objects.filter(pk=participation.pk).update(submitted_at=timezone.now())
        participation.refresh_from_db()
        return self_assessment_reopen(participation=participation, user=coordinator, reason="a typo")
    if activity == A.EVIDENCE_TOPUP:
        return _topup(world, coordinator, assessor)
    if activity == A.PANELS:
        return panel_create(cycle=cycle, stage=Stage.Kind.STAGE_I, name="New panel")
    if activity == A.SCORING:
        panel_region = _scoring_setup(world, assessor)
        return item_scores_record(panel_region=panel_region, assessor=assessor, scores={})
    if activity == A.SURVEY:
        return plan_save(participation=participation, data=PlanInput(target=80, demographics=False, modes={}))
    if activity == A.PARTICIPANTS:
        return participation_add(cycle=cycle, region=world.region_b, group="REGULER")
    if activity == A.SETTINGS:
        stages = {s.kind: (s.starts_on, s.ends_on) for s in cycle.stages.all()}
        deadline = timezone.now() + dt.timedelta(days=10)
        return cycle_update(cycle=cycle, name="Renamed", self_assessment_deadline=deadline, stages=stages)
    return results_compute(cycle=cycle, user=coordinator)  # COMPUTE


@pytest.mark.parametrize(("status", "activity"), CELLS)
def test_each_service_refuses_exactly_what_the_table_does_not_allow(
    world, coordinator, assessor, status, activity
):
    """The service is refused with CycleClosed, and its reason, iff the status does not allow
    the activity. An allowed activity may still be refused for another reason (no scores to
    compute, an empty score sheet): that is not the phase's refusal."""
    _set_status(world, status)
    try:
        _do(activity, world, coordinator, assessor)
    except CycleClosed as exc:
        refused = True
        assert str(exc) == phases.refusal(Cycle.objects.get(pk=world.cycle.pk), activity)
    except Refused as exc:
        refused = False
        assert not isinstance(exc, CycleClosed)
    else:
        refused = False
    assert refused is (activity not in EXPECTED[status])


def test_the_self_assessment_also_closes_at_its_deadline(world, coordinator):
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    world.participation_b.refresh_from_db()
    with pytest.raises(CycleClosed, match="deadline passed"):
        self_assessment_submit(participation=world.participation_b, user=coordinator)
    # the deadline is the self-assessment's alone: panels still work in the open cycle
    assert phases.refusal(Cycle.objects.get(pk=world.cycle.pk), A.PANELS) is None


def test_a_submitted_self_assessment_is_read_only_with_the_date(world, coordinator):
    self_assessment_submit(participation=world.participation_b, user=coordinator)
    world.participation_b.refresh_from_db()
    assert phases.self_assessment_refusal(world.participation_b).startswith("Submitted on ")


def test_the_reasons_name_the_status_and_what_waits_for_it(world):
    """Reasons written by hand for the statuses where copies of the rule disagreed: the survey
    said "the cycle is closed" for a draft and for a published cycle."""
    draft, published = _set_status(world, S.DRAFT), None
    assert (
        phases.refusal(draft, A.SURVEY)
        == "The cycle is not open yet: the survey can be prepared once it opens."
    )
    assert phases.refusal(draft, A.SCORING) == (
        "The cycle is not open yet: scores and feedback can be recorded once it opens."
    )
    published = _set_status(world, S.PUBLISHED)
    assert phases.refusal(published, A.SURVEY) == "The cycle is published: the survey can no longer change."
    assert (
        phases.refusal(published, A.PARTICIPANTS)
        == "The cycle is published: its regions can no longer change."
    )


# --- transitions ---------------------------------------------------------------------------------

# action → (from, to), by hand: draft → open ⇄ closed → published
EXPECTED_TRANSITIONS = {
    "open": ({S.DRAFT}, S.OPEN),
    "close": ({S.OPEN}, S.CLOSED),
    "reopen": ({S.CLOSED}, S.OPEN),
    "publish": ({S.CLOSED}, S.PUBLISHED),
}


def test_the_transition_table_holds_every_status_change_publish_included():
    assert {a: (set(t.sources), t.target) for a, t in phases.TRANSITIONS.items()} == EXPECTED_TRANSITIONS
    assert [a for a, t in phases.TRANSITIONS.items() if t.needs_reason] == ["reopen"]


@pytest.mark.parametrize("status", S.values)
@pytest.mark.parametrize("action", sorted(EXPECTED_TRANSITIONS))
def test_can_follows_the_table(world, status, action):
    cycle = _set_status(world, status)
    assert phases.can(cycle, action) is (status in EXPECTED_TRANSITIONS[action][0])
    assert (phases.transition_refusal(cycle, action) is None) is phases.can(cycle, action)


def test_publishing_cannot_bypass_its_precondition(world):
    """The generic status change refuses "publish" without the results' check: only
    ``cycle_publish`` publishes."""
    _set_status(world, S.CLOSED)
    with pytest.raises(ValueError, match="precondition"):
        cycle_transition(cycle=world.cycle, action="publish")
    assert Cycle.objects.get(pk=world.cycle.pk).status == S.CLOSED


@pytest.mark.parametrize("status", [S.DRAFT, S.OPEN, S.PUBLISHED])
def test_publish_is_refused_by_the_table_in_other_statuses(world, coordinator, status):
    cycle = _set_status(world, status)
    with pytest.raises(CycleClosed) as refused:
        cycle_publish(cycle=cycle, user=coordinator)
    assert str(refused.value) == phases.transition_refusal(cycle, "publish")
    assert not StatusChange.objects.filter(cycle=cycle, action="publish").exists()


def test_publish_reads_the_transition_table(world, coordinator, monkeypatch):
    """Were the table to let a draft be published, ``cycle_publish`` would get past the status
    check to its own precondition: it asks the table, it has no copy of the rule."""
    cycle = _set_status(world, S.DRAFT)
    patched = dict(phases.TRANSITIONS)
    patched["publish"] = phases.Transition(frozenset({S.DRAFT}), S.PUBLISHED, guarded=True)
    monkeypatch.setattr(phases, "TRANSITIONS", patched)
    with pytest.raises(ResultsRefused, match="compute them first"):
        cycle_publish(cycle=cycle, user=coordinator)
    assert Cycle.objects.get(pk=cycle.pk).status == S.DRAFT


def test_importing_regions_into_a_closed_cycle_is_refused_in_the_readers_language(world):
    """The import's refusal was an English f-string ("the cycle is closed: …") whatever the
    page's language; it is now the table's translated reason (Indonesian from the catalogue)."""
    cycle = _set_status(world, S.CLOSED)
    table = pl.DataFrame({ROW: [2], "region": [world.region_b.name], "group": ["REGULER"]})
    with translation.override("id"), pytest.raises(ImportRejected) as refused:
        participations_import(cycle=cycle, table=table)
    assert refused.value.errors == ["Siklus berstatus ditutup: daftar daerahnya tidak dapat diubah lagi."]
