"""Template context for the navigation bar."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest

from cityeval.web.accounts.access import KKPD_ROLES, is_assessor, is_coordinator, memberships, regions_of
from cityeval.web.accounts.models import Role


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "cityeval_twofactor_step", None):
        return {"nav_twofactor_pending": True}  # the other links would lead back to the code step
    return {
        "nav_is_coordinator": is_coordinator(user),
        "nav_outbox": settings.DEMO_OUTBOX and is_coordinator(user),
        "nav_is_assessor": is_assessor(user),
        "nav_regions": regions_of(user),
        "nav_kkpd_regions": regions_of(user, KKPD_ROLES),
        "nav_memberships": memberships(user),
        "nav_sees_audit": is_coordinator(user) or bool(regions_of(user, (Role.REGIONAL_ADMIN,))),
    }
