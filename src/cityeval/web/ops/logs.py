"""Structured logs: a request id on every log record of a request, and JSON lines.

``RequestLogMiddleware`` takes the caller's ``X-Request-ID`` when it is a safe token (a proxy
or load balancer may set one) or makes a uuid4, keeps it in a context variable for the
request, returns it in the response header and writes one access line per request on the
``cityeval.request`` logger. ``RequestIdFilter`` (on the handler) copies the id onto every
record; ``JsonFormatter`` writes one JSON object per line (``LOG_FORMAT=json``).

Some paths carry a secret in the path itself (a public survey form's token, an invitation
link, a password-reset link's ``uidb64/token``), so no log line holds ``request.path`` as it
came: ``logged_path`` masks every segment that a URL parameter named like a secret captured
(``SECRET_PARAMETER``, so a new route with a ``token`` parameter is covered without a change
here), and ``SecretPathFilter`` does the same to Django's own ``django.request`` lines
("Not Found: /s/<token>/").

A small formatter rather than python-json-logger: the fields are fixed and few, and the
standard library's ``json`` writes them; a dependency would add nothing we use.
"""

from __future__ import annotations

import contextvars
import datetime as dt
import json
import logging
import re
import time
import uuid
from collections.abc import Callable
from urllib.parse import urlsplit, urlunsplit

from django.http import HttpRequest, HttpResponse
from django.urls import Resolver404, resolve

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META_KEY = "HTTP_X_REQUEST_ID"  # the header as WSGI puts it in request.META
# Letters, digits and - _ . : only, 8 to 64 of them: nothing that can forge a log line or a
# header, long enough that a uuid or a proxy's trace id fits.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# Fields the access line adds; the formatter writes them when present on a record.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id")

# URL parameters whose value is a secret: the whole segment they capture is masked.
SECRET_PARAMETER = re.compile(r"token|key|secret|uidb64|signature|password", re.IGNORECASE)
SECRET_MASK = "***"
# When the path resolves to no route (a mistyped link, a token with a trailing extra segment),
# the segments after these prefixes are masked all the same: the routes above with secrets.
SECRET_PREFIXES = re.compile(r"^(?P<prefix>.*?/(?:s|api/survey|accounts/invitation)/)(?P<secret>[^/]+)")
SECRET_RESET = re.compile(r"^(?P<prefix>.*?/accounts/password/reset/)(?P<secret>[^/]+/[^/]+)(?=/|$)")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_logger = logging.getLogger("cityeval.request")


def current_request_id() -> str | None:
    return _request_id.get()


def request_id_from(incoming: str | None) -> str:
    """The caller's id when it is safe, else a new uuid4."""
    if incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())


def _secret_values(request: HttpRequest) -> list[str] | None:
    """The values of the secret URL parameters of the request's route; None when no route."""
    match = getattr(request, "resolver_match", None)
    if match is None:
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return None
    return [str(value) for name, value in match.kwargs.items() if SECRET_PARAMETER.search(name) and value]


def mask_path(path: str, secrets: list[str] | None) -> str:
    """``path`` with each segment equal to one of ``secrets`` masked; with ``secrets`` None
    (the path matched no route), the segments after the known secret-bearing prefixes."""
    if secrets is None:
        for pattern in (SECRET_RESET, SECRET_PREFIXES):
            path = pattern.sub(lambda m: m["prefix"] + SECRET_MASK, path, count=1)
        return path
    for secret in sorted(secrets, key=len, reverse=True):
        if "/" in secret:  # a <path:> parameter spans several segments
            path = path.replace(secret, SECRET_MASK)
    return "/".join(SECRET_MASK if segment in secrets else segment for segment in path.split("/"))


def logged_path(request: HttpRequest) -> str:
    """The request's path as a log line may hold it: secret segments masked."""
    return mask_path(request.path, _secret_values(request))


def masked_url(url: str) -> str:
    """A URL as a report may hold it (an error report's request URL, a Referer): the path's
    secret segments masked through its route, the query string and fragment dropped."""
    parts = urlsplit(url)
    try:
        kwargs = resolve(parts.path).kwargs
    except Resolver404:
        secrets = None
    else:
        secrets = [str(value) for name, value in kwargs.items() if SECRET_PARAMETER.search(name) and value]
    return urlunsplit(parts._replace(path=mask_path(parts.path, secrets), query="", fragment=""))


class SecretPathFilter(logging.Filter):
    """Mask the secret segments of the path in records that carry their request (Django's
    ``django.request`` and ``django.security`` lines put it in their arguments)."""

    def filter(self, record: logging.LogRecord) -> bool:
        request = getattr(record, "request", None)
        if isinstance(request, HttpRequest) and record.args and isinstance(record.args, tuple):
            raw, masked = request.path, logged_path(request)
            escaped = raw.encode("unicode_escape").decode("ascii")  # as django.request writes it
            if masked != raw:
                record.args = tuple(masked if arg in (raw, escaped) else arg for arg in record.args)
        return True


class RequestIdFilter(logging.Filter):
    """Put the current request's id (or None outside a request) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, "request_id", None) is None:
            record.request_id = current_request_id()
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, request_id,
    the request fields when present, and the traceback as ``exc_info`` text."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, object] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or current_request_id(),
        }
        for field in REQUEST_FIELDS:
            if hasattr(record, field):
                entry[field] = getattr(record, field)
        if record.exc_info:
            entry["exc_info"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


class RequestLogMiddleware:
    """Assign the request id and write one access line when the response is ready."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # META's key rather than request.headers, which would build the whole header mapping
        # for this one header on every request.
        request_id = request_id_from(request.META.get(REQUEST_ID_META_KEY))
        token = _request_id.set(request_id)
        request.META["cityeval.request_id"] = request_id  # for the audit trail's entries
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            # The access line is off unless LOG_FORMAT=json: then its path (which may resolve
            # the URL again) and fields are not worked out at all.
            if request_logger.isEnabledFor(logging.INFO):
                self._log(request, response.status_code, started)
            return response
        finally:
            _request_id.reset(token)

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        user = getattr(request, "user", None)
        path = logged_path(request)
        request_logger.info(
            "%s %s %s",
            request.method,
            path,
            status,
            extra={
                "method": request.method,
                "path": path,  # never the query string, nor a secret segment: see logged_path
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
