"""Two-factor sign-in (django-otp): an authenticator app's six-digit code after the password,
with ten one-time recovery codes for a lost phone.

Anyone may turn it on; ``TWO_FACTOR_REQUIRED_ROLES`` names the roles that must have it. The
device is django-otp's TOTP device (RFC 6238: SHA-1, 30 seconds, six digits, one step of
tolerance either way, a code never accepted twice); the recovery codes are its static device,
each deleted when used. A session is verified (``request.user.is_verified()``) once the code
step has passed; :class:`TwoFactorMiddleware` keeps an unverified session of a user with a
device on the code page, and a user whose role requires a device on the enrolment page.

Wrong codes are counted per account in the database (``ResetRequest`` rows keyed
``otp:<user id>``, like the password reset limits), not per address: whoever reaches the code
step already has the password and may change address. Beyond
``TWO_FACTOR_FAILURES_PER_HOUR`` wrong codes in an hour every code is refused until the hour
is over; django-otp's own per-device back-off (1, 2, 4… seconds) comes on top.
API tokens (``accounts.auth.TokenAuth``) are a separate credential and are never asked for a code.
"""

from __future__ import annotations

import base64
import io
import math
from collections.abc import Callable
from typing import TypeVar

import segno
from django.conf import settings
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext_lazy
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from cityeval.web.accounts.access import User as AnyUser
from cityeval.web.accounts.access import memberships
from cityeval.web.accounts.backends import LOADED_HAS_DEVICE
from cityeval.web.accounts.models import ResetRequest, Role
from cityeval.web.accounts.passwords import HOUR
from cityeval.web.audit import services as audit
from cityeval.web.refusals import Refused

_View = TypeVar("_View", bound=Callable[..., HttpResponse])

RECOVERY_CODES = 10
DEVICE_NAME = "authenticator"
RECOVERY_NAME = "recovery"


class WrongCode(Refused):
    status = 400
    default_message = gettext_lazy(
        "That code is not right. Type the six digits your authenticator app shows now, or one of "
        "your recovery codes."
    )


class TooManyCodes(Refused):
    status = 429
    default_message = gettext_lazy(
        "Too many wrong codes for this account; try again in an hour. If they were not yours, "
        "someone knows your password: reset it."
    )


class TooSoon(Refused):
    """django-otp's pause after wrong codes in a row (1, 2, 4… seconds) is not over."""

    status = 429

    def __init__(self, seconds: int) -> None:
        super().__init__(
            gettext_lazy(
                "Wait %(seconds)s s before typing the next code: each wrong code in a row makes the "
                "wait longer."
            )
            % {"seconds": seconds}
        )


class NotEnrolling(Refused):
    default_message = gettext_lazy("Start again: open the two-factor sign-in page for a new code to scan.")


class TwoFactorRequired(Refused):
    status = 403
    default_message = gettext_lazy(
        "Your role requires two-factor sign-in, so it cannot be turned off. You can make new "
        "recovery codes instead."
    )


def required_roles_check() -> None:
    """Refuse to start with a role name in ``TWO_FACTOR_REQUIRED_ROLES`` that does not exist
    (a typo would silently require nothing)."""
    unknown = sorted(set(settings.TWO_FACTOR_REQUIRED_ROLES) - set(Role.values))
    if unknown:
        raise ImproperlyConfigured(
            f"TWO_FACTOR_REQUIRED_ROLES names unknown roles {', '.join(unknown)}; "
            f"the roles are {', '.join(Role.values)}"
        )


# --- selectors ---------------------------------------------------------------------------------


def required_for(user: AnyUser) -> bool:
    """Whether one of the user's roles is in ``TWO_FACTOR_REQUIRED_ROLES``."""
    roles = set(settings.TWO_FACTOR_REQUIRED_ROLES)
    return bool(roles) and any(m.role in roles for m in memberships(user))


def device_of(user: AnyUser) -> TOTPDevice | None:
    """The user's confirmed authenticator device, if two-factor sign-in is on."""
    if not user.is_authenticated:
        return None
    return TOTPDevice.objects.filter(user=user, confirmed=True).first()


def has_device(user: AnyUser) -> bool:
    """Whether the user has a confirmed authenticator device (what :func:`device_of` finds,
    without reading it: the sign-in gate asks this on every request of an unverified session)."""
    return user.is_authenticated and TOTPDevice.objects.filter(user=user, confirmed=True).exists()


def _has_device_loaded(user: AnyUser) -> bool:
    """:func:`has_device`, from what the log-in backend read with the session's user in this
    request (``LOADED_HAS_DEVICE``) when it did, without a query of its own."""
    loaded = getattr(user, LOADED_HAS_DEVICE, None)
    return has_device(user) if loaded is None else bool(loaded)


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def secret_text(device: TOTPDevice) -> str:
    """The secret in base32 (what the apps take when typed), in groups of four."""
    text = base64.b32encode(device.bin_key).decode("ascii").rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def qr_data_uri(device: TOTPDevice) -> str:
    """The enrolment QR code (the ``otpauth://`` address with the secret) as an SVG ``data:``
    URI, which the CSP's img-src allows; no file or URL ever holds the secret."""
    out = io.BytesIO()
    segno.make(device.config_url, error="m", micro=False).save(
        out, kind="svg", scale=6, border=4, xmldecl=False, svgns=True
    )
    return "data:image/svg+xml;base64," + base64.b64encode(out.getvalue()).decode("ascii")


# --- writes ----------------------------------------------------------------------------------------


def enrolment_device(*, user: User) -> TOTPDevice:
    """The unconfirmed device being enrolled: the same secret until it is confirmed, so that
    reloading the page does not change the code already scanned."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None:
        device = TOTPDevice.objects.create(user=user, name=DEVICE_NAME, confirmed=False)
    return device


def _normalised(code: str) -> str:
    return "".join(code.split()).replace("-", "").lower()[:32]


def _failures_check(user: User) -> None:
    recent = ResetRequest.objects.filter(key=f"otp:{user.pk}", created_at__gte=timezone.now() - HOUR)
    if recent.count() >= settings.TWO_FACTOR_FAILURES_PER_HOUR:
        raise TooManyCodes


def _failure_record(user: User) -> None:
    ResetRequest.objects.create(key=f"otp:{user.pk}")
    ResetRequest.objects.filter(key=f"otp:{user.pk}", created_at__lt=timezone.now() - HOUR).delete()


def _pause_check(devices: list[Device]) -> None:
    """Refuse (TooSoon) while a device's pause after wrong codes lasts: its ``verify_token``
    would answer False even for the right code, which would read as a wrong code."""
    waits = [info["locked_until"] for ok, info in (d.verify_is_allowed() for d in devices) if not ok and info]
    if waits:
        raise TooSoon(max(1, math.ceil((max(waits) - timezone.now()).total_seconds())))


def code_check(*, user: User, code: str) -> Device:
    """The device that accepts ``code``: the authenticator (six digits) or an unused recovery
    code, which is then used up. Raises WrongCode (and counts it), TooManyCodes or TooSoon."""
    _failures_check(user)
    code = _normalised(code)
    accepted: Device | None = None
    with transaction.atomic():
        if code.isdigit() and len(code) == 6:
            devices: list[Device] = list(
                TOTPDevice.objects.filter(user=user, confirmed=True).select_for_update()
            )
        else:
            devices = list(StaticDevice.objects.filter(user=user, confirmed=True).select_for_update())
        _pause_check(devices)
        accepted = next((d for d in devices if d.verify_token(code)), None)
    if accepted is None:
        _failure_record(user)  # outside the transaction: a refusal must not undo its own count
        raise WrongCode
    return accepted


def _recovery_codes_new(user: User) -> list[str]:
    """Replace the codes, keeping the device: a session signed in with a recovery code is
    verified by that device, and deleting it would send the person back to the code step
    with the old codes void and the new ones unseen."""
    device = StaticDevice.objects.filter(user=user).order_by("id").first()
    if device is None:
        device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    StaticDevice.objects.filter(user=user).exclude(pk=device.pk).delete()
    StaticToken.objects.filter(device=device).delete()
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    return codes


def twofactor_enable(*, user: User, code: str) -> tuple[TOTPDevice, list[str]]:
    """Confirm the device being enrolled with a code from the app; return it and the new
    recovery codes (shown once). Raises NotEnrolling, WrongCode or TooManyCodes."""
    _failures_check(user)
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("id").first()
    if device is None or device_of(user) is not None:
        raise NotEnrolling
    _pause_check([device])
    code = _normalised(code)
    if not (code.isdigit() and len(code) == 6 and device.verify_token(code)):
        _failure_record(user)
        raise WrongCode(
            gettext_lazy("That code is not right. Type the six digits your authenticator app shows now.")
        )
    with transaction.atomic():
        device.confirmed = True
        device.save(update_fields=["confirmed"])
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        codes = _recovery_codes_new(user)
        audit.record(action=audit.Action.TWO_FACTOR_ENABLE, user=user, target=user, target_text=user.username)
    return device, codes


def recovery_codes_regenerate(*, user: User, code: str) -> list[str]:
    """Replace the recovery codes (the old ones stop working) after a current code."""
    if device_of(user) is None:
        raise NotEnrolling
    code_check(user=user, code=code)
    with transaction.atomic():
        codes = _recovery_codes_new(user)
        audit.record(
            action=audit.Action.RECOVERY_CODES_REGENERATE, user=user, target=user, target_text=user.username
        )
    return codes


def twofactor_disable(*, user: User, code: str) -> None:
    """Turn two-factor sign-in off after a current code; refused when the user's role requires it."""
    if required_for(user):
        raise TwoFactorRequired
    if device_of(user) is None:
        raise NotEnrolling
    code_check(user=user, code=code)
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(
            action=audit.Action.TWO_FACTOR_DISABLE, user=user, target=user, target_text=user.username
        )


def twofactor_reset(*, user: User) -> bool:
    """An operator's reset for a user who lost the phone and the recovery codes (``manage
    twofactor_reset``): remove their devices without a code; they enrol again at the next log-in
    if their role requires it. Recorded as the system's action. False when there was nothing."""
    with transaction.atomic():
        found = (
            TOTPDevice.objects.filter(user=user).exists() or StaticDevice.objects.filter(user=user).exists()
        )
        if not found:
            return False
        TOTPDevice.objects.filter(user=user).delete()
        StaticDevice.objects.filter(user=user).delete()
        audit.record(
            action=audit.Action.TWO_FACTOR_DISABLE,
            user=None,
            target=user,
            target_text=user.username,
            details={"reset_by_operator": True},
        )
    return True


# --- the sign-in gate --------------------------------------------------------------------------

# What an unverified session may open: its step, logging out, the language switcher.
_ALWAYS_OPEN = {"accounts:logout", "set_language"}
_VERIFY_OPEN = {*_ALWAYS_OPEN, "accounts:twofactor_verify"}
_ENROL_OPEN = {
    *_ALWAYS_OPEN,
    "accounts:twofactor",
    "accounts:twofactor_codes",
    "accounts:twofactor_codes_txt",
}


def open_to_everyone(view: _View) -> _View:
    """Mark a page that needs no account (the public survey questionnaire): an unfinished
    sign-in does not send it to the code step, since anyone may open it. The page sees such a
    session as anonymous: the sign-in is not finished, so it gives nothing the page would give
    a signed-in person (e.g. staff's "assisted" checkbox)."""
    view.cityeval_open_to_everyone = True  # type: ignore[attr-defined]
    return view


def _resolved(request: HttpRequest) -> tuple[str, bool]:
    """The view's name, and whether it is open to everyone."""
    try:
        match = resolve(request.path_info)
    except Resolver404:
        return "", False
    return match.view_name, getattr(match.func, "cityeval_open_to_everyone", False)


def safe_next(request: HttpRequest, value: str) -> str:
    """``value`` when it is an address on this site, else the home page."""
    if value and url_has_allowed_host_and_scheme(
        value, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return value
    return reverse("home")


class TwoFactorMiddleware:
    """After the password: a user with a device and an unverified session may open only the
    code page; a user whose role requires a device and who has none, only the enrolment
    pages. Pages redirect there (with ``next``); the API answers 401 in JSON. Pages
    :func:`open_to_everyone` open for such a session too, as for an anonymous visitor. Only the
    session's user is gated: an API token is its own credential (a script sends no session
    cookie, so its request reaches the API's token check untouched). An ``Authorization``
    header beside an unfinished session changes nothing: it would otherwise open every page
    and the API's session authentication with the password alone."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = getattr(request, "user", None)
        if (
            user is None
            or not user.is_authenticated
            or request.path.startswith(settings.STATIC_URL)
            or user.is_verified()
        ):
            return self.get_response(request)
        if _has_device_loaded(user):
            step, open_views = "accounts:twofactor_verify", _VERIFY_OPEN
        elif required_for(user):
            step, open_views = "accounts:twofactor", _ENROL_OPEN
        else:
            return self.get_response(request)
        view_name, open_to_everyone = _resolved(request)
        if open_to_everyone:
            request.user = AnonymousUser()
            return self.get_response(request)
        if view_name in open_views:
            # The navigation shows only "Log out" while the sign-in is unfinished.
            request.cityeval_twofactor_step = step  # type: ignore[attr-defined]
            return self.get_response(request)
        if request.path.startswith("/api/"):
            return JsonResponse(
                {"detail": str(gettext_lazy("Finish signing in: a code is needed."))}, status=401
            )
        target = reverse(step)
        if request.method == "GET" and step == "accounts:twofactor_verify":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
