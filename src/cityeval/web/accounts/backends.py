"""The log-in backend: Django's, except that the right password of a deactivated account is
answered with that account, so that the log-in form can say the account is deactivated.

Django's ``ModelBackend`` answers "nobody" for a deactivated account even with the right
password, so the form said "wrong password" and django-axes counted a failure towards the
lock-out (it counts Django's ``user_login_failed`` signal). Here the account comes back only
after ``check_password`` succeeded, and the form (``AuthenticationForm.confirm_login_allowed``)
refuses it with its own message, without logging in, and its owner is told to ask the
coordinator. A wrong password is answered as for any account (and counts towards the lock-out),
so only someone who has the right password learns that the account is deactivated, and with it
that the password is right: a trade-off taken knowingly (docs/security.md), since the account
cannot log in while deactivated. The check costs the same one password hash for every account,
so its time says nothing.

A session never belongs to a deactivated account: ``get_user`` still refuses it, so an open
session ends at its next request.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import AllowAllUsersModelBackend
from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

# Set on the session's user: whether it had a confirmed authenticator device when it was read.
# The two-factor gate asks this on every request of a session without a passed code (every
# session of a user without two-factor sign-in): read with the user, it costs no query of its own.
LOADED_HAS_DEVICE = "cityeval_has_device"


def _users() -> QuerySet:
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return get_user_model()._default_manager.annotate(**{LOADED_HAS_DEVICE: Exists(confirmed)})


class AccountBackend(AllowAllUsersModelBackend):
    """``authenticate``: the account whose password is right, deactivated or not (the log-in
    form refuses a deactivated one); ``get_user`` (the session's user): active accounts only,
    read with whether they have an authenticator device (``LOADED_HAS_DEVICE``)."""

    def get_user(self, user_id: Any) -> Any:
        try:
            user = _users().get(pk=user_id)
        except ObjectDoesNotExist:
            return None
        return user if user.is_active else None

    async def aget_user(self, user_id: Any) -> Any:
        try:
            user = await _users().aget(pk=user_id)
        except ObjectDoesNotExist:
            return None
        return user if user.is_active else None
