"""Benchmark: a flood on one public survey form does not lock honest respondents out.

Replays the attack from issue 8: ``POSTS`` API submissions (default 2,640 — 24 per address, enough
for each to pass its limit; the issue's 4,000 with BENCH_FLOOD_POSTS=4000) from ``ADDRESSES``
loopback source addresses (default 110, each in its own /24) against one demo form, served by
gunicorn with two worker processes on 127.0.0.1 (a throwaway SQLite database under a temporary
folder), then five honest respondents from new addresses. It prints the status counts, what
was stored and flagged, and the time taken.

Expected with the default limits (per hour: 20 per address, burst above 40 per network, an
alert above 150 per form):
every address gets exactly 20 responses accepted — 2,200, the same as with one process, so the
two workers share their counts — and 429 for the rest; no 5xx; the honest respondents get 201
and are not marked burst (each address is in its own network, under the per-network rate; the
form-wide count is an alert on the survey pages, not a mark on anyone's response). Bounded:
each request times out after 10 s and the flood stops after ``DEADLINE`` seconds (default
420); the server is stopped by its pid.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from serving import free_port, request_json, server_environment

POSTS = int(os.environ.get("BENCH_FLOOD_POSTS", "2640"))
ADDRESSES = int(os.environ.get("BENCH_FLOOD_ADDRESSES", "110"))
DEADLINE = float(os.environ.get("BENCH_FLOOD_DEADLINE", "420"))
THREADS = 4
HONEST = 5
BIN = Path(sys.executable).parent

PREPARE = """
import django
django.setup()
from django.core.management import call_command
call_command("migrate", verbosity=0, interactive=False)
from cityeval.web.demo import load_demo
load_demo()
import json
from cityeval.web.evaluations.models import Participation
from cityeval.web.surveys.demo import load_survey_demo
participation = Participation.objects.filter(cycle__slug="gmsc-2025").order_by("id").first()
load_survey_demo(participation=participation)  # the 2025 cycle is open
form = participation.survey_plan.forms.order_by("id").first()
print(json.dumps({"token": form.token, "statements": form.statements}))
"""

REPORT = """
import django
django.setup()
from cityeval.web.surveys.models import RateCounter, Response
new = Response.objects.filter(source="web", ip_hash__gt="")
print(new.count(), new.filter(burst=True).count(), RateCounter.objects.count())
"""


def _request(
    port: int, source: str, method: str, path: str, body: dict | None = None, *, quiet: bool = False
) -> tuple[int, dict]:
    try:
        return request_json(port, source, method, path, body)
    except OSError as error:
        if not quiet:
            print(f"  {method} {path} from {source}: {error}")
        return 0, {}


def _respond(port: int, form: dict, source: str) -> int:
    token = form["token"]
    status, start = _request(port, source, "GET", f"/api/survey/{token}/start")
    if status != 200:
        return status
    body = {
        "response_id": start["response_id"],  # the start token is signed for this id
        "started": start["started"],
        "used_service": True,
        "answers": {code: 3 for code in form["statements"]},
    }
    return _request(port, source, "POST", f"/api/survey/{token}/responses", body)[0]


def _ready(port: int, token: str, deadline: float) -> bool:
    """Wait until both workers answer (a start token costs no count), before the clock starts."""
    answered = 0
    while time.monotonic() < deadline and answered < 4:
        status, _body = _request(port, "127.250.0.1", "GET", f"/api/survey/{token}/start", quiet=True)
        answered += status == 200
        if status != 200:
            time.sleep(0.5)
    return answered >= 4


def run() -> None:
    folder = Path(tempfile.mkdtemp(prefix="cityeval-flood-"))
    env = server_environment(folder, f"sqlite:///{folder / 'flood.sqlite3'}")
    started = time.monotonic()
    python = str(BIN / "python")
    prepared = subprocess.run([python, "-c", PREPARE], env=env, capture_output=True, text=True, timeout=300)
    if prepared.returncode != 0:
        print(f"  could not prepare the demo database: {prepared.stderr.strip()[-500:]}")
        shutil.rmtree(folder, ignore_errors=True)
        return
    form = json.loads(prepared.stdout.strip().splitlines()[-1])
    print(f"  demo database ready in {time.monotonic() - started:.1f} s")
    port = free_port()
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "cityeval.web.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "2", "--timeout", "30", "--log-level", "warning"],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        deadline = time.monotonic() + DEADLINE
        if not _ready(port, form["token"], time.monotonic() + 120):
            print("  the server did not start")
            return
        _flood(port, form, deadline)
    finally:
        server.send_signal(signal.SIGTERM)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
    report = subprocess.run([python, "-c", REPORT], env=env, capture_output=True, text=True, timeout=120)
    shutil.rmtree(folder, ignore_errors=True)
    stored, burst, counters = [*report.stdout.split(), "?", "?", "?"][:3]
    print(f"  stored by the flood and the honest posts: {stored} ({burst} marked burst); counters {counters}")


def _flood(port: int, form: dict, deadline: float) -> None:
    sources = [f"127.0.{n % 250}.{1 + n // 250}" for n in range(ADDRESSES)]
    attack: Counter[int] = Counter()
    began = time.monotonic()

    def one(n: int) -> int:
        if time.monotonic() > deadline:
            return -1  # not sent: the run's time is up
        return _respond(port, form, sources[n % len(sources)])

    with ThreadPoolExecutor(THREADS) as pool:
        for status in pool.map(one, range(POSTS)):
            attack[status] += 1
    took = time.monotonic() - began
    sent = POSTS - attack[-1]
    print(
        f"  flood: {sent} posts from {len(sources)} addresses in {took:.1f} s "
        f"({sent / took:.0f}/s): " + ", ".join(f"{k}: {v}" for k, v in sorted(attack.items()))
    )
    honest = [_respond(port, form, f"127.201.{n}.7") for n in range(HONEST)]
    print(f"  honest respondents from new addresses after the flood: {honest}")
    if any(status >= 500 or status == 0 for status in attack):
        print("  FAILED: server errors or refused connections during the flood")
    if honest != [201] * HONEST:
        print("  FAILED: an honest respondent was refused")
