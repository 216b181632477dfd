"""Each event makes a notice for the people it concerns and nobody else, and mails it at once
in the reader's language (Indonesian unless they chose English), as plain text and HTML with an
absolute link to the page."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.utils import timezone

from cityeval.web.accounts.models import Invitation, Role
from cityeval.web.assessments.services import item_assign
from cityeval.web.notices.models import Kind, Notice, NoticePreference
from cityeval.web.notices.selectors import language_of
from cityeval.web.panels.models import Interview, Panel, PanelRegion
from cityeval.web.panels.services import evidence_request_toggle, interview_record, panel_member_add

pytestmark = pytest.mark.django_db


def _items(world, n):
    framework = world.cycle.framework.framework
    return [item.code for _c, item in framework.items_for("REGULER")][:n]


def _who(kind):
    return sorted(Notice.objects.filter(kind=kind).values_list("user__username", flat=True))


def test_item_assignment_notifies_the_opds_contributors_only(
    world, mailed, admin_a, django_capture_on_commit_callbacks
):
    codes = _items(world, 3)
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(participation=world.participation_a, items=codes, opd=world.opd_health, user=admin_a)
    assert _who(Kind.ITEM_ASSIGNED) == ["opd_a"]
    notice = Notice.objects.get(kind=Kind.ITEM_ASSIGNED)
    assert notice.params["count"] == 3 and notice.params["items"] == sorted(codes)
    assert notice.url == "/r/kab-deli-serdang/gmsc-2024/self-assessment/"
    (message,) = mail.outbox
    assert message.to == ["opd_a@example.go.id"]
    # Indonesian by default (the .po's translation of "Items assigned to %(opd)s").
    assert message.subject == "Butir ditugaskan kepada Dinas Kesehatan · cityeval"
    assert "3 butir penilaian mandiri GMSC 2024" in message.body
    # The link opens the notice (marking it read), which then goes to its page.
    opener = f"http://127.0.0.1:8000/notices/{notice.public_id}/open/"
    assert opener in message.body
    ((html, kind),) = message.alternatives
    assert kind == "text/html"
    assert f'href="{opener}"' in html


def test_assigning_the_same_items_again_sends_nothing_new(
    world, mailed, admin_a, django_capture_on_commit_callbacks
):
    codes = _items(world, 2)
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(participation=world.participation_a, items=codes, opd=world.opd_health, user=admin_a)
        item_assign(participation=world.participation_a, items=codes, opd=world.opd_health, user=admin_a)
    assert Notice.objects.count() == 1 and len(mail.outbox) == 1
    # Moving one of them to the education office tells its contributor about that one item.
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(
            participation=world.participation_a, items=codes[:1], opd=world.opd_education, user=admin_a
        )
    assert _who(Kind.ITEM_ASSIGNED) == ["opd_a", "opd_a2"]
    assert Notice.objects.get(user__username="opd_a2").params["items"] == codes[:1]


def test_english_reader_gets_english_mail(
    world, mailed, opd_a, admin_a, settings, django_capture_on_commit_callbacks
):
    settings.SITE_URL = "https://cityeval.example.go.id"
    NoticePreference.objects.create(user=opd_a, language="en")
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(
            participation=world.participation_a, items=_items(world, 1), opd=world.opd_health, user=admin_a
        )
    (message,) = mail.outbox
    assert message.subject == "Items assigned to Dinas Kesehatan · cityeval"
    opener = f"https://cityeval.example.go.id/notices/{Notice.objects.get().public_id}/open/"
    assert opener in message.body


def test_the_mail_language_follows_the_accepted_invitation(world, opd_a, admin_a):
    now = timezone.now()
    Invitation.objects.create(
        ref="r1", digest="d" * 64, email="x@example.go.id", name="X", role=Role.OPD_CONTRIBUTOR,
        region=world.region_a, opd=world.opd_health, language="en", sent_at=now,
        expires_at=now + dt.timedelta(days=1), used_at=now, user=opd_a,
    )  # fmt: skip
    assert language_of(opd_a) == "en"
    assert language_of(admin_a) == "id"
    NoticePreference.objects.create(user=opd_a, language="id")
    assert language_of(opd_a) == "id"  # the person's own choice wins


def test_daily_readers_get_no_mail_at_once(world, mailed, opd_a, admin_a, django_capture_on_commit_callbacks):
    NoticePreference.objects.create(user=opd_a, delivery=NoticePreference.Delivery.DAILY)
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(
            participation=world.participation_a, items=_items(world, 1), opd=world.opd_health, user=admin_a
        )
    assert _who(Kind.ITEM_ASSIGNED) == ["opd_a"] and mail.outbox == []


@pytest.fixture
def panel_a(world, assessor):
    panel = Panel.objects.create(cycle=world.cycle, stage="stage_1", name="Panel Sumatera")
    panel_member_add(panel=panel, user=assessor, affiliation="university")
    return PanelRegion.objects.create(panel=panel, participation=world.participation_a, stage="stage_1")


def test_panel_membership_notifies_the_assessor_only(world, mailed, assessor, panel_a):
    assert _who(Kind.PANEL_ASSIGNED) == ["assessor"]
    assert Notice.objects.get(kind=Kind.PANEL_ASSIGNED).url == "/panels/"


def test_evidence_request_notifies_the_regions_admins_and_the_items_opd(
    world, mailed, admin_a, assessor, panel_a, django_capture_on_commit_callbacks
):
    code = _items(world, 1)[0]
    item_assign(participation=world.participation_a, items=[code], opd=world.opd_health, user=admin_a)
    until = dt.datetime(2024, 9, 10, 17, 0, tzinfo=dt.UTC)
    Interview.objects.create(
        panel_region=panel_a, scheduled_at=until - dt.timedelta(days=7), evidence_topup_until=until
    )
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert evidence_request_toggle(panel_region=panel_a, item=code, user=assessor) is True
    assert _who(Kind.EVIDENCE_REQUESTED) == ["admin_a", "opd_a"]  # not opd_a2, not region B
    notice = Notice.objects.get(kind=Kind.EVIDENCE_REQUESTED, user=admin_a)
    assert notice.params["until"] == until.isoformat()
    assert notice.url == f"/r/kab-deli-serdang/gmsc-2024/self-assessment/items/{code}/"
    assert sorted(m.to[0] for m in mail.outbox) == ["admin_a@example.go.id", "opd_a@example.go.id"]
    # 17:00 UTC is midnight of 11 September in Jakarta, the site's time zone.
    assert "sampai 11 Sep 2024, 0.00." in mail.outbox[0].body
    # Unmarking and marking again does not tell them twice.
    evidence_request_toggle(panel_region=panel_a, item=code, user=assessor)
    evidence_request_toggle(panel_region=panel_a, item=code, user=assessor)
    assert Notice.objects.filter(kind=Kind.EVIDENCE_REQUESTED).count() == 2


def test_a_new_topup_deadline_is_told_for_the_marked_items(world, mailed, admin_a, assessor, panel_a):
    code = _items(world, 1)[0]
    evidence_request_toggle(panel_region=panel_a, item=code, user=assessor)  # no interview yet
    assert Notice.objects.get(kind=Kind.EVIDENCE_REQUESTED, user=admin_a).params["until"] == ""
    interview = dt.datetime(2024, 9, 3, 2, 0, tzinfo=dt.UTC)
    until = dt.datetime(2024, 9, 10, 10, 0, tzinfo=dt.UTC)
    for _ in range(2):  # recording the same deadline twice tells them once
        interview_record(panel_region=panel_a, scheduled_at=interview, evidence_topup_until=until)
    rows = Notice.objects.filter(kind=Kind.EVIDENCE_REQUESTED, user=admin_a).order_by("id")
    assert [n.params["until"] for n in rows] == ["", until.isoformat()]
    assert _who(Kind.EVIDENCE_REQUESTED) == ["admin_a", "admin_a"]  # the item is assigned to no OPD


def test_a_deactivated_membership_hears_nothing_more(
    world, mailed, admin_a, opd_a, django_capture_on_commit_callbacks
):
    """Security review: notices went by role and scope, so a contributor or an admin whose
    membership was deactivated kept hearing about the region."""
    from cityeval.web.accounts.models import Membership
    from cityeval.web.notices.selectors import opd_contributors, region_admins

    Membership.objects.filter(user=opd_a).update(active=False)
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(
            participation=world.participation_a, items=_items(world, 2), opd=world.opd_health, user=admin_a
        )
    assert not Notice.objects.exists() and mail.outbox == []
    assert opd_contributors([world.opd_health.pk]) == []
    assert admin_a in region_admins(world.region_a.pk)
    Membership.objects.filter(user=admin_a).update(active=False)
    assert admin_a not in region_admins(world.region_a.pk)


def test_the_plain_text_mail_is_not_html_escaped(world, mailed, admin_a, django_capture_on_commit_callbacks):
    """Review: the .txt part was autoescaped, so "R&D" read "R&amp;D" in the subject and body."""
    world.opd_health.name = "Dinas R&D <Kesehatan>"
    world.opd_health.save()
    with django_capture_on_commit_callbacks(execute=True):
        item_assign(
            participation=world.participation_a, items=_items(world, 1), opd=world.opd_health, user=admin_a
        )
    (message,) = mail.outbox
    assert "Dinas R&D <Kesehatan>" in message.subject and "&amp;" not in message.subject + message.body
    ((html, _kind),) = message.alternatives
    assert "Dinas R&amp;D &lt;Kesehatan&gt;" in html and "<Kesehatan>" not in html
