"""Structured request logs: one JSON line per request carrying the request id of its response."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from django.test import Client

from cityeval.web.ops.logs import JsonFormatter, RequestIdFilter, SecretPathFilter, request_id_from


@pytest.fixture
def json_lines():
    """The JSON log lines written during the test, as configured by LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    handler.addFilter(SecretPathFilter())  # as settings.LOGGING's console handler has them
    root, access = logging.getLogger(), logging.getLogger("cityeval.request")
    old_level = access.level
    root.addHandler(handler)
    access.setLevel(logging.INFO)
    try:
        yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    finally:
        root.removeHandler(handler)
        access.setLevel(old_level)


def test_a_request_logs_one_json_line_with_the_response_request_id(json_lines, coordinator):
    client = Client()
    client.force_login(coordinator)
    response = client.get("/healthz?token=secret")
    lines = [entry for entry in json_lines() if entry["logger"] == "cityeval.request"]
    assert len(lines) == 1
    entry = lines[0]
    request_id = response["X-Request-ID"]
    assert str(uuid.UUID(request_id)) == request_id  # a uuid4 was made: none came in
    assert entry["request_id"] == request_id
    assert entry["method"] == "GET" and entry["path"] == "/healthz" and entry["status"] == 200
    assert entry["level"] == "INFO" and isinstance(entry["duration_ms"], float)
    assert "secret" not in json.dumps(entry)  # the query string is not logged
    assert entry["time"].endswith("+00:00")


def test_the_user_id_is_logged_for_a_logged_in_page(json_lines, coordinator):
    client = Client()
    client.force_login(coordinator)
    client.get("/")
    (entry,) = [e for e in json_lines() if e["logger"] == "cityeval.request"]
    assert entry["user_id"] == coordinator.pk


def test_other_log_records_of_the_request_carry_its_id(json_lines, db, monkeypatch):
    from cityeval.web.ops import health

    def noisy():
        logging.getLogger("cityeval.health").warning("probing")
        return health.Check("database", True)

    monkeypatch.setattr(health, "READINESS_CHECKS", (noisy,))
    response = Client().get("/readyz", HTTP_X_REQUEST_ID="lb-trace-0001")
    assert response["X-Request-ID"] == "lb-trace-0001"
    by_logger = {e["logger"]: e for e in json_lines()}
    assert by_logger["cityeval.health"]["message"] == "probing"
    assert by_logger["cityeval.health"]["request_id"] == "lb-trace-0001"
    assert by_logger["cityeval.request"]["request_id"] == "lb-trace-0001"


@pytest.mark.parametrize(
    "incoming",
    ["short", "x" * 65, "abc def ghi", 'evil"\nFAKE LOG LINE', "<script>alert(1)</script>"],
)
def test_an_unsafe_incoming_request_id_is_replaced(json_lines, db, incoming):
    response = Client().get("/healthz", HTTP_X_REQUEST_ID=incoming)
    request_id = response["X-Request-ID"]
    assert request_id != incoming and str(uuid.UUID(request_id)) == request_id
    (entry,) = [e for e in json_lines() if e["logger"] == "cityeval.request"]
    assert entry["request_id"] == request_id


def test_request_id_rule():
    assert request_id_from("0af7651916cd43dd8448eb211c80319c") == "0af7651916cd43dd8448eb211c80319c"
    assert request_id_from("req-2024.11:07_a") == "req-2024.11:07_a"
    replaced = request_id_from("Root=1-67891233-abcdef012345678912345678")  # '=' is not allowed
    assert str(uuid.UUID(replaced)) == replaced
    assert request_id_from(None) != request_id_from(None)


def test_outside_a_request_the_id_is_null():
    record = logging.LogRecord("cityeval", logging.WARNING, __file__, 1, "hello %s", ("world",), None)
    RequestIdFilter().filter(record)
    entry = json.loads(JsonFormatter().format(record))
    assert entry["message"] == "hello world" and entry["request_id"] is None
    assert entry["level"] == "WARNING" and "path" not in entry


SECRET = "Sekret-Tok3n_abcdefghijklmnop"


@pytest.mark.parametrize(
    ("path", "logged"),
    [
        (f"/s/{SECRET}/", "/s/***/"),  # a public survey form's link
        (f"/s/{SECRET}/thanks/", "/s/***/thanks/"),
        (f"/api/survey/{SECRET}/start", "/api/survey/***/start"),
        (f"/accounts/invitation/{SECRET}/", "/accounts/invitation/***/"),
        (f"/accounts/password/reset/MTIz/{SECRET}/", "/accounts/password/reset/***/***/"),
        # No route matches: the segment after a known secret-bearing prefix is masked anyway.
        (f"/s/{SECRET}/no-such-page/", "/s/***/no-such-page/"),
        (f"/accounts/password/reset/MTIz/{SECRET}/extra/", "/accounts/password/reset/***/extra/"),
        # Without its trailing slash (answered by a redirect) the token was logged whole (review).
        (f"/accounts/password/reset/MTIz/{SECRET}", "/accounts/password/reset/***"),
    ],
)
def test_a_secret_in_the_path_is_not_logged(json_lines, world, path, logged):
    Client().get(path)
    lines = json_lines()
    (entry,) = [e for e in lines if e["logger"] == "cityeval.request"]
    assert entry["path"] == logged
    assert entry["message"].split(" ")[1] == logged
    # Nor in any other line of the request, such as Django's "Not Found: <path>".
    assert lines and all(SECRET not in json.dumps(e) and "MTIz" not in json.dumps(e) for e in lines)


def test_the_password_reset_redirect_keeps_the_user_id_out_of_the_log(json_lines, admin_a):
    from django.contrib.auth.tokens import default_token_generator
    from django.utils.encoding import force_bytes
    from django.utils.http import urlsafe_base64_encode

    uid, token = urlsafe_base64_encode(force_bytes(admin_a.pk)), default_token_generator.make_token(admin_a)
    response = Client().get(f"/accounts/password/reset/{uid}/{token}/")
    assert response.status_code == 302  # to .../<uidb64>/set-password/, the token in the session
    (entry,) = [e for e in json_lines() if e["logger"] == "cityeval.request"]
    assert entry["path"] == "/accounts/password/reset/***/***/"
    assert token not in json.dumps(json_lines()) and uid not in json.dumps(json_lines())


@pytest.mark.parametrize(
    "path", ["/accounts/login/", "/r/kab-deli-serdang/", "/accounts/invitations/", "/no/such/page/"]
)
def test_an_ordinary_path_is_logged_unchanged(json_lines, world, path):
    Client().get(path)
    (entry,) = [e for e in json_lines() if e["logger"] == "cityeval.request"]
    assert entry["path"] == path


def test_the_console_handler_masks_secret_paths():
    from django.conf import settings

    filters = settings.LOGGING["handlers"]["console"]["filters"]
    assert settings.LOGGING["filters"]["secret_path"]["()"] == "cityeval.web.ops.logs.SecretPathFilter"
    assert "secret_path" in filters and "request_id" in filters


def test_with_the_access_line_off_its_path_is_not_worked_out(db, monkeypatch):
    """LOG_FORMAT=text leaves the access line off: the path is not masked (which may resolve
    the URL again) for a line nobody writes; the response still carries the request id."""
    from cityeval.web.ops import logs

    assert not logging.getLogger("cityeval.request").isEnabledFor(logging.INFO)
    calls = []
    monkeypatch.setattr(logs, "logged_path", lambda request: calls.append(request) or request.path)
    response = Client().get("/healthz", HTTP_X_REQUEST_ID="trace-0001-abcd")
    assert calls == [] and response["X-Request-ID"] == "trace-0001-abcd"
