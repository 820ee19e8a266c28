"""The venue interface and its error classes: what the agent runtime needs from any venue.

No I/O here, so `agents/core` (pure Python) and every implementation (`client.py`: HttpVenue,
LocalVenue; the tests' fakes) share one definition.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

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

# ------------------------------------------------------------------------------------ errors


class VenueError(Exception):
    """Base class of every venue failure."""


class VenueAuthError(VenueError):
    """401/403: the API key is missing or wrong. Never retried."""


class VenueRejected(VenueError):
    """400/409: the venue refused the request (bad input, unfunded, market not open...). Never retried."""

    def __init__(self, reason: str, order: Order | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.order = order  # the stored REJECTED order, when the refusal came from the engine


class VenueNotFound(VenueError):
    """404: unknown market or order (another account's order is reported as unknown too)."""


class VenueUnavailable(VenueError):
    """5xx or a connection failure: the request may or may not have been applied."""


class VenueTimeout(VenueError):
    """No answer within the timeout: the request may or may not have been applied."""


# ------------------------------------------------------------------------------------ the interface


@runtime_checkable
class Venue(Protocol):
    """What the agent runtime needs from a venue. All methods are synchronous."""

    def markets(self) -> list[Market]: ...
    def market(self, slug: str) -> Market: ...
    def book(self, slug: str) -> OrderBook: ...
    def place(self, request: OrderRequest) -> Order: ...
    def cancel(self, order_id: str) -> Order: ...
    def cancel_batch(self, order_ids: list[str]) -> CancelResult: ...
    def cancel_all(self, market: str | None = None) -> CancelResult: ...
    def order(self, order_id: str) -> Order: ...
    def orders(
        self, *, market: str | None = None, status: OrderStatus | None = None, limit: int = 500
    ) -> list[Order]: ...
    def order_by_client_id(self, client_order_id: str) -> Order | None: ...
    def positions(self) -> list[Position]: ...
    def balance(self) -> Balance: ...
    def fills(self, *, market: str | None = None, limit: int = 500) -> list[Fill]: ...
    def chain_ledger(self) -> ChainLedger: ...
