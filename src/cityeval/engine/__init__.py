"""The cityeval engine: pure Python, no Django. Plain tables in, plain tables out.

Public API::

    from cityeval.engine import load_framework, read_table, score
    fw = load_framework("gmsc-2023")
    result = score(read_table("scores.csv"), fw)
    result.regions  # one row per region: components, final, improvement, ranks
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from cityeval.engine.agreement import AlphaResult, agreement_by, icc, krippendorff_alpha
    from cityeval.engine.errors import CityevalError, FrameworkError, InputError
    from cityeval.engine.framework import Framework, builtin_frameworks, load_framework, parse_framework
    from cityeval.engine.peers import nearest_by_final, peer_statistics, score_distribution
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
    "nearest_by_final",
    "parse_framework",
    "peer_statistics",
    "plan",
    "previous_finals",
    "read_table",
    "region_report",
    "score",
    "score_components",
    "score_distribution",
    "score_items",
    "simulate",
    "uncertainty",
]

# Where each public name lives. The modules are imported on first use of a name, not with the
# package: `from cityeval.engine import score` does not pay for numpy (agreement, uncertainty),
# the report or the what-if planner, and neither does `import cityeval.engine.framework`, which
# runs this file first. Every CLI call and every Django process starts faster for it.
_HOME = {
    "AlphaResult": "agreement",
    "agreement_by": "agreement",
    "icc": "agreement",
    "krippendorff_alpha": "agreement",
    "CityevalError": "errors",
    "FrameworkError": "errors",
    "InputError": "errors",
    "Framework": "framework",
    "builtin_frameworks": "framework",
    "load_framework": "framework",
    "parse_framework": "framework",
    "nearest_by_final": "peers",
    "peer_statistics": "peers",
    "score_distribution": "peers",
    "RegionReport": "report",
    "cycle_report": "report",
    "region_report": "report",
    "ScoreResult": "scoring",
    "detect_level": "scoring",
    "previous_finals": "scoring",
    "score": "scoring",
    "score_components": "scoring",
    "score_items": "scoring",
    "read_table": "tables",
    "UncertaintyResult": "uncertainty",
    "uncertainty": "uncertainty",
    "Plan": "whatif",
    "plan": "whatif",
    "simulate": "whatif",
}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # found once; later look-ups do not come here
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
