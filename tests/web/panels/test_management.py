"""The coordinator forms panels, adds assessors (one chair) and assigns regions, one by one
or from a file; conflicts of interest refuse an assignment in both directions; a closed cycle
takes no change. Non-coordinators get 403, anonymous users log in."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.evaluations.models import Cycle
from cityeval.web.panels.models import Conflict, Panel, PanelMember, PanelRegion
from tests.helpers.panels import STAGE

NOT_COORDINATORS = ["admin_a", "opd_a", "assessor", "chair", "nobody"]


def persona(request, name):
    return request.getfixturevalue(name)


def assert_login_redirect(response):
    assert response.status_code == 302 and "/accounts/login/" in response["Location"]


def csv_upload(text: str, name: str = "assignments.csv"):
    return {"file": SimpleUploadedFile(name, text.encode("utf-8"), content_type="text/csv")}


def close(world, status=Cycle.Status.CLOSED):
    Cycle.objects.filter(pk=world.cycle.pk).update(status=status)


# --- access ------------------------------------------------------------------------------------------


def test_coordinator_sees_the_panels_of_a_cycle_and_a_panel(
    world, as_user, coordinator, panel, panel_region, urls
):
    client = as_user(coordinator)
    page = client.get(urls.panel_list)
    assert page.status_code == 200
    assert b"Panel 1" in page.content and b"Kab. Deli Serdang" in page.content
    detail = client.get(urls.panel(panel))
    assert detail.status_code == 200
    for text in (b"chair", b"assessor2", b"APTIKNAS", b"Kab. Deli Serdang"):
        assert text in detail.content


@pytest.mark.parametrize("name", NOT_COORDINATORS)
def test_others_get_403_on_every_coordinator_page(request, world, as_user, panel, urls, name):
    client = as_user(persona(request, name))
    assert client.get(urls.panel_list).status_code == 403
    assert client.post(urls.panel_list, {"stage": STAGE, "name": "Mine"}).status_code == 403
    assert (
        client.post(urls.assignments_import, csv_upload("panel,region\nPanel 1,kota-medan\n")).status_code
        == 403
    )
    assert client.get(urls.panel(panel)).status_code == 403
    for action, data in [
        ("member_add", {"user": "assessor", "affiliation": "ministry"}),
        ("member_remove", {"user": "assessor2"}),
        ("chair_set", {"user": "assessor2"}),
        ("region_assign", {"region": "kota-medan"}),
        ("region_unassign", {"region": "kab-deli-serdang"}),
    ]:
        assert client.post(urls.panel(panel, action), data).status_code == 403
    assert (
        Panel.objects.count() == 1 and PanelMember.objects.count() == 3 and PanelRegion.objects.count() == 0
    )
    assert PanelMember.objects.get(is_chair=True).user.username == "chair"


def test_anonymous_is_sent_to_log_in(world, as_user, panel, urls):
    client = as_user(None)
    assert_login_redirect(client.get(urls.panel_list))
    assert_login_redirect(client.get(urls.panel(panel)))
    assert_login_redirect(client.post(urls.panel(panel, "member_add"), {"user": "assessor"}))
    assert_login_redirect(client.post(urls.assignments_import, csv_upload("panel,region\n")))


def test_unknown_cycle_or_panel_is_404(world, as_user, coordinator):
    client = as_user(coordinator)
    assert client.get("/panels/cycles/gmsc-1999/").status_code == 404
    assert client.get("/panels/00000000-0000-0000-0000-000000000000/").status_code == 404


# --- panels and members ---------------------------------------------------------------------------


def test_coordinator_creates_a_panel(world, as_user, coordinator, urls):
    response = as_user(coordinator).post(urls.panel_list, {"stage": STAGE, "name": "Panel 7"})
    panel = Panel.objects.get()
    assert response.status_code == 302 and response["Location"] == urls.panel(panel)
    assert (panel.name, panel.stage, panel.cycle) == ("Panel 7", STAGE, world.cycle)


def test_a_duplicate_panel_name_in_a_stage_is_refused(world, as_user, coordinator, panel, urls):
    response = as_user(coordinator).post(urls.panel_list, {"stage": STAGE, "name": "Panel 1"})
    assert response.status_code == 200 and b"exists already" in response.content
    assert Panel.objects.count() == 1


def test_coordinator_adds_an_assessor_with_affiliation(world, as_user, coordinator, panel, assessor, urls):
    data = {"user": "assessor", "affiliation": "other_ministry", "organisation": "Bappenas"}
    response = as_user(coordinator).post(urls.panel(panel, "member_add"), data)
    assert response.status_code == 302
    member = PanelMember.objects.get(user=assessor)
    assert (member.affiliation, member.organisation, member.is_chair) == ("other_ministry", "Bappenas", False)


def test_only_users_with_the_assessor_role_can_be_added(world, as_user, coordinator, panel, admin_a, urls):
    data = {"user": "admin_a", "affiliation": "ministry"}
    response = as_user(coordinator).post(urls.panel(panel, "member_add"), data, follow=True)
    assert b"Nothing was added" in response.content
    assert not PanelMember.objects.filter(user=admin_a).exists()


def test_a_new_chair_replaces_the_old_one(world, as_user, coordinator, panel, assessor, urls):
    client = as_user(coordinator)
    client.post(urls.panel(panel, "chair_set"), {"user": "assessor2"})
    assert list(PanelMember.objects.filter(is_chair=True).values_list("user__username", flat=True)) == [
        "assessor2"
    ]
    client.post(
        urls.panel(panel, "member_add"), {"user": "assessor", "affiliation": "ministry", "is_chair": "on"}
    )
    assert list(PanelMember.objects.filter(is_chair=True).values_list("user__username", flat=True)) == [
        "assessor"
    ]


def test_coordinator_removes_a_member_without_marks(world, as_user, coordinator, panel, urls):
    as_user(coordinator).post(urls.panel(panel, "member_remove"), {"user": "assessor3", "confirm": "yes"})
    assert sorted(PanelMember.objects.values_list("user__username", flat=True)) == ["assessor2", "chair"]


def test_a_member_with_marks_stays(
    world, as_user, coordinator, panel, panel_region, score_all, assessor3, urls
):
    score_all(assessor3)
    response = as_user(coordinator).post(
        urls.panel(panel, "member_remove"), {"user": "assessor3", "confirm": "yes"}, follow=True
    )
    assert b"stays on the record" in response.content
    assert PanelMember.objects.filter(user=assessor3).exists()


# --- regions and conflicts -------------------------------------------------------------------------


def test_coordinator_assigns_and_unassigns_a_region(world, as_user, coordinator, panel, urls):
    client = as_user(coordinator)
    assert client.post(urls.panel(panel, "region_assign"), {"region": "kota-medan"}).status_code == 302
    assigned = PanelRegion.objects.get()
    assert (assigned.participation, assigned.stage) == (world.participation_b, STAGE)
    client.post(urls.panel(panel, "region_unassign"), {"region": "kota-medan"})
    assert PanelRegion.objects.count() == 0


def test_a_region_on_another_panel_of_the_stage_is_refused(
    world, as_user, coordinator, panel, panel_region, urls
):
    other = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 2")
    response = as_user(coordinator).post(
        urls.panel(other, "region_assign"), {"region": "kab-deli-serdang"}, follow=True
    )
    assert b"assigned to the panel Panel 1" in response.content
    assert PanelRegion.objects.get().panel == panel


def test_a_region_the_panel_started_on_stays(
    world, as_user, coordinator, panel, panel_region, score_all, chair, urls
):
    score_all(chair)
    response = as_user(coordinator).post(
        urls.panel(panel, "region_unassign"), {"region": "kab-deli-serdang"}, follow=True
    )
    assert b"it stays assigned" in response.content
    assert PanelRegion.objects.count() == 1


def test_assigning_a_region_a_member_is_conflicted_with_is_refused(
    world, as_user, coordinator, panel, assessor2, urls
):
    Conflict.objects.create(user=assessor2, region=world.region_b, reason="I advise Medan")
    response = as_user(coordinator).post(
        urls.panel(panel, "region_assign"), {"region": "kota-medan"}, follow=True
    )
    assert b"assessor2 has a conflict of interest with Kota Medan" in response.content
    assert PanelRegion.objects.count() == 0


def test_adding_a_member_conflicted_with_a_region_of_the_panel_is_refused(
    world, as_user, coordinator, panel, panel_region, assessor, urls
):
    Conflict.objects.create(user=assessor, region=world.region_a, reason="Consultant to Diskominfo")
    data = {"user": "assessor", "affiliation": "consultancy"}
    response = as_user(coordinator).post(urls.panel(panel, "member_add"), data, follow=True)
    assert b"assessor has a conflict of interest with Kab. Deli Serdang" in response.content
    assert not PanelMember.objects.filter(user=assessor).exists()


def test_a_role_in_the_region_counts_as_a_conflict(
    world, as_user, coordinator, panel, panel_region, admin_b, urls
):
    """An assessor who is also Medan's regional admin cannot assess Medan, in either direction."""
    Membership.objects.create(user=admin_b, role=Role.ASSESSOR)
    client = as_user(coordinator)
    other = Panel.objects.create(cycle=world.cycle, stage=STAGE, name="Panel 2")
    PanelRegion.objects.create(panel=other, participation=world.participation_b, stage=STAGE)
    response = client.post(
        urls.panel(other, "member_add"), {"user": "admin_b", "affiliation": "ministry"}, follow=True
    )
    assert b"admin_b has a conflict of interest with Kota Medan" in response.content
    assert (
        client.post(
            urls.panel(panel, "member_add"), {"user": "admin_b", "affiliation": "ministry"}
        ).status_code
        == 302
    )
    PanelRegion.objects.filter(panel=other).delete()
    response = client.post(urls.panel(panel, "region_assign"), {"region": "kota-medan"}, follow=True)
    assert b"admin_b has a conflict of interest with Kota Medan" in response.content
    assert list(PanelRegion.objects.values_list("participation__region__slug", flat=True)) == [
        "kab-deli-serdang"
    ]


def test_members_are_not_offered_again(world, as_user, coordinator, panel, assessor, urls):
    content = as_user(coordinator).get(urls.panel(panel)).content.decode()
    form = content[content.index('id="member-form"') :]
    assert '<option value="assessor">' in form and '<option value="assessor2">' not in form


def test_a_conflict_declared_after_the_assignment_is_shown(
    world, as_user, coordinator, panel, panel_region, assessor3, urls
):
    Conflict.objects.create(user=assessor3, region=world.region_a, reason="Family")
    page = as_user(coordinator).get(urls.panel(panel))
    assert b"conflict-warning" in page.content and b"Family" in page.content


# --- bulk assignment -------------------------------------------------------------------------------


def test_bulk_assignment_from_csv(world, as_user, coordinator, panel, urls):
    Panel.objects.create(cycle=world.cycle, stage="stage_1", name="Forum A")
    text = (
        "panel,region,stage\nPanel 1,Kab. Deli Serdang,II\nForum A,kota-medan,\nPanel 1,kota-medan,stage_2\n"
    )
    response = as_user(coordinator).post(urls.assignments_import, csv_upload(text), follow=True)
    assert b"3 assignments imported" in response.content
    assert sorted(PanelRegion.objects.values_list("panel__name", "participation__region__slug", "stage")) == [
        ("Forum A", "kota-medan", "stage_1"),
        ("Panel 1", "kab-deli-serdang", "stage_2"),
        ("Panel 1", "kota-medan", "stage_2"),
    ]


def test_bulk_assignment_from_xlsx_is_read_too(world, as_user, coordinator, panel, urls, tmp_path):
    import xlsxwriter

    path = tmp_path / "a.xlsx"
    book = xlsxwriter.Workbook(path)
    sheet = book.add_worksheet()
    for r, row in enumerate([["panel", "region"], ["Panel 1", "kota-medan"]]):
        sheet.write_row(r, 0, row)
    book.close()
    upload = {"file": SimpleUploadedFile("a.xlsx", path.read_bytes())}
    response = as_user(coordinator).post(urls.assignments_import, upload, follow=True)
    assert b"1 assignments imported" in response.content
    assert PanelRegion.objects.get().participation == world.participation_b


def test_a_bad_row_saves_nothing_and_each_error_names_its_row(
    world, as_user, coordinator, panel, assessor2, urls
):
    Conflict.objects.create(user=assessor2, region=world.region_b, reason="advises")
    text = (
        "panel,region\nPanel 1,kab-deli-serdang\nPanel 9,kab-deli-serdang\nPanel 1,Kota Medan\n"
        "Panel 1,Atlantis\n"
    )
    response = as_user(coordinator).post(urls.assignments_import, csv_upload(text), follow=True)
    content = response.content.decode()
    assert "Nothing was assigned" in content
    assert "row 3, column &#x27;panel&#x27;: no panel &#x27;Panel 9&#x27;" in content
    assert "row 4, column &#x27;region&#x27;: assessor2 has a conflict of interest" in content
    assert "row 5, column &#x27;region&#x27;: &#x27;Atlantis&#x27; does not take part" in content
    assert PanelRegion.objects.count() == 0


def test_a_region_twice_in_the_file_is_refused(world, as_user, coordinator, panel, urls):
    text = "panel,region\nPanel 1,kab-deli-serdang\nPanel 1,Kab. Deli Serdang\n"
    response = as_user(coordinator).post(urls.assignments_import, csv_upload(text), follow=True)
    assert b"appears twice" in response.content
    assert PanelRegion.objects.count() == 0


# --- a closed cycle ------------------------------------------------------------------------------------


@pytest.mark.parametrize("status", [Cycle.Status.CLOSED, Cycle.Status.PUBLISHED])
def test_a_closed_cycle_refuses_every_change_with_the_reason(
    world, as_user, coordinator, panel, panel_region, assessor, urls, status
):
    close(world, status)
    client = as_user(coordinator)
    writes = [
        (urls.panel_list, {"stage": STAGE, "name": "Late panel"}),
        (urls.assignments_import, csv_upload("panel,region\nPanel 1,kota-medan\n")),
        (urls.panel(panel, "member_add"), {"user": "assessor", "affiliation": "ministry"}),
        (urls.panel(panel, "member_remove"), {"user": "assessor3"}),
        (urls.panel(panel, "chair_set"), {"user": "assessor2"}),
        (urls.panel(panel, "region_assign"), {"region": "kota-medan"}),
        (urls.panel(panel, "region_unassign"), {"region": "kab-deli-serdang"}),
    ]
    for url, data in writes:
        response = client.post(url, data)
        assert response.status_code == 403, url
        assert b"can no longer change" in response.content
    assert (
        Panel.objects.count() == 1 and PanelMember.objects.count() == 3 and PanelRegion.objects.count() == 1
    )
    assert PanelMember.objects.get(is_chair=True).user.username == "chair"
    assert b"can no longer change" in client.get(urls.panel(panel)).content
