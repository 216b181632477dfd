"""The production set-up from the README: DEBUG off, collected static files, gunicorn."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.helpers.processes import free_port, running

BIN = Path(sys.executable).parent


def _get(url: str) -> tuple[int, bytes, dict]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as error:
        return error.code, error.read(), dict(error.headers)


@pytest.mark.skipif(not (BIN / "gunicorn").exists(), reason="gunicorn is not installed in this environment")
def test_gunicorn_serves_pages_and_static_files_with_debug_off(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DATABASE_URL"} | {
        "DEBUG": "0",
        "SECRET_KEY": "test-" + "x" * 50,
        "CITYEVAL_DATA_DIR": str(tmp_path),
        "ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SETTINGS_MODULE": "cityeval.web.settings",
        "LOG_FORMAT": "json",
    }
    manage = [str(BIN / "cityeval"), "manage"]
    subprocess.run([*manage, "migrate", "--no-input", "-v", "0"], env=env, check=True, capture_output=True)
    subprocess.run(
        [*manage, "collectstatic", "--no-input", "-v", "0"], env=env, check=True, capture_output=True
    )
    port = free_port()
    command = [str(BIN / "gunicorn"), "cityeval.web.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"]
    log = tmp_path / "gunicorn.log"
    with running(command, env=env, log=log) as server:
        base = f"http://127.0.0.1:{port}"
        for _ in range(600):  # up to a minute on a busy machine
            assert server.poll() is None, log.read_text()
            try:
                status, body, headers = _get(f"{base}/accounts/login/")
                break
            except (ConnectionError, TimeoutError, urllib.error.URLError):  # still booting
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not answer")
        assert status == 200 and b"Masuk" in body  # Indonesian by default
        assert headers.get("X-Frame-Options") == "DENY"
        assert "default-src 'self'" in headers.get("Content-Security-Policy", "")
        css = next(part for part in body.decode().split('"') if part.endswith(".css"))
        assert css != "/static/cityeval/site.css"  # hashed name from the manifest storage
        status, _, headers = _get(base + css)
        assert status == 200 and "max-age" in headers.get("Cache-Control", "")
        assert _get(f"{base}/r/kab-deli-serdang/")[0] == 200  # redirected to log in (urllib follows)
        assert _get(f"{base}/api/regions")[0] == 401
        # A load balancer probes by address: no ALLOWED_HOSTS entry needed (docs/deployment.md).
        probe = urllib.request.Request(
            f"{base}/readyz", headers={"Host": "10.0.0.5", "X-Request-ID": "lb-0001x"}
        )
        with urllib.request.urlopen(probe, timeout=5) as response:
            assert response.status == 200 and json.loads(response.read())["status"] == "ok"
            assert response.headers["X-Request-ID"] == "lb-0001x"
        # The API docs' Swagger UI comes from the collected static files, not a CDN.
        status, body, _ = _get(f"{base}/api/docs")
        assert status == 200 and b"cdn." not in body
        bundle = next(p for p in body.decode().split('"') if "swagger-ui-bundle" in p)
        assert bundle.startswith("/static/ninja/") and _get(base + bundle)[0] == 200
    logged = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    probes = [line for line in logged if line.get("path") == "/readyz"]
    assert probes and {"status": 200, "request_id": "lb-0001x"}.items() <= probes[-1].items()
