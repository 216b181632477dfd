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

import weakref
from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.backends import AllowAllUsersModelBackend
from django.core.exceptions import ObjectDoesNotExist
from django.db import connections, router
from django.db.models import Exists, OuterRef, QuerySet
from django_otp.plugins.otp_totp.models import TOTPDevice

# Set on the session's user: whether it had a confirmed authenticator device when it was read.
# The two-factor gate asks this on every request of a session without a passed code (every
# session of a user without two-factor sign-in): read with the user, it costs no query of its own.
LOADED_HAS_DEVICE = "cityeval_has_device"


def _users() -> QuerySet:
    confirmed = TOTPDevice.objects.filter(user=OuterRef("pk"), confirmed=True)
    return get_user_model()._default_manager.annotate(**{LOADED_HAS_DEVICE: Exists(confirmed)})


# The session's user is read on every signed-in request: the query (the user's columns and the
# device question) is compiled by the ORM once per database connection and sent with each
# user's id, which saves building and compiling it each time. A number no id has marks where
# the id goes: negative, and inside a 32-bit integer column's range (outside it, the ORM would
# compile an empty query on PostgreSQL instead of sending the number).
_ID_MARK = -2_013_265_921


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: tuple[Any, ...]
    at: int  # where the id goes in params
    names: list[str]  # the user's attribute names, in the order of the columns
    converters: list[tuple[int, list[Any], Any]]  # the ORM's converters of each column


_compiled: weakref.WeakKeyDictionary[Any, _Compiled] = weakref.WeakKeyDictionary()


def _user_query(connection: Any, alias: str) -> _Compiled:
    found = _compiled.get(connection)
    if found is None:
        names = [field.attname for field in get_user_model()._meta.concrete_fields]
        query = _users().filter(pk=_ID_MARK).values_list(*names, LOADED_HAS_DEVICE).query
        compiler = query.get_compiler(alias)
        sql, params = compiler.as_sql()
        columns = [s[0] for s in compiler.select[: compiler.col_count]]
        converters = [(pos, convs, expr) for pos, (convs, expr) in compiler.get_converters(columns).items()]
        at = list(params).index(_ID_MARK)
        found = _compiled[connection] = _Compiled(sql, tuple(params), at, names, converters)
    return found


def session_user(user_id: Any) -> Any:
    """The user with id ``user_id`` (None if there is none), with ``LOADED_HAS_DEVICE`` set: what
    ``_users().get(pk=user_id)`` reads, through SQL compiled once."""
    model = get_user_model()
    alias = router.db_for_read(model)
    connection = connections[alias]
    query = _user_query(connection, alias)
    params = list(query.params)
    params[query.at] = model._meta.pk.get_db_prep_value(user_id, connection)  # as a pk lookup does
    with connection.cursor() as cursor:
        cursor.execute(query.sql, params)
        row = cursor.fetchone()
    if row is None:
        return None
    values = list(row)
    for pos, convs, expression in query.converters:  # as the ORM's compiler applies them
        for convert in convs:
            values[pos] = convert(values[pos], expression, connection)
    n = len(query.names)
    user = model.from_db(alias, query.names, values[:n])
    setattr(user, LOADED_HAS_DEVICE, bool(values[n]))
    return user


class AccountBackend(AllowAllUsersModelBackend):
    """``authenticate``: the account whose password is right, deactivated or not (the log-in
    form refuses a deactivated one); ``get_user`` (the session's user): active accounts only,
    read with whether they have an authenticator device (``LOADED_HAS_DEVICE``)."""

    def get_user(self, user_id: Any) -> Any:
        user = session_user(user_id)
        return user if user is not None and user.is_active else None

    async def aget_user(self, user_id: Any) -> Any:
        try:
            user = await _users().aget(pk=user_id)
        except ObjectDoesNotExist:
            return None
        return user if user.is_active else None
