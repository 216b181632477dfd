"""Structured request logs: one JSON line per request carrying the request id of its response."""

from __future__ import annotations

import io
import json
import logging
import uuid

import pytest
from django.test import Client

from cityeval.web.ops.logs import JsonFormatter, RequestIdFilter, request_id_from


@pytest.fixture
def json_lines():
    """The JSON log lines written during the test, as configured by LOG_FORMAT=json."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
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
