"""Processes the tests start (gunicorn, the worker, an S3 server): a free loopback port, a process
that is stopped whatever happens, and waiting for a condition with a deadline."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

STOP_SECONDS = 15


def free_port() -> int:
    """A port on 127.0.0.1 that nothing listens on now (servers the tests start bind loopback only)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@contextmanager
def running(
    command: list[str], *, log: Path, env: dict[str, str] | None = None
) -> Iterator[subprocess.Popen]:
    """Start ``command`` with its output (stdout and stderr) in ``log``; on leaving, terminate it,
    then kill it if it has not stopped within STOP_SECONDS, whatever happened inside."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        yield process
    finally:
        stop(process)


def stop(process: subprocess.Popen, *, kill: bool = False) -> None:
    """Stop a process the test started: SIGTERM (or SIGKILL at once with ``kill``), then SIGKILL."""
    if process.poll() is None:
        process.kill() if kill else process.terminate()
    try:
        process.wait(timeout=STOP_SECONDS)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=STOP_SECONDS)


def wait_until(predicate: Callable[[], bool], *, seconds: float, what: str, every: float = 0.2) -> None:
    """Poll ``predicate`` until it holds; fail naming ``what`` after ``seconds``."""
    deadline = time.monotonic() + seconds
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(every)
