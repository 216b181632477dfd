"""Benchmark: `cityeval score` as a whole process, beside a plain polars script, on the national cycle.

The 550-region cycle of bench_scoring (≈307k scores) as a CSV file; `cityeval score FILE
--framework gmsc-2023 --format csv -o OUT` against bench/peers/score_polars.py (polars only:
read, group, weight, rank, write). Both outputs must give the same finals (1e-12) and ranks
first. Each run is a fresh process: wall time and peak memory (the child's ``ru_maxrss``),
interleaved, medians and min–max. Target: cityeval ≤ 2× the plain script.
"""

from __future__ import annotations

import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import polars as pl

from bench_scoring import national_cycle, weights_table
from cityeval.engine import load_framework
from compare import measured

ROUNDS = 5
TARGET_RATIO = 2.0
HERE = Path(__file__).parent


def _run(command: list[str]) -> tuple[float, float]:
    """Wall seconds and peak MiB of one run of ``command`` (its output thrown away), measured by
    ``peak.py`` so that the peak is the command's own, not this process's."""
    done, seconds, peak = measured(command, stdout=subprocess.DEVNULL)
    if done.returncode:
        raise SystemExit(f"{' '.join(command)} failed: {done.stderr.decode()}")
    return seconds, peak


def run() -> dict[str, float]:
    cityeval = str(Path(sys.executable).with_name("cityeval"))
    with tempfile.TemporaryDirectory() as tmp:
        scores, weights = f"{tmp}/scores.csv", f"{tmp}/weights.csv"
        national_cycle().write_csv(scores)
        weights_table(load_framework("gmsc-2023")).write_csv(weights)
        commands = {
            "cityeval score": [cityeval, "score", scores, "--framework", "gmsc-2023", "--format", "csv"],
            "plain polars script": [sys.executable, str(HERE / "peers" / "score_polars.py"), scores, weights],
        }
        commands["cityeval score"] += ["-o", f"{tmp}/ours.csv"]
        commands["plain polars script"] += [f"{tmp}/theirs.csv"]
        for command in commands.values():
            _run(command)  # warm-up, and the outputs to compare
        ours = (
            pl.read_csv(f"{tmp}/ours.csv")
            .select("region", "final", "rank_national", "rank_province")
            .sort("region")
        )
        theirs = pl.read_csv(f"{tmp}/theirs.csv").select(ours.columns).sort("region")
        worst = (ours["final"] - theirs["final"]).abs().max()
        if worst is None or worst > 1e-12 or not ours.drop("final").equals(theirs.drop("final")):
            raise SystemExit(f"cityeval score and the plain polars script disagree (max |Δfinal| {worst})")
        print(f"  same answers: {ours.height} finals within 1e-12, identical ranks")
        figures: dict[str, list[tuple[float, float]]] = {name: [] for name in commands}
        for _ in range(ROUNDS):
            for name, command in commands.items():
                figures[name].append(_run(command))
    print(f"  {ROUNDS} interleaved runs of each, whole processes (start-up, read, score, write)")
    print(f"  {'':<22} {'median':>9} {'min–max':>15} {'peak MiB':>9} {'ours/peer':>20}")
    mine = [t for t, _ in figures["cityeval score"]]
    ratios: dict[str, float] = {}
    for name, runs in figures.items():
        seconds = [t for t, _ in runs]
        peak = statistics.median(m for _, m in runs)
        spread = f"{min(seconds):6.2f}–{max(seconds):.2f} s"
        line = f"  {name:<22} {statistics.median(seconds):7.2f} s {spread:>15} {peak:9.0f}"
        if name != "cityeval score":
            per_round = [a / b for a, b in zip(mine, seconds, strict=True)]
            ratio = ratios[name] = statistics.median(per_round)
            verdict = "met" if ratio <= TARGET_RATIO else "NOT met"
            line += f" {ratio:6.2f}× ({min(per_round):.2f}–{max(per_round):.2f})"
            line += f"  target ≤ {TARGET_RATIO:g}×: {verdict}"
        print(line)
    return ratios


if __name__ == "__main__":
    run()
