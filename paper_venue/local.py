"""`LocalVenue`: the `Venue` interface over an in-process `Engine`, for one account.

The very matching code the paper venue's service runs, with no network: for fast unit tests and
the deploy gate's sandbox. Part of the simulator, so nothing in the runtime imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from agents.venue.port import VenueNotFound, VenueRejected
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
from agents.venue.units import InvalidInput
from paper_venue.engine import Engine, NotFound


class LocalVenue:
    """`Venue` over an in-process `Engine`, for one account: same matching code, no network."""

    def __init__(self, engine: Engine, account: str) -> None:
        self.engine = engine
        self.account = account

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        try:
            return fn(*args, **kwargs)
        except InvalidInput as exc:
            raise VenueRejected(str(exc)) from exc
        except NotFound as exc:
            raise VenueNotFound(str(exc)) from exc

    def markets(self) -> list[Market]:
        return [m for m in self.engine.markets() if m.status.value != "resolved"]

    def market(self, slug: str) -> Market:
        return self._call(self.engine.market, slug)  # type: ignore[no-any-return]

    def book(self, slug: str) -> OrderBook:
        return self._call(self.engine.book, slug)  # type: ignore[no-any-return]

    def place(self, request: OrderRequest) -> Order:
        order: Order = self._call(self.engine.place, self.account, request).order
        if order.status is OrderStatus.REJECTED:
            raise VenueRejected(order.reason, order)
        return order

    def cancel(self, order_id: str) -> Order:
        return self._call(self.engine.cancel, self.account, order_id)  # type: ignore[no-any-return]

    def cancel_batch(self, order_ids: list[str]) -> CancelResult:
        return self._call(self.engine.cancel_batch, self.account, order_ids)  # type: ignore[no-any-return]

    def cancel_all(self, market: str | None = None) -> CancelResult:
        return self._call(self.engine.cancel_all, self.account, market)  # type: ignore[no-any-return]

    def order(self, order_id: str) -> Order:
        return self._call(self.engine.order, self.account, order_id)  # type: ignore[no-any-return]

    def orders(self, *, market: str | None = None, status: OrderStatus | None = None, limit: int = 500) -> list[Order]:
        return self._call(self.engine.orders, self.account, market=market, status=status, limit=limit)  # type: ignore[no-any-return]

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        return self.engine.order_by_client_id(self.account, client_order_id)

    def positions(self) -> list[Position]:
        return self.engine.positions(self.account)

    def balance(self) -> Balance:
        return self.engine.balance(self.account)

    def fills(self, *, market: str | None = None, limit: int = 500) -> list[Fill]:
        return self.engine.fills(self.account, market=market, limit=limit)

    def chain_ledger(self) -> ChainLedger:
        return self.engine.chain_ledger(self.account)
