"""The operator's desk: NAV, today's P&L against the daily-loss limit, positions, open orders and fills.

Everything about money is read through the venue interface (VenuePort), so the desk works on the
paper venue and on a live one. The deployment trades one venue account for every agent: orders,
fills and positions are attributed to agents through the journaled Order rows (client order id,
venue order id); what no row explains is shown as "unattributed", never folded into an agent.

Venue reads are cached per process for DESK_CACHE_S (many open desks make one read, not one each)
and bounded by DESK_VENUE_TIMEOUT_S. When the venue cannot be read, the last good figures are kept
and marked stale with the time the venue went away: never zeros.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from concurrent.futures import Future, ThreadPoolExecutor
from concurrent.futures import wait as futures_wait
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.utils import timezone

from agents.venue.schemas import Balance, Fill, Order, OrderStatus, Position

DESK_CACHE_S = 3.0  # one venue read per process per this many seconds, however many desks poll
DESK_VENUE_TIMEOUT_S = 4.0  # a read that takes longer counts as "venue unreachable"
DESK_POLL_MS = 3000  # how often an open desk asks for fresh figures
READ_LIMIT = 500  # recent orders and fills asked of the venue (its page size)
FILLS_SHOWN = 10  # recent fills listed per agent
UNATTRIBUTED = "unattributed"
CENT = Decimal("0.01")

_pool = ThreadPoolExecutor(max_workers=5, thread_name_prefix="desk-venue")


@dataclass(frozen=True)
class VenueReading:
    """One consistent-enough read of the account (five calls made together)."""

    balance: Balance
    positions: list[Position]
    live_orders: list[Order]
    orders: list[Order]
    fills: list[Fill]
    at: datetime


@dataclass
class _Cache:
    lock: threading.Lock = field(default_factory=threading.Lock)
    checked: float = float("-inf")  # monotonic time of the last attempt
    good: VenueReading | None = None
    down_since: datetime | None = None
    error: str = ""
    inflight: list[Future[Any]] = field(default_factory=list)


_cache = _Cache()


def desk_cache_clear() -> None:
    """Forget every cached read (tests; a changed venue account)."""
    global _cache
    _cache = _Cache()


def venue_read(venue_factory: Any = None) -> _Cache:
    """The cached venue state; refresh it when older than DESK_CACHE_S (one caller refreshes, the
    others wait for it and reuse its answer)."""
    cache = _cache
    if time.monotonic() - cache.checked < DESK_CACHE_S:
        return cache
    with cache.lock:
        if time.monotonic() - cache.checked >= DESK_CACHE_S:
            _refresh(cache, venue_factory)
            cache.checked = time.monotonic()
    return cache


def _refresh(cache: _Cache, venue_factory: Any) -> None:
    try:
        cache.good = _read(cache, venue_factory)
        cache.down_since, cache.error = None, ""
    except Exception as exc:  # any failure is "unreachable" for the desk: it shows why, keeps the last figures
        cache.down_since = cache.down_since or timezone.now()
        cache.error = " ".join(f"{exc.__class__.__name__}: {exc}".split())[:300]


def _read(cache: _Cache, venue_factory: Any) -> VenueReading:
    """1. refuse while the previous read still hangs (threads must not pile up behind a dead venue);
    2. make the five calls at once; 3. give up after DESK_VENUE_TIMEOUT_S."""
    if any(not f.done() for f in cache.inflight):
        raise TimeoutError("the previous venue read has not answered yet")
    from agents.services import venue_client
    from agents.venue.client import HttpVenue

    venue = (venue_factory or venue_client)()
    try:
        return _read_from(cache, venue)
    finally:
        if isinstance(venue, HttpVenue):
            venue.close()  # venue_client() made a fresh one for this read, failed or not


def _read_from(cache: _Cache, venue: Any) -> VenueReading:
    calls = {"balance": venue.balance, "positions": venue.positions,
             "live_orders": lambda: venue.orders(status=OrderStatus.LIVE, limit=READ_LIMIT),
             "orders": lambda: venue.orders(limit=READ_LIMIT), "fills": lambda: venue.fills(limit=READ_LIMIT)}
    futures = {name: _pool.submit(call) for name, call in calls.items()}
    cache.inflight = list(futures.values())
    done, pending = futures_wait(cache.inflight, timeout=DESK_VENUE_TIMEOUT_S)
    if pending:
        raise TimeoutError(f"no answer within {DESK_VENUE_TIMEOUT_S:g} s")
    values = {name: f.result() for name, f in futures.items()}  # the first failed call raises here
    return VenueReading(at=timezone.now(), **values)


# --- attribution -------------------------------------------------------------------------------


@dataclass
class Journal:
    """Our Order rows for the orders the venue reported: who placed what."""

    by_client_id: dict[str, str]  # client order id -> agent name
    by_venue_id: dict[str, str]
    filled: dict[str, tuple[str, str, str, str, Decimal]]  # client id -> (agent, market, outcome, side, filled)

    def agent_of(self, order_id: str, client_order_id: str) -> str:
        return self.by_client_id.get(client_order_id) or self.by_venue_id.get(order_id) or UNATTRIBUTED


def journal_for(reading: VenueReading) -> Journal:
    """Load the Order rows of every market the account holds or traded recently (one query)."""
    from agents.models import Order as OrderRow

    markets = {p.market for p in reading.positions} | {o.market for o in reading.orders + reading.live_orders}
    rows = (OrderRow.objects.filter(market__in=markets)
            .values_list("agent__name", "client_order_id", "venue_order_id", "market", "outcome", "side", "filled"))
    journal = Journal({}, {}, {})
    for agent, cid, vid, market, outcome, side, filled in rows:
        journal.by_client_id[cid] = agent
        if vid:
            journal.by_venue_id[vid] = agent
        journal.filled[cid] = (agent, market, outcome, side, filled)
    return journal


def held_by_agent(reading: VenueReading, journal: Journal) -> dict[tuple[str, str], dict[str, Decimal]]:
    """(market, outcome) -> {agent: net shares}: each journaled order's fills (the venue's count when it
    reported the order, else the row's), bought minus sold; the venue's position minus the agents' sum
    is UNATTRIBUTED (resolutions, orders placed by hand, history older than the venue's page)."""
    venue_filled = {o.client_order_id: o.filled for o in reading.orders}
    held: dict[tuple[str, str], dict[str, Decimal]] = defaultdict(lambda: defaultdict(Decimal))
    for cid, (agent, market, outcome, side, filled) in journal.filled.items():
        shares = venue_filled.get(cid, filled)
        if shares:
            held[(market, outcome)][agent] += shares if side == "BUY" else -shares
    for p in reading.positions:
        rest = p.shares - sum(held[(p.market, p.outcome)].values(), Decimal(0))
        if rest:
            held[(p.market, p.outcome)][UNATTRIBUTED] += rest
    return held


# --- the snapshot ------------------------------------------------------------------------------


def desk_snapshot(agents: list[Any], *, venue_factory: Any = None) -> dict[str, Any]:
    """Everything the desk shows, as plain values (Decimals as strings with two decimals, None when
    unknown). `agents` are the AgentConfig rows to list, in order."""
    cache = venue_read(venue_factory)
    reading = cache.good
    venue = {"ok": cache.down_since is None and reading is not None, "error": cache.error,
             "down_since": cache.down_since, "as_of": reading.at if reading else None}
    halt = halt_state()
    if reading is None:
        return {"venue": venue, "total": None, "books": [], "pause": pause_state(), "halt": halt}
    journal = journal_for(reading)
    books = _books(reading, journal, [a.name for a in agents])
    return {"venue": venue, "total": _total(reading), "books": books, "pause": pause_state(), "halt": halt}


def halt_state() -> dict[str, Any]:
    """The kill switch, first on the desk: {"halted": bool, "label": "HALTED" / "STATE UNKNOWN" / "",
    "reason": ...}. Unreadable counts as halted (monitoring.halt.kill_switch_state)."""
    from monitoring.halt import kill_switch_state

    state = kill_switch_state()
    if not state["halted"]:
        return {"halted": False, "label": "", "reason": ""}
    label = "STATE UNKNOWN: treat as halted" if state["state"] == "unknown" else "HALTED"
    return {"halted": True, "label": label, "reason": state.get("reason") or state.get("detail") or ""}


def pause_state() -> dict[str, Any]:
    """Who is paused, as this host's agents read it: the desk override combined with this host's
    override.json (either can only tighten): {"desk": bool, "agents": [names], "error": ""}. Unreadable
    (a malformed row or file, a database error): the guards stop every agent, and this says so."""
    from agents.core.guards import combine, load_override
    from agents.overrides import desk_override_current

    try:
        current = combine(desk_override_current(), load_override(settings.DATA_DIR / "override.json"))
    except Exception as exc:
        return {"desk": True, "agents": [], "error": " ".join(str(exc).split())[:300]}
    return {"desk": current.pause, "agents": list(current.pause_agents), "error": ""}


def _total(reading: VenueReading) -> dict[str, Any]:
    """NAV (as monitoring.health.nav_of counts it) and P&L since the day's opening NAV sample."""
    from monitoring.models import MetricSample

    nav = reading.balance.usdc + sum((_value(p) for p in reading.positions), Decimal(0))
    now = reading.at
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    opening = (MetricSample.objects.filter(name="nav", agent=None, ts__gte=midnight).order_by("ts", "id")
               .values_list("value", flat=True).first())
    total: dict[str, Any] = {"nav": nav, "usdc": reading.balance.usdc, "locked": reading.balance.locked,
                             "opening_nav": opening, "pnl": None, "limit": None, "used_pct": None,
                             "limit_pct": settings.HALT_DAILY_LOSS * 100}
    if opening is not None and opening > 0:
        limit = opening * settings.HALT_DAILY_LOSS
        pnl = nav - opening
        total.update(pnl=pnl, limit=-limit, used_pct=(max(Decimal(0), -pnl) / limit * 100) if limit else None)
    return total


def _value(p: Position) -> Decimal:
    return p.shares * (p.mark_price if p.mark_price is not None else p.avg_price)


def _books(reading: VenueReading, journal: Journal, names: list[str]) -> list[dict[str, Any]]:
    """One book per agent (in `names` order), then UNATTRIBUTED when anything is left over."""
    marks = {(p.market, p.outcome): (p.mark_price if p.mark_price is not None else p.avg_price)
             for p in reading.positions}
    books: dict[str, dict[str, Any]] = {n: _empty_book(n) for n in [*names, UNATTRIBUTED]}
    for (market, outcome), by_agent in held_by_agent(reading, journal).items():
        for agent, shares in by_agent.items():
            if shares:
                mark = marks.get((market, outcome))
                _book(books, agent)["positions"].append(
                    {"market": market, "outcome": outcome, "shares": shares, "mark": mark,
                     "value": None if mark is None else shares * mark})
    for o in reading.live_orders:
        _book(books, journal.agent_of(o.id, o.client_order_id))["orders"].append(o)
    midnight = reading.at.replace(hour=0, minute=0, second=0, microsecond=0)
    for f in sorted(reading.fills, key=lambda f: f.created_at, reverse=True):
        book = _book(books, journal.agent_of(f.order_id, f.client_order_id))
        book["fills"].append(f)
        if f.created_at >= midnight:
            book["today"].append(f)
    return [_finish(b, marks) for name, b in books.items() if name != UNATTRIBUTED or _has_rows(b)]


def _empty_book(name: str) -> dict[str, Any]:
    return {"agent": name, "positions": [], "orders": [], "fills": [], "today": []}


def _book(books: dict[str, dict[str, Any]], name: str) -> dict[str, Any]:
    """An agent's book; an agent not listed (deleted, renamed) gets one of its own, named as journaled."""
    return books.setdefault(name, _empty_book(name))


def _has_rows(book: dict[str, Any]) -> bool:
    return bool(book["positions"] or book["orders"] or book["fills"])


def _finish(book: dict[str, Any], marks: dict[tuple[str, str], Decimal]) -> dict[str, Any]:
    """Add the position value and today's P&L (today's fills at the current mark); trim the fill list."""
    values = [p["value"] for p in book["positions"]]
    book["value"] = None if None in values else sum(values, Decimal(0))
    book["pnl"] = fills_pnl(book.pop("today"), marks)
    book["fills"] = book["fills"][:FILLS_SHOWN]
    return book


def fills_pnl(fills: list[Fill], marks: dict[tuple[str, str], Decimal]) -> Decimal | None:
    """What these fills made at the current mark: the cash they moved plus the shares they left at
    the mark. None when shares are left in a market the venue no longer marks (it cannot say)."""
    cash: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    shares: dict[tuple[str, str], Decimal] = defaultdict(Decimal)
    for f in fills:
        sign = 1 if f.side.value == "BUY" else -1
        cash[(f.market, f.outcome.value)] -= sign * f.price * f.size
        shares[(f.market, f.outcome.value)] += sign * f.size
    pnl = sum(cash.values(), Decimal(0))
    for key, left in shares.items():
        if left and key not in marks:
            return None
        pnl += left * marks[key] if left else 0
    return pnl
