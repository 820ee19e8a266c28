"""Risk arithmetic: order notional, the exposure snapshot, hard and soft limit checks.

Pure functions over values; `place_order_safe` (orders.py) is the one caller that acts on them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from agents.core.ports import Clock, VenuePort
from agents.core.spec import HardLimits, SoftLimits
from agents.venue.schemas import OrderStatus, Side

ONE = Decimal(1)


def order_notional(side: Side | str, price: Decimal, size: Decimal) -> Decimal:
    """USDC at risk: a BUY risks price×size, a SELL risks (1-price)×size (the payout it may owe)."""
    return (price if Side(side) == Side.BUY else ONE - price) * size


@dataclass(frozen=True)
class ExposureSnapshot:
    """What the agent already has on, computed by the caller right before an order."""

    daily_notional: Decimal  # USDC submitted today (UTC), any status
    open_markets: frozenset[str]  # markets with a position or a resting order
    market_exposure: dict[str, Decimal] = field(default_factory=dict)  # market -> USDC at risk
    as_of: datetime | None = None

    @property
    def open_positions(self) -> int:
        return len(self.open_markets)


ExposureProvider = Callable[[], ExposureSnapshot]
ORDERS_PAGE = 500  # the venue's default page size for GET /orders


def venue_exposure(venue: VenuePort, clock: Clock) -> ExposureSnapshot:
    """Compute the snapshot from the venue account (positions + resting orders + today's orders).

    The Django side may supply a DB-backed provider instead; either way, an exception here makes
    place_order_safe reject (a limit we cannot compute is a limit we cannot honour).
    """
    now = clock.now()
    exposure: dict[str, Decimal] = {}
    for p in venue.positions():
        if p.shares > 0:
            exposure[p.market] = exposure.get(p.market, Decimal(0)) + p.shares * p.avg_price
    daily = Decimal(0)
    orders = venue.orders()
    if len(orders) >= ORDERS_PAGE:
        # The venue answers one page: beyond it, today's notional would be undercounted (fail open).
        raise RuntimeError(f"{len(orders)} orders on the account: daily notional cannot be computed from one page")
    for o in orders:
        if o.created_at.date() == now.date():
            daily += order_notional(o.side, o.price, o.size)
        if o.status == OrderStatus.LIVE:
            exposure[o.market] = exposure.get(o.market, Decimal(0)) + order_notional(o.side, o.price, o.remaining)
    return ExposureSnapshot(daily_notional=daily, open_markets=frozenset(exposure), market_exposure=exposure,
                            as_of=now)


def hard_limit_violation(*, market: str, notional: Decimal, snap: ExposureSnapshot, limits: HardLimits) -> str | None:
    """Return why the order breaks a hard limit, or None. Each message names the figures."""
    if notional > limits.max_order_notional:
        return f"order notional {notional} USDC exceeds the per-order cap {limits.max_order_notional} USDC"
    daily_after = snap.daily_notional + notional
    if daily_after > limits.max_daily_notional:
        return (f"daily notional would be {daily_after} USDC, over the daily cap {limits.max_daily_notional} USDC "
                f"({snap.daily_notional} already used today)")
    if market not in snap.open_markets and snap.open_positions >= limits.max_open_positions:
        return (f"{snap.open_positions} markets already open, the cap is {limits.max_open_positions}; "
                f"no new market ({market})")
    exposure_after = snap.market_exposure.get(market, Decimal(0)) + notional
    if exposure_after > limits.max_market_exposure:
        return (f"exposure in {market} would be {exposure_after} USDC, over the per-market cap "
                f"{limits.max_market_exposure} USDC")
    return None


def soft_limit_reasons(*, notional: Decimal, market_type: str, limits: SoftLimits) -> list[str]:
    """Reasons a human must approve this order first (empty = none)."""
    reasons = []
    if notional > limits.approval_notional:
        reasons.append(f"notional {notional} USDC is above the approval size {limits.approval_notional} USDC")
    if market_type not in limits.known_market_types:
        reasons.append(f"market type {market_type or '(none)'!r} has never been traded by this agent")
    return reasons
