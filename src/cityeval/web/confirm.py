"""The confirmation step before an irreversible action: a GET page that says what will happen
and what is unfinished, and a POST that carries ``confirm=yes``. No JavaScript needed."""

from __future__ import annotations

from collections.abc import Iterable

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

CONFIRM_FIELD = "confirm"


def confirmed(request: HttpRequest) -> bool:
    """Whether the POST came from the confirmation page (a one-click POST does not)."""
    return request.method == "POST" and request.POST.get(CONFIRM_FIELD) == "yes"


def confirm_page(
    request: HttpRequest,
    *,
    title: str,
    action: str,
    cancel: str,
    button: str,
    consequences: Iterable[str],
    unfinished: Iterable[str] = (),
    details: Iterable[str] = (),
    details_label: str = "",
    hidden: Iterable[tuple[str, str]] = (),
    needs_reason: bool = False,
    offer_reason: bool = False,
    reason_error: str = "",
    status: int = 200,
) -> HttpResponse:
    context = {
        "title": title,
        "action": action,
        "cancel": cancel,
        "button": button,
        "consequences": list(consequences),
        "unfinished": list(unfinished),
        "details": list(details),
        "details_label": details_label,
        "hidden": list(hidden),
        "needs_reason": needs_reason,
        "offer_reason": offer_reason,  # an optional reason field (needs_reason: a required one)
        "reason": request.POST.get("reason", "") if request.method == "POST" else "",
        "reason_error": reason_error,
    }
    return render(request, "confirm.html", context, status=status)
