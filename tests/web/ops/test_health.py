"""/healthz and /readyz: what a load balancer sees when the site is healthy and when not.

Expected values come from the specification of the probes (issue 13): 200 when every required
check passes, 503 with the failing check named when one does not; no log-in, no CSRF token, no
ALLOWED_HOSTS entry needed; no path or exception text in the answer.
"""

from __future__ import annotations

import json

import pytest
from django.core.files.storage import FileSystemStorage
from django.db.migrations.executor import MigrationExecutor
from django.test import Client


@pytest.fixture
def anonymous() -> Client:
    return Client()


def test_healthz_answers_without_the_database(anonymous):
    """No ``db`` fixture: pytest-django raises on any database access, even a session read."""
    response = anonymous.get("/healthz")
    assert response.status_code == 200
    assert response.content == b"ok\n" and response["Content-Type"].startswith("text/plain")


def test_readyz_is_200_with_every_check_named_on_a_migrated_writable_site(anonymous, db, settings):
    response = anonymous.get("/readyz")
    assert response.status_code == 200
    body = json.loads(response.content)
    assert body["status"] == "ok"
    assert {name: check["ok"] for name, check in body["checks"].items()} == {
        "database": True, "migrations": True, "storage": True, "worker": True,
    }  # fmt: skip
    assert body["checks"]["worker"] == {"ok": True, "detail": "no worker configured", "required": False}
    # The probe file is gone again.
    assert not any(p.is_file() for p in settings.MEDIA_ROOT.rglob("*"))


def test_readyz_is_503_with_an_unapplied_migration(anonymous, db, monkeypatch):
    real_plan = MigrationExecutor.migration_plan

    def one_unapplied(self, targets, clean_start=False):
        graph = self.loader.graph
        return [*real_plan(self, targets, clean_start), (graph.nodes[("results", "0001_initial")], False)]

    monkeypatch.setattr(MigrationExecutor, "migration_plan", one_unapplied)
    response = anonymous.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["status"] == "fail"
    assert body["checks"]["migrations"] == {"ok": False, "detail": "1 unapplied", "required": True}
    assert body["checks"]["database"]["ok"] is True


def test_readyz_is_503_when_storage_is_not_writable_and_hides_the_error(anonymous, db, monkeypatch, settings):
    secret = f"{settings.MEDIA_ROOT}/readyz: Permission denied"

    def refuse(self, name, content, max_length=None):
        raise OSError(13, secret)

    monkeypatch.setattr(FileSystemStorage, "save", refuse)
    response = anonymous.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["storage"] == {"ok": False, "detail": "not writable", "required": True}
    assert str(settings.MEDIA_ROOT) not in response.content.decode()
    assert "Permission" not in response.content.decode()


def test_readyz_is_503_when_the_database_is_unreachable(anonymous, db, monkeypatch):
    from django.db import OperationalError
    from django.db.backends.utils import CursorWrapper

    def fail(self, sql, params=None):
        raise OperationalError("could not connect to server at 10.0.0.9: password authentication failed")

    with monkeypatch.context() as patch:  # undone before the test database is torn down
        patch.setattr(CursorWrapper, "execute", fail)
        response = anonymous.get("/readyz")
    assert response.status_code == 503
    body = json.loads(response.content)
    assert body["checks"]["database"] == {"ok": False, "detail": "unreachable", "required": True}
    assert body["checks"]["migrations"] == {"ok": False, "detail": "unknown", "required": True}
    assert "password" not in response.content.decode()


def test_probes_need_no_allowed_host_no_login_and_no_csrf(db, settings):
    """A load balancer probes by address, without cookies; CSRF checks are enforced here."""
    settings.ALLOWED_HOSTS = ["cityeval.example.go.id"]
    settings.DEBUG = False
    client = Client(enforce_csrf_checks=True)
    for path in ("/healthz", "/readyz", "/healthz/", "/readyz/"):
        assert client.get(path, HTTP_HOST="10.0.0.5:8000").status_code == 200, path
        assert client.head(path, HTTP_HOST="10.0.0.5:8000").status_code == 200, path
    # Any other page from that host is still refused: the exemption is only for the probes.
    assert client.get("/accounts/login/", HTTP_HOST="10.0.0.5:8000").status_code == 400


def test_probes_refuse_writes(anonymous, db):
    response = anonymous.post("/readyz")
    assert response.status_code == 405 and response["Allow"] == "GET, HEAD"


def test_a_logged_in_user_gets_the_same_answer(anonymous, coordinator):
    anonymous.force_login(coordinator)
    assert anonymous.get("/readyz").status_code == 200
