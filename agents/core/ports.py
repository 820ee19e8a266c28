"""The seams of the agent runtime: what the loop needs from the outside world.

Everything here is a Protocol or a tiny value type, so `agents/core` never imports Django,
the real venue client or a network library: the Django side (and the tests) pass in objects
that merely have these shapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol

# One definition of the venue interface, shared with the client (agents/venue/port.py: no I/O).
from agents.venue.port import Venue as VenuePort
from agents.venue.port import VenueError

__all__ = ["Alert", "Clock", "Quarantine", "RunOnlyQuarantine", "SystemClock", "VenueError", "VenuePort", "no_alert"]


class Clock(Protocol):
    """Wall time for timestamps, monotonic time for durations and budgets."""

    def now(self) -> datetime: ...
    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock (UTC-aware wall time, `time.monotonic` for durations)."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()


# alert(message, details): page a human. Called for a runaway loop, a hung tool, suspicious tool output.
Alert = Callable[[str, Mapping[str, Any]], None]


def no_alert(message: str, details: Mapping[str, Any]) -> None:
    """An alert sink that drops everything (benchmarks only; production wires monitoring)."""


class Quarantine(Protocol):
    """Markets set aside for this agent because their text was flagged (defense layer 1).

    `markets()` is read once at the start of a run; `set_aside` records a new flag (the Django side
    keeps it for QUARANTINE_S, so later runs skip the market too)."""

    def markets(self) -> set[str]: ...
    def set_aside(self, market: str, *, run_id: str, fields: list[str], findings: list[str]) -> None: ...


class RunOnlyQuarantine:
    """A quarantine that lasts one run (tests, benchmarks); production keeps flags in the database."""

    def __init__(self) -> None:
        self.flagged: dict[str, list[str]] = {}

    def markets(self) -> set[str]:
        return set(self.flagged)

    def set_aside(self, market: str, *, run_id: str, fields: list[str], findings: list[str]) -> None:
        self.flagged[market] = findings
