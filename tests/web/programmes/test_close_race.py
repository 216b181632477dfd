"""A Quick Win criteria answer racing the cycle's close: the criteria are part of the region's
self-assessment and lock the cycle row, then the participation row, like its answers
(``evaluations.phases.lock_participation``), so one started while the close is in progress
waits for it and is refused. Two real connections, so PostgreSQL only (SQLite ignores
``select_for_update``); `make test` runs it in its PostgreSQL pass."""

from __future__ import annotations

import threading

import pytest
from django.db import connection, transaction

from cityeval.web.evaluations.models import Cycle
from cityeval.web.evaluations.phases import CycleClosed
from cityeval.web.evaluations.services import cycle_transition
from cityeval.web.programmes.models import QuickWinCriterionAnswer
from cityeval.web.programmes.services import CriterionInput, quick_win_criteria_record

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(connection.vendor != "postgresql", reason="needs two PostgreSQL connections"),
]
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


def test_a_criteria_answer_started_during_a_close_is_refused(world, patogen, admin_a):
    closed, release = threading.Event(), threading.Event()

    def close_slowly():
        with transaction.atomic():
            cycle = cycle_transition(cycle=Cycle.objects.get(pk=world.cycle.pk), action="close")
            closed.set()
            release.wait(10)
        return cycle

    def answer():
        return quick_win_criteria_record(
            programme=patogen,
            cycle=world.cycle,
            answers={"quick_win.benefits": CriterionInput(3)},
            author=admin_a,
        )

    results: dict = {}
    closing = _in_thread(close_slowly, results, "close")
    assert closed.wait(10)
    answering = _in_thread(answer, results, "answer")
    answering.join(BLOCKED)
    assert answering.is_alive()  # the answer waits for the close's lock on the cycle row
    release.set()
    closing.join(10)
    answering.join(10)
    assert isinstance(results["answer"], CycleClosed)
    assert QuickWinCriterionAnswer.objects.count() == 0
