"""Benchmark: start-up cost of the command line, each command a fresh process.

`cityeval frameworks` and `cityeval score` on the published 2022 KPPN table (38 regions, the
README example) are timed as whole processes: wall time, and CPU time (user + system) from the
operating system's accounting of the finished child. `import cityeval.engine` is timed too,
since every CLI call and every Django process pays it. Figures are medians of several runs
after a warm-up; on a shared machine the CPU time is the steadier figure, the wall time what a
person waits. Target: both commands under 0.6 s wall on an idle machine.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TABLE = ROOT / "tests" / "engine" / "data" / "gmsc-2022-kppn-results.csv"
RUNS = 7
TARGET_SECONDS = 0.6

COMMANDS = {
    "import cityeval.engine": [sys.executable, "-c", "import cityeval.engine"],
    "cityeval frameworks": [sys.executable, "-m", "cityeval.cli", "frameworks"],
    "cityeval score (2022 KPPN, 38 rows)": [
        sys.executable, "-m", "cityeval.cli", "score", str(TABLE), "--framework", "gmsc-2022",
        "--group", "KPPN_IKN",
    ],
}  # fmt: skip


def _once(command: list[str]) -> tuple[float, float]:
    """(wall, cpu) seconds of one run of ``command`` as a child process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, cwd=ROOT)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run() -> None:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{RUNS} runs each after a warm-up; load average {load:.1f} on {os.cpu_count()} CPUs")
    for name, command in COMMANDS.items():
        _once(command)  # warm-up: the file cache, compiled bytecode
        walls, cpus = zip(*(_once(command) for _ in range(RUNS)), strict=True)
        wall, cpu = statistics.median(walls), statistics.median(cpus)
        target = f"(target < {TARGET_SECONDS:.1f} s wall)" if name.startswith("cityeval") else ""
        print(f"  {name:<38} wall median {wall:6.3f} s   cpu median {cpu:6.3f} s   {target}")


if __name__ == "__main__":
    run()
