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

Each cache is bounded (``cityeval.web.kept``: least recently used first out), so a worker's
memory does not grow with the number of runs, regions or languages. Kept values are shared
between requests: frozen dataclasses and tuples, read and never changed.
"""

from __future__ import annotations

from cityeval.web.kept import forget_all as forget_every_store
from cityeval.web.results.models import ResultRun

RunKey = tuple[int, str]


def run_key(run: ResultRun) -> RunKey:
    """A run's identity for the caches: its primary key and its public id."""
    return (run.pk, str(run.public_id))


def forget_all() -> None:
    """Forget every kept value: for tests that change a run's stored rows behind the services'
    back (no real write path does), as a new run would be read anew; the runs' lines
    (``stored.run_lines``) too."""
    from cityeval.web.results import stored  # below this module's users; imported when asked

    forget_every_store()
    stored.forget_lines()
