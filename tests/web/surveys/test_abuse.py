"""The public survey under attack: limits shared by every process (an IPv6 /64 counted as one
address), no form-wide lock-out, a network's bursts stored but flagged and not counted, a
form-wide flood an alert that marks nobody's response, the same phone counted once per form,
and a web submission racing an import with the same id."""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings

from cityeval.web.surveys import responses
from cityeval.web.surveys.limits import count, network_of, sender_of
from cityeval.web.surveys.models import RateCounter, Response
from cityeval.web.surveys.responses import responses_import
from cityeval.web.surveys.selectors import busy_hours, quality_of, survey_stats
from tests.helpers.web_surveys import answers_post, kobo_csv, public_url, respond, started_ago, url


def api_post(form, *, ip: str, **changes):
    rid = str(uuid.uuid4())
    data = {
        "response_id": rid, "started": started_ago(form=form, response_id=rid), "used_service": True,
        "answers": {"service.1": 4, "service.2": 3, "service.3": 2},
    }  # fmt: skip
    data.update(changes)
    return Client(REMOTE_ADDR=ip).post(
        f"/api/survey/{form.token}/responses", json.dumps(data), content_type="application/json"
    )


# --- counters shared by every process ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_counter_lives_in_the_database_and_is_shared_by_another_connection():
    """Counting three times, then once from another thread — another database connection, as
    another app process has — gives 4; clearing the per-process cache resets nothing."""
    assert [count("test:shared") for _ in range(3)] == [1, 2, 3]
    cache.clear()  # what a restart (or another process's empty memory) would see
    seen: list[int] = []

    def other_process():
        seen.append(count("test:shared"))
        connection.close()

    worker = threading.Thread(target=other_process)
    worker.start()
    worker.join()
    assert seen == [4]
    [row] = RateCounter.objects.filter(key__startswith="test:shared@")
    assert row.count == 4


@pytest.mark.django_db(transaction=True)
def test_concurrent_counts_lose_nothing():
    """Four connections count the same key 25 times each at once: the counts returned are
    exactly 1..100, each once (a read-then-write counter, as Django's database cache's
    ``incr``, returns repeats and ends below 100 under this load)."""
    seen: list[int] = []
    barrier = threading.Barrier(4)

    def worker():
        barrier.wait()
        got = [count("test:race") for _ in range(25)]
        seen.extend(got)
        connection.close()

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(1, 101))


def test_an_old_window_is_forgotten_when_a_new_one_opens(db):
    t0 = dt.datetime(2024, 10, 1, 9, 30, tzinfo=dt.UTC)
    assert count("test:w", now=t0) == 1 and count("test:w", now=t0) == 2
    assert count("test:w", now=t0 + dt.timedelta(hours=1)) == 1  # the 10:00–11:00 window
    assert count("test:w", now=t0 + dt.timedelta(hours=3)) == 1
    assert RateCounter.objects.filter(key__startswith="test:w@").count() == 1  # older ones deleted


def test_the_network_of_an_address():
    """/24 for IPv4, /64 for IPv6 (RFC 4291 §2.5.4 interface ids), other text unchanged."""
    assert network_of("203.0.113.77") == "203.0.113.0/24"
    assert network_of("2001:db8:1:2:3:4:5:6") == "2001:db8:1:2::/64"
    assert network_of("::ffff:203.0.113.77") == "203.0.113.0/24"  # not every IPv4 client in one /64
    assert network_of("not an address") == "not an address"


def test_the_sender_the_address_limit_counts():
    """An IPv4 address itself (IPv4-mapped written as IPv4), an IPv6 address as its /64: a
    subscriber is delegated a whole /64 (RFC 6177) and may use any address in it."""
    assert sender_of("203.0.113.77") == "203.0.113.77"
    assert sender_of("::ffff:203.0.113.77") == "203.0.113.77"
    assert sender_of("2001:db8:1:2:3:4:5:6") == sender_of("2001:db8:1:2::1") == "2001:db8:1:2::/64"
    assert sender_of("2001:db8:1:3::1") == "2001:db8:1:3::/64"
    assert sender_of("not an address") == "not an address"


@override_settings(
    SURVEY_LIMIT_PER_IP_HOUR=3, SURVEY_BURST_PER_FORM_HOUR=1000, SURVEY_BURST_PER_NETWORK_HOUR=1000
)
def test_rotating_ipv6_addresses_within_one_64_hits_the_address_limit(service_form):
    """The review sent 160 posts from 160 addresses of one /64, all accepted. With a limit of 3,
    five addresses of one /64 get 201, 201, 201, 429, 429; an address of the next /64 and four
    IPv4 addresses of one /24 are still each their own sender."""
    statuses = [api_post(service_form, ip=f"2001:db8:1:2::{n:x}").status_code for n in range(1, 6)]
    assert statuses == [201, 201, 201, 429, 429]
    assert api_post(service_form, ip="2001:db8:1:3::1").status_code == 201
    assert [api_post(service_form, ip=f"198.51.100.{n}").status_code for n in range(1, 5)] == [201] * 4
    assert Response.objects.count() == 8


# --- no lock-out for the form as a whole --------------------------------------------------------


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=2, SURVEY_BURST_PER_FORM_HOUR=5, SURVEY_BURST_PER_NETWORK_HOUR=50)
def test_an_attackers_many_addresses_do_not_lock_out_an_honest_respondent(service_form):
    """Eight attacking addresses post three times each: the third from each is refused (429,
    per address), the first two stored — 16 responses, so the form is far over its hourly rate
    of 5. An honest respondent from a new address is still accepted (201) and stored unmarked."""
    statuses = [api_post(service_form, ip=f"10.9.{n}.1").status_code for n in range(8) for _ in range(3)]
    assert statuses == [201, 201, 429] * 8
    honest = api_post(service_form, ip="192.0.2.44")
    assert honest.status_code == 201
    assert Response.objects.count() == 17
    assert Response.objects.get(response_id=honest.json()["response_id"]).burst is False


@override_settings(
    SURVEY_LIMIT_PER_IP_HOUR=20, SURVEY_BURST_PER_FORM_HOUR=10, SURVEY_BURST_PER_NETWORK_HOUR=40
)
def test_a_distributed_flood_does_not_mark_an_honest_respondent_on_another_network(
    as_user, admin_a, admin_b, service_form
):
    """The review's attack, scaled down: it sent 151 posts from 8 addresses in 8 /24s (none over
    its network's 40) and an honest respondent on another network was then stored as burst,
    excluded from the statistics. Here 4 addresses in 4 /24s send 3 each — 12, over the form's
    10 per hour, each network far under its 40. The honest respondent's answer is stored
    unmarked and counts (valid); nobody is marked burst; the form's hour is an alert instead
    (13 responses) on the overview and quality pages."""
    for n in range(4):
        for _ in range(3):
            assert api_post(service_form, ip=f"10.20.{n}.1").status_code == 201
    honest = api_post(service_form, ip="192.0.2.44", answers={"service.1": 4, "service.2": 2, "service.3": 1})
    assert honest.status_code == 201
    assert not Response.objects.filter(burst=True).exists()
    report = quality_of(service_form.plan)
    assert report is not None
    reasons = dict(report.responses.select("response_id", "reason").rows())
    assert reasons[honest.json()["response_id"]] is None
    [busy] = busy_hours(service_form.plan)
    assert (busy.form, busy.received) == ("service", 13)
    for page in ("overview", "quality"):
        text = as_user(admin_a).get(url(page)).text
        assert 'id="busy-hours"' in text and "Form service received 13 responses in one hour" in text
        assert as_user(admin_b).get(url(page)).status_code == 404  # another region's admin


@override_settings(
    SURVEY_LIMIT_PER_IP_HOUR=20, SURVEY_BURST_PER_FORM_HOUR=1000, SURVEY_BURST_PER_NETWORK_HOUR=3
)
def test_one_networks_excess_is_flagged_not_refused(service_form):
    """Five addresses of one /24 send one response each: all stored, the fourth and fifth
    marked burst; an address of another network is not."""
    for n in range(5):
        assert api_post(service_form, ip=f"198.51.100.{n + 1}").status_code == 201
    assert api_post(service_form, ip="203.0.113.9").status_code == 201
    flags = list(Response.objects.order_by("id").values_list("burst", flat=True))
    assert flags == [False, False, False, True, True, False]


@override_settings(
    SURVEY_LIMIT_PER_IP_HOUR=20, SURVEY_BURST_PER_FORM_HOUR=1000, SURVEY_BURST_PER_NETWORK_HOUR=2
)
def test_the_web_form_flags_a_burst_too(service_form):
    for n in range(3):
        visitor = Client(REMOTE_ADDR=f"10.0.0.{n + 1}")
        data = answers_post(service_form, response_id=str(uuid.uuid4()))
        assert visitor.post(public_url(service_form), data).status_code == 302
    assert list(Response.objects.order_by("id").values_list("burst", flat=True)) == [False, False, True]


@override_settings(
    SURVEY_LIMIT_PER_IP_HOUR=20, SURVEY_BURST_PER_FORM_HOUR=1000, SURVEY_BURST_PER_NETWORK_HOUR=2
)
def test_bursts_are_shown_in_the_quality_view_and_left_out_of_the_statistics(as_user, admin_a, service_form):
    """Answers 4, 2, then a burst of 0, 0 from the same /24: the mean of service.1 is
    (4 + 2) / 2 = 3 over n = 2, not 1.5 over 4; the quality page counts 2 excluded as a burst."""
    for n, value in enumerate((4, 2, 0, 0)):
        answers = {"service.1": value, "service.2": 2, "service.3": 3}
        assert api_post(service_form, ip=f"10.1.0.{n + 1}", answers=answers).status_code == 201
    report = quality_of(service_form.plan)
    assert report is not None
    stats = survey_stats(service_form.plan, report).statements.filter(statement="service.1").to_dicts()[0]
    assert (stats["n"], stats["mean"]) == (2, 3.0)
    page = as_user(admin_a).get(url("quality"))
    assert page.status_code == 200
    assert '<td class="num excluded-burst">2</td>' in page.text
    assert page.text.count('class="reason-burst"') == 2


@override_settings(SURVEY_LIMIT_PER_IP_HOUR=1)
def test_assisted_entries_are_neither_counted_nor_flagged(as_user, admin_a, service_form):
    client = as_user(admin_a)
    with override_settings(SURVEY_BURST_PER_FORM_HOUR=0, SURVEY_BURST_PER_NETWORK_HOUR=0):
        for _ in range(2):
            data = answers_post(service_form, response_id=str(uuid.uuid4()), assisted="on")
            assert client.post(public_url(service_form), data).status_code == 302
    assert not Response.objects.filter(burst=True).exists()
    assert not RateCounter.objects.exists()


@override_settings(SURVEY_BURST_PER_FORM_HOUR=3)
def test_the_busy_hour_alert_counts_public_responses_per_form_and_clock_hour(as_user, admin_a, service_form):
    """Counted by hand: 4 public responses between 09:05 and 09:55 (over 3: an alert), 3 between
    10:00 and 10:59 (not over), and in the 09:00 hour also 2 staff-assisted and 2 imported ones
    (not counted: not from the public). One alert: form service, 09:00, 4 responses."""
    nine = dt.datetime(2024, 10, 1, 9, 0, tzinfo=dt.UTC)
    minutes = [5, 20, 40, 55, 60, 80, 119]  # 09:05–09:55, then 10:00–10:59
    for minute in minutes:
        row = respond(service_form, {"service.1": 3}, source="web")
        Response.objects.filter(pk=row.pk).update(submitted_at=nine + dt.timedelta(minutes=minute))
    for fields in ({"assisted": True}, {"assisted": True}, {"source": "import"}, {"source": "import"}):
        row = respond(service_form, {"service.1": 3}, **fields)
        Response.objects.filter(pk=row.pk).update(submitted_at=nine + dt.timedelta(minutes=30))
    [busy] = busy_hours(service_form.plan)
    assert (busy.form, busy.hour, busy.received) == ("service", nine, 4)
    page = as_user(admin_a).get(url("overview")).text
    assert page.count('class="busy-hour"') == 1 and "received 4 responses in one hour" in page


def test_no_alert_below_the_forms_hourly_rate(as_user, admin_a, service_form):
    respond(service_form, {"service.1": 3})
    assert busy_hours(service_form.plan) == []
    assert 'id="busy-hours"' not in as_user(admin_a).get(url("quality")).text


# --- the same phone twice in one form ------------------------------------------------------------


def test_the_same_phone_answering_a_form_twice_is_flagged(as_user, admin_a, service_form):
    """A phone answers at the web form, then again minutes later with other answers (written
    another way: the engine's one normalisation makes both the same number). The first counts;
    the second is excluded as a duplicate respondent and shown so in the quality view."""
    first, second = str(uuid.uuid4()), str(uuid.uuid4())
    client = Client()
    data = answers_post(service_form, response_id=first, phone="0812-3456-7890", value=4)
    assert client.post(public_url(service_form), data).status_code == 302
    data = answers_post(service_form, response_id=second, phone="0812 3456 7890", value=1)
    assert client.post(public_url(service_form), data).status_code == 302
    report = quality_of(service_form.plan)
    assert report is not None
    reasons = dict(report.responses.select("response_id", "reason").rows())
    assert reasons[first] is None and reasons[second] == "duplicate_respondent"
    page = as_user(admin_a).get(url("quality")).text
    assert '<td class="num excluded-duplicate_respondent">1</td>' in page


# --- a web submission racing an import with the same id ----------------------------------------


def test_a_web_submission_stored_during_an_import_is_skipped_by_the_import(
    monkeypatch, admin_a, service_form
):
    """The import reads the ids the form holds, then a web submission stores one of the file's
    ids, then the import writes: no error; the web response stands and the import counts that
    row as skipped."""
    real = Response.objects.bulk_create

    def web_wins(objs, **kwargs):  # the import has read the held ids and is about to write
        Response.objects.create(
            form=service_form, response_id="6f1c0c1e-0002", source="web", used_service=True, answers={}
        )
        return real(objs, **kwargs)

    monkeypatch.setattr(Response.objects, "bulk_create", web_wins)
    result = responses_import(
        form=service_form, data=kobo_csv(), file_name="kobo.csv", kind="kobo", user=admin_a
    )
    assert (result.added, result.skipped) == (2, 1)
    assert (result.batch.rows_added, result.batch.rows_skipped_duplicate) == (2, 1)
    sources = dict(Response.objects.values_list("response_id", "source"))
    assert sources == {"6f1c0c1e-0001": "import", "6f1c0c1e-0002": "web", "6f1c0c1e-0003": "import"}


def test_an_import_stored_during_a_web_submission_answers_the_thank_you(monkeypatch, service_form):
    """The web submission finds no stored id, then an import stores that id, then the web
    submission writes: the respondent sees the thank-you page (no 500) and one row is kept."""
    rid = str(uuid.uuid4())
    real = responses.form_accepts_responses

    def import_wins(form):
        Response.objects.create(form=form, response_id=rid, source="import", used_service=True, answers={})
        return real(form)

    monkeypatch.setattr(responses, "form_accepts_responses", import_wins)
    response = Client().post(public_url(service_form), answers_post(service_form, response_id=rid))
    assert response.status_code == 302 and response["Location"].endswith("/thanks/")
    assert list(Response.objects.values_list("source", flat=True)) == ["import"]


# PostgreSQL's inserts always return their row (Django relies on it): the SQLite pass runs this.
@pytest.mark.skipif(connection.vendor != "sqlite", reason="the SQLite pass runs this")
def test_without_insert_returning_the_counter_updates_or_creates(db, monkeypatch):
    """SQLite before 3.35 cannot return the count from its insert: the update-or-create path
    counts the same and also forgets the windows that are over."""
    from cityeval.web.surveys import limits

    monkeypatch.setattr(connection.features, "can_return_columns_from_insert", False)
    monkeypatch.setattr(limits, "_swept", {})
    t0 = dt.datetime(2024, 11, 2, 8, 5, tzinfo=dt.UTC)
    assert [count("test:old", now=t0) for _ in range(3)] == [1, 2, 3]
    assert count("test:old", now=t0 + dt.timedelta(hours=2)) == 1
    assert list(RateCounter.objects.filter(key__startswith="test:old@").values_list("count", flat=True)) == [
        1
    ]


def test_the_counters_over_are_swept_once_a_new_window_opens(db, monkeypatch):
    """Old windows are deleted when the first counter of a new window is made, once per window
    in each process (no row expires within a window: they are aligned to the clock)."""
    from cityeval.web.surveys import limits

    monkeypatch.setattr(limits, "_swept", {})
    t0 = dt.datetime(2024, 11, 2, 8, 5, tzinfo=dt.UTC)
    count("a", now=t0)
    count("b", now=t0 + dt.timedelta(minutes=1))
    count("a", now=t0 + dt.timedelta(hours=1))  # 09:05: the 08:00 window is over
    assert sorted(RateCounter.objects.values_list("key", flat=True)) == [
        f"a@{int(t0.timestamp()) // 3600 * 3600 + 3600}"
    ]


def test_the_first_counter_at_the_very_start_of_a_window_sweeps_the_last_one(db, monkeypatch):
    """At 09:00:00.000000 the 08:00 window is over (it ends there): swept then, not an hour
    later (found by review: ``expires_at < now`` kept it)."""
    from cityeval.web.surveys import limits

    monkeypatch.setattr(limits, "_swept", {})
    nine = dt.datetime(2024, 11, 2, 9, 0, tzinfo=dt.UTC)
    count("a", now=nine - dt.timedelta(minutes=30))
    count("a", now=nine)
    assert list(RateCounter.objects.values_list("key", flat=True)) == [f"a@{int(nine.timestamp())}"]
