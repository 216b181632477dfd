"""A region's scoring page: the self-assessment beside the score form, proposals, append-only
revisions, the blind rule, submission, evidence requests, feedback and the interview.

Members and the coordinator read; an assessor not on the panel and every regional user get
404; anonymous users log in. Writes stop with 403 and the reason when the cycle is not open."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from cityeval.web.assessments.models import AnswerRevision, Evidence
from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import EvidenceRequest, Feedback, Interview, ItemScore, ScoreSubmission
from tests.helpers.panels import LEVEL_ITEM, SURVEY_ITEM, THRESHOLD_ITEM

MEMBERS = ["chair", "assessor2", "assessor3"]
OUTSIDERS = ["assessor", "admin_a", "opd_a", "admin_b", "nobody"]
WRITES = ["scores_save", "submit", "evidence_request", "feedback", "interview", "consolidation"]


def persona(request, name):
    return request.getfixturevalue(name)


def set_status(world, status):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=status)


def save(client, urls, scores: dict[str, str], notes: dict[str, str] | None = None):
    data = {f"score-{k}": v for k, v in scores.items()} | {f"note-{k}": v for k, v in (notes or {}).items()}
    return client.post(urls.region("scores_save"), data)


# --- access ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*MEMBERS, "coordinator"])
def test_members_and_the_coordinator_see_the_page(request, world, as_user, panel_region, urls, name):
    page = as_user(persona(request, name)).get(urls.region())
    assert page.status_code == 200
    assert LEVEL_ITEM.encode() in page.content and b"Kab. Deli Serdang" in page.content


@pytest.mark.parametrize("name", OUTSIDERS)
def test_outsiders_get_404_on_every_region_page(request, world, as_user, panel_region, urls, name):
    client = as_user(persona(request, name))
    assert client.get(urls.region()).status_code == 404
    assert client.get(urls.region("consolidation")).status_code == 404
    for view in WRITES:
        assert (
            client.post(urls.region(view), {"item": LEVEL_ITEM, f"score-{LEVEL_ITEM}": "3"}).status_code
            == 404
        )
    assert ItemScore.objects.count() == 0 and EvidenceRequest.objects.count() == 0


def test_anonymous_is_sent_to_log_in(world, as_user, panel_region, urls):
    for view in ["region", *WRITES]:
        response = (
            as_user(None).post(urls.region(view)) if view != "region" else as_user(None).get(urls.region())
        )
        assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def test_a_region_not_on_a_panel_or_an_unknown_stage_is_404(
    world, as_user, chair, coordinator, panel_region, urls
):
    assert as_user(chair).get(urls.region(region="kota-medan")).status_code == 404
    assert as_user(coordinator).get(urls.region(region="kota-medan")).status_code == 404
    assert as_user(chair).get("/panels/cycles/gmsc-2024/stage_1/kab-deli-serdang/").status_code == 404
    assert as_user(chair).get("/panels/cycles/gmsc-2024/stage_9/kab-deli-serdang/").status_code == 404


# --- the self-assessment beside the scores -------------------------------------------------------


def test_the_page_shows_the_self_assessment_evidence_and_proposals(
    world, as_user, chair, admin_a, panel_region, urls, monkeypatch
):
    AnswerRevision.objects.create(
        participation=world.participation_a,
        item=LEVEL_ITEM,
        level=3,
        narrative="Perbup 12/2021",
        author=admin_a,
    )
    AnswerRevision.objects.create(
        participation=world.participation_a, item=THRESHOLD_ITEM, raw_value=65, author=admin_a
    )
    Evidence.objects.create(
        participation=world.participation_a,
        item=LEVEL_ITEM,
        url="https://example.org/perbup.pdf",
        uploaded_by=admin_a,
    )
    monkeypatch.setattr(
        "cityeval.web.panels.scoring_cache.proposed_levels", lambda p, **_: {SURVEY_ITEM: 2.5}
    )
    content = as_user(chair).get(urls.region()).content.decode()
    row = content[content.index(f'id="item-{LEVEL_ITEM}"') :]
    assert "Perbup 12/2021" in row[:3000] and "https://example.org/perbup.pdf" in row[:3000]
    threshold_row = content[content.index(f'id="item-{THRESHOLD_ITEM}"') :][:3000]
    assert '<td class="num">3.00</td>' in threshold_row  # 65 % → level 3 by the 60 % threshold
    survey_row = content[content.index(f'id="item-{SURVEY_ITEM}"') :][:3000]
    assert '<td class="num">2.50</td>' in survey_row  # the survey mean


# --- scores ---------------------------------------------------------------------------------------------


def test_a_member_records_scores_as_revisions(world, as_user, chair, panel_region, urls):
    client = as_user(chair)
    assert (
        save(client, urls, {LEVEL_ITEM: "3", THRESHOLD_ITEM: "2.5"}, {LEVEL_ITEM: "SK exists"}).status_code
        == 302
    )
    assert sorted(ItemScore.objects.values_list("item", "score", "note")) == [
        (LEVEL_ITEM, 3.0, "SK exists"),
        (THRESHOLD_ITEM, 2.5, ""),
    ]
    save(client, urls, {LEVEL_ITEM: "3", THRESHOLD_ITEM: "2.5"}, {LEVEL_ITEM: "SK exists"})
    assert ItemScore.objects.count() == 2  # nothing changed, nothing added
    save(client, urls, {LEVEL_ITEM: "4", THRESHOLD_ITEM: "2.5"}, {LEVEL_ITEM: "SK and minutes"})
    rows = list(ItemScore.objects.filter(item=LEVEL_ITEM).order_by("id").values_list("score", "note"))
    assert rows == [(3.0, "SK exists"), (4.0, "SK and minutes")]  # the first revision is kept


@pytest.mark.parametrize("value", ["4.5", "-1", "abc", "nan"])
def test_a_score_outside_the_scale_saves_nothing(world, as_user, chair, panel_region, urls, value):
    response = save(as_user(chair), urls, {LEVEL_ITEM: "3", THRESHOLD_ITEM: value})
    assert response.status_code == 200
    assert b"Nothing was saved" in response.content
    assert ItemScore.objects.count() == 0


def test_a_note_needs_a_score(world, as_user, chair, panel_region, urls):
    response = save(as_user(chair), urls, {}, {LEVEL_ITEM: "only a note"})
    assert b"Give a score with the note." in response.content
    assert ItemScore.objects.count() == 0


def test_the_coordinator_reads_but_does_not_score(world, as_user, coordinator, panel_region, urls):
    client = as_user(coordinator)
    assert save(client, urls, {LEVEL_ITEM: "3"}).status_code == 403
    assert client.post(urls.region("submit")).status_code == 403
    assert client.post(urls.region("feedback"), {"strengths": "x"}).status_code == 403
    assert client.post(urls.region("evidence_request"), {"item": LEVEL_ITEM}).status_code == 403
    assert ItemScore.objects.count() == Feedback.objects.count() == EvidenceRequest.objects.count() == 0


# --- the blind rule ---------------------------------------------------------------------------------


def test_a_member_sees_the_others_scores_only_after_submitting(
    world, as_user, chair, assessor2, panel_region, score_all, urls
):
    score_all(chair, 3.0)
    ItemScore.objects.create(
        panel_region=panel_region, item=LEVEL_ITEM, assessor=chair, score=1.75, note="chair-note-xyz"
    )
    ItemScore.objects.create(panel_region=panel_region, item=LEVEL_ITEM, assessor=assessor2, score=3.25)
    client = as_user(assessor2)
    before = client.get(urls.region()).content.decode()
    assert "chair-note-xyz" not in before and "1.75" not in before
    assert "3.25" in before  # their own score
    assert 'id="blind"' in before

    ItemScore.objects.bulk_create(
        ItemScore(panel_region=panel_region, item=code, assessor=assessor2, score=2)
        for code in {s.item for s in ItemScore.objects.filter(assessor=chair)} - {LEVEL_ITEM}
    )
    assert client.post(urls.region("submit")).status_code == 302
    assert ScoreSubmission.objects.filter(assessor=assessor2).exists()
    after = client.get(urls.region()).content.decode()
    assert "chair-note-xyz" in after and "chair: <strong>1.75</strong>" in after


def test_submitting_needs_every_item_scored(world, as_user, assessor2, panel_region, urls):
    client = as_user(assessor2)
    save(client, urls, {LEVEL_ITEM: "3"})
    response = client.post(urls.region("submit"), follow=True)
    assert b"Score every item before submitting: 110 items have no score yet" in response.content
    assert ScoreSubmission.objects.count() == 0


def test_a_submitted_member_cannot_overwrite_a_first_mark(world, as_user, assessor2, submitted, urls):
    """The bug: after submitting (and seeing the others' marks) a member could overwrite their
    own first marks. Now refused with the reason; nothing saved."""
    submitted(assessor2, 2.0)
    response = save(as_user(assessor2), urls, {LEVEL_ITEM: "3"})
    assert response.status_code == 403 and b"first marks are submitted and final" in response.content
    assert list(ItemScore.objects.filter(item=LEVEL_ITEM).values_list("score", flat=True)) == [2.0]
    page = as_user(assessor2).get(urls.region()).content
    assert b'id="scores-form"' not in page and b"Revise after discussion" in page


def test_feedback_of_others_is_blind_too(world, as_user, chair, assessor2, panel_region, submitted, urls):
    Feedback.objects.create(panel_region=panel_region, assessor=chair, strengths="chair-strength-xyz")
    client = as_user(assessor2)
    assert b"chair-strength-xyz" not in client.get(urls.region()).content
    submitted(assessor2)
    assert b"chair-strength-xyz" in client.get(urls.region()).content


# --- evidence requests, feedback, interview -------------------------------------------------------------


def test_any_member_marks_an_item_as_needing_evidence_and_unmarks_it(
    world, as_user, assessor3, panel_region, urls
):
    client = as_user(assessor3)
    assert client.post(urls.region("evidence_request"), {"item": LEVEL_ITEM}).status_code == 302
    request = EvidenceRequest.objects.get()
    assert (request.item, request.requested_by, request.panel_region) == (LEVEL_ITEM, assessor3, panel_region)
    assert b"needs evidence</span>" in client.get(urls.region()).content
    client.post(urls.region("evidence_request"), {"item": LEVEL_ITEM})
    assert EvidenceRequest.objects.count() == 0
    assert client.post(urls.region("evidence_request"), {"item": "baseline.nope"}).status_code == 404


def test_feedback_is_appended(world, as_user, assessor2, panel_region, urls):
    client = as_user(assessor2)
    client.post(
        urls.region("feedback"), {"strengths": "Active council", "weaknesses": "", "recommendations": ""}
    )
    client.post(
        urls.region("feedback"), {"strengths": "Active council", "recommendations": "Budget the forum"}
    )
    assert list(Feedback.objects.order_by("id").values_list("strengths", "recommendations")) == [
        ("Active council", ""),
        ("Active council", "Budget the forum"),
    ]
    response = client.post(urls.region("feedback"), {"strengths": " "})
    assert b"Write at least one" in response.content
    assert Feedback.objects.count() == 2


def interview_data(**extra):
    when = timezone.localtime() + dt.timedelta(days=2)
    return {
        "scheduled_at": when.strftime("%Y-%m-%dT%H:%M"),
        "link": "https://meet.example.org/deli-serdang",
        "attendees": "Bupati, Diskominfo, Bappeda",
        "notes": "Quick wins discussed",
        "evidence_topup_until": (when + dt.timedelta(days=1)).strftime("%Y-%m-%dT%H:%M"),
    } | extra


@pytest.mark.parametrize("name", ["chair", "coordinator"])
def test_the_chair_and_the_coordinator_record_the_interview(
    request, world, as_user, panel_region, urls, name
):
    client = as_user(persona(request, name))
    assert client.post(urls.region("interview"), interview_data()).status_code == 302
    interview = Interview.objects.get()
    assert interview.link == "https://meet.example.org/deli-serdang"
    assert interview.evidence_topup_until - interview.scheduled_at == dt.timedelta(days=1)
    client.post(urls.region("interview"), interview_data(notes="Second session"))
    assert Interview.objects.get().notes == "Second session"


def test_the_interview_form_shows_the_recorded_time(world, as_user, chair, panel_region, urls):
    data = interview_data()
    as_user(chair).post(urls.region("interview"), data)
    content = as_user(chair).get(urls.region()).content.decode()
    assert f'value="{data["scheduled_at"]}"' in content  # datetime-local wants 2024-11-13T10:00


def test_other_members_read_the_interview_but_do_not_edit_it(
    world, as_user, chair, assessor2, panel_region, urls
):
    as_user(chair).post(urls.region("interview"), interview_data())
    client = as_user(assessor2)
    page = client.get(urls.region()).content
    assert b"Quick wins discussed" in page and b'id="interview-form"' not in page
    assert client.post(urls.region("interview"), interview_data(notes="changed")).status_code == 403
    assert Interview.objects.get().notes == "Quick wins discussed"


def test_the_top_up_deadline_cannot_precede_the_interview(world, as_user, chair, panel_region, urls):
    data = interview_data()
    data["evidence_topup_until"] = "2020-01-01T10:00"
    response = as_user(chair).post(urls.region("interview"), data)
    assert b"cannot be before the interview" in response.content
    assert Interview.objects.count() == 0


# --- a cycle that does not take scores ---------------------------------------------------------------------


@pytest.mark.parametrize("status", [Cycle.Status.CLOSED, Cycle.Status.PUBLISHED])
def test_writes_after_the_cycle_closes_are_refused_with_the_reason(
    world, as_user, chair, panel_region, submitted, urls, status
):
    submitted(chair)
    before = ItemScore.objects.count()
    set_status(world, status)
    client = as_user(chair)
    writes = [
        ("scores_save", {f"score-{LEVEL_ITEM}": "1"}),
        ("submit", {}),
        ("evidence_request", {"item": LEVEL_ITEM}),
        ("feedback", {"strengths": "late"}),
        ("interview", interview_data()),
        ("consolidation", {"item": LEVEL_ITEM, "score": "2", "reason": "late"}),
    ]
    for view, data in writes:
        response = client.post(urls.region(view), data)
        assert response.status_code == 403, view
        assert b"can no longer change" in response.content
    assert ItemScore.objects.count() == before
    assert EvidenceRequest.objects.count() == Feedback.objects.count() == Interview.objects.count() == 0
    page = client.get(urls.region()).content
    assert b'id="read-only"' in page and b'id="scores-form"' not in page


def test_a_draft_cycle_takes_no_scores_yet(world, as_user, chair, panel_region, urls):
    set_status(world, Cycle.Status.DRAFT)
    response = save(as_user(chair), urls, {LEVEL_ITEM: "3"})
    assert response.status_code == 403 and b"not open yet" in response.content
    assert ItemScore.objects.count() == 0
