"""Password change and reset: Django's views with the project's mail, no user enumeration,
rate limits per e-mail address and per client address, and links that work once."""

from __future__ import annotations

import logging
import re

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.test import Client
from django.urls import reverse

from tests.helpers.web import PASSWORD

NEW_PASSWORD = "kopi-tubruk-pagi-2026"


@pytest.fixture
def budi(admin_a):
    admin_a.email = "budi@example.go.id"
    admin_a.save()
    return admin_a


def _ask(client: Client, address: str):
    return client.post(reverse("accounts:password_reset"), {"email": address})


def _link(message) -> str:
    """The reset link's path, from the plain text of the message."""
    return re.search(r"https?://[^/\s]+(/accounts/password/reset/[^\s]+/)", message.body).group(1)


def _set(client: Client, path: str, password: str = NEW_PASSWORD):
    page = client.get(path, follow=True)  # Django moves the token into the session, then redirects
    assert page.status_code == 200
    return client.post(
        page.redirect_chain[-1][0] if page.redirect_chain else path,
        {"new_password1": password, "new_password2": password},
    )


def test_reset_works_end_to_end_follow_the_link_set_the_password_log_in(budi):
    client = Client()
    response = _ask(client, "BUDI@example.go.id")
    assert response.status_code == 302 and response.url == reverse("accounts:password_reset_done")
    (message,) = mail.outbox
    assert message.to == ["BUDI@example.go.id"] and message.alternatives
    done = _set(client, _link(message))
    assert done.status_code == 302 and done.url == reverse("accounts:password_reset_complete")
    login = Client().post(reverse("accounts:login"), {"username": "admin_a", "password": NEW_PASSWORD})
    assert login.status_code == 302
    old = Client().post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert old.status_code == 200  # the old password no longer works


def _page(url: str) -> str:
    """The page without what differs per request (the CSRF token, the script nonce)."""
    text = Client().get(url).content.decode()
    return re.sub(r'(nonce|value)="[^"]*"', "", text)


def test_an_unknown_address_gets_the_identical_answer_and_no_mail(budi):
    known = _ask(Client(), "budi@example.go.id")
    unknown = _ask(Client(), "nobody-here@example.go.id")
    assert (unknown.status_code, unknown.url) == (known.status_code, known.url)
    assert _page(unknown.url) == _page(known.url)
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["budi@example.go.id"]


def test_an_unknown_address_takes_the_same_path_the_message_is_built(budi, monkeypatch):
    """Same work for both: the message is built for an unknown address too, then dropped."""
    from cityeval.web.accounts import passwords

    built = []
    real = passwords.mail_build
    monkeypatch.setattr(passwords, "mail_build", lambda **kw: built.append(kw["to"]) or real(**kw))
    _ask(Client(), "nobody-here@example.go.id")
    _ask(Client(), "budi@example.go.id")
    assert built == ["nobody-here@example.go.id", "budi@example.go.id"]


def test_a_deactivated_account_gets_no_link(budi):
    budi.is_active = False
    budi.save()
    assert _ask(Client(), "budi@example.go.id").status_code == 302
    assert mail.outbox == []


def test_requests_for_one_address_are_refused_after_the_limit(budi, settings):
    settings.PASSWORD_RESET_PER_ADDRESS_HOUR = 3
    for n in range(3):
        assert _ask(Client(REMOTE_ADDR=f"10.0.0.{n}"), "budi@example.go.id").status_code == 302
    refused = _ask(Client(REMOTE_ADDR="10.0.0.9"), "budi@example.go.id")
    assert refused.status_code == 429 and b"Too many password reset requests" in refused.content
    assert len(mail.outbox) == 3


def test_requests_from_one_client_are_refused_after_the_limit_known_or_unknown(budi, settings):
    settings.PASSWORD_RESET_PER_IP_HOUR = 2
    client = Client(REMOTE_ADDR="10.1.1.1")
    assert _ask(client, "a@example.go.id").status_code == 302
    assert _ask(client, "b@example.go.id").status_code == 302
    assert _ask(client, "budi@example.go.id").status_code == 429
    assert mail.outbox == []
    assert _ask(Client(REMOTE_ADDR="10.1.1.2"), "budi@example.go.id").status_code == 302


def test_a_used_link_is_refused(budi):
    client = Client()
    _ask(client, "budi@example.go.id")
    path = _link(mail.outbox[0])
    _set(client, path)
    again = Client().get(path, follow=True)
    assert b'id="invalid-link"' in again.content


def test_a_tampered_link_is_refused(budi):
    _ask(Client(), "budi@example.go.id")
    path = _link(mail.outbox[0])
    tampered = path[:-3] + ("a" if path[-3] != "a" else "b") + path[-2:]
    page = Client().get(tampered, follow=True)
    assert b'id="invalid-link"' in page.content
    assert (
        Client().post(tampered, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}).status_code
        == 200
    )
    assert get_user_model().objects.get(pk=budi.pk).check_password(PASSWORD)


def test_an_expired_link_is_refused(budi, settings):
    _ask(Client(), "budi@example.go.id")
    path = _link(mail.outbox[0])
    settings.PASSWORD_RESET_TIMEOUT = -1  # every link is now past its time
    assert b'id="invalid-link"' in Client().get(path, follow=True).content


def test_a_logged_in_user_changes_their_password_with_the_old_one(budi, as_user):
    client = as_user(budi)
    url = reverse("accounts:password_change")
    assert client.get(url).status_code == 200
    wrong = client.post(
        url, {"old_password": "nope", "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert wrong.status_code == 200
    right = client.post(
        url, {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )
    assert right.status_code == 302 and right.url == reverse("accounts:password_change_done")
    assert get_user_model().objects.get(pk=budi.pk).check_password(NEW_PASSWORD)


def test_password_change_needs_a_login():
    response = Client().get(reverse("accounts:password_change"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_a_reset_ends_a_log_in_lockout(budi, settings):
    """Locked out after AXES_FAILURE_LIMIT wrong passwords (as in test_accounts), the owner who
    proves control of their address logs in with the new password at once."""
    locked = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        locked.post(reverse("accounts:login"), {"username": "admin_a", "password": "wrong"})
    assert (
        locked.post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD}).status_code
        == 429
    )
    client = Client()
    _ask(client, "budi@example.go.id")
    _set(client, _link(mail.outbox[0]))
    login = locked.post(reverse("accounts:login"), {"username": "admin_a", "password": NEW_PASSWORD})
    assert login.status_code == 302


@pytest.mark.parametrize("backend", ["SmtpDownBackend", "UnreachableBackend"])
def test_a_mail_server_failure_answers_as_for_an_unknown_address_and_is_logged(
    budi, settings, caplog, backend
):
    settings.EMAIL_BACKEND = f"tests.helpers.mail.{backend}"
    with caplog.at_level(logging.WARNING, logger="cityeval.web.accounts.passwords"):
        known = _ask(Client(), "budi@example.go.id")
    unknown = _ask(Client(), "nobody-here@example.go.id")
    assert known.status_code == 302 and known.url == reverse("accounts:password_reset_done")
    assert (known.status_code, known.url) == (unknown.status_code, unknown.url)
    assert _page(known.url) == _page(unknown.url)
    (record,) = [r for r in caplog.records if r.name == "cityeval.web.accounts.passwords"]
    assert record.levelno == logging.WARNING and record.exc_info is not None
    assert record.getMessage() == f"Password reset mail for user {budi.pk} not sent"
