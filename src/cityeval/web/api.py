"""The JSON API root (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Authentication: the browser session (with CSRF on writes) or ``Authorization: Bearer TOKEN``
with a token from the API tokens page. Each app adds its router; the routers use the same
access helpers as the pages, so the API can never show more than the pages.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import timezone
from ninja import NinjaAPI
from ninja.security import HttpBearer, SessionAuth

from cityeval.web.accounts.models import ApiToken


class TokenAuth(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str):
        found = (
            ApiToken.objects.select_related("user")
            .filter(digest=ApiToken.digest_of(token), user__is_active=True)
            .first()
        )
        if found is None:
            return None
        ApiToken.objects.filter(pk=found.pk).update(last_used_at=timezone.now())
        request.user = found.user
        return found.user


api = NinjaAPI(
    title="cityeval API",
    version="1",
    description="Regions, OPDs, programmes and self-assessment answers, with the pages' permissions.",
    # The token goes first: SessionAuth refuses a write without CSRF before a later
    # authenticator would see the Authorization header.
    auth=[TokenAuth(), SessionAuth()],
    urls_namespace="api",
)


@api.exception_handler(Http404)
def _not_found(request: HttpRequest, exc: Http404):
    return api.create_response(request, {"detail": "Not found"}, status=404)


@api.exception_handler(PermissionDenied)
def _forbidden(request: HttpRequest, exc: PermissionDenied):
    return api.create_response(request, {"detail": "Forbidden"}, status=403)


def _register() -> None:
    from cityeval.web.assessments.api import router as assessments
    from cityeval.web.panels.api import router as panels
    from cityeval.web.programmes.api import router as programmes
    from cityeval.web.regions.api import router as regions
    from cityeval.web.results.api import router as results
    from cityeval.web.surveys.api import router as surveys

    for router in (regions, programmes, assessments, panels, results, surveys):
        api.add_router("/", router)


_register()
