"""Benchmark: production topology — survey API at 100 submissions/s on 2 app servers; 550-region letter job.

Issue 13's production figures, on the deployment guide's topology on loopback: a throwaway
PostgreSQL cluster (as ``bench_results`` starts it, or a new database on
CITYEVAL_BENCH_DATABASE_URL; skipped, saying so, without PostgreSQL's binaries), two gunicorn
app servers on two ports (the guide's unit: ``--workers 3``, BENCH_PROD_WORKERS) and one
``cityeval worker``, all with one environment (DEBUG=0, DB_CONN_MAX_AGE=60 as in
deploy/cityeval.env). The data is ``cityeval manage load_national``: 550 regions
(BENCH_PROD_REGIONS) with results computed and the cycle open, its survey links open, and
BENCH_PROD_RESPONSES=55,000 stored survey responses (a ninth of the fixture's default, to keep
the load near two minutes). BENCH_PROD_DATABASE_URL reuses a database loaded by an earlier run.

1. Survey API. An open-loop generator (BENCH_PROD_GENERATORS=2 processes, BENCH_PROD_CLIENTS
   threads in all, by default rate × 20 s: every submission can wait out both of its requests'
   10 s timeouts without holding up a later one) starts one
   complete submission — ``GET /api/survey/{token}/start``, then ``POST
   /api/survey/{token}/responses`` with every statement answered — every 1/rate seconds
   (BENCH_PROD_RATE=100 per second) for BENCH_PROD_SECONDS=20 s, whether or not the earlier ones
   are answered, alternating the two servers, over BENCH_PROD_FORMS=20 forms of different
   regions. Each submission is a new respondent from its own loopback source address, each in
   its own /24, so the abuse limits (20 per address and hour, burst above 40 per network) are
   neither hit nor changed: they are not what is measured. A submission that starts more than
   20 ms after its slot started late (the generator's own lag). Printed: the achieved rate
   (accepted submissions from the first slot to the last answer), latency p50/p95/max per
   request kind, errors (non-2xx or exceptions), the CPU the servers, PostgreSQL and the
   generator used (from /proc: what 100/s would need), and the database check: the stored
   responses with the submissions' ids equal the accepted (201) ones, each id once.
2. The whole-cycle letter (the coordinator's, with every region's feedback): queued as its page
   queues it (``results.jobs.cycle_letter_enqueue``, as the page does), run by the
   worker; the time from queue to done is the Job row's (``created_at`` to ``finished_at``),
   polled until done or BENCH_PROD_LETTER_DEADLINE=300 s. Prints the PDF's size and its page
   count (read from the PDF's page tree: pypdf is not a dependency). BENCH_PROD_LETTER=0 skips
   it (comparing the survey API alone: the letter's job is queued in the database, so one cut
   short would be taken up by the next run's worker during its load).

The cluster runs with fsync and synchronous_commit off, as every bench cluster does: commits
cost less than on a production disk. Bounded: every process binds 127.0.0.1 and is stopped by
its pid; each request times out after 10 s; the generator sends for BENCH_PROD_SECONDS and
waits at most BENCH_PROD_DRAIN=30 s more.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import resource
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import zlib
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from multiprocessing import get_context
from pathlib import Path

from serving import free_port, fresh_database, request_json, server_environment

RATE = float(os.environ.get("BENCH_PROD_RATE", "100"))
SECONDS = float(os.environ.get("BENCH_PROD_SECONDS", "20"))
REGIONS = int(os.environ.get("BENCH_PROD_REGIONS", "550"))
RESPONSES = int(os.environ.get("BENCH_PROD_RESPONSES", "55000"))
WORKERS = int(os.environ.get("BENCH_PROD_WORKERS", "3"))
GENERATORS = int(os.environ.get("BENCH_PROD_GENERATORS", "2"))
TIMEOUT = 10.0  # seconds, each request
# Threads enough for every submission started in 2 × TIMEOUT to be in flight at once.
CLIENTS = int(os.environ.get("BENCH_PROD_CLIENTS", str(round(RATE * 2 * TIMEOUT))))
FORMS = int(os.environ.get("BENCH_PROD_FORMS", "20"))
DRAIN = float(os.environ.get("BENCH_PROD_DRAIN", "30"))
LETTER_DEADLINE = float(os.environ.get("BENCH_PROD_LETTER_DEADLINE", "300"))
RUN_LETTER = os.environ.get("BENCH_PROD_LETTER", "1") != "0"
LATE_MS = 20.0  # a submission starting later than this after its slot was started late
CYCLE = "national-2024"
BIN = Path(sys.executable).parent
# Source addresses 127.A.B.2 with A from 10: one /24 per submission.
MAX_SUBMISSIONS = (256 - 10) * 256

# In the servers' environment: open forms of different regions, their statements.
PREPARE = """
import json
import django
django.setup()
from cityeval.web.surveys.models import SurveyForm
from cityeval.web.surveys.services import form_accepts_responses
forms = SurveyForm.objects.filter(plan__participation__cycle__slug="%(cycle)s").select_related(
    "plan__participation__cycle").order_by("plan__participation__region__slug", "code")
chosen, regions = [], set()
for form in forms.iterator():
    region = form.plan.participation.region_id
    if region in regions or not form_accepts_responses(form):
        continue
    regions.add(region)
    chosen.append({"token": form.token, "statements": list(form.statements)})
    if len(chosen) == %(forms)d:
        break
print(json.dumps(chosen))
"""

# Reads the submissions' ids on stdin: what is stored for them.
VERIFY = """
import json, sys
import django
django.setup()
from django.db.models import Count
from cityeval.web.surveys.models import Response
sent = json.load(sys.stdin)
ids, accepted = set(sent["ids"]), set(sent["accepted"])
stored = Response.objects.filter(response_id__in=ids)
per_id = dict(stored.order_by().values_list("response_id").annotate(n=Count("id")))
print(json.dumps({
    "stored": sum(per_id.values()),
    "distinct": len(per_id),
    "duplicates": sum(1 for n in per_id.values() if n > 1),
    "stored_not_accepted": len(set(per_id) - accepted),
    "accepted_not_stored": len(accepted - set(per_id)),
    "burst": stored.filter(burst=True).count(),
}))
"""

# Queues the coordinator's whole-cycle letter through the page's own service, then
# polls the Job row until the worker has finished it.
LETTER = """
import json, time
import django
django.setup()
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.files.storage import default_storage
from cityeval.web.evaluations.models import Cycle
from cityeval.web.jobs.models import Job
from cityeval.web.results.jobs import cycle_letter_enqueue
from cityeval.web.results.selectors import results_access
user = get_user_model().objects.get(username="koordinator")
access = results_access(user, "%(cycle)s")
run = access.require_run()
Job.objects.filter(kind=Job.Kind.CYCLE_LETTER).delete()  # a reused database's earlier letter: made again
job = cycle_letter_enqueue(user=user, access=access, language=settings.LANGUAGE_CODE)
deadline = time.monotonic() + %(deadline)f
while True:
    job.refresh_from_db()
    if job.status in (Job.Status.DONE, Job.Status.FAILED) or time.monotonic() > deadline:
        break
    time.sleep(0.5)
out = {"status": job.status, "error": job.error[-500:], "steps": job.total, "regions": run.regions.count(),
       "seconds": (job.finished_at - job.created_at).total_seconds() if job.finished_at else None}
if job.status == Job.Status.DONE:
    with default_storage.open(job.file_name) as file, open("%(copy)s", "wb") as copy:
        copy.write(file.read())
print(json.dumps(out))
"""


# --- processes ----------------------------------------------------------------------------------


def _pg_available() -> bool:
    return any(Path("/usr/lib/postgresql").glob("*/bin/initdb"))


@contextmanager
def _process(command: list[str], env: dict[str, str], log: Path) -> Iterator[subprocess.Popen]:
    """A process of ours, its output in ``log`` (a file: a full pipe would stall it), stopped by
    its pid (SIGTERM, then SIGKILL after 20 s) whatever happens."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=20)


def _script(env: dict[str, str], code: str, *, stdin: str | None = None, timeout: float = 600) -> dict | list:
    """Run ``code`` in the servers' environment; the JSON on its last line."""
    done = subprocess.run(
        [str(BIN / "python"), "-c", code],
        env=env,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(done.stderr.strip()[-1500:])
    return json.loads(done.stdout.strip().splitlines()[-1])


def _request(
    port: int, source: str, method: str, path: str, body: dict | None = None, *, timeout: float = TIMEOUT
) -> tuple[int, dict, float, str]:
    """(status, JSON body, ms, error) of one request on a new connection from ``source``;
    status 0 and the error's text when it raised."""
    began = time.perf_counter()
    try:
        status, parsed = request_json(port, source, method, path, body, timeout=timeout)
    except (OSError, ValueError, http.client.HTTPException) as error:
        return 0, {}, (time.perf_counter() - began) * 1000, type(error).__name__
    return status, parsed, (time.perf_counter() - began) * 1000, ""


def _source(number: int) -> str:
    return f"127.{10 + number // 256}.{number % 256}.2"


# --- CPU used by the servers (Linux /proc) ---------------------------------------------------------


def _proc_stat(pid: int) -> list[str] | None:
    """The fields of /proc/PID/stat after the command's name (state first), or None."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def _tree(roots: list[int]) -> set[int]:
    """``roots`` and every process descended from them now."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (fields := _proc_stat(int(entry.name))):
            parents[int(entry.name)] = int(fields[1])
    found = set(roots)
    while new := {pid for pid, parent in parents.items() if parent in found and pid not in found}:
        found |= new
    return found


def _cpu(pids: set[int]) -> dict[int, float]:
    """CPU seconds (user + system) each process has used so far."""
    tick = os.sysconf("SC_CLK_TCK")
    used = {}
    for pid in pids:
        if fields := _proc_stat(pid):
            used[pid] = (int(fields[11]) + int(fields[12])) / tick
    return used


def _postmaster(url: str) -> list[int]:
    """The pid of the PostgreSQL server listening on ``url``'s port on this machine, if found."""
    port = url.rsplit(":", 1)[-1].split("/", 1)[0]
    for entry in Path("/proc").iterdir():
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0") if entry.name.isdigit() else []
        except OSError:
            continue
        if argv and argv[0].endswith(b"postgres") and b"-p" in argv and port.encode() in argv:
            return [int(entry.name)]
    return []


class _CpuMeter:
    """CPU used by the app servers' and PostgreSQL's processes between start() and stop(), and
    by the generator's processes (children of this one, ended by stop())."""

    def __init__(self, servers: list[int], database: list[int], logs: list[Path]) -> None:
        self.roots = {"app servers": servers, "PostgreSQL": database}
        self.logs = logs

    def handled(self) -> Counter[str]:
        """The survey API requests the servers have answered so far (their JSON request log)."""
        kinds: Counter[str] = Counter()
        for log in self.logs:
            for line in log.read_text(errors="replace").splitlines():
                if '"path": "/api/survey/***/start"' in line:
                    kinds["start"] += 1
                elif '"path": "/api/survey/***/responses"' in line:
                    kinds["submit"] += 1
        return kinds

    def start(self) -> None:
        self.before = {name: _cpu(_tree(roots)) for name, roots in self.roots.items()}
        self.generator = _children_cpu()
        self.answered = self.handled()
        self.began = time.monotonic()

    def stop(self) -> dict[str, float]:
        self.wall = time.monotonic() - self.began
        out = {}
        for name, roots in self.roots.items():
            after = _cpu(_tree(roots))
            out[name] = sum(used - self.before[name].get(pid, 0.0) for pid, used in after.items())
        # The generator's processes have ended (and been waited for) by now.
        out["load generator"] = _children_cpu() - self.generator
        self.answered = self.handled() - self.answered
        return out


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


# --- the generator --------------------------------------------------------------------------------


def _submission(number: int, slot: float, port: int, form: dict, source: str = "") -> dict:
    """One respondent's whole API flow, from its own address: start, then submit; an
    unexpected exception is recorded as the submission's error."""
    began = time.monotonic()
    record = {"n": number, "port": port, "lag_ms": (began - slot) * 1000, "response_id": None}
    record.update(start_status=0, start_ms=0.0, error="", end=began)
    try:
        return _flow(record, began, port, form, source or _source(number))
    except Exception as error:  # counted as an error, not a crash of the bench
        record.update(error=f"{type(error).__name__}: {error}", end=time.monotonic())
        return record


def _flow(record: dict, began: float, port: int, form: dict, source: str) -> dict:
    number, token = record["n"], form["token"]
    status, start, ms, error = _request(port, source, "GET", f"/api/survey/{token}/start")
    record.update(start_status=status, start_ms=ms, error=error, end=time.monotonic())
    if status != 200 or "response_id" not in start:
        return record
    body = {
        "response_id": start["response_id"],
        "started": start["started"],
        "used_service": True,
        "answers": {code: (number + i) % 5 for i, code in enumerate(form["statements"])},
    }
    record["response_id"] = start["response_id"]
    status, _, ms, error = _request(port, source, "POST", f"/api/survey/{token}/responses", body)
    record.update(submit_status=status, submit_ms=ms, error=error, end=time.monotonic())
    record["total_ms"] = (record["end"] - began) * 1000
    return record


def _shard(
    shard: int, t0: float, ports: list[int], forms: list[dict], total: int, threads: int
) -> list[dict]:
    """One generator process: submissions shard, shard + GENERATORS, … each started at its slot
    ``t0 + n / RATE`` by a pool of ``threads`` threads (open loop: never waiting for answers)."""
    futures = []
    with ThreadPoolExecutor(threads) as pool:
        for number in range(shard, total, GENERATORS):
            slot = t0 + number / RATE
            delay = slot - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            port = ports[number % len(ports)]  # alternating the servers
            futures.append(pool.submit(_submission, number, slot, port, forms[number % len(forms)]))
        return [future.result(timeout=DRAIN + 2 * TIMEOUT) for future in futures]


def _warm(ports: list[int], forms: list[dict]) -> None:
    """A few whole submissions on each server before the clock (each gunicorn process imports
    and connects on its first request); from addresses the measured ones never use."""
    with ThreadPoolExecutor(4 * WORKERS) as pool:
        for round_ in range(2):
            list(
                pool.map(
                    lambda n: _submission(
                        n, time.monotonic(), ports[n % 2], forms[n % len(forms)], f"127.9.{n}.2"
                    ),
                    range(round_ * 100, round_ * 100 + 4 * WORKERS),
                )
            )


def _p(values: list[float], q: int) -> float:
    if len(values) < 2:
        return values[0] if values else float("nan")
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1]


def _survey_load(env: dict[str, str], ports: list[int], forms: list[dict], meter: _CpuMeter) -> bool:
    total = min(round(RATE * SECONDS), MAX_SUBMISSIONS)
    threads = max(1, CLIENTS // GENERATORS)
    print(f"  generator: {GENERATORS} processes × {threads} threads, open loop; {total} submissions "
          f"at {RATE:g}/s for {SECONDS:g} s over {len(forms)} forms, alternating 2 servers")  # fmt: skip
    print("  abuse limits unchanged: each submission from its own address in its own /24 (none hit)")
    _warm(ports, forms)
    t0 = time.monotonic() + 1.0
    meter.start()
    with ProcessPoolExecutor(GENERATORS, mp_context=get_context("fork")) as pool:
        shards = [pool.submit(_shard, k, t0, ports, forms, total, threads) for k in range(GENERATORS)]
        records = [record for shard in shards for record in shard.result(timeout=SECONDS + DRAIN + 60)]
    cpu = meter.stop()
    # A request the generator gave up on may still wait in a server's queue: one more request to
    # each server is answered only once those before it were taken, so the check sees them.
    for port in ports:
        _request(port, "127.0.0.1", "GET", "/readyz", timeout=DRAIN)
    records.sort(key=lambda r: r["n"])
    span = max(r["end"] for r in records) - t0
    accepted = [r for r in records if r.get("submit_status") == 201]
    failed = [r for r in records if r.get("submit_status") != 201]
    kinds: Counter[str] = Counter()
    for r in failed:
        if r["start_status"] != 200:
            kinds[f"start {r['start_status'] or r['error']}"] += 1
        else:
            kinds[f"submit {r.get('submit_status') or r['error']}"] += 1
    lags = [r["lag_ms"] for r in records]
    late = sum(lag > LATE_MS for lag in lags)
    achieved = len(accepted) / span
    print(f"  target rate {RATE:g}/s; achieved {achieved:.1f} accepted/s "
          f"({len(accepted)} accepted in {span:.1f} s, from the first slot to the last answer)")  # fmt: skip
    print(f"  generator lag: p50 {_p(lags, 50):.1f} ms, p95 {_p(lags, 95):.1f} ms, max {max(lags):.0f} ms; "
          f"{late} of {len(records)} submissions started more than {LATE_MS:g} ms late")  # fmt: skip
    print(f"  {'latency (ms)':<26}{'n':>7}{'p50':>8}{'p95':>8}{'max':>8}")
    rows = {
        "start (GET …/start)": [r["start_ms"] for r in records if r["start_status"] == 200],
        "submit (POST …/responses)": [r["submit_ms"] for r in accepted],
        "whole submission": [r["total_ms"] for r in accepted],
    }
    for port in ports:
        rows[f"  submit on server :{port}"] = [r["submit_ms"] for r in accepted if r["port"] == port]
    for name, values in rows.items():
        if values:
            print(
                f"  {name:<26}{len(values):>7}{_p(values, 50):>8.0f}{_p(values, 95):>8.0f}{max(values):>8.0f}"
            )
    errors = len(failed)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"  CPU used in the load's {meter.wall:.1f} s (load average now {load}; {os.cpu_count()} cores):")
    # Per submission handled (a start and a submit), counting the requests the servers answered,
    # also those whose client had given up waiting: the servers did that work too.
    answered = meter.answered
    pairs = (answered["start"] + answered["submit"]) / 2
    print(f"    (the servers answered {answered['start']} starts and {answered['submit']} submits "
          f"in that time, some after their client gave up)")  # fmt: skip
    for name, seconds in cpu.items():
        per = seconds * 1000 / pairs if pairs else float("nan")
        print(f"    {name:<14} {seconds:6.1f} s = {seconds / meter.wall:.2f} cores; "
              f"{per:.1f} ms per submission, {per * RATE / 1000:.1f} cores at {RATE:g}/s")  # fmt: skip
    print(f"  errors (non-2xx or exceptions): {errors}" + (f" — {dict(kinds)}" if kinds else ""))
    sent = {
        "ids": [r["response_id"] for r in records if r["response_id"]],
        "accepted": [r["response_id"] for r in accepted],
    }
    check = _script(env, VERIFY, stdin=json.dumps(sent), timeout=120)
    assert isinstance(check, dict)
    print(f"  stored {check['stored']} vs accepted {len(accepted)}: {check['distinct']} distinct ids, "
          f"{check['duplicates']} duplicated, {check['stored_not_accepted']} stored but not accepted, "
          f"{check['accepted_not_stored']} accepted but not stored; "
          f"{check['burst']} marked burst")  # fmt: skip
    if check["stored_not_accepted"]:
        print("    (stored but not accepted: the client gave up waiting after the server had stored the "
              "response; a retry with the same response_id would get 200, created: false)")  # fmt: skip
    # Every accepted submission stored, exactly once.
    stored_ok = not check["accepted_not_stored"] and not check["duplicates"]
    met = errors == 0 and stored_ok and achieved >= 0.95 * RATE and len(records) == total
    print(f"  target {RATE:g}/s with 0 errors: {'met' if met else 'NOT met'}"
          + ("" if stored_ok else " (an accepted submission not stored exactly once)"))  # fmt: skip
    return met


def _pdf_pages(pdf: bytes) -> int | None:
    """The page count in a PDF's page tree (its root's /Count), looked for in the file and in
    its compressed streams (WeasyPrint puts objects in object streams); None if not found."""
    parts = [pdf]
    for stream in re.findall(rb"stream\r?\n(.*?)endstream", pdf, re.DOTALL):
        try:
            parts.append(zlib.decompress(stream))
        except zlib.error:
            continue
    counts = [
        int(n)
        for part in parts
        for pattern in (rb"/Type\s*/Pages\b[^>]*?/Count\s+(\d+)", rb"/Count\s+(\d+)[^>]*?/Type\s*/Pages\b")
        for n in re.findall(pattern, part)
    ]
    return max(counts) if counts else None


def _letter(env: dict[str, str], worker: subprocess.Popen, folder: Path) -> None:
    print(f"  whole-cycle letter with feedback: queued by job_enqueue, run by the worker (pid {worker.pid})")
    copy = folder / "letter.pdf"
    code = LETTER % {"cycle": CYCLE, "deadline": LETTER_DEADLINE, "copy": copy}
    out = _script(env, code, timeout=LETTER_DEADLINE + 120)
    assert isinstance(out, dict)
    if out["status"] == "failed":
        print(f"  letter job FAILED: {out['error']}")
        return
    if out["status"] != "done":
        print(f"  letter job not done within {LETTER_DEADLINE:g} s (still {out['status']}): NOT measured")
        return
    pdf = copy.read_bytes()
    pages = _pdf_pages(pdf)
    print(f"  {out['regions']} regions: queue → done {out['seconds']:.1f} s; "
          f"PDF {len(pdf) / 1024:,.0f} KiB, {pages if pages is not None else '?'} pages")  # fmt: skip


@contextmanager
def _database() -> Iterator[str]:
    """A new database: on CITYEVAL_BENCH_DATABASE_URL's server (dropped afterwards), else in a
    throwaway cluster (``bench_results``). Without Django in this process: the servers use it."""
    server = os.environ.get("CITYEVAL_BENCH_DATABASE_URL")
    if not server:
        from bench_results import _throwaway_cluster

        with _throwaway_cluster() as url:
            yield url
        return
    with fresh_database(server, "cityeval_bench_prod") as url:
        yield url


# --- the run ----------------------------------------------------------------------------------------


def run() -> None:
    if not os.environ.get("CITYEVAL_BENCH_DATABASE_URL") and not _pg_available():
        print(
            "  skipped: PostgreSQL's binaries (initdb, pg_ctl) are not installed (apt-get install postgresql)"
        )
        return
    folder = Path(tempfile.mkdtemp(prefix="cityeval-bench-prod."))
    try:
        reuse = os.environ.get("BENCH_PROD_DATABASE_URL")
        if reuse:
            _run(folder, reuse, load=False)
            return
        with _database() as url:
            _run(folder, url, load=True)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run(folder: Path, url: str, *, load: bool) -> None:
    env = server_environment(
        folder,
        url,
        DB_CONN_MAX_AGE="60",
        LOG_FORMAT="json",
        JOBS_NOTICES_EVERY_SECONDS="0",  # no notices job beside the letter
    )
    cityeval = str(BIN / "cityeval")
    started = time.monotonic()
    subprocess.run([cityeval, "manage", "migrate", "-v", "0"], env=env, check=True, timeout=600)
    subprocess.run(
        [cityeval, "manage", "collectstatic", "--noinput", "-v", "0"], env=env, check=True, timeout=600
    )
    if load:
        subprocess.run(
            [cityeval, "manage", "load_national", "--regions", str(REGIONS), "--responses", str(RESPONSES)],
            env=env, check=True, timeout=1200, stdout=subprocess.DEVNULL,
        )  # fmt: skip
        print(f"  PostgreSQL (throwaway, fsync off); {REGIONS} regions, {RESPONSES:,} stored responses, "
              f"loaded in {time.monotonic() - started:.0f} s (not timed)")  # fmt: skip
    else:
        print(f"  reusing BENCH_PROD_DATABASE_URL as it is (loaded by an earlier run: {CYCLE})")
    forms = _script(env, PREPARE % {"cycle": CYCLE, "forms": FORMS}, timeout=300)
    assert isinstance(forms, list)
    if not forms:
        print("  no open survey form in the national cycle: nothing to submit to")
        return
    ports = [free_port()]
    while len(ports) < 2:
        ports += [port for port in [free_port()] if port not in ports]
    print(f"  2 app servers: gunicorn --workers {WORKERS} on 127.0.0.1:{ports[0]}, :{ports[1]}; 1 worker")
    logs: list[Path] = []
    with ExitStack() as stack:
        servers = []
        for port in ports:
            log = folder / f"gunicorn-{port}.log"
            logs.append(log)
            command = [str(BIN / "gunicorn"), "cityeval.web.wsgi", "--bind", f"127.0.0.1:{port}",
                       "--workers", str(WORKERS), "--timeout", "120", "--graceful-timeout", "30"]  # fmt: skip
            servers.append(stack.enter_context(_process(command, env, log)))
        logs.append(folder / "worker.log")
        worker = stack.enter_context(_process([cityeval, "worker"], env, logs[-1]))
        try:
            if not _ready(ports, servers):
                print("  the servers did not start")
                return
            print("\n  1. survey API load")
            meter = _CpuMeter([server.pid for server in servers], _postmaster(url), logs[:2])
            _survey_load(env, ports, forms, meter)
            print("\n  2. whole-cycle letter job")
            if RUN_LETTER:
                _letter(env, worker, folder)
            else:
                print("  skipped (BENCH_PROD_LETTER=0)")
        finally:
            for process in (*servers, worker):
                if process.poll() is not None:
                    print(f"  {process.args[0]} (pid {process.pid}) stopped early: exit {process.returncode}")
    for log in logs:  # written whole now that the processes stopped
        problems = [line for line in log.read_text(errors="replace").splitlines() if _problem(line)]
        if problems:
            print(f"  {log.name}: {len(problems)} error lines, the last ones:", *problems[-3:], sep="\n    ")


def _problem(line: str) -> bool:
    return bool(re.search(r'"level": ?"(ERROR|CRITICAL)"|\[(ERROR|CRITICAL)\]|Traceback', line))


def _ready(ports: list[int], servers: list[subprocess.Popen]) -> bool:
    deadline = time.monotonic() + 120
    for port, server in zip(ports, servers, strict=True):
        while _request(port, "127.0.0.1", "GET", "/readyz")[0] != 200:
            if time.monotonic() > deadline or server.poll() is not None:
                return False
            time.sleep(0.5)
    return True


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).parent))
    run()
