"""The database's clock, for every comparison two hosts must agree on.

A lease, a cover beat or a sweep compares times written by one host with times read by another:
each host's own clock would let a host whose clock runs ahead see a live lease as expired (two
writers) or a live run as crashed. Now() is the database server's clock (STATEMENT_TIMESTAMP on
PostgreSQL, the SQLite host's on SQLite): one clock for every writer and reader.
"""

from __future__ import annotations

from datetime import timedelta

from django.db.models import DateTimeField, ExpressionWrapper
from django.db.models.functions import Now


def db_clock(offset: timedelta = timedelta(0)) -> ExpressionWrapper:
    """The database's clock now, plus `offset` (negative: in the past), as a query expression."""
    return ExpressionWrapper(Now() + offset, output_field=DateTimeField())
