"""``kill -9`` of ``cityeval worker`` half-way through a job: a new worker runs it again and its
effects happen once (one job, done, two attempts, one file, the killed task marked failed).

Real processes on a throwaway database: a SQLite file, or, in the PostgreSQL pass (DATABASE_URL
names a PostgreSQL server), a new database there, dropped afterwards. ``cityeval manage
migrate``, the web demo (a published cycle of the demo's regions) and one queued whole-cycle
letter with feedback, then a worker made slow (CITYEVAL_JOBS_STEP_DELAY) and killed once it has
done a step, then a second worker. The test reads the rows with sqlite3 or psycopg directly.
Every process is ours, ended by pid; every wait is bounded.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import uuid
from contextlib import closing
from pathlib import Path
from urllib.parse import urlsplit

import pytest

from tests.helpers.postgres import drop_database
from tests.helpers.processes import stop, wait_until

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


@pytest.fixture
def database(tmp_path):
    """(DATABASE_URL for the processes, a function running one query and returning its rows)."""
    configured = os.environ.get("DATABASE_URL", "")
    if not configured.startswith(("postgres://", "postgresql://")):
        path = tmp_path / "jobs.sqlite3"

        def sqlite_rows(sql: str) -> list[tuple]:
            with closing(sqlite3.connect(path, timeout=10)) as db:
                return db.execute(sql).fetchall()

        yield f"sqlite:///{path}", sqlite_rows
        return
    import psycopg

    name = f"cityeval_jobkill_{uuid.uuid4().hex[:12]}"
    url = urlsplit(configured)._replace(path=f"/{name}").geturl()
    with psycopg.connect(configured, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')

    def postgres_rows(sql: str) -> list[tuple]:
        with psycopg.connect(url) as db:
            return db.execute(sql).fetchall()

    try:
        yield url, postgres_rows
    finally:
        drop_database(configured, name)


def _env(tmp_path: Path, url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "CITYEVAL_"))}
    env.update(
        DJANGO_SETTINGS_MODULE="cityeval.web.settings",
        DATABASE_URL=url,
        MEDIA_ROOT=str(tmp_path / "media"),
        CITYEVAL_JOBS_STEP_DELAY="0.3",
        JOBS_STALE_SECONDS="2",
        JOBS_NOTICES_EVERY_SECONDS="0",  # the letter job alone (no periodic notices job,
        JOBS_KEEP_DAYS="0",  # nor the daily deletion of old jobs)
        JOBS_SCHEDULED_KEEP_DAYS="0",
    )
    return env


def _job(rows, job_id: int) -> dict:
    columns = ("status", "done", "total", "attempts", "file_name")
    (row,) = rows(f"select {', '.join(columns)} from jobs_job where id = {int(job_id)}")
    return dict(zip(columns, row, strict=True))


def _worker(env: dict[str, str]) -> subprocess.Popen:
    command = [sys.executable, "-m", "cityeval.cli", "worker", "--interval", "0.2"]
    return subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def test_a_killed_worker_s_job_is_run_again_once(tmp_path, database):
    url, rows = database
    env = _env(tmp_path, url)
    run = {"env": env, "check": True, "timeout": 300, "capture_output": True, "text": True}
    subprocess.run([sys.executable, "-m", "cityeval.cli", "manage", "migrate", "-v", "0"], **run)
    job_id = int(subprocess.run([sys.executable, "-c", SETUP], **run).stdout.strip().splitlines()[-1])

    first = _worker(env)
    try:
        wait_until(lambda: _job(rows, job_id)["done"] >= 1, seconds=120, what="the first step")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
    finally:
        stop(first, kill=True)
    killed = _job(rows, job_id)
    assert killed["status"] == "running" and killed["file_name"] == "" and killed["done"] < killed["total"]

    second = _worker(env)
    try:
        requeued = lambda: _job(rows, job_id)["status"] != "running"  # noqa: E731
        wait_until(requeued, seconds=60, what="it to be queued again")
        wait_until(lambda: _job(rows, job_id)["status"] == "done", seconds=180, what="the job to finish")
    finally:
        stop(second, kill=True)
    done = _job(rows, job_id)
    assert (done["attempts"], done["done"], done["total"]) == (2, killed["total"], killed["total"])
    files = sorted(p.name for p in (tmp_path / "media" / "jobs" / str(job_id)).iterdir())
    assert files == ["results-gmsc-2024-feedback.pdf"]
    assert (tmp_path / "media" / done["file_name"]).read_bytes().startswith(b"%PDF")
    statuses = sorted(s for (s,) in rows("select status from django_tasks_database_dbtaskresult"))
    assert statuses == ["FAILED", "SUCCESSFUL"] and rows("select count(*) from jobs_job") == [(1,)]
