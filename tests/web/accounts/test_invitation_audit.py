"""Invitations leave their mark in the audit trail (issue 12): sent, sent again, withdrawn and
accepted, each with who, for whom and where; a file of invitations one entry per person."""

from __future__ import annotations

import re

from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from cityeval.web.accounts.invitation_import import invitations_import
from cityeval.web.accounts.invitations import invitation_create, invitation_resend, invitation_revoke
from cityeval.web.accounts.models import Invitation
from cityeval.web.audit.models import Action, AuditEntry

PASSWORD = "sate-padang-malam-77"


def _entries(action: str) -> list[tuple[str, str, int | None]]:
    return [
        (e.username, e.target_text, e.region_id)
        for e in AuditEntry.objects.filter(action=action).order_by("id")
    ]


def test_sending_resending_withdrawing_and_accepting_are_recorded(coordinator, world):
    invitation = invitation_create(
        by=coordinator, email="sari@example.go.id", name="Sari", role="regional_admin", region=world.region_a
    )
    expected = [(coordinator.username, "sari@example.go.id (Regional admin)", world.region_a.id)]
    assert _entries(Action.INVITATION_SEND) == expected
    invitation_resend(by=coordinator, invitation=invitation)
    assert _entries(Action.INVITATION_RESEND) == expected
    link = re.search(r"https?://[^/\s]+(/accounts/invitation/[^\s/]+/)", mail.outbox[-1].body).group(1)
    assert Client().post(link, {"password1": PASSWORD, "password2": PASSWORD}).status_code == 302
    assert _entries(Action.INVITATION_ACCEPT) == [
        ("sari@example.go.id", "sari@example.go.id (Regional admin)", world.region_a.id)
    ]
    other = invitation_create(
        by=coordinator, email="budi@example.go.id", name="Budi", role="regional_admin", region=world.region_a
    )
    invitation_revoke(by=coordinator, invitation=other)
    assert _entries(Action.INVITATION_REVOKE) == [
        (coordinator.username, "budi@example.go.id (Regional admin)", world.region_a.id)
    ]


def test_a_file_of_invitations_records_one_entry_per_person(coordinator, world):
    rows = "region,name,email,role\nkab-deli-serdang,Sari,sari@example.go.id,regional_admin\n"
    rows += "kota-medan,Budi,budi@example.go.id,regional_admin\n"
    upload = SimpleUploadedFile("undangan.csv", rows.encode(), content_type="text/csv")
    assert invitations_import(by=coordinator, upload=upload) == 2
    assert Invitation.objects.count() == 2
    assert sorted(_entries(Action.INVITATION_SEND)) == [
        (coordinator.username, "budi@example.go.id (Regional admin)", world.region_b.id),
        (coordinator.username, "sari@example.go.id (Regional admin)", world.region_a.id),
    ]
