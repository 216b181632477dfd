"""Who may read and write the self-assessment pages (docs/style.md: every view, allowed persona
and outsiders). Members read; outsiders get 404; anonymous users are sent to log in."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cityeval.web.assessments.models import AnswerRevision, Evidence, ItemAssignment
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.evaluations.services import framework_version_builtin
from tests.web.assessments.helpers import LEVEL_ITEM, pdf_bytes

MEMBERS = ["admin_a", "opd_a", "opd_a2", "coordinator"]
OUTSIDERS = ["admin_b", "opd_b", "nobody"]


def persona(request, name):
    return None if name is None else request.getfixturevalue(name)


def assert_login_redirect(response):
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


# --- reading ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", MEMBERS)
def test_members_of_the_region_see_the_overview(request, world, as_user, urls, name):
    response = as_user(persona(request, name)).get(urls.overview)
    assert response.status_code == 200
    assert b"claimed-index" in response.content
    assert LEVEL_ITEM.encode() in response.content


@pytest.mark.parametrize("name", MEMBERS)
def test_members_of_the_region_see_an_item(request, world, as_user, urls, name):
    assert as_user(persona(request, name)).get(urls.item()).status_code == 200


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_the_overview_and_items(request, world, as_user, urls, name):
    client = as_user(persona(request, name))
    assert client.get(urls.overview).status_code == 404
    assert client.get(urls.item()).status_code == 404


def test_anonymous_is_sent_to_log_in(world, as_user, urls):
    assert_login_redirect(as_user(None).get(urls.overview))
    assert_login_redirect(as_user(None).get(urls.item()))


def test_unknown_item_or_cycle_is_404(world, as_user, admin_a, urls):
    client = as_user(admin_a)
    assert client.get(urls.item("baseline.no_such_item")).status_code == 404
    assert client.post(urls.item("baseline.no_such_item"), {"level": "3"}).status_code == 404
    assert client.get("/r/kab-deli-serdang/gmsc-1999/self-assessment/").status_code == 404


def test_an_item_of_another_group_is_404(world, as_user, admin_a):
    """gmsc-2023 weights kolaborasi for KPPN & IKN only: a REGULER region does not answer it,
    while a KPPN & IKN region does."""
    cycle = Cycle.objects.create(
        slug="gmsc-2023", name="GMSC 2023", year=2023, framework=framework_version_builtin("gmsc-2023"),
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=1),
    )  # fmt: skip
    participation = Participation.objects.create(cycle=cycle, region=world.region_a, group="REGULER")
    url = "/r/kab-deli-serdang/gmsc-2023/self-assessment/items/kolaborasi.governance/"
    assert as_user(admin_a).get(url).status_code == 404
    Participation.objects.filter(pk=participation.pk).update(group="KPPN_IKN")
    assert as_user(admin_a).get(url).status_code == 200


# --- answering -------------------------------------------------------------------------------


def test_regional_admin_answers_any_item(world, as_user, admin_a, urls):
    response = as_user(admin_a).post(urls.item(), {"level": "3", "narrative": "Perbup 12/2021"})
    assert response.status_code == 302
    assert AnswerRevision.objects.get().level == 3


def test_opd_contributor_answers_items_of_their_opd(world, as_user, opd_a, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assert as_user(opd_a).post(urls.item(), {"level": "2"}).status_code == 302
    assert AnswerRevision.objects.get().author == opd_a


def test_another_opd_gets_403_on_an_item_not_theirs(world, as_user, opd_a2, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assert as_user(opd_a2).post(urls.item(), {"level": "2"}).status_code == 403
    assert AnswerRevision.objects.count() == 0


def test_an_unassigned_item_is_the_admins(world, as_user, opd_a, urls):
    assert as_user(opd_a).post(urls.item(), {"level": "2"}).status_code == 403
    assert AnswerRevision.objects.count() == 0


def test_coordinator_reads_but_cannot_answer(world, as_user, coordinator, urls):
    client = as_user(coordinator)
    assert client.get(urls.item()).status_code == 200
    assert client.post(urls.item(), {"level": "2"}).status_code == 403
    assert AnswerRevision.objects.count() == 0


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_cannot_answer(request, world, as_user, urls, name):
    assert as_user(persona(request, name)).post(urls.item(), {"level": "2"}).status_code == 404
    assert AnswerRevision.objects.count() == 0


def test_anonymous_cannot_answer(world, as_user, urls):
    assert_login_redirect(as_user(None).post(urls.item(), {"level": "2"}))
    assert AnswerRevision.objects.count() == 0


def test_the_form_is_shown_only_to_who_may_answer(world, as_user, opd_a, opd_a2, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assert b'id="answer-form"' in as_user(opd_a).get(urls.item()).content
    assert b'id="answer-form"' not in as_user(opd_a2).get(urls.item()).content


# --- assigning and submitting ----------------------------------------------------------------


def test_regional_admin_assigns_items_to_an_opd(world, as_user, admin_a, urls):
    items = [LEVEL_ITEM, "baseline.council_meeting"]
    response = as_user(admin_a).post(urls.assign, {"items": items, "opd": "dinkes"})
    assert response.status_code == 302
    assert sorted(ItemAssignment.objects.values_list("item", "opd__slug")) == [
        ("baseline.council_meeting", "dinkes"),
        (LEVEL_ITEM, "dinkes"),
    ]


def test_reassigning_moves_the_item_and_no_choice_removes_nothing(world, as_user, admin_a, assign, urls):
    """Pressing "Assign" without choosing used to remove the selected assignments."""
    assign(LEVEL_ITEM, world.opd_health)
    client = as_user(admin_a)
    client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "disdik"})
    assert ItemAssignment.objects.get().opd == world.opd_education
    for empty in ({"opd": ""}, {}):
        response = client.post(urls.assign, {"items": [LEVEL_ITEM], **empty}, follow=True)
        assert "Nothing was assigned: choose an OPD, or “Remove the assignment”." in response.content.decode()
        assert ItemAssignment.objects.get().opd == world.opd_education


def test_removing_an_assignment_is_an_explicit_choice_confirmed_first(world, as_user, admin_a, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    client = as_user(admin_a)
    page = client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "-"})
    assert page.status_code == 200 and ItemAssignment.objects.count() == 1  # only asked
    text = page.content.decode()
    assert "Remove the assignment of 1 items?" in text and f"{LEVEL_ITEM} — Dinas Kesehatan" in text
    assert '<input type="hidden" name="opd" value="-">' in text
    assert f'<input type="hidden" name="items" value="{LEVEL_ITEM}">' in text
    response = client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "-", "confirm": "yes"})
    assert response.status_code == 302 and ItemAssignment.objects.count() == 0


@pytest.mark.parametrize("name", ["opd_a", "coordinator", "admin_b", "nobody"])
def test_others_cannot_remove_assignments_even_confirmed(request, world, as_user, assign, urls, name):
    assign(LEVEL_ITEM, world.opd_health)
    client = as_user(request.getfixturevalue(name))
    for data in ({"opd": "-"}, {"opd": "-", "confirm": "yes"}):
        assert client.post(urls.assign, {"items": [LEVEL_ITEM], **data}).status_code in (403, 404)
    assert ItemAssignment.objects.count() == 1


def test_the_assignment_control_comes_before_the_item_tables(world, as_user, admin_a, urls):
    text = as_user(admin_a).get(urls.overview).content.decode()
    assert text.index('id="assign-opd"') < text.index('class="items"')
    assert '<option value="" selected disabled>' in text and '<option value="-">' in text


def test_assigning_to_an_opd_of_another_region_or_an_unknown_item_is_refused(world, as_user, admin_a, urls):
    client = as_user(admin_a)
    response = client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "no-such-opd"}, follow=True)
    assert b"Nothing was assigned" in response.content
    response = client.post(urls.assign, {"items": ["baseline.nope"], "opd": "dinkes"}, follow=True)
    assert b"Nothing was assigned" in response.content
    assert ItemAssignment.objects.count() == 0


@pytest.mark.parametrize("name", ["opd_a", "opd_a2", "coordinator"])
def test_only_the_regional_admin_assigns_and_submits(request, world, as_user, urls, name):
    client = as_user(persona(request, name))
    assert client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "dinkes"}).status_code == 403
    assert client.post(urls.submit).status_code == 403
    assert ItemAssignment.objects.count() == 0
    world.participation_a.refresh_from_db()
    assert world.participation_a.submitted_at is None


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_cannot_assign_or_submit(request, world, as_user, urls, name):
    client = as_user(persona(request, name))
    assert client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "dinkes"}).status_code == 404
    assert client.post(urls.submit).status_code == 404
    assert ItemAssignment.objects.count() == 0


def test_anonymous_cannot_assign_or_submit(world, as_user, urls):
    assert_login_redirect(as_user(None).post(urls.assign, {"items": [LEVEL_ITEM], "opd": "dinkes"}))
    assert_login_redirect(as_user(None).post(urls.submit))
    world.participation_a.refresh_from_db()
    assert world.participation_a.submitted_at is None


def test_regional_admin_submits(world, as_user, admin_a, urls):
    response = as_user(admin_a).post(urls.submit, {"confirm": "yes"}, follow=True)
    world.participation_a.refresh_from_db()
    assert world.participation_a.submitted_at is not None
    assert world.participation_a.submitted_by == admin_a
    assert b"answers are read-only" in response.content


# --- evidence --------------------------------------------------------------------------------


def upload(name="report.pdf", data=None):
    return {
        "kind": "file",
        "file": SimpleUploadedFile(name, data or pdf_bytes(), content_type="application/pdf"),
    }


def test_opd_contributor_uploads_evidence_for_their_item(world, as_user, opd_a, assign, urls):
    assign(LEVEL_ITEM, world.opd_health)
    assert as_user(opd_a).post(urls.evidence(), upload()).status_code == 302
    assert Evidence.objects.get().uploaded_by == opd_a


@pytest.mark.parametrize("name", ["opd_a2", "coordinator"])
def test_members_who_may_not_answer_get_403_on_upload(request, world, as_user, assign, urls, name):
    assign(LEVEL_ITEM, world.opd_health)
    client = as_user(persona(request, name))
    assert client.post(urls.evidence(), upload()).status_code == 403
    assert client.post(urls.evidence(), {"kind": "link", "url": "https://example.org"}).status_code == 403
    assert Evidence.objects.count() == 0


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_upload(request, world, as_user, urls, name):
    assert as_user(persona(request, name)).post(urls.evidence(), upload()).status_code == 404
    assert Evidence.objects.count() == 0


def test_anonymous_cannot_upload(world, as_user, urls):
    assert_login_redirect(as_user(None).post(urls.evidence(), upload()))
    assert Evidence.objects.count() == 0


def test_evidence_add_takes_only_post(world, as_user, admin_a, urls):
    """Opened directly, the upload address leads back to the item page, not a blank 405."""
    response = as_user(admin_a).get(urls.evidence())
    assert response.status_code == 302 and response["Location"] == urls.item()
    assert Evidence.objects.count() == 0


@pytest.fixture
def stored_evidence(world, as_user, admin_a, urls):
    as_user(admin_a).post(urls.evidence(), upload("Laporan Dinas.pdf"))
    return Evidence.objects.get()


@pytest.mark.parametrize("name", MEMBERS)
def test_members_download_evidence_as_an_attachment(request, stored_evidence, as_user, name):
    response = as_user(persona(request, name)).get(f"/evidence/{stored_evidence.public_id}/")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == pdf_bytes()
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment")
    assert "Laporan Dinas.pdf" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_download(request, stored_evidence, as_user, name):
    assert as_user(persona(request, name)).get(f"/evidence/{stored_evidence.public_id}/").status_code == 404


def test_anonymous_cannot_download(stored_evidence, as_user):
    assert_login_redirect(as_user(None).get(f"/evidence/{stored_evidence.public_id}/"))


def test_unknown_evidence_is_404(world, as_user, admin_a):
    assert as_user(admin_a).get("/evidence/00000000-0000-0000-0000-000000000000/").status_code == 404
