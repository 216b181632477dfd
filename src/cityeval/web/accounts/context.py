"""Template context for the navigation bar."""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest
from django.urls import get_script_prefix, get_urlconf, reverse

from cityeval.web.accounts.access import KKPD_ROLES, is_assessor, is_coordinator, memberships, regions_of
from cityeval.web.accounts.models import Role

# The navigation's links that take no parameter, as ``nav_urls.<name with _ for :>``: the same
# text on every page for one URL configuration and script prefix, so each is reversed once a
# process (when a page first shows it) instead of up to sixteen times a page.
NAV_LINKS = {
    name.replace(":", "_"): name
    for name in (
        "evaluations:cycle_list",
        "regions:region_list",
        "results:index",
        "notices:list",
        "panels:mine",
        "panels:conflicts",
        "assessments:tasks",
        "kkpd:national",
        "accounts:audit",
        "accounts:people",
        "accounts:invitations",
        "accounts:outbox",
        "accounts:tokens",
        "accounts:password_change",
        "accounts:twofactor",
        "accounts:logout",
    )
}
_NAV_URLS_KEPT = 8  # URL configurations × script prefixes a process remembers (one, in practice)


class NavUrls(dict):
    """The addresses of ``NAV_LINKS`` for one URL configuration and script prefix, each
    reversed the first time a page asks for it."""

    def __missing__(self, key: str) -> str:
        url = self[key] = reverse(NAV_LINKS[key])
        return url


_nav_urls: dict[tuple[object, str], NavUrls] = {}


def nav_urls() -> NavUrls:
    """The navigation's addresses for the current URL configuration and script prefix."""
    key = (get_urlconf(), get_script_prefix())
    found = _nav_urls.get(key)
    if found is None:
        if len(_nav_urls) >= _NAV_URLS_KEPT:
            _nav_urls.clear()
        found = _nav_urls[key] = NavUrls()
    return found


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    if getattr(request, "cityeval_twofactor_step", None):
        # The other links would lead back to the code step.
        return {"nav_twofactor_pending": True, "nav_urls": nav_urls()}
    return {
        "nav_urls": nav_urls(),
        "nav_is_coordinator": is_coordinator(user),
        "nav_outbox": settings.DEMO_OUTBOX and is_coordinator(user),
        "nav_is_assessor": is_assessor(user),
        "nav_regions": regions_of(user),
        "nav_kkpd_regions": regions_of(user, KKPD_ROLES),
        "nav_memberships": memberships(user),
        "nav_sees_audit": is_coordinator(user) or bool(regions_of(user, (Role.REGIONAL_ADMIN,))),
    }
