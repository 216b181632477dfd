"""The cityeval engine: pure Python, no Django. Plain tables in, plain tables out.

Public API::

    from cityeval.engine import load_framework, read_table, score
    fw = load_framework("gmsc-2023")
    result = score(read_table("scores.csv"), fw)
    result.regions  # one row per region: components, final, improvement, ranks
"""

from cityeval.engine.agreement import AlphaResult, agreement_by, icc, krippendorff_alpha
from cityeval.engine.errors import CityevalError, FrameworkError, InputError
from cityeval.engine.framework import Framework, builtin_frameworks, load_framework, parse_framework
from cityeval.engine.report import RegionReport, cycle_report, region_report
from cityeval.engine.scoring import (
    ScoreResult,
    detect_level,
    previous_finals,
    score,
    score_components,
    score_items,
)
from cityeval.engine.tables import read_table
from cityeval.engine.uncertainty import UncertaintyResult, uncertainty
from cityeval.engine.whatif import Plan, plan, simulate

__all__ = [
    "AlphaResult",
    "CityevalError",
    "Framework",
    "FrameworkError",
    "InputError",
    "Plan",
    "RegionReport",
    "ScoreResult",
    "UncertaintyResult",
    "agreement_by",
    "builtin_frameworks",
    "cycle_report",
    "detect_level",
    "icc",
    "krippendorff_alpha",
    "load_framework",
    "parse_framework",
    "plan",
    "previous_finals",
    "read_table",
    "region_report",
    "score",
    "score_components",
    "score_items",
    "simulate",
    "uncertainty",
]
