"""Pages that do not dead-end: an action address opened directly (a GET on a POST-only view,
answered 405) redirects to the page the action belongs to, with a note, instead of a blank 405.

A refusal (:class:`~cityeval.web.refusals.Refused`) that a page's view lets through is shown
on the refusal page, with its reason and a link back to that same page (:class:`RefusalMiddleware`).

The page is the nearest shorter address that exists: ``…/self-assessment/submit/`` →
``…/self-assessment/``, ``/results/<cycle>/compute/`` → ``/results/<cycle>/``. A redirect
that lands on another POST-only address is redirected again, one segment shorter each time,
so it ends at the home page at the latest. The API answers in JSON and is left alone.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import Resolver404, resolve
from django.utils.translation import gettext as _

from cityeval.web.refusals import Refused, refused_page


def page_of(path: str) -> str:
    """The nearest shorter address than ``path`` that the site answers ("/" at the latest)."""
    parts = [p for p in path.split("/") if p]
    while parts:
        parts.pop()
        candidate = "/" + "/".join(parts) + ("/" if parts else "")
        try:
            resolve(candidate)
        except Resolver404:
            continue
        return candidate
    return "/"


class ActionRedirectMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            response.status_code == 405
            and request.method in ("GET", "HEAD")
            and not request.path.startswith("/api/")
        ):
            if hasattr(request, "_messages"):
                messages.info(request, _("That address carries out an action: use its button on this page."))
            return HttpResponseRedirect(page_of(request.path))
        return response


class RefusalMiddleware:
    """Turns a :class:`Refused` that a page's view did not catch into the refusal page: its
    reason, a link back to the page the action belongs to, and 403 (the write is not allowed
    now; nothing was changed). The API answers its own refusals (``cityeval.web.api``)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, Refused) or request.path.startswith("/api/"):
            return None
        return refused_page(request, exception, back=page_of(request.path))
