"""A self-assessment answer (or a Quick Win criteria answer) racing the cycle's close (issue 8,
item 5): both lock the cycle row, so an answer in progress commits before the close, and an
answer started while the close is in progress waits for it and is refused. Two real
connections, so PostgreSQL only (SQLite ignores ``select_for_update``); `make test` runs it in
its PostgreSQL pass."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from cityeval.web.assessments import services
from cityeval.web.assessments.models import AnswerRevision
from cityeval.web.assessments.services import answer_record
from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.services import cycle_transition
from cityeval.web.programmes.models import Programme, QuickWinCriterionAnswer
from cityeval.web.programmes.services import CriterionInput, quick_win_criteria_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two PostgreSQL connections"),
]
ITEM = "baseline.legal_basis"
BLOCKED = 0.5  # seconds a thread waiting for a row lock is left waiting before we look


def _in_thread(target, results: dict, key: str) -> threading.Thread:
    def run():
        try:
            results[key] = target()
        except Exception as exc:  # handed to the test to assert on
            results[key] = exc
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


def _answer(world, admin_a):
    return answer_record(
        participation=world.participation_a, item=ITEM, level=3, raw_value=None, narrative="", user=admin_a
    )


def test_a_close_waits_for_an_answer_in_progress(world, admin_a, monkeypatch):
    inside, release = threading.Event(), threading.Event()
    check = services.answer_check

    def slow_check(**kwargs):
        inside.set()
        release.wait(10)
        return check(**kwargs)

    monkeypatch.setattr(services, "answer_check", slow_check)
    results: dict = {}
    answering = _in_thread(lambda: _answer(world, admin_a), results, "answer")
    assert inside.wait(10)
    closing = _in_thread(lambda: cycle_transition(cycle=world.cycle, action="close"), results, "close")
    closing.join(BLOCKED)
    assert closing.is_alive()  # the close waits for the answer's lock on the cycle row
    release.set()
    answering.join(10)
    closing.join(10)
    assert isinstance(results["answer"], AnswerRevision) and isinstance(results["close"], Cycle)
    assert AnswerRevision.objects.count() == 1
    assert Cycle.objects.get(pk=world.cycle.pk).status == Cycle.Status.CLOSED


def _criteria(world, admin_a):
    """A Quick Win criteria answer: part of the self-assessment, locked like its answers
    (``evaluations.phases.lock_participation``)."""
    quick_win = Programme.objects.create(
        region=world.region_a, name="Patogen", dimension="living", subdimension="health",
        owner=world.opd_health, status=Programme.Status.RUNNING, start_year=2023, is_quick_win=True,
    )  # fmt: skip
    answers = {"quick_win.benefits": CriterionInput(3)}
    return quick_win_criteria_record(programme=quick_win, cycle=world.cycle, answers=answers, author=admin_a)


@pytest.mark.parametrize(
    ("write", "written"), [(_answer, AnswerRevision), (_criteria, QuickWinCriterionAnswer)]
)
def test_an_answer_started_during_a_close_is_refused(world, admin_a, write, written):
    closed, release = threading.Event(), threading.Event()

    def close_slowly():
        with transaction.atomic():
            cycle = cycle_transition(cycle=Cycle.objects.get(pk=world.cycle.pk), action="close")
            closed.set()
            release.wait(10)
        return cycle

    results: dict = {}
    closing = _in_thread(close_slowly, results, "close")
    assert closed.wait(10)
    answering = _in_thread(lambda: write(world, admin_a), results, "answer")
    answering.join(BLOCKED)
    assert answering.is_alive()  # the answer waits for the close's lock on the cycle row
    release.set()
    closing.join(10)
    answering.join(10)
    assert isinstance(results["answer"], CycleClosed)
    assert written.objects.count() == 0
