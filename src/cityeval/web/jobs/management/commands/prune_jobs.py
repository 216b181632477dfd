"""``cityeval manage prune_jobs``: delete the background jobs finished before their retention
period (``JOBS_KEEP_DAYS``, ``JOBS_SCHEDULED_KEEP_DAYS``) with the files only they hold, as
``cityeval worker`` does once a day (``jobs.retention``); ``--dry-run`` says what would go and
changes nothing."""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser

from cityeval.web.jobs.retention import jobs_prune


class Command(BaseCommand):
    help = "Delete background jobs finished long ago, with their stored files."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--dry-run", action="store_true", help="list what would be deleted, change nothing"
        )

    def handle(self, *args, **options) -> None:
        dry = options["dry_run"]
        pruned = jobs_prune(dry_run=dry)
        verb = "would delete" if dry else "deleted"
        self.stdout.write(
            f"{verb}: {pruned.jobs} jobs and {len(pruned.files)} files "
            f"(jobs finished more than {settings.JOBS_KEEP_DAYS} days ago, "
            f"{settings.JOBS_SCHEDULED_KEEP_DAYS} for the worker's own; 0: kept for ever)"
        )
        for kind, count in sorted(pruned.kinds.items()):
            self.stdout.write(f"  jobs {kind}: {count}")
        for name in pruned.files:
            self.stdout.write(f"  file {name}")
        for name in pruned.kept:
            self.stdout.write(f"  kept {name} (another job still names it)")
