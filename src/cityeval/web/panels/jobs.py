"""Sending the notices that are due, as a background job (``cityeval.web.jobs``) or from
``cityeval manage send_notices``: the deadline reminders that are due (self-assessment, scores),
every e-mail of immediate delivery not sent yet (a first send that failed, a reminder), and the
daily digests. It lives in ``panels``, the highest app whose data the reminders read.

``cityeval worker`` queues the job once per ``JOBS_NOTICES_EVERY_SECONDS`` (one job per period,
whatever the number of workers: ``jobs.services.job_schedule``); a notice's first e-mail is
still sent when the notice is made (``notices.services.notice_send``), so the job catches up
the rest. Each notice is mailed once: a run claims it (``emailed_at`` set by a locked, conditional
write) before sending it, so a run killed half-way and run again, or two runs at once, never mail
a notice twice; a reminder is one notice per person and deadline window (its dedupe key). The
job's progress counts one step for the reminders, then each e-mail and each digest.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import NamedTuple

from django.utils import timezone
from django.utils.translation import gettext as _

from cityeval.web.assessments.reminders import self_assessment_reminders
from cityeval.web.jobs.models import Job
from cityeval.web.jobs.services import JobLink
from cityeval.web.notices.services import digests_send, notices_mail_pending, planned_send
from cityeval.web.panels.reminders import scores_due_reminders

Progress = Callable[[int, int], None]


class Sent(NamedTuple):
    reminders: int
    scores_due: int
    mails: int
    digests: int


def notices_due_send(*, now: dt.datetime, dry_run: bool = False, progress: Progress | None = None) -> Sent:
    """Make the reminders that are due, then mail what is waiting; what was sent (or would
    be, with ``dry_run``). ``progress(done, total)``: one step for the reminders, one for each
    e-mail and each digest."""
    report = progress or (lambda done, total: None)
    reminders = planned_send(self_assessment_reminders(now), dry_run=dry_run)
    due = planned_send(scores_due_reminders(now), dry_run=dry_run)
    mails_due = notices_mail_pending(now=now, dry_run=True)
    digests_due = digests_send(now=now, dry_run=True)
    total = 1 + mails_due + digests_due
    report(1, total)
    if dry_run:
        return Sent(reminders, due, mails_due, digests_due)
    mails = notices_mail_pending(now=now, progress=lambda n: report(1 + min(n, mails_due), total))
    digests = digests_send(now=now, progress=lambda n: report(1 + mails_due + min(n, digests_due), total))
    return Sent(reminders, due, mails, digests)


def notices_send_job(job: Job, progress: Progress) -> JobLink:
    """The job the worker queues: :func:`notices_due_send` now; what it sent, for its page."""
    sent = notices_due_send(now=timezone.now(), progress=progress)
    text = _(
        "Sent: %(reminders)d self-assessment reminders, %(due)d scores-due reminders, "
        "%(mails)d e-mails, %(digests)d daily digests."
    ) % {"reminders": sent.reminders, "due": sent.scores_due, "mails": sent.mails, "digests": sent.digests}
    return JobLink(text, "")
