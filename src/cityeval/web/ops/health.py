"""``/healthz`` and ``/readyz`` for load balancers and process supervisors.

They are answered by a middleware placed first, before host validation, sessions, CSRF,
log-in and any page middleware: a load balancer probes by address (its Host header is rarely
one of ALLOWED_HOSTS), sends no cookies and must not be rate-limited or redirected. The
answers name each check and a short fixed reason, never a path or an exception's text.
"""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor
from django.http import HttpRequest, HttpResponse

logger = logging.getLogger("cityeval.health")

HEALTH_PATH = "/healthz"
READY_PATH = "/readyz"
PROBE_FOLDER = "readyz"


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    detail: str = ""
    required: bool = True


def check_database() -> Check:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except DatabaseError:
        logger.exception("readyz: database check failed")
        return Check("database", False, "unreachable")
    return Check("database", True)


def check_migrations() -> Check:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError:
        logger.exception("readyz: migration check failed")
        return Check("migrations", False, "unknown")
    if plan:
        return Check("migrations", False, f"{len(plan)} unapplied")
    return Check("migrations", True)


def check_storage() -> Check:
    """Write and delete a small probe file through the configured file storage."""
    try:
        name = default_storage.save(f"{PROBE_FOLDER}/probe-{uuid.uuid4().hex}", ContentFile(b"ok"))
        default_storage.delete(name)
    except Exception:  # any storage backend's failure means "not writable", whatever its type
        logger.exception("readyz: storage check failed")
        return Check("storage", False, "not writable")
    return Check("storage", True)


def check_worker() -> Check:
    # Background jobs do not exist yet: report that, without failing readiness.
    return Check("worker", True, "no worker configured", required=False)


READINESS_CHECKS: tuple[Callable[[], Check], ...] = (
    check_database,
    check_migrations,
    check_storage,
    check_worker,
)


def readiness() -> tuple[bool, list[Check]]:
    checks: list[Check] = []
    for run in READINESS_CHECKS:
        if run is check_migrations and not all(c.ok for c in checks if c.name == "database"):
            checks.append(Check("migrations", False, "unknown"))  # not knowable without the database
        else:
            checks.append(run())
    return all(c.ok for c in checks if c.required), checks


def _json(status: int, body: dict) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type="application/json")
    response["Cache-Control"] = "no-store"
    return response


class HealthCheckMiddleware:
    """Answer the two probe paths (GET and HEAD) before any other middleware sees them."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        path = request.path_info.rstrip("/")
        if path not in (HEALTH_PATH, READY_PATH):
            return self.get_response(request)
        if request.method not in ("GET", "HEAD"):
            response = HttpResponse(status=405, content_type="text/plain")
            response["Allow"] = "GET, HEAD"
            return response
        if path == HEALTH_PATH:
            response = HttpResponse("ok\n", content_type="text/plain")
            response["Cache-Control"] = "no-store"
            return response
        ready, checks = readiness()
        body = {
            "status": "ok" if ready else "fail",
            "checks": {
                c.name: {"ok": c.ok, **({"detail": c.detail} if c.detail else {}), "required": c.required}
                for c in checks
            },
        }
        return _json(200 if ready else 503, body)
