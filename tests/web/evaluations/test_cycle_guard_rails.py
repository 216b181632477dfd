"""Guard rails on a cycle: closing, reopening and publishing through a confirmation page that
says what happens and what is unfinished; the status history; the cycle edit page and its
rules; the demo's open 2025 cycle being complete enough for a panel."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from cityeval.web.accounts.models import ApiToken
from cityeval.web.accounts.services import token_create
from cityeval.web.evaluations.models import Cycle, Stage, StatusChange
from cityeval.web.evaluations.services import CycleStateError, cycle_transition
from cityeval.web.panels.models import Panel, PanelMember, PanelRegion, ScoreSubmission

OUTSIDERS = ["admin_b", "opd_a", "assessor"]


def _change(world, action: str) -> str:
    return reverse("evaluations:cycle_change", kwargs={"cycle": world.cycle.slug, "action": action})


def _edit(world) -> str:
    return reverse("evaluations:cycle_edit", kwargs={"cycle": world.cycle.slug})


def _status(world) -> str:
    return Cycle.objects.get(pk=world.cycle.pk).status


@pytest.fixture
def half_marked(world, assessor, admin_a):
    """Region A on a Stage II panel of two assessors, only one of whom submitted marks; region A
    submitted its self-assessment, Kota Medan did not."""
    from tests.helpers.web import make_user

    other = make_user("assessor_x", "assessor")
    panel = Panel.objects.create(cycle=world.cycle, stage=Stage.Kind.STAGE_II, name="Panel Sumut")
    for user in (assessor, other):
        PanelMember.objects.create(panel=panel, user=user, affiliation="ministry")
    region = PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage=panel.stage)
    ScoreSubmission.objects.create(panel_region=region, assessor=assessor)
    type(world.participation_a).objects.filter(pk=world.participation_a.pk).update(
        submitted_at=timezone.now()
    )
    return panel


def test_the_close_confirmation_lists_what_is_unfinished(world, half_marked, coordinator, as_user):
    text = as_user(coordinator).get(_change(world, "close")).content.decode()
    assert "Kota Medan has not submitted its self-assessment." in text
    assert "Kab. Deli Serdang has not submitted" not in text
    assert "Panel Sumut: Kab. Deli Serdang — 1 of 2 assessors submitted their marks." in text
    assert _status(world) == Cycle.Status.OPEN


def test_the_cycle_page_links_a_submitted_region_to_its_reopen_page(world, half_marked, coordinator, as_user):
    page = as_user(coordinator).get(reverse("evaluations:cycle_detail", kwargs={"cycle": world.cycle.slug}))
    reopen = reverse("assessments:reopen", kwargs={"region": "kab-deli-serdang", "cycle": world.cycle.slug})
    medan = reverse("assessments:reopen", kwargs={"region": "kota-medan", "cycle": world.cycle.slug})
    assert reopen.encode() in page.content and medan.encode() not in page.content


def test_closing_and_reopening_are_kept_in_the_history(world, coordinator, as_user):
    client = as_user(coordinator)
    client.post(_change(world, "close"), {"confirm": "yes"})
    client.post(_change(world, "reopen"), {"confirm": "yes", "reason": "Medan's evidence came late"})
    changes = list(StatusChange.objects.filter(cycle=world.cycle, participation=None).order_by("id"))
    assert [(c.action, c.from_status, c.to_status) for c in changes] == [
        ("close", "open", "closed"),
        ("reopen", "closed", "open"),
    ]
    assert changes[1].reason == "Medan's evidence came late" and changes[1].changed_by == coordinator
    assert (
        "Medan&#x27;s evidence came late"
        in client.get(
            reverse("evaluations:cycle_detail", kwargs={"cycle": world.cycle.slug})
        ).content.decode()
    )


def test_a_confirmation_is_only_offered_for_a_change_the_status_allows(world, coordinator, as_user):
    response = as_user(coordinator).get(_change(world, "reopen"))  # the cycle is open
    assert response.status_code == 302 and response["Location"].endswith(f"/cycles/{world.cycle.slug}/")
    assert as_user(coordinator).get(_change(world, "close")).status_code == 200


def test_reopening_needs_a_reason_in_the_service_too(world):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    with pytest.raises(CycleStateError, match="reason"):
        cycle_transition(cycle=world.cycle, action="reopen", reason=" ")
    assert _status(world) == Cycle.Status.CLOSED and not StatusChange.objects.exists()


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_403_on_cycle_confirmations_and_edit(world, as_user, request, name):
    client = as_user(request.getfixturevalue(name))
    for url in (
        _change(world, "close"),
        _change(world, "reopen"),
        _edit(world),
        f"/results/{world.cycle.slug}/publish/",
    ):
        assert client.get(url).status_code == 403, url
        assert client.post(url, {"confirm": "yes", "reason": "x", "name": "x"}).status_code == 403, url
    assert _status(world) == Cycle.Status.OPEN and Cycle.objects.get(pk=world.cycle.pk).name == "GMSC 2024"


def test_the_publish_confirmation_says_what_becomes_public_and_what_blocks_it(world, coordinator, as_user):
    text = as_user(coordinator).get(f"/results/{world.cycle.slug}/publish/").content.decode()
    assert "become public to everyone, without logging in" in text
    assert "The cycle is locked for good" in text
    # The phase table's reason names the status (the old copy said "not closed" for every status).
    assert "The cycle is open: close it and compute the results before publishing." in text
    assert "There are no results to publish" in text


# --- the edit page --------------------------------------------------------------------------------


def _edit_data(**changes) -> dict:
    data = {
        "name": "GMSC 2024 (revised)",
        "self_assessment_deadline": (timezone.now() + dt.timedelta(days=9)).strftime("%Y-%m-%dT%H:%M"),
        "stage_1_starts": "2024-08-05", "stage_1_ends": "2024-08-09",
        "stage_2_starts": "2024-11-11", "stage_2_ends": "2024-11-22",
    }  # fmt: skip
    return data | changes


def test_the_coordinator_corrects_name_deadline_and_stage_dates(world, coordinator, as_user):
    client = as_user(coordinator)
    page = client.get(_edit(world)).content.decode()
    assert 'value="GMSC 2024"' in page and 'value="2024-08-01"' in page  # the current values
    assert client.post(_edit(world), _edit_data()).status_code == 302
    cycle = Cycle.objects.get(pk=world.cycle.pk)
    assert cycle.name == "GMSC 2024 (revised)"
    stage = cycle.stages.get(kind=Stage.Kind.STAGE_II)
    assert (stage.starts_on, stage.ends_on) == (dt.date(2024, 11, 11), dt.date(2024, 11, 22))


def test_an_open_cycle_cannot_get_a_past_deadline(world, coordinator, as_user):
    past = (timezone.now() - dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    response = as_user(coordinator).post(_edit(world), _edit_data(self_assessment_deadline=past))
    assert response.status_code == 200 and b"cannot be in the past" in response.content
    assert Cycle.objects.get(pk=world.cycle.pk).name == "GMSC 2024"


def test_a_stage_cannot_end_before_it_starts_on_edit(world, coordinator, as_user):
    response = as_user(coordinator).post(
        _edit(world), _edit_data(stage_2_ends="2024-11-01", stage_2_starts="2024-11-30")
    )
    assert response.status_code == 200 and b"cannot end before it starts" in response.content


def test_a_published_cycle_cannot_be_edited(world, coordinator, as_user):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.PUBLISHED)
    assert as_user(coordinator).post(_edit(world), _edit_data()).status_code == 302
    assert Cycle.objects.get(pk=world.cycle.pk).name == "GMSC 2024"


def test_a_draft_opens_only_with_its_stages_and_a_future_deadline(world, coordinator, as_user):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.DRAFT)
    world.cycle.stages.filter(kind=Stage.Kind.STAGE_II).delete()
    as_user(coordinator).post(_change(world, "open"))
    assert _status(world) == Cycle.Status.DRAFT
    Stage.objects.create(
        cycle=world.cycle,
        kind=Stage.Kind.STAGE_II,
        starts_on=dt.date(2024, 11, 1),
        ends_on=dt.date(2024, 11, 30),
    )
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    with pytest.raises(CycleStateError, match="deadline is in the past"):
        cycle_transition(cycle=world.cycle, action="open")
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() + dt.timedelta(days=1)
    )
    as_user(coordinator).post(_change(world, "open"))
    assert _status(world) == Cycle.Status.OPEN


# --- tokens and panel members ---------------------------------------------------------------------


def test_revoking_a_token_is_confirmed_first(admin_a, admin_b, as_user):
    token_create(user=admin_a, name="sipd-sync")
    url = reverse("accounts:token_revoke", kwargs={"hint": ApiToken.objects.get().hint})
    page = as_user(admin_a).get(url).content.decode()
    assert "sipd-sync" in page and "stops working at once" in page
    as_user(admin_a).post(url)
    assert ApiToken.objects.count() == 1
    assert as_user(admin_b).get(url).status_code == 404  # another user's token
    as_user(admin_a).post(url, {"confirm": "yes"})
    assert ApiToken.objects.count() == 0


def test_removing_a_panel_member_is_confirmed_first(world, half_marked, coordinator, as_user):
    url = reverse("panels:member_remove", kwargs={"panel": half_marked.public_id})
    PanelMember.objects.create(panel=half_marked, user=coordinator, affiliation="ministry")
    response = as_user(coordinator).post(url, {"user": "coordinator"})
    assert response.status_code == 200 and b"no longer sees or scores" in response.content
    assert PanelMember.objects.filter(user=coordinator).exists()
    as_user(coordinator).post(url, {"user": "coordinator", "confirm": "yes"})
    assert not PanelMember.objects.filter(user=coordinator).exists()


# --- the demo's 2025 cycle ------------------------------------------------------------------------


def test_the_demo_2025_cycle_has_its_stages_and_takes_a_panel(db, settings):
    from django.contrib.auth import get_user_model

    from cityeval.web.demo import load_demo
    from tests.helpers.web import client_for

    settings.LANGUAGE_CODE = "en"
    load_demo()
    cycle = Cycle.objects.get(slug="gmsc-2025")
    assert cycle.status == Cycle.Status.OPEN
    assert sorted(cycle.stages.values_list("kind", flat=True)) == ["stage_1", "stage_2"]
    coordinator = get_user_model().objects.get(username="koordinator")
    url = reverse("panels:panel_list", kwargs={"cycle": "gmsc-2025"})
    response = client_for(coordinator).post(url, {"stage": "stage_1", "name": "Panel Sumut 2025"})
    assert response.status_code == 302
    assert Panel.objects.filter(cycle=cycle, stage="stage_1", name="Panel Sumut 2025").exists()
