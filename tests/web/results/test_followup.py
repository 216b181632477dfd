"""Follow-up actions on a published cycle's recommendations (issue 15): who may see and change
them (every view, with outsiders), their append-only history, the follow-up rate computed by
hand, the Indonesian pages, and query counts that do not grow with the actions or regions.

The 2024 cycle of tests/web/results/conftest.py is published with one recommendation on A
("Publish the action plan", by panelist2). The 2025 cycle's panel (``next_cycle``) has
panelist3 on A and panelist4 on B only.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import DatabaseError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.audit.models import AuditEntry
from cityeval.web.evaluations.models import Cycle, Participation
from cityeval.web.panels.models import Feedback, Panel, PanelMember, PanelRegion
from cityeval.web.regions.models import Region
from cityeval.web.results.followup import action_update, followup_rates
from cityeval.web.results.followup_models import (
    ActionChange,
    ActionEvidence,
    ActionStatus,
    FollowUpAction,
    FollowUpChanged,
)
from tests.helpers.results import CYCLE, REGION_A, REGION_B

LIST = f"/r/{REGION_A}/follow-up/"
CREATE = f"/r/{REGION_A}/follow-up/from/{CYCLE}/"
REVIEW = f"/follow-up/review/gmsc-2025/{REGION_A}/"
RATES = "/follow-up/"
RECOMMENDATION = "Publish the action plan"


def _action(world, user, *, opd=None, status=ActionStatus.PLANNED, region=None, text="Publish the plan"):
    """An action made directly (the services are tested through the pages)."""
    action = FollowUpAction.objects.create(
        region=region or world.region_a, cycle=world.cycle, text=text, opd=opd, status=status, created_by=user
    )
    note = "No budget" if status == ActionStatus.DROPPED else ""
    ActionChange.objects.create(action=action, changed_by=user, from_status="", to_status=status, note=note)
    return action


def _url(action, suffix: str = "") -> str:
    return f"/r/{action.region.slug}/follow-up/{action.public_id}/{suffix}"


@pytest.fixture
def w(published, world):
    """The world of the tests, its 2024 cycle published."""
    return world


@pytest.fixture
def health_action(w, admin_a):
    return _action(w, admin_a, opd=w.opd_health)


@pytest.fixture
def panelist3(panel_assessors):
    return panel_assessors[2]


@pytest.fixture
def panelist4(panel_assessors):
    return panel_assessors[3]


@pytest.fixture
def next_cycle(w, panel_assessors):
    """The 2025 cycle: A and B take part; panelist3 is on A's panel, panelist4 on B's only."""
    cycle = Cycle.objects.create(
        slug="gmsc-2025", name="GMSC 2025", year=2025, framework=w.cycle.framework,
        status=Cycle.Status.OPEN, self_assessment_deadline=timezone.now() + dt.timedelta(days=30),
    )  # fmt: skip
    part_a = Participation.objects.create(cycle=cycle, region=w.region_a, group="REGULER")
    part_b = Participation.objects.create(cycle=cycle, region=w.region_b, group="REGULER")
    for name, user, participation in (
        ("Panel A", panel_assessors[2], part_a),
        ("Panel B", panel_assessors[3], part_b),
    ):
        panel = Panel.objects.create(cycle=cycle, stage="stage_2", name=name)
        PanelMember.objects.create(panel=panel, user=user, affiliation="university")
        PanelRegion.objects.create(panel=panel, participation=participation, stage="stage_2")
    return cycle


# --- who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "status"),
    [("admin_a", 200), ("opd_a", 200), ("coordinator", 200), ("admin_b", 404), ("nobody", 404),
     ("assessor", 404), ("panelist2", 404), (None, 302)],
)  # fmt: skip
def test_who_opens_the_region_s_actions(w, health_action, as_user, persona, name, status):
    response = as_user(persona(name)).get(LIST)
    assert response.status_code == status
    if status == 302:
        assert "/accounts/login/" in response["Location"]


def test_an_opd_contributor_lists_only_their_opd_s_actions(w, health_action, admin_a, as_user, opd_a2):
    _action(w, admin_a, opd=w.opd_education, text="Train the teachers")
    page = as_user(opd_a2).get(LIST).content.decode()
    assert "Train the teachers" in page and "Publish the plan" not in page


@pytest.mark.parametrize(
    ("name", "status"),
    [("admin_a", 200), ("opd_a", 403), ("coordinator", 403), ("admin_b", 404), ("nobody", 404),
     ("assessor", 404), (None, 302)],
)  # fmt: skip
def test_only_the_regional_admin_makes_actions(w, as_user, persona, name, status):
    client = as_user(persona(name))
    assert client.get(CREATE).status_code == status
    feedback = Feedback.objects.get(panel_region__participation=w.participation_a)
    post = client.post(CREATE, {"recommendation": feedback.pk, "r0-text": "Mine"})
    assert post.status_code == (302 if name == "admin_a" else status)
    assert FollowUpAction.objects.count() == (1 if name == "admin_a" else 0)


def test_no_action_is_made_before_publication(computed, as_user, admin_a):
    assert as_user(admin_a).get(CREATE).status_code == 404


@pytest.mark.parametrize(
    ("name", "read", "write"),
    [("admin_a", 200, 302), ("opd_a", 200, 302), ("opd_a2", 403, 403), ("coordinator", 200, 403),
     ("admin_b", 404, 404), ("nobody", 404, 404), ("assessor", 404, 404), (None, 302, 302)],
)  # fmt: skip
def test_who_reads_and_changes_an_action(health_action, as_user, persona, name, read, write):
    client = as_user(persona(name))
    assert client.get(_url(health_action)).status_code == read
    change = client.post(_url(health_action, "change/"), {"status": "in_progress", "note": "Started"})
    evidence = client.post(_url(health_action, "evidence/"), {"url": "https://example.org/plan.pdf"})
    assert (change.status_code, evidence.status_code) == (write, write)
    changed = write == 302 and name is not None
    assert ActionChange.objects.filter(action=health_action).count() == (2 if changed else 1)
    assert ActionEvidence.objects.filter(action=health_action).count() == (1 if changed else 0)
    health_action.refresh_from_db()
    assert health_action.status == ("in_progress" if changed else "planned")


def test_an_unknown_action_or_one_of_another_region_is_404(w, admin_a, admin_b, as_user):
    other = _action(w, admin_b, region=w.region_b)
    assert as_user(admin_a).get(f"/r/{REGION_A}/follow-up/{other.public_id}/").status_code == 404
    assert as_user(admin_a).get(f"/r/{REGION_B}/follow-up/{other.public_id}/").status_code == 404


@pytest.mark.parametrize(
    ("name", "status"),
    [("panelist3", 200), ("coordinator", 200), ("panelist4", 404), ("assessor", 404), ("admin_a", 404),
     ("opd_a", 404), ("admin_b", 404), ("nobody", 404), (None, 302)],
)  # fmt: skip
def test_the_next_cycle_s_assessors_on_the_region_s_panel_read_its_follow_up(
    next_cycle, health_action, as_user, persona, name, status
):
    response = as_user(persona(name)).get(REVIEW)
    assert response.status_code == status
    if status == 200:
        assert "Publish the plan" in response.content.decode()


def test_a_panel_member_with_a_role_in_the_region_does_not_read_it_as_an_assessor(
    next_cycle, health_action, as_user, panel_assessors
):
    region = Region.objects.get(slug=REGION_A)
    Membership.objects.create(user=panel_assessors[2], role=Role.REGIONAL_ADMIN, region=region, active=False)
    assert as_user(panel_assessors[2]).get(REVIEW).status_code == 404


def test_the_scoring_page_links_to_the_follow_up(next_cycle, health_action, as_user, panel_assessors):
    page = as_user(panel_assessors[2]).get(f"/panels/cycles/gmsc-2025/stage_2/{REGION_A}/").content.decode()
    assert f'href="{REVIEW}"' in page


@pytest.mark.parametrize(
    ("name", "status"),
    [("coordinator", 200), ("admin_a", 403), ("opd_a", 403), ("assessor", 403), ("nobody", 403), (None, 302)],
)
def test_only_the_coordinator_sees_the_follow_up_rates(w, as_user, persona, name, status):
    assert as_user(persona(name)).get(RATES).status_code == status


# --- making and changing actions ---------------------------------------------------------------


def test_the_admin_splits_a_recommendation_into_actions(w, admin_a, as_user):
    client = as_user(admin_a)
    page = client.get(CREATE).content.decode()
    assert RECOMMENDATION in page
    feedback = Feedback.objects.get(panel_region__participation=w.participation_a)
    response = client.post(
        CREATE,
        {"recommendation": feedback.pk, "r0-text": "Draft the plan\n\n Publish it online ",
         "r0-per_line": "on", "r0-opd": w.opd_health.pk, "r0-due_on": "2025-06-30"},
    )  # fmt: skip
    assert response.status_code == 302
    actions = list(FollowUpAction.objects.order_by("id"))
    assert [a.text for a in actions] == ["Draft the plan", "Publish it online"]
    assert {(a.feedback_id, a.cycle_id, a.opd_id, a.due_on, a.status) for a in actions} == {
        (feedback.pk, w.cycle.pk, w.opd_health.pk, dt.date(2025, 6, 30), "planned")
    }
    assert [h.to_status for h in ActionChange.objects.filter(action=actions[0])] == ["planned"]
    assert AuditEntry.objects.filter(action="followup_create", region=w.region_a).count() == 2
    assert "1 action already made" not in client.get(CREATE).content.decode()
    assert "2 actions already made from it." in client.get(CREATE).content.decode()


def test_a_recommendation_of_another_region_cannot_be_used(w, admin_a, as_user):
    feedback = Feedback.objects.get(panel_region__participation=w.participation_a)
    stranger = Feedback.objects.create(
        panel_region=PanelRegion.objects.get(participation=w.participation_b),
        assessor=feedback.assessor, recommendations="Something for B",
    )  # fmt: skip
    assert as_user(admin_a).post(CREATE, {"recommendation": stranger.pk, "r0-text": "x"}).status_code == 404
    assert not FollowUpAction.objects.exists()


def test_dropping_needs_a_reason_and_nothing_is_saved_without_it(health_action, admin_a, as_user):
    client = as_user(admin_a)
    refused = client.post(_url(health_action, "change/"), {"status": "dropped", "note": ""})
    assert refused.status_code == 422
    assert "Say why the action is dropped." in refused.content.decode()
    health_action.refresh_from_db()
    assert health_action.status == "planned"
    assert ActionChange.objects.filter(action=health_action).count() == 1
    assert (
        client.post(_url(health_action, "change/"), {"status": "dropped", "note": "Budget cut"}).status_code
        == 302
    )
    last = ActionChange.objects.filter(action=health_action).last()
    assert (last.from_status, last.to_status, last.note, last.changed_by) == (
        "planned",
        "dropped",
        "Budget cut",
        admin_a,
    )


def test_done_takes_today_and_a_note_alone_is_kept(health_action, opd_a, as_user):
    client = as_user(opd_a)
    assert client.post(_url(health_action, "change/"), {"status": "done"}).status_code == 302
    health_action.refresh_from_db()
    assert (health_action.status, health_action.done_on) == ("done", timezone.localdate())
    assert (
        client.post(
            _url(health_action, "change/"), {"status": "done", "note": "Signed by the regent"}
        ).status_code
        == 302
    )
    nothing = client.post(_url(health_action, "change/"), {"status": "done"})
    assert nothing.status_code == 422
    rows = list(
        ActionChange.objects.filter(action=health_action).values_list("from_status", "to_status", "note")
    )
    assert rows == [("", "planned", ""), ("planned", "done", ""), ("done", "done", "Signed by the regent")]
    assert AuditEntry.objects.filter(action="followup_update").count() == 2


def test_an_opd_contributor_cannot_reassign_the_action(health_action, opd_a, w, as_user):
    data = {"status": "in_progress", "opd": w.opd_education.pk, "text": "Something else"}
    assert as_user(opd_a).post(_url(health_action, "change/"), data).status_code == 302
    health_action.refresh_from_db()
    assert (health_action.opd_id, health_action.text) == (w.opd_health.pk, "Publish the plan")


def test_the_admin_reassigns_and_the_old_values_stay_in_the_history(health_action, admin_a, w, as_user):
    data = {
        "status": "planned",
        "opd": w.opd_education.pk,
        "text": "Publish the plan",
        "due_on": "2025-03-01",
    }
    assert as_user(admin_a).post(_url(health_action, "change/"), data).status_code == 302
    last = ActionChange.objects.filter(action=health_action).last()
    assert last.changes == {"opd": ["Dinkes", "Disdik"], "due_on": ["", "2025-03-01"]}


def test_evidence_is_a_checked_link_or_a_note(health_action, admin_a, as_user):
    client = as_user(admin_a)
    assert client.post(_url(health_action, "evidence/"), {"url": "javascript:alert(1)"}).status_code == 422
    assert client.post(_url(health_action, "evidence/"), {"url": "", "note": ""}).status_code == 422
    assert client.post(_url(health_action, "evidence/"), {"note": "Perda No. 3/2025"}).status_code == 302
    assert list(ActionEvidence.objects.values_list("url", "note")) == [("", "Perda No. 3/2025")]
    assert AuditEntry.objects.filter(action="followup_evidence").count() == 1


PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj << >> endobj\n%%EOF\n"


def test_an_evidence_file_is_checked_on_content_and_stored_by_hash(health_action, admin_a, as_user):
    client = as_user(admin_a)
    page = _url(health_action, "evidence/")
    fake = SimpleUploadedFile(
        "report.pdf", b"<html><script>alert(1)</script></html>", content_type="application/pdf"
    )
    refused = client.post(page, {"file": fake})
    assert refused.status_code == 422
    assert "This file type is not allowed." in refused.content.decode()
    assert not ActionEvidence.objects.exists()
    upload = SimpleUploadedFile("../Laporan akhir.pdf", PDF, content_type="text/html")
    assert client.post(page, {"file": upload, "note": "Final report"}).status_code == 302
    evidence = ActionEvidence.objects.get()
    assert (evidence.original_name, evidence.note) == ("Laporan akhir.pdf", "Final report")
    assert (evidence.blob.sha256, evidence.blob.content_type) == (
        hashlib.sha256(PDF).hexdigest(),
        "application/pdf",
    )


def test_the_evidence_file_is_too_large_and_nothing_is_saved(health_action, admin_a, as_user, settings):
    settings.EVIDENCE_MAX_MB = 1
    big = SimpleUploadedFile("big.pdf", PDF + b"0" * (1024 * 1024 + 1), content_type="application/pdf")
    response = as_user(admin_a).post(_url(health_action, "evidence/"), {"file": big})
    assert response.status_code == 422
    assert "larger than the limit of 1 MB" in response.content.decode()
    assert not ActionEvidence.objects.exists()


def _summary(page: str) -> str:
    """The error summary at the top of the action page (before the action's text), or ""."""
    start = page.find('id="form-errors"')
    if start < 0 or start > page.find('id="action-text"'):
        return ""
    return page[start : page.index("</div>", start)]


def test_a_bare_domain_is_taken_as_an_https_link_with_the_file(health_action, admin_a, as_user):
    """The walkthrough's case: a chosen file and "www.contoh.go.id" — both are kept."""
    upload = SimpleUploadedFile("Laporan.pdf", PDF, content_type="application/pdf")
    data = {"file": upload, "url": "www.contoh.go.id", "note": "Laporan triwulan"}
    assert as_user(admin_a).post(_url(health_action, "evidence/"), data).status_code == 302
    evidence = ActionEvidence.objects.get()
    assert (evidence.url, evidence.note, evidence.original_name) == (
        "https://www.contoh.go.id",
        "Laporan triwulan",
        "Laporan.pdf",
    )
    assert evidence.blob.sha256 == hashlib.sha256(PDF).hexdigest()


def test_a_refused_link_keeps_the_note_and_says_the_file_must_be_chosen_again(
    health_action, admin_a, as_user
):
    upload = SimpleUploadedFile("Laporan.pdf", PDF, content_type="application/pdf")
    data = {"file": upload, "url": "javascript:alert(1)", "note": "Laporan triwulan"}
    response = as_user(admin_a).post(_url(health_action, "evidence/"), data)
    assert response.status_code == 422
    page = response.content.decode()
    summary = _summary(page)
    assert "Give a full web address starting with http:// or https://" in summary
    assert 'href="#evidence_url"' in summary
    assert "The file “Laporan.pdf” was not saved: choose it again." in summary
    assert "Laporan triwulan</textarea>" in page
    assert not ActionEvidence.objects.exists()


def test_a_done_date_with_another_status_is_refused_not_dropped(health_action, admin_a, as_user):
    client = as_user(admin_a)
    response = client.post(_url(health_action, "change/"), {"status": "in_progress", "done_on": "2026-01-05"})
    assert response.status_code == 422
    assert "A done date is only for a done action" in _summary(response.content.decode())
    health_action.refresh_from_db()
    assert (health_action.status, health_action.done_on) == ("planned", None)
    assert ActionChange.objects.filter(action=health_action).count() == 1


def test_leaving_done_clears_the_date_still_in_the_form_and_the_history_keeps_it(
    health_action, admin_a, as_user
):
    client = as_user(admin_a)
    assert (
        client.post(_url(health_action, "change/"), {"status": "done", "done_on": "2026-01-05"}).status_code
        == 302
    )
    # The form shows the done date; reopening the action leaves it there.
    reopen = {"status": "in_progress", "done_on": "2026-01-05", "note": "Not signed after all"}
    assert client.post(_url(health_action, "change/"), reopen).status_code == 302
    health_action.refresh_from_db()
    assert (health_action.status, health_action.done_on) == ("in_progress", None)
    last = ActionChange.objects.filter(action=health_action).last()
    assert last.changes == {"done_on": ["2026-01-05", ""]}


def test_the_history_shows_dates_in_the_page_s_format(health_action, admin_a, as_user):
    client = as_user(admin_a)
    data = {"status": "planned", "text": "Publish the plan", "due_on": "2026-12-08"}
    assert client.post(_url(health_action, "change/"), data).status_code == 302
    history = client.get(_url(health_action)).content.decode().split('id="history"')[1]
    assert "– → Dec. 8, 2026" in history and "2026-12-08" not in history
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    history = client.get(_url(health_action)).content.decode().split('id="history"')[1]
    assert "– → 8 Des 2026" in history


def test_a_refused_drop_keeps_the_input_and_says_why_at_the_top(health_action, admin_a, as_user):
    data = {"status": "dropped", "due_on": "2027-03-31", "note": ""}
    response = as_user(admin_a).post(_url(health_action, "change/"), data)
    assert response.status_code == 422
    page = response.content.decode()
    assert "Say why the action is dropped." in _summary(page)
    assert 'href="#id_note"' in _summary(page)
    assert '<option value="dropped" selected>' in page
    assert 'value="2027-03-31"' in page


@pytest.mark.parametrize(
    ("name", "status"),
    [("admin_a", 200), ("opd_a", 200), ("coordinator", 200), ("opd_a2", 403), ("admin_b", 404),
     ("nobody", 404), ("assessor", 404), ("panelist3", 404), (None, 302)],
)  # fmt: skip
def test_who_downloads_an_evidence_file(next_cycle, health_action, admin_a, as_user, persona, name, status):
    as_user(admin_a).post(_url(health_action, "evidence/"), {"file": SimpleUploadedFile("plan.pdf", PDF)})
    evidence = ActionEvidence.objects.get()
    response = as_user(persona(name)).get(_url(health_action, f"evidence/{evidence.public_id}/"))
    assert response.status_code == status
    if status == 200:
        assert b"".join(response.streaming_content) == PDF
        assert response["Content-Disposition"].startswith("attachment")


@pytest.mark.parametrize(
    ("name", "status"),
    [("panelist3", 200), ("coordinator", 200), ("panelist4", 404), ("assessor", 404), ("admin_a", 404),
     ("nobody", 404), (None, 302)],
)  # fmt: skip
def test_the_next_cycle_s_assessors_download_the_evidence(
    next_cycle, health_action, admin_a, as_user, persona, name, status
):
    as_user(admin_a).post(_url(health_action, "evidence/"), {"file": SimpleUploadedFile("plan.pdf", PDF)})
    evidence = ActionEvidence.objects.get()
    review_page = as_user(persona("panelist3")).get(REVIEW).content.decode()
    url = f"{REVIEW}evidence/{evidence.public_id}/"
    assert f'href="{url}"' in review_page
    assert as_user(persona(name)).get(url).status_code == status


# --- append-only -------------------------------------------------------------------------------


def test_the_history_and_evidence_are_append_only(health_action, admin_a):
    action_update(action=health_action, user=admin_a, status="in_progress", due_on=None, note="Started")
    first = ActionChange.objects.filter(action=health_action).first()
    before = list(
        ActionChange.objects.filter(action=health_action).values_list(
            "id", "from_status", "to_status", "note"
        )
    )
    action_update(action=health_action, user=admin_a, status="done", due_on=None, note="Finished")
    after = list(
        ActionChange.objects.filter(action=health_action).values_list(
            "id", "from_status", "to_status", "note"
        )
    )
    assert after[: len(before)] == before and len(after) == len(before) + 1
    first.note = "rewritten"
    with pytest.raises(FollowUpChanged):
        first.save()
    with pytest.raises(FollowUpChanged):
        first.delete()
    with pytest.raises(FollowUpChanged):
        ActionChange.objects.filter(action=health_action).update(note="x")
    with pytest.raises(FollowUpChanged):
        ActionChange.objects.all().delete()
    evidence = ActionEvidence.objects.create(action=health_action, note="n", added_by=admin_a)
    with pytest.raises(FollowUpChanged):
        evidence.delete()
    with pytest.raises(FollowUpChanged):
        ActionEvidence.objects.update(note="y")


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the trigger exists on PostgreSQL only")
def test_the_database_refuses_changes_to_the_history_on_postgresql(health_action, admin_a):
    """Past the models (raw SQL), PostgreSQL's trigger still refuses."""
    ActionEvidence.objects.create(action=health_action, note="n", added_by=admin_a)
    for table in ("results_actionchange", "results_actionevidence"):
        for sql in (f"UPDATE {table} SET note = 'x'", f"DELETE FROM {table}"):
            with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
                cursor.execute(sql)
    assert list(ActionChange.objects.values_list("note", flat=True)) == [""]
    assert list(ActionEvidence.objects.values_list("note", flat=True)) == ["n"]


# --- the follow-up rate, by hand --------------------------------------------------------------


@pytest.fixture
def rated(w, admin_a, admin_b):
    """A: done, done, in progress, dropped → 2 / (4 − 1) = 2/3 ≈ 67 %. B: planned, done → 1/2 =
    50 %. National, pooled: 3 done / (6 − 1) = 3/5 = 60 % (the mean of the regions' rates would
    be 58 %). Kota Binjai takes part with no action: no rate."""
    for status in ("done", "done", "in_progress", "dropped"):
        _action(w, admin_a, status=status)
    for status in ("planned", "done"):
        _action(w, admin_b, status=status, region=w.region_b)
    binjai = Region.objects.create(
        name="Kota Binjai", slug="kota-binjai", kind="kota", province=w.region_a.province
    )
    Participation.objects.create(cycle=w.cycle, region=binjai, group="REGULER")
    return w


def test_the_follow_up_rate_by_hand(rated):
    rows, national = followup_rates(rated.cycle)
    assert [(r.region, r.done, r.counted, r.rate) for r in rows] == [
        ("Kab. Deli Serdang", 2, 3, 2 / 3),
        ("Kota Binjai", 0, 0, None),
        ("Kota Medan", 1, 2, 0.5),
    ]
    assert (national.done, national.counted, national.dropped, national.rate) == (3, 5, 1, 0.6)
    every_cycle, _national = followup_rates(None)
    assert [r.region for r in every_cycle] == ["Kab. Deli Serdang", "Kota Medan"]  # no action in Binjai


def test_the_rates_page_shows_the_hand_numbers(rated, coordinator, as_user):
    page = as_user(coordinator).get(RATES, {"cycle": CYCLE}).content.decode()
    assert '<div class="big" id="national-rate">60%</div>' in page
    assert "67%" in page and "50%" in page
    assert "Kota Binjai" in page


# --- Indonesian ---------------------------------------------------------------------------------


def test_the_pages_speak_indonesian(rated, next_cycle, admin_a, coordinator, panel_assessors, as_user):
    action = FollowUpAction.objects.filter(region=rated.region_a).first()
    pages = [
        (admin_a, LIST, "Tindakan tindak lanjut"),
        (admin_a, CREATE, "Rekomendasi 1"),
        (admin_a, _url(action), "Riwayat"),
        (panel_assessors[2], REVIEW, "Tindak lanjut rekomendasi sebelumnya"),
        (coordinator, RATES, "Tingkat tindak lanjut nasional"),
    ]
    for user, url, text in pages:
        client = as_user(user)
        client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
        page = client.get(url).content.decode()
        assert text in page, url
    client = as_user(admin_a)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "id"
    refused = client.post(_url(action, "change/"), {"status": "dropped"}).content.decode()
    assert "Sebutkan alasan tindakan dihentikan." in refused
    assert "Tidak ada yang disimpan. Perbaiki hal berikut lalu coba lagi:" in refused


# --- queries do not grow with the data --------------------------------------------------------


def _queries(client, url: str) -> int:
    client.get(url)  # the first request fills the per-process caches
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _more(world, user, n: int, region=None) -> None:
    for k in range(n):
        action = _action(world, user, region=region, opd=world.opd_health if region is None else None)
        ActionChange.objects.create(
            action=action, changed_by=user, from_status="planned", to_status="done", note=f"n{k}"
        )
        ActionEvidence.objects.create(action=action, note=f"e{k}", added_by=user)


def test_list_pages_query_counts_do_not_grow(next_cycle, w, admin_a, coordinator, panel_assessors, as_user):
    """The region's list, the assessors' review and the rates (all cycles and one): the same
    number of queries with 2 actions in one region as with 8 in A and 2 in each of 4 more."""
    pages = [
        (admin_a, LIST), (panel_assessors[2], REVIEW), (coordinator, RATES),
        (coordinator, f"{RATES}?cycle={CYCLE}"),
    ]  # fmt: skip
    _more(w, admin_a, 2)
    small = [_queries(as_user(user), url) for user, url in pages]
    _more(w, admin_a, 6)
    for k in range(4):
        region = Region.objects.create(
            name=f"Kota {k}", slug=f"kota-{k}", kind="kota", province=w.region_a.province
        )
        Participation.objects.create(cycle=w.cycle, region=region, group="REGULER")
        _more(w, admin_a, 2, region=region)
    large = [_queries(as_user(user), url) for user, url in pages]
    assert large == small


def test_a_deactivated_assessor_no_longer_reads_the_follow_up_review(
    next_cycle, health_action, admin_a, as_user, panel_assessors
):
    """A panel member whose assessor role was deactivated reads nothing more of the region, as
    on the scoring page (the panel member row stays: it is the panel's history)."""
    as_user(admin_a).post(_url(health_action, "evidence/"), {"file": SimpleUploadedFile("plan.pdf", PDF)})
    evidence = ActionEvidence.objects.get()
    panelist = panel_assessors[2]
    Membership.objects.filter(user=panelist, role=Role.ASSESSOR).update(active=False)
    client = as_user(panelist)
    assert client.get(f"/panels/cycles/gmsc-2025/stage_2/{REGION_A}/").status_code == 404  # closed
    assert client.get(REVIEW).status_code == 404
    assert client.get(f"{REVIEW}evidence/{evidence.public_id}/").status_code == 404


def test_imported_history_years_are_not_offered_for_follow_up(w, admin_a, as_user):
    """An imported table of an earlier year has no recommendations: it is not offered."""
    imported = Cycle.objects.exclude(pk=w.cycle.pk).filter(status=Cycle.Status.PUBLISHED)
    assert imported.exists()
    page = as_user(admin_a).get(f"/r/{REGION_A}/follow-up/").content.decode()
    for cycle in imported:
        assert f"/follow-up/from/{cycle.slug}/" not in page
