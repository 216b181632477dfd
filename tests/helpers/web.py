"""The web tests' users and clients: the shared password, a user with one role, a logged-in client."""

from __future__ import annotations

import re

from django.contrib.auth import get_user_model
from django.test import Client
from django.urls import reverse

from cityeval.web.accounts.models import Membership

PASSWORD = "a-test-password-1234"


def make_user(username: str, role: str | None = None, *, region=None, opd=None):
    user = get_user_model().objects.create_user(username=username, password=PASSWORD)
    if role:
        Membership.objects.create(user=user, role=role, region=region, opd=opd)
    return user


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def login_client(login) -> Client:
    """Log in through the real login page with the printed password."""
    client = Client()
    response = client.post(
        reverse("accounts:login"), {"username": login.username, "password": login.password}
    )
    assert response.status_code == 302, login.username
    return client


def without_csrf_tokens(html: str) -> str:
    """The page without its random CSRF tokens, so a short string is looked for in what the page says
    (a 64-character random token holds "M1" about one time in thirty)."""
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', 'name="csrfmiddlewaretoken"', html)
