"""People pages (issue 12): a region's members and pending invitations for its regional admin
and the coordinator, the coordinator's list of everyone, and deactivating or reactivating a
membership (regional admin: their region's OPD contributors; coordinator: anyone) or a whole
account (coordinator). Nobody acts on themselves; outsiders are refused; a deactivated person
cannot log in, use a token or keep a session, and what they wrote stays.

Personas as in tests/web/conftest.py: region A (Kab. Deli Serdang) has admin_a and the
contributors opd_a (Dinkes) and opd_a2 (Disdik); region B (Kota Medan) has admin_b and opd_b.
The fixture ``people`` names them and adds one pending invitation per region.
"""

from __future__ import annotations

import datetime as dt
import re
from types import SimpleNamespace

import pytest
from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cityeval.web.accounts.invitations import invitation_accept
from cityeval.web.accounts.models import Invitation, Membership, Role
from cityeval.web.accounts.services import token_create
from cityeval.web.assessments.services import answer_record
from cityeval.web.audit.models import Action, AuditEntry
from cityeval.web.panels.selectors import assessor_users
from tests.helpers.web import PASSWORD, client_for, make_user

REGION_A, REGION_B = "kab-deli-serdang", "kota-medan"
ITEM = "baseline.legal_basis"


def _name(user, first: str, last: str, email: str) -> None:
    user.first_name, user.last_name, user.email = first, last, email
    user.save(update_fields=["first_name", "last_name", "email"])


def _invitation(ref: str, *, email: str, region, opd, by, role=Role.OPD_CONTRIBUTOR) -> Invitation:
    now = timezone.now()
    return Invitation.objects.create(
        ref=ref, digest=Invitation.digest_of(ref), email=email, name=email.split("@")[0].title(),
        role=role, region=region, opd=opd, invited_by=by, sent_at=now,
        expires_at=now + dt.timedelta(days=7),
    )  # fmt: skip


@pytest.fixture
def people(world, coordinator, admin_a, opd_a, opd_a2, admin_b, opd_b, assessor, nobody):
    _name(admin_a, "Sari", "Lubis", "sari@deliserdang.go.id")
    _name(opd_a, "Budi", "Santoso", "budi@dinkes.deliserdang.go.id")
    _name(opd_a2, "Rina", "Harahap", "rina@disdik.deliserdang.go.id")
    _name(admin_b, "Tono", "Siregar", "tono@pemkomedan.go.id")
    _name(opd_b, "Wati", "Nasution", "wati@dinkes.pemkomedan.go.id")
    _name(coordinator, "Kepala", "Sekretariat", "koordinator@kemendagri.go.id")
    invited_a = _invitation(
        "inv-a-pending", email="dewi@dinkes.deliserdang.go.id", region=world.region_a,
        opd=world.opd_health, by=admin_a,
    )  # fmt: skip
    invited_b = _invitation(
        "inv-b-pending", email="eko@dinkes.pemkomedan.go.id", region=world.region_b, opd=world.opd_b,
        by=admin_b,
    )  # fmt: skip
    return SimpleNamespace(
        world=world, coordinator=coordinator, admin_a=admin_a, opd_a=opd_a, opd_a2=opd_a2,
        admin_b=admin_b, opd_b=opd_b, assessor=assessor, nobody=nobody,
        invited_a=invited_a, invited_b=invited_b,
    )  # fmt: skip


def _region_page(region: str = REGION_A) -> str:
    return reverse("accounts:people_region", kwargs={"region": region})


def _deactivate(
    client: Client, user, *, region: str = REGION_A, role=Role.OPD_CONTRIBUTOR, opd="dinkes", **extra
):
    data = {"user": user.get_username(), "role": role, "opd": opd, **extra}
    return client.post(reverse("accounts:member_deactivate", kwargs={"region": region}), data)


def _reactivate(client: Client, user, *, region: str = REGION_A, role=Role.OPD_CONTRIBUTOR, opd="dinkes"):
    data = {"user": user.get_username(), "role": role, "opd": opd}
    return client.post(reverse("accounts:member_reactivate", kwargs={"region": region}), data)


def _membership(user, role=Role.OPD_CONTRIBUTOR) -> Membership:
    return Membership.objects.get(user=user, role=role)


def _usernames(listing) -> set[str]:
    return {person.username for person in listing.items}


def _people(client: Client, **params):
    response = client.get(reverse("accounts:people"), params)
    assert response.status_code == 200
    return response.context["listing"]


def _table(html: str, table_id: str) -> str:
    return re.search(rf'<table id="{table_id}".*?</table>', html, re.S).group(0)


# --- the region's page --------------------------------------------------------------------------


def test_the_region_page_lists_its_members_and_its_pending_invitations_only(people):
    people.opd_a.last_login = dt.datetime(2024, 8, 5, 9, 30, tzinfo=dt.UTC)
    people.opd_a.save(update_fields=["last_login"])
    response = client_for(people.admin_a).get(_region_page())
    assert response.status_code == 200
    members = response.context["members"]
    assert [(m.user.username, m.role, m.opd.slug if m.opd else "") for m in members] == [
        ("admin_a", Role.REGIONAL_ADMIN, ""),
        ("opd_a", Role.OPD_CONTRIBUTOR, "dinkes"),  # Budi before Rina
        ("opd_a2", Role.OPD_CONTRIBUTOR, "disdik"),
    ]
    html = response.content.decode()
    table = _table(html, "members")
    for text in ("Sari Lubis", "sari@deliserdang.go.id", "Regional admin", "Budi Santoso", "Dinas Kesehatan",
                 "OPD contributor", "Rina Harahap", "Dinas Pendidikan", "never"):  # fmt: skip
        assert text in table, text
    assert "Aug. 5, 2024, 4:30 p.m." in table  # 09:30 UTC is 16:30 in Jakarta (UTC+7)
    assert "Tono" not in html and "Wati" not in html  # region B's people
    pending = _table(html, "pending-invitations")
    assert "dewi@dinkes.deliserdang.go.id" in pending and "eko@" not in pending
    assert reverse("accounts:invitation_resend", kwargs={"ref": "inv-a-pending"}) in pending
    assert reverse("accounts:invitation_revoke", kwargs={"ref": "inv-a-pending"}) in pending
    # The admin may deactivate the two contributors, not themselves.
    assert [m.changeable for m in members] == [False, True, True]


def test_the_coordinator_may_deactivate_everyone_on_a_region_page_but_manages_no_contributor_invitation(
    people,
):
    response = client_for(people.coordinator).get(_region_page())
    assert response.status_code == 200
    assert [m.changeable for m in response.context["members"]] == [True, True, True]
    # An OPD contributor's invitation is the regional admin's to resend or withdraw.
    assert [i.manageable for i in response.context["pending"]] == [False]
    assert (
        reverse("accounts:invitation_resend", kwargs={"ref": "inv-a-pending"})
        not in response.content.decode()
    )


def test_the_region_dashboard_links_the_people_page_for_its_admin_and_the_coordinator(people):
    dashboard = reverse("regions:dashboard", kwargs={"region": REGION_A})
    for user in (people.admin_a, people.coordinator):
        assert _region_page() in client_for(user).get(dashboard).content.decode()
    assert _region_page() not in client_for(people.opd_a).get(dashboard).content.decode()


def test_outsiders_cannot_open_a_region_page_or_act_on_it(people):
    assert Client().get(_region_page()).url.startswith(reverse("accounts:login"))
    assert _deactivate(Client(), people.opd_a, confirm="yes").url.startswith(reverse("accounts:login"))
    for outsider in (people.admin_b, people.opd_b, people.assessor, people.nobody):  # outside the region
        client = client_for(outsider)
        assert client.get(_region_page()).status_code == 404, outsider
        assert _deactivate(client, people.opd_a, confirm="yes").status_code == 404, outsider
        assert _reactivate(client, people.opd_a).status_code == 404, outsider
    # A contributor of the region is a member, but not one who manages people.
    assert client_for(people.opd_a2).get(_region_page()).status_code == 403
    assert _deactivate(client_for(people.opd_a2), people.opd_a, confirm="yes").status_code == 403
    assert _membership(people.opd_a).active
    assert not AuditEntry.objects.filter(action=Action.MEMBER_DEACTIVATE).exists()


def test_a_get_of_an_action_changes_nothing(people):
    """An action is a POST; a GET (a link followed, a reload) is sent back to the page."""
    url = reverse("accounts:member_deactivate", kwargs={"region": REGION_A})
    response = client_for(people.admin_a).get(
        url, {"user": "opd_a", "role": "opd_contributor", "opd": "dinkes"}
    )
    assert response.status_code == 302 and response.url == _region_page()
    assert _membership(people.opd_a).active


# --- deactivating and reactivating a membership -------------------------------------------------


def test_a_regional_admin_deactivates_a_contributor_after_a_confirmation_and_it_is_recorded(people):
    client = client_for(people.admin_a)
    asked = _deactivate(client, people.opd_a)
    assert asked.status_code == 200 and 'name="confirm" value="yes"' in asked.content.decode()
    assert "Budi Santoso" in asked.content.decode() and _membership(people.opd_a).active  # asked only
    done = _deactivate(client, people.opd_a, confirm="yes", reason="Moved to another office")
    assert done.status_code == 302 and done.url == _region_page()
    assert not _membership(people.opd_a).active
    assert Membership.objects.filter(user=people.opd_a).count() == 1  # kept, not deleted
    assert get_user_model().objects.get(pk=people.opd_a.pk).is_active  # the account is the coordinator's
    entry = AuditEntry.objects.get(action=Action.MEMBER_DEACTIVATE)
    assert (entry.user, entry.region, entry.target_type) == (
        people.admin_a,
        people.world.region_a,
        "membership",
    )
    assert entry.details == {
        "member": "opd_a", "role": "opd_contributor", "opd": "dinkes", "scope": "membership",
        "reason": "Moved to another office",
    }  # fmt: skip
    row = _table(client.get(_region_page()).content.decode(), "members")
    assert "deactivated" in row and "Reactivate" in row


def test_a_deactivated_membership_gives_no_access_to_the_regions_pages_or_its_api(people):
    token = token_create(user=people.opd_a, name="script")
    session = client_for(people.opd_a)  # signed in before the deactivation
    dashboard = reverse("regions:dashboard", kwargs={"region": REGION_A})
    assert session.get(dashboard).status_code == 200
    _deactivate(client_for(people.admin_a), people.opd_a, confirm="yes")
    assert session.get(dashboard).status_code == 404  # no role in the region any more
    api = Client().get(f"/api/regions/{REGION_A}/opds", headers={"Authorization": f"Bearer {token}"})
    assert api.status_code == 404
    assert (
        session.get(reverse("accounts:tokens")).status_code == 200
    )  # still logged in: the account is active


def test_reactivation_restores_the_role_and_is_recorded(people):
    admin = client_for(people.admin_a)
    _deactivate(admin, people.opd_a, confirm="yes")
    response = _reactivate(admin, people.opd_a)
    assert response.status_code == 302 and _membership(people.opd_a).active
    dashboard = reverse("regions:dashboard", kwargs={"region": REGION_A})
    assert client_for(people.opd_a).get(dashboard).status_code == 200
    entry = AuditEntry.objects.get(action=Action.MEMBER_REACTIVATE)
    assert (entry.user, entry.region, entry.details["member"]) == (
        people.admin_a,
        people.world.region_a,
        "opd_a",
    )
    # Reactivating an active membership changes and records nothing.
    _reactivate(admin, people.opd_a)
    assert AuditEntry.objects.filter(action=Action.MEMBER_REACTIVATE).count() == 1


def test_a_regional_admin_cannot_deactivate_another_admin_or_themselves(people):
    second = make_user("admin_a_bis", Role.REGIONAL_ADMIN, region=people.world.region_a)
    client = client_for(people.admin_a)
    other = _deactivate(client, second, role=Role.REGIONAL_ADMIN, opd="", confirm="yes")
    assert other.status_code == 403
    myself = _deactivate(client, people.admin_a, role=Role.REGIONAL_ADMIN, opd="", confirm="yes")
    assert myself.status_code == 403 and "cannot deactivate or reactivate yourself" in myself.content.decode()
    assert (
        _membership(second, Role.REGIONAL_ADMIN).active
        and _membership(people.admin_a, Role.REGIONAL_ADMIN).active
    )
    # Another region's contributor is not found through this region's page.
    assert _deactivate(client, people.opd_b, confirm="yes").status_code == 404
    assert not AuditEntry.objects.filter(action=Action.MEMBER_DEACTIVATE).exists()


def test_the_coordinator_deactivates_a_regional_admins_membership_but_never_their_own(people):
    coordinator = client_for(people.coordinator)
    response = _deactivate(coordinator, people.admin_a, role=Role.REGIONAL_ADMIN, opd="", confirm="yes")
    assert response.status_code == 302 and not _membership(people.admin_a, Role.REGIONAL_ADMIN).active
    assert client_for(people.admin_a).get(_region_page()).status_code == 404
    # Their own coordinator role is not on a region's page; their own account is refused below.
    Membership.objects.create(user=people.coordinator, role=Role.KKPD_INSPECTOR, region=people.world.region_a)
    mine = _deactivate(coordinator, people.coordinator, role=Role.KKPD_INSPECTOR, opd="", confirm="yes")
    assert mine.status_code == 403 and _membership(people.coordinator, Role.KKPD_INSPECTOR).active


def test_a_regional_admin_deactivated_by_the_coordinator_cannot_reactivate_themselves(people):
    _deactivate(
        client_for(people.coordinator), people.admin_a, role=Role.REGIONAL_ADMIN, opd="", confirm="yes"
    )
    Membership.objects.create(user=people.admin_a, role=Role.REGIONAL_ADMIN, region=people.world.region_b)
    # Even with a role elsewhere, region A's page is closed to them.
    response = _reactivate(client_for(people.admin_a), people.admin_a, role=Role.REGIONAL_ADMIN, opd="")
    assert response.status_code == 404
    assert not Membership.objects.get(user=people.admin_a, region=people.world.region_a).active


def test_what_a_deactivated_member_wrote_is_still_shown_with_their_name(people):
    answer_record(
        participation=people.world.participation_a, item=ITEM, level=3, raw_value=None,
        narrative="Perbup 12/2023", user=people.opd_a,
    )  # fmt: skip
    _deactivate(client_for(people.admin_a), people.opd_a, confirm="yes")
    client_for(people.coordinator).post(
        reverse("accounts:person_deactivate"), {"user": "opd_a", "confirm": "yes"}
    )
    assert not get_user_model().objects.get(username="opd_a").is_active
    item = reverse("assessments:item", kwargs={"region": REGION_A, "cycle": "gmsc-2024", "item": ITEM})
    history = _table(client_for(people.admin_a).get(item).content.decode(), "history")
    assert "opd_a" in history
    # ...and the person stays on the region's page, marked.
    members = _table(client_for(people.admin_a).get(_region_page()).content.decode(), "members")
    assert "Budi Santoso" in members and "account deactivated" in members


def test_an_invitation_accepted_again_reactivates_the_role(people):
    _deactivate(client_for(people.admin_a), people.opd_a, confirm="yes")
    world = people.world
    _invitation(
        "inv-again", email=people.opd_a.email, region=world.region_a, opd=world.opd_health, by=people.admin_a
    )
    invitation_accept(token="inv-again", user=people.opd_a)
    assert _membership(people.opd_a).active


def test_an_invitation_sent_before_the_deactivation_is_withdrawn_with_it(people):
    """Security review: a link sent before the deactivation brought the role back when used."""
    from cityeval.web.accounts.invitations import InvitationDead

    world = people.world
    before = _invitation(
        "inv-before", email=people.opd_a.email, region=world.region_a, opd=world.opd_health, by=people.admin_a
    )
    other_opd = _invitation(
        "inv-other",
        email=people.opd_a.email,
        region=world.region_a,
        opd=world.opd_education,
        by=people.admin_a,
    )
    _deactivate(client_for(people.admin_a), people.opd_a, confirm="yes")
    before.refresh_from_db()
    other_opd.refresh_from_db()
    assert before.revoked_at is not None and other_opd.revoked_at is None  # the same scope only
    with pytest.raises(InvitationDead):
        invitation_accept(token="inv-before", user=people.opd_a)
    assert not _membership(people.opd_a).active
    assert AuditEntry.objects.filter(action=Action.INVITATION_REVOKE, user=people.admin_a).count() == 1


def test_a_deactivated_account_s_pending_invitations_are_withdrawn(people):
    world = people.world
    invitation = _invitation(
        "inv-acct", email=people.opd_a2.email, region=world.region_a, opd=world.opd_health, by=people.admin_a
    )
    from cityeval.web.accounts.people import account_deactivate

    account_deactivate(person=people.opd_a2, by=people.coordinator)
    invitation.refresh_from_db()
    assert invitation.revoked_at is not None


def test_a_deactivated_assessor_role_is_not_offered_for_a_panel(people):
    assert list(assessor_users()) == [people.assessor]
    Membership.objects.filter(user=people.assessor).update(active=False)
    assert list(assessor_users()) == []


# --- the coordinator's list -----------------------------------------------------------------------


def test_the_coordinator_sees_everyone_with_their_roles_and_counts(people):
    Membership.objects.create(user=people.opd_a, role=Role.KKPD_INSPECTOR, region=people.world.region_a)
    region, health = people.world.region_a, people.world.opd_health
    Membership.objects.create(
        user=people.opd_a2, role=Role.OPD_CONTRIBUTOR, region=region, opd=health, active=False
    )
    client = client_for(people.coordinator)
    listing = _people(client)
    assert _usernames(listing) == {
        "coordinator", "admin_a", "opd_a", "opd_a2", "admin_b", "opd_b", "assessor", "nobody",
    }  # fmt: skip
    counts = {p.username: p.membership_count for p in listing.items}
    assert counts["opd_a"] == 2 and counts["opd_a2"] == 1 and counts["nobody"] == 0  # active ones only
    html = client.get(reverse("accounts:people")).content.decode()
    table = _table(html, "people-table")
    assert _region_page(REGION_A) in table and _region_page(REGION_B) in table
    assert "KKPD inspector" in table and "(deactivated)" in table and "no role" in table
    assert reverse("accounts:people") in client.get(reverse("home"), follow=True).content.decode()  # nav


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"role": "opd_contributor"}, {"opd_a", "opd_a2", "opd_b"}),
        ({"region": REGION_B}, {"admin_b", "opd_b"}),
        ({"role": "regional_admin", "region": REGION_A}, {"admin_a"}),
        ({"role": "assessor"}, {"assessor"}),
        ({"q": "deliserdang.go.id"}, {"admin_a", "opd_a", "opd_a2"}),  # e-mail address
        ({"q": "siregar"}, {"admin_b"}),  # last name, any case
        ({"q": "opd_b"}, {"opd_b"}),  # username
        ({"q": "santoso", "region": REGION_B}, set()),
        ({"role": "no-such-role"}, None),  # an unknown value filters nothing
    ],
)
def test_the_coordinators_list_filters_and_searches(people, params, expected):
    everyone = {"coordinator", "admin_a", "opd_a", "opd_a2", "admin_b", "opd_b", "assessor", "nobody"}
    assert _usernames(_people(client_for(people.coordinator), **params)) == (
        everyone if expected is None else expected
    )


def test_the_role_and_region_filters_match_one_membership(people):
    """A regional admin of A who contributes in B is not a regional admin of B."""
    Membership.objects.create(
        user=people.admin_a, role=Role.OPD_CONTRIBUTOR, region=people.world.region_b, opd=people.world.opd_b
    )
    client = client_for(people.coordinator)
    assert _usernames(_people(client, role="regional_admin", region=REGION_B)) == {"admin_b"}
    assert _usernames(_people(client, role="opd_contributor", region=REGION_B)) == {"admin_a", "opd_b"}
    # A deactivated membership does not count for the filters.
    Membership.objects.filter(user=people.admin_a, region=people.world.region_b).update(active=False)
    assert _usernames(_people(client, role="opd_contributor", region=REGION_B)) == {"opd_b"}


def test_the_coordinators_list_filters_by_account_status_and_pages(people):
    get_user_model().objects.bulk_create(
        [get_user_model()(username=f"pegawai{n:02d}", is_active=False) for n in range(50)]
    )
    client = client_for(people.coordinator)
    inactive = _people(client, status="inactive")
    assert inactive.count == 50 and len(inactive.items) == 50 and inactive.page.paginator.num_pages == 1
    assert _usernames(_people(client, status="active")) == {
        "coordinator", "admin_a", "opd_a", "opd_a2", "admin_b", "opd_b", "assessor", "nobody",
    }  # fmt: skip
    everyone = _people(client)
    assert everyone.count == 58 and everyone.page.paginator.num_pages == 2
    second = _people(client, page=2)
    assert len(second.items) == 8  # 58 = 50 + 8, by username
    assert [p.username for p in second.items][-1] == "pegawai49"


def test_only_the_coordinator_opens_the_list_of_everyone(people):
    url = reverse("accounts:people")
    assert Client().get(url).url.startswith(reverse("accounts:login"))
    for outsider in (people.admin_a, people.opd_a, people.assessor, people.nobody):
        assert client_for(outsider).get(url).status_code == 403, outsider
        response = client_for(outsider).post(
            reverse("accounts:person_deactivate"), {"user": "opd_b", "confirm": "yes"}
        )
        assert response.status_code == 403, outsider
        assert (
            client_for(outsider).post(reverse("accounts:person_reactivate"), {"user": "opd_b"}).status_code
            == 403
        )
    assert get_user_model().objects.get(username="opd_b").is_active
    assert not AuditEntry.objects.exists()


# --- deactivating and reactivating an account -------------------------------------------------------


def _log_in(username: str) -> tuple[Client, int]:
    client = Client()
    response = client.post(reverse("accounts:login"), {"username": username, "password": PASSWORD})
    return client, response.status_code


def test_a_deactivated_account_cannot_log_in_use_a_token_or_keep_its_session(people):
    token = token_create(user=people.opd_a, name="script")
    auth = {"Authorization": f"Bearer {token}"}
    api = f"/api/regions/{REGION_A}/opds"
    session, status = _log_in("opd_a")  # through the real log-in page
    assert status == 302 and Client().get(api, headers=auth).status_code == 200
    dashboard = reverse("regions:dashboard", kwargs={"region": REGION_A})
    assert session.get(dashboard).status_code == 200

    coordinator = client_for(people.coordinator)
    asked = coordinator.post(reverse("accounts:person_deactivate"), {"user": "opd_a"})
    assert asked.status_code == 200 and get_user_model().objects.get(username="opd_a").is_active
    done = coordinator.post(
        reverse("accounts:person_deactivate"), {"user": "opd_a", "confirm": "yes", "reason": "Retired"}
    )
    assert done.status_code == 302 and not get_user_model().objects.get(username="opd_a").is_active

    ended = session.get(dashboard)  # the open session ends at its next request
    assert ended.status_code == 302 and ended.url.startswith(reverse("accounts:login"))
    assert _log_in("opd_a")[1] == 200  # the log-in form again, refused
    assert Client().get(api, headers=auth).status_code == 401
    entry = AuditEntry.objects.get(action=Action.MEMBER_DEACTIVATE)
    assert (entry.user, entry.region, entry.target_type, entry.target_text) == (
        people.coordinator, None, "user", "opd_a",
    )  # fmt: skip
    assert entry.details == {"member": "opd_a", "scope": "account", "reason": "Retired"}
    assert _usernames(_people(coordinator, status="inactive")) == {"opd_a"}

    assert coordinator.post(reverse("accounts:person_reactivate"), {"user": "opd_a"}).status_code == 302
    again, status = _log_in("opd_a")
    assert status == 302 and again.get(dashboard).status_code == 200
    assert Client().get(api, headers=auth).status_code == 200
    reactivated = AuditEntry.objects.get(action=Action.MEMBER_REACTIVATE)
    assert (reactivated.user, reactivated.details) == (
        people.coordinator,
        {"member": "opd_a", "scope": "account"},
    )


def test_the_coordinator_cannot_deactivate_their_own_account(people):
    client = client_for(people.coordinator)
    response = client.post(reverse("accounts:person_deactivate"), {"user": "coordinator", "confirm": "yes"})
    assert (
        response.status_code == 403
        and "cannot deactivate or reactivate yourself" in response.content.decode()
    )
    assert client.post(reverse("accounts:person_reactivate"), {"user": "coordinator"}).status_code == 403
    assert get_user_model().objects.get(username="coordinator").is_active
    listing = _people(client)
    assert {p.username: p.changeable for p in listing.items}["coordinator"] is False
    assert not AuditEntry.objects.exists()


def test_an_unknown_person_is_not_found(people):
    client = client_for(people.coordinator)
    assert (
        client.post(reverse("accounts:person_deactivate"), {"user": "ghost", "confirm": "yes"}).status_code
        == 404
    )
    assert _deactivate(client, people.opd_a, opd="disdik", confirm="yes").status_code == 404  # wrong OPD


def test_the_people_pages_speak_indonesian(people, settings):
    settings.LANGUAGE_CODE = "id"
    html = client_for(people.coordinator).get(reverse("accounts:people")).content.decode()
    assert ">Pengguna</a>" in html and "Nonaktifkan" in html
    region = client_for(people.admin_a).get(_region_page()).content.decode()
    assert "Terakhir masuk" in region and "Undangan yang belum diterima" in region
