"""Log-in, rate limiting, roles, tokens and the settings' safety rules."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from axes.models import AccessAttempt
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError
from django.test import Client
from django.urls import reverse

from cityeval.web.accounts.access import acting_user
from cityeval.web.accounts.models import ApiToken, Membership, Role
from cityeval.web.accounts.services import token_create
from cityeval.web.audit.models import Action, AuditEntry
from tests.helpers.web import PASSWORD


def test_the_login_page_is_public_and_logging_in_sends_each_role_home(admin_a, coordinator):
    client = Client()
    assert client.get(reverse("accounts:login")).status_code == 200
    response = client.post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("home")).url == reverse(
        "regions:dashboard", kwargs={"region": "kab-deli-serdang"}
    )
    other = Client()
    other.post(reverse("accounts:login"), {"username": "coordinator", "password": PASSWORD})
    assert other.get(reverse("home")).url == reverse("evaluations:cycle_list")


def test_a_user_without_a_role_sees_no_region(nobody, as_user):
    response = as_user(nobody).get(reverse("home"))
    assert response.status_code == 200
    assert b"no role in any region" in response.content


def test_anonymous_users_are_sent_to_log_in(world):
    response = Client().get(reverse("home"))
    assert response.status_code == 302 and response.url.startswith(reverse("accounts:login"))


def test_repeated_failed_logins_lock_the_account_even_with_the_right_password(admin_a, settings):
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        response = client.post(reverse("accounts:login"), {"username": "admin_a", "password": "wrong"})
        assert response.status_code == 200  # the form again, with an error
    last = client.post(reverse("accounts:login"), {"username": "admin_a", "password": "wrong"})
    assert last.status_code == 429 and b"Too many failed" in last.content
    locked = client.post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert locked.status_code == 429
    assert "_auth_user_id" not in client.session


def test_behind_the_proxy_the_lock_out_counts_each_client_by_its_forwarded_address(admin_a, settings):
    """Behind nginx every request comes from 127.0.0.1; the lock-out must count the client nginx
    names (the last X-Forwarded-For hop), as the rest of the app does. Before (found in review)
    axes counted 127.0.0.1, so five wrong passwords from anywhere locked the account for all."""
    settings.BEHIND_PROXY = True
    login = reverse("accounts:login")

    def attempt(client_address: str, password: str = "wrong") -> int:
        forwarded = f"198.51.100.7, {client_address}"  # a claimed hop, then the one nginx adds
        headers = {"HTTP_X_FORWARDED_FOR": forwarded, "REMOTE_ADDR": "127.0.0.1"}
        return Client().post(login, {"username": "admin_a", "password": password}, **headers).status_code

    for _ in range(settings.AXES_FAILURE_LIMIT):
        last = attempt("203.0.113.9")
    assert last == 429  # that client is locked out
    assert attempt("203.0.113.9", PASSWORD) == 429
    assert attempt("192.0.2.44", PASSWORD) == 302  # another client logs in
    addresses = set(AccessAttempt.objects.filter(username="admin_a").values_list("ip_address", flat=True))
    assert addresses == {"203.0.113.9"}


def _failures(username: str) -> int:
    """The failed log-ins django-axes counts for ``username`` (every address)."""
    return sum(a.failures_since_start for a in AccessAttempt.objects.filter(username=username))


def test_a_deactivated_account_is_told_so_only_with_the_right_password_and_never_locked(admin_a, settings):
    """Review: the right password of a deactivated account said "wrong password" and counted
    towards the lock-out. Now it says the account is deactivated and counts nothing; a wrong
    password still says "wrong" (a guess learns nothing about the account) and counts."""
    admin_a.is_active = False
    admin_a.save(update_fields=["is_active"])
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):  # more than the lock-out allows
        right = client.post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
        assert right.status_code == 200
        assert "This account has been deactivated" in right.text and "Contact your coordinator" in right.text
        assert "Wrong username or password" not in right.text
        assert "_auth_user_id" not in client.session
    assert _failures("admin_a") == 0

    wrong = client.post(reverse("accounts:login"), {"username": "admin_a", "password": "wrong"})
    assert wrong.status_code == 200 and "Wrong username or password" in wrong.text
    assert "deactivated" not in wrong.text
    assert _failures("admin_a") == 1


def test_a_deactivated_account_is_told_so_in_indonesian(admin_a, settings):
    settings.LANGUAGE_CODE = "id"
    admin_a.is_active = False
    admin_a.save(update_fields=["is_active"])
    page = Client().post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert "Akun ini telah dinonaktifkan" in page.text and "koordinator" in page.text


def test_a_locked_out_deactivated_account_stays_locked_even_with_the_right_password(admin_a, settings):
    """The lock-out comes first: the deactivated message is no way round it."""
    admin_a.is_active = False
    admin_a.save(update_fields=["is_active"])
    client = Client()
    for _ in range(settings.AXES_FAILURE_LIMIT):
        client.post(reverse("accounts:login"), {"username": "admin_a", "password": "wrong"})
    locked = client.post(reverse("accounts:login"), {"username": "admin_a", "password": PASSWORD})
    assert locked.status_code == 429 and b"deactivated" not in locked.content


def test_a_session_of_a_deactivated_account_is_not_loaded(admin_a, as_user):
    """The log-in backend lets the form see a deactivated account; a session never holds one."""
    client = as_user(admin_a)
    assert client.get(reverse("accounts:tokens")).status_code == 200
    admin_a.is_active = False
    admin_a.save(update_fields=["is_active"])
    ended = client.get(reverse("accounts:tokens"))
    assert ended.status_code == 302 and ended.url.startswith(reverse("accounts:login"))


def test_production_hashes_passwords_with_argon2():
    from cityeval.web import settings as production

    assert production.PASSWORD_HASHERS[0] == "django.contrib.auth.hashers.Argon2PasswordHasher"


def _settings_in_fresh_process(**env: str) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")} | env
    return subprocess.run(
        [sys.executable, "-c", "import cityeval.web.settings"],
        env=environment,
        capture_output=True,
        text=True,
    )


def test_it_refuses_to_start_with_debug_off_and_the_placeholder_key():
    refused = _settings_in_fresh_process(DEBUG="0")
    assert refused.returncode != 0 and "SECRET_KEY is the placeholder" in refused.stderr
    assert _settings_in_fresh_process(DEBUG="0", SECRET_KEY="x" * 50).returncode == 0
    public = _settings_in_fresh_process(ALLOWED_HOSTS="cityeval.example.go.id")  # DEBUG left on
    assert public.returncode != 0 and "names a public host" in public.stderr


def test_it_refuses_a_short_secret_key_with_debug_off():
    """Django's deployment check asks for at least 50 characters; before the fix a 10-character
    key started a production process."""
    short = _settings_in_fresh_process(DEBUG="0", SECRET_KEY="s3cr3t-key")
    assert short.returncode != 0
    assert "SECRET_KEY has 10 characters; it needs at least 50" in short.stderr
    assert _settings_in_fresh_process(DEBUG="0", SECRET_KEY="k" * 49).returncode != 0
    assert _settings_in_fresh_process(DEBUG="0", SECRET_KEY="k" * 50).returncode == 0
    assert _settings_in_fresh_process(DEBUG="1", SECRET_KEY="short").returncode == 0  # development


def test_it_parses_booleans_strictly():
    refused = _settings_in_fresh_process(DEBUG="maybe")
    assert refused.returncode != 0 and "DEBUG must be one of" in refused.stderr


def test_a_membership_must_fit_its_role(world, nobody):
    with pytest.raises(IntegrityError):
        Membership.objects.create(user=nobody, role=Role.OPD_CONTRIBUTOR, region=world.region_a)


def test_tokens_are_shown_once_and_stored_only_as_a_hash(admin_a, as_user):
    client = as_user(admin_a)
    response = client.post(reverse("accounts:tokens"), {"name": "laptop"})
    token = response.context["created"]
    assert token.startswith("ce_")
    stored = ApiToken.objects.get(user=admin_a)
    assert stored.digest == ApiToken.digest_of(token) and token not in (stored.digest, stored.hint)
    assert token not in client.get(reverse("accounts:tokens")).content.decode()


def test_a_user_cannot_revoke_someone_elses_token(admin_a, admin_b, as_user):
    token_create(user=admin_b, name="b")
    hint = ApiToken.objects.get(user=admin_b).hint
    response = as_user(admin_a).post(reverse("accounts:token_revoke", kwargs={"hint": hint}))
    assert response.status_code == 404
    assert ApiToken.objects.filter(user=admin_b).count() == 1


def test_tokens_page_needs_login(world):
    assert Client().get(reverse("accounts:tokens")).status_code == 302


def test_indonesian_is_the_default_language(world, settings):
    settings.LANGUAGE_CODE = "id"
    response = Client().get(reverse("accounts:login"))
    assert response.status_code == 200
    assert 'lang="id"' in response.content.decode()
    assert "Masuk" in response.content.decode()  # "Log in"


def test_adduser_creates_a_user_with_a_role_and_refuses_bad_scopes(world):
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    call_command("adduser", "kominfo", "--role", "regional_admin", "--region", "kab-deli-serdang", stdout=out)
    assert "password" in out.getvalue()
    assert Membership.objects.get(user__username="kominfo").region == world.region_a
    call_command(
        "adduser", "kominfo", "--role", "opd_contributor", "--region", "kab-deli-serdang", "--opd", "dinkes"
    )
    with pytest.raises(CommandError, match="already has that role"):
        call_command("adduser", "kominfo", "--role", "regional_admin", "--region", "kab-deli-serdang")
    with pytest.raises(CommandError, match="--opd must name an OPD"):
        call_command(
            "adduser", "x", "--role", "opd_contributor", "--region", "kab-deli-serdang", "--opd", "nope"
        )
    with pytest.raises(CommandError, match="is national"):
        call_command("adduser", "y", "--role", "coordinator", "--region", "kab-deli-serdang")
    assert not Membership.objects.filter(user__username__in=["x", "y"]).exists()
    # A deactivated role is given back, not refused as held (review), and the trail says so.
    Membership.objects.filter(user__username="kominfo", role="regional_admin").update(active=False)
    call_command("adduser", "kominfo", "--role", "regional_admin", "--region", "kab-deli-serdang")
    assert Membership.objects.get(user__username="kominfo", role="regional_admin").active
    assert AuditEntry.objects.filter(action=Action.MEMBER_REACTIVATE, user=None).count() == 1


def test_indonesian_stays_the_default_whatever_the_browser_asks_and_english_is_selectable(world, settings):
    settings.LANGUAGE_CODE = "id"
    client = Client(headers={"Accept-Language": "en-US,en;q=0.9"})
    assert "Masuk" in client.get(reverse("accounts:login")).content.decode()
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    page = client.get(reverse("accounts:login")).content.decode()
    assert 'lang="en"' in page and "Log in" in page


def test_an_assessor_lands_on_their_panels(assessor, as_user):
    response = as_user(assessor).get(reverse("home"))
    assert response.status_code == 302 and response.url == reverse("panels:mine")


def test_acting_user_refuses_an_anonymous_request_with_403(rf):
    """A view that forgot its login guard must not let a service act as nobody."""
    request = rf.post("/")
    request.user = AnonymousUser()
    with pytest.raises(PermissionDenied):
        acting_user(request)


def test_acting_user_is_the_signed_in_user(rf, admin_a):
    request = rf.post("/")
    request.user = admin_a
    assert acting_user(request) == admin_a
