"""The two-factor sign-in pages: turn it on (scan, confirm with a code, keep the recovery codes),
new recovery codes, turn it off, and the code step after the password.

Every page acts on the signed-in user's own devices only (no device is named in a URL) and
is never cached: the enrolment page carries the secret, the codes page the recovery codes.
"""

from __future__ import annotations

from typing import Any

import django_otp
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache

from cityeval.web.accounts.access import acting_user
from cityeval.web.accounts.twofactor import (
    NotEnrolling,
    TooManyCodes,
    TooSoon,
    TwoFactorRequired,
    WrongCode,
    code_check,
    device_of,
    enrolment_device,
    qr_data_uri,
    recovery_codes_left,
    recovery_codes_regenerate,
    required_for,
    safe_next,
    secret_text,
    twofactor_disable,
    twofactor_enable,
)

NEW_CODES = "twofactor_new_codes"  # session key: the recovery codes just made, until saved


@never_cache
@login_required
def twofactor(request: HttpRequest) -> HttpResponse:
    """On: its state and what can be done. Off: enrolment (scan or type the secret, confirm
    with a code from the app)."""
    user = acting_user(request)
    request.session.pop(NEW_CODES, None)  # leaving the codes page ends their one showing
    error, status = "", 200
    device = device_of(user)
    if device is None and request.method == "POST":
        try:
            device, codes = twofactor_enable(user=user, code=request.POST.get("code", ""))
        except (WrongCode, TooManyCodes, TooSoon, NotEnrolling) as refusal:
            error, status = refusal.reason, refusal.status
            device = None
        else:
            django_otp.login(request, device)  # the code just given verifies this session too
            request.session[NEW_CODES] = codes
            messages.success(request, _("Two-factor sign-in is on."))
            return redirect("accounts:twofactor_codes")
    context: dict[str, object] = {"device": device, "required": required_for(user), "error": error}
    if device is None:
        pending = enrolment_device(user=user)
        context.update(qr=qr_data_uri(pending), secret=secret_text(pending))
    else:
        context["codes_left"] = recovery_codes_left(user)
    return render(request, "accounts/twofactor.html", context, status=status)


@never_cache
@login_required
def twofactor_codes(request: HttpRequest) -> HttpResponse:
    """The recovery codes just made, shown this once (with a download) until "I have saved them"."""
    codes = request.session.get(NEW_CODES)
    if not codes:
        return redirect("accounts:twofactor")
    if request.method == "POST":
        request.session.pop(NEW_CODES, None)
        return redirect("accounts:twofactor")
    return render(request, "accounts/twofactor_codes.html", {"codes": codes})


@never_cache
@login_required
def twofactor_codes_txt(request: HttpRequest) -> HttpResponse:
    """The same codes as a text file, while the codes page still shows them."""
    codes = request.session.get(NEW_CODES)
    if not codes:
        messages.info(request, _("The recovery codes are shown only once; make new ones if they are lost."))
        return redirect("accounts:twofactor")
    lines = [
        _("Recovery codes for %(user)s. Each works once, instead of the authenticator app's code.")
        % {"user": request.user.get_username()},
        "",
        *codes,
        "",
    ]
    response = HttpResponse("\r\n".join(lines), content_type="text/plain; charset=utf-8")
    response["Content-Disposition"] = 'attachment; filename="cityeval-recovery-codes.txt"'
    return response


def _code_page(
    request: HttpRequest, *, title: str, intro: str, button: str, error: str = "", status: int = 200, **extra
) -> HttpResponse:
    """The form that asks for one code; ``error`` and ``status`` are a refusal's."""
    context = {"title": title, "intro": intro, "button": button, "error": error, **extra}
    return render(request, "accounts/twofactor_code.html", context, status=status)


@never_cache
@login_required
def twofactor_regenerate(request: HttpRequest) -> HttpResponse:
    """New recovery codes (the old ones stop working), confirmed with a current code."""
    user = acting_user(request)
    if device_of(user) is None:
        return redirect("accounts:twofactor")
    page: dict[str, Any] = {
        "title": _("New recovery codes"),
        "intro": _(
            "Your old recovery codes stop working and ten new ones are shown once. Type a code from "
            "your authenticator app (or a recovery code) to confirm."
        ),
        "button": _("Make new recovery codes"),
        "cancel": reverse("accounts:twofactor"),
    }
    if request.method == "POST":
        try:
            codes = recovery_codes_regenerate(user=user, code=request.POST.get("code", ""))
        except (WrongCode, TooManyCodes, TooSoon) as refusal:
            return _code_page(request, error=refusal.reason, status=refusal.status, **page)
        request.session[NEW_CODES] = codes
        messages.success(request, _("New recovery codes made; the old ones no longer work."))
        return redirect("accounts:twofactor_codes")
    return _code_page(request, **page)


@never_cache
@login_required
def twofactor_off(request: HttpRequest) -> HttpResponse:
    """Turn two-factor sign-in off, confirmed with a current code; refused (403) when the
    user's role requires it."""
    user = acting_user(request)
    if device_of(user) is None:
        return redirect("accounts:twofactor")
    if required_for(user):
        raise TwoFactorRequired  # the refusal page, with a link back to the two-factor page
    page: dict[str, Any] = {
        "title": _("Turn off two-factor sign-in"),
        "intro": _(
            "From now on your password alone opens your account, and your recovery codes stop "
            "working. Type a code from your authenticator app (or a recovery code) to confirm."
        ),
        "button": _("Turn off two-factor sign-in"),
        "cancel": reverse("accounts:twofactor"),
    }
    if request.method == "POST":
        try:
            twofactor_disable(user=user, code=request.POST.get("code", ""))
        except (WrongCode, TooManyCodes, TooSoon) as refusal:
            return _code_page(request, error=refusal.reason, status=refusal.status, **page)
        messages.success(request, _("Two-factor sign-in is off."))
        return redirect("accounts:twofactor")
    return _code_page(request, **page)


@never_cache
@login_required
def twofactor_verify(request: HttpRequest) -> HttpResponse:
    """The step after the password for a user with a device: a code from the app or a
    recovery code verifies the session."""
    user = acting_user(request)
    goto = safe_next(request, request.POST.get("next") or request.GET.get("next", ""))
    if request.user.is_verified() or device_of(user) is None:  # type: ignore[union-attr]
        return redirect(goto)
    page: dict[str, Any] = {
        "title": _("Two-factor sign-in"),
        "intro": _("Type the six-digit code your authenticator app shows for this site."),
        "button": _("Sign in"),
        "next": goto,
        "verify": True,
    }
    if request.method == "POST":
        try:
            device = code_check(user=user, code=request.POST.get("code", ""))
        except (WrongCode, TooManyCodes, TooSoon) as refusal:
            return _code_page(request, error=refusal.reason, status=refusal.status, **page)
        request.session.cycle_key()  # a new session id for the now verified session
        django_otp.login(request, device)
        return redirect(goto)
    return _code_page(request, **page)
