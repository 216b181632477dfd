"""Invitations: who may invite whom, and the writes (create, send, resend, revoke, accept).

Scope: the coordinator invites regional admins (for one region) and assessors; a regional
admin invites OPD contributors for their own region's OPDs. Nobody else invites, and nobody
invites into a role or a scope beyond their own. An invitation becomes a membership only when
the invitee accepts; the link works once and expires after ``INVITATION_DAYS``. It also dies
with its inviter's power: once the inviter's account is deactivated (or deleted) or they no
longer hold the role that let them invite, the link is refused (``inviter_may_still``).
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.conf import settings
from django.contrib.auth.models import User
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import get_connection
from django.core.mail.backends.base import BaseEmailBackend
from django.core.validators import validate_email
from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityeval.web.accounts.access import is_coordinator, memberships
from cityeval.web.accounts.models import Invitation, Membership, Role
from cityeval.web.audit import services as audit
from cityeval.web.mail import absolute_url, mail_build
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Opd, Region

# The panels' affiliation codes (panels.models.PanelMember.Affiliation), which accounts, below
# panels, cannot import; a test keeps the two lists equal.
AFFILIATIONS = (
    ("ministry", _("Ministry")),
    ("university", _("University")),
    ("association", _("Association")),
    ("consultancy", _("Consultancy")),
    ("other_ministry", _("Other ministry")),
)
AFFILIATION_CODES = tuple(code for code, _label in AFFILIATIONS)


class InvitationRejected(Refused):
    status = 400
    default_message = _("The invitation was not sent.")


class InvitationDead(Refused):
    """The link was used, revoked, has expired or never existed."""

    status = 410
    default_message = _("This invitation link does not work: it was already used, withdrawn or has expired.")


class AddressDeactivated(InvitationRejected):
    """The invited address belongs to a deactivated account: accepting would make a second
    account for the same person, around the coordinator's deactivation."""

    status = 409
    default_message = _(
        "This e-mail address belongs to a deactivated account, so the invitation cannot make a new "
        "account for it. Contact your coordinator: only they can reactivate the account."
    )


DEACTIVATED_ADDRESS = _(
    "This address belongs to a deactivated account, so it cannot be invited. The coordinator can "
    "reactivate the account on the People page instead."
)


def may_invite(user: User, *, role: str, region: Region | None, opd: Opd | None) -> bool:
    """Whether ``user`` may invite someone into ``role`` in this scope."""
    if role == Role.REGIONAL_ADMIN:
        return region is not None and opd is None and is_coordinator(user)
    if role == Role.ASSESSOR:
        return region is None and opd is None and is_coordinator(user)
    if role == Role.OPD_CONTRIBUTOR:
        return (
            opd is not None
            and region is not None
            and opd.region_id == region.id
            and any(m.role == Role.REGIONAL_ADMIN and m.region_id == region.id for m in memberships(user))
        )
    return False  # no other role is given by invitation


def may_manage(user: User, invitation: Invitation) -> bool:
    """Resend or revoke: whoever could have sent it."""
    return may_invite(user, role=invitation.role, region=invitation.region, opd=invitation.opd)


INVITER_GONE = _(
    "This invitation link no longer works: the person who sent it may no longer invite. "
    "Ask for a new invitation."
)


def inviter_may_still(invitation: Invitation) -> bool:
    """Whether the invitation's sender still has an active account and could send it today."""
    inviter = invitation.invited_by
    return inviter is not None and inviter.is_active and may_manage(inviter, invitation)


def invitation_check(
    *,
    email: str,
    name: str,
    role: str,
    affiliation: str,
    region: Region | None = None,
    opd: Opd | None = None,
    pending: bool = True,
    tell_deactivated: bool = True,
) -> dict[str, str]:
    """The field errors of one invitation (empty when it is fine); with ``pending``, also
    whether the address already has a live invitation for the role in this scope (one query).
    With ``tell_deactivated`` (the coordinator, who sees every account on the People page), an
    address of a deactivated account is refused (``deactivated_account_for``); anyone else is
    not told which addresses those are: their invitation goes out and its link refuses to make
    a second account, telling its owner to contact the coordinator."""
    errors: dict[str, str] = {}
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = str(_("Enter a valid e-mail address."))
    if not name.strip():
        errors["name"] = str(_("Enter the person's name."))
    if role == Role.ASSESSOR and affiliation not in AFFILIATION_CODES:
        errors["affiliation"] = str(_("Choose the assessor's affiliation."))
    elif pending and (
        Invitation.objects.filter(email__iexact=email, role=role, region=region, opd=opd)
        .filter(used_at=None, revoked_at=None)
        .filter(expires_at__gt=timezone.now())
        .exists()
    ):
        errors["email"] = str(_("This address already has a pending invitation for this role."))
    if tell_deactivated and "email" not in errors and deactivated_account_for(email) is not None:
        errors["email"] = str(DEACTIVATED_ADDRESS)
    return errors


def invitation_new(
    *,
    by: User,
    email: str,
    name: str,
    role: str,
    region: Region | None,
    opd: Opd | None,
    affiliation: str,
    organisation: str,
    language: str,
) -> tuple[Invitation, str]:
    """An unsaved invitation and its token (the only time the token is available)."""
    token = Invitation.new_token()
    now = timezone.now()
    invitation = Invitation(
        ref=secrets.token_urlsafe(9)[:12],
        digest=Invitation.digest_of(token),
        email=email.strip(),
        name=name.strip()[:150],
        role=role,
        region=region,
        opd=opd,
        affiliation=affiliation if role == Role.ASSESSOR else "",
        organisation=organisation.strip()[:200] if role == Role.ASSESSOR else "",
        language=language if language in dict(settings.LANGUAGES) else "id",
        invited_by=by,
        sent_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_DAYS),
    )
    return invitation, token


def invitation_audit(
    action: str, *, by: User | None, invitation: Invitation, request: HttpRequest | None = None
) -> None:
    """The audit trail's entry for an invitation: who invited, resent, revoked or accepted it,
    for whom (address and role) and where."""
    audit.record(
        action=action,
        user=by,
        target=invitation,
        target_text=f"{invitation.email} ({Role(invitation.role).label})",
        region=invitation.region,
        details={"role": invitation.role, "opd": invitation.opd.slug if invitation.opd else ""},
        request=request,
    )


def invitation_send(
    *,
    invitation: Invitation,
    token: str,
    request: HttpRequest | None = None,
    connection: BaseEmailBackend | None = None,
) -> None:
    """Mail the link to the invitee, in the invitation's language."""
    link = absolute_url(reverse("accounts:invitation_accept", kwargs={"token": token}), request=request)
    message = mail_build(
        to=invitation.email,
        template="invitation",
        context={
            "invitation": invitation,
            "role": Role(invitation.role).label,  # lazy: translated in the recipient's language
            "scope": invitation.opd or invitation.region or "",
            "inviter": (invitation.invited_by.get_full_name() or invitation.invited_by.username)
            if invitation.invited_by
            else "",
            "expires_at": invitation.expires_at,
        },
        link=link,
        language=invitation.language,
    )
    message.connection = connection or get_connection()
    message.send()


def invitation_create(
    *,
    by: User,
    email: str,
    name: str,
    role: str,
    region: Region | None = None,
    opd: Opd | None = None,
    affiliation: str = "",
    organisation: str = "",
    language: str = "id",
    request: HttpRequest | None = None,
) -> Invitation:
    """Invite one person and mail them the link. Refuses (PermissionDenied) beyond ``by``'s scope
    and (InvitationRejected, with field errors) on bad input."""
    if not may_invite(by, role=role, region=region, opd=opd):
        raise PermissionDenied
    errors = invitation_check(
        email=email.strip(), name=name, role=role, affiliation=affiliation, region=region, opd=opd,
        tell_deactivated=is_coordinator(by),
    )  # fmt: skip
    if errors:
        raise InvitationRejected(next(iter(errors.values())), errors=errors)
    invitation, token = invitation_new(
        by=by,
        email=email,
        name=name,
        role=role,
        region=region,
        opd=opd,
        affiliation=affiliation,
        organisation=organisation,
        language=language,
    )
    with transaction.atomic():
        invitation.save()
        invitation_audit(audit.Action.INVITATION_SEND, by=by, invitation=invitation, request=request)
    invitation_send(
        invitation=invitation, token=token, request=request
    )  # once saved: resendable if this fails
    return invitation


def invitation_resend(*, by: User, invitation: Invitation, request: HttpRequest | None = None) -> None:
    """A new link (the old one stops working) and a new expiry, mailed again."""
    if not may_manage(by, invitation):
        raise PermissionDenied
    if not invitation.is_pending:
        raise InvitationDead
    if is_coordinator(by) and deactivated_account_for(invitation.email) is not None:
        raise AddressDeactivated(DEACTIVATED_ADDRESS)  # others: the link itself refuses
    token = Invitation.new_token()
    now = timezone.now()
    invitation.digest = Invitation.digest_of(token)
    invitation.sent_at = now
    invitation.expires_at = now + dt.timedelta(days=settings.INVITATION_DAYS)
    with transaction.atomic():
        invitation.save(update_fields=["digest", "sent_at", "expires_at"])
        invitation_audit(audit.Action.INVITATION_RESEND, by=by, invitation=invitation, request=request)
    invitation_send(invitation=invitation, token=token, request=request)


def invitation_revoke(*, by: User, invitation: Invitation) -> None:
    if not may_manage(by, invitation):
        raise PermissionDenied
    if invitation.is_pending:
        with transaction.atomic():
            invitation.revoked_at = timezone.now()
            invitation.save(update_fields=["revoked_at"])
            invitation_audit(audit.Action.INVITATION_REVOKE, by=by, invitation=invitation)


def invitation_for(token: str) -> Invitation:
    """The live invitation this link's token opens; InvitationDead for any other token, and for
    one whose inviter may no longer invite."""
    found = (
        Invitation.objects.select_related("region", "opd", "invited_by")
        .filter(digest=Invitation.digest_of(token), used_at=None, revoked_at=None)
        .filter(expires_at__gt=timezone.now())
        .first()
    )
    if found is None:
        raise InvitationDead
    if not inviter_may_still(found):
        raise InvitationDead(INVITER_GONE)
    return found


def account_for(invitation: Invitation) -> User | None:
    """The existing active account with the invitation's address, if any."""
    return User.objects.filter(email__iexact=invitation.email, is_active=True).order_by("pk").first()


def deactivated_account_for(email: str) -> User | None:
    """A deactivated account with this address (as its e-mail or its username) when no active
    account has it: an invitation would otherwise make the person a new account beside the one
    the coordinator deactivated (whose username may differ from the address). Refused rather
    than reactivated: bringing an account back is the coordinator's decision (People page).
    With an active account at the address, the invitation is accepted by that account."""
    email = email.strip()
    if not email or User.objects.filter(email__iexact=email, is_active=True).exists():
        return None
    return (
        User.objects.filter(Q(email__iexact=email) | Q(username__iexact=email), is_active=False)
        .order_by("pk")
        .first()
    )


@transaction.atomic
def invitation_accept(*, token: str, password: str = "", user: User | None = None) -> User:
    """Use the invitation: for a new person, an account (their e-mail address is the username)
    with ``password``, which Django's validators check; for a signed-in ``user`` with the
    invited address, nothing new but the membership. Works once (the row is locked), and only
    while the inviter may still invite (checked again here, at the moment of accepting)."""
    invitation = invitation_for(token)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)  # no join: FOR UPDATE
    if not invitation.is_pending:
        raise InvitationDead
    if not inviter_may_still(invitation):
        raise InvitationDead(INVITER_GONE)
    if user is None:
        if deactivated_account_for(invitation.email) is not None:
            raise AddressDeactivated
        if (
            account_for(invitation) is not None
            or User.objects.filter(username__iexact=invitation.email).exists()
        ):
            raise InvitationRejected(
                _("An account with this address exists: log in first, then open the link.")
            )
        # The address in lower case, so that logging in does not depend on how it was typed.
        username = invitation.email.lower()
        candidate = User(username=username, email=invitation.email, first_name=invitation.name)
        try:
            validate_password(password, candidate)
        except ValidationError as exc:
            raise InvitationRejected(" ".join(exc.messages), errors={"password": exc.messages}) from None
        candidate.set_password(password)
        candidate.save()
        user = candidate
    elif user.email.lower() != invitation.email.lower():
        raise PermissionDenied
    membership, _created = Membership.objects.get_or_create(
        user=user, role=invitation.role, region=invitation.region, opd=invitation.opd
    )
    if not membership.active:
        # Invited again into a role they held before: whoever invited could reactivate it.
        membership.active = True
        membership.save(update_fields=["active"])
    invitation.used_at = timezone.now()
    invitation.user = user
    invitation.save(update_fields=["used_at", "user"])
    invitation_audit(audit.Action.INVITATION_ACCEPT, by=user, invitation=invitation)
    return user


def pending_invitations(*, region: Region | None = None):
    """Invitations not yet used or revoked (expired ones included, to resend), newest first."""
    found = Invitation.objects.filter(used_at=None, revoked_at=None).select_related(
        "region", "opd", "invited_by"
    )
    return found.filter(region=region) if region is not None else found
