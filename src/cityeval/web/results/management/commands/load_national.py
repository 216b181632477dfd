"""``cityeval manage load_national [--regions N] [--responses N] [--seed N]``.

Loads the synthetic national-size cycle (see ``cityeval.web.results.national``) for load benchmarks:
550 regions and ~495,000 survey responses by default. Into a migrated database without it.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError

from cityeval.web.results.national import ASSESSOR_POOL, REGIONS, RESPONSES, load_national


class Command(BaseCommand):
    help = "Load a synthetic national-size cycle (regions, panels, scores, survey responses) for benchmarks."

    def add_arguments(self, parser):
        parser.add_argument("--regions", type=int, default=REGIONS, help=f"regions (default {REGIONS})")
        parser.add_argument(
            "--responses",
            type=int,
            default=RESPONSES,
            help=f"survey responses in all (default {RESPONSES:,})",
        )
        parser.add_argument(
            "--assessors", type=int, default=ASSESSOR_POOL, help=f"assessor pool (default {ASSESSOR_POOL})"
        )
        parser.add_argument("--seed", type=int, default=2024)

    def handle(self, *args, regions: int, responses: int, assessors: int, seed: int, **options):
        if regions < 1 or responses < 0:
            raise CommandError("--regions must be at least 1 and --responses at least 0")
        start = time.perf_counter()
        say = lambda line: self.stdout.write(f"[{time.perf_counter() - start:6.1f} s] {line}")  # noqa: E731
        try:
            counts = load_national(
                regions=regions, responses=responses, assessors=assessors, seed=seed, say=say
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from None
        say(
            f"done: {counts.regions} regions, {counts.panels} panels, {counts.scores:,} marks, "
            f"{counts.answers:,} answers, {counts.forms} forms, {counts.responses:,} responses"
        )
