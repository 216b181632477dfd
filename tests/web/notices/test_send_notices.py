"""``cityeval manage send_notices``: reminders 7 days and 1 day before a deadline, only to the
people with unanswered (or unscored) items; every mail once however often it runs; the daily
digest once a day; a failed mail retried."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.assessments.services import item_assign
from cityeval.web.evaluations.models import Stage
from cityeval.web.notices.models import Kind, Notice, NoticePreference
from cityeval.web.notices.services import notice_send
from cityeval.web.panels.models import ItemScore, Panel, PanelMember, PanelRegion, ScoreSubmission

pytestmark = pytest.mark.django_db
JAKARTA = dt.timezone(dt.timedelta(hours=7))


def run(now: dt.datetime, *args: str) -> str:
    out = io.StringIO()
    call_command("send_notices", "--now", now.isoformat(), *args, stdout=out)
    return out.getvalue()


def _codes(world):
    return [item.code for _c, item in world.cycle.framework.framework.items_for("REGULER")]


@pytest.fixture
def region_state(world, mailed, admin_a, admin_b):
    """A: one item assigned to the health office, two to the education office, both
    answered; nothing else answered. B: every item answered (no reminder for B)."""
    codes = _codes(world)
    item_assign(participation=world.participation_a, items=codes[:1], opd=world.opd_health, user=admin_a)
    item_assign(participation=world.participation_a, items=codes[1:3], opd=world.opd_education, user=admin_a)
    answers = [
        AnswerRevision(participation=world.participation_a, item=c, level=2, author=admin_a)
        for c in codes[1:3]
    ]
    answers += [
        AnswerRevision(participation=world.participation_b, item=c, level=2, author=admin_b) for c in codes
    ]
    AnswerRevision.objects.bulk_create(answers)
    Notice.objects.all().delete()  # the assignments' own notices are not what these tests count
    mail.outbox.clear()
    return codes


def _reminded():
    return sorted(
        Notice.objects.filter(kind=Kind.SELF_ASSESSMENT_REMINDER).values_list(
            "user__username", "params__days"
        )
    )


def test_reminders_go_7_days_and_1_day_before_and_only_to_people_with_unanswered_items(
    deadline, region_state
):
    n = len(region_state)
    run(deadline - dt.timedelta(days=8))
    assert _reminded() == []  # too early
    output = run(deadline - dt.timedelta(days=7))
    # A's admin (the region has n − 2 unanswered items) and the health office (its one item);
    # not the education office (its items are answered), nobody in B (all answered).
    assert _reminded() == [("admin_a", 7), ("opd_a", 7)]
    assert "sent: 2 self-assessment reminders" in output
    counts = dict(Notice.objects.values_list("user__username", "params__count"))
    assert counts == {"admin_a": n - 2, "opd_a": 1}
    assert sorted(m.to[0] for m in mail.outbox) == ["admin_a@example.go.id", "opd_a@example.go.id"]
    run(deadline - dt.timedelta(days=3))
    assert len(_reminded()) == 2  # nothing between the two reminders
    run(deadline - dt.timedelta(hours=23))
    assert _reminded() == [("admin_a", 1), ("admin_a", 7), ("opd_a", 1), ("opd_a", 7)]
    run(deadline + dt.timedelta(hours=1))
    assert len(_reminded()) == 4 and len(mail.outbox) == 4  # nothing after the deadline


def test_running_twice_sends_each_mail_once(deadline, region_state):
    moment = deadline - dt.timedelta(days=6)
    first = run(moment)
    second = run(moment)
    assert "sent: 2 self-assessment reminders, 0 scores-due reminders, 2 e-mails" in first
    assert "sent: 0 self-assessment reminders, 0 scores-due reminders, 0 e-mails" in second
    assert len(mail.outbox) == 2 and Notice.objects.count() == 2
    # The reminder is in Indonesian, with a plain-text and an HTML part.
    message = mail.outbox[0]
    assert message.subject.startswith("Batas waktu penilaian mandiri: ")
    assert message.alternatives[0][1] == "text/html"


def test_a_submitted_self_assessment_gets_no_reminder(world, deadline, region_state):
    world.participation_a.submitted_at = timezone.now()
    world.participation_a.save(update_fields=["submitted_at"])
    run(deadline - dt.timedelta(days=6))
    assert _reminded() == []


def test_dry_run_counts_and_changes_nothing(deadline, region_state):
    output = run(deadline - dt.timedelta(days=6), "--dry-run")
    assert "would send: 2 self-assessment reminders" in output
    assert Notice.objects.count() == 0 and mail.outbox == []


def test_a_failed_mail_is_retried_once_by_the_next_run(deadline, region_state, monkeypatch):
    import cityeval.web.notices.services as services

    class Broken:
        def send_messages(self, messages):
            raise OSError("the mail server is down")

    real = services.get_connection
    monkeypatch.setattr(services, "get_connection", lambda: Broken())
    run(deadline - dt.timedelta(days=6))
    assert mail.outbox == [] and Notice.objects.filter(emailed_at=None).count() == 2
    monkeypatch.setattr(services, "get_connection", real)
    assert "2 e-mails" in run(deadline - dt.timedelta(days=6))
    assert "0 e-mails" in run(deadline - dt.timedelta(days=5))
    assert len(mail.outbox) == 2


def test_the_daily_digest_groups_a_persons_notices_once_a_day(deadline, region_state, admin_a):
    NoticePreference.objects.create(user=admin_a, delivery=NoticePreference.Delivery.DAILY)
    day = timezone.localtime(deadline - dt.timedelta(days=6), JAKARTA).date()
    run(dt.datetime.combine(day, dt.time(5, 0), JAKARTA))
    # The reminders are made; the health office's is mailed, the admin's waits for 07:00.
    assert [m.to[0] for m in mail.outbox] == ["opd_a@example.go.id"]
    _published(admin_a)
    output = run(dt.datetime.combine(day, dt.time(7, 30), JAKARTA))
    assert "1 daily digests" in output
    digest = mail.outbox[-1]
    assert digest.to == ["admin_a@example.go.id"]
    assert digest.subject == "2 notifikasi baru · cityeval"
    assert "Batas waktu penilaian mandiri" in digest.body and "Hasil dipublikasikan: GMSC 2023" in digest.body
    assert "http://127.0.0.1:8000/notices/" in digest.body
    assert digest.alternatives[0][1] == "text/html"
    assert "0 daily digests" in run(dt.datetime.combine(day, dt.time(9, 0), JAKARTA))
    next_day = day + dt.timedelta(days=1)
    assert "0 daily digests" in run(dt.datetime.combine(next_day, dt.time(7, 30), JAKARTA))  # nothing new
    _published(admin_a, year=2022)
    assert "1 daily digests" in run(dt.datetime.combine(next_day, dt.time(8, 0), JAKARTA))
    assert mail.outbox[-1].subject == "1 notifikasi baru · cityeval"
    assert len(mail.outbox) == 3


def test_the_digest_leaves_out_what_was_read_on_the_site(deadline, region_state, admin_a):
    """Review: digests repeated notices the person had already opened on the site."""
    NoticePreference.objects.create(user=admin_a, delivery=NoticePreference.Delivery.DAILY)
    day = timezone.localtime(deadline - dt.timedelta(days=30), JAKARTA).date()
    _published(admin_a, year=2021)
    _published(admin_a, year=2022)
    Notice.objects.filter(user=admin_a, dedupe_key="test:2021").update(read_at=timezone.now())
    assert "1 daily digests" in run(dt.datetime.combine(day, dt.time(7, 30), JAKARTA))
    digest = mail.outbox[-1]
    assert digest.subject == "1 notifikasi baru · cityeval"
    assert "GMSC 2022" in digest.body and "GMSC 2021" not in digest.body
    # Everything read: no digest at all the next day.
    Notice.objects.filter(user=admin_a).update(read_at=timezone.now())
    _published(admin_a, year=2020)
    Notice.objects.filter(user=admin_a, dedupe_key="test:2020").update(read_at=timezone.now())
    next_day = day + dt.timedelta(days=1)
    assert "0 daily digests" in run(dt.datetime.combine(next_day, dt.time(7, 30), JAKARTA))


def _published(user, year=2023):
    notice_send(
        users=[user], kind=Kind.RESULTS_PUBLISHED, url="/results/", dedupe_key=f"test:{year}",
        params={"cycle": f"GMSC {year}", "region": "Kab. Deli Serdang"},
    )  # fmt: skip


@pytest.fixture
def scoring(world, deadline, mailed, assessor):
    """A Stage I panel on A with two members: the assessor (nothing scored) and a second one
    who scored everything and submitted; the stage's deadline 30 days ahead."""
    from cityeval.web.accounts.models import Role
    from tests.helpers.web import make_user

    done = make_user("done", Role.ASSESSOR)
    done.email = "done@example.go.id"
    done.save()
    stage = Stage.objects.get(cycle=world.cycle, kind="stage_1")
    stage.deadline = deadline + dt.timedelta(days=10)
    stage.save()
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_1", name="Panel Sumatera")
    PanelMember.objects.create(panel=panel, user=assessor, affiliation="university")
    PanelMember.objects.create(panel=panel, user=done, affiliation="ministry")
    pr = PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_1")
    ItemScore.objects.bulk_create(
        [ItemScore(panel_region=pr, item=c, assessor=done, score=3) for c in _codes(world)]
    )
    ScoreSubmission.objects.create(panel_region=pr, assessor=done)
    return stage


def test_scores_due_reminders_go_to_members_with_unscored_items(world, scoring):
    run(scoring.deadline - dt.timedelta(days=8))
    assert not Notice.objects.filter(kind=Kind.SCORES_DUE).exists()
    run(scoring.deadline - dt.timedelta(days=6))
    run(scoring.deadline - dt.timedelta(hours=2))
    rows = sorted(Notice.objects.filter(kind=Kind.SCORES_DUE).values_list("user__username", "params__days"))
    assert rows == [("assessor", 1), ("assessor", 7)]
    notice = Notice.objects.filter(kind=Kind.SCORES_DUE).first()
    assert notice.params["count"] == len(_codes(world))
    assert notice.url == "/panels/cycles/gmsc-2024/stage_1/kab-deli-serdang/"


def test_no_scores_due_reminder_without_a_stage_deadline(world, scoring):
    Stage.objects.filter(pk=scoring.pk).update(deadline=None)
    run(scoring.deadline - dt.timedelta(days=6))
    assert not Notice.objects.filter(kind=Kind.SCORES_DUE).exists()


def test_a_bad_now_is_refused():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="ISO"):
        call_command("send_notices", "--now", "tomorrow")


def test_an_assessor_whose_role_was_deactivated_gets_no_scores_due_reminder(world, scoring):
    from cityeval.web.accounts.models import Membership, Role

    Membership.objects.filter(user__username="assessor", role=Role.ASSESSOR).update(active=False)
    run(scoring.deadline - dt.timedelta(days=6))
    assert not Notice.objects.filter(kind=Kind.SCORES_DUE).exists()
