"""The import graph of ``src/cityeval``, read with ``ast`` (nothing is imported or run).

``python tools/import_graph.py`` prints the graph between the project's parts (engine, cli,
demo, the web's shared modules and each web app) as a Mermaid diagram, the one drawn in
docs/architecture.md. ``tests/test_layers.py`` uses :func:`module_edges` to keep the layering.
"""

from __future__ import annotations

import ast
import sys
from collections.abc import Iterator
from pathlib import Path

SRC = Path(__file__).resolve().parents[1] / "src"

# The web apps, lowest first: an app may import only from apps before it in this list.
APP_ORDER = (
    "audit",  # lowest: it imports no app (region and user by string), so every app records into it
    "regions",
    "accounts",
    "notices",  # a person's notices: every app above that tells someone something imports it
    "jobs",  # background jobs: the queue, progress and files; a job's work is named by path
    "evaluations",
    "programmes",
    "kkpd",
    "assessments",
    "surveys",
    "panels",
    "results",
)


def modules(src: Path = SRC) -> dict[str, Path]:
    """Dotted module name → file, for every module under ``src`` except migrations."""
    found = {}
    for path in sorted(src.rglob("*.py")):
        if "migrations" in path.parts:
            continue
        parts = path.relative_to(src).with_suffix("").parts
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(parts)] = path
    return found


def _imported(name: str, path: Path, known: dict[str, Path]) -> Iterator[str]:
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for alias in node.names:
                full = f"{target}.{alias.name}"
                yield full if full in known else target


def module_edges(src: Path = SRC) -> dict[str, set[str]]:
    """Module → the project modules it imports (at any depth of the file, functions included)."""
    known = modules(src)
    return {
        name: {t for t in _imported(name, path, known) if t.startswith("cityeval") and t != name}
        for name, path in known.items()
    }


# Modules of the web package that every app may use; they import no app.
WEB_BASE = (
    "imports", "pdf", "confirm", "refusals", "bounds", "labels", "downloads", "engine_errors", "listing",
    "addresses",
    "mail", "kept",
)  # fmt: skip


def part(module: str) -> str:
    """The part a module belongs to: ``engine``, ``cli``, ``demo``, ``web.<app>``, ``web.base``
    (the shared modules apps use) or ``web.site`` (settings, URLs, the API root, the demo)."""
    pieces = module.split(".")
    if pieces[1:2] == ["engine"]:
        return "engine"
    if pieces[1:2] == ["web"]:
        if len(pieces) > 2 and pieces[2] in APP_ORDER:
            return f"web.{pieces[2]}"
        return "web.base" if len(pieces) > 2 and pieces[2] in WEB_BASE else "web.site"
    return pieces[1] if len(pieces) > 1 else "cityeval"


def mermaid(edges: dict[str, set[str]]) -> str:
    arrows = sorted({(part(s), part(t)) for s, ts in edges.items() for t in ts if part(s) != part(t)})
    lines = ["flowchart TD"]
    lines += [f"  {a.replace('.', '_')}[{a}] --> {b.replace('.', '_')}[{b}]" for a, b in arrows]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.stdout.write(mermaid(module_edges()) + "\n")
