"""Benchmark: KKPD statement import and rule checks over 1,000,000 transactions.

The data: 1,000 synthetic cards (100 OPDs, a province's worth) and 1,000,000 transactions in a
year, drawn like the demo's background.

(a) read_transactions on a CSV of the 1,000,000 transactions in the generic template (every
value validated, card identifiers normalised) — target < 10 s; the baseline is
plain polars.read_csv of the same file with every column as text, which validates nothing;
(b) check_transactions, all rules (with settlements), on the same 1,000,000 — target < 5 s.

Figures are medians of a few runs on the same data; the machine is shared and noisy. Peak
memory is the process's maximum resident size after each part (it only grows). CPU time (all
threads) is shown beside the wall time, since other work on a shared machine inflates the wall.
"""

from __future__ import annotations

import datetime as dt
import resource
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from cityeval.engine.kkpd import (
    check_transactions,
    default_rules,
    parse_cards,
    parse_settlements,
    read_transactions,
)
from cityeval.engine.tables import with_rows
from cityeval.kkpd_demo import many_cards, random_transactions

ROWS = 1_000_000
RUNS = 3
TARGETS = {"import": 10.0, "checks": 5.0}


def _median(action: Callable[[], object], runs: int = RUNS) -> tuple[float, float, object]:
    times, cpu, result = [], [], None
    for _ in range(runs):
        start, start_cpu = time.perf_counter(), time.process_time()
        result = action()
        times.append(time.perf_counter() - start)
        cpu.append(time.process_time() - start_cpu)
    return statistics.median(times), statistics.median(cpu), result


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _report(name: str, seconds: float, cpu: float, extra: str = "") -> None:
    target = TARGETS.get(name)
    verdict = ""
    if target is not None:
        verdict = f" (target < {target:g} s: " + ("ok" if seconds < target else "MISSED") + ")"
    print(
        f"  {name:<10} {seconds:7.2f} s median of {RUNS} (CPU {cpu:.2f} s){verdict}{extra}; "
        f"peak RSS {_peak_mb():,.0f} MB"
    )


def run() -> None:
    card_file = many_cards(1_000)
    cards = parse_cards(with_rows(card_file.with_columns(pl.col("limit").cast(pl.String))))
    settlements = parse_settlements(with_rows(_settlements(card_file)))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "transactions.csv"
        random_transactions(ROWS, seed=1, cards=card_file).write_csv(path)
        print(f"  file: {ROWS:,} transactions, {path.stat().st_size / 1e6:,.0f} MB CSV")
        baseline, cpu, _ = _median(lambda: pl.read_csv(path, infer_schema=False))
        _report("read_csv", baseline, cpu, " (plain polars baseline, no checks)")
        seconds, cpu, table = _median(lambda: read_transactions(path, cards=cards))
        _report("import", seconds, cpu)
    assert isinstance(table, pl.DataFrame)
    rules = default_rules()
    as_of = dt.date(2024, 12, 31)
    seconds, cpu, result = _median(
        lambda: check_transactions(table, cards, rules=rules, as_of=as_of, settlements=settlements)
    )
    flags = result.flags.height  # type: ignore[attr-defined]
    _report("checks", seconds, cpu, f", {flags:,} flags")


def _settlements(cards: pl.DataFrame) -> pl.DataFrame:
    """Every card's twelve 2024 bills, due on the 15th of the next month and paid on it."""
    months = pl.DataFrame({"month": [f"2024-{m:02d}" for m in range(1, 13)]})
    due = (pl.col("month") + "-15").str.to_date().dt.offset_by("1mo").cast(pl.String)
    return (
        cards.select("card")
        .join(months, how="cross")
        .with_columns(due.alias("due_date"), due.alias("settlement_date"))
    )


if __name__ == "__main__":
    run()
