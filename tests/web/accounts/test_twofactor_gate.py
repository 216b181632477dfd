"""The two-factor gate asks on every request of an unverified session whether the user has a
confirmed device (an EXISTS, read with the session's user, or ``twofactor.has_device`` for a
user read otherwise): a device confirmed after the session began still gates that session at
its next request, a device still being enrolled does not, and the question costs no query of
its own beside the user's."""

from __future__ import annotations

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityeval.web.accounts.twofactor import device_of, has_device

VERIFY = reverse("accounts:twofactor_verify")


def test_a_device_confirmed_after_the_password_gates_the_open_session(world, admin_a, as_user):
    client = as_user(admin_a)  # signed in with the password only: not verified
    home = reverse("accounts:tokens")
    assert client.get(home).status_code == 200
    enrolling = TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=False)
    assert client.get(home).status_code == 200  # an unconfirmed device gates nothing
    assert not has_device(admin_a) and device_of(admin_a) is None
    enrolling.confirmed = True
    enrolling.save()
    response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)
    assert has_device(admin_a) and device_of(admin_a) == enrolling


def test_another_users_device_does_not_gate(world, admin_a, admin_b, as_user):
    TOTPDevice.objects.create(user=admin_b, name="authenticator", confirmed=True)
    assert as_user(admin_a).get(reverse("accounts:tokens")).status_code == 200
    assert not has_device(admin_a) and has_device(admin_b)


def test_the_question_is_one_exists_query(world, admin_a):
    with CaptureQueriesContext(connection) as queries:
        assert has_device(admin_a) is False
    assert len(queries) == 1 and "otp_totp_totpdevice" in queries[0]["sql"]
    assert " LIMIT 1" in queries[0]["sql"] and '"key"' not in queries[0]["sql"]


def test_a_signed_in_request_asks_the_question_with_the_session_user(world, admin_a, as_user):
    """The gate's question rides on the query that reads the session's user (an EXISTS beside
    it): no query of its own on a page of a session without a passed code."""
    client = as_user(admin_a)
    home = reverse("accounts:tokens")
    client.get(home)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(home).status_code == 200
    device_queries = [q["sql"] for q in queries if "otp_totp_totpdevice" in q["sql"]]
    assert len(device_queries) == 1 and '"auth_user"' in device_queries[0]
    # With a confirmed device, the same session is sent to the code step at its next request.
    TOTPDevice.objects.create(user=admin_a, name="authenticator", confirmed=True)
    response = client.get(home)
    assert response.status_code == 302 and response["Location"].startswith(VERIFY)


def test_a_deactivated_account_has_no_session_user(world, admin_a, as_user):
    client = as_user(admin_a)
    admin_a.is_active = False
    admin_a.save()
    response = client.get(reverse("accounts:tokens"))
    assert response.status_code == 302 and response["Location"].startswith(reverse("accounts:login"))
