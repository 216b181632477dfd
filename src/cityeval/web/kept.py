"""What a process keeps between requests: a bounded, thread-safe store of values made once per
key, least recently used out first.

The pages that keep parts of what they draw (the results pages per computed run, the scoring
page per version of its rows: see ``results.kept`` and ``panels.scoring_cache``) put every input
of a kept value in its key and hand out values nobody changes (frozen dataclasses, tuples,
read-only mappings, text). A store holds at most ``size`` values and, when given a ``weigh``
(an estimate of a value's size in characters), at most ``budget`` of them in all: a value
heavier than the whole budget is made and handed out, not kept, so one region with very long
texts costs what it cost before the store, not a worker's memory.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class Kept(Generic[V]):
    """At most ``size`` values (and ``budget`` in weight, when weighed), least recently used
    out first; shared by the threads of a process."""

    def __init__(self, size: int, *, weigh: Callable[[V], int] | None = None, budget: int = 0) -> None:
        self.size = size
        self.weigh = weigh
        self.budget = budget
        self._values: OrderedDict[Hashable, tuple[V, int]] = OrderedDict()
        self._weight = 0
        self._lock = threading.Lock()
        _every.append(self)

    def find(self, key: Hashable) -> V | None:
        """The value kept under ``key``, or None."""
        with self._lock:
            kept = self._values.get(key)
            if kept is None:
                return None
            self._values.move_to_end(key)
            return kept[0]

    def put(self, key: Hashable, value: V) -> None:
        """Keep ``value`` under ``key`` (unless it alone outweighs the budget)."""
        weight = self.weigh(value) if self.weigh is not None else 0
        if self.weigh is not None and weight > self.budget:
            return
        with self._lock:
            old = self._values.pop(key, None)
            if old is not None:
                self._weight -= old[1]
            self._values[key] = (value, weight)
            self._weight += weight
            while len(self._values) > self.size or (self.weigh is not None and self._weight > self.budget):
                _key, (_value, dropped) = self._values.popitem(last=False)
                self._weight -= dropped

    def get(self, key: Hashable, make: Callable[[], V]) -> V:
        """The value kept under ``key``, else ``make()``'s, kept. ``make`` runs outside the
        lock: two requests that miss at once both make it, and the same value is kept."""
        with self._lock:
            kept = self._values.get(key)
            if kept is not None:
                self._values.move_to_end(key)
                return kept[0]
        value = make()
        self.put(key, value)
        return value

    @property
    def weight(self) -> int:
        return self._weight

    def __len__(self) -> int:
        return len(self._values)

    def __contains__(self, key: Hashable) -> bool:
        return key in self._values

    def clear(self) -> None:
        with self._lock:
            self._values.clear()
            self._weight = 0


_every: list[Kept] = []


def forget_all() -> None:
    """Empty every store of the process (tests that write behind the services' back)."""
    for kept in _every:
        kept.clear()
