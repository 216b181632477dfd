"""Output helpers shared by the ``cityeval`` commands: writing text, the results table, and a
progress line for long work. Nothing here imports a command module, so every command (and the
demo printout) can use them without an import circle."""

from __future__ import annotations

import io
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cityeval.engine import Framework, InputError
from cityeval.engine.numbers import format_number
from cityeval.engine.scoring import ScoreResult

if TYPE_CHECKING:  # rich is imported when something is printed: start-up stays short
    from rich.console import Console
    from rich.table import Table

EXIT_USAGE = 2
PROGRESS_DELAY_SECONDS = 1.0


def results_table(result: ScoreResult, fw: Framework, *, title: str | None = None) -> Table:
    """A rich table of the results, values rounded half up to 2 decimals as the letters print them."""
    summary = result.summary(fw.component_codes)
    table = new_table(title=title)
    for column in summary.columns:
        text = column in ("region", "group", "province")
        table.add_column(column, justify="left" if text else "right", no_wrap=text)
    for row in summary.iter_rows(named=True):
        table.add_row(*(cell(column, row[column]) for column in summary.columns))
    return table


def cell(column: str, value: Any) -> str:
    if value is None:
        return "–"
    if column == "coverage":
        return format_number(value * 100, 0) + "%"
    if column == "improvement":
        return format_number(value, signed=True)
    if isinstance(value, float):
        return format_number(value)
    return str(value)


def emit(text: str, output: str | None) -> None:
    if output is None:
        sys.stdout.write(text)
        return
    try:
        Path(output).write_text(text, encoding="utf-8")
    except OSError as exc:
        raise InputError(f"cannot write ({exc.strerror})", source=output) from None


class NullWriter(io.StringIO):
    """A file that swallows what is written (rich records the text instead)."""

    def write(self, text: str) -> int:
        return len(text)

    def flush(self) -> None:
        pass


def make_console() -> Console:
    return new_console(width=None if sys.stdout.isatty() else 160)


def new_console(**options: Any) -> Console:
    """A rich console, rich imported only now (a command writing a file never needs it)."""
    from rich.console import Console

    return Console(**options)


def new_table(**options: Any) -> Table:
    """A rich table, rich imported only now."""
    from rich.table import Table

    return Table(**options)


@contextmanager
def progress_line(title: str) -> Iterator[Any]:
    """Show a progress line on stderr once work has taken longer than a second.

    Short runs print nothing, and nothing is shown when stderr is not a terminal, so output
    stays clean (and the same whatever the machine's speed) in scripts, pipes and logs.
    """
    if not sys.stderr.isatty():
        yield lambda description: None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=new_console(stderr=True),
        transient=True,
    )
    task = progress.add_task(title, total=None)
    lock = threading.Lock()
    state = {"started": False, "done": False}

    def start() -> None:
        with lock:
            if not state["done"]:
                progress.start()
                state["started"] = True

    timer = threading.Timer(PROGRESS_DELAY_SECONDS, start)
    timer.daemon = True
    timer.start()

    def step(description: str) -> None:
        progress.update(task, description=f"{title}: {description}")

    try:
        yield step
    finally:
        timer.cancel()
        with lock:
            state["done"] = True
            if state["started"]:
                progress.stop()
