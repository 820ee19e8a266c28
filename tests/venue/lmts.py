"""Shared pieces of the LimitlessVenue tests: a recording transport, a trader, a fake chain, an order."""

from __future__ import annotations

import threading
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import httpx

from agents.venue.limitless_client import LimitlessVenue
from agents.venue.schemas import OrderRequest, OrderType, Outcome, Side

D = Decimal


class Recorder(httpx.BaseTransport):
    """A real HTTP transport that remembers (method, path, query, status, request headers) of each exchange."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.seen: list[tuple[str, str, str, int, httpx.Headers]] = []
        self._lock = threading.Lock()

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = self.inner.handle_request(request)
        with self._lock:
            self.seen.append((request.method, request.url.path, request.url.query.decode(), response.status_code,
                              request.headers))  # fmt: skip
        return response

    def close(self) -> None:
        self.inner.close()

    def calls(self, method: str, path: str) -> list[int]:
        """The statuses of every call to exactly this method and path, in order."""
        return [status for m, p, _, status, _ in self.seen if (m, p) == (method, path)]


class Trader(LimitlessVenue):
    """A LimitlessVenue for a fresh paper account, with its request log."""

    recorder: Recorder
    name: str


class FakeChain:
    """A chain reader: USDC and outcome-token balances set by the test."""

    def __init__(self, usdc: str = "0") -> None:
        self.usdc_balance = D(usdc)
        self.held: dict[str, Decimal] = {}

    def usdc(self) -> Decimal:
        return self.usdc_balance

    def shares(self, token_ids: list[str]) -> dict[str, Decimal]:
        return {t: self.held.get(t, D(0)) for t in token_ids}


MakeTrader = Callable[..., Trader]


def order(
    market: str, cid: str, side: str, price: str, size: str, outcome: str = "YES", kind: str = "GTC", **more: Any
) -> OrderRequest:
    return OrderRequest(
        market=market, side=Side(side), outcome=Outcome(outcome), price=D(price), size=D(size),
        order_type=OrderType(kind), client_order_id=cid, **more,
    )  # fmt: skip
