"""Pages that do not dead-end: an action address opened directly (a GET on a POST-only view,
answered 405) redirects to the page the action belongs to, with a note, instead of a blank 405.

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
