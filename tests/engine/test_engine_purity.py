"""The engine is pure Python: importing it loads no Django and no web module, and no engine
source imports Django (docs/architecture.md). tests/test_layers.py checks the same rule on the
import graph; this checks what a process really loads."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cityeval.engine

ENGINE = Path(cityeval.engine.__file__).parent


def test_importing_every_engine_module_loads_no_django():
    parts = [p.relative_to(ENGINE).with_suffix("").parts for p in ENGINE.rglob("*.py")]
    modules = sorted(".".join(("cityeval", "engine", *ps)).removesuffix(".__init__") for ps in parts)
    assert "cityeval.engine.scoring" in modules and "cityeval.engine.survey.stats" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m == 'django' or m.startswith(('django.', 'cityeval.web'))))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_no_engine_source_imports_django():
    sources = {p: p.read_text(encoding="utf-8") for p in ENGINE.rglob("*.py")}
    assert len(sources) > 20  # the walk found the engine's modules
    offenders = [str(p) for p, text in sources.items() if "import django" in text or "from django" in text]
    assert offenders == []
