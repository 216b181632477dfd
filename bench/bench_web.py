"""Benchmark: the main pages under load on a national-size cycle (target p95 < 150 ms).

Loads ``cityeval manage load_national`` (550 regions, ~495,000 survey responses; smaller with
BENCH_WEB_REGIONS / BENCH_WEB_RESPONSES) into a throwaway database and serves it as the
deployment guide does (deploy/cityeval-web@.service): BENCH_WEB_SERVERS=2 gunicorn app servers
on two loopback ports, each ``--workers 3`` (BENCH_WEB_WORKERS) synchronous worker processes
(BENCH_WEB_THREADS=1; more makes gthread workers), DEBUG off, database connections kept for 60 s
as in deploy/cityeval.env. Each page, one after the other, gets BENCH_WEB_CLIENTS=20 concurrent
clients for BENCH_WEB_SECONDS=8 seconds, each client alternating the servers as nginx's upstream
does. Clients are logged in by a session made for each role's user (coordinator, regional
admins, assessors) and spread over ten regions per page. Before the clock starts every URL is
requested once, cold, and that time is printed too (the first request of a process builds what
the next ones reuse); then the same load runs untimed for BENCH_WEB_WARMUP=3 seconds, so that
every worker process has served each page before it is measured. Prints p50 and p95 per page,
and whether each meets the target.

Database: SQLite in a temporary folder by default; PostgreSQL when CITYEVAL_BENCH_PG=1 (a
throwaway cluster, as ``bench_results`` starts it) or when CITYEVAL_BENCH_DATABASE_URL names a
server (a fresh database on it, dropped afterwards). BENCH_WEB_DATABASE_URL reuses a database
as it is (loaded once if the cycle is not there yet), to repeat runs without reloading.
Bounded: each request times out after 30 s; the server is stopped by its pid.
"""

from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from serving import free_port, fresh_database, server_environment

REGIONS = int(os.environ.get("BENCH_WEB_REGIONS", "550"))
RESPONSES = int(os.environ.get("BENCH_WEB_RESPONSES", str(REGIONS * 900)))
CLIENTS = int(os.environ.get("BENCH_WEB_CLIENTS", "20"))
SECONDS = float(os.environ.get("BENCH_WEB_SECONDS", "8"))
WARMUP = float(os.environ.get("BENCH_WEB_WARMUP", "3"))
SERVERS = int(os.environ.get("BENCH_WEB_SERVERS", "2"))
WORKERS = int(os.environ.get("BENCH_WEB_WORKERS", "3"))
THREADS = int(os.environ.get("BENCH_WEB_THREADS", "1"))
TARGET_MS = 150.0
SPREAD = 10  # regions (users, forms) each page's requests rotate over
BIN = Path(sys.executable).parent
CYCLE = "national-2024"

# Run in the server's environment: one session per user the pages need, and the URLs.
PREPARE = """
import json
from importlib import import_module
import django
django.setup()
from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY, get_user_model
from cityeval.web.panels.models import PanelRegion
from cityeval.web.surveys.models import SurveyForm
store = import_module(settings.SESSION_ENGINE).SessionStore
users = get_user_model().objects
def session(username):
    user = users.get(username=username)
    s = store()
    s[SESSION_KEY], s[BACKEND_SESSION_KEY] = str(user.pk), "cityeval.web.accounts.backends.AccountBackend"
    s[HASH_SESSION_KEY] = user.get_session_auth_hash()
    s.create()
    return s.session_key
cycle = "%(cycle)s"
spread = %(spread)d
coordinator = session("koordinator")
step = max(1, users.filter(username__startswith="admin.").count() // spread)
slugs = [u.removeprefix("admin.") for u in users.filter(username__startswith="admin.")
         .order_by("username").values_list("username", flat=True)[::step][:spread]]
admins = {slug: session("admin." + slug) for slug in slugs}
scoring = []
linked = PanelRegion.objects.filter(participation__cycle__slug=cycle).select_related("participation__region")
for pr in linked.order_by("participation__region__name")[::step][:spread]:
    member = pr.panel.members.order_by("user__username").first().user.username
    scoring.append((session(member), f"/panels/cycles/{cycle}/{pr.stage}/{pr.participation.region.slug}/"))
assessors = [session(u) for u in users.filter(username__startswith="asesor").order_by("username")[:spread]]
tokens = list(SurveyForm.objects.filter(plan__participation__region__slug__in=slugs).order_by("id")
              .values_list("token", flat=True)[::18][:spread])
pages = {
    "national results": [(coordinator, f"/results/{cycle}/")],
    "cycle page": [(coordinator, f"/cycles/{cycle}/")],
    "region results": [(coordinator, f"/r/{s}/{cycle}/results/") for s in slugs],
    "regional dashboard": [(admins[s], f"/r/{s}/") for s in slugs],
    "self-assessment overview": [(admins[s], f"/r/{s}/{cycle}/self-assessment/") for s in slugs],
    "assessor scoring page": scoring,
    "my panels": [(a, "/panels/") for a in assessors],
    "survey form": [(None, f"/s/{t}/") for t in tokens],
    "survey API (start)": [(None, f"/api/survey/{t}/start") for t in tokens],
    "/api/openapi.json": [(None, "/api/openapi.json")],
}
print(json.dumps(pages))
"""

LOADED = """
import django
django.setup()
from cityeval.web.evaluations.models import Cycle
print(int(Cycle.objects.filter(slug="%(cycle)s").exists()))
"""


def _get(port: int, session: str | None, path: str) -> tuple[int, float]:
    """One GET on a new connection: the status and the time to the last byte, in ms."""
    headers = {"Cookie": f"sessionid={session}"} if session else {}
    start = time.perf_counter()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        return response.status, (time.perf_counter() - start) * 1000
    except OSError:
        return 0, (time.perf_counter() - start) * 1000
    finally:
        connection.close()


def _load(ports: list[int], targets: list[list], seconds: float) -> tuple[list[float], int]:
    """CLIENTS threads request ``targets`` round-robin for ``seconds``, each alternating the
    servers on ``ports``; the times of the answers that were 200, and the number that were not."""
    times: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def client(offset: int) -> None:
        n = offset
        while time.monotonic() < stop:
            session, path = targets[n % len(targets)]
            # The server turns once per round of the URLs too, so that every URL reaches every
            # server (with one counter for both, URL i would always go to server i % 2).
            status, ms = _get(ports[(n + n // len(targets)) % len(ports)], session, path)
            with lock:
                if status == 200:
                    times.append(ms)
                else:
                    errors[0] += 1
            n += 1

    threads = [threading.Thread(target=client, args=(c,)) for c in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return times, errors[0]


def _p(times: list[float], q: float) -> float:
    if len(times) < 2:
        return times[0] if times else float("nan")
    return statistics.quantiles(times, n=100, method="inclusive")[int(q) - 1]


@contextmanager
def _database(folder: Path) -> Iterator[tuple[str, bool]]:
    """(URL, whether to load the cycle) of the database to run against."""
    reuse = os.environ.get("BENCH_WEB_DATABASE_URL")
    if reuse:
        yield reuse, False
        return
    server = os.environ.get("CITYEVAL_BENCH_DATABASE_URL")
    if not server and os.environ.get("CITYEVAL_BENCH_PG", "") not in ("", "0"):
        from bench_results import _throwaway_cluster

        with _throwaway_cluster() as url:
            yield url, True
        return
    if server:
        with fresh_database(server, "cityeval_bench_web") as url:
            yield url, True
        return
    yield f"sqlite:///{folder / 'national.sqlite3'}", True


def _prepare(env: dict[str, str], load: bool) -> dict | None:
    python, cityeval = str(BIN / "python"), str(BIN / "cityeval")
    subprocess.run([cityeval, "manage", "migrate", "-v", "0"], env=env, check=True, timeout=600)
    # DEBUG is off, as in production: pages name their static files through the manifest.
    subprocess.run(
        [cityeval, "manage", "collectstatic", "--noinput", "-v", "0"], env=env, check=True, timeout=600
    )
    loaded = subprocess.run(
        [python, "-c", LOADED % {"cycle": CYCLE}], env=env, capture_output=True, text=True
    )
    if load or loaded.stdout.strip() != "1":
        started = time.monotonic()
        command = [
            cityeval,
            "manage",
            "load_national",
            "--regions",
            str(REGIONS),
            "--responses",
            str(RESPONSES),
        ]
        subprocess.run(command, env=env, check=True, timeout=3600)
        print(f"  national fixture loaded in {time.monotonic() - started:.0f} s")
    prepared = subprocess.run(
        [python, "-c", PREPARE % {"cycle": CYCLE, "spread": SPREAD}], env=env, capture_output=True, text=True
    )
    if prepared.returncode != 0:
        print(f"  could not make the sessions: {prepared.stderr.strip()[-800:]}")
        return None
    return json.loads(prepared.stdout.strip().splitlines()[-1])


def run() -> dict[str, float]:
    folder = Path(tempfile.mkdtemp(prefix="cityeval-bench-web."))
    try:
        with _database(folder) as (url, load):
            return _run(folder, url, load)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, url: str, load: bool) -> dict[str, float]:
    # Connections kept for a minute, as deploy/cityeval.env sets them (and bench_production).
    env = server_environment(folder, url, DB_CONN_MAX_AGE="60")
    engine = "PostgreSQL" if url.startswith("postgres") else "SQLite"
    print(f"  {engine}; {REGIONS} regions, {RESPONSES:,} responses")
    kind = "synchronous" if THREADS == 1 else f"gthread × {THREADS} threads"
    print(f"  {SERVERS} app servers × gunicorn --workers {WORKERS} ({kind}) on 127.0.0.1")
    pages = _prepare(env, load)
    if pages is None:
        return {}
    ports: list[int] = []
    while len(ports) < SERVERS:
        ports += [port for port in [free_port()] if port not in ports]
    servers: list[subprocess.Popen] = []
    logs = [folder / f"server-{port}.log" for port in ports]
    try:
        for port, log in zip(ports, logs, strict=True):
            command = [
                str(BIN / "gunicorn"), "cityeval.web.wsgi", "--bind", f"127.0.0.1:{port}", "--workers",
                str(WORKERS), "--threads", str(THREADS), "--timeout", "120", "--log-level", "warning",
            ]  # fmt: skip
            with log.open("w") as out:  # a file, not a pipe: a full pipe would stall the server
                servers.append(subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=out))
        deadline = time.monotonic() + 120
        for port, server in zip(ports, servers, strict=True):
            while _get(port, None, "/healthz")[0] != 200:
                if time.monotonic() > deadline or server.poll() is not None:
                    print("  a server did not start")
                    return {}
                time.sleep(0.5)
        return _measure(ports, pages)
    finally:
        for log in logs:
            lines = log.read_text(errors="replace").splitlines() if log.exists() else []
            if lines:
                print(f"  {log.name} ({len(lines)} lines), last ones:", *lines[-5:], sep="\n    ")
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()


def _measure(ports: list[int], pages: dict[str, list[list]]) -> dict[str, float]:
    print(f"  {CLIENTS} concurrent clients, {SECONDS:g} s per page; target p95 < {TARGET_MS:g} ms")
    print(f"  {'page':<26}{'cold 1st':>10}{'requests':>10}{'errors':>8}{'p50 ms':>9}{'p95 ms':>9}  target")
    out: dict[str, float] = {}
    for name, targets in pages.items():
        # Every URL once, cold: the first request of a process builds what the next ones reuse
        # (the OpenAPI document, cached survey reports, the results pages' kept parts).
        cold = max(_get(ports[0], session, path)[1] for session, path in targets)
        # Then the same load, untimed, for WARMUP seconds: the servers' processes take requests
        # as the kernel hands them out, so only load reaches each of them before the clock.
        _load(ports, targets, WARMUP)
        times, errors = _load(ports, targets, SECONDS)
        p50, p95 = _p(times, 50), _p(times, 95)
        met = "met" if errors == 0 and p95 < TARGET_MS else "NOT met"
        print(f"  {name:<26}{cold:>10.0f}{len(times):>10}{errors:>8}{p50:>9.0f}{p95:>9.0f}  {met}")
        out[name] = p95
    return out


if __name__ == "__main__":
    run()
