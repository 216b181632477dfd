"""Two-factor sign-in (issue 12): enrolment, the code step after the password, recovery codes,
turning it off, the setting that requires it for some roles, and who may touch what.

The codes are computed by ``tests.helpers.totp`` (RFC 6238 written out with ``hmac``) from the
secret the enrolment page prints, as a person would type it into an app. django-otp reads the
time through ``time.time()`` in its TOTP model; the ``clock`` fixture sets that time, so that a
test can step to the next 30-second period (a code is never accepted twice).
"""

from __future__ import annotations

import base64
import io
import re
from types import SimpleNamespace

import pytest
import segno
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityeval.web.accounts.models import ResetRequest
from cityeval.web.accounts.services import token_create
from cityeval.web.accounts.twofactor import required_roles_check
from cityeval.web.audit.models import Action, AuditEntry
from tests.helpers.totp import hotp, key_of, totp
from tests.helpers.web import PASSWORD

T0 = 1_800_000_000.0  # 2027-01-15: any fixed instant; codes are computed for it
PAGE = reverse("accounts:twofactor")
VERIFY = reverse("accounts:twofactor_verify")
CODES = reverse("accounts:twofactor_codes")
CODES_TXT = reverse("accounts:twofactor_codes_txt")
REGENERATE = reverse("accounts:twofactor_regenerate")
OFF = reverse("accounts:twofactor_off")
LOGIN = reverse("accounts:login")


@pytest.fixture(autouse=True)
def _no_backoff(settings):
    """django-otp waits 1, 2, 4… seconds after each wrong code per device; the tests send a
    right code just after a wrong one, so they turn that wait off (the hourly limit stays)."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    settings.OTP_STATIC_THROTTLE_FACTOR = 0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def time(self) -> float:
        return self.now

    def next_period(self) -> None:
        self.now += 30


@pytest.fixture
def clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr("django_otp.plugins.otp_totp.models.time", SimpleNamespace(time=clock.time))
    return clock


def secret_on(page) -> str:
    found = re.search(r'<code class="secret">([A-Z2-7 ]+)</code>', page.content.decode())
    assert found, "the enrolment page shows the secret as text"
    return found.group(1)


def codes_on(page) -> list[str]:
    return re.findall(r"<li><code>([a-z2-7]{8})</code></li>", page.content.decode())


def enrol(client: Client, clock: Clock) -> tuple[bytes, list[str]]:
    """Turn two-factor sign-in on through the pages; return the key and the recovery codes."""
    key = key_of(secret_on(client.get(PAGE)))
    response = client.post(PAGE, {"code": totp(key, clock.now)})
    assert response.status_code == 302 and response["Location"] == CODES
    codes = codes_on(client.get(CODES))
    client.post(CODES)  # "I have saved them"
    clock.next_period()
    return key, codes


def password_login(user) -> Client:
    client = Client()
    response = client.post(LOGIN, {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return client


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


# --- the independent implementation ---------------------------------------------------------


def test_the_totp_helper_gives_the_rfcs_published_values():
    """RFC 4226 appendix D (HOTP, key "12345678901234567890") and RFC 6238 appendix B (SHA-1,
    8 digits, T = 59 s and 1111111109 s)."""
    key = b"12345678901234567890"
    assert [hotp(key, c) for c in range(3)] == ["755224", "287082", "359152"]
    assert totp(key, 59, digits=8) == "94287082"
    assert totp(key, 1111111109, digits=8) == "07081804"


# --- enrolment ---------------------------------------------------------------------------------


def test_enrolment_with_a_code_from_the_printed_secret_turns_it_on(world, admin_a, as_user, clock):
    client = as_user(admin_a)
    page = client.get(PAGE)
    assert page.status_code == 200 and "no-store" in page["Cache-Control"]
    assert re.search(r'<img class="qr" src="data:image/svg\+xml;base64,', page.content.decode())
    assert secret_on(client.get(PAGE)) == secret_on(page)  # a reload keeps the secret already scanned
    key = key_of(secret_on(page))
    assert len(key) == 20  # 160 bits, RFC 4226's recommended length

    response = client.post(PAGE, {"code": totp(key, clock.now)})
    assert response.status_code == 302 and response["Location"] == CODES
    shown = client.get(CODES)
    codes = codes_on(shown)
    assert len(codes) == len(set(codes)) == 10
    download = client.get(CODES_TXT)
    assert download["Content-Disposition"] == 'attachment; filename="cityeval-recovery-codes.txt"'
    assert all(code in download.content.decode() for code in codes)

    assert TOTPDevice.objects.get(user=admin_a).confirmed
    entry = AuditEntry.objects.get()
    assert (entry.action, entry.user, entry.target_text) == (Action.TWO_FACTOR_ENABLE, admin_a, "admin_a")
    # The session that enrolled is verified: its pages open without a second code.
    assert client.get(reverse("accounts:tokens")).status_code == 200


def test_the_qr_code_carries_the_address_authenticator_apps_read(world, admin_a, as_user):
    """The Key URI Format (github.com/google/google-authenticator/wiki/Key-Uri-Format): label
    "issuer:account", the base32 secret, and the issuer again. The expected image is segno's
    drawing of that address, written out here by hand."""
    page = as_user(admin_a).get(PAGE)
    secret = secret_on(page).replace(" ", "")
    address = (
        f"otpauth://totp/cityeval%3Aadmin_a?secret={secret}&algorithm=SHA1&digits=6&period=30&issuer=cityeval"
    )
    out = io.BytesIO()
    segno.make(address, error="m", micro=False).save(
        out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True
    )
    expected = "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")
    assert f'src="{expected}"' in page.content.decode()


def test_the_recovery_codes_are_shown_once(world, admin_a, as_user, clock):
    client = as_user(admin_a)
    key = key_of(secret_on(client.get(PAGE)))
    client.post(PAGE, {"code": totp(key, clock.now)})
    assert len(codes_on(client.get(CODES))) == 10
    client.post(CODES)  # "I have saved them"
    assert client.get(CODES)["Location"] == PAGE
    assert client.get(CODES_TXT)["Location"] == PAGE
    assert b"You have 10 unused recovery codes." in client.get(PAGE).content


def test_a_wrong_code_does_not_turn_it_on(world, admin_a, as_user, clock):
    client = as_user(admin_a)
    key = key_of(secret_on(client.get(PAGE)))
    response = client.post(PAGE, {"code": wrong(totp(key, clock.now))})
    assert response.status_code == 400 and b"That code is not right" in response.content
    assert not TOTPDevice.objects.filter(user=admin_a, confirmed=True).exists()
    assert not StaticToken.objects.exists() and not AuditEntry.objects.exists()
    # A code from the period before the last one is too old (one step of tolerance).
    assert client.post(PAGE, {"code": totp(key, clock.now - 60)}).status_code == 400
    assert client.post(PAGE, {"code": totp(key, clock.now)}).status_code == 302


# --- signing in --------------------------------------------------------------------------------


def test_a_user_with_a_device_must_give_the_code_after_the_password(world, admin_a, as_user, clock):
    key, _ = enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    dashboard = reverse("regions:dashboard", kwargs={"region": "kab-deli-serdang"})
    for page in (reverse("home"), dashboard, reverse("accounts:tokens"), PAGE, OFF):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"].startswith(VERIFY), page
    assert client.get(dashboard)["Location"] == f"{VERIFY}?next=%2Fr%2Fkab-deli-serdang%2F"
    assert client.get("/api/regions").status_code == 401  # a session's API calls wait too
    code_page = client.get(VERIFY)
    assert code_page.status_code == 200
    tokens_link = f'href="{reverse("accounts:tokens")}"'.encode()
    assert tokens_link not in code_page.content  # the navigation offers only "Log out" meanwhile
    assert f'action="{reverse("accounts:logout")}"'.encode() in code_page.content

    refused = client.post(VERIFY, {"code": wrong(totp(key, clock.now)), "next": dashboard})
    assert refused.status_code == 400
    assert client.get(dashboard).status_code == 302

    response = client.post(VERIFY, {"code": totp(key, clock.now), "next": dashboard})
    assert response.status_code == 302 and response["Location"] == dashboard
    opened = client.get(dashboard)
    assert opened.status_code == 200 and tokens_link in opened.content
    # The same code cannot sign in a second session (RFC 6238 section 5.2).
    assert password_login(admin_a).post(VERIFY, {"code": totp(key, clock.now)}).status_code == 400


def test_the_code_step_sends_only_to_this_site(world, admin_a, as_user, clock):
    key, _ = enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    response = client.post(VERIFY, {"code": totp(key, clock.now), "next": "https://evil.example/"})
    assert response["Location"] == reverse("home")


def test_a_recovery_code_works_once(world, admin_a, as_user, clock):
    _, codes = enrol(as_user(admin_a), clock)
    first = password_login(admin_a)
    assert first.post(VERIFY, {"code": codes[0].upper()}).status_code == 302
    assert first.get(reverse("accounts:tokens")).status_code == 200

    second = password_login(admin_a)
    assert second.post(VERIFY, {"code": codes[0]}).status_code == 400
    assert second.get(reverse("accounts:tokens")).status_code == 302
    assert second.post(VERIFY, {"code": codes[1]}).status_code == 302
    assert StaticToken.objects.filter(device__user=admin_a).count() == 8


def test_wrong_codes_are_limited_per_account(world, admin_a, as_user, clock, settings):
    settings.TWO_FACTOR_FAILURES_PER_HOUR = 3
    key, codes = enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    for _ in range(3):
        assert client.post(VERIFY, {"code": wrong(totp(key, clock.now))}).status_code == 400
    # Over the limit even a right code is refused, from a new session as well.
    for attempt in (client, password_login(admin_a)):
        response = attempt.post(VERIFY, {"code": totp(key, clock.now)})
        assert response.status_code == 429 and b"Too many wrong codes" in response.content
    assert password_login(admin_a).post(VERIFY, {"code": codes[0]}).status_code == 429


def test_logging_out_works_before_the_code(world, admin_a, as_user, clock):
    enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    assert client.post(reverse("accounts:logout"))["Location"] == LOGIN
    assert client.get(VERIFY)["Location"].startswith(LOGIN)


# --- new recovery codes, turning it off --------------------------------------------------------


def test_new_recovery_codes_replace_the_old_ones(world, admin_a, as_user, clock):
    client = as_user(admin_a)
    key, old = enrol(client, clock)
    assert client.post(REGENERATE, {"code": wrong(totp(key, clock.now))}).status_code == 400
    response = client.post(REGENERATE, {"code": totp(key, clock.now)})
    assert response["Location"] == CODES
    new = codes_on(client.get(CODES))
    assert len(new) == 10 and not set(new) & set(old)
    assert password_login(admin_a).post(VERIFY, {"code": old[0]}).status_code == 400
    assert password_login(admin_a).post(VERIFY, {"code": new[0]}).status_code == 302
    assert AuditEntry.objects.filter(action=Action.RECOVERY_CODES_REGENERATE, user=admin_a).count() == 1


def test_new_recovery_codes_made_in_a_session_signed_in_by_a_recovery_code_are_shown(
    world, admin_a, as_user, clock
):
    """New user's walk: the session was verified by the recovery codes' device, which the
    regeneration deleted, so the new codes were never shown and the old ones were void."""
    _key, old = enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    assert client.post(VERIFY, {"code": old[0]}).status_code == 302
    response = client.post(REGENERATE, {"code": old[1]})
    assert response.status_code == 302 and response["Location"] == CODES
    new = codes_on(client.get(CODES))
    assert len(new) == 10 and not set(new) & set(old)
    assert client.get(reverse("accounts:tokens")).status_code == 200  # still signed in
    assert password_login(admin_a).post(VERIFY, {"code": new[0]}).status_code == 302


def test_turning_it_off_needs_a_code(world, admin_a, as_user, clock):
    client = as_user(admin_a)
    key, _ = enrol(client, clock)
    assert client.get(OFF).status_code == 200
    assert client.post(OFF, {"code": wrong(totp(key, clock.now))}).status_code == 400
    assert TOTPDevice.objects.filter(user=admin_a).exists()
    assert client.post(OFF, {"code": totp(key, clock.now)})["Location"] == PAGE
    assert not TOTPDevice.objects.filter(user=admin_a).exists()
    assert not StaticToken.objects.filter(device__user=admin_a).exists()
    assert AuditEntry.objects.filter(action=Action.TWO_FACTOR_DISABLE, user=admin_a).count() == 1
    # The password alone opens the account again.
    assert password_login(admin_a).get(reverse("accounts:tokens")).status_code == 200


# --- the setting -------------------------------------------------------------------------------


def test_the_setting_sends_a_coordinator_without_a_device_to_enrolment(
    world, coordinator, admin_a, settings, clock
):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator", "assessor"]
    client = password_login(coordinator)
    for page in (reverse("home"), reverse("evaluations:cycle_list"), reverse("accounts:tokens"), VERIFY):
        response = client.get(page)
        assert response.status_code == 302 and response["Location"] == PAGE, page
    assert b"Your role requires two-factor sign-in" in client.get(PAGE).content
    enrol(client, clock)
    assert client.get(reverse("evaluations:cycle_list")).status_code == 200

    # A regional admin's role is not listed: the password is enough.
    assert password_login(admin_a).get(reverse("accounts:tokens")).status_code == 200


def test_the_setting_covers_assessors(world, assessor, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator", "assessor"]
    assert password_login(assessor).get(reverse("panels:mine"))["Location"] == PAGE


def test_turning_it_off_is_refused_when_the_role_requires_it(world, coordinator, as_user, settings, clock):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator"]
    client = as_user(coordinator)
    key, _ = enrol(client, clock)
    page = client.get(PAGE)
    assert OFF.encode() not in page.content and b"cannot be turned off" in page.content
    assert client.get(OFF).status_code == 403
    response = client.post(OFF, {"code": totp(key, clock.now)})
    assert response.status_code == 403 and b"cannot be turned off" in response.content
    assert TOTPDevice.objects.filter(user=coordinator, confirmed=True).exists()
    assert not AuditEntry.objects.filter(action=Action.TWO_FACTOR_DISABLE).exists()


def test_api_tokens_are_not_asked_for_a_code(world, coordinator, settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator"]
    token = token_create(user=coordinator, name="script")
    response = Client().get("/api/regions", HTTP_AUTHORIZATION=f"Bearer {token}")
    assert response.status_code == 200
    assert {r["slug"] for r in response.json()} == {"kab-deli-serdang", "kota-medan"}


def test_an_authorization_header_does_not_stand_in_for_the_code(
    world, admin_a, coordinator, as_user, clock, settings
):
    """Security review: any Authorization header used to skip the gate, so the password alone
    opened pages, the API (through its session authentication) and minted a lasting token."""
    enrol(as_user(admin_a), clock)
    client = password_login(admin_a)
    tokens = reverse("accounts:tokens")
    for header in ("x", "Bearer junk"):
        assert client.get(tokens, HTTP_AUTHORIZATION=header).status_code == 302
        assert client.get("/api/regions", HTTP_AUTHORIZATION=header).status_code == 401
        client.post(tokens, {"name": "persist"}, HTTP_AUTHORIZATION=header)
    assert not admin_a.api_tokens.exists()
    # A coordinator whose role requires a device and who has none is sent to enrol, header or not.
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinator"]
    response = password_login(coordinator).get(reverse("home"), HTTP_AUTHORIZATION="x")
    assert response.status_code == 302 and response["Location"].startswith(PAGE)


def test_an_unknown_role_in_the_setting_stops_the_start(settings):
    settings.TWO_FACTOR_REQUIRED_ROLES = ["coordinater"]
    with pytest.raises(ImproperlyConfigured, match="coordinater"):
        required_roles_check()


# --- who may touch what ------------------------------------------------------------------------


@pytest.mark.parametrize("page", [PAGE, VERIFY, CODES, CODES_TXT, REGENERATE, OFF])
@pytest.mark.parametrize("method", ["get", "post"])
def test_an_anonymous_visitor_is_sent_to_log_in(world, page, method):
    client = Client()
    response = client.post(page, {"code": "123456"}) if method == "post" else client.get(page)
    assert response.status_code == 302 and response["Location"] == f"{LOGIN}?next={page}"
    assert not TOTPDevice.objects.exists()


def test_one_user_cannot_see_or_change_anothers_devices(world, admin_a, admin_b, as_user, clock):
    a = as_user(admin_a)
    key_a, codes_a = enrol(a, clock)
    b = as_user(admin_b)
    assert key_of(secret_on(b.get(PAGE))) != key_a  # B's page shows B's own new secret
    # B has no device: turning off or new codes only lead to B's own enrolment.
    assert b.post(OFF, {"code": totp(key_a, clock.now)})["Location"] == PAGE
    assert b.post(REGENERATE, {"code": totp(key_a, clock.now)})["Location"] == PAGE
    # With a device of B's own, A's codes are wrong codes for B.
    enrol(b, clock)
    assert b.post(OFF, {"code": totp(key_a, clock.now)}).status_code == 400
    assert b.post(OFF, {"code": codes_a[0]}).status_code == 400
    assert TOTPDevice.objects.filter(user=admin_a, confirmed=True).count() == 1
    assert StaticToken.objects.filter(device__user=admin_a).count() == 10
    assert not AuditEntry.objects.filter(action=Action.TWO_FACTOR_DISABLE).exists()
    # A's codes do not finish B's sign-in either.
    assert password_login(admin_b).post(VERIFY, {"code": codes_a[1]}).status_code == 400


def test_an_operator_can_remove_a_lost_device(world, admin_a, as_user, clock):
    enrol(as_user(admin_a), clock)
    out = io.StringIO()
    call_command("twofactor_reset", "admin_a", stdout=out)
    assert "removed" in out.getvalue()
    assert not TOTPDevice.objects.filter(user=admin_a).exists()
    assert not StaticToken.objects.filter(device__user=admin_a).exists()
    entry = AuditEntry.objects.get(action=Action.TWO_FACTOR_DISABLE)
    assert (entry.user, entry.target_text, entry.details) == (None, "admin_a", {"reset_by_operator": True})
    assert password_login(admin_a).get(reverse("accounts:tokens")).status_code == 200
    with pytest.raises(CommandError, match="no user"):
        call_command("twofactor_reset", "nobody-here", stdout=io.StringIO())


def test_the_pages_speak_indonesian(world, admin_a, as_user, settings, clock):
    settings.LANGUAGE_CODE = "id"
    client = as_user(admin_a)
    page = client.get(PAGE).content.decode()
    assert "<h1>Verifikasi dua langkah</h1>" in page and "Aktifkan verifikasi dua langkah" in page
    key = key_of(secret_on(client.get(PAGE)))
    refused = client.post(PAGE, {"code": wrong(totp(key, clock.now))}).content.decode()
    assert "Kode itu salah." in refused


def test_the_pause_after_a_wrong_code_is_said_not_taken_for_a_wrong_code(
    world, admin_a, as_user, clock, settings
):
    """django-otp's pause after a wrong code (here 60 s, to outlast a slow test machine): the
    right code during it is refused with the wait, and is not counted as wrong."""
    key, _ = enrol(as_user(admin_a), clock)
    settings.OTP_TOTP_THROTTLE_FACTOR = 60
    client = password_login(admin_a)
    assert client.post(VERIFY, {"code": wrong(totp(key, clock.now))}).status_code == 400
    response = client.post(VERIFY, {"code": totp(key, clock.now)})
    assert response.status_code == 429 and re.search(
        r"Wait \d+ s before typing the next code", response.content.decode()
    )
    assert client.get(reverse("accounts:tokens")).status_code == 302
    assert ResetRequest.objects.filter(key=f"otp:{admin_a.pk}").count() == 1
