"""``cityeval manage send_notices``: what the scheduler runs (every hour).

It makes the reminders that are due (self-assessment deadlines, scores due), mails every
notice of people with immediate delivery that is not mailed yet (new reminders, and earlier
sends that failed), and sends the daily digests. It is idempotent: a reminder is one notice per
person and window (its dedupe key), and a notice is mailed once, so running it twice sends
nothing twice. It lives in ``panels``, the highest app whose data the reminders read. With
``cityeval worker`` running, the worker does the same as a job every hour (``panels.jobs``), and
no scheduler is needed; running both is harmless.
"""

from __future__ import annotations

import datetime as dt

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils import timezone

from cityeval.web.panels.jobs import notices_due_send


def _moment(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError:
        raise CommandError(
            f"--now must be an ISO date and time, e.g. 2026-09-01T07:00+07:00, not {text!r}"
        ) from None
    return value if timezone.is_aware(value) else timezone.make_aware(value)


class Command(BaseCommand):
    help = "Send the notices that are due: deadline reminders, unsent e-mail and daily digests."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--now", help="act as at this ISO date and time (tests, catching up)")
        parser.add_argument("--dry-run", action="store_true", help="count what would be sent, change nothing")

    def handle(self, *args, **options) -> None:
        now = _moment(options["now"]) if options["now"] else timezone.now()
        dry = options["dry_run"]
        sent = notices_due_send(now=now, dry_run=dry)
        verb = "would send" if dry else "sent"
        self.stdout.write(
            f"{verb}: {sent.reminders} self-assessment reminders, {sent.scores_due} scores-due reminders, "
            f"{sent.mails} e-mails, {sent.digests} daily digests"
        )
