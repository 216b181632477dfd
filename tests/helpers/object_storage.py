"""An S3-compatible server for the object storage tests: moto's server mode on loopback, run as a
subprocess of the test session (bounded waits, ended by its pid), and a job runner small enough
to check its output byte for byte."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.processes import free_port, running

START_SECONDS = 30.0
# Any non-empty pair: moto accepts every key; real credentials must never reach a test.
ACCESS_KEY, SECRET_KEY, REGION = "testing", "testing", "us-east-1"
JOB_FILE = b"%PDF-1.4\n% a job's output, kept byte for byte\n%%EOF\n"


def require_all() -> bool:
    """Whether a missing tool fails the run instead of skipping it (``.ci/run`` sets it)."""
    return os.environ.get("CITYEVAL_REQUIRE_ALL", "").strip().lower() in {"1", "true", "yes", "on"}


def missing_reason() -> str | None:
    """Why moto's server cannot run here, or None. Its server mode needs Flask besides moto."""
    for module, package in (("moto", "moto[s3]"), ("flask", "flask"), ("flask_cors", "flask-cors")):
        if importlib.util.find_spec(module) is None:
            return f"{package} is not installed (pip install -e '.[dev]'): no S3 server for the tests"
    return None


def _answers(url: str) -> bool:
    direct = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy
    try:
        with direct.open(url, timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


@contextmanager
def moto_server(log: Path) -> Iterator[str]:
    """Start ``python -m moto.server`` on 127.0.0.1 at a free port, wait until it answers, yield
    its address; stop it (terminate, then kill) whatever happens. Its output goes to ``log``."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    command = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
    with running(command, log=log) as process:
        deadline = time.monotonic() + START_SECONDS
        while not _answers(f"{url}/moto-api/"):
            if process.poll() is not None or time.monotonic() > deadline:
                output = log.read_text(errors="replace")
                raise RuntimeError(f"moto's server did not start on {url}:\n{output}")
            time.sleep(0.1)
        yield url


def s3_client(endpoint_url: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=endpoint_url,
        aws_access_key_id=ACCESS_KEY,
        aws_secret_access_key=SECRET_KEY,
        region_name=REGION,
    )


def tiny_job(job: Any, progress: Any) -> Any:
    """A job runner (``runner(job, progress) -> JobFile(bytes, download name)``) with a known
    output."""
    from cityeval.web.jobs.services import JobFile

    progress(1, 1)
    return JobFile(JOB_FILE, "tiny-letter.pdf")
