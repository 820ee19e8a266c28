"""Test doubles for the core: an in-memory venue (no matching engine) and a settable clock.

Self-contained (imports only agents.*), so bench/loop_overhead.py can load it by path too.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from agents.venue.port import VenueNotFound
from agents.venue.schemas import (
    Balance,
    BookLevel,
    CancelResult,
    ChainLedger,
    Fill,
    Market,
    MarketStatus,
    Order,
    OrderBook,
    OrderRequest,
    OrderStatus,
    Position,
)

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)


class FakeClock:
    """Wall and monotonic time that move only when told to."""

    def __init__(self, start: datetime = T0) -> None:
        self._now = start
        self._mono = 1000.0

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return self._mono

    def advance(self, seconds: float) -> None:
        self._now += timedelta(seconds=seconds)
        self._mono += seconds


def make_market(slug: str, *, market_type: str = "crypto-hourly", status: MarketStatus = MarketStatus.OPEN,
                description: str = "Will it happen?", bid: str | None = "0.400", ask: str | None = "0.450",
                close_in_h: float = 24) -> tuple[Market, OrderBook]:
    market = Market(slug=slug, title=slug.replace("-", " ").title(), description=description, category="crypto",
                    market_type=market_type, status=status, close_time=T0 + timedelta(hours=close_in_h),
                    last_price=Decimal("0.42"))
    bids = [BookLevel(price=Decimal(bid), size=Decimal("100"))] if bid else []
    asks = [BookLevel(price=Decimal(ask), size=Decimal("100"))] if ask else []
    return market, OrderBook(market=slug, bids=bids, asks=asks)


class FakeVenue:
    """A VenuePort in memory: orders rest forever (no matching), client ids are deduplicated."""

    def __init__(self, clock: FakeClock | None = None) -> None:
        self.clock = clock or FakeClock()
        self._markets: dict[str, Market] = {}
        self._books: dict[str, OrderBook] = {}
        self._orders: dict[str, Order] = {}
        self._ids = itertools.count(1)
        self.positions_list: list[Position] = []
        self.place_calls: list[OrderRequest] = []
        self.cancel_calls: list[str] = []
        self.on_place: Callable[[OrderRequest], None] | None = None  # raise here to simulate a failure
        self.before: dict[str, Callable[[], None]] = {}  # method name -> hook run first (hang, touch a flag)

    def _hook(self, name: str) -> None:
        hook = self.before.get(name)
        if hook is not None:
            hook()

    def add_market(self, market: Market, book: OrderBook) -> None:
        self._markets[market.slug] = market
        self._books[market.slug] = book

    # -- VenuePort -------------------------------------------------------------------------------
    def markets(self) -> list[Market]:
        self._hook("markets")
        return list(self._markets.values())

    def market(self, slug: str) -> Market:
        self._hook("market")
        if slug not in self._markets:
            raise VenueNotFound(f"no market {slug!r}")
        return self._markets[slug]

    def book(self, slug: str) -> OrderBook:
        self._hook("book")
        self.market(slug)
        return self._books[slug]

    def place(self, req: OrderRequest) -> Order:
        self._hook("place")
        self.place_calls.append(req)
        if self.on_place is not None:
            self.on_place(req)
        existing = self.order_by_client_id(req.client_order_id)
        if existing is not None:
            return existing
        now = self.clock.now()
        order = Order(id=f"ord_{next(self._ids):010d}", client_order_id=req.client_order_id, market=req.market,
                      side=req.side,
                      outcome=req.outcome, price=req.price, size=req.size, filled=Decimal(0), remaining=req.size,
                      order_type=req.order_type, status=OrderStatus.LIVE, created_at=now, updated_at=now)
        self._orders[order.id] = order
        return order

    def cancel(self, order_id: str) -> Order:
        self._hook("cancel")
        self.cancel_calls.append(order_id)
        if order_id not in self._orders:
            raise VenueNotFound(f"no order {order_id!r}")
        order = self._orders[order_id].model_copy(update={"status": OrderStatus.CANCELED})
        self._orders[order_id] = order
        return order

    def cancel_all(self, market: str | None = None) -> CancelResult:
        self._hook("cancel_all")
        live = [o.id for o in self.orders(market=market, status=OrderStatus.LIVE)]
        for oid in live:
            self.cancel(oid)
        return CancelResult(canceled=live)

    def orders(self, market: str | None = None, status: OrderStatus | str | None = None) -> list[Order]:
        self._hook("orders")
        return [o for o in self._orders.values()
                if (market is None or o.market == market) and (status is None or o.status == status)]

    def order_by_client_id(self, cid: str) -> Order | None:
        self._hook("order_by_client_id")
        return next((o for o in self._orders.values() if o.client_order_id == cid), None)

    def positions(self) -> list[Position]:
        self._hook("positions")
        return list(self.positions_list)

    def balance(self) -> Balance:
        self._hook("balance")
        return Balance(usdc=Decimal("1000"), locked=Decimal("0"), available=Decimal("1000"))

    def fills(self) -> list[Fill]:
        return []

    def chain_ledger(self) -> ChainLedger:
        return ChainLedger(usdc=Decimal("1000"), positions=[])
