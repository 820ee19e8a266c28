"""The paper venue's Limitless stream: Socket.IO (Engine.IO v4) on `/socket.io/`, namespace `/markets`.

What a Limitless client subscribes to (`../shared/limitless-api.md` section 9), served by
python-socketio, the library the official SDK connects with:

- `subscribe_market_prices {marketSlugs}` replaces the socket's selection and pushes
  `orderbookUpdate {marketSlug, orderbook, timestamp}` now and on every change of those books;
- `subscribe_positions` pushes `positions` after each fill of the account (authenticated);
- `subscribe_order_events {}` pushes `orderEvent` frames: OME (PLACEMENT, UPDATE, CANCELLATION,
  EXECUTION) and SETTLEMENT (MATCHED at the fill, MINED once the settlement lag has passed);
- `unsubscribe {channel}` is acknowledged with `{"success": true}`.

Auth is in the upgrade request's headers, as on Limitless: `X-API-Key`, or HMAC over the
raw `/socket.io/?...` path and query (both query orders are accepted, as the docs and the
Python SDK differ). No credentials: public channels only. Bad credentials: the connection is
refused. Like Limitless, there are no sequence numbers and no cancel-on-disconnect here; a
client resyncs from REST after a reconnect.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from typing import Any

import socketio

from agents.venue import limitless as lm
from agents.venue.schemas import Fill, Order, OrderStatus, OrderType, Outcome
from paper_venue.engine import Engine, Event
from paper_venue.identities import Identities, exchange_address, market_id, token_id
from paper_venue.limitless_api import book_json, raw, tx_hash

log = logging.getLogger("agents.venue.stream")
NAMESPACE = "/markets"
SIO_PATHS = ("/socket.io/?transport=websocket&EIO=4", "/socket.io/?EIO=4&transport=websocket")
MAX_SLUGS = 200


@dataclass
class Subscriber:
    account: str | None  # None: connected without credentials (public channels only)
    books: set[str] = field(default_factory=set)
    positions: bool = False
    order_events: bool = False


class LimitlessStream:
    """One Socket.IO server over the engine's events."""

    def __init__(
        self,
        engine: Engine,
        identities: Identities,
        *,
        ping_interval: float = 5.0,
        ping_timeout: float = 15.0,
        clock: Any = time.time,
        refusing: Any = lambda: False,
    ) -> None:
        self.engine = engine
        self.identities = identities
        self.clock = clock
        self.refusing = refusing  # the fault control's stream cut
        self.sio = socketio.AsyncServer(
            async_mode="asgi",
            cors_allowed_origins=[],
            ping_interval=ping_interval,
            ping_timeout=ping_timeout,
            logger=False,
            engineio_logger=False,
        )
        self.subscribers: dict[str, Subscriber] = {}
        self._event_id = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        for name in (
            "connect",
            "disconnect",
            "subscribe_market_prices",
            "subscribe_positions",
            "subscribe_order_events",
            "unsubscribe",
        ):
            self.sio.on(name, getattr(self, "on_" + name), namespace=NAMESPACE)
        engine.listeners.append(self.on_events)

    def asgi(self, other_app: Any) -> Any:
        return socketio.ASGIApp(self.sio, other_asgi_app=other_app, socketio_path="socket.io")

    async def drop_all(self) -> int:
        """Cut every connection (the fault control): like a dropped network, nothing is cancelled."""
        sids = list(self.subscribers)
        for sid in sids:
            await self.sio.disconnect(sid, namespace=NAMESPACE)
        return len(sids)

    # -- connection ------------------------------------------------------------------------------

    async def on_connect(self, sid: str, environ: dict[str, Any], auth: Any = None) -> None:
        self._loop = asyncio.get_running_loop()
        if self.refusing():
            raise ConnectionRefusedError("stream cut by the fault control")
        account = self._authenticate(environ)  # raises ConnectionRefusedError on bad credentials
        self.subscribers[sid] = Subscriber(account)
        if account is not None:
            await self.sio.emit("authenticated", {"authenticated": True}, to=sid, namespace=NAMESPACE)

    async def on_disconnect(self, sid: str, *args: Any) -> None:
        self.subscribers.pop(sid, None)

    def _authenticate(self, environ: dict[str, Any]) -> str | None:
        token = environ.get("HTTP_LMTS_API_KEY")
        if token:
            return self._hmac(environ, token)
        key = environ.get("HTTP_X_API_KEY")
        if key:
            account = self.engine.account_for_key(key)
            if account is None:
                raise ConnectionRefusedError("Unauthorized: invalid API key")
            return account
        return None

    def _hmac(self, environ: dict[str, Any], token: str) -> str:
        try:
            return self.identities.verify_hmac(
                token,
                environ.get("HTTP_LMTS_TIMESTAMP", ""),
                environ.get("HTTP_LMTS_SIGNATURE", ""),
                method="GET",
                targets=(environ.get("RAW_URI") or "", *SIO_PATHS),
                body="",
                now=self.clock(),
            )
        except lm.WireError as exc:
            raise ConnectionRefusedError(f"Unauthorized: {exc}") from None

    # -- subscriptions ---------------------------------------------------------------------------

    async def on_subscribe_market_prices(self, sid: str, data: Any = None) -> None:
        sub = self.subscribers.get(sid)
        if sub is None:
            return
        slugs = _slugs(data)
        if slugs is None:
            await self._exception(sid, "subscribe_market_prices: marketSlugs must be a list of market slugs")
            return
        known = [s for s in slugs if self._is_market(s)]
        sub.books = set(known)  # a new selection replaces the old one, as on Limitless
        await self.sio.emit(
            "system",
            {"message": "Successfully subscribed to market prices", "markets": {"slugs": known}},
            to=sid,
            namespace=NAMESPACE,
        )
        for slug in known:
            await self.sio.emit("orderbookUpdate", self._book_frame(slug), to=sid, namespace=NAMESPACE)

    async def on_subscribe_positions(self, sid: str, data: Any = None) -> None:
        sub = await self._authed(sid, "subscribe_positions")
        if sub is None:
            return
        sub.positions = True
        await self.sio.emit(
            "system", {"message": "Successfully subscribed to position updates"}, to=sid, namespace=NAMESPACE
        )
        await self.sio.emit("positions", self._positions_frame(sub.account or ""), to=sid, namespace=NAMESPACE)

    async def on_subscribe_order_events(self, sid: str, data: Any = None) -> None:
        sub = await self._authed(sid, "subscribe_order_events")
        if sub is None:
            return
        sub.order_events = True
        await self.sio.emit(
            "system", {"message": "Successfully subscribed to order events"}, to=sid, namespace=NAMESPACE
        )

    async def on_unsubscribe(self, sid: str, data: Any = None) -> dict[str, Any]:
        sub = self.subscribers.get(sid)
        channel = data.get("channel") if isinstance(data, dict) else None
        if sub is None or not isinstance(channel, str):
            return {"error": "unsubscribe: channel is required"}
        if channel == "subscribe_market_prices":
            sub.books.clear()
        elif channel == "subscribe_positions":
            sub.positions = False
        elif channel == "subscribe_order_events":
            sub.order_events = False
        return {"success": True}

    async def _authed(self, sid: str, channel: str) -> Subscriber | None:
        sub = self.subscribers.get(sid)
        if sub is not None and sub.account is None:
            await self._exception(sid, f"{channel}: authentication is required")
            return None
        return sub

    async def _exception(self, sid: str, message: str) -> None:
        await self.sio.emit("exception", {"message": message}, to=sid, namespace=NAMESPACE)

    def _is_market(self, slug: str) -> bool:
        try:
            self.engine.market(slug)
        except Exception:
            return False
        return True

    # -- fan-out (called synchronously by the engine after each commit) -----------------------------

    def on_events(self, events: list[Event]) -> None:
        if not self.subscribers or self._loop is None:
            return
        frames: list[tuple[str, str, dict[str, Any]]] = []
        # The engine publishes a step's fills before its orders; Limitless reports the order (OME) first.
        fills: dict[str, list[Fill]] = {}
        for event in events:
            if event.kind == "book":
                frames += [
                    ("orderbookUpdate", sid, self._book_frame(event.market))
                    for sid, sub in self.subscribers.items()
                    if event.market in sub.books
                ]
            elif event.kind == "order":
                frames += self._account_frames(event)
            elif event.account is not None and isinstance(event.payload, Fill):
                fills.setdefault(event.account, []).append(event.payload)
        for account, group in fills.items():
            frames += self._fill_frames(account, group)
        if frames:
            self._schedule(frames)

    def _final_kind(self, fills: list[Fill]) -> str:
        return "FAILED" if self.identities.failed(fills[0].order_id) else "MINED"

    def _schedule(self, frames: Any, delay: float = 0.0) -> None:
        """Send frames (or, for a callable, the frames it returns when the time comes) after `delay`."""
        loop = self._loop
        if loop is None or loop.is_closed():
            return

        async def send() -> None:
            for name, sid, payload in frames() if callable(frames) else frames:
                if sid in self.subscribers:
                    await self.sio.emit(name, payload, to=sid, namespace=NAMESPACE)

        def start() -> None:
            loop.create_task(send())

        if delay > 0:
            loop.call_soon_threadsafe(loop.call_later, delay, start)
        else:
            loop.call_soon_threadsafe(start)

    def _account_frames(self, event: Event) -> list[tuple[str, str, dict[str, Any]]]:
        listeners = [(sid, sub) for sid, sub in self.subscribers.items() if sub.account == event.account]
        if not listeners or event.account is None or not isinstance(event.payload, Order):
            return []
        frame = self._ome_frame(event.account, event.payload)
        return [("orderEvent", sid, frame) for sid, sub in listeners if sub.order_events]

    def _fill_frames(self, account: str, fills: list[Fill]) -> list[tuple[str, str, dict[str, Any]]]:
        """One SETTLEMENT MATCHED per order per step (its fills are the maker matches), MINED after the lag."""
        listeners = [(sid, sub) for sid, sub in self.subscribers.items() if sub.account == account]
        if not listeners:
            return []
        frames: list[tuple[str, str, dict[str, Any]]] = []
        by_order: dict[str, list[Fill]] = {}
        for fill in fills:
            by_order.setdefault(fill.order_id, []).append(fill)
        for group in by_order.values():
            frames += [
                ("orderEvent", sid, self._settlement_frame(account, group, "MATCHED"))
                for sid, sub in listeners
                if sub.order_events
            ]
            subscribed = [sid for sid, sub in listeners if sub.order_events]
            if subscribed:  # MINED once the lag has passed, or FAILED: decided when it is sent
                self._schedule(
                    lambda g=group, sids=subscribed: [
                        ("orderEvent", sid, self._settlement_frame(account, g, self._final_kind(g))) for sid in sids
                    ],
                    delay=self.engine.settle_lag,
                )
        frames += [("positions", sid, self._positions_frame(account)) for sid, sub in listeners if sub.positions]
        return frames

    # -- frames ----------------------------------------------------------------------------------

    def _book_frame(self, slug: str) -> dict[str, Any]:
        market = self.engine.market(slug)
        book = book_json(self.engine.book(slug), market.last_price)
        for side in ("bids", "asks"):  # on the stream sizes are shares as floats (REST: integers x1e6)
            book[side] = [{"price": lvl["price"], "size": lvl["size"] / lm.SCALE} for lvl in book[side]]
        book["maxSpread"], book["minSize"] = 0.05, 0.001
        return {"marketSlug": slug, "orderbook": book, "timestamp": _now_iso()}

    def _next_event_id(self) -> int:
        self._event_id += 1
        return self._event_id

    def _ome_frame(self, account: str, order: Order) -> dict[str, Any]:
        identity = self.identities.of_account(account)
        terminal = order.order_type is not OrderType.GTC and order.status is not OrderStatus.LIVE
        if terminal:
            kind = "EXECUTION"
        elif order.status is OrderStatus.CANCELED:
            kind = "CANCELLATION"
        elif order.filled == 0 and order.status is OrderStatus.LIVE:
            kind = "PLACEMENT"
        else:
            kind = "UPDATE"
        frame: dict[str, Any] = {
            "source": "OME",
            "type": kind,
            "orderId": order.id,
            "marketId": market_id(order.market),
            "marketSlug": order.market,
            "eventId": f"terminal:{order.id}" if terminal else self._next_event_id(),
            "clientOrderId": None if order.client_order_id.startswith("sig:") else order.client_order_id,
            "price": float(order.price),
            "remainingSize": float(order.remaining),
            "side": order.side.value,
            "timestamp": _now_iso(),
            "token": order.outcome.value,
            "userId": identity.profile_id if identity else None,
            "orderStatus": order.status.value,
        }
        if terminal:
            frame["status"] = (
                "FILLED" if order.filled == order.size else "PARTIALLY_FILLED" if order.filled > 0 else "KILLED"
            )
        return frame

    def _settlement_frame(self, account: str, fills: list[Fill], kind: str) -> dict[str, Any]:
        identity = self.identities.of_account(account)
        first = fills[0]
        contracts = sum(raw(f.size) for f in fills)
        collateral = sum(raw(f.size * f.price) for f in fills)
        return {
            "source": "SETTLEMENT",
            "type": kind,
            "isEstimate": kind == "MATCHED",
            "orderId": first.order_id,
            "marketSlug": first.market,
            "price": float(first.price),
            "side": first.side.value,
            "token": first.outcome.value,
            "tokenId": token_id(first.market, first.outcome.value),
            "amountContracts": str(contracts),
            "amountCollateral": str(collateral),
            "configuredFeeRateBps": identity.fee_rate_bps if identity else lm.DEFAULT_FEE_RATE_BPS,
            "effectiveFeeBps": 0,
            "feeAmountContracts": "0",
            "feeAmountCollateral": "0",
            "makerMatches": [
                {"orderId": f.id, "matchedSize": str(raw(f.size)), "price": float(f.price)} for f in fills
            ],
            "takerAccount": identity.address if identity and first.liquidity == "taker" else None,
            "tradeEventId": first.id,
            "txHash": tx_hash(first.id) if kind == "MINED" else None,
            "timestamp": _now_iso(),
        }

    def _positions_frame(self, account: str) -> dict[str, Any]:
        identity = self.identities.of_account(account)
        positions = [
            {
                "tokenId": token_id(p.market, p.outcome.value),
                "marketSlug": p.market,
                "marketAddress": exchange_address(p.market),
                "outcome": p.outcome.value,
                "outcomeIndex": 0 if p.outcome is Outcome.YES else 1,
                "balance": str(raw(p.shares)),
                "averagePrice": str(p.avg_price),
            }
            for p in self.engine.positions(account)
        ]
        return {"account": identity.address if identity else None, "positions": positions, "timestamp": _now_iso()}


def _slugs(data: Any) -> list[str] | None:
    if not isinstance(data, dict):
        return None
    slugs = data.get("marketSlugs", [data["marketSlug"]] if isinstance(data.get("marketSlug"), str) else [])
    if not isinstance(slugs, list) or len(slugs) > MAX_SLUGS or not all(isinstance(s, str) for s in slugs):
        return None
    return slugs


def _now_iso() -> str:
    return lm.iso_millis()
