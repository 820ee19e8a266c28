"""Bounded waits on the database, for the writers that must never queue behind a lock (the halt path).

The embedded default gives SQLite a 20 s busy timeout, right for a worker's trace rows and wrong
for a halt: an operator's halt that waits 20 s on another writer's lock is a halt delayed, and one
that then raises is a halt silenced. `bounded_wait(ms)` narrows the wait for one block of writes:
SQLite's busy timeout on this connection, PostgreSQL's lock_timeout and statement_timeout for
this transaction. Past the bound the database raises, and the caller keeps its record elsewhere.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def bounded_wait(ms: int) -> Iterator[None]:
    """`with bounded_wait(500):` one atomic block whose lock waits give up after `ms` milliseconds."""
    ms = max(1, int(ms))
    if connection.vendor == "sqlite":
        with _sqlite_busy(ms), transaction.atomic():
            yield
        return
    with transaction.atomic():
        with connection.cursor() as cursor:  # SET LOCAL: ends with this transaction, whatever happens
            cursor.execute(f"SET LOCAL lock_timeout = {ms}")
            cursor.execute(f"SET LOCAL statement_timeout = {ms * 4}")
        yield


@contextmanager
def _sqlite_busy(ms: int) -> Iterator[None]:
    connection.ensure_connection()
    restore = int(float(connection.settings_dict.get("OPTIONS", {}).get("timeout", 5)) * 1000)
    with connection.cursor() as cursor:
        cursor.execute(f"PRAGMA busy_timeout = {ms}")
    try:
        yield
    finally:
        try:
            with connection.cursor() as cursor:
                cursor.execute(f"PRAGMA busy_timeout = {restore}")
        except Exception:  # a broken connection: drop it, the next use reconnects with the defaults
            connection.close()
