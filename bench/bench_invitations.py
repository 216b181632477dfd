"""Benchmark: bulk invitation of 550 regional admins from one CSV — target < 10 s.

The coordinator's upload, end to end through the service (``invitations_import``): reading
and bounding the file, checking every row, writing the 550 invitations in one transaction,
and rendering and sending 550 messages (text and HTML, Indonesian) over Django's locmem
backend (no network). Runs in a fresh process on a throwaway SQLite database under a temporary
folder; it prints the time of each of three runs (each on new addresses) and the median.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

REGIONS = 550
RUNS = 3
TARGET = 10.0

SCRIPT = """
import statistics, sys, time
import django
django.setup()
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.contrib.auth.models import User
from django.test.utils import setup_test_environment

setup_test_environment()  # the locmem backend and mail.outbox
call_command("migrate", verbosity=0, interactive=False)
from cityeval.web.accounts.invitation_import import invitations_import
from cityeval.web.accounts.models import Invitation, Membership, Role
from cityeval.web.regions.models import Province, Region

REGIONS, RUNS = int(sys.argv[1]), int(sys.argv[2])
province = Province.objects.create(name="Bench")
Region.objects.bulk_create(
    [Region(name=f"Kab. Bench {n:03d}", slug=f"kab-bench-{n:03d}", kind="kabupaten", province=province)
     for n in range(REGIONS)]
)
coordinator = User.objects.create_user("bench-coordinator")
Membership.objects.create(user=coordinator, role=Role.COORDINATOR)
times = []
for run in range(RUNS):
    rows = [f"kab-bench-{n:03d},Admin {n},a{n}.r{run}@example.go.id,regional_admin" for n in range(REGIONS)]
    data = ("region,name,email,role\\n" + "\\n".join(rows) + "\\n").encode()
    mail.outbox = []
    start = time.perf_counter()
    count = invitations_import(by=coordinator, upload=SimpleUploadedFile("admins.csv", data))
    times.append(time.perf_counter() - start)
    assert count == REGIONS and len(mail.outbox) == REGIONS, (count, len(mail.outbox))
print(" ".join(f"{t:.2f}" for t in times), statistics.median(times), Invitation.objects.count())
"""


def run() -> None:
    with tempfile.TemporaryDirectory(prefix="cityeval-bench-invite-") as folder:
        env = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "cityeval.web.settings",
            "DATABASE_URL": f"sqlite:///{Path(folder) / 'bench.sqlite3'}",
            "CITYEVAL_DATA_DIR": folder,
            "DEBUG": "1",
        }
        env.pop("SECRET_KEY", None)
        done = subprocess.run(
            [sys.executable, "-c", SCRIPT, str(REGIONS), str(RUNS)], env=env, capture_output=True, text=True
        )
    if done.returncode != 0:
        print(done.stderr[-3000:])
        raise SystemExit("bench_invitations: the run failed")
    *each, median, total = done.stdout.split()
    verdict = "meets" if float(median) < TARGET else "MISSES"
    print(f"  {REGIONS} regional admins from one CSV, locmem mail: runs {', '.join(each)} s")
    print(f"  median {float(median):.2f} s — {verdict} the target of < {TARGET:g} s ({total} written in all)")
