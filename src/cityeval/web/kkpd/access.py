"""Who may see and change a region's KKPD records (in the style of ``accounts.access``).

- KKPD administrator (the finance agency, BPKAD; region scope): reads and changes everything.
- Inspector (APIP/Inspektorat; region scope): reads everything, changes only flag status.
- Card holder (OPD scope): reads only their own OPD's cards, transactions and flags.
- National coordinator: reads every region (the national side by side), changes nothing.

Everyone else gets 404, as if the region did not exist; a reader trying to write gets 403.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.shortcuts import get_object_or_404

from cityeval.web.accounts.access import User, is_coordinator, memberships
from cityeval.web.accounts.models import Role
from cityeval.web.regions.models import Opd, Region


@dataclass(frozen=True)
class KkpdAccess:
    region: Region
    is_admin: bool
    is_inspector: bool
    opds: tuple[Opd, ...]  # a card holder's OPDs; empty for region-wide readers
    is_coordinator: bool

    @property
    def region_wide(self) -> bool:
        return self.is_admin or self.is_inspector or self.is_coordinator

    @property
    def opd_ids(self) -> list[int] | None:
        """The OPDs this user sees, or None for all of the region's."""
        return None if self.region_wide else [o.id for o in self.opds]

    @property
    def may_change_flags(self) -> bool:
        return self.is_admin or self.is_inspector

    def require_admin(self) -> None:
        if not self.is_admin:
            raise PermissionDenied

    def require_flag_changer(self) -> None:
        if not self.may_change_flags:
            raise PermissionDenied

    def require_opd(self, opd_id: int) -> None:
        """404 for an OPD this user may not see (a card holder of another OPD)."""
        if not self.region_wide and opd_id not in {o.id for o in self.opds}:
            raise Http404


def kkpd_access(user: User, slug: str) -> KkpdAccess:
    """The user's KKPD access to region ``slug``; 404 if they have none."""
    region = get_object_or_404(Region, slug=slug)
    mine = [m for m in memberships(user) if m.region_id == region.id]
    admin = any(m.role == Role.KKPD_ADMIN for m in mine)
    inspector = any(m.role == Role.KKPD_INSPECTOR for m in mine)
    opds = tuple(m.opd for m in mine if m.role == Role.CARD_HOLDER and m.opd is not None)
    coordinator = is_coordinator(user)
    if not (admin or inspector or opds or coordinator):
        raise Http404
    return KkpdAccess(
        region=region, is_admin=admin, is_inspector=inspector, opds=opds, is_coordinator=coordinator
    )
