"""Writes for accounts. Each privileged one leaves an entry in the audit trail."""

from __future__ import annotations

from django.contrib.auth.models import User
from django.db import transaction

from cityeval.web.accounts.models import ApiToken, Membership
from cityeval.web.audit import services as audit
from cityeval.web.regions.models import Opd, Region


@transaction.atomic
def token_create(*, user: User, name: str) -> str:
    """Create an API token and return it: the only time the full token is available."""
    token = ApiToken.new_token()
    created = ApiToken.objects.create(
        user=user, name=name, digest=ApiToken.digest_of(token), hint=token[len(ApiToken.PREFIX) :][:8]
    )
    audit.record(
        action=audit.Action.TOKEN_CREATE,
        user=user,
        target=created,
        target_text=name,
        details={"hint": created.hint},
    )
    return token


@transaction.atomic
def token_revoke(*, token: ApiToken, user: User) -> None:
    """Delete the token (it stops working at once); the audit entry keeps its name and hint."""
    audit.record(
        action=audit.Action.TOKEN_REVOKE,
        user=user,
        target=token,
        target_text=token.name,
        details={"hint": token.hint},
    )
    token.delete()


@transaction.atomic
def membership_grant(
    *, member: User, role: str, region: Region | None, opd: Opd | None, by: User | None
) -> Membership:
    """Give ``member`` the ``role`` in a scope (``by`` None: a command); a deactivated
    membership there is reactivated. Raises IntegrityError when they already have it there."""
    held = Membership.objects.filter(user=member, role=role, region=region, opd=opd, active=False).first()
    if held is not None:
        held.active = True
        held.save(update_fields=["active"])
        audit.record(
            action=audit.Action.MEMBER_REACTIVATE,
            user=by,
            target=held,
            region=region,
            details={"member": member.get_username(), "role": role, "opd": opd.slug if opd else ""},
        )
        return held
    membership = Membership.objects.create(user=member, role=role, region=region, opd=opd)
    audit.record(
        action=audit.Action.MEMBERSHIP_GRANT,
        user=by,
        target=membership,
        region=region,
        details={"member": member.get_username(), "role": role, "opd": opd.slug if opd else ""},
    )
    return membership
