"""The Content-Security-Policy every response carries.

The pages load their script and styles from the site's own static files only: no inline
script, no inline style, no other host. The one script (the language switcher) and the API
docs' Swagger UI (django-ninja's own copy, served from /static/ninja/) are files under
``STATIC_URL``. Images may be ``data:`` URIs because Swagger UI draws its icons that way.
Nothing may frame a page, change the base URL, or post a form to another site.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

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
