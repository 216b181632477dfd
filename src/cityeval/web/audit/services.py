"""Writes for the audit trail: :func:`record`, called by every service that does a privileged
action, inside that service's transaction (the entry lands with the action or not at all).

Callers write ``from cityeval.web.audit import services as audit`` and
``audit.record(action=audit.Action.TOKEN_CREATE, user=user, target=token)``.

Where the action came from (the client's network, never its full address, and the request id
of the structured logs) is read from ``request`` when given, else from the request being
served (:class:`AuditOriginMiddleware` keeps it for the services, which take no request); a
command has none, and a background job records the origin of the request that asked for it
(:func:`current_origin` kept in its parameters, :func:`origin_kept` around its run).
"""

from __future__ import annotations

import contextvars
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import User
from django.db import models
from django.http import HttpRequest, HttpResponse

from cityeval.web.addresses import client_ip, network_of
from cityeval.web.audit.models import Action, AuditEntry

__all__ = ["Action", "AuditOriginMiddleware", "current_origin", "origin_kept", "record"]

# Set by ops.logs.RequestLogMiddleware (a key of META, so that neither imports the other).
REQUEST_ID_META = "cityeval.request_id"
TEXT_MAX = 200


@dataclass(frozen=True)
class Origin:
    network: str
    request_id: str


class _RequestOrigin:
    """The origin of the request being served, worked out the first time an entry needs it:
    most requests record nothing, and the network takes parsing the address."""

    __slots__ = ("_origin", "_request")

    def __init__(self, request: HttpRequest) -> None:
        self._request = request
        self._origin: Origin | None = None

    def get(self) -> Origin:
        if self._origin is None:
            self._origin = origin_of(self._request)
        return self._origin


_origin: contextvars.ContextVar[Origin | _RequestOrigin | None] = contextvars.ContextVar(
    "audit_origin", default=None
)


def origin_of(request: HttpRequest) -> Origin:
    ip = client_ip(request)
    return Origin(network=network_of(ip) if ip else "", request_id=request.META.get(REQUEST_ID_META, ""))


def _current() -> Origin | None:
    found = _origin.get()
    return found.get() if isinstance(found, _RequestOrigin) else found


def current_origin() -> dict[str, str]:
    """The origin of the request being served (empty outside one), to keep with work done later
    for it, such as a background job."""
    origin = _current()
    return {"network": origin.network, "request_id": origin.request_id} if origin else {}


@contextmanager
def origin_kept(kept: dict[str, str] | None) -> Iterator[None]:
    """Record entries made inside with the origin ``current_origin`` kept (a job's asker's request)."""
    token = _origin.set(Origin(kept.get("network", ""), kept.get("request_id", "")) if kept else None)
    try:
        yield
    finally:
        _origin.reset(token)


class AuditOriginMiddleware:
    """Keep the request's origin for the audit entries its services record."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = _origin.set(_RequestOrigin(request))
        try:
            return self.get_response(request)
        finally:
            _origin.reset(token)


def _target(target: models.Model | None) -> tuple[str, str, str]:
    """Type, id (the slug when the object has one: ids never appear on pages) and text."""
    if target is None:
        return "", "", ""
    key = getattr(target, "slug", None) or getattr(target, "public_id", None) or target.pk
    return target._meta.model_name or "", str(key)[:100], str(target)[:TEXT_MAX]


def record(
    *,
    action: Action | str,
    user: User | None,
    target: models.Model | None = None,
    target_text: str = "",
    region: models.Model | None = None,
    details: dict[str, Any] | None = None,
    request: HttpRequest | None = None,
) -> AuditEntry:
    """Append one entry: ``user`` did ``action`` to ``target`` (its text overridden by
    ``target_text``) in ``region``; ``user`` None is the system (a command, a job)."""
    if action not in Action.values:
        raise ValueError(f"unknown audit action {action!r}")
    origin = origin_of(request) if request is not None else _current()
    kind, key, text = _target(target)
    return AuditEntry.objects.create(
        user=user,
        username=user.get_username() if user is not None else "",
        action=action,
        target_type=kind,
        target_id=key,
        target_text=(target_text or text)[:TEXT_MAX],
        region_id=region.pk if region is not None else None,
        details=details or {},
        network=origin.network if origin else "",
        request_id=origin.request_id if origin else "",
    )
