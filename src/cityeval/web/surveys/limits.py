"""The public survey's abuse limits, counted in the database so that every app process (and a
restart) sees the same numbers.

The policy, as a survey operator needs it:

- **One address** may send ``SURVEY_LIMIT_PER_IP_HOUR`` new responses to a form per clock hour;
  beyond that it is refused (429). Only that address is refused, so the limit cannot be used
  to shut the form for anyone else. An IPv6 address counts as its /64 (:func:`sender_of`): one
  subscriber is given a whole /64 and can rotate through it at will.
- **Nothing is refused for the form as a whole.** A network (an IPv4 /24 or IPv6 /64, where a
  botnet or one office's addresses sit) that sends more than ``SURVEY_BURST_PER_NETWORK_HOUR``
  responses to a form in a clock hour keeps being accepted but the excess is marked ``burst``:
  stored, shown in the quality view, excluded from the statistics like the other quality
  reasons. The mark is tied to the sender's network, so a flood cannot mark anyone else's
  response. A form receiving more than ``SURVEY_BURST_PER_FORM_HOUR`` in one hour is only
  reported to the region (``selectors.busy_hours``, counted from the stored responses).
- Responses entered by the region's logged-in staff ("assisted") are not counted: they are
  attributable and an office shares one address.

Counters are rows of :class:`RateCounter`, one per key and window, made or incremented by one
``INSERT … ON CONFLICT DO UPDATE SET count = count + 1 RETURNING count`` (atomic on SQLite and
PostgreSQL; an SQLite without RETURNING updates, else inserts). Django's database cache
is not used because its ``incr`` is a read followed by a write, which loses counts under
concurrency.
"""

from __future__ import annotations

import datetime as dt
import ipaddress

from django.conf import settings
from django.db import IntegrityError, connections, router, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy

from cityeval.web.addresses import network_of
from cityeval.web.refusals import Refused
from cityeval.web.surveys.models import RateCounter, SurveyForm

HOUR = 3600


class RateLimited(Refused):
    """Too many submissions from one address; nothing was stored."""

    status = 429
    default_message = gettext_lazy("Too many submissions; try again later.")


def count(key: str, *, window: int = HOUR, now: dt.datetime | None = None) -> int:
    """Add one to ``key`` in the current fixed window of ``window`` seconds and return the new
    count. Atomic across processes: concurrent calls return distinct, consecutive counts."""
    now = now or timezone.now()
    start = int(now.timestamp()) // window * window
    name = f"{key}@{start}"
    expires_at = dt.datetime.fromtimestamp(start + window, tz=dt.UTC)
    connection = connections[router.db_for_write(RateCounter)]
    if connection.features.can_return_columns_from_insert:
        counted = _upsert(connection, name, expires_at)
    else:
        counted = _update_or_create(name, expires_at)
    if counted == 1 and _swept.get(window) != start:
        # A new window opened: forget the ones that are over (indexed, so cheap). Once per
        # window and process is enough: windows are aligned to the clock, so no row expires
        # between two windows' starts, and a row past its window is never read again.
        # A window [start, start + window) is over at its end: the last one ends at this start.
        RateCounter.objects.filter(expires_at__lte=now).delete()
        _swept[window] = start
    return counted


# Per window length, the start of the last window in which this process deleted the counters
# that were over.
_swept: dict[int, int] = {}


def _upsert(connection: BaseDatabaseWrapper, name: str, expires_at: dt.datetime) -> int:
    """One statement (PostgreSQL, SQLite 3.35+): insert the window's row with 1, or add one to
    it; the row is locked while it changes, so concurrent calls get distinct counts."""
    quote = connection.ops.quote_name
    table, key, counted, expires = (
        quote(RateCounter._meta.db_table),
        quote(RateCounter._meta.get_field("key").column),
        quote(RateCounter._meta.get_field("count").column),
        RateCounter._meta.get_field("expires_at"),
    )
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} ({key}, {counted}, {quote(expires.column)}) VALUES (%s, 1, %s) "
            f"ON CONFLICT ({key}) DO UPDATE SET {counted} = {table}.{counted} + 1 RETURNING {counted}",
            [name, expires.get_db_prep_value(expires_at, connection)],
        )
        return cursor.fetchone()[0]


def _update_or_create(name: str, expires_at: dt.datetime) -> int:
    """The same count without ``INSERT … RETURNING``: an update, else an insert."""
    with transaction.atomic():
        if RateCounter.objects.filter(key=name).update(count=F("count") + 1):
            return RateCounter.objects.filter(key=name).values_list("count", flat=True).get()
        try:
            with transaction.atomic():
                RateCounter.objects.create(key=name, count=1, expires_at=expires_at)
        except IntegrityError:  # another process opened the window first
            RateCounter.objects.filter(key=name).update(count=F("count") + 1)
            return RateCounter.objects.filter(key=name).values_list("count", flat=True).get()
    return 1


def sender_of(ip: str) -> str:
    """Who the per-address limit counts: an IPv4 address (also written IPv4-mapped) itself, the
    /64 of an IPv6 one; anything else as it is."""
    try:
        address = ipaddress.ip_address(ip)
    except ValueError:
        return ip
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return str(address.ipv4_mapped)
    return str(address) if address.version == 4 else network_of(ip)


def submission_check(*, form: SurveyForm, address: str, network: str, exempt: bool = False) -> bool:
    """Count one new submission to ``form``; True when it is part of a burst from its network.

    ``address`` and ``network`` are the salted hashes of the sender's :func:`sender_of` and of
    its :func:`network_of`. Raises RateLimited (counting nothing else) when the address is over
    its hourly limit. ``exempt`` (staff entering an assisted response) counts nothing and is
    never a burst.
    """
    if exempt:
        return False
    now = timezone.now()
    # Each count is one statement that locks one row while it changes it, so concurrent
    # submissions cannot deadlock, and no transaction is held around the two.
    from_address = count(f"ip:{form.pk}:{address[:32]}", now=now)
    from_network = 0
    if from_address <= settings.SURVEY_LIMIT_PER_IP_HOUR:
        from_network = count(f"net:{form.pk}:{network[:32]}", now=now)
    if from_address > settings.SURVEY_LIMIT_PER_IP_HOUR:
        raise RateLimited
    return from_network > settings.SURVEY_BURST_PER_NETWORK_HOUR
