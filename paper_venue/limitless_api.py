"""The paper venue's Limitless surface: the REST API of Limitless Exchange, served at the root.

Built so that a Limitless client (the official `limitless-sdk`, our `LimitlessVenue`) works
against the paper venue unchanged: the shapes, auth and checks of `../shared/limitless-api.md`
(section 12), over the same `Engine` that the paper-only native API (`/paper`) drives.

- Auth: `X-API-Key`, or an HMAC token (`lmts-api-key`, `lmts-timestamp`, `lmts-signature`)
  verified over the raw path, query and body, within 30 s. Public market data needs none.
- Orders are EIP-712 signed; the signer is recovered against the market's own verifying
  contract and must be the authenticated account's wallet; `ownerId` must be its profile;
  `feeRateBps` must be its rate (`FEE_RATE_MISMATCH`); GTC/FAK amounts must match the price
  exactly as the SDK builds them; FOK spends `makerAmount` against the book or is killed.
- A repeated `clientOrderId` (or the same signed order again) is a 409, never a second order.
- Maintenance (503) and rate limiting (429 with `Retry-After`) are switched by the fault
  controls (`/_faults/limitless`).

Handlers parse and check, then call one engine method, like the native API's.
"""

from __future__ import annotations

import asyncio
import base64
import logging
import secrets
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from eth_utils import keccak
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from agents.venue import limitless as lm
from agents.venue.schemas import (
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
from agents.venue.strict import load_json, parse_identifier, parse_int, parse_slug
from agents.venue.units import TICKS_PER_UNIT, InvalidInput
from paper_venue.engine import Engine, NotFound, fee_of
from paper_venue.identities import Identities, Identity, condition_id, exchange_address, market_id, token_id

log = logging.getLogger("paper_venue.limitless")
MAX_BODY = 64 * 1024
MAX_BATCH = 50
MAINTENANCE_MODES = ("post_only", "cancel_only", "disabled")
SDK_STATUSES = {"LIVE", "MATCHED", "CANCELED", "UNMATCHED"}
ZERO_SIGNATURE = "0x" + "00" * 65


class LmtsError(Exception):
    """A refusal with its HTTP status; the body is NestJS-shaped like every Limitless error."""

    def __init__(
        self, status: int, message: str, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> None:
        super().__init__(message)
        self.status, self.message, self.extra, self.headers = status, message, extra or {}, headers or {}


ERRORS = {
    400: "Bad Request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not Found",
    409: "Conflict",
    413: "Payload Too Large",
    422: "Unprocessable Entity",
    429: "Too Many Requests",
    500: "Internal Server Error",
    503: "Service Unavailable",
}


def lmts_error(
    status: int, message: str, extra: dict[str, Any] | None = None, headers: dict[str, str] | None = None
) -> JSONResponse:
    body = {"statusCode": status, "message": message, "error": ERRORS.get(status, "Error"), **(extra or {})}
    return JSONResponse(body, status_code=status, headers=headers)


# ------------------------------------------------------------------------------------ switches


@dataclass
class RateLimit:
    """Limitless's documented budget per credential: at most N in flight, at least M ms apart."""

    max_in_flight: int = 2
    min_interval_s: float = 0.3
    retry_after_s: int = 1
    in_flight: dict[str, int] = field(default_factory=dict)
    last_start: dict[str, float] = field(default_factory=dict)

    def admit(self, who: str) -> bool:
        now = time.monotonic()
        if (
            self.in_flight.get(who, 0) >= self.max_in_flight
            or now - self.last_start.get(who, -1e9) < self.min_interval_s
        ):
            return False
        self.in_flight[who] = self.in_flight.get(who, 0) + 1
        self.last_start[who] = now
        return True

    def done(self, who: str) -> None:
        self.in_flight[who] = max(0, self.in_flight.get(who, 1) - 1)


@dataclass
class Switches:
    """What the fault controls switch on the Limitless surface."""

    maintenance: str = ""  # "", post_only, cancel_only or disabled
    rate_limit: RateLimit | None = None
    fail_settlements: int = 0  # the next N orders that match have their settlement fail on chain
    taker_delay_s: float = 0.0  # a marketable order is accepted DELAYED and matched this much later

    def snapshot(self) -> dict[str, Any]:
        limit = self.rate_limit
        return {
            "maintenance": self.maintenance or None,
            "fail_settlements": self.fail_settlements,
            "taker_delay_s": self.taker_delay_s,
            "rate_limit": None
            if limit is None
            else {
                "max_in_flight": limit.max_in_flight,
                "min_interval_ms": round(limit.min_interval_s * 1000),
                "retry_after_s": limit.retry_after_s,
            },
        }


# ------------------------------------------------------------------------------------ shapes


_iso = lm.iso_millis


def raw(value: Decimal) -> int:
    """Shares or USDC as a 1e6-scaled integer."""
    return int((value * lm.SCALE).to_integral_value(ROUND_FLOOR))


LMTS_MARKET_STATUS = {
    MarketStatus.OPEN: "FUNDED",
    MarketStatus.PAUSED: "LOCKED",
    MarketStatus.CLOSED: "LOCKED",
    MarketStatus.RESOLVED: "RESOLVED",
}


def market_json(m: Market, chain_id: int) -> dict[str, Any]:
    yes, no = token_id(m.slug, "YES"), token_id(m.slug, "NO")
    created = _iso(datetime(2026, 1, 1, tzinfo=UTC))
    body: dict[str, Any] = {
        "id": market_id(m.slug),
        "slug": m.slug,
        "title": m.title,
        "description": m.description,
        "collateralToken": {"address": lm.USDC_BASE, "decimals": 6, "symbol": "USDC"},
        "expirationDate": m.close_time.strftime("%b %d, %Y"),
        "expirationTimestamp": int(m.close_time.timestamp() * 1000),
        "createdAt": created,
        "updatedAt": created,
        "categories": [m.category] if m.category else [],
        "status": LMTS_MARKET_STATUS[m.status],
        "creator": {"name": "Academy paper venue"},
        "tags": [m.market_type] if m.market_type else [],
        "tradeType": "clob",
        "marketType": "single",
        "priorityIndex": 0,
        "metadata": {"fee": True},
        "tokens": {"yes": yes, "no": no},
        "positionIds": [yes, no],
        "conditionId": condition_id(m.slug),
        "venue": {"exchange": exchange_address(m.slug), "adapter": None},
        "settings": {"minSize": "1000", "maxSpread": 0.05, "dailyReward": "0", "rewardsEpoch": "0", "c": "0"},
        "prices": [_float(m.last_price), _float(1 - m.last_price if m.last_price else None)] if m.last_price else None,
        # Paper additions (Limitless has no such fields; the SDK ignores them): the text the
        # native API serves too, so the same hostile-text tests reach a Limitless client.
        "orderbookNote": m.note,
        "resolutionText": m.resolution_text,
        "chainId": chain_id,
    }
    if m.winning_outcome is not None:
        body["winningOutcomeIndex"] = 0 if m.winning_outcome is Outcome.YES else 1
    return body


def _effective_bps(contracts_fee: int, usd_fee: int, taker: list[Fill]) -> int:
    """The fee actually charged, in bps of what the taker fills traded (contracts on a buy, USDC on a sell)."""
    if not taker:
        return 0
    if taker[0].side is Side.BUY:
        gross = sum(raw(f.size) for f in taker)
        return round(contracts_fee * 10_000 / gross) if gross else 0
    gross = sum(raw(f.size * f.price) for f in taker)
    return round(usd_fee * 10_000 / gross) if gross else 0


def _float(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def book_json(book: OrderBook, last_price: Decimal | None) -> dict[str, Any]:
    bids = [{"price": float(b.price), "size": raw(b.size), "side": "BUY"} for b in book.bids]
    asks = [{"price": float(a.price), "size": raw(a.size), "side": "SELL"} for a in book.asks]
    mid = (book.bids[0].price + book.asks[0].price) / 2 if book.bids and book.asks else (last_price or Decimal("0.5"))
    return {
        "bids": bids,
        "asks": asks,
        "tokenId": token_id(book.market, "YES"),
        "adjustedMidpoint": float(mid),
        "maxSpread": "0.05",
        "minSize": "1000",
        "lastTradePrice": _float(last_price),
    }


def profile_json(identity: Identity) -> dict[str, Any]:
    return {
        "id": identity.profile_id,
        "account": identity.address,
        "client": "eoa",
        "displayName": identity.account,
        "rank": {"id": 1, "name": "Bronze", "feeRateBps": identity.fee_rate_bps},
    }


def lmts_status(order: Order) -> str:
    if order.status is OrderStatus.CANCELED and order.filled == 0 and order.order_type is not OrderType.GTC:
        return "UNMATCHED"  # a FAK/FOK that met nothing
    return order.status.value


def synth_signed(order: Order, identity: Identity) -> dict[str, Any]:
    """The order fields of an order placed through the native API (it was never signed)."""
    side = lm.SIDE_BUY if order.side is Side.BUY else lm.SIDE_SELL
    maker, taker = lm.limit_amounts(side, order.price, order.size)
    return {
        "salt": 0,
        "maker": identity.address,
        "signer": identity.address,
        "taker": lm.ZERO_ADDRESS,
        "tokenId": token_id(order.market, order.outcome.value),
        "makerAmount": maker,
        "takerAmount": taker,
        "expiration": "0",
        "nonce": 0,
        "feeRateBps": identity.fee_rate_bps,
        "side": side,
        "signatureType": lm.SIGNATURE_EOA,
        "price": float(order.price),
        "signature": ZERO_SIGNATURE,
    }


@dataclass
class Delayed:
    """A marketable order accepted with a taker delay: matched at `eligible_at` (Limitless's DELAYED)."""

    order: Order  # as shown while it waits (LIVE, nothing filled)
    account: str
    request: OrderRequest
    eligible_at: float


# ------------------------------------------------------------------------------------ the surface


class LimitlessApi:
    """The handlers; each parses and checks, then calls one engine method."""

    def __init__(
        self,
        engine: Engine,
        identities: Identities,
        switches: Switches,
        *,
        chain_id: int = lm.CHAIN_ID_BASE,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.engine = engine
        self.identities = identities
        self.switches = switches
        self.chain_id = chain_id
        self.clock = clock
        self.delayed: dict[str, Delayed] = {}  # by order id, while they wait (memory only: a restart drops them)
        self.dropped: dict[str, Delayed] = {}  # delayed orders cancelled before they met the book (CANCELED)

    # -- auth --------------------------------------------------------------------------------

    def who(self, request: Request, body: bytes) -> Identity:
        """The authenticated account (API key or HMAC), or a 401."""
        token = request.headers.get("lmts-api-key")
        if token:
            account = self._hmac_account(request, token, body)
        else:
            key = request.headers.get("x-api-key", "")
            account = self.engine.account_for_key(key) if key else None
            if account is None:
                raise LmtsError(401, "Unauthorized: missing or invalid API key")
        identity = self.identities.of_account(account)
        if identity is None:
            raise LmtsError(401, "Unauthorized: this account has no Limitless profile")
        return identity

    def _hmac_account(self, request: Request, token: str, body: bytes) -> str:
        try:
            return self.identities.verify_hmac(
                token,
                request.headers.get("lmts-timestamp", ""),
                request.headers.get("lmts-signature", ""),
                method=request.method,
                targets=(_raw_target(request),),
                body=body.decode("utf-8", "replace"),
                now=self.clock(),
            )
        except lm.WireError as exc:
            raise LmtsError(401, f"Unauthorized: {exc}") from None

    def maintenance_check(self, *, order: dict[str, Any] | None = None) -> None:
        mode = self.switches.maintenance
        if not mode:
            return
        if mode == "disabled":
            raise LmtsError(503, "Trading is disabled for maintenance")
        if order is None:
            return  # cancels stay open in post_only and cancel_only
        if mode == "cancel_only":
            raise LmtsError(503, "Only cancels are accepted during maintenance (cancel_only)")
        if not (order.get("orderType") == "GTC" and order.get("postOnly") is True):
            raise LmtsError(503, "Only post-only orders are accepted during maintenance (post_only)")

    # -- market data -------------------------------------------------------------------------

    async def markets_active(self, request: Request, body: bytes) -> Response:
        limit = _q_int(request, "limit", 25, 1, 100)
        page = _q_int(request, "page", 1, 1, 10**6)
        active = [m for m in self.engine.markets() if m.status is not MarketStatus.RESOLVED]
        chunk = active[(page - 1) * limit : page * limit]
        return JSONResponse({"data": [market_json(m, self.chain_id) for m in chunk], "totalMarketsCount": len(active)})

    async def market(self, request: Request, body: bytes) -> Response:
        return JSONResponse(market_json(self.engine.market(_slug(request)), self.chain_id))

    async def orderbook(self, request: Request, body: bytes) -> Response:
        slug = _slug(request)
        market = self.engine.market(slug)
        return JSONResponse(book_json(self.engine.book(slug), market.last_price))

    async def maintenance(self, request: Request, body: bytes) -> Response:
        mode = self.switches.maintenance
        active = (
            []
            if not mode
            else [
                {
                    "target": "trading",
                    "mode": mode,
                    "message": f"paper venue: {mode}",
                    "startsAt": _iso(datetime.now(UTC)),
                    "endsAt": None,
                }
            ]
        )
        return JSONResponse({"active": active, "scheduled": []})

    # -- profiles ----------------------------------------------------------------------------

    async def profile(self, request: Request, body: bytes) -> Response:
        self.who(request, body)
        raw_address = request.path_params["address"]
        try:
            wanted = lm.address(raw_address, "address")
        except lm.WireError as exc:
            raise LmtsError(400, str(exc)) from None
        identity = self.identities.of_address(wanted)
        if identity is None:
            raise LmtsError(404, f"Profile {wanted} not found")
        return JSONResponse(profile_json(identity))

    async def profile_me(self, request: Request, body: bytes) -> Response:
        return JSONResponse(profile_json(self.who(request, body)))

    # -- orders ------------------------------------------------------------------------------

    async def create_order(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        data = _object(body)
        self.maintenance_check(order=data)
        status, reply = self._place(identity, data)
        return JSONResponse(reply, status_code=status)

    def _place(self, identity: Identity, data: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """Check and place one signed order; (HTTP status, OrderResponse)."""
        checked = self.check_order(identity, data)
        if self.switches.taker_delay_s > 0 and self._marketable(checked.request):
            return 201, self._delay(identity, checked)
        result = self.engine.place(identity.account, checked.request, taker_fee=self.fee_schedule(identity))
        if not result.created:
            prior = self.order_response(identity, result.order)
            raise LmtsError(409, "Order with this clientOrderId already exists", {"order": prior["order"]})
        self.identities.keep_signed(result.order.id, identity.account, checked.echo)
        reply = self.order_response(identity, result.order, fills=result.fills)
        if result.order.status is OrderStatus.REJECTED:
            code = 422 if "insufficient" in result.order.reason else 400
            raise LmtsError(code, f"Order rejected: {result.order.reason}", {"order": reply["order"]})
        taker = [f for f in result.fills if f.liquidity == "taker"]
        if taker and self.switches.fail_settlements > 0:  # the fault control: this trade never settles
            self.switches.fail_settlements -= 1
            self.engine.fail_settlement(identity.account, taker, self.fee_schedule(identity))
            self.identities.mark_failed(result.order.id)
            reply = self.order_response(identity, result.order, fills=result.fills)
        return 201, reply

    def _marketable(self, request: OrderRequest) -> bool:
        """Would the order take liquidity now (cross the book)? Post-only orders never do."""
        if request.post_only:
            return False
        book = self.engine.book(request.market, depth=1)
        if request.outcome is Outcome.YES:
            buy, price = request.side is Side.BUY, request.price
        else:  # a NO order at P is the opposite YES order at 1 - P
            buy, price = request.side is Side.SELL, 1 - request.price
        if buy:
            return bool(book.asks) and book.asks[0].price <= price
        return bool(book.bids) and book.bids[0].price >= price

    def _delay(self, identity: Identity, checked: CheckedOrder) -> dict[str, Any]:
        """Accept now as DELAYED; match at eligibleAt (a duplicate client order id is still a 409)."""
        request, account = checked.request, identity.account
        prior = self._find(identity, {"clientOrderId": request.client_order_id})
        if prior is not None:
            raise LmtsError(
                409,
                "Order with this clientOrderId already exists",
                {"order": self.order_response(identity, prior)["order"]},
            )
        order_id = "ord_d" + secrets.token_hex(6)
        now = datetime.now(UTC)
        eligible_at = self.clock() + self.switches.taker_delay_s
        order = Order(
            id=order_id,
            client_order_id=request.client_order_id,
            market=request.market,
            side=request.side,
            outcome=request.outcome,
            price=request.price,
            size=request.size,
            filled=Decimal(0),
            remaining=request.size,
            order_type=request.order_type,
            status=OrderStatus.LIVE,
            created_at=now,
            updated_at=now,
        )
        self.delayed[order_id] = Delayed(order, account, request, eligible_at)
        self.identities.keep_signed(order_id, account, checked.echo)
        asyncio.get_running_loop().call_later(self.switches.taker_delay_s, self._release, order_id, identity)
        reply = self.order_response(identity, order, fills=[])
        reply["execution"]["settlementStatus"] = "DELAYED"
        reply["execution"]["eligibleAt"] = _iso(datetime.fromtimestamp(eligible_at, UTC))
        return reply

    def _drop(self, order_id: str) -> bool:
        """Cancel a delayed order that is still waiting; False when there is none of that id."""
        waiting = self.delayed.pop(order_id, None)
        if waiting is None:
            return False
        gone = waiting.order.model_copy(
            update={
                "status": OrderStatus.CANCELED,
                "remaining": Decimal(0),
                "reason": "canceled by owner (before its taker delay ended)",
            }
        )
        self.dropped[order_id] = Delayed(gone, waiting.account, waiting.request, waiting.eligible_at)
        return True

    def _release(self, order_id: str, identity: Identity) -> None:
        """The taker delay is over: the order meets the book as it is now (a cancelled one is gone)."""
        waiting = self.delayed.pop(order_id, None)
        if waiting is None:
            return
        try:
            self.engine.place(
                waiting.account, waiting.request, taker_fee=self.fee_schedule(identity), order_id=order_id
            )
        except Exception:
            log.exception("delayed order %s could not be matched", order_id)

    def check_order(self, identity: Identity, data: dict[str, Any]) -> CheckedOrder:
        return check_order(self.engine, identity, data, chain_id=self.chain_id, now=self.clock())

    def order_response(self, identity: Identity, order: Order, *, fills: list[Fill] | None = None) -> dict[str, Any]:
        """{order, makerMatches, execution} for one order, its fills read when not given."""
        if fills is None:
            fills = [
                f
                for f in self.engine.fills(identity.account, market=order.market, limit=5000)
                if f.order_id == order.id
            ]
        signed = self.identities.signed([order.id]).get(order.id) or synth_signed(order, identity)
        return {
            "order": order_json(order, signed),
            "makerMatches": [
                {"id": f.id, "orderId": order.id, "matchedSize": str(raw(f.size)), "createdAt": _iso(f.created_at)}
                for f in fills
                if f.liquidity == "taker"
            ],
            "execution": self.execution(identity, order, fills),
        }

    def fee_schedule(self, identity: Identity) -> Callable[[Side, int], int]:
        """The account's price-dependent taker fee, in bps, for the engine to charge on each taker fill."""

        def bps(side: Side, price_ticks: int) -> int:
            code = lm.SIDE_BUY if side is Side.BUY else lm.SIDE_SELL
            return lm.taker_fee_bps(code, Decimal(price_ticks) / TICKS_PER_UNIT, identity.fee_rate_bps)

        return bps

    def execution(self, identity: Identity, order: Order, fills: list[Fill]) -> dict[str, Any]:
        taker = [f for f in fills if f.liquidity == "taker"]
        contracts = sum(raw(f.size) for f in fills)
        usd = sum(raw(f.size * f.price) for f in fills)
        schedule = self.fee_schedule(identity)
        rates = [schedule(f.side, int(f.price * TICKS_PER_UNIT)) for f in taker]
        # What the engine charged with fee_of(): milli-shares for a buy (raw units are micro), micro-USDC for a sell.
        pairs = list(zip(taker, rates, strict=True))
        contracts_fee = sum(fee_of(f.side, int(f.size * 1000), 0, r) * 1000 for f, r in pairs if f.side is Side.BUY)
        usd_fee = sum(fee_of(f.side, 0, raw(f.size * f.price), r) for f, r in pairs if f.side is Side.SELL)
        body: dict[str, Any] = {
            "matched": bool(fills),
            "settlementStatus": "FAILED" if fills and self.identities.failed(order.id) else self._settlement(fills),
            "feeRateBps": identity.fee_rate_bps,
            "effectiveFeeBps": _effective_bps(contracts_fee, usd_fee, taker),
            "totalsRaw": {
                "contractsGross": str(contracts),
                "contractsFee": str(contracts_fee),
                "contractsNet": str(contracts - contracts_fee),
                "usdGross": str(usd),
                "usdFee": str(usd_fee),
                "usdNet": str(usd - usd_fee),
            },
            "clientOrderId": order.client_order_id,
        }
        if taker:
            body["tradeEventId"] = taker[0].id
            body["txHash"] = tx_hash(taker[0].id)
        return body

    def _settlement(self, fills: list[Fill]) -> str:
        if not fills:
            return "UNMATCHED"
        newest = max(f.created_at for f in fills).timestamp()
        return "MINED" if self.clock() >= newest + self.engine.settle_lag else "MATCHED"

    async def user_orders(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        slug = _slug(request)
        self.engine.market(slug)
        wanted = _statuses(request)
        limit = _q_int(request, "limit", 100, 1, 1000)
        found = [o for o in self.engine.orders(identity.account, market=slug, limit=5000) if lmts_status(o) in wanted]
        if "LIVE" in wanted:  # accepted and waiting for their taker delay: live to their owner
            found += [
                d.order for d in self.delayed.values() if d.account == identity.account and d.order.market == slug
            ]
        signed = self.identities.signed([o.id for o in found[-limit:]])
        orders = [order_json(o, signed.get(o.id) or synth_signed(o, identity)) for o in found[-limit:]]
        return JSONResponse({"orders": orders})

    async def status_batch(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        items = _items(_object(body), "items")
        results = []
        for index, item in enumerate(items):
            order = self._find(identity, item)
            if order is None:
                results.append({"index": index, "status": "not_found", **item})
            else:
                results.append({"index": index, "status": "found", "data": self.order_response(identity, order)})
        return JSONResponse({"results": results})

    def _find(self, identity: Identity, ref: dict[str, str]) -> Order | None:
        for waiting in [*self.delayed.values(), *self.dropped.values()]:  # waiting for their delay, or dropped
            if waiting.account == identity.account and (
                ref.get("orderId") == waiting.order.id or ref.get("clientOrderId") == waiting.order.client_order_id
            ):
                return waiting.order
        if "orderId" in ref:
            try:
                return self.engine.order(identity.account, ref["orderId"])
            except NotFound:
                return None
        return self.engine.order_by_client_id(identity.account, ref["clientOrderId"])

    # -- cancels -----------------------------------------------------------------------------

    async def cancel_one(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        order_id = _ident(request.path_params["order_id"], "orderId")
        return JSONResponse(self._cancel(identity, {"orderId": order_id}))

    async def cancel_post(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        return JSONResponse(self._cancel(identity, _one_ref(_object(body))))

    def _cancel(self, identity: Identity, ref: dict[str, str]) -> dict[str, Any]:
        order = self._find(identity, ref)
        if order is None:
            raise LmtsError(404, "Order not found")
        if order.status is not OrderStatus.LIVE:
            raise LmtsError(404, f"Order not found or already {lmts_status(order).lower()}")
        if not self._drop(order.id):  # a delayed order is dropped before it meets the book
            self.engine.cancel(identity.account, order.id)
        return {"message": "Order canceled successfully", "orderId": order.id}

    async def cancel_all(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        slug = _slug(request)
        result = self.engine.cancel_all(identity.account, slug)
        waiting = [oid for oid, d in self.delayed.items() if d.account == identity.account and d.order.market == slug]
        for oid in waiting:
            self._drop(oid)
        canceled = [*waiting, *result.canceled]
        return JSONResponse({"message": "Orders canceled successfully", "canceled": canceled, "failed": []})

    async def batch_cancel(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        data = _object(body)
        refs = _id_list(data)
        canceled, failed = [], []
        for ref in refs:
            order = self._find(identity, ref)
            if order is None or order.status is not OrderStatus.LIVE:
                failed.append(
                    {
                        "orderId": ref.get("orderId") or (order.id if order else None),
                        **ref,
                        "reason": "ORDER_NOT_FOUND",
                        "message": "Order not found or already canceled",
                    }
                )
            else:
                canceled.append(order.id)
        at_book = [oid for oid in canceled if not self._drop(oid)]
        if at_book:
            self.engine.cancel_batch(identity.account, at_book)
        status = 207 if failed and canceled else 200  # all failed: still a 200 listing each failure
        return JSONResponse(
            {"message": f"{len(canceled)} orders canceled", "canceled": canceled, "failed": failed}, status_code=status
        )

    async def cancel_replace(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        result = self._cancel_replace(identity, _object(body))
        return JSONResponse(result, status_code=_cr_status(result))

    async def cancel_replace_batch(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        self.maintenance_check()
        operations = _object(body).get("operations")
        if not isinstance(operations, list) or not 1 <= len(operations) <= MAX_BATCH:
            raise LmtsError(400, f"operations: must be a list of 1 to {MAX_BATCH} cancel-replace requests")
        results = []
        for index, op in enumerate(operations):
            if not isinstance(op, dict):
                raise LmtsError(400, f"operations.{index}: must be an object")
            results.append({"index": index, **self._cancel_replace(identity, op)})
        status = 200 if all(_cr_status(r) == 200 for r in results) else 207
        return JSONResponse({"results": results}, status_code=status)

    def _cancel_replace(self, identity: Identity, data: dict[str, Any]) -> dict[str, Any]:
        """Cancel then place; STOP_ON_FAILURE leaves the replacement unattempted if the cancel fails."""
        mode = data.get("mode", "STOP_ON_FAILURE")
        if mode not in ("STOP_ON_FAILURE", "ALLOW_FAILURE"):
            raise LmtsError(400, "mode: must be STOP_ON_FAILURE or ALLOW_FAILURE")
        cancel_ref = _one_ref(data.get("cancel") if isinstance(data.get("cancel"), dict) else {})
        replacement = data.get("replacement")
        if not isinstance(replacement, dict):
            raise LmtsError(400, "replacement: must be an object")
        self.check_order(identity, replacement)  # a malformed replacement is a 400 before anything is cancelled
        self.maintenance_check(order=replacement)
        try:
            cancelled = self._cancel(identity, cancel_ref)
            cancel = {"status": "SUCCESS", "orderId": cancelled["orderId"], **_cid(cancel_ref)}
        except LmtsError as exc:
            cancel = {"status": "FAILURE", "error": {"code": "ORDER_NOT_FOUND", "message": exc.message}}
            if mode == "STOP_ON_FAILURE":
                return {"cancel": cancel, "replacement": {"status": "NOT_ATTEMPTED"}}
        try:
            _, placed = self._place(identity, replacement)
            return {"cancel": cancel, "replacement": {"status": "SUCCESS", "data": placed}}
        except LmtsError as exc:
            return {
                "cancel": cancel,
                "replacement": {"status": "FAILURE", "error": {"code": _code(exc), "message": exc.message}},
            }

    # -- portfolio ---------------------------------------------------------------------------

    async def positions(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        by_market: dict[str, dict[Outcome, Position]] = {}
        for pos in self.engine.positions(identity.account):
            by_market.setdefault(pos.market, {})[pos.outcome] = pos
        clob = [self._clob_position(slug, held) for slug, held in sorted(by_market.items())]
        return JSONResponse({"rewards": {}, "points": 0, "accumulativePoints": 0, "amm": [], "clob": clob, "group": []})

    def _clob_position(self, slug: str, held: dict[Outcome, Position]) -> dict[str, Any]:
        market = self.engine.market(slug)
        sides, balances = {}, {}
        for outcome, key in ((Outcome.YES, "yes"), (Outcome.NO, "no")):
            pos = held.get(outcome)
            shares = pos.shares if pos else Decimal(0)
            cost = shares * (pos.avg_price if pos else Decimal(0))
            mark = pos.mark_price if pos and pos.mark_price is not None else (pos.avg_price if pos else Decimal(0))
            value = shares * mark
            sides[key] = {
                "cost": str(raw(cost)),
                "fillPrice": str(raw(pos.avg_price if pos else Decimal(0))),
                "realisedPnl": "0",
                "unrealizedPnl": str(raw(value) - raw(cost)),
                "marketValue": str(raw(value)),
            }
            balances[key] = str(raw(shares))
        return {
            "market": {
                "slug": slug,
                "title": market.title,
                "id": market_id(slug),
                "position_ids": [token_id(slug, "YES"), token_id(slug, "NO")],
                "status": LMTS_MARKET_STATUS[market.status],
                "deadline": _iso(market.close_time),
            },
            "positions": sides,
            "tokensBalance": balances,
            "orders": {},
            "latestTrade": {},
            "rewards": {},
        }

    async def history(self, request: Request, body: bytes) -> Response:
        identity = self.who(request, body)
        limit = _q_int(request, "limit", 20, 1, 100)
        start = _cursor(request.query_params.get("cursor", ""))
        fills = list(reversed(self.engine.fills(identity.account, limit=5000)))  # newest first
        page = fills[start : start + limit]
        more = start + limit < len(fills)
        data = [history_json(f, self.engine.market(f.market).title) for f in page]
        next_cursor = base64.urlsafe_b64encode(f"o:{start + limit}".encode()).decode() if more else None
        return JSONResponse({"data": data, "nextCursor": next_cursor})

    # -- routing -----------------------------------------------------------------------------

    def routes(self) -> list[Route]:
        r = self._route
        return [
            r("/markets/active", self.markets_active),
            r("/markets/{slug}", self.market),
            r("/markets/{slug}/orderbook", self.orderbook),
            r("/markets/{slug}/user-orders", self.user_orders),
            r("/maintenance/status", self.maintenance),
            r("/profiles/me", self.profile_me),
            r("/profiles/{address}", self.profile),
            r("/orders", self.create_order, "POST"),
            r("/orders/cancel", self.cancel_post, "POST"),
            r("/orders/batch-cancel", self.batch_cancel, "POST"),
            r("/orders/status/batch", self.status_batch, "POST"),
            r("/orders/cancel-replace", self.cancel_replace, "POST"),
            r("/orders/cancel-replace/batch", self.cancel_replace_batch, "POST"),
            r("/orders/all/{slug}", self.cancel_all, "DELETE"),
            r("/orders/{order_id}", self.cancel_one, "DELETE"),
            r("/portfolio/positions", self.positions),
            r("/portfolio/history", self.history),
        ]

    def _route(self, path: str, handler: Callable[[Request, bytes], Awaitable[Response]], method: str = "GET") -> Route:
        async def endpoint(request: Request) -> Response:
            who = request.headers.get("lmts-api-key") or request.headers.get("x-api-key") or _client(request)
            limit = self.switches.rate_limit
            if limit is not None and not limit.admit(who):
                return lmts_error(
                    429,
                    "Too Many Requests: at most 2 requests in flight, 300 ms apart",
                    headers={"Retry-After": str(limit.retry_after_s)},
                )
            try:
                body = await _capped_body(request)
                return await handler(request, body)
            except LmtsError as exc:
                return lmts_error(exc.status, exc.message, exc.extra, exc.headers)
            except (InvalidInput, lm.WireError) as exc:
                return lmts_error(400, str(exc))
            except NotFound as exc:
                return lmts_error(404, str(exc))
            finally:
                if limit is not None:
                    limit.done(who)

        return Route(path, endpoint, methods=[method])


# ------------------------------------------------------------------------------------ checking an order


@dataclass(frozen=True, slots=True)
class CheckedOrder:
    request: OrderRequest
    echo: dict[str, Any]  # the signed order fields as sent, for showing back


def check_order(engine: Engine, identity: Identity, data: dict[str, Any], *, chain_id: int, now: float) -> CheckedOrder:
    """Every check of section 12 point 8, in order; the first failure is a clear 4xx."""
    order = data.get("order")
    if not isinstance(order, dict):
        raise LmtsError(400, "order: must be an object")
    slug = parse_slug(data.get("marketSlug"), "marketSlug")
    market = engine.market(slug)
    lm.typed_data(order, chain_id=chain_id, verifying_contract=exchange_address(slug))  # every signed field, typed
    order_type = data.get("orderType")
    if order_type not in lm.ORDER_TYPES:
        raise LmtsError(400, "orderType: must be GTC, FAK or FOK")
    post_only = data.get("postOnly", False)
    if not isinstance(post_only, bool) or (post_only and order_type != "GTC"):
        raise LmtsError(400, "postOnly: must be a boolean, and only GTC orders may be post-only")
    outcome = {token_id(slug, "YES"): Outcome.YES, token_id(slug, "NO"): Outcome.NO}.get(order.get("tokenId"))
    if not isinstance(order.get("tokenId"), str) or outcome is None:
        raise LmtsError(400, "order.tokenId: is not a token of this market (a decimal string)")
    if data.get("ownerId") != identity.profile_id or isinstance(data.get("ownerId"), bool):
        raise LmtsError(403, "ownerId: does not match the authenticated profile")
    for name in ("maker", "signer"):
        if lm.address(order.get(name), f"order.{name}") != identity.address:
            raise LmtsError(403, f"order.{name}: is not the authenticated account's wallet")
    if lm.address(order.get("taker"), "order.taker") != lm.ZERO_ADDRESS:
        raise LmtsError(400, "order.taker: must be the zero address (public order)")
    signer = lm.recover_signer(
        order, order.get("signature"), chain_id=chain_id, verifying_contract=exchange_address(slug)
    )
    if signer != identity.address:
        raise LmtsError(
            401,
            "order.signature: does not recover to order.signer under this market's "
            "verifying contract (venue.exchange) and chain id",
        )
    if order.get("signatureType") != lm.SIGNATURE_EOA:
        raise LmtsError(400, "order.signatureType: only 0 (EOA) is supported")
    if lm.uint(order["feeRateBps"], "order.feeRateBps") != identity.fee_rate_bps:
        raise LmtsError(400, f"FEE_RATE_MISMATCH: order.feeRateBps must be {identity.fee_rate_bps} for this account")
    expiration = lm.uint(order["expiration"], "order.expiration")
    if expiration and expiration <= now:
        raise LmtsError(400, "order.expiration: is in the past")
    side_code = order.get("side")
    if side_code not in (lm.SIDE_BUY, lm.SIDE_SELL):
        raise LmtsError(400, "order.side: must be 0 (BUY) or 1 (SELL)")
    side = Side.BUY if side_code == lm.SIDE_BUY else Side.SELL
    maker_amount, taker_amount = (
        lm.uint(order["makerAmount"], "order.makerAmount"),
        lm.uint(order["takerAmount"], "order.takerAmount"),
    )
    if order_type == "FOK":
        price, size = _fok_terms(engine, slug, side, outcome, maker_amount, taker_amount, order)
    else:
        price, size = _limit_terms(side_code, order, maker_amount, taker_amount)
    cid = data.get("clientOrderId")
    client_order_id = parse_identifier(cid, "clientOrderId") if cid is not None else _signature_id(order["signature"])
    if market.status is MarketStatus.RESOLVED:
        raise LmtsError(400, "marketSlug: the market is resolved")
    request = OrderRequest(
        market=slug,
        side=side,
        outcome=outcome,
        price=price,
        size=size,
        order_type=OrderType(order_type),
        client_order_id=client_order_id,
        post_only=post_only,
    )
    return CheckedOrder(request, {name: _plain(value) for name, value in order.items()})


def _plain(value: Any) -> Any:
    """A JSON value as JSON can carry it back (the strict parser reads every number as a Decimal)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    return value


def _limit_terms(side: int, order: dict[str, Any], maker_amount: int, taker_amount: int) -> tuple[Decimal, Decimal]:
    """GTC/FAK: the price field and the signed amounts must agree exactly as the SDK builds them."""
    raw_price = order.get("price")
    if isinstance(raw_price, bool) or not isinstance(raw_price, (Decimal, int, str)):
        raise LmtsError(400, "order.price: is required for GTC and FAK orders (a number)")
    try:
        price = Decimal(str(raw_price))
    except ArithmeticError:
        raise LmtsError(400, "order.price: must be a number") from None
    shares = lm.shares_from_amounts(side, maker_amount, taker_amount)
    if shares % lm.SHARE_STEP_RAW or shares <= 0:
        raise LmtsError(400, "order amounts: shares must be a positive multiple of 0.001 (1000 raw units)")
    expected = lm.limit_amounts(side, price, lm.decimal_of(shares))
    if expected != (maker_amount, taker_amount):
        raise LmtsError(
            400,
            f"order amounts: makerAmount/takerAmount {maker_amount}/{taker_amount} do not match "
            f"price {price} for {lm.decimal_of(shares)} shares (expected {expected[0]}/{expected[1]})",
        )
    return price, lm.decimal_of(shares)


def _fok_terms(
    engine: Engine, slug: str, side: Side, outcome: Outcome, maker_amount: int, taker_amount: int, order: dict[str, Any]
) -> tuple[Decimal, Decimal]:
    """FOK: takerAmount is 1 and there is no price; BUY spends makerAmount USDC, SELL sells makerAmount shares."""
    if taker_amount != 1 or "price" in order and order["price"] is not None:
        raise LmtsError(400, "FOK orders carry takerAmount 1 and no price")
    if maker_amount <= 0:
        raise LmtsError(400, "order.makerAmount: must be positive")
    if side is Side.SELL:
        if maker_amount % lm.SHARE_STEP_RAW:
            raise LmtsError(400, "order.makerAmount: shares must be a multiple of 0.001 (1000 raw units)")
        return lm.TICK, lm.decimal_of(maker_amount)
    levels = _asks_for(engine.book(slug, depth=1000), outcome)
    budget, shares, limit = Decimal(maker_amount) / lm.SCALE, Decimal(0), lm.TICK
    for price, size in levels:
        if budget < price * Decimal("0.001"):
            break
        take = min(size, (budget / price).quantize(Decimal("0.001"), rounding=ROUND_FLOOR))
        shares, budget, limit = shares + take, budget - take * price, price
        if take < size:
            break
    if shares <= 0 or budget >= limit * Decimal("0.001"):
        # The book cannot absorb the whole amount: one step more than it holds up to the last price,
        # so the engine kills the order unfilled, as Limitless kills a FOK that cannot fill completely.
        return limit, shares + Decimal("0.001")
    return limit, shares


def _asks_for(book: OrderBook, outcome: Outcome) -> list[tuple[Decimal, Decimal]]:
    """What a buyer of `outcome` can lift, cheapest first (a NO ask at q is a YES bid at 1-q)."""
    if outcome is Outcome.YES:
        return [(a.price, a.size) for a in book.asks]
    return [(1 - b.price, b.size) for b in book.bids]


def _signature_id(signature: Any) -> str:
    """The client order id of an order sent without one: the same signed order twice is one order."""
    if not isinstance(signature, str):
        raise LmtsError(400, "order.signature: is required")
    return "sig:" + keccak(signature.encode()).hex()[:40]


def order_json(order: Order, signed: dict[str, Any]) -> dict[str, Any]:
    return {
        **signed,
        "id": order.id,
        "status": lmts_status(order),
        "createdAt": _iso(order.created_at),
        "updatedAt": _iso(order.updated_at),
        "marketSlug": order.market,
        "orderType": order.order_type.value,
        "clientOrderId": None if order.client_order_id.startswith("sig:") else order.client_order_id,
        "originalSize": str(raw(order.size)),
        "filledSize": str(raw(order.filled)),
        "remainingSize": str(raw(order.remaining)),
        "reason": order.reason or None,
    }


def history_json(fill: Fill, title: str) -> dict[str, Any]:
    return {
        "blockTimestamp": int(fill.created_at.timestamp()),
        "collateralAmount": str(raw(fill.size * fill.price)),
        "market": {"slug": fill.market, "title": title},
        "outcomeIndex": 0 if fill.outcome is Outcome.YES else 1,
        "outcomeTokenAmount": str(raw(fill.size)),
        "outcomeTokenPrice": str(fill.price),
        "strategy": "Buy" if fill.side is Side.BUY else "Sell",
        "transactionHash": tx_hash(fill.id),
    }


def tx_hash(fill_id: str) -> str:
    return "0x" + keccak(f"academy-paper-tx:{fill_id}".encode()).hex()


# ------------------------------------------------------------------------------------ parsing


async def _capped_body(request: Request) -> bytes:
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
    if size > MAX_BODY:
        raise LmtsError(413, f"body: is too large (at most {MAX_BODY} bytes)")
    return b"".join(chunks)


def _object(body: bytes) -> dict[str, Any]:
    data = load_json(body, max_bytes=MAX_BODY) if body.strip() else {}
    if not isinstance(data, dict):
        raise LmtsError(400, "body: must be a JSON object")
    return data


def _raw_target(request: Request) -> str:
    """The path and query exactly as the client sent them (what the HMAC signs)."""
    path = request.scope.get("raw_path") or request.scope["path"].encode()
    query = request.scope.get("query_string", b"")
    target = path.decode("latin-1")
    return f"{target}?{query.decode('latin-1')}" if query else target


def _client(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def _slug(request: Request) -> str:
    return parse_slug(request.path_params["slug"], "slug")


def _ident(value: Any, name: str) -> str:
    return parse_identifier(value, name)


def _q_int(request: Request, name: str, default: int, low: int, high: int) -> int:
    value = request.query_params.get(name)
    return default if value is None or value == "" else parse_int(value, name, low=low, high=high)


def _statuses(request: Request) -> set[str]:
    values = request.query_params.getlist("statuses") or ["LIVE"]
    wanted = {part.strip() for value in values for part in value.split(",") if part.strip()}
    if not wanted <= SDK_STATUSES:
        raise LmtsError(400, f"statuses: must be among {', '.join(sorted(SDK_STATUSES))}")
    return wanted


def _cursor(value: str) -> int:
    if not value:
        return 0
    try:
        kind, _, offset = base64.urlsafe_b64decode(value.encode()).decode().partition(":")
        number = int(offset)
    except (ValueError, UnicodeDecodeError):
        raise LmtsError(400, "cursor: is not a cursor this venue issued") from None
    if kind != "o" or number < 0:
        raise LmtsError(400, "cursor: is not a cursor this venue issued")
    return number


def _one_ref(data: dict[str, Any]) -> dict[str, str]:
    """Exactly one of orderId / clientOrderId."""
    given = {k: data[k] for k in ("orderId", "clientOrderId") if data.get(k) is not None}
    if len(given) != 1:
        raise LmtsError(400, "exactly one of orderId or clientOrderId is required")
    name, value = next(iter(given.items()))
    return {name: _ident(value, name)}


def _items(data: dict[str, Any], name: str) -> list[dict[str, str]]:
    items = data.get(name)
    if not isinstance(items, list) or not 1 <= len(items) <= MAX_BATCH:
        raise LmtsError(400, f"{name}: must be a list of 1 to {MAX_BATCH} items")
    return [_one_ref(item if isinstance(item, dict) else {}) for item in items]


def _id_list(data: dict[str, Any]) -> list[dict[str, str]]:
    """batch-cancel's `orderIds` or `clientOrderIds` (one of them, at most 50)."""
    given = [k for k in ("orderIds", "clientOrderIds") if data.get(k) is not None]
    if len(given) != 1:
        raise LmtsError(400, "exactly one of orderIds or clientOrderIds is required")
    name = given[0]
    values = data[name]
    if not isinstance(values, list) or not 1 <= len(values) <= MAX_BATCH:
        raise LmtsError(400, f"{name}: must be a list of 1 to {MAX_BATCH} ids")
    key = name[:-1]
    return [{key: _ident(v, name)} for v in values]


def _cid(ref: dict[str, str]) -> dict[str, str]:
    return {"clientOrderId": ref["clientOrderId"]} if "clientOrderId" in ref else {}


def _cr_status(result: dict[str, Any]) -> int:
    """200 when both legs succeeded, 409 when a failed cancel stopped the replacement, else 207."""
    cancel_ok = result["cancel"]["status"] == "SUCCESS"
    replacement = result["replacement"]["status"]
    if cancel_ok and replacement == "SUCCESS":
        return 200
    return 409 if replacement == "NOT_ATTEMPTED" else 207


def _code(exc: LmtsError) -> str:
    return (
        exc.message.split(":", 1)[0]
        if exc.message.startswith("FEE_RATE_MISMATCH")
        else ERRORS.get(exc.status, "ERROR").upper().replace(" ", "_")
    )
