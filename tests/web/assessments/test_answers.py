"""Answers: validation by item kind, append-only revisions with history, read-only states."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from cityeval.web.assessments.models import AnswerRevision, Evidence, ItemAssignment
from cityeval.web.evaluations.models import Cycle
from tests.web.assessments.helpers import COUNT_ITEM, LEVEL_ITEM, SURVEY_ITEM, THRESHOLD_ITEM, pdf_bytes


@pytest.fixture
def client_a(as_user, admin_a):
    return as_user(admin_a)


def test_two_answers_make_two_revisions_and_the_latest_is_shown(
    world, client_a, as_user, opd_a, assign, urls
):
    client_a.post(urls.item(), {"level": "2", "narrative": "first draft"})
    assign(LEVEL_ITEM, world.opd_health)
    as_user(opd_a).post(urls.item(), {"level": "3", "narrative": "with the decree"})
    assert AnswerRevision.objects.count() == 2
    page = client_a.get(urls.item()).content.decode()
    current = page.split('id="current-answer"')[1].split("</div>\n</div>")[0]
    assert ">3.00<" in current and "opd_a" in current
    history = page.split('id="history"')[1]
    assert history.index("with the decree") < history.index("first draft")  # newest first
    assert "admin_a" in history and "opd_a" in history
    assert 'name="level" value="3.0"' in page  # the form starts from the current answer
    overview = client_a.get(urls.overview).content.decode()
    row = overview.split(f'id="item-{LEVEL_ITEM}"')[1].split("</tr>")[0]
    assert ">3.00<" in row


def test_a_revision_is_never_updated(world, client_a, urls):
    client_a.post(urls.item(), {"level": "2"})
    first = AnswerRevision.objects.get()
    client_a.post(urls.item(), {"level": "4"})
    first.refresh_from_db()
    assert first.level == 2
    assert list(AnswerRevision.objects.order_by("id").values_list("level", flat=True)) == [2, 4]


@pytest.mark.parametrize("level", ["4.5", "-1", "99"])
def test_a_level_outside_the_scale_is_refused(world, client_a, urls, level):
    response = client_a.post(urls.item(), {"level": level})
    assert response.status_code == 200
    assert b"The level must be between 0 and 4." in response.content
    assert AnswerRevision.objects.count() == 0


def test_a_level_item_needs_a_level(world, client_a, urls):
    response = client_a.post(urls.item(), {"level": "", "narrative": "no level"})
    assert b"This field is required." in response.content
    assert AnswerRevision.objects.count() == 0


def test_a_survey_item_takes_a_claimed_level(world, client_a, urls):
    assert client_a.post(urls.item(SURVEY_ITEM), {"level": "3.2"}).status_code == 302
    assert AnswerRevision.objects.get().level == 3.2


def test_not_a_number_is_refused(world, client_a, urls):
    response = client_a.post(urls.item(), {"level": "three"})
    assert b"Enter a number." in response.content
    assert AnswerRevision.objects.count() == 0


def test_a_quantity_with_thresholds_derives_its_level(world, client_a, urls):
    response = client_a.post(
        urls.item(THRESHOLD_ITEM), {"raw_value": "65", "narrative": "13 of 20"}, follow=True
    )
    revision = AnswerRevision.objects.get()
    assert (revision.level, revision.raw_value) == (None, 65)
    assert b"maps to level 3" in response.content


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("-5", b"The value cannot be negative."),
        ("120", b"A percentage cannot be above 100."),
        ("", b"required"),
    ],
)
def test_a_bad_percentage_is_refused(world, client_a, urls, value, message):
    response = client_a.post(urls.item(THRESHOLD_ITEM), {"raw_value": value})
    assert message in response.content
    assert AnswerRevision.objects.count() == 0


def test_a_count_without_thresholds_takes_a_value_a_level_or_both(world, client_a, urls):
    assert client_a.post(urls.item(COUNT_ITEM), {"raw_value": "12"}).status_code == 302
    assert client_a.post(urls.item(COUNT_ITEM), {"raw_value": "12", "level": "3"}).status_code == 302
    response = client_a.post(urls.item(COUNT_ITEM), {"raw_value": "", "level": ""})
    assert b"Give a value, a level, or both." in response.content
    assert AnswerRevision.objects.count() == 2


def test_a_count_may_exceed_100(world, client_a, urls):
    assert client_a.post(urls.item(COUNT_ITEM), {"raw_value": "250"}).status_code == 302


def test_an_overlong_narrative_is_refused(world, client_a, urls):
    response = client_a.post(urls.item(), {"level": "3", "narrative": "x" * 10_001})
    assert b"Ensure this value has at most 10000 characters" in response.content
    assert AnswerRevision.objects.count() == 0


# --- read-only once submitted, past the deadline, or the cycle not open -----------------------


def _all_writes(client, urls):
    return [
        client.post(urls.item(), {"level": "3"}),
        client.post(urls.evidence(), {"kind": "file", "file": SimpleUploadedFile("a.pdf", pdf_bytes())}),
        client.post(urls.evidence(), {"kind": "link", "url": "https://example.org/sk.pdf"}),
        client.post(urls.assign, {"items": [LEVEL_ITEM], "opd": "dinkes"}),
        client.post(urls.submit),
    ]


def _counts():
    return AnswerRevision.objects.count(), Evidence.objects.count(), ItemAssignment.objects.count()


def test_after_submission_every_write_is_refused(world, client_a, urls):
    client_a.post(urls.item(), {"level": "2"})
    client_a.post(urls.submit, {"confirm": "yes"})
    before = _counts()
    submitted_at = type(world.participation_a).objects.get(pk=world.participation_a.pk).submitted_at
    for response in _all_writes(client_a, urls):
        assert response.status_code == 403
        assert b"Submitted on" in response.content and b"answers are read-only" in response.content
    assert _counts() == before
    world.participation_a.refresh_from_db()
    assert world.participation_a.submitted_at == submitted_at


def test_after_the_deadline_every_write_is_refused(world, client_a, urls):
    Cycle.objects.filter(pk=world.cycle.pk).update(
        self_assessment_deadline=timezone.now() - dt.timedelta(hours=1)
    )
    for response in _all_writes(client_a, urls):
        assert response.status_code == 403
        assert b"The self-assessment deadline passed on" in response.content
    assert _counts() == (0, 0, 0)
    world.participation_a.refresh_from_db()
    assert world.participation_a.submitted_at is None


def test_a_cycle_that_is_not_open_takes_no_writes(world, client_a, urls):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=Cycle.Status.CLOSED)
    for response in _all_writes(client_a, urls):
        assert response.status_code == 403
        assert b"The cycle is not open for self-assessment" in response.content
    assert _counts() == (0, 0, 0)


def test_the_read_only_state_is_shown_and_the_forms_hidden(world, client_a, urls):
    client_a.post(urls.submit, {"confirm": "yes"})
    overview = client_a.get(urls.overview).content
    item = client_a.get(urls.item()).content
    for page in (overview, item):
        assert b'id="read-only"' in page and b"answers are read-only" in page
    assert b'id="submit-form"' not in overview and b'id="assign-form"' not in overview
    assert b'id="answer-form"' not in item and b'id="upload-form"' not in item
