"""Error reports to a Sentry-compatible endpoint, only when SENTRY_DSN is set.

The endpoint is a small HTTP server on loopback standing in for Sentry: what it receives is
what a real one would (the envelope format is sentry-sdk's, not ours).
"""

from __future__ import annotations

import gzip
import json
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import sentry_sdk

SCRIPT = """
import django
django.setup()
from django.test import Client
from cityeval.web.ops import health
import sentry_sdk

def broken():
    raise ZeroDivisionError("the readiness check broke")

health.READINESS_CHECKS = (broken,)
response = Client(raise_request_exception=False).get(
    "/readyz?next=/s/QUERYSECRET42/",
    HTTP_X_REQUEST_ID="trace-00000001",
    HTTP_REFERER="http://testserver/s/REFERERSECRET42/",
)
sentry_sdk.flush(timeout=10)
print(response.status_code, response["X-Request-ID"])
"""


class _Collector(BaseHTTPRequestHandler):
    received: list[bytes] = []

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        encoding = self.headers.get("Content-Encoding")
        if encoding == "gzip":
            body = gzip.decompress(body)
        elif encoding == "br":  # sentry-sdk uses brotli when it is installed
            import brotli

            body = brotli.decompress(body)
        self.received.append(body)
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def _events(envelopes: list[bytes]) -> list[dict]:
    items = [json.loads(line) for body in envelopes for line in body.splitlines() if line.strip()]
    return [item for item in items if "exception" in item]


def test_an_unhandled_error_is_reported_with_its_request_id_when_sentry_dsn_is_set(tmp_path):
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Collector)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
            "DJANGO_SETTINGS_MODULE": "cityeval.web.settings",
            "CITYEVAL_DATA_DIR": str(tmp_path),
            "SENTRY_DSN": f"http://0123456789abcdef@127.0.0.1:{server.server_port}/7",
            "SENTRY_ENVIRONMENT": "staging",
        }
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=60, check=True
        )
    finally:
        server.shutdown()
        server.server_close()
    assert done.stdout.split() == ["500", "trace-00000001"]
    (event,) = _events(_Collector.received)
    assert event["exception"]["values"][-1]["type"] == "ZeroDivisionError"
    assert event["tags"]["request_id"] == "trace-00000001"
    assert event["environment"] == "staging" and event["release"].startswith("cityeval@")
    assert "user" not in event or "ip_address" not in event["user"]
    # A survey link's token, in the query string or the Referer, is not sent.
    report = json.dumps(event)
    assert "QUERYSECRET42" not in report and "REFERERSECRET42" not in report


def test_no_error_reporting_in_the_test_suite():
    assert not sentry_sdk.get_client().is_active()


def test_a_report_s_url_keeps_its_path_without_secret_segments_or_query(db):
    from cityeval.web.ops.errors import _before_send

    event = {
        "request": {
            "url": "https://cityeval.example/accounts/invitation/INVITE-SECRET/",
            "query_string": "ref=abc",
            "headers": {"Referer": "https://cityeval.example/accounts/password/reset/MTIz/set-secret/"},
        }
    }
    request = _before_send(event, {})["request"]
    assert request["url"] == "https://cityeval.example/accounts/invitation/***/"
    assert "query_string" not in request
    assert request["headers"]["Referer"] == "https://cityeval.example/accounts/password/reset/***/***/"
    # An ordinary page keeps its path as it is.
    ordinary = _before_send({"request": {"url": "https://cityeval.example/r/kab-deli-serdang/"}}, {})
    assert ordinary["request"]["url"] == "https://cityeval.example/r/kab-deli-serdang/"
