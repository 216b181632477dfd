"""API authentication by bearer token (``Authorization: Bearer TOKEN``), for every router.

It lives with the tokens it checks, at the bottom of the stack, so that an app's router can
use it without importing the API root that mounts that router.
"""

from __future__ import annotations

from django.http import HttpRequest
from django.utils import timezone
from ninja.security import HttpBearer

from cityeval.web.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    """The active user an unrevoked token belongs to; None (401) for any other token."""

    def authenticate(self, request: HttpRequest, token: str):
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), user__is_active=True)
            .first()
        )
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user
