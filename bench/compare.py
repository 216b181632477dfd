"""Side-by-side timing and memory for the benchmarks that compare cityeval with its peers.

Time: every contender runs once per round, in the same order each round (A B C A B C …), so a
change in the machine's speed hits them all alike; figures are the median and min–max over
rounds, and each ratio is cityeval's time over the peer's, round by round.

Memory: each contender runs once in a fresh Python process (``python bench/compare.py MODULE
NAME``) that first loads the data and imports what the contender needs, then runs it; the figure
is the rise of the process's peak resident size (``ru_maxrss``) during the run, which counts
memory allocated outside Python (polars, DuckDB, numpy) that tracemalloc does not see. The
peak mark is reset after loading (``/proc/self/clear_refs``), so loading does not count.
"""

from __future__ import annotations

import importlib
import json
import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

HERE = Path(__file__).parent


def interleaved(contenders: Mapping[str, Callable[[], object]], rounds: int) -> dict[str, list[float]]:
    """Seconds per round for each contender, after one warm-up round."""
    times: dict[str, list[float]] = {name: [] for name in contenders}
    for round_ in range(rounds + 1):
        for name, fn in contenders.items():
            start = time.perf_counter()
            fn()
            if round_:
                times[name].append(time.perf_counter() - start)
    return times


def measured(command: list[str], **popen: Any) -> tuple[subprocess.CompletedProcess[bytes], float, float]:
    """Run ``command`` through ``peak.py``: its completed process (stderr without peak.py's
    line), wall seconds and peak MiB of its own, not inherited from this process."""
    popen.setdefault("stdout", subprocess.PIPE)
    done = subprocess.run([sys.executable, str(HERE / "peak.py"), *command], stderr=subprocess.PIPE, **popen)
    err, _, last = done.stderr.rstrip().rpartition(b"\n")
    figures = json.loads(last)
    done.stderr = err
    return done, figures["seconds"], figures["peak_mib"]


def _path_with_here() -> str:
    """PYTHONPATH with this folder first, keeping the caller's (an optional peer installed
    outside the virtualenv stays importable)."""
    return os.pathsep.join(filter(None, [str(HERE), os.environ.get("PYTHONPATH")]))


def peak_mib(module: str, name: str, *args: str) -> float:
    """MiB the contender ``name`` of ``bench_<module>`` adds to its process's peak RSS."""
    result = subprocess.run(
        [sys.executable, str(HERE / "compare.py"), module, name, *args],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "PYTHONPATH": _path_with_here()},
    )
    return float(json.loads(result.stdout.strip().splitlines()[-1])["peak_mib"])


def _status_mib(field: str) -> float | None:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024  # kB
    except OSError:
        pass
    return None


def _reset_peak() -> float:
    """Reset the kernel's peak-RSS mark to the current size (Linux ≥ 4.0); return that size."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return _status_mib("VmRSS") or 0.0


def _peak() -> float:
    return _status_mib("VmHWM") or resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def report(
    times: Mapping[str, list[float]],
    *,
    ours: str,
    memory: Mapping[str, float] | None = None,
    targets: Mapping[str, float] | None = None,
) -> dict[str, float]:
    """Print one row per contender: median, min–max, ratio to ours, peak memory, verdict.

    ``targets`` maps a peer to the largest acceptable ratio ours/peer; returns those ratios.
    """
    memory = memory or {}
    targets = targets or {}
    mine = times[ours]
    print(f"  {'':<26} {'median':>9} {'min–max':>17} {'ours/peer':>22} {'peak +MiB':>10}")
    ratios: dict[str, float] = {}
    for name, seconds in times.items():
        median = statistics.median(seconds) * 1000
        spread = f"{min(seconds) * 1000:.0f}–{max(seconds) * 1000:.0f} ms"
        line = f"  {name:<26} {median:7.1f} ms {spread:>17}"
        if name != ours:
            per_round = [a / b for a, b in zip(mine, seconds, strict=True)]
            ratio = statistics.median(per_round)
            ratios[name] = ratio
            line += f" {ratio:6.2f}× ({min(per_round):.2f}–{max(per_round):.2f})"
        else:
            line += " " * 23
        if name in memory:
            line += f" {memory[name]:9.0f}"
        if name in targets:
            verdict = "met" if ratios[name] <= targets[name] else "NOT met"
            line += f"   target ≤ {targets[name]:g}×: {verdict}"
        print(line)
    return ratios


def _measure(module: str, name: str, args: list[str]) -> None:
    bench = importlib.import_module(f"bench_{module}")
    fn = bench.contenders(*bench.memory_data(*args), only=name)[name]
    before = _reset_peak()  # loading the data must not count, nor its own transient peak
    fn()
    print(json.dumps({"peak_mib": _peak() - before}))


if __name__ == "__main__":
    _measure(sys.argv[1], sys.argv[2], sys.argv[3:])
