"""Refusals: a write the rules do not take, with the reason, in one shape everywhere.

Every service refusal subclasses :class:`Refused`: a message in the page's language (a lazy
translation, so it is translated where it is shown), the HTTP status it answers with, and for
refusals that name fields, ``errors``. Pages show it on the one ``refused.html`` template
(:func:`refused_page`; ``cityeval.web.errors.RefusalMiddleware`` does it for a refusal a view
lets through) and the API answers :class:`ApiError` (:func:`api_refusal`, which the API root
also uses for a refusal an endpoint lets through).

``ApiError`` is one class, so the OpenAPI document has one ``ApiError`` component: separate
``ErrorOut`` classes in each app shared a name and ninja kept only one of them, so the document
described some refusals wrongly.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy
from ninja import Field, Schema


class ApiError(Schema):
    """A refusal: ``detail`` says why; ``errors`` names the fields (a message or a list of them)."""

    detail: str
    errors: dict[str, list[str] | str] = Field(default_factory=dict)


class Refused(Exception):
    """Nothing was saved: ``message`` says why (a plain or lazily translated string), ``status``
    is the HTTP status pages and the API answer with, ``errors`` names fields when the refusal
    is about input. Subclasses set a ``default_message`` and a ``status``."""

    status: ClassVar[int] = 409
    default_message: ClassVar[str | Promise] = gettext_lazy("Nothing was changed.")

    def __init__(self, message: str | Promise | None = None, *, errors: Mapping[str, Any] | None = None):
        self.message: str | Promise = message if message is not None else self.default_message
        # Fields → message(s); an import's refusal lists its rows' problems instead.
        # Any: fields → message(s) for most refusals, a list of row problems for an import's
        # (ImportRejected); each view reads the shape its service raises.
        self.errors: Any = dict(errors or {})
        super().__init__(self.message)

    def __str__(self) -> str:
        return str(self.message)

    @property
    def reason(self) -> str:
        return str(self.message)


def error_list(errors: Mapping[str, Any] | list[str]) -> list[str]:
    """``{field: message or messages}`` (or a list of messages) as one list, for a page."""
    if isinstance(errors, list):
        return [str(e) for e in errors]
    out: list[str] = []
    for value in errors.values():
        out.extend(str(v) for v in value) if isinstance(value, list | tuple) else out.append(str(value))
    return out


def refused_page(
    request: HttpRequest,
    refusal: Refused | str,
    *,
    back: str = "",
    status: int | None = None,
    context: Mapping[str, Any] | None = None,
) -> HttpResponse:
    """The page of a refused write: its reason (and the fields' messages), a link ``back``
    to the page it came from, and the refusal's status (403 for a page's refusals unless
    told otherwise: the action is not allowed now). Nothing was changed."""
    if isinstance(refusal, str):
        refusal = Refused(refusal)
    errors = error_list(refusal.errors)
    page = {"reason": str(refusal), "errors": errors if errors != [str(refusal)] else [], "back": back}
    return render(request, "refused.html", {**(context or {}), **page}, status=status or 403)


def api_error(status: int, detail: str, errors: Mapping[str, Any] | list[str] | None = None) -> JsonResponse:
    """An API refusal: :class:`ApiError` with ``status`` (a list of errors goes under ``__all__``)."""
    fields = {"__all__": errors} if isinstance(errors, list) else (errors or {})
    body = ApiError(detail=str(detail), errors={k: _text(v) for k, v in fields.items()})
    return JsonResponse(body.model_dump(), status=status)


def api_refusal(refusal: Refused, *, status: int | None = None) -> JsonResponse:
    """The API's answer to a refusal: :class:`ApiError` with the refusal's status (or ``status``
    where an endpoint documents another one)."""
    return api_error(status or refusal.status, str(refusal), refusal.errors)


def _text(value: Any) -> list[str] | str:
    return [str(v) for v in value] if isinstance(value, list | tuple) else str(value)
