"""The web bench's load: every URL of a page reaches every app server, as through nginx's
round-robin upstream (a review found URL i always sent to server i % 2)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture
def bench_web(monkeypatch):
    monkeypatch.syspath_prepend(str(BENCH))
    monkeypatch.delitem(sys.modules, "bench_web", raising=False)
    import bench_web

    return bench_web


def test_every_url_of_a_page_reaches_both_app_servers(bench_web, monkeypatch):
    """Ten URLs a page, two servers, 20 clients for 50 ms: each URL is sent to both."""
    seen: dict[str, set[int]] = {}

    def fake_get(port, session, path):
        seen.setdefault(path, set()).add(port)
        return 200, 1.0

    monkeypatch.setattr(bench_web, "_get", fake_get)
    monkeypatch.setattr(bench_web, "CLIENTS", 20)
    targets = [[None, f"/r/region-{i}/"] for i in range(bench_web.SPREAD)]
    bench_web._load([8001, 8002], targets, 0.05)
    assert {path: ports for path, ports in seen.items() if ports != {8001, 8002}} == {}
