"""Writes for accounts."""

from __future__ import annotations

from django.contrib.auth.models import User

from cityeval.web.accounts.models import ApiToken


def token_create(*, user: User, name: str) -> str:
    """Create an API token and return it: the only time the full token is available."""
    token = ApiToken.new_token()
    ApiToken.objects.create(
        user=user, name=name, digest=ApiToken.digest_of(token), hint=token[len(ApiToken.PREFIX) :][:8]
    )
    return token
