"""Distribution functions from scipy, imported on first use.

Importing ``scipy.stats`` takes most of a second, which every CLI call and web process would
otherwise pay at start-up; only the agreement and reliability intervals need it.
"""

from __future__ import annotations

from typing import Any


def f_distribution() -> Any:
    """scipy's F distribution (``scipy.stats.f``)."""
    from scipy import stats  # type: ignore[import-untyped]  # scipy ships no type stubs

    return stats.f
