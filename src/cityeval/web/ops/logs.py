"""Structured logs: a request id on every log record of a request, and JSON lines.

``RequestLogMiddleware`` takes the caller's ``X-Request-ID`` when it is a safe token (a proxy
or load balancer may set one) or makes a uuid4, keeps it in a context variable for the
request, returns it in the response header and writes one access line per request on the
``cityeval.request`` logger. ``RequestIdFilter`` (on the handler) copies the id onto every
record; ``JsonFormatter`` writes one JSON object per line (``LOG_FORMAT=json``).

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

from django.http import HttpRequest, HttpResponse

REQUEST_ID_HEADER = "X-Request-ID"
# Letters, digits and - _ . : only, 8 to 64 of them: nothing that can forge a log line or a
# header, long enough that a uuid or a proxy's trace id fits.
SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{8,64}")
# Fields the access line adds; the formatter writes them when present on a record.
REQUEST_FIELDS = ("method", "path", "status", "duration_ms", "user_id")

_request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)
request_logger = logging.getLogger("cityeval.request")


def current_request_id() -> str | None:
    return _request_id.get()


def request_id_from(incoming: str | None) -> str:
    """The caller's id when it is safe, else a new uuid4."""
    if incoming and SAFE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return str(uuid.uuid4())


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
        request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        token = _request_id.set(request_id)
        request.META["cityeval.request_id"] = request_id  # for the audit trail's entries
        started = time.perf_counter()
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request_id
            self._log(request, response.status_code, started)
            return response
        finally:
            _request_id.reset(token)

    @staticmethod
    def _log(request: HttpRequest, status: int, started: float) -> None:
        user = getattr(request, "user", None)
        request_logger.info(
            "%s %s %s",
            request.method,
            request.path,
            status,
            extra={
                "method": request.method,
                "path": request.path,  # never the query string: it may carry tokens
                "status": status,
                "duration_ms": round((time.perf_counter() - started) * 1000, 1),
                "user_id": user.pk if user is not None and user.is_authenticated else None,
            },
        )
