"""Audit entries of the accounts app's privileged actions: token creation and revocation (with
where the request came from) and a role given by ``adduser``."""

from __future__ import annotations

import io

from django.core.management import call_command
from django.urls import reverse

from cityeval.web.accounts.models import ApiToken
from cityeval.web.audit.models import Action, AuditEntry


def test_token_creation_is_recorded_with_its_origin(admin_a, as_user):
    """The test client sends from 127.0.0.1: the entry keeps its /24, never the address, and
    the request id the caller sent (ops.logs keeps a safe caller id)."""
    as_user(admin_a).post(reverse("accounts:tokens"), {"name": "laptop"}, HTTP_X_REQUEST_ID="trace-0001-abcd")
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.username) == (Action.TOKEN_CREATE, admin_a, "admin_a")
    assert (entry.target_type, entry.target_text, entry.region) == ("apitoken", "laptop", None)
    assert entry.details == {"hint": ApiToken.objects.get().hint}
    assert (entry.network, entry.request_id) == ("127.0.0.0/24", "trace-0001-abcd")


def test_token_revocation_is_recorded(admin_a, as_user):
    client = as_user(admin_a)
    client.post(reverse("accounts:tokens"), {"name": "laptop"})
    hint = ApiToken.objects.get().hint
    client.post(reverse("accounts:token_revoke", kwargs={"hint": hint}), {"confirm": "yes"})
    assert not ApiToken.objects.exists()
    entry = AuditEntry.objects.get(action=Action.TOKEN_REVOKE)
    assert (entry.user, entry.target_text, entry.details) == (admin_a, "laptop", {"hint": hint})


def test_a_refused_revocation_records_nothing(admin_a, admin_b, as_user):
    """Someone else's token: 404 and no entry (only what happened is recorded)."""
    as_user(admin_b).post(reverse("accounts:tokens"), {"name": "b"})
    hint = ApiToken.objects.get().hint
    as_user(admin_a).post(reverse("accounts:token_revoke", kwargs={"hint": hint}), {"confirm": "yes"})
    assert not AuditEntry.objects.filter(action=Action.TOKEN_REVOKE).exists()


def test_adduser_records_the_role_given_by_the_system(world):
    call_command(
        "adduser", "kominfo", "--role", "opd_contributor", "--region", "kab-deli-serdang", "--opd", "dinkes",
        stdout=io.StringIO(),
    )  # fmt: skip
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.username) == (Action.MEMBERSHIP_GRANT, None, "")
    assert entry.region == world.region_a
    assert entry.details == {"member": "kominfo", "role": "opd_contributor", "opd": "dinkes"}
    assert entry.target_type == "membership" and "kominfo" in entry.target_text
    assert entry.network == ""  # a command has no request
