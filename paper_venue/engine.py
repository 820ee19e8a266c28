"""The paper venue's exchange engine: pure Python, synchronous, deterministic.

One `Engine` owns every market's order book, every account's balance and positions, the
"chain" ledger and the simulated counterparties, and persists each state change to its
own SQLite file in the same transaction (see `store.py`). The HTTP service
(`service.py`) and the in-process `LocalVenue` (`client.py`) both drive this one class,
so matching code exists once.

Model (see docs/venue.md for the full policy list):
- Binary markets with one YES-side central limit order book each. A NO order at price P
  rests as a YES order of the opposite side at 1-P (BUY NO = YES ask, SELL NO = YES bid).
- Price-time priority; execution at the resting (maker) price; GTC rests, FAK kills the
  unfilled rest, FOK fills completely or not at all; post-only GTC orders that would
  match are rejected.
- Self-trade prevention: an incoming order never trades with its own account; the resting
  order it meets is cancelled ("cancel maker") and matching continues.
- Funding: BUY locks price*size USDC; SELL locks shares already held. Selling shares the
  account does not hold is refused (it is not turned into a buy of the other outcome).
- Idempotency: (account, client_order_id) identifies an order; a repeat returns the first.
"""

from __future__ import annotations

import json
import logging
import random
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

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
    OrderType,
    Outcome,
    Position,
    Side,
)
from agents.venue.units import (
    TICKS_PER_UNIT,
    InvalidInput,
    micro_dec,
    milli_dec,
    price_to_ticks,
    size_to_milli,
    ticks_dec,
    usdc_to_micro,
)
from paper_venue.store import ORDER_COLS, Store, WriteBatch

SIM_MAKERS = ("sim-maker-1", "sim-maker-2")
SIM_TAKER = "sim-taker"
SIM_USDC_MICRO = 10**9 * 10**6  # a billion USDC: the simulated counterparties never run dry
SIM_LEVELS = 3
STP_REASON = "self-trade prevention: resting order canceled"
TEXT_FIELDS = ("title", "description", "note", "resolution_text")

log = logging.getLogger("paper_venue.engine")


class EngineError(Exception):
    """Base class of the engine's refusals that are not order rejections."""


class NotFound(EngineError):
    def __init__(self, what: str, key: str) -> None:
        super().__init__(f"{what} {key!r} not found")
        self.what = what
        self.key = key


class UnrenderableMarket(EngineError):
    """A stored market row that cannot be shown (e.g. a close_time beyond datetime's range).

    Raised for that market only, so one damaged row never takes down the list or /healthz.
    """

    def __init__(self, slug: str, cause: Exception) -> None:
        super().__init__(f"market {slug!r}: stored data cannot be rendered ({type(cause).__name__})")
        self.slug = slug


@dataclass(slots=True)
class AccountSpec:
    name: str
    api_key: str
    usdc: Decimal
    address: str | None = None  # its wallet on the Limitless surface (None: derived from the key, paper only)


@dataclass(slots=True)
class AccountState:
    name: str
    api_key: str
    usdc: int  # micro-USDC, total collateral including what resting orders lock
    event_seq: int = 0  # seq of the account's websocket stream
    simulated: bool = False
    locked: int = 0  # derived from live BUY orders, never stored

    def row(self) -> tuple[Any, ...]:
        return (self.name, self.api_key, self.usdc, self.event_seq, int(self.simulated))


@dataclass(slots=True)
class PositionState:
    shares: int = 0  # milli-shares held
    cost: int = 0  # micro-USDC paid for the shares held (for avg_price)
    locked: int = 0  # milli-shares held by live SELL orders, derived


@dataclass(slots=True)
class MarketState:
    slug: str
    title: str
    description: str
    category: str
    market_type: str
    status: MarketStatus
    close_time: float
    note: str = ""
    resolution_text: str = ""
    winning_outcome: Outcome | None = None
    last_price: int | None = None  # YES ticks
    fair: int = 500  # the simulated fair YES price, ticks
    simulated: bool = True  # whether the simulated makers and takers trade here
    book_seq: int = 0

    def data(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}  # type: ignore[attr-defined]

    @classmethod
    def from_data(cls, data: dict[str, Any]) -> MarketState:
        market = cls(**data)
        market.status = MarketStatus(market.status)
        market.winning_outcome = Outcome(market.winning_outcome) if market.winning_outcome else None
        return market


@dataclass(slots=True, eq=False)
class OrderState:
    id: str
    seq: int  # global arrival number: the time in price-time priority
    account: str
    client_order_id: str
    market: str
    side: Side
    outcome: Outcome
    price: int  # ticks of the order's own outcome
    size: int  # milli-shares
    filled: int
    order_type: OrderType
    status: OrderStatus
    reason: str
    post_only: bool
    session_id: str | None
    created: float
    updated: float

    @property
    def remaining(self) -> int:
        return self.size - self.filled

    @property
    def is_bid(self) -> bool:
        """Whether the order sits on the YES bid side (BUY YES or SELL NO)."""
        return (self.side is Side.BUY) == (self.outcome is Outcome.YES)

    @property
    def book_price(self) -> int:
        return self.price if self.outcome is Outcome.YES else TICKS_PER_UNIT - self.price

    def row(self) -> tuple[Any, ...]:
        return (
            self.id, self.seq, self.account, self.client_order_id, self.market, self.side.value,
            self.outcome.value, self.price, self.size, self.filled, self.order_type.value,
            self.status.value, self.reason, int(self.post_only), self.session_id, self.created,
            self.updated,
        )  # fmt: skip


@dataclass(slots=True)
class FillState:
    id: str
    seq: int
    order: OrderState
    price: int  # ticks of the order's own outcome
    size: int
    liquidity: str
    created: float

    def row(self) -> tuple[Any, ...]:
        o = self.order
        return (
            self.id, self.seq, o.id, o.account, o.client_order_id, o.market, o.side.value,
            o.outcome.value, self.price, self.size, self.liquidity, self.created,
        )  # fmt: skip


@dataclass(slots=True)
class Event:
    """A change a websocket subscriber may want: kind is 'book', 'order' or 'fill'."""

    kind: str
    market: str
    seq: int
    account: str | None = None
    payload: Order | Fill | None = None


@dataclass(slots=True)
class PlaceResult:
    order: Order
    fills: list[Fill]
    created: bool  # False when the client_order_id was already known (idempotent replay)


class Book:
    """One market's YES-side book: price level (ticks) -> FIFO queue of live orders."""

    def __init__(self) -> None:
        self.bids: dict[int, deque[OrderState]] = {}
        self.asks: dict[int, deque[OrderState]] = {}

    def side(self, is_bid: bool) -> dict[int, deque[OrderState]]:
        return self.bids if is_bid else self.asks

    def add(self, order: OrderState) -> None:
        self.side(order.is_bid).setdefault(order.book_price, deque()).append(order)

    def best(self, is_bid: bool) -> int | None:
        levels = self.side(is_bid)
        if not levels:
            return None
        return max(levels) if is_bid else min(levels)

    def discard(self, orders: Iterable[OrderState]) -> None:
        """Remove orders, filtering each touched level once (cancel-all stays O(n))."""
        doomed: dict[tuple[bool, int], set[str]] = {}
        for order in orders:
            doomed.setdefault((order.is_bid, order.book_price), set()).add(order.id)
        for (is_bid, price), ids in doomed.items():
            levels = self.side(is_bid)
            queue = levels.get(price)
            if queue is None:
                continue
            kept = deque(o for o in queue if o.id not in ids)
            if kept:
                levels[price] = kept
            else:
                del levels[price]

    def levels(self, is_bid: bool) -> list[tuple[int, deque[OrderState]]]:
        """Return levels best first."""
        return sorted(self.side(is_bid).items(), reverse=is_bid)


@dataclass
class _Op:
    """What one engine operation changed; written in one transaction at its end."""

    now: float
    orders: dict[str, OrderState] = field(default_factory=dict)
    fills: list[FillState] = field(default_factory=list)
    accounts: set[str] = field(default_factory=set)
    positions: set[tuple[str, str, Outcome]] = field(default_factory=set)
    markets: set[str] = field(default_factory=set)
    books: set[str] = field(default_factory=set)
    batch: WriteBatch = field(default_factory=WriteBatch)
    taker_fee: TakerFee | None = None  # the incoming order's fee, in bps of each of its fills

    def touch(self, order: OrderState) -> None:
        self.orders[order.id] = order


TakerFee = Callable[[Side, int], int]  # (side, fill price in ticks) -> basis points


def fee_of(side: Side, qty: int, notional: int, bps: int) -> int:
    """A taker's fee on one fill: BUY pays in contracts (milli-shares), SELL in USDC (micro), rounded down."""
    return (qty if side is Side.BUY else notional) * bps // 10_000


def _utc(ts: float) -> datetime:
    return datetime.fromtimestamp(ts, UTC)


def _starting_usdc(usdc: Decimal) -> int:
    """A starting or added balance in micro-USDC; a negative one is never a real deposit."""
    micro = usdc_to_micro(usdc)
    if micro < 0:
        raise InvalidInput("usdc", "must not be negative")
    return micro


class Engine:
    """The exchange. Thread-safe through one re-entrant lock; every method is synchronous."""

    def __init__(
        self,
        path: str = ":memory:",
        *,
        seed: int = 0,
        clock: Callable[[], float] = time.time,
        settle_lag: float = 2.0,
        accounts: Iterable[AccountSpec] = (),
        demo_markets: bool = True,
        sqlite_sync: str = "NORMAL",
    ) -> None:
        self.seed = seed
        self.clock = clock
        self.settle_lag = settle_lag
        self.listeners: list[Callable[[list[Event]], None]] = []
        self._lock = threading.RLock()
        self._store = Store(path, sqlite_sync)
        self._load()
        if self._store.meta("initialised") is None:
            self._initialise(demo_markets)
        for spec in accounts:
            self.ensure_account(spec.name, spec.api_key, spec.usdc)
        self._recover_sessions()

    # ---------------------------------------------------------------- loading and setup

    def _reset_memory(self) -> None:
        self._accounts: dict[str, AccountState] = {}
        self._keys: dict[str, str] = {}
        self._markets: dict[str, MarketState] = {}
        self._books: dict[str, Book] = {}
        self._positions: dict[tuple[str, str, Outcome], PositionState] = {}
        self._orders: dict[str, OrderState] = {}
        self._by_cid: dict[tuple[str, str], OrderState] = {}
        self._live: dict[str, dict[str, OrderState]] = {}
        self._quote_center: dict[tuple[str, str], int] = {}

    def _load(self) -> None:
        """(Re)build all in-memory state from the database; locks are derived here."""
        self._reset_memory()
        store = self._store
        for row in store.rows("SELECT * FROM accounts"):
            acct = AccountState(row["name"], row["api_key"], row["usdc"], row["event_seq"], bool(row["simulated"]))
            self._accounts[acct.name] = acct
            self._keys[acct.api_key] = acct.name
        for row in store.rows("SELECT data FROM markets"):
            market = MarketState.from_data(json.loads(row["data"]))
            self._markets[market.slug] = market
            self._books[market.slug] = Book()
        for row in store.rows("SELECT * FROM positions"):
            key = (row["account"], row["market"], Outcome(row["outcome"]))
            self._positions[key] = PositionState(row["shares"], row["cost"])
        sql = f"SELECT {ORDER_COLS} FROM orders WHERE status='LIVE' OR account NOT IN "
        sql += "(SELECT name FROM accounts WHERE simulated=1) ORDER BY seq"
        for row in store.rows(sql):
            self._index(self._order_from_row(row))
        self._order_seq = int(store.meta("order_seq") or 0)
        self._fill_seq = int(store.meta("fill_seq") or 0)
        state = store.meta("rng_state")
        self._rng = random.Random(self.seed)
        if state is not None:
            version, internal, gauss = json.loads(state)
            self._rng.setstate((version, tuple(internal), gauss))

    @staticmethod
    def _order_from_row(row: Any) -> OrderState:
        return OrderState(
            row["id"], row["seq"], row["account"], row["client_order_id"], row["market"],
            Side(row["side"]), Outcome(row["outcome"]), row["price"], row["size"], row["filled"],
            OrderType(row["order_type"]), OrderStatus(row["status"]), row["reason"],
            bool(row["post_only"]), row["session_id"], row["created"], row["updated"],
        )  # fmt: skip

    def _index(self, order: OrderState) -> None:
        """Put a loaded order in the lookup maps; a live one also goes on its book and locks funds."""
        self._orders[order.id] = order
        self._by_cid[(order.account, order.client_order_id)] = order
        if order.status is OrderStatus.LIVE:
            self._books[order.market].add(order)
            self._live.setdefault(order.account, {})[order.id] = order
            self._lock_funds(order)

    def _initialise(self, demo_markets: bool) -> None:
        """First start: the simulated counterparties, the demo markets and their first quotes."""
        with self._op() as op:
            for name in (*SIM_MAKERS, SIM_TAKER):
                self._create_account(op, name, "sim-" + secrets.token_hex(16), SIM_USDC_MICRO, simulated=True)
            if demo_markets:
                for market in demo_market_states(op.now):
                    self._add_market(op, market)
            op.batch.meta["initialised"] = str(op.now)
        if demo_markets:
            self.tick()

    # ---------------------------------------------------------------- operations plumbing

    @contextmanager
    def _op(self) -> Iterator[_Op]:
        """Run one state change: collect it, write it in one transaction, then publish events.

        If anything fails before the commit, memory is rebuilt from the database, so the
        engine never keeps a change that was not persisted (fail safe).
        """
        with self._lock:
            op = _Op(now=self.clock())
            try:
                yield op
                events = self._flush(op)
            except BaseException:
                self._load()
                raise
            for listener in self.listeners:
                listener(events)

    def _flush(self, op: _Op) -> list[Event]:
        batch = op.batch
        events: list[Event] = []
        for fill in op.fills:
            batch.fills.append(fill.row())
            events += self._account_event(op, "fill", fill.order, self._fill_view(fill))
        for order in op.orders.values():
            self._persist_order(op, order)
            events += self._account_event(op, "order", order, self._order_view(order))
        for slug in sorted(op.books):
            market = self._markets[slug]
            market.book_seq += 1
            op.markets.add(slug)
            events.append(Event("book", slug, market.book_seq))
        batch.accounts += [self._accounts[name].row() for name in sorted(op.accounts)]
        for key in op.positions:
            pos = self._positions[key]
            batch.positions.append((key[0], key[1], key[2].value, pos.shares, pos.cost))
        for slug in op.markets:
            batch.market(slug, self._markets[slug].data())
        batch.meta.update(order_seq=str(self._order_seq), fill_seq=str(self._fill_seq))
        self._store.write(batch)
        return events

    def _account_event(self, op: _Op, kind: str, order: OrderState, payload: Order | Fill) -> list[Event]:
        acct = self._accounts[order.account]
        if acct.simulated:  # nobody subscribes to the simulated accounts; skip the bookkeeping
            return []
        acct.event_seq += 1
        op.accounts.add(acct.name)
        return [Event(kind, order.market, acct.event_seq, acct.name, payload)]

    def _persist_order(self, op: _Op, order: OrderState) -> None:
        """Write an order row; drop finished simulated orders from memory (and unfilled ones entirely)."""
        finished_sim = self._accounts[order.account].simulated and order.status is not OrderStatus.LIVE
        if finished_sim:
            self._orders.pop(order.id, None)
            self._by_cid.pop((order.account, order.client_order_id), None)
        if finished_sim and order.filled == 0:
            op.batch.deleted_orders.append(order.id)  # a requoted sim order leaves no trace worth keeping
        else:
            op.batch.orders.append(order.row())

    # ---------------------------------------------------------------- accounts

    def _create_account(self, op: _Op, name: str, api_key: str, usdc: int, *, simulated: bool = False) -> None:
        acct = AccountState(name, api_key, 0, simulated=simulated)
        self._accounts[name] = acct
        self._keys[api_key] = name
        op.accounts.add(name)
        self._deposit(op, acct, usdc)

    def _deposit(self, op: _Op, acct: AccountState, usdc: int) -> None:
        """Credit collateral; a deposit is on chain already, so it settles at once."""
        acct.usdc += usdc
        op.accounts.add(acct.name)
        op.batch.chain.append((acct.name, "", "", usdc, 0, "deposit", op.now))

    def ensure_account(self, name: str, api_key: str, usdc: Decimal) -> None:
        """Create the account with its starting USDC once; on later starts only refresh the key."""
        micro = _starting_usdc(usdc)
        with self._lock:
            self._check_claim(name, api_key)
            with self._op() as op:
                acct = self._accounts.get(name)
                if acct is None:
                    self._create_account(op, name, api_key, micro)
                elif acct.api_key != api_key:
                    del self._keys[acct.api_key]
                    acct.api_key = api_key
                    self._keys[api_key] = name
                    op.accounts.add(name)

    def _check_claim(self, name: str, api_key: str) -> None:
        """Refuse to hand out a simulated account or another account's key."""
        acct = self._accounts.get(name)
        if acct is not None and acct.simulated:
            raise InvalidInput("name", f"{name!r} is a simulated account and cannot be changed")
        owner = self._keys.get(api_key)
        if owner is not None and owner != name:
            raise InvalidInput("api_key", "already belongs to another account")

    def open_account(self, name: str, api_key: str, usdc: Decimal) -> tuple[bool, Balance]:
        """The fault API's account control: create an account, or add USDC to an existing one.

        Returns (created, balance). An existing account is only funded when the caller
        presents its current key: re-keying through a control endpoint would silently lock
        out whoever holds the old key, so a different key is refused instead.
        """
        micro = _starting_usdc(usdc)
        with self._lock:
            self._check_claim(name, api_key)
            acct = self._accounts.get(name)
            if acct is None:
                with self._op() as op:
                    self._create_account(op, name, api_key, micro)
                return True, self.balance(name)
            if acct.api_key != api_key:
                raise InvalidInput("api_key", f"account {name!r} exists with another key")
            return False, self.fund(name, usdc)

    def fund(self, name: str, usdc: Decimal) -> Balance:
        """Add (or with a negative amount, remove) collateral: a test and demo control."""
        micro = usdc_to_micro(usdc)
        with self._lock:
            acct = self._account(name)
            if acct.usdc - acct.locked + micro < 0:
                raise InvalidInput("usdc", "would make the available balance negative")
            with self._op() as op:
                self._deposit(op, acct, micro)
            return self.balance(name)

    def is_open_account(self, name: str) -> bool:
        """Whether `name` is an account the outside may use (it exists and is not simulated)."""
        with self._lock:
            acct = self._accounts.get(name)
            return acct is not None and not acct.simulated

    def account_for_key(self, api_key: str) -> str | None:
        with self._lock:
            name = self._keys.get(api_key)
            if name is None or self._accounts[name].simulated:
                return None  # simulated accounts are never reachable from outside
            return name

    def _account(self, name: str) -> AccountState:
        acct = self._accounts.get(name)
        if acct is None:
            raise NotFound("account", name)
        return acct

    def _market(self, slug: str) -> MarketState:
        market = self._markets.get(slug)
        if market is None:
            raise NotFound("market", slug)
        return market

    def _pos(self, op: _Op | None, account: str, market: str, outcome: Outcome) -> PositionState:
        key = (account, market, outcome)
        pos = self._positions.get(key)
        if pos is None:
            pos = self._positions[key] = PositionState()
        if op is not None:
            op.positions.add(key)
        return pos

    # ---------------------------------------------------------------- placing orders

    def place(
        self, account: str, req: OrderRequest, *, session_id: str | None = None, taker_fee: TakerFee | None = None,
        order_id: str | None = None,
    ) -> PlaceResult:
        """Place an order: validate, check funding, match, rest or kill. Idempotent per client id.

        Raises InvalidInput (bad price/size, nothing stored) or NotFound (account, market).
        A refusal for business reasons (funding, market status, post-only) is stored and
        returned as an order with status REJECTED and a reason.
        """
        with self._lock:
            acct = self._account(account)
            existing = self._by_cid.get((account, req.client_order_id))
            if existing is not None:
                return PlaceResult(self._order_view(existing), [], created=False)
            price, size = price_to_ticks(req.price), size_to_milli(req.size)
            market = self._market(req.market)
            with self._op() as op:
                op.taker_fee = taker_fee  # only what the order takes now pays it; once resting it is a maker
                if order_id is not None and order_id in self._orders:
                    raise InvalidInput("order_id", f"{order_id} is already taken")
                order = self._new_order(op, acct, req, price, size, session_id, order_id)
                self._execute(op, market, order)
            fills = [self._fill_view(f) for f in op.fills if f.order is order]
            return PlaceResult(self._order_view(order), fills, created=True)

    def _new_order(
        self, op: _Op, acct: AccountState, req: OrderRequest, price: int, size: int, session_id: str | None,
        order_id: str | None = None,
    ) -> OrderState:
        self._order_seq += 1
        order = OrderState(
            order_id or f"ord_{self._order_seq:010d}", self._order_seq, acct.name, req.client_order_id, req.market,
            req.side, req.outcome, price, size, 0, req.order_type, OrderStatus.LIVE, "", req.post_only,
            session_id, op.now, op.now,
        )  # fmt: skip
        self._orders[order.id] = order
        self._by_cid[(acct.name, order.client_order_id)] = order
        op.touch(order)
        return order

    def _execute(self, op: _Op, market: MarketState, order: OrderState) -> None:
        reason = self._refusal(market, order)
        if reason:
            order.status, order.reason = OrderStatus.REJECTED, reason
            return
        self._lock_funds(order)
        if order.order_type is OrderType.FOK and self._fillable(market, order) < order.size:
            self._kill(op, order, "FOK: not fully fillable at the limit price; canceled")
            return
        self._match(op, market, order)
        if order.remaining == 0:
            order.status = OrderStatus.MATCHED
        elif order.order_type is OrderType.GTC:
            self._books[market.slug].add(order)
            self._live.setdefault(order.account, {})[order.id] = order
            op.books.add(market.slug)
        else:
            self._kill(op, order, f"{order.order_type.value}: unfilled remainder canceled")

    def _refusal(self, market: MarketState, order: OrderState) -> str:
        """Return why the order is refused before touching the book, or ''."""
        if market.status is not MarketStatus.OPEN:
            return f"market {market.slug} is {market.status.value}: new orders are refused"
        if order.post_only and order.order_type is not OrderType.GTC:
            return "post_only is only valid for GTC orders"
        if order.post_only and self._crosses(market, order):
            return "post-only order would match the book; rejected"
        return self._funding_refusal(order)

    def _funding_refusal(self, order: OrderState) -> str:
        acct = self._accounts[order.account]
        if order.side is Side.BUY:
            need, available = order.price * order.size, acct.usdc - acct.locked
            if need > available:
                return f"insufficient funds: order needs {micro_dec(need)} USDC, available {micro_dec(available)}"
            return ""
        pos = self._positions.get((order.account, order.market, order.outcome)) or PositionState()
        if order.size > pos.shares - pos.locked:
            free = milli_dec(pos.shares - pos.locked)
            return (
                f"insufficient shares: selling {milli_dec(order.size)} {order.outcome.value} "
                f"but only {free} are held and not already offered"
            )
        return ""

    def _crosses(self, market: MarketState, order: OrderState) -> bool:
        best = self._books[market.slug].best(not order.is_bid)
        if best is None:
            return False
        return best <= order.book_price if order.is_bid else best >= order.book_price

    def _lock_funds(self, order: OrderState) -> None:
        if order.side is Side.BUY:
            self._accounts[order.account].locked += order.price * order.remaining
        else:
            self._pos(None, order.account, order.market, order.outcome).locked += order.remaining

    def _release(self, order: OrderState) -> None:
        """Unlock what the order's unfilled remainder holds."""
        if order.side is Side.BUY:
            self._accounts[order.account].locked -= order.price * order.remaining
        else:
            self._pos(None, order.account, order.market, order.outcome).locked -= order.remaining

    def _kill(self, op: _Op, order: OrderState, reason: str) -> None:
        self._release(order)
        order.status, order.reason, order.updated = OrderStatus.CANCELED, reason, op.now
        op.touch(order)

    def _fillable(self, market: MarketState, taker: OrderState) -> int:
        """Return how much of the taker could fill now, ignoring its own resting orders (STP)."""
        total = 0
        for price, queue in self._books[market.slug].levels(not taker.is_bid):
            if not self._within_limit(taker, price):
                break
            total += sum(o.remaining for o in queue if o.account != taker.account)
            if total >= taker.size:
                break
        return total

    @staticmethod
    def _within_limit(taker: OrderState, level_price: int) -> bool:
        return level_price <= taker.book_price if taker.is_bid else level_price >= taker.book_price

    def _match(self, op: _Op, market: MarketState, taker: OrderState) -> None:
        """Cross the taker against the opposite side, best price first, oldest first."""
        book = self._books[market.slug]
        opposite = book.side(not taker.is_bid)
        while taker.remaining > 0:
            price = book.best(not taker.is_bid)
            if price is None or not self._within_limit(taker, price):
                return
            queue = opposite[price]
            maker = queue[0]
            if maker.account == taker.account:
                self._cancel_resting(op, maker, STP_REASON)
                continue
            self._trade(op, market, taker, maker, price, min(taker.remaining, maker.remaining))
            if maker.remaining == 0:
                maker.status = OrderStatus.MATCHED
                self._unrest(book, maker)

    def _unrest(self, book: Book, order: OrderState) -> None:
        """Take the order at the front of its level off the book and the live index."""
        levels = book.side(order.is_bid)
        queue = levels[order.book_price]
        queue.popleft()
        if not queue:
            del levels[order.book_price]
        self._live.get(order.account, {}).pop(order.id, None)

    def _trade(
        self, op: _Op, market: MarketState, taker: OrderState, maker: OrderState, yes_price: int, qty: int
    ) -> None:
        """Settle one match: each side trades its own outcome at the maker's price."""
        for order, liquidity in ((maker, "maker"), (taker, "taker")):
            price = yes_price if order.outcome is Outcome.YES else TICKS_PER_UNIT - yes_price
            self._settle_leg(op, order, price, qty, liquidity)
        market.last_price = yes_price
        op.markets.add(market.slug)
        op.books.add(market.slug)

    def _settle_leg(self, op: _Op, order: OrderState, price: int, qty: int, liquidity: str) -> None:
        acct = self._accounts[order.account]
        pos = self._pos(op, order.account, order.market, order.outcome)
        notional = price * qty
        bps = op.taker_fee(order.side, price) if liquidity == "taker" and op.taker_fee is not None else 0
        fee = fee_of(order.side, qty, notional, bps)
        if order.side is Side.BUY:
            acct.locked -= order.price * qty  # locked at the limit; the fill may be cheaper
            acct.usdc -= notional
            pos.shares += qty - fee  # a taker's buy fee is paid in contracts
            pos.cost += notional
            usdc_delta, share_delta = -notional, qty - fee
        else:
            pos.locked -= qty
            pos.cost -= pos.cost * qty // pos.shares
            pos.shares -= qty
            acct.usdc += notional - fee  # a taker's sell fee is paid in USDC
            usdc_delta, share_delta = notional - fee, -qty
        order.filled += qty
        order.updated = op.now
        op.touch(order)
        op.accounts.add(acct.name)
        self._fill_seq += 1
        op.fills.append(FillState(f"fil_{self._fill_seq:010d}", self._fill_seq, order, price, qty, liquidity, op.now))
        settle_at = op.now + self.settle_lag
        op.batch.chain.append(
            (acct.name, order.market, order.outcome.value, usdc_delta, share_delta, "trade", settle_at)
        )

    # ---------------------------------------------------------------- cancelling

    def _cancel_resting(self, op: _Op, order: OrderState, reason: str) -> None:
        """Cancel one resting order and take it off its book."""
        self._mark_canceled(op, order, reason)
        self._books[order.market].discard([order])

    def _mark_canceled(self, op: _Op, order: OrderState, reason: str) -> None:
        self._release(order)
        order.status, order.reason, order.updated = OrderStatus.CANCELED, reason, op.now
        self._live.get(order.account, {}).pop(order.id, None)
        op.touch(order)
        op.books.add(order.market)

    def _cancel_many(self, op: _Op, orders: list[OrderState], reason: str) -> list[str]:
        by_market: dict[str, list[OrderState]] = {}
        for order in orders:
            self._mark_canceled(op, order, reason)
            by_market.setdefault(order.market, []).append(order)
        for slug, group in by_market.items():
            self._books[slug].discard(group)
        return [o.id for o in orders]

    def _owned(self, account: str, order_id: str) -> OrderState:
        order = self._orders.get(order_id)
        if order is None or order.account != account:
            raise NotFound("order", order_id)  # another account's order is not even acknowledged
        return order

    def cancel(self, account: str, order_id: str, reason: str = "canceled by owner") -> Order:
        """Cancel one order; cancelling an order that is no longer live changes nothing."""
        with self._lock:
            order = self._owned(account, order_id)
            if order.status is OrderStatus.LIVE:
                with self._op() as op:
                    self._cancel_resting(op, order, reason)
            return self._order_view(order)

    def cancel_batch(self, account: str, order_ids: list[str]) -> CancelResult:
        with self._lock:
            live, failed = [], []
            for order_id in dict.fromkeys(order_ids):
                order = self._orders.get(order_id)
                if order is None or order.account != account:
                    failed.append({"orderId": order_id, "reason": "ORDER_NOT_FOUND", "message": "order not found"})
                elif order.status is not OrderStatus.LIVE:
                    msg = f"order is {order.status.value}"
                    failed.append({"orderId": order_id, "reason": "ORDER_NOT_LIVE", "message": msg})
                else:
                    live.append(order)
            return CancelResult(canceled=self._cancel_list(live, "canceled by owner (batch)"), failed=failed)

    def cancel_all(
        self, account: str, market: str | None = None, reason: str = "canceled by owner (all)"
    ) -> CancelResult:
        """Cancel every live order of the account, in one market or everywhere, in one transaction."""
        with self._lock:
            self._account(account)
            if market is not None:
                self._market(market)
            live = [o for o in self._live.get(account, {}).values() if market is None or o.market == market]
            return CancelResult(canceled=self._cancel_list(live, reason))

    def _cancel_list(self, orders: list[OrderState], reason: str) -> list[str]:
        if not orders:
            return []
        with self._op() as op:
            return self._cancel_many(op, sorted(orders, key=lambda o: o.seq), reason)

    # ---------------------------------------------------------------- cancel-on-disconnect sessions

    def session_open(self, session_id: str, account: str, scope: str) -> None:
        """Record that a websocket session enabled cancel-on-disconnect (survives a venue crash)."""
        with self._op() as op:
            op.batch.sql.append(
                ("INSERT OR REPLACE INTO ws_sessions VALUES (?, ?, ?, 1)", (session_id, account, scope))
            )

    def session_forget(self, session_id: str) -> None:
        """Cancel-on-disconnect was switched off: the session's orders are no longer covered."""
        with self._op() as op:
            op.batch.sql.append(("UPDATE ws_sessions SET open=0 WHERE id=?", (session_id,)))

    def flag_orders(self, account: str, session_id: str, order_ids: list[str]) -> list[str]:
        """Tie live orders to a session, so its cancel-on-disconnect covers them; return those tied."""
        with self._lock:
            tied = []
            with self._op() as op:
                for order_id in order_ids:
                    order = self._orders.get(order_id)
                    if order and order.account == account and order.status is OrderStatus.LIVE:
                        order.session_id = session_id
                        op.batch.orders.append(order.row())
                        tied.append(order_id)
            return tied

    def session_close(self, session_id: str, account: str, scope: str, reason: str) -> CancelResult:
        """Cancel what a closed cancel-on-disconnect session covers, and forget the session."""
        with self._lock:
            live = list(self._live.get(account, {}).values())
            if scope != "account":
                live = [o for o in live if o.session_id == session_id]
            with self._op() as op:
                ids = self._cancel_many(op, sorted(live, key=lambda o: o.seq), reason)
                op.batch.sql.append(("UPDATE ws_sessions SET open=0 WHERE id=?", (session_id,)))
            return CancelResult(canceled=ids)

    def _recover_sessions(self) -> None:
        """After a restart every old websocket is gone: apply their cancel-on-disconnect now."""
        for row in self._store.rows("SELECT id, account, scope FROM ws_sessions WHERE open=1"):
            if row["account"] in self._accounts:
                self.session_close(row["id"], row["account"], row["scope"], "cancel-on-disconnect (venue restart)")

    # ---------------------------------------------------------------- reads

    def order(self, account: str, order_id: str) -> Order:
        with self._lock:
            return self._order_view(self._owned(account, order_id))

    def order_by_client_id(self, account: str, client_order_id: str) -> Order | None:
        with self._lock:
            order = self._by_cid.get((account, client_order_id))
            return None if order is None else self._order_view(order)

    def orders(
        self,
        account: str,
        *,
        market: str | None = None,
        status: OrderStatus | None = None,
        client_order_id: str | None = None,
        limit: int = 500,
    ) -> list[Order]:
        """List the account's orders, oldest first, at most `limit` (the newest ones)."""
        with self._lock:
            self._account(account)
            if status is OrderStatus.LIVE:
                pool: Iterable[OrderState] = self._live.get(account, {}).values()
            else:
                pool = (o for o in self._orders.values() if o.account == account)
            found = [
                o
                for o in pool
                if (market is None or o.market == market)
                and (status is None or o.status is status)
                and (client_order_id is None or o.client_order_id == client_order_id)
            ]
            found.sort(key=lambda o: o.seq)
            return [self._order_view(o) for o in found[-limit:]]

    def fills(self, account: str, *, market: str | None = None, limit: int = 500) -> list[Fill]:
        """List the account's fills, oldest first, at most `limit` (the newest ones)."""
        with self._lock:
            self._account(account)
            sql, params = "SELECT * FROM fills WHERE account=?", [account]
            if market is not None:
                sql, params = sql + " AND market=?", [*params, market]
            rows = self._store.rows(sql + " ORDER BY seq DESC LIMIT ?", [*params, limit])
            return [self._fill_row_view(r) for r in reversed(rows)]

    def positions(self, account: str) -> list[Position]:
        with self._lock:
            self._account(account)
            out = []
            for (name, slug, outcome), pos in sorted(self._positions.items()):
                if name == account and pos.shares:
                    out.append(self._position_view(slug, outcome, pos))
            return out

    def account_seq(self, account: str) -> int:
        """The last seq sent on the account's websocket stream."""
        with self._lock:
            return self._account(account).event_seq

    def balance(self, account: str) -> Balance:
        with self._lock:
            acct = self._account(account)
            return Balance(
                usdc=micro_dec(acct.usdc), locked=micro_dec(acct.locked), available=micro_dec(acct.usdc - acct.locked)
            )

    def markets(self) -> list[Market]:
        """Every market that renders; a damaged one is logged and left out rather than failing the list."""
        with self._lock:
            out = []
            for market in sorted(self._markets.values(), key=lambda m: m.slug):
                try:
                    out.append(self._market_view(market))
                except UnrenderableMarket:
                    log.exception("market %r left out of the market list", market.slug)
            return out

    def market_count(self) -> int:
        """How many markets exist, without rendering any (so /healthz cannot fail on a bad row)."""
        with self._lock:
            return len(self._markets)

    def market(self, slug: str) -> Market:
        with self._lock:
            return self._market_view(self._market(slug))

    def book(self, slug: str, depth: int = 50) -> OrderBook:
        with self._lock:
            market = self._market(slug)
            book = self._books[slug]
            return OrderBook(
                market=slug,
                bids=self._levels_view(book, True, depth),
                asks=self._levels_view(book, False, depth),
                note=market.note,
                seq=market.book_seq,
            )

    def _levels_view(self, book: Book, is_bid: bool, depth: int) -> list[BookLevel]:
        out = []
        for price, queue in book.levels(is_bid)[:depth]:
            out.append(BookLevel(price=ticks_dec(price), size=milli_dec(sum(o.remaining for o in queue))))
        return out

    def chain_ledger(self, account: str) -> ChainLedger:
        """Sum the account's chain events that have settled by now (deposits, trades, payouts, drift)."""
        with self._lock:
            self._account(account)
            now = self.clock()
            rows = self._store.rows(
                "SELECT market, outcome, SUM(usdc) AS usdc, SUM(shares) AS shares FROM chain_events "
                "WHERE account=? AND settle_at<=? GROUP BY market, outcome ORDER BY market, outcome",
                (account, now),
            )
            pending = self._store.rows(
                "SELECT COUNT(*) AS n, MIN(settle_at) AS first FROM chain_events WHERE account=? AND settle_at>?",
                (account, now),
            )[0]
            unsettled = self._store.rows(
                "SELECT market, outcome, SUM(usdc) AS usdc, SUM(shares) AS shares FROM chain_events "
                "WHERE account=? AND settle_at>? GROUP BY market, outcome ORDER BY market, outcome",
                (account, now),
            )
            through = _utc(now) if pending["n"] == 0 else _utc(pending["first"])
            return ChainLedger(
                usdc=micro_dec(sum(r["usdc"] for r in rows)),
                positions=_chain_positions(rows),
                settled_through=through,
                pending=pending["n"],
                pending_usdc=micro_dec(sum(r["usdc"] or 0 for r in unsettled)),
                pending_positions=_chain_positions(unsettled),
            )

    # ---------------------------------------------------------------- views

    def _order_view(self, o: OrderState) -> Order:
        return Order(
            id=o.id, client_order_id=o.client_order_id, market=o.market, side=o.side, outcome=o.outcome,
            price=ticks_dec(o.price), size=milli_dec(o.size), filled=milli_dec(o.filled),
            remaining=milli_dec(o.remaining if o.status is OrderStatus.LIVE else 0), order_type=o.order_type,
            status=o.status, reason=o.reason, created_at=_utc(o.created), updated_at=_utc(o.updated),
            session_id=o.session_id,
        )  # fmt: skip

    def _fill_view(self, f: FillState) -> Fill:
        o = f.order
        return Fill(
            id=f.id, order_id=o.id, client_order_id=o.client_order_id, market=o.market, side=o.side,
            outcome=o.outcome, price=ticks_dec(f.price), size=milli_dec(f.size), liquidity=f.liquidity,
            created_at=_utc(f.created),
        )  # fmt: skip

    def _fill_row_view(self, r: Any) -> Fill:
        return Fill(
            id=r["id"], order_id=r["order_id"], client_order_id=r["client_order_id"], market=r["market"],
            side=Side(r["side"]), outcome=Outcome(r["outcome"]), price=ticks_dec(r["price"]),
            size=milli_dec(r["size"]), liquidity=r["liquidity"], created_at=_utc(r["created"]),
        )  # fmt: skip

    def _position_view(self, slug: str, outcome: Outcome, pos: PositionState) -> Position:
        avg = (Decimal(pos.cost) / Decimal(pos.shares * 1000)).quantize(Decimal("0.000001"))
        last = self._markets[slug].last_price
        mark = None
        if last is not None:
            mark = ticks_dec(last if outcome is Outcome.YES else TICKS_PER_UNIT - last)
        return Position(market=slug, outcome=outcome, shares=milli_dec(pos.shares), avg_price=avg, mark_price=mark)

    def _market_view(self, m: MarketState) -> Market:
        try:
            return Market(
                slug=m.slug, title=m.title, description=m.description, category=m.category,
                market_type=m.market_type, status=m.status, close_time=_utc(m.close_time), note=m.note,
                resolution_text=m.resolution_text, winning_outcome=m.winning_outcome,
                last_price=None if m.last_price is None else ticks_dec(m.last_price),
            )  # fmt: skip
        except (ArithmeticError, OSError, TypeError, ValueError) as exc:  # OverflowError: inf/huge close_time
            raise UnrenderableMarket(m.slug, exc) from exc

    # ---------------------------------------------------------------- market administration

    def _add_market(self, op: _Op, market: MarketState) -> None:
        self._markets[market.slug] = market
        self._books[market.slug] = Book()
        op.markets.add(market.slug)

    def create_market(self, market: MarketState) -> Market:
        """Add a market (a control for tests and demos); an existing slug is refused."""
        with self._lock:
            if market.slug in self._markets:
                raise InvalidInput("slug", f"market {market.slug!r} already exists")
            try:  # render first: a market that cannot be shown must never be stored
                view = self._market_view(market)
            except UnrenderableMarket as exc:
                raise InvalidInput("close_time", "cannot be represented as a date") from exc
            with self._op() as op:
                self._add_market(op, market)
            return view

    def set_status(self, slug: str, status: MarketStatus) -> Market:
        """Pause, close or reopen a market; resting orders stay (cancels are always allowed)."""
        with self._lock:
            market = self._market(slug)
            if market.status is MarketStatus.RESOLVED:
                raise InvalidInput("status", "a resolved market cannot change status")
            if status is MarketStatus.RESOLVED:
                raise InvalidInput("status", "use resolve to resolve a market")
            with self._op() as op:
                market.status = status
                op.markets.add(slug)
            return self._market_view(market)

    def set_text(self, slug: str, field_name: str, text: str) -> Market:
        """Replace a text field an agent reads (the injection-test control)."""
        if field_name not in TEXT_FIELDS:
            raise InvalidInput("field", f"must be one of {', '.join(TEXT_FIELDS)}")
        with self._lock:
            market = self._market(slug)
            with self._op() as op:
                setattr(market, field_name, text)
                op.markets.add(slug)
                op.books.add(slug)  # the note is part of the book stream
            return self._market_view(market)

    def resolve(self, slug: str, outcome: Outcome) -> Market:
        """Resolve: cancel resting orders, pay 1 USDC per winning share, zero every position."""
        with self._lock:
            market = self._market(slug)
            if market.status is MarketStatus.RESOLVED:
                return self._market_view(market)  # already done: change nothing
            with self._op() as op:
                resting = [o for live in self._live.values() for o in live.values() if o.market == slug]
                self._cancel_many(op, sorted(resting, key=lambda o: o.seq), "market resolved")
                for (account, mslug, held), pos in self._positions.items():
                    if mslug == slug and pos.shares:
                        self._payout(op, account, slug, held, pos, won=held is outcome)
                market.status, market.winning_outcome = MarketStatus.RESOLVED, outcome
                market.last_price = TICKS_PER_UNIT if outcome is Outcome.YES else 0
                op.markets.add(slug)
            return self._market_view(market)

    def _payout(self, op: _Op, account: str, slug: str, outcome: Outcome, pos: PositionState, *, won: bool) -> None:
        payout = pos.shares * TICKS_PER_UNIT if won else 0  # 1 USDC per share = 1000 micro per milli-share
        self._accounts[account].usdc += payout
        op.accounts.add(account)
        op.positions.add((account, slug, outcome))
        settle_at = op.now + self.settle_lag
        op.batch.chain.append((account, slug, outcome.value, payout, -pos.shares, "resolution", settle_at))
        pos.shares = pos.cost = 0

    # ---------------------------------------------------------------- chain faults

    def add_drift(
        self, account: str, *, usdc: int = 0, market: str = "", outcome: Outcome | None = None, shares: int = 0
    ) -> None:
        """Make the chain ledger differ from REST state by the given amounts (micro-USDC, milli-shares)."""
        with self._lock:
            self._account(account)
            if shares and (not market or outcome is None):
                raise InvalidInput("market", "a share drift needs a market and an outcome")
            if market:
                self._market(market)
            with self._op() as op:
                row = (account, market, outcome.value if outcome else "", usdc, shares, "drift", op.now)
                op.batch.chain.append(row)

    def fail_settlement(self, account: str, fills: list[Fill], taker_fee: TakerFee | None = None) -> None:
        """A settlement that failed on chain: the trade stays in REST state (as an indexer's cache would
        keep it) but never reaches the chain ledger. Compensating chain events settle with the trade's, so
        REST and chain differ by exactly these fills: the drift a client must catch."""
        with self._lock:
            self._account(account)
            with self._op() as op:
                for fill in fills:
                    shares, price = size_to_milli(fill.size), price_to_ticks(fill.price)
                    notional = price * shares
                    bps = taker_fee(fill.side, price) if taker_fee is not None and fill.liquidity == "taker" else 0
                    fee = fee_of(fill.side, shares, notional, bps)  # what the trade's own chain event carried
                    if fill.side is Side.BUY:
                        usdc, moved = notional, -(shares - fee)
                    else:
                        usdc, moved = -(notional - fee), shares
                    settle_at = fill.created_at.timestamp() + self.settle_lag
                    op.batch.chain.append((account, fill.market, fill.outcome.value, usdc, moved, "failed", settle_at))

    def clear_drift(self) -> None:
        with self._op() as op:
            op.batch.sql.append(("DELETE FROM chain_events WHERE kind='drift'", ()))

    def settle_now(self) -> None:
        """Settle every pending chain event at once (as if the lag had passed)."""
        with self._op() as op:
            op.batch.sql.append(("UPDATE chain_events SET settle_at=? WHERE settle_at>?", (op.now, op.now)))

    # ---------------------------------------------------------------- the simulated counterparties

    def tick(self) -> None:
        """Advance the simulation one step: drift fair prices, requote the makers, maybe cross a taker."""
        with self._lock:
            for market in sorted(self._markets.values(), key=lambda m: m.slug):
                if market.simulated and market.status is MarketStatus.OPEN:
                    self._sim_market(market)
            self._save_rng()

    def _save_rng(self) -> None:
        version, internal, gauss = self._rng.getstate()
        with self._op() as op:
            op.batch.meta["rng_state"] = json.dumps([version, list(internal), gauss])

    def _sim_market(self, market: MarketState) -> None:
        rng = self._rng
        market.fair = min(max(market.fair + rng.choice((-3, -2, -1, 0, 0, 1, 2, 3)), 30), 970)
        for maker in SIM_MAKERS:
            stale = abs(self._quote_center.get((maker, market.slug), -100) - market.fair) >= 3
            if rng.random() < 0.15 or stale or not self._has_quotes(maker, market.slug):
                self._requote(maker, market)
        if rng.random() < 0.3:
            self._sim_take(market)

    def _has_quotes(self, account: str, slug: str) -> bool:
        return any(o.market == slug for o in self._live.get(account, {}).values())

    def _requote(self, maker: str, market: MarketState) -> None:
        """Replace the maker's quotes: SIM_LEVELS bids (BUY YES) and asks (BUY NO) around fair."""
        rng = self._rng
        self.cancel_all(maker, market.slug, reason="requote")
        half = rng.randint(5, 15)
        for level in range(SIM_LEVELS):
            bid, ask = market.fair - half - 5 * level, market.fair + half + 5 * level
            size = Decimal(rng.randint(5, 60))
            if 0 < bid < TICKS_PER_UNIT:
                self._sim_order(maker, market.slug, Side.BUY, Outcome.YES, bid, size, OrderType.GTC)
            if 0 < ask < TICKS_PER_UNIT:
                self._sim_order(maker, market.slug, Side.BUY, Outcome.NO, TICKS_PER_UNIT - ask, size, OrderType.GTC)
        self._quote_center[(maker, market.slug)] = market.fair

    def _sim_take(self, market: MarketState) -> None:
        """A simulated taker lifts the offer or hits the bid with a small FAK order."""
        rng = self._rng
        buy_yes = rng.random() < 0.5
        size = Decimal(rng.randint(1, 20))
        book = self._books[market.slug]
        best = book.best(not buy_yes)
        if best is None:
            return
        if buy_yes:
            self._sim_order(SIM_TAKER, market.slug, Side.BUY, Outcome.YES, min(best + 2, 999), size, OrderType.FAK)
        else:
            price = min(TICKS_PER_UNIT - best + 2, 999)
            self._sim_order(SIM_TAKER, market.slug, Side.BUY, Outcome.NO, price, size, OrderType.FAK)

    def _sim_order(
        self, account: str, slug: str, side: Side, outcome: Outcome, ticks: int, size: Decimal, kind: OrderType
    ) -> None:
        cid = f"{account}-{self._order_seq + 1}"
        req = OrderRequest(
            market=slug,
            side=side,
            outcome=outcome,
            price=ticks_dec(ticks),
            size=size,
            order_type=kind,
            client_order_id=cid,
        )
        self.place(account, req)

    def price_shock(self, slug: str, price: Decimal) -> Market:
        """Move the fair price at once; in a simulated market the makers requote (and may sweep stale orders)."""
        ticks = price_to_ticks(price)
        with self._lock:
            market = self._market(slug)
            with self._op() as op:
                market.fair = ticks
                market.last_price = ticks
                op.markets.add(slug)
            if market.simulated and market.status is MarketStatus.OPEN:
                for maker in SIM_MAKERS:  # pull every stale quote first, so the makers never trade each other
                    self.cancel_all(maker, slug, reason="requote")
                for maker in SIM_MAKERS:
                    self._requote(maker, market)
            return self._market_view(market)

    def close(self) -> None:
        with self._lock:
            self._store.close()


def _chain_positions(rows: list[Any]) -> list[Position]:
    """Summed chain events -> positions (a chain knows no cost: avg_price 0)."""
    return [
        Position(market=r["market"], outcome=Outcome(r["outcome"]), shares=milli_dec(r["shares"]), avg_price=Decimal(0))
        for r in rows
        if r["market"] and r["shares"]
    ]


def demo_market_states(now: float) -> list[MarketState]:
    """The markets seeded on first start: a crypto-hourly pair, sports and politics."""
    hour = 3600.0
    top = (now // hour + 1) * hour  # the next full hour
    return [
        MarketState(
            "btc-above-100k-next-hour", "Will BTC trade above $100,000 at the top of the hour?",
            "Resolves YES if the BTC/USD index is above 100,000 at the close time.", "Crypto",
            "crypto-hourly", MarketStatus.OPEN, top, fair=520,
            resolution_text="Source: the BTC/USD index print at the close time.",
        ),
        MarketState(
            "eth-up-next-hour", "Will ETH close the hour higher than it opened?",
            "Resolves YES if ETH/USD at the close time is above its value at the start of the hour.",
            "Crypto", "crypto-hourly", MarketStatus.OPEN, top, fair=480,
            resolution_text="Source: the ETH/USD index prints at the hour boundaries.",
        ),
        MarketState(
            "lakers-beat-celtics", "Will the Lakers beat the Celtics tonight?",
            "Resolves YES if the Lakers win the game, overtime included.", "Sports", "sports",
            MarketStatus.OPEN, now + 8 * hour, fair=450,
            resolution_text="Source: the official league box score.",
        ),
        MarketState(
            "arsenal-win-league", "Will Arsenal win the league this season?",
            "Resolves YES if Arsenal finish first in the final table.", "Sports", "sports",
            MarketStatus.OPEN, now + 180 * 24 * hour, fair=300,
            resolution_text="Source: the league's final standings.",
        ),
        MarketState(
            "senate-control-2026", "Will the incumbent party keep control of the Senate?",
            "Resolves YES if the incumbent party holds a majority when the new Senate convenes.",
            "Politics", "politics", MarketStatus.OPEN, now + 400 * 24 * hour, fair=550,
            resolution_text="Source: the official election results.",
        ),
    ]  # fmt: skip
