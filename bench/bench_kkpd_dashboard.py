"""Benchmark: the KKPD region dashboard's p95 through the web stack on PostgreSQL.

One region running KKPD with the synthetic Deli Serdang cards, merchant register and realised
spending, and a year of 50,000 transactions (about twelve times the demo's) with the flags of
every rule stored. The setup is not timed. Timed: 60 requests of the region dashboard as the
KKPD administrator (access, the engine's shares over the stored transactions, flag counts,
SVG charts, template) after one warm-up — p95 target < 150 ms; the public transparency page
likewise, for information.

Runs in a child process, since Django reads its database setting once per process (the
results benchmark needs its own). PostgreSQL as in bench_results: CITYEVAL_BENCH_DATABASE_URL,
or a throwaway cluster.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TRANSACTIONS = 50_000
REQUESTS = 60
TARGET_P95_MS = 150.0


def run() -> dict[str, float]:
    done = subprocess.run([sys.executable, str(Path(__file__)), "--child"], check=False)
    if done.returncode:
        print(f"  failed (exit {done.returncode})")
    return {}


def _p95(times: list[float]) -> float:
    return statistics.quantiles(times, n=20)[-1]


def _timed(client, url: str) -> list[float]:
    assert client.get(url).status_code == 200  # warm-up
    times = []
    for _ in range(REQUESTS):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, response.status_code
    return times


def child() -> None:
    sys.path.insert(0, str(Path(__file__).parent))
    from bench_results import _database, _django

    with _database() as url, tempfile.TemporaryDirectory(prefix="cityeval-bench-data.") as data:
        os.environ.setdefault("CITYEVAL_DATA_DIR", data)
        _django(url)
        from dataclasses import replace

        from django.contrib.auth import get_user_model
        from django.db import connection
        from django.test import Client

        from cityeval import kkpd_demo
        from cityeval.web.accounts.models import Membership, Role
        from cityeval.web.kkpd.demo import load_kkpd_demo
        from cityeval.web.kkpd.models import Flag
        from cityeval.web.regions.models import Province, Region
        from cityeval.web.regions.services import opd_create

        province = Province.objects.create(name="Sumatera Utara")
        region = Region.objects.create(name="Kab. Deli Serdang", slug="kab-deli-serdang", kind="kabupaten",
                                       province=province)  # fmt: skip
        admin = get_user_model().objects.create_user(username="bpkad", password="x")
        Membership.objects.create(user=admin, role=Role.KKPD_ADMIN, region=region)
        opds = {name: opd_create(region=region, name=name, short_name=code) for code, name in kkpd_demo.OPDS}
        data_set = replace(kkpd_demo.kkpd_demo(), transactions=kkpd_demo.random_transactions(TRANSACTIONS))
        start = time.perf_counter()
        counts = load_kkpd_demo(region=region, bank_name=kkpd_demo.BANK, data=data_set, opds=opds, user=admin,
                                note=kkpd_demo.SYNTHETIC_NOTE)  # fmt: skip
        setup = time.perf_counter() - start
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        print(
            f"  PostgreSQL {connection.pg_version // 10000}; {counts['transactions']:,} transactions, "
            f"{Flag.objects.count():,} flags, loaded and checked in {setup:.1f} s (not timed)"
        )
        client = Client(SERVER_NAME="localhost")
        client.force_login(admin)
        dashboard = _timed(client, "/r/kab-deli-serdang/kkpd/")
        public = _timed(Client(SERVER_NAME="localhost"), "/public/kab-deli-serdang/kkpd/")
    p95 = _p95(dashboard)
    print(f"  region dashboard   median {statistics.median(dashboard):6.1f} ms  p95 {p95:6.1f} ms  "
          f"(target p95 < {TARGET_P95_MS:g} ms: {'met' if p95 < TARGET_P95_MS else 'NOT met'})")  # fmt: skip
    print(f"  public page        median {statistics.median(public):6.1f} ms  p95 {_p95(public):6.1f} ms")


if __name__ == "__main__":
    child() if "--child" in sys.argv else run()
