"""The evidence top-up: after submission or the deadline, the region may still add evidence
(a file or a link, never an answer) to the items a panel marked "needs evidence", until the
interview's top-up deadline, while the cycle is open. Panel members may download the
region's evidence files."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cityeval.web.accounts.models import Role
from cityeval.web.assessments.models import AnswerRevision, Evidence
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import EvidenceRequest, Interview, Panel, PanelMember, PanelRegion
from tests.helpers.web import make_user
from tests.web.assessments.helpers import LEVEL_ITEM, pdf_bytes

OTHER_ITEM = "baseline.council_meeting"
LINK = "https://deliserdangkab.go.id/notulen-dewan.pdf"


@pytest.fixture
def panel_member(world):
    return make_user("panel_member", Role.ASSESSOR)


@pytest.fixture
def panel_region(world, panel_member) -> PanelRegion:
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_2", name="Panel 1")
    PanelMember.objects.create(panel=panel, user=panel_member, affiliation="university", is_chair=True)
    return PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_2")


@pytest.fixture
def topup(world, panel_region, panel_member):
    """Region A submitted; the panel asked for evidence on LEVEL_ITEM; the window is open for
    another day. ``topup(until=…)`` moves the deadline."""
    Participation.objects.filter(pk=world.participation_a.pk).update(submitted_at=timezone.now())
    EvidenceRequest.objects.create(panel_region=panel_region, item=LEVEL_ITEM, requested_by=panel_member)
    interview = Interview.objects.create(
        panel_region=panel_region,
        scheduled_at=timezone.now() - dt.timedelta(hours=2),
        evidence_topup_until=timezone.now() + dt.timedelta(days=1),
    )

    def _move(until):
        Interview.objects.filter(pk=interview.pk).update(evidence_topup_until=until)

    return _move


def add_link(client, urls, item=LEVEL_ITEM):
    return client.post(urls.evidence(item), {"kind": "link", "url": LINK})


def add_file(client, urls, item=LEVEL_ITEM):
    upload = SimpleUploadedFile("notulen.pdf", pdf_bytes(), content_type="application/pdf")
    return client.post(urls.evidence(item), {"kind": "file", "file": upload})


def test_the_admin_adds_a_link_and_a_file_to_a_requested_item(world, as_user, admin_a, topup, urls):
    client = as_user(admin_a)
    assert add_link(client, urls).status_code == 302
    assert add_file(client, urls).status_code == 302
    assert sorted(Evidence.objects.values_list("item", "url", "original_name")) == [
        (LEVEL_ITEM, "", "notulen.pdf"),
        (LEVEL_ITEM, LINK, ""),
    ]


def test_the_top_up_also_opens_after_the_deadline(world, as_user, admin_a, topup, urls):
    Participation.objects.filter(pk=world.participation_a.pk).update(submitted_at=None)
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(days=1)
    )
    assert add_link(as_user(admin_a), urls).status_code == 302
    assert Evidence.objects.count() == 1


def test_the_assigned_opd_adds_evidence_and_another_opd_does_not(
    world, as_user, opd_a, opd_a2, assign, topup, urls
):
    assign(LEVEL_ITEM, world.opd_health)
    assert add_link(as_user(opd_a2), urls).status_code == 403
    assert add_link(as_user(opd_a), urls).status_code == 302
    assert Evidence.objects.get().uploaded_by == opd_a


def test_an_item_without_a_request_stays_closed(world, as_user, admin_a, topup, urls):
    response = add_link(as_user(admin_a), urls, item=OTHER_ITEM)
    assert response.status_code == 403 and b"Submitted on" in response.content
    assert Evidence.objects.count() == 0


@pytest.mark.parametrize("until", [timezone.now() - dt.timedelta(minutes=1), None])
def test_a_past_or_missing_deadline_closes_the_top_up(world, as_user, admin_a, topup, urls, until):
    topup(until)
    assert add_link(as_user(admin_a), urls).status_code == 403
    assert add_file(as_user(admin_a), urls).status_code == 403
    assert Evidence.objects.count() == 0


def test_a_closed_cycle_closes_the_top_up(world, as_user, admin_a, topup, urls):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    assert add_link(as_user(admin_a), urls).status_code == 403
    assert Evidence.objects.count() == 0


def test_answers_stay_read_only_during_the_top_up(world, as_user, admin_a, topup, urls):
    assert as_user(admin_a).post(urls.item(), {"level": "4"}).status_code == 403
    assert AnswerRevision.objects.count() == 0


def test_outsiders_still_get_404(world, as_user, admin_b, panel_member, topup, urls):
    assert add_link(as_user(admin_b), urls).status_code == 404
    assert add_link(as_user(panel_member), urls).status_code == 404  # assessors read, never add
    assert Evidence.objects.count() == 0


def test_the_item_page_and_overview_show_the_window(world, as_user, admin_a, topup, urls):
    client = as_user(admin_a)
    item = client.get(urls.item()).content
    assert b'id="topup"' in item and b'id="link-form"' in item and b'id="answer-form"' not in item
    other = client.get(urls.item(OTHER_ITEM)).content
    assert b'id="topup"' not in other and b'id="link-form"' not in other
    overview = client.get(urls.overview).content.decode()
    assert 'id="topup"' in overview and f"/items/{LEVEL_ITEM}/" in overview


# --- evidence downloads by the panel ------------------------------------------------------------------


@pytest.fixture
def stored_file(world, as_user, admin_a, urls) -> Evidence:
    upload = SimpleUploadedFile("sk.pdf", pdf_bytes(), content_type="application/pdf")
    as_user(admin_a).post(urls.evidence(), {"kind": "file", "file": upload})
    return Evidence.objects.get()


def test_a_panel_member_downloads_the_regions_evidence(
    world, as_user, panel_member, panel_region, stored_file
):
    response = as_user(panel_member).get(f"/evidence/{stored_file.public_id}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()


def test_assessors_off_the_panel_do_not(world, as_user, assessor, panel_member, panel_region, stored_file):
    assert as_user(assessor).get(f"/evidence/{stored_file.public_id}/").status_code == 404
    medan_panel = Panel.objects.create(cycle=world.cycle, stage="stage_1", name="Medan")
    PanelMember.objects.create(panel=medan_panel, user=assessor, affiliation="ministry")
    PanelRegion.objects.create(panel=medan_panel, participation=world.participation_b, stage="stage_1")
    assert as_user(assessor).get(f"/evidence/{stored_file.public_id}/").status_code == 404


def test_a_member_without_the_assessor_role_any_more_does_not(
    world, as_user, panel_member, panel_region, stored_file
):
    panel_member.memberships.all().delete()
    assert as_user(panel_member).get(f"/evidence/{stored_file.public_id}/").status_code == 404
