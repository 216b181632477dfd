"""The cityeval engine: pure Python, no Django. Plain tables in, plain tables out.

Public API::

    from cityeval.engine import load_framework, read_table, score
    fw = load_framework("gmsc-2023")
    result = score(read_table("scores.csv"), fw)
    result.regions  # one row per region: components, final, improvement, ranks
"""

from cityeval.engine.errors import CityevalError, FrameworkError, InputError
from cityeval.engine.framework import Framework, builtin_frameworks, load_framework, parse_framework
from cityeval.engine.scoring import (
    ScoreResult,
    detect_level,
    previous_finals,
    score,
    score_components,
    score_items,
)
from cityeval.engine.tables import read_table

__all__ = [
    "CityevalError",
    "Framework",
    "FrameworkError",
    "InputError",
    "ScoreResult",
    "builtin_frameworks",
    "detect_level",
    "load_framework",
    "parse_framework",
    "previous_finals",
    "read_table",
    "score",
    "score_components",
    "score_items",
]
