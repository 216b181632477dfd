"""The session and its user are read with SQL compiled once (accounts.sessions,
accounts.backends.session_user): the same answers as Django's ORM reads, one query each."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityeval.web.accounts.backends import LOADED_HAS_DEVICE, session_user
from cityeval.web.accounts.sessions import SessionStore


def test_the_site_uses_this_store():
    assert settings.SESSION_ENGINE == "cityeval.web.accounts.sessions"


def test_a_session_reads_back_what_was_stored_and_an_expired_or_unknown_one_reads_empty(db):
    store = SessionStore()
    store["colour"] = "hijau"
    store.create()
    key = store.session_key
    with CaptureQueriesContext(connection) as queries:
        assert SessionStore(key).load() == {"colour": "hijau"}
    assert len(queries) == 1
    Session.objects.filter(session_key=key).update(expire_date=timezone.now() - dt.timedelta(seconds=1))
    expired = SessionStore(key)
    assert expired.load() == {} and expired.session_key is None  # as Django's store leaves it
    unknown = SessionStore("x" * 32)
    assert unknown.load() == {} and unknown.session_key is None


def test_the_session_user_is_the_orm_user_with_the_device_question_answered(world, admin_a):
    User = get_user_model()
    read = session_user(admin_a.pk)
    orm = User.objects.get(pk=admin_a.pk)
    for field in User._meta.concrete_fields:
        assert getattr(read, field.attname) == getattr(orm, field.attname), field.name
        assert type(getattr(read, field.attname)) is type(getattr(orm, field.attname)), field.name
    assert read._state.db == orm._state.db and not read._state.adding
    assert getattr(read, LOADED_HAS_DEVICE) is False
    TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=True)
    assert getattr(session_user(str(admin_a.pk)), LOADED_HAS_DEVICE) is True
    assert session_user(10**6) is None


def test_a_deleted_session_signs_out(world, admin_a):
    client = Client()
    client.force_login(admin_a)
    page = reverse("accounts:tokens")
    assert client.get(page).status_code == 200
    Session.objects.all().delete()
    response = client.get(page)
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
