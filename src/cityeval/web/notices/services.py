"""Writes for notices: make one (idempotently, by its dedupe key), mail it, send the daily
digests, mark notices read and save a person's preference.

Mail is claimed before it is sent: ``emailed_at`` is set by a conditional UPDATE, so of two
runs (or a run and the request that made the notice) only one sends; a failed send clears the
claim again, and the next ``send_notices`` run retries it.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import partial
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.core.mail import get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.translation import gettext_lazy as _

from cityeval.web.mail import absolute_url, mail_build
from cityeval.web.notices.models import Kind, Notice, NoticePreference
from cityeval.web.notices.selectors import language_of, preference_of
from cityeval.web.notices.texts import notice_text
from cityeval.web.refusals import Refused

logger = logging.getLogger(__name__)

RETRY_DAYS = 7  # an immediate notice whose mail keeps failing is retried this long
DIGEST_MAX = 100  # notices listed in one digest; the rest follow in the next one


def notice_send(
    *, users: Iterable[User], kind: str, params: dict[str, Any], url: str, dedupe_key: str, mail: bool = True
) -> list[Notice]:
    """A notice of ``kind`` for each of ``users`` who has none with ``dedupe_key`` yet; returns
    the new ones. With ``mail``, each person who chose immediate delivery is mailed once the
    caller's transaction commits (a failed send is retried by ``send_notices``)."""
    kind = Kind(kind)
    made = []
    for user in users:
        notice, created = Notice.objects.get_or_create(
            user=user, dedupe_key=dedupe_key[:200], defaults={"kind": kind, "params": params, "url": url}
        )
        if created:
            made.append(notice)
    if mail and made:
        immediate = _immediate_ids({n.user_id for n in made})
        for notice in made:
            if notice.user_id in immediate:
                transaction.on_commit(partial(notice_mail, notice_id=notice.pk))
    return made


@dataclass(frozen=True)
class Planned:
    """A notice a scheduled check wants to send (a reminder), before it is made."""

    user: User
    kind: str
    params: dict[str, Any]
    url: str
    dedupe_key: str


REMINDER_DAYS = (1, 7)  # reminders go out 7 days and 1 day before a deadline


def reminder_window(deadline: dt.datetime | None, now: dt.datetime) -> int | None:
    """Which reminder is due for ``deadline`` at ``now``: 1 in its last day, 7 in the six days
    before, none earlier or once it has passed. A run missed at the 7-day mark still sends the
    7-day reminder later (it names the deadline, not the days left), until the last day starts."""
    if deadline is None or deadline <= now:
        return None
    left = deadline - now
    return next((days for days in REMINDER_DAYS if left <= dt.timedelta(days=days)), None)


def planned_send(planned: Iterable[Planned], *, dry_run: bool = False) -> int:
    """Make the planned notices nobody has yet (by user and dedupe key), without mail: the
    caller mails them (``notices_mail_pending``) or the digest lists them. How many are new."""
    made = 0
    for p in planned:
        if dry_run:
            made += not Notice.objects.filter(user=p.user, dedupe_key=p.dedupe_key[:200]).exists()
        else:
            made += len(
                notice_send(
                    users=[p.user],
                    kind=p.kind,
                    params=p.params,
                    url=p.url,
                    dedupe_key=p.dedupe_key,
                    mail=False,
                )
            )
    return made


def _immediate_ids(user_ids: set[int]) -> set[int]:
    daily = set(
        NoticePreference.objects.filter(
            user_id__in=user_ids, delivery=NoticePreference.Delivery.DAILY
        ).values_list("user_id", flat=True)
    )
    return user_ids - daily


def _claim(ids: list[int], now: dt.datetime) -> list[int]:
    """The notices among ``ids`` this caller now owns the mail of (none already mailed)."""
    with transaction.atomic():
        claimed = list(
            Notice.objects.select_for_update()
            .filter(pk__in=ids, emailed_at=None)
            .values_list("pk", flat=True)
        )
        Notice.objects.filter(pk__in=claimed).update(emailed_at=now)
    return claimed


def _release(ids: list[int]) -> None:
    Notice.objects.filter(pk__in=ids).update(emailed_at=None)


def _texts(notices: list[Notice], language: str) -> list[dict[str, str]]:
    with translation.override(language):
        rows = []
        for notice in notices:
            title, body = notice_text(notice)
            # Through the notice's own link, so that opening it from the mail marks it read.
            opener = reverse("notices:open", kwargs={"notice": notice.public_id})
            rows.append({"title": title, "body": body, "link": absolute_url(opener)})
    return rows


def notice_mail(*, notice_id: int, now: dt.datetime | None = None) -> bool:
    """Mail one notice to its reader, in their language; whether it was sent now. Nothing for a
    notice already mailed or a person without an e-mail address; a failure is logged and the
    notice left for the next run."""
    notice = Notice.objects.select_related("user").filter(pk=notice_id).first()
    if notice is None or not notice.user.email or not notice.user.is_active:
        return False
    if not _claim([notice.pk], now or timezone.now()):
        return False
    language = language_of(notice.user)
    row = _texts([notice], language)[0]
    try:
        message = mail_build(
            to=notice.user.email, template="notice", context=row, link=row["link"], language=language
        )
        message.connection = get_connection()
        message.send()
    except Exception:
        logger.exception("notice %s: sending the mail failed; the next run retries it", notice.public_id)
        _release([notice.pk])
        return False
    return True


def notices_mail_pending(
    *, now: dt.datetime, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> int:
    """Mail the immediate notices not mailed yet (their first send failed, or they were made
    without mail by ``send_notices``); how many were sent (or would be, with ``dry_run``).
    ``progress`` is told how many were handled after each one."""
    pending = Notice.objects.filter(
        # The retry's age on the real clock: ``now`` may be a test's or a catch-up's moment.
        emailed_at=None,
        created_at__gte=timezone.now() - dt.timedelta(days=RETRY_DAYS),
        user__is_active=True,
    ).exclude(user__email="")
    pending = pending.exclude(user__notice_preference__delivery=NoticePreference.Delivery.DAILY)
    ids = list(pending.order_by("pk").values_list("pk", flat=True))
    if dry_run:
        return len(ids)
    return sum(
        _each(notice_mail(notice_id=pk, now=now), number, progress) for number, pk in enumerate(ids, 1)
    )


def _each(sent: bool, number: int, progress: Callable[[int], None] | None) -> bool:
    if progress is not None:
        progress(number)
    return sent


def _digest_due(preference: NoticePreference, now: dt.datetime) -> bool:
    local = timezone.localtime(now)
    return local.hour >= settings.NOTICE_DIGEST_HOUR and preference.digest_sent_on != local.date()


def digests_send(
    *, now: dt.datetime, dry_run: bool = False, progress: Callable[[int], None] | None = None
) -> int:
    """One digest per person with daily delivery who has notices neither mailed nor read on the
    site, once a local day from ``NOTICE_DIGEST_HOUR``; how many digests were sent (or would be).
    ``progress`` is told how many people were handled after each one."""
    preferences = NoticePreference.objects.filter(
        delivery=NoticePreference.Delivery.DAILY, user__is_active=True
    ).exclude(user__email="")
    # Notices not mailed and not read on the site meanwhile (one filter: the same notice).
    preferences = preferences.filter(user__notices__emailed_at=None, user__notices__read_at=None)
    preferences = preferences.distinct().select_related("user")
    due = [p for p in preferences.order_by("user_id") if _digest_due(p, now)]
    if dry_run:
        return len(due)
    return sum(_each(_digest_send(p, now), number, progress) for number, p in enumerate(due, 1))


def _digest_send(preference: NoticePreference, now: dt.datetime) -> bool:
    user = preference.user
    local_day = timezone.localtime(now).date()
    with transaction.atomic():
        locked = NoticePreference.objects.select_for_update().get(pk=preference.pk)
        if not _digest_due(locked, now):
            return False  # another run sent it meanwhile
        ids = list(
            Notice.objects.filter(user=user, emailed_at=None, read_at=None)
            .order_by("created_at", "pk")
            .values_list("pk", flat=True)[:DIGEST_MAX]
        )
        claimed = _claim(ids, now)
        previous = locked.digest_sent_on
        locked.digest_sent_on = local_day
        locked.save(update_fields=["digest_sent_on"])
    if not claimed:
        return False
    notices = list(Notice.objects.filter(pk__in=claimed).order_by("created_at", "pk"))
    language = language_of(user, locked)
    rows = _texts(notices, language)
    try:
        message = mail_build(
            to=user.email,
            template="notice_digest",
            context={"notices": rows, "count": len(rows)},
            link=absolute_url(reverse("notices:list")),
            language=language,
        )
        message.connection = get_connection()
        message.send()
    except Exception:
        logger.exception("the notice digest of user %s failed; the next run retries it", user.pk)
        _release(claimed)
        NoticePreference.objects.filter(pk=locked.pk).update(digest_sent_on=previous)
        return False
    return True


def notice_read(*, notice: Notice) -> None:
    if notice.read_at is None:
        notice.read_at = timezone.now()
        Notice.objects.filter(pk=notice.pk, read_at=None).update(read_at=notice.read_at)


def notices_read_all(*, user: User) -> int:
    """Mark every unread notice of ``user`` read; how many were unread."""
    return Notice.objects.filter(user=user, read_at=None).update(read_at=timezone.now())


class NoAddress(Refused):
    """E-mail choices for an account without an e-mail address: nothing could be mailed."""

    status = 400
    default_message = _(
        "Your account has no e-mail address, so notices cannot be sent to you by e-mail: they are "
        "shown on the notices page only."
    )


def preference_save(*, user: User, delivery: str, language: str) -> NoticePreference:
    """Save how (and in which language) the person's notices are mailed; NoAddress when the
    account has no e-mail address."""
    if not user.email:
        raise NoAddress
    preference = preference_of(user)
    preference.delivery = NoticePreference.Delivery(delivery)
    preference.language = language if language in {code for code, _n in settings.LANGUAGES} else ""
    preference.save()
    return preference
