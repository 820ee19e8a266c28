"""The paper venue's own client: the `Venue` interface over its paper-only native API (`/paper`).

- `HttpVenue`: REST over httpx. A timeout on every call; retries with backoff only for
  idempotent calls (GETs, cancels, and place, which the client order id makes
  idempotent); one exception class per failure class.
- `VenueStream`: the websocket stream (asyncio). Reconnects with backoff, resubscribes,
  detects gaps by per-stream `seq` and asks the owner to resynchronise, answers the
  venue's pings, optionally enables cancel-on-disconnect.

This is the one outbound HTTP module for the venue peer (STYLE.md rule 8).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import logging
import random
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import quote

import httpx
import websockets

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
from agents.venue.tls import tls_context

SESSION_HEADER = "X-Session-Id"
log = logging.getLogger(__name__)


from agents.venue.port import (  # noqa: E402,F401  (re-exported: the client's public names)
    Venue,
    VenueAuthError,
    VenueError,
    VenueNotFound,
    VenueRejected,
    VenueTimeout,
    VenueUnavailable,
)

# ------------------------------------------------------------------------------------ REST


class HttpVenue:
    """`Venue` over the paper venue's (Limitless-shaped) REST API."""

    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        retries: int = 3,
        backoff: float = 0.1,
        max_backoff: float = 2.0,
        session_id: str | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"), headers={"X-API-Key": api_key}, timeout=timeout, transport=transport,
            verify=tls_context(),
        )
        self.retries = retries
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.session_id = session_id  # orders placed while set are covered by that ws session's cancel-on-disconnect
        self._sleep = sleep

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> HttpVenue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _request(
        self,
        method: str,
        path: str,
        *,
        body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
        idempotent: bool = True,
    ) -> Any:
        """Send one call, retrying only idempotent ones and only on 5xx, connection errors and timeouts."""
        attempts = 1 + self.retries if idempotent else 1
        error: VenueError = VenueUnavailable("no attempt made")
        for attempt in range(attempts):
            if attempt:
                self._sleep(min(self.backoff * 2 ** (attempt - 1), self.max_backoff) * (0.5 + random.random() / 2))
            try:
                response = self._http.request(method, path, json=body, params=params, headers=headers)
            except httpx.TimeoutException as exc:
                error = VenueTimeout(f"{method} {path}: no answer within the timeout ({exc.__class__.__name__})")
                continue
            except httpx.TransportError as exc:
                error = VenueUnavailable(f"{method} {path}: connection failed ({exc.__class__.__name__}: {exc})")
                continue
            if response.status_code < 400:
                return _json(response, method, path)
            error = _error_for(response, method, path)
            if not isinstance(error, VenueUnavailable):
                raise error
        raise error

    # -- market data -------------------------------------------------------------------------

    def markets(self) -> list[Market]:
        data = self._request("GET", "/paper/markets/active", params={"limit": 500})
        return [Market.model_validate(m) for m in data["data"]]

    def market(self, slug: str) -> Market:
        return Market.model_validate(self._request("GET", f"/paper/markets/{_seg(slug)}"))

    def book(self, slug: str) -> OrderBook:
        return OrderBook.model_validate(self._request("GET", f"/paper/markets/{_seg(slug)}/orderbook"))

    # -- orders ------------------------------------------------------------------------------

    def place(self, request: OrderRequest) -> Order:
        """Place an order; safe to retry because the venue dedupes on client_order_id."""
        headers = {SESSION_HEADER: self.session_id} if self.session_id else None
        data = self._request("POST", "/paper/orders", body=request.model_dump(mode="json"), headers=headers)
        order = Order.model_validate(data["order"])
        if order.status is OrderStatus.REJECTED:  # an idempotent replay of an earlier rejection
            raise VenueRejected(order.reason, order)
        return order

    def cancel(self, order_id: str) -> Order:
        return Order.model_validate(self._request("DELETE", f"/paper/orders/{_seg(order_id)}")["order"])

    def cancel_batch(self, order_ids: list[str]) -> CancelResult:
        body = {"orderIds": order_ids}
        return CancelResult.model_validate(self._request("POST", "/paper/orders/cancel-batch", body=body))

    def cancel_all(self, market: str | None = None) -> CancelResult:
        path = "/paper/orders/all" if market is None else f"/paper/orders/all/{_seg(market)}"
        return CancelResult.model_validate(self._request("DELETE", path))

    def order(self, order_id: str) -> Order:
        return Order.model_validate(self._request("GET", f"/paper/orders/{_seg(order_id)}"))

    def orders(self, *, market: str | None = None, status: OrderStatus | None = None, limit: int = 500) -> list[Order]:
        params: dict[str, Any] = {"limit": limit}
        if market is not None:
            params["market"] = market
        if status is not None:
            params["status"] = status.value
        return [Order.model_validate(o) for o in self._request("GET", "/paper/orders", params=params)["data"]]

    def order_by_client_id(self, client_order_id: str) -> Order | None:
        found = self._request("GET", "/paper/orders", params={"client_order_id": client_order_id})["data"]
        # Check the id we got back: a venue that ignored the filter must not make someone else's
        # order look like ours ("already placed").
        matches = [o for o in (Order.model_validate(f) for f in found) if o.client_order_id == client_order_id]
        return matches[0] if matches else None

    # -- portfolio ---------------------------------------------------------------------------

    def positions(self) -> list[Position]:
        return [Position.model_validate(p) for p in self._request("GET", "/paper/portfolio/positions")["data"]]

    def balance(self) -> Balance:
        return Balance.model_validate(self._request("GET", "/paper/portfolio/balances"))

    def fills(self, *, market: str | None = None, limit: int = 500) -> list[Fill]:
        params: dict[str, Any] = {"limit": limit}
        if market is not None:
            params["market"] = market
        return [Fill.model_validate(f) for f in self._request("GET", "/paper/portfolio/fills", params=params)["data"]]

    def chain_ledger(self) -> ChainLedger:
        return ChainLedger.model_validate(self._request("GET", "/paper/chain/ledger"))


def _seg(value: str) -> str:
    """Quote a path segment so an id can never change the path."""
    return quote(value, safe="")


def _json(response: httpx.Response, method: str, path: str) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise VenueUnavailable(f"{method} {path}: answer was not JSON (status {response.status_code})") from exc


def _error_for(response: httpx.Response, method: str, path: str) -> VenueError:
    """Map an HTTP error answer to its exception class."""
    try:
        body = response.json()
    except ValueError:
        body = {}
    if not isinstance(body, dict):
        body = {}
    message = str(body.get("message") or response.reason_phrase)
    where = f"{method} {path}: {response.status_code} {message}"
    status = response.status_code
    if status in (401, 403):
        return VenueAuthError(where)
    if status == 404:
        return VenueNotFound(where)
    if status >= 500:
        return VenueUnavailable(where)
    order = None
    if isinstance(body.get("order"), dict):
        with contextlib.suppress(ValueError):
            order = Order.model_validate(body["order"])
    reason = order.reason if order is not None and order.reason else message
    return VenueRejected(reason, order)


# ------------------------------------------------------------------------------------ websocket


Callback = Callable[..., Any]


class VenueStream:
    """A self-healing websocket subscription to order books and the account's order/fill events.

    `on_message(msg)` gets every data message (dict with stream, seq, type, data).
    `on_resync(stream, why)` is called when the owner must re-read state over REST: a gap
    in a stream's seq, or a reconnect (anything may have happened while disconnected).
    Both may be plain functions or coroutines.
    """

    def __init__(
        self,
        ws_url: str,
        api_key: str,
        *,
        markets: tuple[str, ...] | list[str] = (),
        account: bool = True,
        cancel_on_disconnect: str | None = None,  # None, "session" or "account"
        on_message: Callback | None = None,
        on_resync: Callback | None = None,
        backoff: float = 0.1,
        max_backoff: float = 5.0,
        answer_pings: bool = True,
        open_timeout: float = 5.0,
    ) -> None:
        self.ws_url = ws_url
        self.api_key = api_key
        self.markets = list(markets)
        self.account = account
        self.cancel_on_disconnect = cancel_on_disconnect
        self.on_message = on_message
        self.on_resync = on_resync
        self.backoff = backoff
        self.max_backoff = max_backoff
        self.answer_pings = answer_pings  # tests turn this off to play a client that stopped answering
        self.open_timeout = open_timeout
        self.session_id: str | None = None
        self.connected = asyncio.Event()
        self.last_heard = 0.0  # time.monotonic() of the venue's last message on this stream
        self._loop_ref: asyncio.AbstractEventLoop | None = None
        self.connections = 0
        self.last_seq: dict[str, int] = {}
        self.gaps: list[tuple[str, int, int]] = []  # (stream, expected, got)
        self._ws: Any = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = False
        self._pending: set[str] = set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self.run())

    async def stop(self) -> None:
        self._stopping = True
        if self._ws is not None:
            try:  # a graceful close, but never hung on a half-dead path: then abort the connection
                await asyncio.wait_for(self._ws.close(), 2.0)
            except Exception:
                with contextlib.suppress(Exception):
                    self._ws.transport.abort()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task

    def drop(self) -> None:
        """Abort the connection now (thread-safe): the run loop then reconnects and re-arms. For a session
        that went silent: TCP may never notice that the other direction died."""
        ws, loop = self._ws, self._loop_ref
        if ws is not None and loop is not None:
            loop.call_soon_threadsafe(ws.transport.abort)

    async def wait_connected(self, timeout: float = 10.0) -> str:
        await asyncio.wait_for(self.connected.wait(), timeout)
        assert self.session_id is not None
        return self.session_id

    async def send(self, msg: dict[str, Any]) -> None:
        if self._ws is None:
            raise VenueUnavailable("websocket is not connected")
        await self._ws.send(json.dumps(msg))

    async def run(self) -> None:
        """Connect, subscribe and read until stopped; reconnect with exponential backoff."""
        delay = self.backoff
        while not self._stopping:
            try:
                await self._session()
                delay = self.backoff  # a session that got going resets the backoff
            except Exception as exc:  # any failure of one connection: log, back off, reconnect
                log.info("venue stream disconnected: %s: %s", exc.__class__.__name__, exc)
            self.connected.clear()
            self._ws = None
            if self._stopping:
                return
            await asyncio.sleep(delay * (0.5 + random.random() / 2))
            delay = min(delay * 2, self.max_backoff)

    async def _session(self) -> None:
        headers = {"X-API-Key": self.api_key}
        async with websockets.connect(
            self.ws_url, additional_headers=headers, open_timeout=self.open_timeout, ping_interval=None
        ) as ws:
            self._ws = ws
            self._loop_ref = asyncio.get_running_loop()
            self.last_heard = time.monotonic()  # a new connection starts its silence clock (armed or not yet)
            await self._resubscribe(ws)
            async for raw in ws:
                self.last_heard = time.monotonic()  # the venue's pings arrive here too: proof the session lives
                await self._dispatch(json.loads(raw))

    async def _resubscribe(self, ws: Any) -> None:
        reconnect = self.connections > 0
        self.connections += 1
        stale = list(self.last_seq)
        self.last_seq.clear()
        # `connected` is set only once every subscription is acknowledged, so nothing is missed after it.
        self._pending = {"welcome", *(f"book:{m}" for m in self.markets)}
        self._pending |= {"account"} if self.account else set()
        self._pending |= {"cod"} if self.cancel_on_disconnect else set()
        if self.cancel_on_disconnect:
            await ws.send(
                json.dumps({"op": "cancel_on_disconnect", "enabled": True, "scope": self.cancel_on_disconnect})
            )
        if self.account:
            await ws.send(json.dumps({"op": "subscribe", "channel": "account"}))
        if self.markets:
            await ws.send(json.dumps({"op": "subscribe", "channel": "orderbook", "markets": self.markets}))
        if reconnect:
            for stream in stale:
                await self._call(self.on_resync, stream, "reconnected")

    async def _dispatch(self, msg: dict[str, Any]) -> None:
        stream, seq, kind = msg.get("stream"), msg.get("seq"), msg.get("type")
        if stream == "session":
            await self._control(msg)
            return
        if not isinstance(stream, str) or not isinstance(seq, int):
            return
        if kind == "subscribed" or stream not in self.last_seq:
            self.last_seq[stream] = seq  # a (re)subscription sets the baseline
            self._acknowledged(stream)
        elif seq <= self.last_seq[stream]:
            return  # an old or repeated message: nothing new
        elif seq != self.last_seq[stream] + 1:
            self.gaps.append((stream, self.last_seq[stream] + 1, seq))
            self.last_seq[stream] = seq
            await self._call(self.on_resync, stream, "gap")
        else:
            self.last_seq[stream] = seq
        if kind != "subscribed":
            await self._call(self.on_message, msg)

    async def _control(self, msg: dict[str, Any]) -> None:
        kind = msg.get("type")
        if kind == "welcome":
            self.session_id = msg.get("session_id")
            self._acknowledged("welcome")
        elif kind == "cancel_on_disconnect" and msg.get("enabled"):
            self._acknowledged("cod")
        elif kind == "ping" and self.answer_pings and self._ws is not None:
            await self._ws.send(json.dumps({"op": "pong", "nonce": msg.get("nonce")}))
        await self._call(self.on_message, msg)

    def _acknowledged(self, what: str) -> None:
        self._pending.discard(what)
        if not self._pending:
            self.connected.set()

    @staticmethod
    async def _call(callback: Callback | None, *args: Any) -> None:
        if callback is None:
            return
        result = callback(*args)
        if inspect.isawaitable(result):
            await result
