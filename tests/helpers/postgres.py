"""Throwaway PostgreSQL databases made by tests that start their own processes."""

from __future__ import annotations

import time


def drop_database(configured: str, name: str, *, attempts: int = 40, pause: float = 0.5) -> None:
    """Drop database ``name`` on the server of ``configured``, waiting out a moment's refusal.

    ``WITH (FORCE)`` ends the test's own sessions, but not one the role may not signal: an
    autovacuum worker the server started on the new database (owned by the superuser) makes
    PostgreSQL refuse with InsufficientPrivilege until it finishes, a second or so later.
    """
    import psycopg
    from psycopg import errors

    for attempt in range(attempts):
        try:
            with psycopg.connect(configured, autocommit=True) as admin:
                admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            return
        except (errors.InsufficientPrivilege, errors.ObjectInUse):
            if attempt == attempts - 1:
                raise
            time.sleep(pause)
