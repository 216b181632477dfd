"""Benchmark: computing and storing a national cycle's results, and one region's PDF letter.

A synthetic national cycle on PostgreSQL: 550 regions (500 REGULER, 50 KPPN_IKN, 38 provinces)
× the full gmsc-2023 item set × 5 assessors (≈ 305k ItemScore rows), on 110 panels of five
regions, each region with five assessors' feedback. The setup is not timed. Timed:
``results_compute`` (read the scores, score, agreement per panel and component, store every
table in one transaction), median of 3 — target < 10 s on 2 cores; and one region's results
letter through the web stack (access, report data, template, WeasyPrint), median of 5 —
target < 2 s. The whole cycle's public letter is timed once, for information.

PostgreSQL: CITYEVAL_BENCH_DATABASE_URL if set (a fresh database is created on that server
and dropped afterwards); otherwise a throwaway cluster is started as .ci/run does it (initdb
as the postgres user into a temporary folder, 127.0.0.1 on a free port) and removed at exit.
"""

from __future__ import annotations

import os
import random
import secrets
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from serving import free_port, fresh_database

REGIONS = 550
KPPN_SHARE = 50
PROVINCES = 38
ASSESSORS = 5
PANEL_SIZE = 5
TARGET_COMPUTE_SECONDS = 10.0
TARGET_PDF_SECONDS = 2.0


# --- a PostgreSQL to run against -----------------------------------------------------------------


def _pg_bindir() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: p.parent.parent.name)
    if not found:
        raise SystemExit("bench_results: PostgreSQL's initdb not found (apt-get install postgresql)")
    return found[-1].parent


@contextmanager
def _throwaway_cluster() -> Iterator[str]:
    """initdb into a temporary folder (as the postgres user when root), start, yield a URL."""
    bindir = _pg_bindir()
    folder = Path(tempfile.mkdtemp(prefix="cityeval-bench-pg."))
    root = os.geteuid() == 0

    def as_pg(*command: str) -> None:
        prefix = ["runuser", "-u", "postgres", "--"] if root else []
        subprocess.run([*prefix, *command], cwd=folder, check=True, capture_output=True)

    if root:
        shutil.chown(folder, "postgres", "postgres")
    folder.chmod(0o700)
    data = folder / "data"
    as_pg(str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8", "--locale=C.UTF-8",
          "--no-sync", "--auth-local=trust", "--auth-host=scram-sha-256")  # fmt: skip
    port = free_port()
    options = f"-c listen_addresses=127.0.0.1 -p {port} -k {folder} -c fsync=off -c synchronous_commit=off"
    as_pg(
        str(bindir / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(folder / "server.log"),
        "-w",
        "-o",
        options,
        "start",
    )
    try:
        password = secrets.token_hex(16)
        as_pg(
            str(bindir / "psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-h", str(folder), "-p", str(port),
            "-U", "postgres", "-d", "postgres",
            "-c", f"CREATE ROLE cityeval LOGIN CREATEDB PASSWORD '{password}'",
            "-c", "CREATE DATABASE cityeval OWNER cityeval",
        )  # fmt: skip
        yield f"postgres://cityeval:{password}@127.0.0.1:{port}/cityeval"
    finally:
        as_pg(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _fresh_database(url: str) -> Iterator[str]:
    """A new, empty database on the server of ``url``, dropped afterwards; this process's
    Django connections to it are closed first."""
    with fresh_database(url, "cityeval_bench") as fresh:
        try:
            yield fresh
        finally:
            from django.db import connections

            connections.close_all()


@contextmanager
def _database() -> Iterator[str]:
    given = os.environ.get("CITYEVAL_BENCH_DATABASE_URL")
    if given:
        with _fresh_database(given) as url:
            yield url
        return
    with _throwaway_cluster() as server, _fresh_database(server) as url:
        yield url


def _django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "cityeval.web.settings")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0, interactive=False)


# --- the synthetic national cycle (not timed) --------------------------------------------------------


def _national_cycle(seed: int = 7):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from cityeval.web.accounts.models import Membership, Role
    from cityeval.web.evaluations.models import Cycle, Participation
    from cityeval.web.evaluations.services import framework_version_builtin
    from cityeval.web.panels.models import Feedback, ItemScore, Panel, PanelMember, PanelRegion
    from cityeval.web.regions.models import Province, Region

    rng = random.Random(seed)
    version = framework_version_builtin("gmsc-2023")
    framework = version.framework
    provinces = [Province.objects.create(name=f"Province {p:02d}") for p in range(PROVINCES)]
    regions = Region.objects.bulk_create(
        Region(name=f"Region {r:03d}", slug=f"region-{r:03d}", kind="kota", province=provinces[r % PROVINCES])
        for r in range(REGIONS)
    )
    cycle = Cycle.objects.create(
        slug="bench-2023", name="Bench 2023", year=2023, framework=version, status=Cycle.Status.CLOSED,
        self_assessment_deadline="2023-06-30T00:00:00Z",
    )  # fmt: skip
    participations = Participation.objects.bulk_create(
        Participation(cycle=cycle, region=region, group="KPPN_IKN" if r < KPPN_SHARE else "REGULER")
        for r, region in enumerate(regions)
    )
    users = get_user_model()
    coordinator = users.objects.create_user(username="coordinator")
    Membership.objects.create(user=coordinator, role=Role.COORDINATOR)
    assessors = [users.objects.create_user(username=f"assessor{a}") for a in range(ASSESSORS)]
    scores, feedback = [], []
    for start in range(0, REGIONS, PANEL_SIZE):
        panel = Panel.objects.create(
            cycle=cycle, stage="stage_2", name=f"Panel {start // PANEL_SIZE + 1:03d}"
        )
        PanelMember.objects.bulk_create(
            PanelMember(panel=panel, user=user, affiliation="university", is_chair=a == 0)
            for a, user in enumerate(assessors)
        )
        for participation in participations[start : start + PANEL_SIZE]:
            pr = PanelRegion.objects.create(panel=panel, participation=participation, stage="stage_2")
            ability = rng.uniform(0.5, 3.8)
            for _component, item in framework.items_for(participation.group):
                for user in assessors:
                    level = float(min(4, max(0, round(ability + rng.gauss(0, 0.7)))))
                    scores.append(ItemScore(panel_region=pr, item=item.code, assessor=user, score=level))
            feedback += [
                Feedback(panel_region=pr, assessor=user, strengths="Strong data portal. " * 8,
                         weaknesses="Late OPD reports. " * 8, recommendations="Publish the action plan. " * 8)
                for user in assessors
            ]  # fmt: skip
    ItemScore.objects.bulk_create(scores, batch_size=5000)
    Feedback.objects.bulk_create(feedback, batch_size=5000)
    # Fresh tables have no planner statistics until autovacuum analyses them (within about a
    # minute in production, where scores arrive over weeks). Without them PostgreSQL joins the
    # 300k scores by nested loops and the score query alone takes ~15 s instead of ~1 s.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return cycle, coordinator, len(scores)


def _median(fn: Callable[[], object], repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run() -> dict[str, float]:
    from django.apps import apps

    if apps.ready:  # Django reads its settings once: the database can no longer be chosen here
        print("  skipped: Django was set up by an earlier benchmark; run `make bench ARGS=results`")
        return {}
    with _database() as url, tempfile.TemporaryDirectory(prefix="cityeval-bench-data.") as data:
        os.environ.setdefault("CITYEVAL_DATA_DIR", data)  # media and static files, not the database
        _django(url)
        from django.db import connection
        from django.test import Client

        from cityeval.web.results.services import results_compute

        print(f"PostgreSQL {connection.pg_version // 10000}; setting up the national cycle (not timed) …")
        cycle, coordinator, count = _national_cycle()
        print(
            f"national cycle: {REGIONS} regions, {count:,} assessor scores ({ASSESSORS} assessors), gmsc-2023"
        )

        compute = _median(lambda: results_compute(cycle=cycle, user=coordinator), repeat=3)

        client = Client(SERVER_NAME="localhost")
        client.force_login(coordinator)
        url = "/r/region-123/bench-2023/results/letter.pdf"

        def letter() -> None:
            response = client.get(url)
            assert response.status_code == 200 and response.content.startswith(b"%PDF"), response.status_code

        letter()  # warm-up: WeasyPrint, Pango and the fonts load once per process
        pdf = _median(letter, repeat=5)
        public = Client(SERVER_NAME="localhost")
        from cityeval.web.results.services import cycle_publish

        cycle_publish(cycle=cycle, user=coordinator)
        start = time.perf_counter()
        response = public.get("/results/bench-2023/letter.pdf")
        whole = time.perf_counter() - start
        assert response.status_code == 200

    target_compute, target_pdf = TARGET_COMPUTE_SECONDS, TARGET_PDF_SECONDS
    print(f"  compute + store (score, agreement)  median {compute:6.2f} s  (target < {target_compute:g} s)")
    print(f"  one region's PDF letter             median {pdf:6.2f} s  (target < {target_pdf:g} s)")
    size = len(response.content) // 1024
    print(f"  whole cycle's public PDF, once            {whole:6.2f} s  ({size} KiB)")
    met = compute < TARGET_COMPUTE_SECONDS and pdf < TARGET_PDF_SECONDS
    print(f"  targets {'met' if met else 'NOT met'}")
    return {"compute_s": compute, "pdf_s": pdf, "cycle_pdf_s": whole}


if __name__ == "__main__":
    run()
