"""Invitations: the coordinator invites regional admins and assessors, a regional admin invites
OPD contributors for their own OPDs; the link works once, expires, and can be resent or
withdrawn; nobody invites beyond their scope. Personas as in tests/web/conftest.py."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.exceptions import PermissionDenied
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from cityeval.web.accounts.invitation_import import invitations_import
from cityeval.web.accounts.invitations import (
    AFFILIATION_CODES,
    AddressDeactivated,
    invitation_accept,
    invitation_create,
)
from cityeval.web.accounts.models import Invitation, Membership, Role
from cityeval.web.panels.models import PanelMember
from tests.helpers.web import client_for

PASSWORD = "sate-padang-malam-77"


def _link(message) -> str:
    return re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s/]+/)", message.body).group(1)


def _invite_admin(client: Client, region: str = "kab-deli-serdang", email: str = "sari@example.go.id"):
    data = {"role": "regional_admin", "region": region, "name": "Sari", "email": email, "language": "id"}
    return client.post(reverse("accounts:invitations"), data)


def _accept(path: str, password: str = PASSWORD, client: Client | None = None):
    client = client or Client()
    return client, client.post(path, {"password1": password, "password2": password})


def test_a_regional_admin_invited_by_the_coordinator_sets_a_password_and_sees_only_that_region(
    coordinator, world, as_user
):
    response = _invite_admin(as_user(coordinator))
    assert response.status_code == 302
    (message,) = mail.outbox
    assert message.to == ["sari@example.go.id"]
    assert message.subject.startswith("Undangan")  # Indonesian by default
    assert message.alternatives[0][1] == "text/html"
    assert Membership.objects.filter(user__email="sari@example.go.id").count() == 0  # not before accepting
    client, accepted = _accept(_link(message))
    assert accepted.status_code == 302 and accepted.url == reverse("home")
    assert client.get(reverse("home")).url == reverse(
        "regions:dashboard", kwargs={"region": "kab-deli-serdang"}
    )
    assert client.get(reverse("regions:dashboard", kwargs={"region": "kota-medan"})).status_code == 404
    user = get_user_model().objects.get(email="sari@example.go.id")
    assert user.username == "sari@example.go.id" and user.check_password(PASSWORD)
    assert [(m.role, m.region_id) for m in user.memberships.all()] == [
        (Role.REGIONAL_ADMIN, world.region_a.id)
    ]


def test_the_link_works_once(coordinator, as_user):
    _invite_admin(as_user(coordinator))
    path = _link(mail.outbox[0])
    _accept(path)
    _client, again = _accept(path, "another-long-password-9")
    assert again.status_code == 410
    assert Client().get(path).status_code == 410


def test_an_expired_link_is_refused(coordinator, as_user):
    _invite_admin(as_user(coordinator))
    Invitation.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    _client, response = _accept(_link(mail.outbox[0]))
    assert response.status_code == 410 and not get_user_model().objects.filter(email="sari@example.go.id")


def test_a_tampered_link_is_refused(coordinator, as_user):
    _invite_admin(as_user(coordinator))
    path = _link(mail.outbox[0])
    tampered = path[:-3] + ("A" if path[-3] != "A" else "B") + path[-2:]
    _client, response = _accept(tampered)
    assert response.status_code == 410 and not get_user_model().objects.filter(email="sari@example.go.id")


def test_a_weak_password_is_refused_by_djangos_validators_and_nothing_is_created(coordinator, as_user):
    _invite_admin(as_user(coordinator))
    _client, response = _accept(_link(mail.outbox[0]), "1234")
    assert response.status_code == 400 and b"too short" in response.content
    assert Invitation.objects.get().used_at is None
    assert not get_user_model().objects.filter(email="sari@example.go.id").exists()


def test_resending_replaces_the_link_and_withdrawing_kills_it(coordinator, as_user):
    client = as_user(coordinator)
    _invite_admin(client)
    invitation = Invitation.objects.get()
    old = _link(mail.outbox[0])
    assert (
        client.post(reverse("accounts:invitation_resend", kwargs={"ref": invitation.ref})).status_code == 302
    )
    new = _link(mail.outbox[1])
    assert old != new and Client().get(old).status_code == 410 and Client().get(new).status_code == 200
    revoke = reverse("accounts:invitation_revoke", kwargs={"ref": invitation.ref})
    assert client.get(revoke).status_code == 200  # the confirmation page
    assert client.post(revoke, {"confirm": "yes"}).status_code == 302
    assert Client().get(new).status_code == 410
    assert b"sari@example.go.id" not in client.get(reverse("accounts:invitations")).content


def test_an_assessor_needs_an_affiliation_and_gets_the_national_role(coordinator, as_user):
    client = as_user(coordinator)
    data = {"role": "assessor", "name": "Dr. Rina", "email": "rina@ui.ac.id", "organisation": "UI"}
    assert client.post(reverse("accounts:invitations"), data).status_code == 400
    assert (
        client.post(reverse("accounts:invitations"), {**data, "affiliation": "university"}).status_code == 302
    )
    _client, accepted = _accept(_link(mail.outbox[0]))
    assert accepted.status_code == 302
    invitation = Invitation.objects.get()
    assert (invitation.affiliation, invitation.organisation) == ("university", "UI")
    assert Membership.objects.get(user__email="rina@ui.ac.id").role == Role.ASSESSOR


def test_a_regional_admin_invites_contributors_for_their_own_opds_only(admin_a, world, as_user):
    client = as_user(admin_a)
    url = reverse("accounts:invitations_regional", kwargs={"region": "kab-deli-serdang"})
    data = {"opd": "dinkes", "name": "Tono", "email": "tono@example.go.id"}
    assert client.post(url, data).status_code == 302
    _new, accepted = _accept(_link(mail.outbox[0]))
    assert accepted.status_code == 302
    member = Membership.objects.get(user__email="tono@example.go.id")
    assert (member.role, member.opd_id) == (Role.OPD_CONTRIBUTOR, world.opd_health.id)
    # Region B's OPD is not offered and not taken on region A's page; region B's page is closed.
    assert client.post(url, {**data, "opd": "no-such", "email": "x@example.go.id"}).status_code == 400
    other = reverse("accounts:invitations_regional", kwargs={"region": "kota-medan"})
    assert client.post(other, {**data, "email": "y@example.go.id"}).status_code == 404
    assert Invitation.objects.count() == 1


def test_nobody_invites_beyond_their_scope_or_raises_a_role(
    world, coordinator, admin_a, admin_b, opd_a, assessor, as_user
):
    # Services: the roles a person may not give.
    with pytest.raises(PermissionDenied):
        invitation_create(
            by=admin_a, email="a@x.id", name="A", role=Role.REGIONAL_ADMIN, region=world.region_a
        )
    with pytest.raises(PermissionDenied):
        invitation_create(by=admin_a, email="a@x.id", name="A", role=Role.COORDINATOR)
    with pytest.raises(PermissionDenied):
        invitation_create(
            by=admin_b,
            email="a@x.id",
            name="A",
            role=Role.OPD_CONTRIBUTOR,
            region=world.region_a,
            opd=world.opd_health,
        )
    with pytest.raises(PermissionDenied):  # an OPD of another region under one's own region
        invitation_create(
            by=admin_a,
            email="a@x.id",
            name="A",
            role=Role.OPD_CONTRIBUTOR,
            region=world.region_a,
            opd=world.opd_b,
        )
    with pytest.raises(PermissionDenied):  # the coordinator changes no region's own people
        invitation_create(
            by=coordinator,
            email="a@x.id",
            name="A",
            role=Role.OPD_CONTRIBUTOR,
            region=world.region_a,
            opd=world.opd_health,
        )
    # Pages: the national page is the coordinator's; a region's page its admin's.
    national = reverse("accounts:invitations")
    for outsider in (admin_a, opd_a, assessor):
        assert as_user(outsider).get(national).status_code == 403
        assert _invite_admin(as_user(outsider)).status_code == 403
    regional = reverse("accounts:invitations_regional", kwargs={"region": "kab-deli-serdang"})
    assert as_user(admin_b).get(regional).status_code == 404
    assert as_user(assessor).get(regional).status_code == 404
    assert as_user(opd_a).get(regional).status_code == 403
    assert as_user(coordinator).get(regional).status_code == 403
    for url in (national, regional):
        anonymous = Client().get(url)
        assert anonymous.status_code == 302 and anonymous.url.startswith(reverse("accounts:login"))
    # The coordinator's form cannot be bent into another role.
    data = {"role": "coordinator", "name": "X", "email": "x@example.go.id"}
    assert as_user(coordinator).post(national, data).status_code == 403
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_outsiders_cannot_resend_or_withdraw_an_invitation(
    world, admin_a, admin_b, opd_a, coordinator, as_user
):
    as_user(admin_a).post(
        reverse("accounts:invitations_regional", kwargs={"region": "kab-deli-serdang"}),
        {"opd": "dinkes", "name": "Tono", "email": "tono@example.go.id"},
    )
    ref = Invitation.objects.get().ref
    for outsider in (admin_b, opd_a, coordinator):
        client = as_user(outsider)
        assert client.post(reverse("accounts:invitation_resend", kwargs={"ref": ref})).status_code == 404
        assert (
            client.post(
                reverse("accounts:invitation_revoke", kwargs={"ref": ref}), {"confirm": "yes"}
            ).status_code
            == 404
        )
    assert Client().post(reverse("accounts:invitation_resend", kwargs={"ref": ref})).status_code == 302
    assert Invitation.objects.get().revoked_at is None and len(mail.outbox) == 1


def test_someone_logged_in_as_another_person_is_asked_to_log_out_first(coordinator, as_user):
    client = as_user(coordinator)
    _invite_admin(client)
    path = _link(mail.outbox[0])
    page = client.get(path)
    assert page.status_code == 200 and b'id="log-out-first"' in page.content
    assert client.post(path, {}).status_code == 403
    assert Invitation.objects.get().used_at is None


def test_an_existing_account_accepts_while_logged_in_and_gains_the_membership(
    coordinator, opd_b, world, as_user
):
    opd_b.email = "sari@example.go.id"
    opd_b.save()
    _invite_admin(as_user(coordinator))
    path = _link(mail.outbox[0])
    assert b"An account with this e-mail address exists" in Client().get(path).content
    assert as_user(opd_b).post(path).status_code == 302
    assert Membership.objects.filter(user=opd_b, role=Role.REGIONAL_ADMIN, region=world.region_a).exists()


def _csv(text: str) -> SimpleUploadedFile:
    return SimpleUploadedFile("people.csv", text.encode("utf-8"), content_type="text/csv")


def test_a_bulk_file_invites_everyone_in_it(coordinator, world, as_user):
    table = (
        "region,name,email,role,affiliation,organisation\n"
        "kab-deli-serdang,Sari,sari@example.go.id,regional_admin,,\n"
        "Kota Medan,Made,made@example.go.id,Admin daerah,,\n"
        ",Dr. Rina,rina@ui.ac.id,assessor,University,Universitas Indonesia\n"
    )
    response = as_user(coordinator).post(
        reverse("accounts:invitations"), {"action": "import", "file": _csv(table)}
    )
    assert response.status_code == 302
    assert sorted(m.to[0] for m in mail.outbox) == [
        "made@example.go.id",
        "rina@ui.ac.id",
        "sari@example.go.id",
    ]
    scopes = {
        (i.email, i.role, i.region.slug if i.region else "", i.affiliation) for i in Invitation.objects.all()
    }
    assert scopes == {
        ("sari@example.go.id", "regional_admin", "kab-deli-serdang", ""),
        ("made@example.go.id", "regional_admin", "kota-medan", ""),
        ("rina@ui.ac.id", "assessor", "", "university"),
    }


def test_a_bulk_file_with_bad_rows_lands_nothing_and_names_every_bad_row(coordinator, world, as_user):
    table = (
        "region,name,email,role,affiliation\n"
        "kab-deli-serdang,Sari,sari@example.go.id,regional_admin,\n"
        "Atlantis,Ana,ana@example.go.id,regional_admin,\n"
        "kota-medan,Budi,not-an-address,regional_admin,\n"
        ",Rina,rina@ui.ac.id,assessor,\n"
        "kab-deli-serdang,Sari again,SARI@example.go.id,regional_admin,\n"
        "kota-medan,Joko,joko@example.go.id,coordinator,\n"
    )
    response = as_user(coordinator).post(
        reverse("accounts:invitations"), {"action": "import", "file": _csv(table)}
    )
    assert response.status_code == 400
    text = response.content.decode()
    # Rows numbered as in a spreadsheet: the header is row 1.
    for row in ("row 3", "row 4", "row 5", "row 6", "row 7"):
        assert row in text, row
    assert "row 2" not in text
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_only_the_coordinator_imports_invitations(admin_a, world):
    with pytest.raises(PermissionDenied):
        invitations_import(by=admin_a, upload=_csv("region,name,email,role\n"))


def test_a_spreadsheet_disguised_as_something_else_is_refused_on_content(coordinator, world, as_user):
    fake = SimpleUploadedFile(
        "people.xlsx", b"PK\x03\x04 not really a zip", content_type="application/vnd.ms-excel"
    )
    response = as_user(coordinator).post(reverse("accounts:invitations"), {"action": "import", "file": fake})
    assert response.status_code == 400 and Invitation.objects.count() == 0


def test_the_affiliations_are_the_panels_own():
    assert set(AFFILIATION_CODES) == set(PanelMember.Affiliation.values)


def test_the_new_username_is_the_address_in_lower_case(coordinator, as_user):
    """Django's usernames are case-sensitive; a user who types their address differently at
    log-in must still get in."""
    _invite_admin(as_user(coordinator), email="Sari.Dewi@Example.go.id")
    _accept(_link(mail.outbox[0]))
    login = Client().post(
        reverse("accounts:login"), {"username": "sari.dewi@example.go.id", "password": PASSWORD}
    )
    assert login.status_code == 302


def test_one_pending_invitation_per_address_role_and_region(coordinator, as_user):
    client = as_user(coordinator)
    assert _invite_admin(client).status_code == 302
    again = _invite_admin(client, email="SARI@example.go.id")
    assert again.status_code == 400 and b"already has a pending invitation" in again.content
    assert _invite_admin(client, region="kota-medan").status_code == 302  # another region: fine
    assert Invitation.objects.count() == 2 and len(mail.outbox) == 2


def test_a_mail_server_failure_keeps_the_invitation_to_send_again(coordinator, as_user, monkeypatch):
    from django.core.mail.backends.locmem import EmailBackend

    def refuse(self, messages):
        raise ConnectionRefusedError("no mail server")

    monkeypatch.setattr(EmailBackend, "send_messages", refuse)
    client = as_user(coordinator)
    response = _invite_admin(client)
    assert response.status_code == 302
    page = client.get(response.url).content.decode()
    assert "the e-mail could not be sent" in page and "sari@example.go.id" in page
    monkeypatch.undo()
    ref = Invitation.objects.get().ref
    client.post(reverse("accounts:invitation_resend", kwargs={"ref": ref}))
    _client, accepted = _accept(_link(mail.outbox[0]))
    assert accepted.status_code == 302


def _invite_contributor(admin_a) -> str:
    url = reverse("accounts:invitations_regional", kwargs={"region": "kab-deli-serdang"})
    data = {"opd": "dinkes", "name": "Tono", "email": "tono@example.go.id"}
    assert client_for(admin_a).post(url, data).status_code == 302
    return _link(mail.outbox[-1])


def _refused_and_nothing_made(path: str, email: str) -> None:
    page = Client().get(path)
    assert page.status_code == 410 and b"the person who sent it may no longer invite" in page.content
    _client, accepted = _accept(path)
    assert accepted.status_code == 410 and b"Ask for a new invitation" in accepted.content
    assert not get_user_model().objects.filter(email=email).exists()
    assert not Membership.objects.filter(user__email=email).exists()
    assert Invitation.objects.get(email=email).used_at is None


def test_an_invitation_of_a_regional_admin_who_lost_the_role_is_refused(admin_a, world):
    path = _invite_contributor(admin_a)
    Membership.objects.filter(user=admin_a, role=Role.REGIONAL_ADMIN).delete()
    _refused_and_nothing_made(path, "tono@example.go.id")


def test_an_invitation_of_an_admin_moved_to_another_region_is_refused(admin_a, world):
    path = _invite_contributor(admin_a)
    Membership.objects.filter(user=admin_a, role=Role.REGIONAL_ADMIN).update(region=world.region_b)
    _refused_and_nothing_made(path, "tono@example.go.id")


def test_an_invitation_of_a_deactivated_inviter_is_refused(admin_a, world):
    path = _invite_contributor(admin_a)
    admin_a.is_active = False
    admin_a.save()
    _refused_and_nothing_made(path, "tono@example.go.id")


def test_an_invitation_of_a_coordinator_who_lost_the_role_or_the_account_is_refused(coordinator, world):
    _invite_admin(client_for(coordinator))
    path = _link(mail.outbox[-1])
    Membership.objects.filter(user=coordinator, role=Role.COORDINATOR).delete()
    _refused_and_nothing_made(path, "sari@example.go.id")
    # A deleted inviter (the invitation keeps no inviter) is refused the same way.
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR)
    assert Client().get(path).status_code == 200  # the role is back: the link works again
    coordinator.delete()
    _refused_and_nothing_made(path, "sari@example.go.id")


def test_the_inviter_is_checked_again_at_the_moment_of_accepting(admin_a, world, monkeypatch):
    """The link's page opened while the inviter could invite; the role went before the form
    was sent: the accept itself refuses."""
    from cityeval.web.accounts import invitations

    path = _invite_contributor(admin_a)
    token = path.rstrip("/").rsplit("/", 1)[1]
    found = invitations.invitation_for(token)  # still fine
    Membership.objects.filter(user=admin_a, role=Role.REGIONAL_ADMIN).delete()
    monkeypatch.setattr(invitations, "invitation_for", lambda _token: found)
    with pytest.raises(invitations.InvitationDead):
        invitations.invitation_accept(token=token, password=PASSWORD)
    assert not Membership.objects.filter(user__email="tono@example.go.id").exists()


def test_an_invitation_of_an_inviter_still_in_the_role_works(admin_a, world):
    _invite_contributor(admin_a)  # another, unrelated membership change does not matter
    Membership.objects.create(user=admin_a, role=Role.ASSESSOR)
    _client, accepted = _accept(_link(mail.outbox[-1]))
    assert accepted.status_code == 302
    assert Membership.objects.get(user__email="tono@example.go.id").opd_id == world.opd_health.id


# --- an address that belongs to a deactivated account ------------------------------------------
# Review: opd_b (username "opd_b", a username unlike the address) deactivated by the coordinator
# could be invited again at the same address and accept into a second, new account.


def _deactivated_at(user, email: str) -> None:
    user.email, user.is_active = email, False
    user.save(update_fields=["email", "is_active"])


def test_an_address_of_a_deactivated_account_is_refused_when_inviting(coordinator, opd_b, world, as_user):
    _deactivated_at(opd_b, "sari@example.go.id")
    refused = _invite_admin(as_user(coordinator), email="SARI@example.go.id")
    assert refused.status_code == 400
    assert "This address belongs to a deactivated account, so it cannot be invited" in refused.text
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_a_regional_admin_is_not_told_which_addresses_are_deactivated(admin_a, opd_b, world, as_user):
    """opd_b's account is in another region: admin A must not learn it exists or its state, so
    the invitation goes out as any other; its link refuses and makes no second account."""
    _deactivated_at(opd_b, "tono@example.go.id")
    url = reverse("accounts:invitations_regional", kwargs={"region": "kab-deli-serdang"})
    sent = as_user(admin_a).post(url, {"opd": "dinkes", "name": "Tono", "email": "tono@example.go.id"})
    assert sent.status_code == 302 and "deactivated" not in as_user(admin_a).get(url).text
    page = Client().get(_link(mail.outbox[0]))
    assert page.status_code == 409 and "belongs to a deactivated account" in page.text
    _client, accepted = _accept(_link(mail.outbox[0]))
    assert accepted.status_code == 409
    assert list(get_user_model().objects.filter(email__iexact="tono@example.go.id")) == [opd_b]


def test_a_deactivated_account_named_by_the_address_is_refused_too(coordinator, world, as_user):
    """The accounts invitations make have the address as username (and maybe no e-mail)."""
    get_user_model().objects.create_user(username="sari@example.go.id", password=PASSWORD, is_active=False)
    assert _invite_admin(as_user(coordinator)).status_code == 400
    assert Invitation.objects.count() == 0


def test_a_bulk_file_names_the_row_of_a_deactivated_address(coordinator, opd_b, world, as_user):
    _deactivated_at(opd_b, "made@example.go.id")
    table = (
        "region,name,email,role,affiliation\n"
        "kab-deli-serdang,Sari,sari@example.go.id,regional_admin,\n"
        "kota-medan,Made,made@example.go.id,regional_admin,\n"
    )
    response = as_user(coordinator).post(
        reverse("accounts:invitations"), {"action": "import", "file": _csv(table)}
    )
    assert response.status_code == 400
    assert "row 3" in response.text and "belongs to a deactivated account" in response.text
    assert Invitation.objects.count() == 0 and mail.outbox == []


def test_a_link_to_an_address_deactivated_since_makes_no_account(coordinator, opd_b, world, as_user):
    """The invitation was sent first; the address's account is deactivated afterwards (here
    written directly, so that no withdrawal of pending invitations happens): the link's page
    and the accept both refuse, and nothing is made."""
    _invite_admin(as_user(coordinator))
    path = _link(mail.outbox[0])
    _deactivated_at(opd_b, "sari@example.go.id")
    page = Client().get(path)
    assert page.status_code == 409
    assert "belongs to a deactivated account" in page.text and "Contact your coordinator" in page.text
    assert 'name="password1"' not in page.text
    _client, accepted = _accept(path)
    assert accepted.status_code == 409 and "belongs to a deactivated account" in accepted.text
    assert list(get_user_model().objects.filter(email__iexact="sari@example.go.id")) == [opd_b]
    assert not get_user_model().objects.filter(username="sari@example.go.id").exists()
    assert not Membership.objects.filter(role=Role.REGIONAL_ADMIN, region=world.region_a).exists()
    assert Invitation.objects.get().used_at is None

    token = path.rstrip("/").rsplit("/", 1)[1]  # the service refuses on its own as well
    with pytest.raises(AddressDeactivated):
        invitation_accept(token=token, password=PASSWORD)
    coordinator_client = as_user(coordinator)
    ref = Invitation.objects.get().ref
    resent = coordinator_client.post(reverse("accounts:invitation_resend", kwargs={"ref": ref}))
    assert resent.status_code == 302 and len(mail.outbox) == 1  # not sent again
    listed = coordinator_client.get(resent.url).content.decode()
    assert "This address belongs to a deactivated account, so it cannot be invited" in listed


def test_an_active_account_at_the_address_still_accepts(coordinator, opd_a, opd_b, world, as_user):
    """A deactivated account beside an active one with the same address: the invitation goes to
    the active account, which accepts while logged in; the deactivated one stays so."""
    _deactivated_at(opd_b, "sari@example.go.id")
    opd_a.email = "sari@example.go.id"
    opd_a.save(update_fields=["email"])
    assert _invite_admin(as_user(coordinator)).status_code == 302
    assert as_user(opd_a).post(_link(mail.outbox[0])).status_code == 302
    assert Membership.objects.filter(user=opd_a, role=Role.REGIONAL_ADMIN, region=world.region_a).exists()
    opd_b.refresh_from_db()
    assert not opd_b.is_active
