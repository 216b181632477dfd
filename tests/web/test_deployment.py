"""docs/deployment.md as CI runs it: the files the guide shows are the files shipped in ``deploy/``,
and its commands are run from them.

1. Every code block the guide marks ``<!-- deploy/NAME -->`` is that file, byte for byte, and every
   file in ``deploy/`` is shown (SQLite and PostgreSQL passes; no tools needed).
2. ``systemd-analyze verify`` accepts the unit files (paths moved to this machine); any warning
   fails. Without systemd-analyze it skips, or fails under CITYEVAL_REQUIRE_ALL=1 (``.ci/run``
   installs it).
3. On PostgreSQL (the PostgreSQL pass of ``make test``, like tests/web/test_topology.py), the
   guide's topology with TLS: the environment file, the set-up commands of section 3, two
   gunicorn app servers started with the web unit's ExecStart, nginx with the shipped site
   configuration (loopback ports, a self-signed certificate made here) in front of them; over
   HTTPS a log-in page, a static file served by nginx itself, the app seeing the request as
   secure (HSTS, secure cookies, the HTTPS Referer check), the health checks, a session served
   by both app servers; then the upgrade commands of section 8, the backup unit's commands and
   the restore commands of section 10, after which the session from before the backup still
   works. On SQLite it skips, unless CITYEVAL_REQUIRE_ALL=1 and no PostgreSQL pass follows;
   without nginx, openssl, curl or gunicorn it skips, or fails under CITYEVAL_REQUIRE_ALL=1.

Paths are moved to the test's folders (``/opt/cityeval/.venv/bin/`` to this virtualenv's, ``/var/lib/
cityeval``, ``/var/backups/cityeval``, ``/etc/cityeval/env``, the certificate's), ports 8000/8001
and nginx's 80/443 to free loopback ports; the environment file gets its own secret key, database
and e-mail back end (no Sentry, no SMTP). Nothing else is changed but ``--workers 3``, run as
``--workers 1`` to keep the test small. Lines the test cannot run as written (``git``, ``make
install``, ``systemctl``, ``sudo -u postgres``) are listed below with what it does instead. Every
process is ours, bound to 127.0.0.1, stopped by its pid (terminate, then kill); every wait is
bounded.
"""

from __future__ import annotations

import http.cookiejar
import json
import os
import re
import shlex
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from functools import partial
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import pytest

from tests.helpers.object_storage import require_all
from tests.helpers.postgres import drop_database
from tests.helpers.processes import free_port, running, stop, wait_until

ROOT = Path(__file__).parents[2]
DEPLOY = ROOT / "deploy"
GUIDE = ROOT / "docs" / "deployment.md"
BIN = Path(sys.executable).parent
NGINX_LOG = "/var/log/nginx/cityeval.log"  # the site's access log (no request line)
HOST = "cityeval.example.go.id"  # the guide's host name, kept: nginx and ALLOWED_HOSTS use it
START_SECONDS = 60.0
SHOWN = re.compile(r"^<!-- (deploy/[^ ]+) -->\n```[a-z]*\n(.*?)^```$", re.M | re.S)

# The guide's lines this test does not run as written, and why. Any other line of the blocks it
# runs must be a `cityeval` or `curl` command (run as written) or one of the equivalents below.
NOT_RUN = {
    "cd /opt/cityeval && git fetch && git checkout vX.Y.Z && make install": (
        "the checkout under test is the new version"
    ),
    "cityeval manage collectstatic --no-input": "run as written in section 3 already; 10 s more here",
    "systemctl restart 'cityeval-web@*' 'cityeval-worker@*'": (
        "no systemd here: the app servers are stopped and started in the restore"
    ),
}
# Equivalents: systemctl stop/start of the web units stop and start the test's gunicorn
# processes; dropdb/createdb drop and create the test's database through the configured role.
STOP_SERVERS = "systemctl stop 'cityeval-web@*'"
START_SERVERS = "systemctl start cityeval-web@8000 cityeval-web@8001"
DROP = "sudo -u postgres dropdb cityeval"
CREATE = "sudo -u postgres createdb --owner cityeval cityeval"
EXAMPLE_BACKUP = "/var/backups/cityeval/20261207T023000Z"


def _shown() -> list[tuple[str, str]]:
    return SHOWN.findall(GUIDE.read_text(encoding="utf-8"))


def test_the_guide_shows_each_shipped_file_as_it_is():
    shown = _shown()
    names = [name for name, _ in shown]
    assert len(names) == len(set(names)), f"a file is shown twice: {names}"
    assert set(names) == {f"deploy/{path.name}" for path in DEPLOY.iterdir()}
    for name, text in shown:
        assert text == (ROOT / name).read_text(encoding="utf-8"), f"the guide's {name} differs from the file"


def _section(title: str) -> str:
    """The text of the guide's section whose heading starts with ``title``."""
    text = GUIDE.read_text(encoding="utf-8")
    start = text.index(f"\n## {title}")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else None]


def _sh_lines(title: str, containing: str) -> list[str]:
    """The command lines of the ``sh`` block of section ``title`` that contains ``containing``."""
    blocks = re.findall(r"^```sh\n(.*?)^```$", _section(title), re.M | re.S)
    (block,) = [block for block in blocks if containing in block]
    return [line for line in block.splitlines() if line.strip()]


def _unit(name: str) -> dict[str, list[str]]:
    """``Section.Key`` → its values in a shipped unit file (continuation lines joined)."""
    values: dict[str, list[str]] = {}
    section, pending = "", ""
    for raw in (DEPLOY / name).read_text(encoding="utf-8").splitlines():
        line = pending + raw.strip()
        pending = ""
        if line.endswith("\\"):
            pending = line[:-1].rstrip() + " "
            continue
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("["):
            section = line.strip("[]")
            continue
        key, _, value = line.partition("=")
        values.setdefault(f"{section}.{key}", []).append(value)
    return values


def _command(line: str, instance: str = "") -> list[str]:
    """A unit's command line as systemd runs it: ``%i`` the instance, ``%%`` a %, ``$$`` a $."""
    expanded = re.sub(r"%[%i]", lambda m: "%" if m.group() == "%%" else instance, line)
    return shlex.split(expanded.replace("$$", "$"))


class Places:
    """Where the guide's paths and ports are on this machine."""

    def __init__(self, root: Path, ports: tuple[int, int]) -> None:
        self.data, self.backups, self.env_file = root / "data", root / "backups", root / "env"
        self.ports = ports
        self.moves = {
            "/opt/cityeval/.venv/bin/": f"{BIN}/",
            "/etc/cityeval/env": str(self.env_file),
            "/var/backups/cityeval": str(self.backups),
            "/var/lib/cityeval": str(self.data),
            "127.0.0.1:8000": f"127.0.0.1:{ports[0]}",
            "127.0.0.1:8001": f"127.0.0.1:{ports[1]}",
        }

    def local(self, text: str) -> str:
        for guide, here in self.moves.items():
            text = text.replace(guide, here)
        return text


def test_the_proxy_takes_the_largest_upload_the_app_takes(settings):
    """nginx refuses a body over client_max_body_size before the app sees it: the site's limit
    must leave room for the largest file the app's default limits allow, with its form."""
    (limit,) = re.findall(r"client_max_body_size (\d+)m;", (DEPLOY / "nginx-cityeval.conf").read_text())
    largest = max(settings.EVIDENCE_MAX_MB, settings.SURVEY_IMPORT_MAX_MB, settings.IMPORT_MAX_MB)
    assert int(limit) > largest


def test_the_unit_files_pass_systemd_analyze_verify(tmp_path):
    tool = shutil.which("systemd-analyze")
    if tool is None:
        reason = "systemd-analyze is not installed (Debian package systemd)"
        if require_all():
            pytest.fail(f"{reason}, and CITYEVAL_REQUIRE_ALL=1 requires it (.ci/run installs it)")
        pytest.skip(reason)
    places = Places(tmp_path, (8000, 8001))
    places.env_file.write_text((DEPLOY / "cityeval.env").read_text(encoding="utf-8"))
    # A template is verified as one of its instances.
    instances = {
        "cityeval-web@.service": "cityeval-web@8000.service",
        "cityeval-worker@.service": "cityeval-worker@1.service",
    }
    units = []
    for path in sorted(DEPLOY.glob("cityeval-*")):
        unit = tmp_path / instances.get(path.name, path.name)
        unit.write_text(places.local(path.read_text(encoding="utf-8")))
        units.append(str(unit))
    assert len(units) == 6, units
    done = subprocess.run([tool, "verify", "--man=no", *units], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and not (done.stdout + done.stderr).strip(), done.stdout + done.stderr


# The PostgreSQL topology behind nginx -------------------------------------------------------


def _postgres_url() -> str | None:
    url = os.environ.get("DATABASE_URL", "")
    return url if url.startswith(("postgres://", "postgresql://")) else None


def _skip_or_fail() -> None:
    """As the topology test: PostgreSQL only; a missing tool skips, or fails under
    CITYEVAL_REQUIRE_ALL=1 (``.ci/run`` installs nginx, openssl and curl)."""
    if _postgres_url() is None:
        reason = "the deployment test runs on PostgreSQL only (DATABASE_URL names none)"
        if require_all() and not os.environ.get("CITYEVAL_TEST_DATABASE_URL"):
            pytest.fail(f"{reason}, no PostgreSQL pass follows, and CITYEVAL_REQUIRE_ALL=1 requires it")
        pytest.skip(reason + ": it runs in the PostgreSQL pass of make test")
    missing = [tool for tool in ("openssl", "curl") if shutil.which(tool) is None]
    if _nginx() is None:
        missing.append("nginx")
    if not (BIN / "gunicorn").exists():
        missing.append("gunicorn")
    if missing:
        reason = f"{', '.join(missing)} not installed"
        if require_all():
            pytest.fail(f"{reason}, and CITYEVAL_REQUIRE_ALL=1 requires the deployment test")
        pytest.skip(reason)


@contextmanager
def _readable_folder() -> Iterator[Path]:
    """A folder (removed afterwards) that nginx's worker can read: it runs as www-data when the
    test runs as root, as /var/lib/cityeval/static must be readable by nginx in the guide."""
    folder = Path(tempfile.mkdtemp(prefix="cityeval-deploy-"))
    try:
        folder.chmod(0o755)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _nginx() -> str | None:
    """nginx's path: in PATH, or in /usr/sbin (outside a non-root user's PATH on Debian)."""
    return shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")


def _create_database(configured: str, name: str) -> None:
    import psycopg

    with psycopg.connect(configured, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')


@contextmanager
def _database() -> Iterator[str]:
    """A new PostgreSQL database on the configured server, dropped afterwards: its URL."""
    configured = _postgres_url()
    assert configured
    name = f"cityeval_deploy_{uuid.uuid4().hex[:12]}"
    _create_database(configured, name)
    try:
        yield urlsplit(configured)._replace(path=f"/{name}").geturl()
    finally:
        drop_database(configured, name)


def _environment(places: Places, database_url: str) -> dict[str, str]:
    """The shipped environment file with this machine's paths, written where the units read it
    (``EnvironmentFile``): its settings are kept (DEBUG=0, BEHIND_PROXY=1, HSTS_SECONDS, the host
    name, LOG_FORMAT=json...) but the secrets, the database and the outside services."""
    shipped = places.local((DEPLOY / "cityeval.env").read_text(encoding="utf-8"))
    settings = dict(
        line.split("=", 1) for line in shipped.splitlines() if line.strip() and not line.startswith("#")
    )
    assert settings["BEHIND_PROXY"] == "1" and settings["DEBUG"] == "0", settings
    outside = ("SENTRY_DSN", "EMAIL_HOST", "EMAIL_PORT", "EMAIL_HOST_USER", "EMAIL_HOST_PASSWORD")
    for key in (*outside, "EMAIL_USE_TLS"):
        del settings[key]
    settings |= {
        "SECRET_KEY": "deployment-test-" + uuid.uuid4().hex * 2,
        "DATABASE_URL": database_url,
        "EMAIL_BACKEND": "locmem",
    }
    places.env_file.touch(mode=0o600)  # it holds the database's password, as in the guide (0640)
    places.env_file.write_text("".join(f"{key}={value}\n" for key, value in settings.items()))
    ours = ("DATABASE_", "CITYEVAL_", "DJANGO_", "S3_", "STORAGE_", "AWS_", "EMAIL_", "SENTRY_")
    inherited = {k: v for k, v in os.environ.items() if not k.startswith(ours)}
    # The processes run in the data folder (the units' WorkingDirectory): PYTHONPATH=src must hold.
    if inherited.get("PYTHONPATH"):
        paths = inherited["PYTHONPATH"].split(os.pathsep)
        inherited["PYTHONPATH"] = os.pathsep.join(str(Path(path).resolve()) for path in paths if path)
    return inherited | {"DJANGO_SETTINGS_MODULE": "cityeval.web.settings"} | settings


def _certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for the guide's host name and 127.0.0.1, and its key."""
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-days", "1", "-subj", f"/CN={HOST}", "-addext", f"subjectAltName=DNS:{HOST},IP:127.0.0.1",
         "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=60,
    )  # fmt: skip
    return cert, key


def _nginx_configuration(places: Places, folder: Path, http_port: int, https_port: int) -> Path:
    """The shipped site with this machine's paths, ports and certificate, inside a minimal main
    configuration of the test's own (pid, logs and temporary files in ``folder``)."""
    cert, key = _certificate(folder)
    site = places.local((DEPLOY / "nginx-cityeval.conf").read_text(encoding="utf-8"))
    for guide, here in {
        "listen 80;": f"listen 127.0.0.1:{http_port};",
        "listen 443 ssl;": f"listen 127.0.0.1:{https_port} ssl;",
        # IPv6 listeners are left out here: a CI container may have no IPv6 loopback.
        "    listen [::]:80;                      # IPv6; remove both [::] lines on a host without it\n": "",
        "    listen [::]:443 ssl;\n": "",
        f"/etc/letsencrypt/live/{HOST}/fullchain.pem": str(cert),
        f"/etc/letsencrypt/live/{HOST}/privkey.pem": str(key),
    }.items():
        assert site.count(guide) == 1, f"{guide!r} not once in deploy/nginx-cityeval.conf"
        site = site.replace(guide, here)
    assert site.count(NGINX_LOG) == 2, f"{NGINX_LOG!r} not in both servers of deploy/nginx-cityeval.conf"
    site = site.replace(NGINX_LOG, str(folder / "cityeval.log"))
    (folder / "site.conf").write_text(site)
    temp = folder / "temp"
    temp.mkdir()
    user = "user www-data;\n" if os.geteuid() == 0 else ""  # as Debian's nginx.conf
    types = "include /etc/nginx/mime.types;" if Path("/etc/nginx/mime.types").exists() else ""
    main = folder / "nginx.conf"
    main.write_text(
        f"{user}worker_processes 1;\npid {folder}/nginx.pid;\nevents {{ worker_connections 64; }}\n"
        f"http {{\n    {types}\n    default_type application/octet-stream;\n"
        f"    access_log {folder}/access.log;\n"
        + "".join(f"    {kind}_temp_path {temp}/{kind};\n" for kind in ("proxy", "fastcgi", "uwsgi", "scgi"))
        + f"    client_body_temp_path {temp}/body;\n    include {folder}/site.conf;\n}}\n"
    )
    return main


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):  # a 30x is an answer to look at, not to follow
        return None


class Client:
    """One person's cookies, with the guide's host name in every request; HTTPS trusts only the
    test's certificate."""

    def __init__(self, base: str, cert: Path | None = None) -> None:
        self.base, self.cert = base, cert
        self.jar = http.cookiejar.CookieJar()
        handlers: list = [
            urllib.request.ProxyHandler({}),
            urllib.request.HTTPCookieProcessor(self.jar),
            _NoRedirect,
        ]
        if cert is not None:
            handlers.append(urllib.request.HTTPSHandler(context=ssl.create_default_context(cafile=str(cert))))
        self.opener = urllib.request.build_opener(*handlers)

    def request(self, path: str, data: bytes | None = None, headers: dict | None = None):
        """(status, body, headers) of one request."""
        request = urllib.request.Request(
            self.base + path, data=data, headers={"Host": HOST} | (headers or {})
        )
        try:
            with self.opener.open(request, timeout=30) as response:
                return response.status, response.read(), response.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read(), error.headers

    def post(self, path: str, fields: dict[str, str], headers: dict | None = None):
        status, body, _ = self.request(path)
        assert status == 200, (path, status)
        token = re.search(rb'name="csrfmiddlewaretoken" value="([^"]+)"', body)
        assert token, f"no form with a CSRF token on {path}"
        data = urlencode(fields | {"csrfmiddlewaretoken": token.group(1).decode()}).encode()
        return self.request(
            path, data, {"Content-Type": "application/x-www-form-urlencoded"} | (headers or {})
        )


def _logged(log: Path) -> list[dict]:
    """The JSON access lines of an app server's log."""
    lines = [json.loads(line) for line in log.read_text().splitlines() if line.startswith("{")]
    return [line for line in lines if "path" in line]


class Site:
    """The guide's machine on loopback: the environment file, the app servers of the web unit,
    nginx; every process it starts is stopped by ``stack`` (terminate, then kill)."""

    def __init__(self, stack: ExitStack, folder: Path, database_url: str) -> None:
        self.stack, self.folder, self.database_url = stack, folder, database_url
        self.places = Places(folder, (free_port(), free_port()))
        self.places.data.mkdir()
        self.places.backups.mkdir()
        self.env = _environment(self.places, database_url)
        self.servers: list[subprocess.Popen] = []

    def sh(self, line: str) -> str:
        """One line of the guide, as written but for the paths, in a shell where ``cityeval`` is
        the guide's function (the units' environment and working directory, without systemd-run)."""
        function = f'cityeval() {{ {shlex.quote(str(BIN / "cityeval"))} "$@"; }}\n'
        return self.run(["/bin/sh", "-c", function + self.places.local(line)], line)

    def run(self, command: list[str], what: str) -> str:
        done = subprocess.run(
            command, env=self.env, cwd=self.places.data, timeout=300, capture_output=True, text=True
        )
        assert done.returncode == 0, f"{what} failed:\n{done.stdout}\n{done.stderr}"
        return done.stdout

    def log(self, port: int) -> Path:
        return self.folder / f"gunicorn-{port}.log"

    def start_servers(self) -> None:
        """``systemctl start cityeval-web@PORT`` for both ports: the web unit's ExecStart, in its
        WorkingDirectory with its EnvironmentFile, but ``--workers 1``."""
        unit = _unit("cityeval-web@.service")
        assert unit["Service.EnvironmentFile"] == ["/etc/cityeval/env"]
        assert unit["Service.WorkingDirectory"] == ["/var/lib/cityeval"]
        (exec_start,) = unit["Service.ExecStart"]
        for port in self.places.ports:
            command = [self.places.local(part) for part in _command(exec_start, str(port))]
            at = command.index("--workers")
            assert command[at + 1] == "3", command  # the guide's; one here, to keep the test small
            command[at + 1] = "1"
            with self.log(port).open("ab") as out:  # appended to across restarts
                process = subprocess.Popen(
                    command, env=self.env, cwd=self.places.data, stdout=out, stderr=subprocess.STDOUT
                )
            self.stack.callback(stop, process)
            self.servers.append(process)
        for port, process in zip(self.places.ports, self.servers, strict=True):
            wait_until(partial(_up, port, process), seconds=START_SECONDS, what=f"gunicorn on {port}")

    def stop_servers(self) -> None:
        for process in self.servers:
            stop(process)
        self.servers.clear()

    def start_nginx(self) -> tuple[Client, int]:
        """nginx with the shipped site, checked by ``nginx -t``, then in the foreground: a client
        of its HTTPS port, and its HTTP port."""
        http_port, https_port = free_port(), free_port()
        main = _nginx_configuration(self.places, self.folder, http_port, https_port)
        nginx = [str(_nginx()), "-p", str(self.folder), "-c", str(main), "-e", str(self.folder / "error.log")]
        checked = subprocess.run([*nginx, "-t"], capture_output=True, text=True, timeout=60)
        assert checked.returncode == 0, checked.stderr
        proxy = self.stack.enter_context(
            running([*nginx, "-g", "daemon off;"], log=self.folder / "nginx.log")
        )
        browser = Client(f"https://127.0.0.1:{https_port}", self.folder / "fullchain.pem")
        wait_until(partial(_proxy_up, browser, proxy), seconds=START_SECONDS, what="nginx")
        return browser, http_port

    def served(self, path: str) -> dict[int, list[dict]]:
        """The access lines of ``path`` in each app server's log."""
        return {
            port: [line for line in _logged(self.log(port)) if line["path"] == path]
            for port in self.places.ports
        }


def _set_up(site: Site) -> dict[str, str]:
    """Section 3's commands, each line as written: the coordinator's log-in."""
    setup = _sh_lines("3. PostgreSQL", "adduser")
    assert [line.split("#")[0].split()[:3] for line in setup] == [
        ["cityeval", "manage", "migrate"], ["cityeval", "manage", "collectstatic"],
        ["cityeval", "manage", "check"], ["cityeval", "manage", "adduser"],
    ]  # fmt: skip
    outputs = [site.sh(line) for line in setup]
    password = re.search(r"with password (\S+) ", outputs[-1])
    assert password, outputs[-1]
    return {"username": shlex.split(setup[-1])[3], "password": password.group(1)}


def _check_https(site: Site, browser: Client, http_port: int) -> None:
    """TLS, the app seeing HTTPS through BEHIND_PROXY, static files from nginx, health checks."""
    # Plain HTTP is sent to HTTPS.
    status, _, headers = Client(f"http://127.0.0.1:{http_port}").request("/accounts/login/")
    assert status == 301 and headers["Location"] == f"https://{HOST}/accounts/login/"

    # Over HTTPS, the log-in page, seen by the app as secure: HSTS is sent on HTTPS only (the
    # same page asked of an app server directly, in plain HTTP, has none).
    status, body, headers = browser.request("/accounts/login/")
    assert status == 200 and b'name="password"' in body
    assert headers["Strict-Transport-Security"] == "max-age=31536000"
    direct = Client(f"http://127.0.0.1:{site.places.ports[0]}")
    status, _, headers = direct.request("/accounts/login/")
    assert status == 200 and "Strict-Transport-Security" not in headers

    # A static file, served by nginx from STATIC_ROOT (gzip-compressed when asked): no app server
    # logs it; asked of an app server directly, the same file is logged there.
    css = re.search(rb'href="(/static/[^"]+\.css)"', body)
    assert css, "no stylesheet on the log-in page"
    css_path = css.group(1).decode()
    status, content, headers = browser.request(css_path)
    assert status == 200 and headers["Content-Type"].startswith("text/css")
    assert "immutable" in headers["Cache-Control"] and headers["X-Content-Type-Options"] == "nosniff"
    assert content == (site.places.data / css_path.removeprefix("/")).read_bytes()
    status, _, headers = browser.request(css_path, headers={"Accept-Encoding": "gzip"})
    assert status == 200 and headers["Content-Encoding"] == "gzip"
    assert direct.request(css_path)[0] == 200
    assert sorted(len(lines) for lines in site.served(css_path).values()) == [0, 1]

    # The health checks, through nginx.
    status, body, _ = browser.request("/healthz")
    assert status == 200 and body.strip() == b"ok"
    status, body, _ = browser.request("/readyz")
    assert status == 200 and json.loads(body)["status"] == "ok"

    # A survey link's secret, over HTTP and HTTPS, is in no line of nginx's logs for the site,
    # which has a line for each request.
    secret = "s3cret-survey-link-token-for-the-log-check"
    browser.request(f"/s/{secret}/")
    Client(f"http://127.0.0.1:{http_port}").request(f"/s/{secret}/")
    access = (site.folder / "cityeval.log").read_text()
    assert access.count("\n") >= 8 and '"GET" 200' in access and '"GET" 301' in access
    for log in site.folder.glob("*.log"):
        assert secret not in log.read_text(errors="replace"), log.name


def _log_in(browser: Client, credentials: dict[str, str]) -> None:
    """On HTTPS Django requires a Referer from the site (a POST without one is refused: the app
    knows the request is secure); the session cookie is Secure."""
    assert Client(browser.base, browser.cert).post("/accounts/login/", credentials)[0] == 403
    referer = {"Referer": f"https://{HOST}/accounts/login/"}
    status, _, headers = browser.post("/accounts/login/", credentials, referer)
    assert status == 302 and "/accounts/login/" not in headers["Location"], status
    (session,) = [cookie for cookie in browser.jar if cookie.name == "sessionid"]
    assert session.secure


def _upgrade(site: Site) -> None:
    """Section 8: the backup before it, migrate, the readiness probe (see NOT_RUN)."""
    for line in _sh_lines("8. Upgrades", "migrate"):
        if line not in NOT_RUN:
            assert line.startswith(("cityeval ", "curl ")), f"the test does not know how to run {line!r}"
            site.sh(line)
    (before,) = site.places.backups.iterdir()
    assert re.fullmatch(r"before-upgrade-\d{8}T\d{6}Z", before.name), before
    assert (before / "manifest.json").exists()


def _backup_by_unit(site: Site) -> Path:
    """The backup unit's ExecStart and ExecStartPost, as systemd runs them, with a backup older
    than 14 days to remove: the new backup."""
    aged = site.places.backups / "20000101T023000Z"
    foreign = site.places.backups / "copied-by-hand"  # as old, but not the unit's: it stays
    old = time.time() - 20 * 86400
    for folder in (aged, foreign):
        folder.mkdir()
        os.utime(folder, (old, old))
    kept = set(site.places.backups.iterdir()) - {aged}
    unit = _unit("cityeval-backup.service")
    for key in ("Service.ExecStart", "Service.ExecStartPost"):
        (line,) = unit[key]
        site.run([site.places.local(part) for part in _command(line)], key)
    (backup,) = set(site.places.backups.iterdir()) - kept  # the aged one is gone
    assert foreign.is_dir()
    assert re.fullmatch(r"\d{8}T\d{6}Z", backup.name), backup
    assert json.loads((backup / "manifest.json").read_text())["database"]["vendor"] == "postgresql"
    return backup


def _restore(site: Site, backup: Path, configured: str) -> None:
    """Section 10, into a new empty database, from ``backup``: the systemctl and sudo lines by
    their equivalents here, the others as written."""
    name = urlsplit(site.database_url).path.lstrip("/")
    for line in _sh_lines("10. Restore", "cityeval restore"):
        if line == STOP_SERVERS:
            site.stop_servers()
        elif line.startswith(DROP):
            drop_database(configured, name)
        elif line == CREATE:
            _create_database(configured, name)
        elif line == START_SERVERS:
            site.start_servers()
        else:
            assert line.startswith(("cityeval ", "curl ")), f"the test does not know how to run {line!r}"
            site.sh(line.replace(EXAMPLE_BACKUP, str(backup)))


def test_the_guide_on_loopback_with_nginx_tls_upgrade_backup_and_restore():
    _skip_or_fail()
    configured = _postgres_url()
    assert configured
    with ExitStack() as stack:
        folder = stack.enter_context(_readable_folder())
        site = Site(stack, folder, stack.enter_context(_database()))
        credentials = _set_up(site)
        site.start_servers()
        browser, http_port = site.start_nginx()
        _check_https(site, browser, http_port)
        _log_in(browser, credentials)

        # The session continues on both app servers (nginx takes them in turn).
        page = "/accounts/two-factor/"
        for _ in range(4):
            status, body, _ = browser.request(page)
            assert status == 200 and credentials["username"].encode() in body
        for port, lines in site.served(page).items():
            assert lines and all(line["user_id"] for line in lines), (port, lines)

        _upgrade(site)
        backup = _backup_by_unit(site)
        _restore(site, backup, configured)
        # The session of before the backup is in the restored database: it continues.
        status, body, _ = browser.request(page)
        assert status == 200 and credentials["username"].encode() in body


def _up(port: int, process: subprocess.Popen) -> bool:
    """Whether the app server answers its readiness probe; a server that stopped fails at once."""
    assert process.poll() is None, f"{process.args} stopped (exit {process.returncode}); see its log"
    try:
        return Client(f"http://127.0.0.1:{port}").request("/readyz")[0] == 200
    except OSError:  # still booting
        return False


def _proxy_up(client: Client, process: subprocess.Popen) -> bool:
    assert process.poll() is None, f"nginx stopped (exit {process.returncode})"
    try:
        return client.request("/healthz")[0] == 200
    except OSError:
        return False
