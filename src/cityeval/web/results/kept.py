"""What the results pages derive from a computed run, kept by the process between requests.

A run's stored rows never change once computed: ``services.results_compute`` (and, for
imported results, ``history._store_history``) writes the run and every one of its lines,
items, dimensions, agreement figures and intervals in one transaction, and nothing writes
them again (see :mod:`.models`). Of the run itself only ``is_current`` (when a new run
replaces it) and ``published_at``/``published_by`` (when the cycle is published) change later:
neither is kept here, or it is part of the key.

So what a page builds from a run alone is kept under the run's identity (:func:`run_key`: its
primary key and its public id, a random UUID that no other run is ever given, even where a
database reuses a rolled-back run's primary key), together with every other input of the
thing kept: the page's language and decimal mark, the framework's component codes, the names
of the regions (read fresh on every request, and compared whole), whether the reader may see
the intervals. Whatever depends on the reader (access, feedback, links only some may follow)
or on other runs and the cycle's status is computed on every request, never kept.

Each cache is bounded (least recently used first out), so a worker's memory does not grow with
the number of runs, regions or languages. Kept values are shared between requests: frozen
dataclasses and tuples, read and never changed.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from cityeval.web.results.models import ResultRun

V = TypeVar("V")

RunKey = tuple[int, str]


def run_key(run: ResultRun) -> RunKey:
    """A run's identity for the caches: its primary key and its public id."""
    return (run.pk, str(run.public_id))


class Kept(Generic[V]):
    """A bounded, thread-safe store of values made once per key: the ``size`` most recently
    used are kept."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._values: OrderedDict[Hashable, V] = OrderedDict()
        self._lock = threading.Lock()
        _every.append(self)

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()``'s, kept. ``make`` runs outside the
        lock: two requests that miss at once both make it, and the same value is kept."""
        with self._lock:
            if key in self._values:
                self._values.move_to_end(key)
                return self._values[key]
        value = make()
        with self._lock:
            self._values[key] = value
            self._values.move_to_end(key)
            while len(self._values) > self.size:
                self._values.popitem(last=False)
        return value

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def clear(self) -> None:
        with self._lock:
            self._values.clear()


_every: list[Kept] = []


def forget_all() -> None:
    """Forget every kept value: for tests that change a run's stored rows behind the services'
    back (no real write path does), as a new run would be read anew; the runs' lines
    (``stored.run_lines``) too."""
    from cityeval.web.results import stored  # below this module's users; imported when asked

    for kept in _every:
        kept.clear()
    stored.forget_lines()
