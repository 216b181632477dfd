"""The ``cityeval`` command line: a thin layer over the engine.

``app`` builds the parser and runs the core commands; ``survey``, ``kkpd`` and ``analysis`` add
their commands to it; ``output`` holds what they all use to print.
"""

from __future__ import annotations

from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``cityeval`` with ``argv`` (default: the process's arguments); returns the exit code."""
    # Imported here so that ``cityeval.cli.output`` can be used (by the demo) without loading
    # every command module.
    from cityeval.cli.app import main as run

    return run(argv)
