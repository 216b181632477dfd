"""Who may see and change what. One helper per guarded object.

Everything regional fails closed: a user with no role touching the region gets 404 (the
region might as well not exist for them); a member whose role does not allow the action gets
403. The national coordinator may read every region but changes none of a region's own data.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AnonymousUser
from django.contrib.auth.models import User as AuthUser
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.shortcuts import get_object_or_404

from cityeval.web.accounts.models import Membership, Role
from cityeval.web.regions.models import Opd, Region

User = AuthUser | AnonymousUser


def acting_user(request: HttpRequest) -> AuthUser:
    """The request's signed-in user, for services that record who acted and reads keyed by
    user. Views get here behind ``login_required`` or the API's token, so an anonymous user
    is a missing guard: refuse (403) rather than act as nobody."""
    user = request.user
    if not user.is_authenticated:
        raise PermissionDenied
    return user


def memberships(user: User) -> list[Membership]:
    """The user's active memberships, read once per request. A deactivated membership gives
    nothing, nor does any membership of a deactivated account (which cannot log in anyway:
    this guards a user object held from before the deactivation)."""
    if not user.is_authenticated or not user.is_active:
        return []
    cached = getattr(user, "_cityeval_memberships", None)
    if cached is None:
        cached = list(Membership.objects.filter(user=user, active=True).select_related("region", "opd"))
        # A per-request cache on the user object, which has no such field.
        user._cityeval_memberships = cached  # type: ignore[attr-defined]
    return cached


def is_coordinator(user: User) -> bool:
    return any(m.role == Role.COORDINATOR for m in memberships(user))


def is_regional_admin(user: User, region_id: object) -> bool:
    """Whether ``user`` is (still) a regional admin of the region with id ``region_id``;
    False for anything that is not a region's id."""
    return any(m.role == Role.REGIONAL_ADMIN and m.region_id == region_id for m in memberships(user))


def require_coordinator(user: User) -> None:
    """National management pages: coordinators only (others are members of the programme: 403)."""
    if not is_coordinator(user):
        raise PermissionDenied


@dataclass(frozen=True)
class RegionAccess:
    """What a user may do in one region."""

    region: Region
    is_admin: bool  # regional admin: manages everything of the region
    opd: Opd | None  # OPD contributor: answers and edits what their OPD owns
    is_coordinator: bool  # reads everything, changes nothing regional

    @property
    def can_edit_anything(self) -> bool:
        return self.is_admin or self.opd is not None

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied

    def may_edit_for_opd(self, opd_id: int | None) -> bool:
        """Regional admins edit all; an OPD contributor edits what their own OPD owns."""
        return self.is_admin or (self.opd is not None and opd_id is not None and opd_id == self.opd.id)

    def require_edit_for_opd(self, opd_id: int | None) -> None:
        if not self.may_edit_for_opd(opd_id):
            raise PermissionDenied


def region_access(user: User, slug: str) -> RegionAccess:
    """The user's access to the region ``slug``; 404 if they have none."""
    region = get_object_or_404(Region.objects.select_related("province"), slug=slug)
    mine = memberships(user)
    admin = any(m.role == Role.REGIONAL_ADMIN and m.region_id == region.id for m in mine)
    opd = next((m.opd for m in mine if m.role == Role.OPD_CONTRIBUTOR and m.region_id == region.id), None)
    coordinator = any(m.role == Role.COORDINATOR for m in mine)
    if not (admin or opd or coordinator):
        raise Http404
    return RegionAccess(region=region, is_admin=admin, opd=None if admin else opd, is_coordinator=coordinator)


REGION_ROLES = (Role.REGIONAL_ADMIN, Role.OPD_CONTRIBUTOR)
KKPD_ROLES = (Role.KKPD_ADMIN, Role.KKPD_INSPECTOR, Role.CARD_HOLDER)


def regions_of(user: User, roles: tuple[str, ...] = REGION_ROLES) -> list[Region]:
    """The regions a user has one of ``roles`` in (not the coordinator's all-regions view): by
    default the roles that open the region's pages; ``KKPD_ROLES`` for the KKPD pages."""
    seen: dict[int, Region] = {}
    for m in memberships(user):
        if m.region is not None and m.role in roles:
            seen.setdefault(m.region.id, m.region)
    return sorted(seen.values(), key=lambda r: r.name)


def is_assessor(user: User) -> bool:
    return any(m.role == Role.ASSESSOR for m in memberships(user))


def require_evidence_reader(user: User, participation) -> None:
    """Evidence files of a region's self-assessment (``participation``): readable by the
    region's members and the coordinator, as :func:`region_access` says, and by the assessors
    on a panel the region is assigned to in that cycle. 404 to everyone else.

    A panel member who also has a role in the region is conflicted there: their panel
    membership grants nothing, only their regional role does (through :func:`region_access`)."""
    # A deactivated role there counts too: having held it is the conflict.
    role_in_region = (
        user.is_authenticated
        and Membership.objects.filter(user=user, region_id=participation.region_id).exists()
    )
    # is_authenticated: an assessor always is; it tells the type checker so.
    if user.is_authenticated and is_assessor(user) and not role_in_region:
        # Imported here: panels build on accounts, not the other way round.
        from cityeval.web.panels.models import PanelMember

        if PanelMember.objects.filter(user=user, panel__regions__participation=participation).exists():
            return
    region_access(user, participation.region.slug)
