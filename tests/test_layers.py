"""The layering of ``src/cityeval`` (docs/architecture.md): the engine imports nothing of the
web, the web's shared modules import no app, an app imports only from apps below it, and no
import circle joins modules — except the exceptions recorded below, each with its reason.

The graph is read from the source with ``ast`` (tools/import_graph.py). An exception that no
longer occurs must be removed from the list, so the list only shrinks.
"""

from __future__ import annotations

from tools.import_graph import APP_ORDER, module_edges, part

# Upward edges between parts that exist today, with why. Issue 9 removes them.
ALLOWED_UPWARD = {
    ("web.accounts", "web.panels"): "access helpers check an assessor's panel conflicts",
    ("web.regions", "web.accounts"): "region pages call the access helpers",
    ("web.regions", "web.evaluations"): "the regional dashboard lists the region's cycles",
    ("web.regions", "web.programmes"): "the regional dashboard shows the programme overview",
    ("web.assessments", "web.panels"): "evidence top-ups are open while a panel allows them",
    ("web.evaluations", "web.panels"): "the close confirmation lists panels with unfinished marks",
    ("web.results", "demo"): "the results demo reuses the engine demo's synthetic scores",
}

# Module circles that exist today (each as the set of its modules), with why.
# None: TokenAuth moved from the API root to accounts/auth.py, which untied the last one
# (web.api ↔ results.api).
ALLOWED_CIRCLES: dict[frozenset[str], str] = {}


def _level(p: str) -> int | None:
    app = p.removeprefix("web.")
    return APP_ORDER.index(app) if p.startswith("web.") and app in APP_ORDER else None


def _is_upward(a: str, b: str) -> bool:
    """Whether part ``a`` importing part ``b`` goes against the layering."""
    if a == "engine":
        return True  # the engine imports only itself
    if a == "web.base":
        return b.startswith("web.")  # the shared web modules import no app
    if a.startswith("web.") and a != "web.site" and b in ("web.site", "cli", "demo"):
        return True  # apps sit below the site, the CLI and the demo
    la, lb = _level(a), _level(b)
    return la is not None and lb is not None and lb > la


def _upward_edges() -> set[tuple[str, str]]:
    return {
        (part(source), part(target))
        for source, targets in module_edges().items()
        for target in targets
        if part(source) != part(target) and _is_upward(part(source), part(target))
    }


def _circles() -> set[frozenset[str]]:
    """Strongly connected components of more than one module (Tarjan, iterative)."""
    edges = module_edges()
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: set[frozenset[str]] = set()
    for root in edges:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next((c for c in children if c in edges), None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.add(frozenset(component))
    return found


def test_the_graph_sees_known_imports():
    """A guard against a reader that finds nothing: these imports are in the code."""
    edges = module_edges()
    assert "cityeval.engine.scoring" in edges["cityeval.engine"]
    assert "cityeval.web.accounts.access" in edges["cityeval.web.panels.views"]


def test_no_upward_import_beyond_the_recorded_ones():
    upward = _upward_edges()
    assert sorted(upward - ALLOWED_UPWARD.keys()) == [], "an app imports from an app above it"
    assert sorted(ALLOWED_UPWARD.keys() - upward) == [], "a recorded exception is gone: remove it"


def test_the_engine_imports_nothing_of_the_web_or_the_cli():
    assert not [edge for edge in _upward_edges() if edge[0] == "engine"]


def test_no_import_circle_beyond_the_recorded_ones():
    circles = _circles()
    assert sorted(map(sorted, circles - ALLOWED_CIRCLES.keys())) == [], "a new import circle"
    assert sorted(map(sorted, ALLOWED_CIRCLES.keys() - circles)) == [], "a recorded circle is gone"
