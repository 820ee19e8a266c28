"""The paper venue service: REST + websocket on one port (Starlette under uvicorn).

Paths are shaped after the Limitless API (docs/venue.md maps each one). Handlers only
parse and check input, then call one `Engine` method; every error is a NestJS-style
JSON body `{statusCode, message, error}`, and bad input is a 400 that names the field,
never a 500. The engine is synchronous and fast, so handlers call it directly on the
event loop: that also serialises every state change without extra locking.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import logging
import math
import os
import secrets
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, ValidationError
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from agents.venue import limitless as lm
from agents.venue.limitless import CHAIN_ID_BASE
from agents.venue.schemas import MarketStatus, OrderRequest, OrderStatus, Outcome
from agents.venue.strict import (
    Identifier,
    OptionalFloat,
    OptionalInt,
    StrictDecimal,
    StrictFloat,
    StrictInt,
    load_json,
    parse_identifier,
    parse_int,
    parse_slug,
)
from agents.venue.units import InvalidInput, price_to_ticks, signed_milli, usdc_to_micro
from paper_venue import chain_rpc
from paper_venue.engine import AccountSpec, Engine, Event, MarketState, NotFound, UnrenderableMarket
from paper_venue.faults import FAULTS_HEADER, FaultMiddleware, FaultState
from paper_venue.identities import Identities
from paper_venue.limitless_api import MAINTENANCE_MODES, LimitlessApi, RateLimit, Switches
from paper_venue.limitless_stream import LimitlessStream

log = logging.getLogger("agents.venue")
M = TypeVar("M", bound=BaseModel)

MAX_BODY = 64 * 1024  # bytes of a request body or a websocket frame
MAX_LIST = 1000  # ids or markets in one websocket message (cancel-batch has the same bound)
MAX_LIMIT = 5000
MAX_CLOSE_IN_SECONDS = 10 * 366 * 86_400  # about ten years
SESSION_HEADER = "X-Session-Id"
ERROR_NAMES = {
    400: "Bad Request",
    401: "Unauthorized",
    404: "Not Found",
    405: "Method Not Allowed",
    409: "Conflict",
    413: "Payload Too Large",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


# ------------------------------------------------------------------------------------ config


@dataclass
class VenueConfig:
    host: str = "127.0.0.1"
    port: int = 8100
    data_dir: Path = Path("var")
    seed: int = 0
    faults_token: str = ""  # empty: the /_faults API does not exist (404)
    tick_interval: float = 0.5  # seconds between simulation steps; 0 disables the timer
    heartbeat_interval: float = 5.0
    heartbeat_timeout: float = 15.0
    settle_lag: float = 2.0
    accounts: list[AccountSpec] = field(default_factory=lambda: [AccountSpec("academy", "paper-key", Decimal(10000))])
    sqlite_sync: str = "NORMAL"
    demo_markets: bool = True
    hmac_tokens: list[tuple[str, str, str]] = field(default_factory=list)  # (account, token id, base64 secret)
    chain_id: int = CHAIN_ID_BASE

    @property
    def db_path(self) -> Path:
        return self.data_dir / "venue.sqlite3"


def parse_accounts(text: str) -> list[AccountSpec]:
    """Parse VENUE_ACCOUNTS: 'name:key:usdc[:0xwallet],name2:key2:usdc2'."""
    specs = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        parts = item.split(":")
        if len(parts) not in (3, 4) or not parts[0] or not parts[1]:
            raise ValueError(f"VENUE_ACCOUNTS entry {item!r} is not name:key:usdc[:0xwallet]")
        try:
            usdc = Decimal(parts[2])
            micro = usdc_to_micro(usdc)
        except (ArithmeticError, ValueError) as exc:  # InvalidInput is a ValueError
            raise ValueError(f"VENUE_ACCOUNTS entry {item!r} has a bad USDC amount") from exc
        if micro < 0:
            raise ValueError(f"VENUE_ACCOUNTS entry {item!r} has a negative USDC amount")
        wallet = None
        if len(parts) == 4:
            try:
                wallet = lm.address(parts[3], "wallet")
            except lm.WireError:
                raise ValueError(f"VENUE_ACCOUNTS entry {item!r} has a bad wallet address") from None
        specs.append(AccountSpec(parts[0], parts[1], usdc, wallet))
    return specs


def parse_hmac_tokens(text: str) -> list[tuple[str, str, str]]:
    """Parse VENUE_HMAC_TOKENS: 'account:tokenId:base64secret,...' (a Limitless scoped token per account)."""
    tokens = []
    for item in filter(None, (part.strip() for part in text.split(","))):
        parts = item.split(":")
        if len(parts) != 3 or not all(parts):
            raise ValueError("VENUE_HMAC_TOKENS entry is not account:tokenId:base64secret")
        try:
            base64.b64decode(parts[2], validate=True)
        except ValueError:
            raise ValueError(f"VENUE_HMAC_TOKENS entry for {parts[0]!r} has a secret that is not base64") from None
        tokens.append((parts[0], parts[1], parts[2]))
    return tokens


def build_identities(engine: Engine, config: VenueConfig) -> Identities:
    """Wallets, profiles and HMAC tokens of the Limitless surface, for every configured account."""
    identities = Identities(str(config.db_path))
    try:
        for spec in config.accounts:
            identities.ensure(spec.name, spec.api_key, spec.address)
        for account, token, secret in config.hmac_tokens:
            if not engine.is_open_account(account):
                raise ValueError(f"VENUE_HMAC_TOKENS names {account!r}, which is not an account")
            identities.add_token(account, token, secret)
    except lm.WireError as exc:
        raise ValueError(f"VENUE_ACCOUNTS / VENUE_HMAC_TOKENS: {exc}") from exc
    return identities


def build_engine(config: VenueConfig) -> Engine:
    config.data_dir.mkdir(parents=True, exist_ok=True)
    try:
        return Engine(
            str(config.db_path),
            seed=config.seed,
            settle_lag=config.settle_lag,
            accounts=config.accounts,
            demo_markets=config.demo_markets,
            sqlite_sync=config.sqlite_sync,
        )
    except InvalidInput as exc:  # only the configured accounts are checked at start-up
        raise ValueError(f"VENUE_ACCOUNTS: {exc}") from exc


# ------------------------------------------------------------------------------------ errors


class ApiError(Exception):
    def __init__(self, status: int, message: str, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.extra = extra or {}


def error_response(status: int, message: str, extra: dict[str, Any] | None = None) -> JSONResponse:
    body = {"statusCode": status, "message": message, "error": ERROR_NAMES.get(status, "Error"), **(extra or {})}
    return JSONResponse(body, status_code=status)


def _validation_message(exc: ValidationError) -> str:
    """Name the first offending field, e.g. 'price: Input should be a valid decimal'."""
    first = exc.errors()[0]
    where = ".".join(str(p) for p in first["loc"]) or "body"
    return f"{where}: {first['msg']}"


async def json_body(request: Request) -> dict[str, Any]:
    """Read a JSON object body through strict.load_json: size and depth capped, numbers as Decimal
    (never float), NaN/Infinity refused. A refusal is an InvalidInput naming `body` (a 400)."""
    raw = await _capped_body(request)
    if not raw.strip():
        return {}
    data = load_json(raw, max_bytes=MAX_BODY)
    if not isinstance(data, dict):
        raise ApiError(400, "body: must be a JSON object")
    return data


async def _capped_body(request: Request) -> bytes:
    """The body, or 413 past MAX_BODY: what is over the cap is read and dropped, never buffered."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
    if size > MAX_BODY:
        raise ApiError(413, f"body: is too large (at most {MAX_BODY} bytes)")
    return b"".join(chunks)


def parse_model(model: type[M], data: dict[str, Any]) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(400, _validation_message(exc)) from exc


def query_int(request: Request, name: str, default: int, low: int = 1, high: int = MAX_LIMIT) -> int:
    raw = request.query_params.get(name)
    return default if raw is None else parse_int(raw, name, low=low, high=high)


def query_id(request: Request, name: str, *, slug: bool = False) -> str | None:
    """An optional identifier from the query string (a market slug or a client order id)."""
    raw = request.query_params.get(name)
    if raw is None:
        return None
    return parse_slug(raw, name) if slug else parse_identifier(raw, name)


def path_slug(request: Request) -> str:
    return parse_slug(request.path_params["slug"], "slug")


def path_order_id(request: Request) -> str:
    return parse_identifier(request.path_params["order_id"], "order_id")


def _query_status(request: Request) -> OrderStatus | None:
    raw = request.query_params.get("status")
    if raw is None:
        return None
    # ASCII first: str.upper() maps 'ı' (dotless i) to 'I', so 'lıve' would pass as LIVE.
    if raw.isascii() and raw.upper() in OrderStatus.__members__:
        return OrderStatus(raw.upper())
    raise InvalidInput("status", "must be one of LIVE, MATCHED, CANCELED, REJECTED")


def dump(model: BaseModel) -> dict[str, Any]:
    return model.model_dump(mode="json")


# ------------------------------------------------------------------------------------ control bodies


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancelBatchBody(_Body):
    orderIds: list[Identifier] = Field(min_length=1, max_length=MAX_LIST)  # noqa: N815 - Limitless field name


class HttpFaultBody(_Body):
    latency_ms: OptionalInt = Field(default=None, ge=0, le=120_000)
    error_rate: OptionalFloat = Field(default=None, ge=0, le=1)
    error_status: OptionalInt = Field(default=None, ge=500, le=599)
    fail_next: OptionalInt = Field(default=None, ge=0)
    drop_responses: OptionalInt = Field(default=None, ge=0)
    path_prefix: str | None = Field(default=None, max_length=200)


class HangBody(_Body):
    path_prefix: str = Field(default="", max_length=200)


class StatusBody(_Body):
    status: MarketStatus


class ResolveBody(_Body):
    outcome: Outcome


class ShockBody(_Body):
    price: StrictDecimal


class TextBody(_Body):
    field: str
    text: str = Field(max_length=20_000)
    mode: str = Field(default="replace", pattern="^(replace|append|prepend)$")


class DriftBody(_Body):
    account: Identifier
    usdc: StrictDecimal = Decimal(0)
    market: str = ""  # "" (no share drift) or a slug, checked by the handler
    outcome: Outcome | None = None
    shares: StrictDecimal = Decimal(0)


class LagBody(_Body):
    seconds: StrictFloat = Field(ge=0, le=86_400)


class AccountBody(_Body):
    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    api_key: str = Field(min_length=8, max_length=200, pattern=r"^[!-~]+$")  # printable ASCII, no space
    usdc: StrictDecimal = Decimal(0)
    address: str | None = Field(default=None, pattern=r"^0x[0-9a-fA-F]{40}$")  # its Limitless wallet
    hmac_token_id: str | None = Field(default=None, min_length=1, max_length=200, pattern=r"^[!-~]+$")
    hmac_secret: str | None = Field(default=None, min_length=4, max_length=400, pattern=r"^[A-Za-z0-9+/=]+$")


class RateLimitBody(_Body):
    max_in_flight: StrictInt = Field(default=2, ge=1, le=1000)
    min_interval_ms: StrictInt = Field(default=300, ge=0, le=60_000)
    retry_after_s: StrictInt = Field(default=1, ge=1, le=3600)


class LimitlessFaultBody(_Body):
    maintenance: str | None = None  # "" or null ends maintenance
    rate_limit: RateLimitBody | None = None
    rate_limit_off: StrictBool = False
    fail_settlements: StrictInt | None = Field(default=None, ge=0, le=1000)
    taker_delay_s: StrictFloat | None = Field(default=None, ge=0, le=3600, allow_inf_nan=False)


class CutBody(_Body):
    cut: StrictBool = True


class TickBody(_Body):
    n: StrictInt = Field(default=1, ge=1, le=10_000)


class MarketBody(_Body):
    slug: str = Field(min_length=1, max_length=120, pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str = "Test market"
    description: str = ""
    category: str = "Test"
    market_type: str = "test"
    # Bounded so close_time is always a datetime that renders: 1e400 would become inf, be
    # saved, and break every market listing (and /healthz) until the row was removed.
    close_in_seconds: StrictFloat = Field(default=86_400.0, gt=0, le=MAX_CLOSE_IN_SECONDS, allow_inf_nan=False)
    note: str = ""
    resolution_text: str = ""
    simulated: StrictBool = False
    fair: StrictDecimal = Decimal("0.5")


# ------------------------------------------------------------------------------------ websocket hub


@dataclass(eq=False)
class Session:
    """One websocket connection of one account."""

    id: str
    account: str
    ws: WebSocket
    queue: asyncio.Queue[dict[str, Any]]
    last_seen: float
    books: set[str] = field(default_factory=set)
    account_stream: bool = False
    cod_scope: str | None = None  # None, "session" or "account"
    control_seq: int = 0
    ping_nonce: int = 0
    closed: bool = False
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    def control(self, kind: str, **data: Any) -> dict[str, Any]:
        """A message on the session's own control stream (every message carries a seq)."""
        self.control_seq += 1
        return {"stream": "session", "seq": self.control_seq, "type": kind, **data}


class Hub:
    """Fans engine events out to websocket sessions; runs heartbeats and cancel-on-disconnect."""

    QUEUE_MAX = 2000

    def __init__(self, engine: Engine, config: VenueConfig) -> None:
        self.engine = engine
        self.config = config
        self.sessions: dict[str, Session] = {}
        engine.listeners.append(self.on_events)

    # Called synchronously by the engine after each commit (same thread as the event loop).
    def on_events(self, events: list[Event]) -> None:
        for event in events:
            if event.kind == "book":
                self._fan_book(event)
            else:
                self._fan_account(event)

    def _fan_book(self, event: Event) -> None:
        targets = [s for s in self.sessions.values() if event.market in s.books]
        if not targets:
            return
        snapshot = dump(self.engine.book(event.market))
        msg = {"stream": f"book:{event.market}", "seq": event.seq, "type": "orderbook", "data": snapshot}
        for session in targets:
            self.push(session, msg)

    def _fan_account(self, event: Event) -> None:
        assert event.payload is not None
        msg = {"stream": "account", "seq": event.seq, "type": event.kind, "data": dump(event.payload)}
        for session in self.sessions.values():
            if session.account_stream and session.account == event.account:
                self.push(session, msg)

    def push(self, session: Session, msg: dict[str, Any]) -> None:
        """Queue a message; a consumer too slow to keep up is dropped rather than fed stale data."""
        if session.closed:
            return
        try:
            session.queue.put_nowait(msg)
        except asyncio.QueueFull:
            asyncio.get_running_loop().create_task(self.terminate(session, 1013, "slow consumer"))

    async def terminate(self, session: Session, code: int, reason: str) -> None:
        """End a session once: apply its cancel-on-disconnect first, then close the socket."""
        if session.closed:
            return
        session.closed = True
        self.sessions.pop(session.id, None)
        if session.cod_scope is not None:
            result = self.engine.session_close(
                session.id, session.account, session.cod_scope, f"cancel-on-disconnect ({reason})"
            )
            log.info("session %s closed (%s): canceled %d orders", session.id, reason, len(result.canceled))
        for task in session.tasks:
            if task is not asyncio.current_task():
                task.cancel()
        with contextlib.suppress(Exception):
            await session.ws.close(code=code, reason=reason)

    async def drop_all(self) -> int:
        sessions = list(self.sessions.values())
        for session in sessions:
            await self.terminate(session, 1012, "dropped by fault control")
        return len(sessions)

    async def sender(self, session: Session) -> None:
        with contextlib.suppress(Exception):
            while True:
                msg = await session.queue.get()
                await session.ws.send_text(json.dumps(msg, default=str))  # a Decimal echoed back (a nonce)
        await self.terminate(session, 1011, "send failed")

    async def heartbeat(self, session: Session) -> None:
        """Ping on an interval; a session silent for longer than the timeout is dropped."""
        interval, timeout = self.config.heartbeat_interval, self.config.heartbeat_timeout
        while not session.closed:
            await asyncio.sleep(min(interval, timeout / 2))
            if time.monotonic() - session.last_seen > timeout:
                await self.terminate(session, 4000, "heartbeat timeout")
                return
            session.ping_nonce += 1
            self.push(session, session.control("ping", nonce=session.ping_nonce))

    def handle(self, session: Session, msg: Any) -> None:
        """Apply one client message."""
        if not isinstance(msg, dict) or not isinstance(msg.get("op"), str):
            self.push(session, session.control("error", message="op: each message must be an object with an op"))
            return
        handler = self.HANDLERS.get(msg["op"])
        if handler is None:
            self.push(session, session.control("error", message=f"op: unknown op {msg['op']!r}"))
            return
        try:
            handler(self, session, msg)
        except (InvalidInput, NotFound, ValueError, TypeError) as exc:
            self.push(session, session.control("error", message=str(exc), op=msg["op"]))

    def _subscribe(self, session: Session, msg: dict[str, Any]) -> None:
        channel = msg.get("channel")
        if channel == "account":
            session.account_stream = True
            seq = self.engine.account_seq(session.account)
            self.push(session, {"stream": "account", "seq": seq, "type": "subscribed"})
        elif channel == "orderbook":
            for slug in _markets_arg(msg):
                book = self.engine.book(slug)  # NotFound for an unknown market
                session.books.add(slug)
                self.push(session, {"stream": f"book:{slug}", "seq": book.seq, "type": "orderbook", "data": dump(book)})
        else:
            raise ValueError("channel: must be 'orderbook' or 'account'")

    def _unsubscribe(self, session: Session, msg: dict[str, Any]) -> None:
        if msg.get("channel") == "account":
            session.account_stream = False
        else:
            session.books.difference_update(_markets_arg(msg))
        self.push(session, session.control("unsubscribed", channel=msg.get("channel")))

    def _cod(self, session: Session, msg: dict[str, Any]) -> None:
        enabled, scope = msg.get("enabled", True), msg.get("scope", "session")
        if not isinstance(enabled, bool) or scope not in ("session", "account"):
            raise ValueError("enabled/scope: enabled must be a boolean, scope 'session' or 'account'")
        self.set_cod(session, scope if enabled else None)

    def set_cod(self, session: Session, scope: str | None) -> None:
        session.cod_scope = scope
        if scope is None:
            self.engine.session_forget(session.id)
        else:
            self.engine.session_open(session.id, session.account, scope)
        self.push(
            session,
            session.control("cancel_on_disconnect", enabled=scope is not None, scope=scope, session_id=session.id),
        )

    def _flag(self, session: Session, msg: dict[str, Any]) -> None:
        ids = _id_list(msg.get("order_ids"), "order_ids", parse_identifier)
        tied = self.engine.flag_orders(session.account, session.id, ids)
        self.push(session, session.control("flagged", order_ids=tied))

    def _pong(self, session: Session, msg: dict[str, Any]) -> None:
        return None  # liveness is recorded for every inbound message

    def _ping(self, session: Session, msg: dict[str, Any]) -> None:
        self.push(session, session.control("pong", nonce=msg.get("nonce")))

    HANDLERS: dict[str, Callable[[Hub, Session, dict[str, Any]], None]] = {
        "subscribe": _subscribe,
        "unsubscribe": _unsubscribe,
        "cancel_on_disconnect": _cod,
        "flag": _flag,
        "pong": _pong,
        "ping": _ping,
    }


def _markets_arg(msg: dict[str, Any]) -> list[str]:
    markets = msg.get("markets", [msg["market"]] if "market" in msg else None)
    return _id_list(markets, "markets", parse_slug)


def _id_list(values: Any, field: str, parse: Callable[[Any, str], str]) -> list[str]:
    """A non-empty list of at most MAX_LIST ids, each checked by `parse` (a strict alphabet)."""
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_LIST:
        raise InvalidInput(field, f"must be a list of 1 to {MAX_LIST} ids")
    return [parse(value, field) for value in values]


# ------------------------------------------------------------------------------------ the app


class Api:
    """Request handlers. Each parses input, checks auth, and calls one engine method."""

    def __init__(self, engine: Engine, config: VenueConfig, hub: Hub, faults: FaultState,
                 limitless: LimitlessApi, stream: LimitlessStream) -> None:
        self.engine = engine
        self.config = config
        self.hub = hub
        self.faults = faults
        self.limitless = limitless
        self.stream = stream

    def account(self, request: Request) -> str:
        key = request.headers.get("x-api-key", "")
        name = self.engine.account_for_key(key) if key else None
        if name is None:
            raise ApiError(401, "X-API-Key: missing or invalid API key")
        return name

    # -- public market data ---------------------------------------------------------------

    async def healthz(self, request: Request) -> Response:
        return JSONResponse(
            {"status": "ok", "markets": self.engine.market_count(), "time": datetime.now(UTC).isoformat()}
        )

    async def markets_active(self, request: Request) -> Response:
        limit, page = query_int(request, "limit", 100, high=500), query_int(request, "page", 1, high=10**6)
        active = [m for m in self.engine.markets() if m.status is not MarketStatus.RESOLVED]
        chunk = active[(page - 1) * limit : page * limit]
        return JSONResponse({"data": [dump(m) for m in chunk], "totalMarketsCount": len(active)})

    async def market(self, request: Request) -> Response:
        return JSONResponse(dump(self.engine.market(path_slug(request))))

    async def orderbook(self, request: Request) -> Response:
        depth = query_int(request, "depth", 50, high=1000)
        return JSONResponse(dump(self.engine.book(path_slug(request), depth)))

    # -- orders ---------------------------------------------------------------------------

    async def place(self, request: Request) -> Response:
        account = self.account(request)
        req = parse_model(OrderRequest, await json_body(request))
        session_id = self._session_for(request, account)
        result = self.engine.place(account, req, session_id=session_id)
        body = {"order": dump(result.order), "fills": [dump(f) for f in result.fills], "created": result.created}
        if result.order.status is OrderStatus.REJECTED:
            raise ApiError(400, f"order rejected: {result.order.reason}", body)
        return JSONResponse(body, status_code=201 if result.created else 200)

    def _session_for(self, request: Request, account: str) -> str | None:
        """An order may name a live websocket session so that session's cancel-on-disconnect covers it."""
        session_id = request.headers.get(SESSION_HEADER)
        if session_id is None:
            return None
        session = self.hub.sessions.get(session_id)
        if session is None or session.account != account:
            # Fail safe: the caller expects protection that would not exist, so refuse the order.
            raise ApiError(400, f"{SESSION_HEADER}: no open websocket session {session_id!r} for this account")
        return session_id

    async def order(self, request: Request) -> Response:
        return JSONResponse(dump(self.engine.order(self.account(request), path_order_id(request))))

    async def orders(self, request: Request) -> Response:
        account = self.account(request)
        found = self.engine.orders(
            account,
            market=query_id(request, "market", slug=True),
            status=_query_status(request),
            client_order_id=query_id(request, "client_order_id"),
            limit=query_int(request, "limit", 500),
        )
        return JSONResponse({"data": [dump(o) for o in found]})

    async def cancel(self, request: Request) -> Response:
        order = self.engine.cancel(self.account(request), path_order_id(request))
        message = (
            "Order canceled successfully" if order.status is OrderStatus.CANCELED else f"Order is {order.status.value}"
        )
        return JSONResponse({"message": message, "order": dump(order)})

    async def cancel_batch(self, request: Request) -> Response:
        account = self.account(request)
        body = parse_model(CancelBatchBody, await json_body(request))
        return _cancel_reply(self.engine.cancel_batch(account, body.orderIds))

    async def cancel_market(self, request: Request) -> Response:
        return _cancel_reply(self.engine.cancel_all(self.account(request), path_slug(request)))

    async def cancel_account(self, request: Request) -> Response:
        return _cancel_reply(self.engine.cancel_all(self.account(request)))

    # -- portfolio ------------------------------------------------------------------------

    async def positions(self, request: Request) -> Response:
        return JSONResponse({"data": [dump(p) for p in self.engine.positions(self.account(request))]})

    async def balances(self, request: Request) -> Response:
        return JSONResponse(dump(self.engine.balance(self.account(request))))

    async def fills(self, request: Request) -> Response:
        account = self.account(request)
        found = self.engine.fills(
            account, market=query_id(request, "market", slug=True), limit=query_int(request, "limit", 500)
        )
        return JSONResponse({"data": [dump(f) for f in found]})

    async def chain_ledger(self, request: Request) -> Response:
        return JSONResponse(dump(self.engine.chain_ledger(self.account(request))))

    # -- websocket ------------------------------------------------------------------------

    async def websocket(self, ws: WebSocket) -> None:
        key = ws.headers.get("x-api-key") or ws.query_params.get("api_key") or ""
        account = self.engine.account_for_key(key) if key else None
        await ws.accept()
        if account is None:
            await ws.send_text(
                json.dumps({"stream": "session", "seq": 1, "type": "error", "message": "X-API-Key: missing or invalid"})
            )
            await ws.close(code=4401, reason="unauthorized")
            return
        hub = self.hub
        session = Session("ws_" + secrets.token_hex(8), account, ws, asyncio.Queue(Hub.QUEUE_MAX), time.monotonic())
        hub.sessions[session.id] = session
        hello = session.control(
            "welcome", session_id=session.id, account=account,
            heartbeat_interval=self.config.heartbeat_interval, heartbeat_timeout=self.config.heartbeat_timeout,
        )  # fmt: skip
        hub.push(session, hello)
        cod = ws.query_params.get("cancel_on_disconnect", "").lower()
        if cod in ("1", "true", "session", "account"):
            hub.set_cod(session, "account" if cod == "account" else "session")
        session.tasks = [asyncio.create_task(hub.sender(session)), asyncio.create_task(hub.heartbeat(session))]
        try:
            await self._receive(session)
        finally:
            await hub.terminate(session, 1000, "socket closed")

    async def _receive(self, session: Session) -> None:
        with contextlib.suppress(WebSocketDisconnect, RuntimeError):
            while not session.closed:
                frame = await session.ws.receive()
                if frame["type"] == "websocket.disconnect":
                    return
                session.last_seen = time.monotonic()
                self._on_frame(session, frame.get("text"))

    def _on_frame(self, session: Session, text: str | None) -> None:
        """One client frame: a bad one is answered with an error and the session lives on (its
        cancel-on-disconnect cover must not end because a client sent garbage)."""
        try:
            if text is None:
                raise InvalidInput("body", "frames must be JSON text, not binary")
            msg = load_json(text, max_bytes=MAX_BODY)
        except InvalidInput as exc:
            self.hub.push(session, session.control("error", message=str(exc)))
            return
        self.hub.handle(session, msg)

    # -- fault controls ---------------------------------------------------------------------

    def check_faults(self, request: Request) -> None:
        token = self.config.faults_token
        if not token:
            raise ApiError(404, f"Cannot {request.method} {request.url.path}")  # the API does not exist
        if not secrets.compare_digest(request.headers.get(FAULTS_HEADER, ""), token):
            raise ApiError(401, f"{FAULTS_HEADER}: missing or invalid token")

    async def f_state(self, request: Request) -> Response:
        self.check_faults(request)
        return JSONResponse(
            {**self.faults.snapshot(), "settle_lag": self.engine.settle_lag, "sessions": len(self.hub.sessions)}
        )

    async def f_http(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(HttpFaultBody, await json_body(request))
        for name, value in body.model_dump(exclude_none=True).items():
            setattr(self.faults, name, value)
        return JSONResponse(self.faults.snapshot())

    async def f_hang(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(HangBody, await json_body(request))
        self.faults.path_prefix = body.path_prefix
        self.faults.start_hang()
        return JSONResponse(self.faults.snapshot())

    async def f_release(self, request: Request) -> Response:
        self.check_faults(request)
        self.faults.release()
        return JSONResponse(self.faults.snapshot())

    async def f_ws_drop(self, request: Request) -> Response:
        self.check_faults(request)
        dropped = await self.hub.drop_all() + await self.stream.drop_all()
        return JSONResponse({"dropped": dropped})

    async def f_ws_cut(self, request: Request) -> Response:
        """Cut the Limitless stream: drop its connections and refuse new ones until `cut` is false."""
        self.check_faults(request)
        self.faults.stream_cut = parse_model(CutBody, await json_body(request)).cut
        dropped = await self.stream.drop_all() if self.faults.stream_cut else 0
        return JSONResponse({"dropped": dropped, **self.faults.snapshot()})

    async def f_market_create(self, request: Request) -> Response:
        self.check_faults(request)
        b = parse_model(MarketBody, await json_body(request))
        fair = price_to_ticks(b.fair, "fair")
        close_time = _close_timestamp(b.close_in_seconds)  # before anything is created or stored
        state = MarketState(
            b.slug, b.title, b.description, b.category, b.market_type, MarketStatus.OPEN,
            close_time, b.note, b.resolution_text, fair=fair, simulated=b.simulated,
        )  # fmt: skip
        return JSONResponse(dump(self.engine.create_market(state)), status_code=201)

    async def f_status(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(StatusBody, await json_body(request))
        return JSONResponse(dump(self.engine.set_status(path_slug(request), body.status)))

    async def f_resolve(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(ResolveBody, await json_body(request))
        return JSONResponse(dump(self.engine.resolve(path_slug(request), body.outcome)))

    async def f_shock(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(ShockBody, await json_body(request))
        return JSONResponse(dump(self.engine.price_shock(path_slug(request), body.price)))

    async def f_text(self, request: Request) -> Response:
        self.check_faults(request)
        body = parse_model(TextBody, await json_body(request))
        slug = path_slug(request)
        current = getattr(self.engine.market(slug), body.field, None)
        if current is None or not isinstance(current, str):
            raise ApiError(400, "field: must be one of title, description, note, resolution_text")
        self.faults.planted.setdefault((slug, body.field), current)  # keep the first original for reset
        text = {"replace": body.text, "append": current + body.text, "prepend": body.text + current}[body.mode]
        return JSONResponse(dump(self.engine.set_text(slug, body.field, text)))

    async def f_drift(self, request: Request) -> Response:
        self.check_faults(request)
        b = parse_model(DriftBody, await json_body(request))
        if b.market:
            parse_slug(b.market, "market")
        usdc, shares = usdc_to_micro(b.usdc, "usdc"), signed_milli(b.shares, "shares")
        self.engine.add_drift(b.account, usdc=usdc, market=b.market, outcome=b.outcome, shares=shares)
        return JSONResponse(dump(self.engine.chain_ledger(b.account)))

    async def f_settle_now(self, request: Request) -> Response:
        self.check_faults(request)
        self.engine.settle_now()
        return JSONResponse({"settled": True})

    async def f_lag(self, request: Request) -> Response:
        self.check_faults(request)
        self.engine.settle_lag = parse_model(LagBody, await json_body(request)).seconds
        return JSONResponse({"settle_lag": self.engine.settle_lag})

    async def f_account(self, request: Request) -> Response:
        self.check_faults(request)
        b = parse_model(AccountBody, await json_body(request))
        if (b.hmac_token_id is None) != (b.hmac_secret is None):
            raise ApiError(400, "hmac_token_id/hmac_secret: give both or neither")
        created, balance = self.engine.open_account(b.name, b.api_key, b.usdc)
        identities = self.limitless.identities
        try:
            identity = identities.ensure(b.name, b.api_key, b.address)
            if b.hmac_token_id is not None and b.hmac_secret is not None:
                base64.b64decode(b.hmac_secret, validate=True)
                identities.add_token(b.name, b.hmac_token_id, b.hmac_secret)
        except (lm.WireError, ValueError) as exc:
            raise ApiError(400, str(exc)) from exc
        return JSONResponse({"name": b.name, "created": created, "balance": dump(balance),
                             "address": identity.address, "profile_id": identity.profile_id})

    async def f_limitless(self, request: Request) -> Response:
        """Maintenance mode and the rate limiter of the Limitless surface."""
        self.check_faults(request)
        b = parse_model(LimitlessFaultBody, await json_body(request))
        switches = self.limitless.switches
        if b.maintenance is not None:
            if b.maintenance and b.maintenance not in MAINTENANCE_MODES:
                raise ApiError(400, f"maintenance: must be one of {', '.join(MAINTENANCE_MODES)} or empty")
            switches.maintenance = b.maintenance
        if b.rate_limit is not None:
            r = b.rate_limit
            switches.rate_limit = RateLimit(r.max_in_flight, r.min_interval_ms / 1000, r.retry_after_s)
        if b.rate_limit_off:
            switches.rate_limit = None
        if b.fail_settlements is not None:
            switches.fail_settlements = b.fail_settlements
        if b.taker_delay_s is not None:
            switches.taker_delay_s = b.taker_delay_s
        return JSONResponse(switches.snapshot())

    async def f_tick(self, request: Request) -> Response:
        self.check_faults(request)
        for _ in range(parse_model(TickBody, await json_body(request)).n):
            self.engine.tick()
        return JSONResponse({"ticked": True})

    async def f_reset(self, request: Request) -> Response:
        """Undo every reversible fault: HTTP faults, hangs, chain drift, planted text, the lag."""
        self.check_faults(request)
        self.faults.clear_http()
        self.engine.clear_drift()
        for (slug, name), original in sorted(self.faults.planted.items()):
            self.engine.set_text(slug, name, original)
        self.faults.planted.clear()
        self.engine.settle_lag = self.config.settle_lag
        self.limitless.switches.maintenance, self.limitless.switches.rate_limit = "", None
        self.limitless.switches.fail_settlements, self.limitless.switches.taker_delay_s = 0, 0.0
        self.faults.stream_cut = False
        return JSONResponse(self.faults.snapshot())


def _close_timestamp(close_in_seconds: float) -> float:
    """The close time as a timestamp that is known to render as a datetime (the model bounds it too)."""
    close_time = time.time() + close_in_seconds
    try:
        datetime.fromtimestamp(close_time, UTC)
    except (OverflowError, OSError, ValueError) as exc:
        raise ApiError(400, "close_in_seconds: is out of range") from exc
    return close_time


def _cancel_reply(result: Any) -> Response:
    body = dump(result)
    return JSONResponse({"message": f"{len(result.canceled)} orders canceled", **body})


def _guard(handler: Callable[[Request], Awaitable[Response]]) -> Callable[[Request], Awaitable[Response]]:
    """Turn every engine/validation refusal into a clear 4xx; anything else is a logged 500."""

    async def guarded(request: Request) -> Response:
        try:
            return await handler(request)
        except ApiError as exc:
            return error_response(exc.status, exc.message, exc.extra)
        except InvalidInput as exc:
            return error_response(400, str(exc))
        except NotFound as exc:
            return error_response(404, str(exc))
        except UnrenderableMarket as exc:  # a damaged stored row: fail this market, say which
            return error_response(500, str(exc))
        except Exception:
            log.exception("unexpected error on %s %s", request.method, request.url.path)
            return error_response(500, "internal error")

    return guarded


def create_app(engine: Engine, config: VenueConfig) -> Any:
    """Build the ASGI app (fault middleware outermost) around one engine."""
    faults = FaultState(seed=config.seed)
    hub = Hub(engine, config)
    limitless = LimitlessApi(engine, build_identities(engine, config), Switches(), chain_id=config.chain_id)
    stream = LimitlessStream(engine, limitless.identities, ping_interval=config.heartbeat_interval,
                             ping_timeout=config.heartbeat_timeout, refusing=lambda: faults.stream_cut)
    api = Api(engine, config, hub, faults, limitless, stream)
    g = _guard
    # The paper-only native API (cancel-on-disconnect, sequence numbers: what Limitless lacks) lives
    # under /paper; the root is Limitless's own surface (agents/venue/limitless_api.py).
    native = [
        Route("/healthz", g(api.healthz)),
        Route("/markets/active", g(api.markets_active)),
        Route("/markets/{slug}", g(api.market)),
        Route("/markets/{slug}/orderbook", g(api.orderbook)),
        Route("/orders", g(api.place), methods=["POST"]),
        Route("/orders", g(api.orders), methods=["GET"]),
        Route("/orders/cancel-batch", g(api.cancel_batch), methods=["POST"]),
        Route("/orders/all", g(api.cancel_account), methods=["DELETE"]),
        Route("/orders/all/{slug}", g(api.cancel_market), methods=["DELETE"]),
        Route("/orders/{order_id}", g(api.order), methods=["GET"]),
        Route("/orders/{order_id}", g(api.cancel), methods=["DELETE"]),
        Route("/portfolio/positions", g(api.positions)),
        Route("/portfolio/balances", g(api.balances)),
        Route("/portfolio/fills", g(api.fills)),
        Route("/chain/ledger", g(api.chain_ledger)),
        WebSocketRoute("/ws", api.websocket),
    ]
    routes = [
        Route("/healthz", g(api.healthz)),
        Mount("/paper", routes=native),
        *limitless.routes(),
        Route("/rpc", chain_rpc.endpoint(engine, limitless.identities, config.chain_id), methods=["POST"]),
        Route("/_faults", g(api.f_state)),
        Route("/_faults/limitless", g(api.f_limitless), methods=["POST"]),
        Route("/_faults/http", g(api.f_http), methods=["POST"]),
        Route("/_faults/hang", g(api.f_hang), methods=["POST"]),
        Route("/_faults/release", g(api.f_release), methods=["POST"]),
        Route("/_faults/ws/drop", g(api.f_ws_drop), methods=["POST"]),
        Route("/_faults/ws/cut", g(api.f_ws_cut), methods=["POST"]),
        Route("/_faults/markets", g(api.f_market_create), methods=["POST"]),
        Route("/_faults/markets/{slug}/status", g(api.f_status), methods=["POST"]),
        Route("/_faults/markets/{slug}/resolve", g(api.f_resolve), methods=["POST"]),
        Route("/_faults/markets/{slug}/shock", g(api.f_shock), methods=["POST"]),
        Route("/_faults/markets/{slug}/text", g(api.f_text), methods=["POST"]),
        Route("/_faults/chain/drift", g(api.f_drift), methods=["POST"]),
        Route("/_faults/chain/settle-now", g(api.f_settle_now), methods=["POST"]),
        Route("/_faults/chain/lag", g(api.f_lag), methods=["POST"]),
        Route("/_faults/accounts", g(api.f_account), methods=["POST"]),
        Route("/_faults/tick", g(api.f_tick), methods=["POST"]),
        Route("/_faults/reset", g(api.f_reset), methods=["POST"]),
    ]

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        return error_response(exc.status_code, f"Cannot {request.method} {request.url.path}")

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        ticker = asyncio.create_task(_tick_loop(engine, config.tick_interval))
        try:
            yield
        finally:
            ticker.cancel()
            await hub.drop_all()
            await stream.drop_all()
            limitless.identities.close()
            engine.close()

    app = Starlette(routes=routes, lifespan=lifespan, exception_handlers={HTTPException: http_error})
    app.state.engine, app.state.hub, app.state.faults = engine, hub, faults
    return FaultMiddleware(stream.asgi(app), faults)


async def _tick_loop(engine: Engine, interval: float) -> None:
    """Drive the simulated counterparties; a failing tick is logged, never fatal."""
    if interval <= 0:
        return
    while True:
        await asyncio.sleep(interval)
        try:
            engine.tick()
        except Exception:
            log.exception("simulation tick failed")


def config_from_env(env: dict[str, str] | None = None) -> VenueConfig:
    """Read the VENUE_* / ACADEMY_DATA_DIR environment; refuse nonsense loudly.

    Every bad value raises ValueError naming the variable, so start-up stops instead of
    running with a silently broken setting (e.g. a NaN heartbeat timeout never fires).
    """
    env = dict(os.environ if env is None else env)
    config = VenueConfig()
    config.port = _env_int(env, "VENUE_PORT", config.port, low=1, high=65_535)
    config.host = env.get("VENUE_HOST", config.host)
    if "ACADEMY_DATA_DIR" in env:
        config.data_dir = Path(env["ACADEMY_DATA_DIR"])
    config.seed = _env_int(env, "VENUE_SEED", config.seed, low=0, high=2**63 - 1)
    config.faults_token = env.get("VENUE_FAULTS_TOKEN", "")
    config.tick_interval = _env_seconds(env, "VENUE_TICK_INTERVAL", config.tick_interval, zero_ok=True)
    config.heartbeat_interval = _env_seconds(env, "VENUE_HEARTBEAT_INTERVAL", config.heartbeat_interval)
    config.heartbeat_timeout = _env_seconds(env, "VENUE_HEARTBEAT_TIMEOUT", config.heartbeat_timeout)
    # 0 is allowed: chain events settle at once (the /_faults/chain/lag control accepts 0 too).
    config.settle_lag = _env_seconds(env, "VENUE_SETTLE_LAG", config.settle_lag, zero_ok=True)
    config.sqlite_sync = _env_choice(env, "VENUE_SQLITE_SYNC", config.sqlite_sync, SQLITE_SYNC_MODES)
    config.demo_markets = _env_bool(env, "VENUE_DEMO_MARKETS", config.demo_markets)
    if env.get("VENUE_ACCOUNTS"):
        config.accounts = parse_accounts(env["VENUE_ACCOUNTS"])
    if env.get("VENUE_HMAC_TOKENS"):
        config.hmac_tokens = parse_hmac_tokens(env["VENUE_HMAC_TOKENS"])
    config.chain_id = _env_int(env, "VENUE_CHAIN_ID", config.chain_id, low=1, high=2**53)
    return config


MAX_SECONDS_SETTING = 86_400.0  # a day: beyond it a timer setting is a typo, and asyncio.sleep stays sane
SQLITE_SYNC_MODES = ("OFF", "NORMAL", "FULL")
TRUE_WORDS, FALSE_WORDS = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def _env_seconds(env: dict[str, str], name: str, default: float, *, zero_ok: bool = False) -> float:
    """A duration in seconds: finite, > 0 (or >= 0 with zero_ok), at most a day."""
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number of seconds") from None
    # NaN fails every comparison, so test finiteness explicitly rather than relying on `<= 0`.
    low_ok = value >= 0 if zero_ok else value > 0
    if not math.isfinite(value) or not low_ok or value > MAX_SECONDS_SETTING:
        lower = ">= 0" if zero_ok else "> 0"
        raise ValueError(f"{name}={raw!r} must be a finite number of seconds {lower} and <= {MAX_SECONDS_SETTING:g}")
    return value


def _env_int(env: dict[str, str], name: str, default: int, *, low: int, high: int) -> int:
    raw = env.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not an integer") from None
    if not low <= value <= high:
        raise ValueError(f"{name}={raw!r} must be from {low} to {high}")
    return value


def _env_choice(env: dict[str, str], name: str, default: str, choices: tuple[str, ...]) -> str:
    value = env.get(name, default).strip().upper()
    if value not in choices:
        raise ValueError(f"{name}={env.get(name)!r} must be one of {', '.join(choices)}")
    return value


def _env_bool(env: dict[str, str], name: str, default: bool) -> bool:
    raw = env.get(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word not in TRUE_WORDS + FALSE_WORDS:
        raise ValueError(f"{name}={raw!r} must be one of {', '.join(TRUE_WORDS + FALSE_WORDS)}")
    return word in TRUE_WORDS
