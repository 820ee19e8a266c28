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

__all__ = ["Alert", "Clock", "SystemClock", "VenueError", "VenuePort", "no_alert"]


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
