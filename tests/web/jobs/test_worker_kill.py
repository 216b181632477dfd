"""``kill -9`` of ``cityeval worker`` half-way through a job: a new worker runs it again and its
effects happen once (one job, done, two attempts, one file, the killed task marked failed).

Real processes on a throwaway SQLite file: ``cityeval manage migrate``, the web demo (a
published cycle of the demo's regions) and one queued whole-cycle letter with feedback, then a
worker made slow (CITYEVAL_JOBS_STEP_DELAY) and killed once it has done a step, then a second
worker. The test reads the job's row with the standard library's sqlite3. Every process is
ours, ended by pid; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

SETUP = """
import django
django.setup()
from django.contrib.auth import get_user_model
from cityeval.web.demo import load_demo
from cityeval.web.jobs.services import job_enqueue
load_demo()
user = get_user_model().objects.get(username="koordinator")
job = job_enqueue(user=user, kind="cycle_letter", key="kill-test",
                  params={"cycle": "gmsc-2024", "cycle_name": "GMSC 2024", "language": "en"})
print(job.pk)
"""


def _env(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CITYEVAL_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cityeval.web.settings",
        DATABASE_URL=f"sqlite:///{tmp_path / 'jobs.sqlite3'}",
        MEDIA_ROOT=str(tmp_path / "media"),
        CITYEVAL_JOBS_STEP_DELAY="0.3",
        JOBS_STALE_SECONDS="2",
    )
    return env


def _job(database: Path, job_id: int) -> dict:
    with sqlite3.connect(database, timeout=10) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("select * from jobs_job where id = ?", (job_id,)).fetchone()
        return dict(row)


def _wait(predicate, *, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _worker(env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "cityeval.cli", "worker", "--interval", "0.2"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)


def test_a_killed_worker_s_job_is_run_again_once(tmp_path):
    env = _env(tmp_path)
    database = tmp_path / "jobs.sqlite3"
    run = {"env": env, "check": True, "timeout": 300, "capture_output": True, "text": True}
    subprocess.run([sys.executable, "-m", "cityeval.cli", "manage", "migrate", "-v", "0"], **run)
    job_id = int(subprocess.run([sys.executable, "-c", SETUP], **run).stdout.strip().splitlines()[-1])

    first = _worker(env)
    try:
        _wait(lambda: _job(database, job_id)["done"] >= 1, seconds=120, what="the first step")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        _stop(first)
    killed = _job(database, job_id)
    assert killed["status"] == "running" and killed["file_name"] == "" and killed["done"] < killed["total"]

    second = _worker(env)
    try:
        _wait(
            lambda: _job(database, job_id)["status"] != "running",
            seconds=60,
            what="the job to be queued again",
        )
        _wait(lambda: _job(database, job_id)["status"] == "done", seconds=180, what="the job to finish")
    finally:
        _stop(second)
    done = _job(database, job_id)
    assert (done["attempts"], done["done"], done["total"]) == (2, killed["total"], killed["total"])
    files = sorted(p.name for p in (tmp_path / "media" / "jobs" / str(job_id)).iterdir())
    assert files == ["results-gmsc-2024-feedback.pdf"]
    assert (tmp_path / "media" / done["file_name"]).read_bytes().startswith(b"%PDF")
    with sqlite3.connect(database) as db:
        statuses = sorted(s for (s,) in db.execute("select status from django_tasks_database_dbtaskresult"))
        assert db.execute("select count(*) from jobs_job").fetchone() == (1,)
    assert statuses == ["FAILED", "SUCCESSFUL"]
