"""People: who is a member of what, and deactivating or reactivating them.

Two levels, both kept, never deleted, so that what a person wrote stays attributed to them:

- a **membership** (one role in one scope): a regional admin deactivates the OPD contributors
  of their own region, the coordinator any membership. A deactivated membership gives no
  access (``access.memberships`` reads active ones only);
- an **account** (``User.is_active``): the coordinator only. A deactivated account cannot log
  in (the log-in form refuses it: with the right password it says the account is deactivated,
  see ``backends.AccountBackend``), its open sessions end at the next request (the backend
  loads the session's user only when active) and its API tokens are refused
  (``auth.TokenAuth``).

Nobody deactivates or reactivates themselves: a person cannot lock themselves out, nor raise
their own role back. Each change is recorded in the audit trail.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Count, Prefetch, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from cityeval.web.accounts.access import is_coordinator, memberships
from cityeval.web.accounts.invitations import invitation_audit, pending_invitations
from cityeval.web.accounts.models import Invitation, Membership, Role
from cityeval.web.audit import services as audit
from cityeval.web.refusals import Refused
from cityeval.web.regions.models import Region

REASON_MAX = 2000


class SelfChangeRefused(Refused):
    """Someone tried to deactivate or reactivate their own membership or account."""

    status = 403
    default_message = _("You cannot deactivate or reactivate yourself, nor change your own role.")


# --- who may do what ------------------------------------------------------------------------------


def may_change_membership(actor: User, membership: Membership) -> bool:
    """Deactivate or reactivate ``membership``: the coordinator any but their own; a regional
    admin the OPD contributors of their own region. Nobody their own."""
    if membership.user_id == actor.pk:
        return False
    if is_coordinator(actor):
        return True
    return (
        membership.role == Role.OPD_CONTRIBUTOR
        and membership.region_id is not None
        and any(
            m.role == Role.REGIONAL_ADMIN and m.region_id == membership.region_id for m in memberships(actor)
        )
    )


def may_change_account(actor: User, person: User) -> bool:
    """Deactivate or reactivate a whole account: the coordinator, for anyone but themselves."""
    return person.pk != actor.pk and is_coordinator(actor)


def _require(allowed: bool, actor: User, person_id: int) -> None:
    if actor.pk == person_id:
        raise SelfChangeRefused
    if not allowed:
        raise PermissionDenied


# --- writes -----------------------------------------------------------------------------------------


def _invitations_withdraw(*, by: User, email: str, **scope) -> None:
    """Withdraw the pending invitations to ``email`` (in ``scope``: role, region, OPD) when
    its holder is deactivated: a link sent before would otherwise bring the role back."""
    if not email:
        return
    pending = Invitation.objects.select_for_update(of=("self",)).filter(
        email__iexact=email, used_at=None, revoked_at=None, **scope
    )
    for invitation in pending.select_related("region", "opd"):
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at"])
        invitation_audit(audit.Action.INVITATION_REVOKE, by=by, invitation=invitation)


def _membership_set(*, membership: Membership, by: User, active: bool, reason: str) -> Membership:
    _require(may_change_membership(by, membership), by, membership.user_id)
    locked = (
        Membership.objects.select_for_update(of=("self",))
        .select_related("user", "region", "opd")
        .get(pk=membership.pk)
    )
    if locked.active == active:
        return locked  # already so: nothing to change, nothing to record
    locked.active = active
    locked.save(update_fields=["active"])
    if not active:
        scope = {"role": locked.role, "region_id": locked.region_id, "opd_id": locked.opd_id}
        _invitations_withdraw(by=by, email=locked.user.email, **scope)
    details = {
        "member": locked.user.get_username(),
        "role": locked.role,
        "opd": locked.opd.slug if locked.opd else "",
        "scope": "membership",
    }
    if reason:
        details["reason"] = reason[:REASON_MAX]
    audit.record(
        action=audit.Action.MEMBER_REACTIVATE if active else audit.Action.MEMBER_DEACTIVATE,
        user=by,
        target=locked,
        region=locked.region,
        details=details,
    )
    membership.active = active
    return locked


@transaction.atomic
def membership_deactivate(*, membership: Membership, by: User, reason: str = "") -> Membership:
    """End ``membership`` without deleting it: it gives no access from the next request on."""
    return _membership_set(membership=membership, by=by, active=False, reason=reason.strip())


@transaction.atomic
def membership_reactivate(*, membership: Membership, by: User) -> Membership:
    return _membership_set(membership=membership, by=by, active=True, reason="")


def _account_set(*, person: User, by: User, active: bool, reason: str) -> User:
    _require(may_change_account(by, person), by, person.pk)
    locked = get_user_model().objects.select_for_update().get(pk=person.pk)
    if locked.is_active == active:
        return locked
    locked.is_active = active
    locked.save(update_fields=["is_active"])
    if not active:
        _invitations_withdraw(by=by, email=locked.email)
    details = {"member": locked.get_username(), "scope": "account"}
    if reason:
        details["reason"] = reason[:REASON_MAX]
    audit.record(
        action=audit.Action.MEMBER_REACTIVATE if active else audit.Action.MEMBER_DEACTIVATE,
        user=by,
        target=locked,
        target_text=locked.get_username(),
        details=details,
    )
    person.is_active = active
    return locked


@transaction.atomic
def account_deactivate(*, person: User, by: User, reason: str = "") -> User:
    """Deactivate the whole account: no log-in, no session, no API token, no role."""
    return _account_set(person=person, by=by, active=False, reason=reason.strip())


@transaction.atomic
def account_reactivate(*, person: User, by: User) -> User:
    """The account works again, with its memberships that are still active."""
    return _account_set(person=person, by=by, active=True, reason="")


# --- reads ------------------------------------------------------------------------------------------


def region_members(region: Region) -> list[Membership]:
    """Every membership in ``region``, active or not, by role, then name."""
    order = {Role.REGIONAL_ADMIN: 0, Role.OPD_CONTRIBUTOR: 1}
    found = list(Membership.objects.filter(region=region).select_related("user", "opd"))
    return sorted(
        found,
        key=lambda m: (
            not (m.active and m.user.is_active),
            order.get(Role(m.role), 2),
            (m.user.get_full_name() or m.user.get_username()).lower(),
            m.opd.name if m.opd else "",
        ),
    )


def region_pending(region: Region) -> QuerySet[Invitation]:
    """The region's pending invitations (expired ones included, to resend), newest first."""
    return pending_invitations(region=region)


def people_all() -> QuerySet:
    """Every account, by username, with its memberships (region and OPD) and the count of its
    active ones (``membership_count``)."""
    ordered = Membership.objects.select_related("region", "opd").order_by("-active", "role", "region__name")
    return (
        get_user_model()
        .objects.annotate(membership_count=Count("memberships", filter=Q(memberships__active=True)))
        .prefetch_related(Prefetch("memberships", queryset=ordered))
        .order_by("username")
    )


def people_narrowed(people: QuerySet, *, role: str, region: str, status: str) -> QuerySet:
    """``people`` with an active membership of ``role`` in ``region`` (both in the same
    membership when both are given; empty: any) and an account ``status`` (active, inactive)."""
    held = Q(active=True)
    if role:
        held &= Q(role=role)
    if region:
        held &= Q(region__slug=region)
    if role or region:
        people = people.filter(pk__in=Membership.objects.filter(held).values("user_id"))
    if status:
        people = people.filter(is_active=status == "active")
    return people
