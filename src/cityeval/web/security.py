"""The Content-Security-Policy every response carries, and the refusal of NUL characters.

The pages load their script and styles from the site's own static files only: no inline
script, no inline style, no other host. The one script (the language switcher) and the API
docs' Swagger UI (django-ninja's own copy, served from /static/ninja/) are files under
``STATIC_URL``. Images may be ``data:`` URIs because Swagger UI draws its icons that way.
Nothing may frame a page, change the base URL, or post a form to another site.

A NUL character (U+0000) is no text a person types, and PostgreSQL cannot store it in a text
column: a request carrying one in its path, its query string, a plain form field or a JSON body
is refused with 400 before any view sees it (found by the API fuzz test: a JSON field with
``\\u0000`` reached the database and failed there). Django's form fields refuse it too; this
covers what does not go through a form. File uploads (multipart) are not read here: a file may
hold any byte, and their text fields go through forms.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from django.conf import settings
from django.core.exceptions import BadRequest
from django.http import HttpRequest, HttpResponse, JsonResponse

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "font-src 'self'",
        "connect-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ]
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        return response


# ``\u0000`` in JSON text: an escape preceded by an even number of backslashes (an odd number
# would make it the text "\u0000", which is harmless), or a raw NUL byte.
_JSON_NUL = re.compile(rb"(?:^|[^\\])(?:\\\\)*\\u0000|\x00")
NUL_REFUSED = "Text cannot contain the NUL character (U+0000)."


def _query_may_carry_nul(request: HttpRequest) -> bool:
    """Whether the query string can decode to a key or value with a NUL. In UTF-8 (the site's
    charset) only a NUL written as ``%00`` or sent as it is can (UTF-8 writes U+0000 as the
    byte 0 alone), so most requests skip parsing ``request.GET`` here. A request naming another
    charset in its Content-Type has its query decoded in that charset (UTF-7's ``+AAA-`` is a
    NUL): it is always parsed."""
    encoding = (request.encoding or settings.DEFAULT_CHARSET).lower().replace("_", "-")
    if encoding not in ("utf-8", "utf8"):
        return True
    query_string = request.META.get("QUERY_STRING", "")
    return "%00" in query_string or "\x00" in query_string


def carries_nul(request: HttpRequest) -> bool:
    """Whether the request's path, query string, urlencoded form or JSON body holds a NUL."""
    if "\x00" in request.path:
        return True
    if _query_may_carry_nul(request) and any(
        "\x00" in key or any("\x00" in value for value in values) for key, values in request.GET.lists()
    ):
        return True
    kind = request.content_type or ""
    if request.method in ("GET", "HEAD", "OPTIONS"):
        return False
    if kind == "application/x-www-form-urlencoded":
        return any(
            "\x00" in key or any("\x00" in value for value in values) for key, values in request.POST.lists()
        )
    if kind == "application/json" or kind.endswith("+json"):
        return _JSON_NUL.search(request.body) is not None
    return False


class NulCharacterMiddleware:
    """Refuse (400) a request with a NUL character where text is expected (module docstring):
    the API in its JSON shape, a page with the site's 400 page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if carries_nul(request):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": NUL_REFUSED, "errors": {}}, status=400)
            raise BadRequest(NUL_REFUSED)
        return self.get_response(request)
