"""The production topology of docs/deployment.md on loopback: PostgreSQL, two gunicorn app
servers on different ports, one ``cityeval worker`` and an S3 server (moto), all with the same
environment. Over real HTTP: a session started on the first server continues on the second; an
upload through one downloads through the other (and is in the bucket); the password-reset limit
counts the requests of both; a job queued from one runs on the worker and is fetched from the
other.

It runs the deployment guide's commands: ``cityeval manage migrate``, ``cityeval manage
collectstatic --no-input``, ``cityeval manage check --deploy``, ``cityeval manage adduser ...
--role coordinator``, ``gunicorn cityeval.web.wsgi --bind 127.0.0.1:PORT ...`` and ``cityeval
worker``. The data besides the coordinator is the web demo (a published 2024 cycle, an open
2025 one), loaded by a short script.

PostgreSQL only (the PostgreSQL pass of ``make test``: DATABASE_URL names a server; the test
makes a database of its own there and drops it). On SQLite it skips, unless
CITYEVAL_REQUIRE_ALL=1 and no PostgreSQL pass will run; without moto or gunicorn it skips, or
fails under CITYEVAL_REQUIRE_ALL=1. Every process is ours, bound to 127.0.0.1, ended by pid;
every wait is bounded.
"""

from __future__ import annotations

import hashlib
import http.cookiejar
import json
import os
import re
import subprocess
import sys
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.helpers.object_storage import (
    ACCESS_KEY,
    REGION,
    SECRET_KEY,
    missing_reason,
    moto_server,
    require_all,
)
from tests.helpers.object_storage import s3_client as make_s3_client
from tests.helpers.postgres import drop_database
from tests.helpers.processes import free_port, running, wait_until

BIN = Path(sys.executable).parent
START_SECONDS = 60.0
BUCKET, PREFIX = "cityeval-topology", "cityeval"
HOME, OPEN_CYCLE, ITEM = "kab-deli-serdang", "gmsc-2025", "baseline.legal_basis"
RESET_LIMIT = 3
LOGIN_FAILURES = 3

# The demo's data; its users' passwords, new each time, come back as JSON.
SEED = """
import json
import django
django.setup()
from cityeval.web.demo import load_demo
print(json.dumps({login.username: login.password for login in load_demo()}))
"""


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _skip_or_fail() -> None:
    """Skip, saying why, when the topology cannot run here; under CITYEVAL_REQUIRE_ALL=1 fail
    instead, except on SQLite when a PostgreSQL pass follows (``make test`` with
    CITYEVAL_TEST_DATABASE_URL), which runs it."""
    if _postgres_url() is None:
        reason = "the topology test runs on PostgreSQL only (DATABASE_URL names none)"
        if require_all() and not os.environ.get("CITYEVAL_TEST_DATABASE_URL"):
            pytest.fail(f"{reason}, no PostgreSQL pass follows, and CITYEVAL_REQUIRE_ALL=1 requires it")
        pytest.skip(reason + ": it runs in the PostgreSQL pass of make test")
    reason = "gunicorn is not installed" if not (BIN / "gunicorn").exists() else missing_reason()
    if reason:
        if require_all():
            pytest.fail(f"{reason}, and CITYEVAL_REQUIRE_ALL=1 requires the topology test")
        pytest.skip(reason)


@contextmanager
def _database() -> Iterator[str]:
    """A new PostgreSQL database on the configured server, dropped afterwards: its URL."""
    import psycopg

    configured = _postgres_url()
    assert configured
    name = f"cityeval_topology_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(configured, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield urlsplit(configured)._replace(path=f"/{name}").geturl()
    finally:
        drop_database(configured, name)


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 30x is an answer to look at, not to follow
        return None


class Browser:
    """One person's cookies, sent to whichever server is asked (as behind a load balancer: the
    servers share the host 127.0.0.1, and cookies do not depend on the port)."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.ProxyHandler({}), urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect
        )

    def request(self, url: str, data: bytes | None = None, headers: dict | None = None):
        """(status, body, headers) of one request."""
        request = urllib.request.Request(url, data=data, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def get(self, url: str):
        return self.request(url)

    def csrf(self, url: str) -> str:
        """The CSRF token of the form on the page at ``url`` (its cookie lands in the jar)."""
        status, body, _ = self.get(url)
        assert status == 200, (url, status)
        match = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert match, f"no form with a CSRF token on {url}"
        return match.group(1).decode()

    def post(self, url: str, fields: dict[str, str], *, form_page: str | None = None):
        token = self.csrf(form_page or url)
        data = urlencode(fields | {"csrfmiddlewaretoken": token}).encode()
        return self.request(url, data, {"Content-Type": "application/x-www-form-urlencoded"})

    def upload(self, url: str, fields: dict[str, str], name: str, content: bytes, *, form_page: str):
        token = self.csrf(form_page)
        boundary = uuid.uuid4().hex
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{key}"\r\n\r\n{value}\r\n'.encode()
            for key, value in (fields | {"csrfmiddlewaretoken": token}).items()
        ]
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{name}"\r\n'
            f"Content-Type: application/pdf\r\n\r\n".encode()
            + content
            + b"\r\n"
        )
        body = b"".join(parts) + f"--{boundary}--\r\n".encode()
        return self.request(url, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})

    def log_in(self, server: str, username: str, password: str) -> None:
        login = f"{server}/accounts/login/"
        status, _, headers = self.post(login, {"username": username, "password": password})
        assert status == 302 and "/accounts/login/" not in headers["Location"], f"{username} not logged in"


def _pdf(text: str) -> bytes:
    """A minimal valid one-page PDF."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 200 200] /Contents 4 0 R >>",
    ]
    stream = f"BT /F1 12 Tf 20 100 Td ({text}) Tj ET".encode()
    objects.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def _up(server: str, process: subprocess.Popen) -> bool:
    """Whether the server answers its readiness probe; a server that stopped fails at once."""
    assert process.poll() is None, f"{process.args} stopped (exit {process.returncode}); see its log"
    try:
        return Browser().get(f"{server}/readyz")[0] == 200
    except OSError:  # still booting
        return False


def _environment(tmp_path: Path, database_url: str, s3_url: str) -> dict[str, str]:
    """The one environment every process gets, as /etc/cityeval/env gives the units."""
    ours = ("DATABASE_", "CITYEVAL_", "DJANGO_", "S3_", "STORAGE_", "AWS_", "EMAIL_", "PASSWORD_RESET_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    return env | {
        "DJANGO_SETTINGS_MODULE": "cityeval.web.settings",
        "DEBUG": "0",
        "SECRET_KEY": "topology-" + "k" * 50,
        "ALLOWED_HOSTS": "127.0.0.1",
        # Plain HTTP on loopback: the cookies cannot be Secure-only here (nginx adds TLS in the guide).
        "SECURE_COOKIES": "0",
        "DATABASE_URL": database_url,
        "CITYEVAL_DATA_DIR": str(tmp_path / "data"),
        "LOG_FORMAT": "json",
        "EMAIL_BACKEND": "locmem",
        "STORAGE_BACKEND": "s3",
        "S3_BUCKET": BUCKET,
        "S3_ENDPOINT_URL": s3_url,
        "S3_REGION": REGION,
        "S3_PREFIX": PREFIX,
        "S3_ADDRESSING_STYLE": "path",
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "PASSWORD_RESET_PER_ADDRESS_HOUR": str(RESET_LIMIT),
        "AXES_FAILURE_LIMIT": str(LOGIN_FAILURES),
    }


def test_two_app_servers_a_worker_and_a_bucket_share_sessions_files_limits_and_jobs(tmp_path):
    _skip_or_fail()
    cityeval = str(BIN / "cityeval")
    with ExitStack() as stack:
        database_url = stack.enter_context(_database())
        s3_url = stack.enter_context(moto_server(tmp_path / "moto.log"))
        bucket = make_s3_client(s3_url)
        bucket.create_bucket(Bucket=BUCKET)
        env = _environment(tmp_path, database_url, s3_url)

        def run(command: list[str]) -> str:
            done = subprocess.run(command, env=env, timeout=300, capture_output=True, text=True)
            assert done.returncode == 0, f"{command} failed:\n{done.stdout}\n{done.stderr}"
            return done.stdout

        # The guide's set-up commands, then the demo's data.
        run([cityeval, "manage", "migrate"])
        run([cityeval, "manage", "collectstatic", "--no-input"])
        # --deploy warns (not fails) about HTTPS settings left to nginx; errors would fail here.
        run([cityeval, "manage", "check", "--deploy"])
        passwords = json.loads(run([sys.executable, "-c", SEED]).splitlines()[-1])
        added = run([cityeval, "manage", "adduser", "ministry.admin", "--role", "coordinator"])
        coordinator_password = re.search(r"with password (\S+) ", added)
        assert coordinator_password, added

        servers = []
        for name in ("a", "b"):
            port = free_port()
            command = [
                str(BIN / "gunicorn"), "cityeval.web.wsgi", "--bind", f"127.0.0.1:{port}",
                "--workers", "1", "--timeout", "120", "--graceful-timeout", "30",
            ]  # fmt: skip
            process = stack.enter_context(running(command, env=env, log=tmp_path / f"gunicorn-{name}.log"))
            servers.append((f"http://127.0.0.1:{port}", process))
        worker = stack.enter_context(running([cityeval, "worker"], env=env, log=tmp_path / "worker.log"))
        (a, _), (b, _) = servers
        for server, process in servers:
            wait_until(partial(_up, server, process), seconds=START_SECONDS, what=f"gunicorn on {server}")
            ready = json.loads(Browser().get(f"{server}/readyz")[1])
            assert ready["status"] == "ok", ready

        # 1. A session started on A continues on B.
        admin = Browser()
        item_page = f"/r/{HOME}/{OPEN_CYCLE}/self-assessment/items/{ITEM}/"
        assert admin.get(b + item_page)[0] == 302  # not logged in yet: to the log-in page
        admin.log_in(a, "admin.deliserdang", passwords["admin.deliserdang"])
        status, body, _ = admin.get(b + item_page)
        assert status == 200 and b"admin.deliserdang" in body

        # 2. A file uploaded through A is in the bucket and downloads through B, byte for byte.
        evidence = _pdf("topology evidence")
        status, _, headers = admin.upload(
            a + item_page + "evidence/", {"kind": "file"}, "SK Tim.pdf", evidence, form_page=a + item_page
        )
        assert status == 302, status
        digest = hashlib.sha256(evidence).hexdigest()
        key = f"{PREFIX}/evidence/{digest[:2]}/{digest}"  # stored under its SHA-256 (the guide)
        assert bucket.get_object(Bucket=BUCKET, Key=key)["Body"].read() == evidence
        links = re.findall(rb'href="(/evidence/[0-9a-f-]{36}/)"', admin.get(b + item_page)[1])
        assert len(set(links)) == 1, links
        status, body, _ = admin.get(b + links[0].decode())
        assert status == 200 and body == evidence
        assert Browser().get(b + links[0].decode())[0] == 302  # an anonymous visitor gets nothing

        # 3. The password-reset limit per address counts the requests to both servers: with a limit
        # of 3, alternating A, B, A, the fourth (on B) is refused; per server it would be the sixth.
        stranger, address = Browser(), {"email": "somebody@example.go.id"}
        answers = [stranger.post(f"{server}/accounts/password/reset/", address)[0] for server in (a, b, a, b)]
        assert answers == [302, 302, 302, 429]

        # The log-in lock-out (django-axes) too: three wrong passwords, on A, B, A, lock the account
        # out from this address on both servers, the right password included.
        guesser = Browser()
        wrong = {"username": "admin.medan", "password": "not-the-password"}
        answers = [guesser.post(f"{server}/accounts/login/", wrong)[0] for server in (a, b, a)]
        assert answers == [200, 200, 429]  # the form again, twice; then the lock-out page
        right = {"username": "admin.medan", "password": passwords["admin.medan"]}
        assert guesser.post(f"{b}/accounts/login/", right)[0] == 429  # not 302: still locked out

        # 4. A job queued through A runs on the worker; B shows it done and serves its file.
        coordinator = Browser()
        coordinator.log_in(a, "ministry.admin", coordinator_password.group(1))
        status, _, headers = coordinator.post(
            f"{a}/results/gmsc-2024/letter/prepare/", {}, form_page=f"{a}/results/gmsc-2024/"
        )
        assert status == 302 and re.fullmatch(r"/jobs/\d+/", headers["Location"]), (status, headers)
        job_page = b + headers["Location"]

        def done() -> bool:
            status, body, _ = coordinator.get(job_page)
            assert status == 200 and b'id="job-failed"' not in body, body[-2000:]
            return b'id="job-download"' in body

        wait_until(done, seconds=120, what="the worker to run the job")
        status, body, headers = coordinator.get(job_page + "download/")
        assert status == 200 and body.startswith(b"%PDF")
        (stored,) = bucket.list_objects_v2(Bucket=BUCKET, Prefix=f"{PREFIX}/jobs/")["Contents"]
        assert bucket.get_object(Bucket=BUCKET, Key=stored["Key"])["Body"].read() == body
        for process in (*(process for _, process in servers), worker):
            assert process.poll() is None, f"{process.args} stopped"

    # Each server answered what it was sent (its JSON request log, flushed when it stopped).
    def paths(name: str) -> list[str]:
        lines = (tmp_path / f"gunicorn-{name}.log").read_text().splitlines()
        return [json.loads(line).get("path", "") for line in lines if line.startswith("{")]

    evidence_path = links[0].decode()
    assert evidence_path in paths("b") and evidence_path not in paths("a")
    assert item_page + "evidence/" in paths("a") and item_page + "evidence/" not in paths("b")
