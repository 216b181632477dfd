"""The JSON API root (django-ninja): OpenAPI at /api/openapi.json, docs at /api/docs.

Authentication: the browser session (with CSRF on writes) or ``Authorization: Bearer TOKEN``
with a token from the API tokens page. Each app adds its router; the routers use the same
access helpers as the pages, so the API can never show more than the pages.

Every refusal is ``{"detail": text, "errors": {field: messages}}`` (``errors`` may be empty):
401 without credentials, 403 without the right, 404 for what the user may not see, 400 for a
body that is not JSON, 422 for input that fails the schema. The OpenAPI document declares these
on every operation (:func:`declare_refusals`), so clients and the fuzz test can rely on it.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest
from django.utils import translation
from ninja import NinjaAPI
from ninja.errors import ValidationError
from ninja.openapi.schema import OpenAPISchema
from ninja.security import SessionAuth

from cityeval.web.accounts.auth import TokenAuth
from cityeval.web.refusals import ApiError, Refused, api_refusal

# The refusals any operation can give, whatever its own declarations: the handlers below and
# ninja's authentication and body parsing answer these for every route.
_REFUSALS = {
    400: "The body is not valid JSON.",
    401: "Not logged in and no valid API token.",
    403: "The user may not do this.",
    404: "Not found, or not visible to the user.",
    422: "The input does not match the schema.",
}


def declare_refusals(schema: OpenAPISchema) -> OpenAPISchema:
    """Add the common refusals to every operation that does not declare them itself."""
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    components.setdefault("ApiError", ApiError.model_json_schema())
    ref = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/ApiError"}}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, text in _REFUSALS.items():
                if status == 401 and not operation.get("security"):
                    continue  # a public operation never asks for credentials
                if status == 400 and "requestBody" not in operation:
                    continue
                if status not in responses and str(status) not in responses:  # ninja uses ints
                    responses[status] = {"description": text, **ref}
    return schema


class CityevalApi(NinjaAPI):
    # The routes are fixed once the process has started: the document is built once per
    # process (per prefix and language), not per request (it took ~160 ms each time).
    _schemas: dict[tuple, OpenAPISchema]

    def get_openapi_schema(self, *, path_prefix=None, path_params=None) -> OpenAPISchema:
        key = (path_prefix, tuple(sorted((path_params or {}).items())), translation.get_language())
        schemas = self.__dict__.setdefault("_schemas", {})
        if key not in schemas:
            schemas[key] = declare_refusals(
                super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
            )
        return schemas[key]


api = CityevalApi(
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


@api.exception_handler(Refused)
def _refused(request: HttpRequest, exc: Refused):
    """A service's refusal an endpoint lets through: :class:`ApiError` with its status."""
    return api_refusal(exc)


@api.exception_handler(ValidationError)
def _invalid(request: HttpRequest, exc: ValidationError):
    """Schema failures in the same shape as the services' refusals, fields named by path."""
    errors: dict[str, list[str]] = {}
    for error in exc.errors:
        # ninja prefixes the location with the parameter source and name ("body", "payload").
        loc = [str(part) for part in error.get("loc", ())]
        field = ".".join(loc[2:] if loc[:1] == ["body"] else loc[1:]) or "body"
        errors.setdefault(field, []).append(str(error.get("msg", "")))
    detail = "; ".join(f"{field}: {' '.join(messages)}" for field, messages in errors.items())
    return api.create_response(request, {"detail": detail, "errors": errors}, status=422)


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
