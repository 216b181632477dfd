"""The unread count in the navigation: one COUNT query per page for a signed-in person."""

from __future__ import annotations

from django.http import HttpRequest

from cityeval.web.notices.selectors import unread_count


def unread(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"nav_unread_notices": unread_count(user)}
