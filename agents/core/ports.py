"""The seams of the agent runtime: what the loop needs from the outside world.

Everything here is a Protocol or a tiny value type, so `agents/core` never imports Django,
the real venue client or a network library: the Django side (and the tests) pass in objects
that merely have these shapes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any, Protocol, runtime_checkable

from agents.venue.schemas import (
    Balance,
    CancelResult,
    ChainLedger,
    Fill,
    Market,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
)


class VenueError(Exception):
    """A venue refused or failed a request (the real client maps its own errors onto this shape).

    The core never relies on the class alone: every venue call is wrapped so that *any* exception
    becomes a tool error or a rejected order, because the real client's error type is not ours.
    """

    def __init__(self, message: str, *, status: int | None = None, code: str = "") -> None:
        super().__init__(message)
        self.status = status
        self.code = code


@runtime_checkable
class VenuePort(Protocol):
    """Structurally identical to the venue client's Protocol (agents/venue/client.py)."""

    def markets(self) -> list[Market]: ...
    def market(self, slug: str) -> Market: ...
    def book(self, slug: str) -> OrderBook: ...
    def place(self, req: OrderRequest) -> Order: ...
    def cancel(self, order_id: str) -> Order: ...
    def cancel_all(self, market: str | None = None) -> CancelResult: ...
    def orders(self, market: str | None = None, status: OrderStatus | str | None = None) -> list[Order]: ...
    def order_by_client_id(self, cid: str) -> Order | None: ...
    def positions(self) -> list[Position]: ...
    def balance(self) -> Balance: ...
    def fills(self) -> list[Fill]: ...
    def chain_ledger(self) -> ChainLedger: ...


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
