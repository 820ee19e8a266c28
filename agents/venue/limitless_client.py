"""`LimitlessVenue`: the `Venue` interface over Limitless Exchange's own REST API (httpx, synchronous).

The live adapter. It follows Limitless as documented (`../shared/limitless-api.md`), not our
simulator; the paper venue serves the same surface at its root so the tests run it for real.

1. Auth on every request: HMAC (`lmts-api-key`, `lmts-timestamp`, `lmts-signature`) over the exact
   path, query and body bytes sent, with a fresh timestamp on every attempt; else `X-API-Key`.
2. Orders are built and signed here (never by the SDK): the profile gives `ownerId` and
   `rank.feeRateBps`, the market gives `venue.exchange` (the EIP-712 verifying contract) and the
   token ids; the signature is recovered locally before anything is sent.
3. Idempotency: every order carries `clientOrderId`. A reply that may have been lost (timeout,
   connection error, 5xx, 429) is looked up by that id before any resend; a 409 is "already
   accepted" and is answered with the order found. An order is never sent blind a second time.
4. A refusal that points at cached data (`FEE_RATE_MISMATCH`, a signature / verifying-contract
   refusal) refetches the profile and the market once, re-signs and sends once more.
5. A client-side limiter (at most `max_in_flight` requests at once, `min_interval_s` between
   starts; thread-safe, for the halt path) and `Retry-After` on 429. Only idempotent calls are
   retried, and only on 429, 5xx, connection errors and timeouts.
6. No REST balance exists: USDC and on-chain shares come from a chain reader (`chain`).
7. Orders are listed per market only. `cancel_all()` covers every active market (all pages) plus
   every market this process used, and raises `CancelIncomplete` if any could not be covered.
   Account-wide reads (`orders()`, `balance()`) scan every active market at most every
   `rescan_s` and the markets known to hold our orders in between. Start-up: call
   `check_clock()` once; keep one client per process (its caches and limiter are per instance).

Settlement: Limitless answers "received", not "settled". `LimitlessOrder.settlement` carries
`execution.settlementStatus` where the venue gives it (POST /orders, /orders/status/batch):
only `MINED`/`CONFIRMED` (`.settled`) shares are on chain and safe to sell; `MATCHED` shares may
still fail. Fills come from /portfolio/history, which Limitless indexes from the chain.

This is the one outbound HTTP module for the Limitless peer (STYLE.md rule 8).
"""

from __future__ import annotations

import json
import random
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import quote, urlencode

import httpx
from eth_account import Account

from agents.venue import limitless as lm
from agents.venue.port import (
    VenueAuthError,
    VenueError,
    VenueNotFound,
    VenueRejected,
    VenueTimeout,
    VenueUnavailable,
)
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
from agents.venue.tls import tls_context

MAX_CLOCK_SKEW_S = 10.0  # HMAC allows 30 s; refuse to start well inside that
MAX_RETRY_AFTER_S = 30.0  # a longer Retry-After fails the call now rather than stall a halt
MARKETS_PAGE = 25  # the SDK documents 25 as the page maximum of /markets/active
HISTORY_PAGE = 100  # /portfolio/history: limit 1..100
HISTORY_MAX_PAGES = 200
USER_ORDERS_LIMIT = 1000
BATCH = 50  # /orders/status/batch and /orders/batch-cancel take at most 50 items
SETTLED = frozenset({"MINED", "CONFIRMED"})
WIRE_STATUSES = {
    OrderStatus.LIVE: ("LIVE",),
    OrderStatus.MATCHED: ("MATCHED",),
    OrderStatus.CANCELED: ("CANCELED", "UNMATCHED"),
}
ALL_WIRE_STATUSES = ("LIVE", "MATCHED", "CANCELED", "UNMATCHED")
USER_AGENT = "academy-limitless/1"
_HEX_KEY = re.compile(r"(0x)?[0-9a-fA-F]{64}")
_HEADER_VALUE = re.compile(r"[!-~]{1,400}")


class LimitlessOrder(Order):
    """An `Order` plus what Limitless says about settlement.

    `settlement` is `execution.settlementStatus` (UNMATCHED, MATCHED, MINED, CONFIRMED, RETRYING,
    FAILED, DELAYED), or "" when the answer carried none (the user-orders list does not).
    """

    settlement: str = ""

    @property
    def settled(self) -> bool:
        """True once the shares of this order's fills are on chain (safe to sell)."""
        return self.settlement in SETTLED


class VenueThrottled(VenueUnavailable):
    """429: too many requests; `retry_after` is the wait the venue asked for (seconds), if any."""

    def __init__(self, message: str, retry_after: float | None) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class CancelIncomplete(VenueError):
    """An account-wide cancel that could not cover every market: orders may still rest.

    `result` holds what was cancelled before giving up, `problems` what went wrong where.
    """

    def __init__(self, message: str, result: CancelResult, problems: list[str]) -> None:
        super().__init__(message)
        self.result = result
        self.problems = problems


class ChainBalances(Protocol):
    """What the adapter needs from a chain reader (agents/venue/chain_reader.py has this shape)."""

    def usdc(self) -> Decimal: ...
    def shares(self, token_ids: list[str]) -> dict[str, Decimal]: ...


@dataclass(frozen=True, slots=True)
class Profile:
    owner_id: int
    fee_rate_bps: int


@dataclass(frozen=True, slots=True)
class MarketKeys:
    """What signing an order needs from GET /markets/{slug}."""

    exchange: str  # venue.exchange: the EIP-712 verifying contract of this market
    yes: str
    no: str
    collateral_fee: bool  # venue.feeModuleType == COLLATERAL: orders carry feeRateBps 0

    def token(self, outcome: Outcome) -> str:
        return self.yes if outcome is Outcome.YES else self.no

    def outcome(self, token_id: str) -> Outcome | None:
        return {self.yes: Outcome.YES, self.no: Outcome.NO}.get(token_id)


@dataclass(eq=False)
class _Failure(Exception):
    """One failed attempt: the error to raise, and whether (and when) the call may be tried again."""

    error: VenueError
    retryable: bool
    status: int | None = None
    retry_after: float | None = None
    body: Any = None


# ------------------------------------------------------------------------------------ the limiter


class Limiter:
    """At most `max_in_flight` requests at once, starts at least `min_interval_s` apart. Thread-safe."""

    def __init__(self, max_in_flight: int, min_interval_s: float) -> None:
        if max_in_flight < 1 or min_interval_s < 0:
            raise ValueError("limiter: max_in_flight must be >= 1 and min_interval_s >= 0")
        self.max_in_flight = max_in_flight
        self.min_interval_s = min_interval_s
        self._cond = threading.Condition()
        self._in_flight = 0
        self._next_start = 0.0

    @contextmanager
    def slot(self) -> Iterator[None]:
        with self._cond:
            while True:
                now = time.monotonic()
                if self._in_flight < self.max_in_flight and now >= self._next_start:
                    break
                full = self._in_flight >= self.max_in_flight
                self._cond.wait(None if full else self._next_start - now)
            self._in_flight += 1
            self._next_start = now + self.min_interval_s
        try:
            yield
        finally:
            with self._cond:
                self._in_flight -= 1
                self._cond.notify_all()


# ------------------------------------------------------------------------------------ the client


class LimitlessVenue:
    """`Venue` over the Limitless REST API, for one wallet."""

    def __init__(
        self,
        base_url: str,
        *,
        private_key: str,
        api_key: str | None = None,
        hmac_token_id: str | None = None,
        hmac_secret: str | None = None,
        chain_id: int = lm.CHAIN_ID_BASE,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
        max_in_flight: int = 2,
        min_interval_s: float = 0.3,
        retries: int = 3,
        backoff: float = 0.2,
        max_backoff: float = 5.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
        chain: ChainBalances | None = None,
        rescan_s: float = 300.0,
    ) -> None:
        self._key = _private_key(private_key)
        self.address: str = Account.from_key(self._key).address
        self._token, self._secret, self._api_key = _credentials(api_key, hmac_token_id, hmac_secret)
        self.chain_id = chain_id
        self.retries, self.backoff, self.max_backoff = retries, backoff, max_backoff
        self.chain = chain
        self.rescan_s = rescan_s
        self._sleep, self._clock = sleep, clock
        self._limiter = Limiter(max_in_flight, min_interval_s)
        self._http = httpx.Client(
            base_url=base_url.rstrip("/"),
            timeout=timeout,
            transport=transport,
            headers={"Accept": "application/json", "User-Agent": USER_AGENT},
            verify=tls_context(),
        )
        self._lock = threading.Lock()
        self._profile: Profile | None = None
        self._keys: dict[str, MarketKeys] = {}
        self._requests: dict[str, OrderRequest] = {}  # what we sent, by client order id (fills gaps in answers)
        self._used_markets: set[str] = set()  # markets where this process placed or saw our orders
        self._scanned_at: float | None = None  # time.monotonic() of the last scan of every active market

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> LimitlessVenue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- transport ---------------------------------------------------------------------------

    def _auth(self, method: str, target: str, body: str) -> dict[str, str]:
        """The auth headers of one attempt; an HMAC timestamp is fresh each time."""
        if self._token is None or self._secret is None:
            return {"X-API-Key": self._api_key or ""}
        stamp = lm.hmac_timestamp(datetime.fromtimestamp(self._clock(), UTC))
        return {
            "lmts-api-key": self._token,
            "lmts-timestamp": stamp,
            "lmts-signature": lm.hmac_signature(self._secret, stamp, method, target, body),
        }

    def _send(self, method: str, path: str, params: dict[str, Any] | None, body: Any) -> httpx.Response:
        """One attempt through the limiter; transport failures become a `_Failure`."""
        url = path + ("?" + urlencode(params, doseq=True) if params else "")
        text = "" if body is None else json.dumps(body, separators=(",", ":"), ensure_ascii=False)
        headers = {"Content-Type": "application/json"} if body is not None else {}
        request = self._http.build_request(method, url, content=text.encode() if body is not None else None)
        request.headers.update(headers)
        try:
            with self._limiter.slot():
                # Signed once the slot is ours (a wait must not age the timestamp), over what goes on the
                # wire: the raw path and query of the built request and the exact body bytes.
                request.headers.update(self._auth(method, request.url.raw_path.decode("ascii"), text))
                return self._http.send(request)
        except httpx.TimeoutException as exc:
            error: VenueError = VenueTimeout(f"{method} {path}: no answer within the timeout ({type(exc).__name__})")
            raise _Failure(error, True) from exc
        except httpx.TransportError as exc:
            error = VenueUnavailable(f"{method} {path}: connection failed ({type(exc).__name__}: {exc})")
            raise _Failure(error, True) from exc

    def _once(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        accept: tuple[int, ...] = (),
    ) -> Any:
        """One attempt, answered as JSON; an error status becomes a `_Failure`."""
        response = self._send(method, path, params, body)
        if response.status_code < 400 or response.status_code in accept:
            try:
                return response.json()
            except ValueError:
                error = VenueUnavailable(f"{method} {path}: answer was not JSON (status {response.status_code})")
                raise _Failure(error, True, response.status_code) from None
        raise _failure_of(response, method, path, self._clock())

    def _call(
        self,
        method: str,
        path: str,
        *,
        params: dict[str, Any] | None = None,
        body: Any = None,
        accept: tuple[int, ...] = (),
    ) -> Any:
        """An idempotent call: retried on 429 (after Retry-After), 5xx, connection errors and timeouts."""
        for attempt in range(self.retries + 1):
            try:
                return self._once(method, path, params=params, body=body, accept=accept)
            except _Failure as failure:
                if not failure.retryable or attempt == self.retries or not self._pause(attempt, failure):
                    raise failure.error from None
        raise AssertionError("unreachable")

    def _pause(self, attempt: int, failure: _Failure) -> bool:
        """Wait before the next attempt: the venue's Retry-After, else jittered backoff. False: give up."""
        if failure.retry_after is not None:
            if failure.retry_after > MAX_RETRY_AFTER_S:
                return False
            self._sleep(max(failure.retry_after, 0.0))
            return True
        delay = min(self.backoff * 2**attempt, self.max_backoff)
        self._sleep(delay * (0.5 + random.random() / 2))
        return True

    # -- start-up ----------------------------------------------------------------------------

    def check_clock(self) -> float:
        """Compare the venue's `Date` header with our clock; raise VenueError beyond 10 s. Return the offset.

        Call once at start-up: HMAC timestamps are refused more than 30 s off the server's time.
        """
        for attempt in range(self.retries + 1):
            before = self._clock()
            try:
                response = self._send("GET", "/maintenance/status", None, None)
            except _Failure as failure:
                if attempt == self.retries or not self._pause(attempt, failure):
                    raise failure.error from None
                continue
            return _clock_offset(response, (before + self._clock()) / 2)
        raise AssertionError("unreachable")

    # -- cached account and market data --------------------------------------------------------

    def profile(self, *, refresh: bool = False) -> Profile:
        """ownerId and feeRateBps from GET /profiles/{address}, read once (again when `refresh`)."""
        with self._lock:
            if self._profile is not None and not refresh:
                return self._profile
        data = self._call("GET", f"/profiles/{_seg(self.address)}")
        with _reading("GET /profiles"):
            rank = data.get("rank") or {}
            fee = rank.get("feeRateBps", lm.DEFAULT_FEE_RATE_BPS) if isinstance(rank, dict) else None
            profile = Profile(owner_id=_int(data["id"]), fee_rate_bps=_int(fee))
        with self._lock:
            self._profile = profile
        return profile

    def market_keys(self, slug: str, *, refresh: bool = False) -> MarketKeys:
        """venue.exchange and the token ids of a market, cached per slug."""
        with self._lock:
            if slug in self._keys and not refresh:
                return self._keys[slug]
        data = self._call("GET", f"/markets/{_seg(slug)}")
        return self._remember(slug, data)

    def _remember(self, slug: str, data: dict[str, Any]) -> MarketKeys:
        with _reading(f"GET /markets/{slug}"):
            venue, tokens = data.get("venue") or {}, data.get("tokens") or {}
            if not venue.get("exchange"):
                raise VenueUnavailable(f"market {slug}: no venue.exchange, so no order can be signed for it")
            keys = MarketKeys(
                exchange=lm.address(venue["exchange"], "venue.exchange"),
                yes=str(tokens["yes"]),
                no=str(tokens["no"]),
                collateral_fee=venue.get("feeModuleType") == "COLLATERAL",
            )
        with self._lock:
            self._keys[slug] = keys
        return keys

    # -- market data -------------------------------------------------------------------------

    def markets(self) -> list[Market]:
        listed = self._active_markets(strict=False)
        with _reading("GET /markets/active"):
            return [_market_of(m) for m in listed]

    def market(self, slug: str) -> Market:
        data = self._call("GET", f"/markets/{_seg(slug)}")
        with _reading(f"GET /markets/{slug}"):
            return _market_of(data)

    def book(self, slug: str) -> OrderBook:
        data = self._call("GET", f"/markets/{_seg(slug)}/orderbook")
        with _reading(f"GET /markets/{slug}/orderbook"):
            bids = sorted((_level(b) for b in data.get("bids") or []), key=lambda lvl: -lvl.price)
            asks = sorted((_level(a) for a in data.get("asks") or []), key=lambda lvl: lvl.price)
            return OrderBook(market=slug, bids=bids, asks=asks)

    def _active_markets(self, *, strict: bool) -> list[dict[str, Any]]:
        """Every page of /markets/active. `strict`: raise unless the pages add up to totalMarketsCount."""
        found = self._list_pages(strict=strict)
        if strict:  # pages can shift while a market closes mid-listing: a second pass must add nothing
            again = self._list_pages(strict=True)
            missed = {slug: m for slug, m in again.items() if slug not in found}
            found.update(missed)
        return list(found.values())

    def _list_pages(self, *, strict: bool) -> dict[str, dict[str, Any]]:
        """One pass over /markets/active (newest first, a stable order), group markets' children included.
        `strict`: raise unless the pages add up to totalMarketsCount, which must be there."""
        found: dict[str, dict[str, Any]] = {}
        total: int | None = None
        for page in range(1, 10_000):
            params = {"limit": MARKETS_PAGE, "page": page, "sortBy": "newest"}
            data = self._call("GET", "/markets/active", params=params)
            with _reading("GET /markets/active"):
                items = list(data["data"])
                count = data.get("totalMarketsCount")
                total = int(count) if isinstance(count, int) and not isinstance(count, bool) else None
                fresh = {m["slug"]: m for m in _with_children(items) if m["slug"] not in found}
            found.update(fresh)
            if not items or total is None or page * MARKETS_PAGE >= total:
                break
        if strict and total is None:
            raise VenueUnavailable("GET /markets/active: no totalMarketsCount: cannot tell all markets were listed")
        return found

    # -- orders ------------------------------------------------------------------------------

    def place(self, request: OrderRequest) -> LimitlessOrder:
        """Sign and send one order. Safe to call again with the same client order id: never two orders.

        1. Build and sign from the cached profile and market; check the signature locally.
        2. Send; a lost reply is looked up by client order id before any resend (`_submit`).
        3. A refusal that points at the cached fee rate or verifying contract refetches both once,
           re-signs and sends once more.
        """
        if request.post_only and request.order_type is not OrderType.GTC:
            raise VenueRejected("post_only: only GTC orders may be post-only")
        if request.side is Side.SELL and self.chain is not None:
            self._check_settled(request)
        with self._lock:
            self._requests[request.client_order_id] = request
            self._used_markets.add(request.market)
        try:
            return self._submit(request, self._order_body(request))
        except (VenueRejected, VenueAuthError) as exc:
            if not _stale_cache_refusal(str(exc)):
                raise
        self.profile(refresh=True)
        self.market_keys(request.market, refresh=True)
        return self._submit(request, self._order_body(request))

    def _check_settled(self, request: OrderRequest) -> None:
        """Shares count as spendable only once settled (MINED): what the chain holds of this outcome, less
        what our resting SELL orders already offer, must cover the sale. A reading that cannot be made
        refuses the sale (VenueUnavailable): never sell what may not be ours yet."""
        token = self.market_keys(request.market).token(request.outcome)
        settled = Decimal(self._chain_read(lambda chain: chain.shares([token])).get(token, 0))
        offered = sum((o.remaining for o in self.orders(market=request.market, status=OrderStatus.LIVE)
                       if o.side is Side.SELL and o.outcome is request.outcome
                       and o.client_order_id != request.client_order_id), Decimal(0))
        if settled - offered < request.size:
            raise VenueRejected(
                f"insufficient settled shares: selling {request.size} {request.outcome.value} in {request.market}, "
                f"but {settled} are settled on chain and {offered} already offered (unsettled shares are not "
                "spendable until MINED)"
            )

    def _order_body(self, request: OrderRequest) -> dict[str, Any]:
        """The POST /orders body: the order built as the SDK builds it, signed, plus our clientOrderId."""
        profile, keys = self.profile(), self.market_keys(request.market)
        side = lm.SIDE_BUY if request.side is Side.BUY else lm.SIDE_SELL
        try:
            maker_amount, taker_amount = order_amounts(request)
        except lm.WireError as exc:
            raise VenueRejected(str(exc)) from None
        order: dict[str, Any] = {
            "salt": secrets.randbelow(2**32 - 1) + 1,
            "maker": self.address,
            "signer": self.address,
            "taker": lm.ZERO_ADDRESS,
            "tokenId": keys.token(request.outcome),
            "makerAmount": maker_amount,
            "takerAmount": taker_amount,
            "expiration": "0",
            "nonce": 0,
            "feeRateBps": 0 if keys.collateral_fee else profile.fee_rate_bps,
            "side": side,
            "signatureType": lm.SIGNATURE_EOA,
        }
        if request.order_type is not OrderType.FOK:
            order["price"] = float(request.price)  # not signed; FOK carries none
        order["signature"] = self._sign(order, keys.exchange)
        body = {
            "order": order,
            "ownerId": profile.owner_id,
            "orderType": request.order_type.value,
            "marketSlug": request.market,
            "clientOrderId": request.client_order_id,
        }
        if request.post_only:
            body["postOnly"] = True
        return body

    def _sign(self, order: dict[str, Any], exchange: str) -> str:
        """Sign under the market's verifying contract and prove it recovers to our wallet before sending."""
        signature = lm.sign_order(order, self._key, chain_id=self.chain_id, verifying_contract=exchange)
        signer = lm.recover_signer(order, signature, chain_id=self.chain_id, verifying_contract=exchange)
        if signer != self.address:
            raise VenueRejected(f"order.signature: recovers to {signer}, not our wallet {self.address}; not sent")
        return signature

    def _submit(self, request: OrderRequest, body: dict[str, Any]) -> LimitlessOrder:
        """POST /orders under the lookup rule: after any reply that may have been lost, and on a 409,
        look the client order id up; found means accepted. Not found: resend (same signed order)."""
        cid = request.client_order_id
        for attempt in range(self.retries + 1):
            try:
                data = self._once("POST", "/orders", body=body)
            except _Failure as failure:
                if failure.status == 409:
                    return self._accepted(self._found_after_conflict(cid, failure), request)
                if not failure.retryable:
                    raise self._refusal(failure, request) from None
                found = self._lookup_after(cid, failure.error)
                if found is not None:
                    return self._accepted(found, request)
                if attempt == self.retries or not self._pause(attempt, failure):
                    raise failure.error from None
                continue
            with _reading("POST /orders"):
                return self._accepted(self._order_of(data["order"], data.get("execution"), request.market), request)
        raise AssertionError("unreachable")

    def _found_after_conflict(self, cid: str, failure: _Failure) -> LimitlessOrder:
        """A 409 says an order with this client order id exists. If the lookup cannot show it (an index
        lag), the outcome is unknown, never a refusal: the caller must not send it again under a new id."""
        found = self._lookup_after(cid, failure.error)
        if found is None:
            raise VenueUnavailable(
                f"{failure.error}; the venue says client order id {cid} exists but the lookup does not show it "
                "yet: the order may be resting (outcome unknown)"
            )
        return found

    def _lookup_after(self, cid: str, error: VenueError) -> LimitlessOrder | None:
        """The order with this client order id, or None; a failed lookup leaves the outcome unknown."""
        try:
            return self.order_by_client_id(cid)
        except VenueError as exc:
            kind = VenueTimeout if isinstance(error, VenueTimeout) else VenueUnavailable
            raise kind(
                f"{error}; then looking up client order id {cid} failed ({exc}): "
                "the order may or may not be at the venue"
            ) from exc

    def _accepted(self, order: LimitlessOrder, request: OrderRequest) -> LimitlessOrder:
        """The venue's order for this request; a different order under the same client id is refused."""
        if (order.market, order.side, order.outcome) != (request.market, request.side, request.outcome):
            raise VenueRejected(
                f"client_order_id {request.client_order_id}: already used for another order ({order.id}: "
                f"{order.side.value} {order.outcome.value} in {order.market})",
                order,
            )
        if order.status is OrderStatus.REJECTED:
            raise VenueRejected(order.reason or "rejected", order)
        return order

    def _refusal(self, failure: _Failure, request: OrderRequest) -> VenueError:
        """A 4xx on POST /orders, with the refused order attached when the venue sent one."""
        body = failure.body if isinstance(failure.body, dict) else {}
        if not isinstance(failure.error, VenueRejected) or not isinstance(body.get("order"), dict):
            return failure.error
        try:
            order = self._order_of(body["order"], body.get("execution"), request.market)
        except (VenueError, KeyError, TypeError, ValueError, ArithmeticError):
            return failure.error
        return VenueRejected(failure.error.reason, order)

    def cancel(self, order_id: str) -> LimitlessOrder:
        """DELETE /orders/{id}, then read the order back. An order already closed is answered as it is."""
        try:
            self._call("DELETE", f"/orders/{_seg(order_id)}")
        except VenueNotFound:
            found = self._status_of({"orderId": order_id})
            if found is None or found.status is OrderStatus.LIVE:
                raise
            return found
        found = self._status_of({"orderId": order_id})
        if found is None:
            raise VenueNotFound(f"order {order_id}: cancelled, but the venue no longer finds it")
        return found

    def cancel_batch(self, order_ids: list[str]) -> CancelResult:
        """POST /orders/batch-cancel in chunks of 50; a 207 with `failed` is a normal answer."""
        canceled: list[str] = []
        failed: list[dict[str, str]] = []
        for start in range(0, len(order_ids), BATCH):
            chunk = order_ids[start : start + BATCH]
            # All-failed comes back as a 404 on some venues (ours): still an answer, if it has the shape.
            data = self._call("POST", "/orders/batch-cancel", body={"orderIds": chunk}, accept=(404,))
            if not isinstance(data, dict) or ("failed" not in data and "canceled" not in data):
                raise VenueNotFound(f"POST /orders/batch-cancel: no cancel result in the answer: {data!r:.200}")
            part = _cancel_result(data, "POST /orders/batch-cancel")
            canceled += part.canceled
            failed += part.failed
        return CancelResult(canceled=canceled, failed=failed)

    def note_markets(self, slugs: list[str] | set[str]) -> None:
        """Markets where our orders may rest (the halt path's and the stream's hints): an account-wide
        cancel sweeps them first, before listing every active market."""
        with self._lock:
            self._used_markets.update(slugs)

    def cancel_known(self) -> CancelResult:
        """Cancel in the markets where our orders are known to be (this process's and those noted): the
        fast first pass of a halt, a request or two; `cancel_all()` then sweeps every other market."""
        problems: list[str] = []
        with self._lock:
            known = sorted(self._used_markets)
        return self._complete(self._sweep(known, problems), problems)

    def cancel_all(self, market: str | None = None) -> CancelResult:
        """Cancel every resting order of one market, or of every market where we may have orders.

        Account-wide, in two passes: first the markets where our orders are known to be (this process's,
        and those noted by `note_markets`), so that they are gone within a few requests; then every other
        active market (every page), since Limitless cancels per market only. Any market that cannot be
        listed or cancelled raises `CancelIncomplete` once the others are done: a halt must never believe
        a partial cancel was complete.
        """
        if market is not None:
            data = self._call("DELETE", f"/orders/all/{_seg(market)}")
            return _cancel_result(data, f"DELETE /orders/all/{market}")
        problems: list[str] = []
        with self._lock:
            known = sorted(self._used_markets)
        result = self._sweep(known, problems)
        try:
            listed = [m["slug"] for m in self._active_markets(strict=True)]
        except VenueError as exc:
            listed, problems = [], [*problems, f"cannot list the markets: {exc}"]
        rest = self._sweep([slug for slug in listed if slug not in set(known)], problems)
        return self._complete(CancelResult(canceled=result.canceled + rest.canceled,
                                           failed=result.failed + rest.failed), problems)

    def _markets_to_read(self) -> tuple[list[str], bool]:
        """Where our orders may be, and whether that is a full scan.

        Limitless lists orders per market only, and a full scan costs one request per active market
        (0.3 s apart). So reads scan every active market at most every `rescan_s`, and in between only
        the markets this process placed in or found our orders in. cancel_all() always scans all.
        """
        with self._lock:
            fresh = self._scanned_at is not None and time.monotonic() - self._scanned_at < self.rescan_s
            used = sorted(self._used_markets)
        if fresh:
            return used, False
        listed = [m["slug"] for m in self._active_markets(strict=True)]
        return listed + [slug for slug in used if slug not in set(listed)], True

    def _sweep(self, slugs: list[str], problems: list[str]) -> CancelResult:
        """Cancel market by market, going on past failures (each is added to `problems`)."""
        canceled: list[str] = []
        failed: list[dict[str, str]] = []
        for slug in slugs:
            try:
                part = self.cancel_all(slug)
            except VenueError as exc:
                problems.append(f"{slug}: {exc}")
                continue
            canceled += part.canceled
            failed += part.failed
            problems += [
                f"{slug}: order {f.get('orderId', '?')} {f.get('reason', '')} {f.get('message', '')}"
                for f in part.failed
                if f.get("reason") != "ORDER_NOT_FOUND"  # already gone: nothing rests
            ]
        return CancelResult(canceled=canceled, failed=failed)

    @staticmethod
    def _complete(result: CancelResult, problems: list[str]) -> CancelResult:
        """The sweep's result, or CancelIncomplete when any market could not be listed or cancelled."""
        if problems:
            raise CancelIncomplete(
                f"cancel-all incomplete, orders may still rest ({len(result.canceled)} cancelled, "
                f"{len(problems)} problem(s)): {'; '.join(problems[:5])}",
                result,
                problems,
            )
        return result

    def order(self, order_id: str) -> LimitlessOrder:
        found = self._status_of({"orderId": order_id})
        if found is None:
            raise VenueNotFound(f"order {order_id}: not found")
        return found

    def order_by_client_id(self, client_order_id: str) -> LimitlessOrder | None:
        found = self._status_of({"clientOrderId": client_order_id})
        # A venue that ignored the filter must not make someone else's order look like ours; an answer that
        # does not echo the client order id at all is trusted to the filter (it was asked for this id).
        if found is None or found.client_order_id not in (client_order_id, ""):
            return None
        return found if found.client_order_id else found.model_copy(update={"client_order_id": client_order_id})

    def _status_of(self, item: dict[str, str]) -> LimitlessOrder | None:
        """One order by orderId or clientOrderId through POST /orders/status/batch, or None."""
        data = self._call("POST", "/orders/status/batch", body={"items": [item]})
        with _reading("POST /orders/status/batch"):
            for result in data.get("results") or []:
                if result.get("status") == "found" and isinstance(result.get("data"), dict):
                    found = result["data"]
                    return self._order_of(_flat_order(found["order"]), found.get("execution"), None)
        return None

    def orders(
        self, *, market: str | None = None, status: OrderStatus | None = None, limit: int = 500
    ) -> list[LimitlessOrder]:
        """GET /markets/{slug}/user-orders, for one market or every market where we may have orders
        (`_markets_to_read`)."""
        wire = ALL_WIRE_STATUSES if status is None else WIRE_STATUSES.get(status, ())
        if not wire:
            return []  # Limitless keeps no refused orders
        slugs, full = ([market], False) if market is not None else self._markets_to_read()
        started = time.monotonic()
        found: list[LimitlessOrder] = []
        for slug in slugs:
            found += self._user_orders(slug, wire, limit)  # remembers every market with our orders
        if full:
            with self._lock:
                self._scanned_at = started
        found.sort(key=lambda o: o.created_at)  # stable: the venue's order within one moment stays
        return found[-limit:] if limit > 0 else []

    def _user_orders(self, slug: str, statuses: tuple[str, ...], limit: int) -> list[LimitlessOrder]:
        params = {"statuses": list(statuses), "limit": max(1, min(limit, USER_ORDERS_LIMIT))}
        data = self._call("GET", f"/markets/{_seg(slug)}/user-orders", params=params)
        with _reading(f"GET /markets/{slug}/user-orders"):
            items = data["orders"] if isinstance(data, dict) else data
            return [self._order_of(o, None, slug) for o in items]

    def _order_of(self, raw: dict[str, Any], execution: Any, slug: str | None) -> LimitlessOrder:
        """A Limitless order (and its execution, if given) as our `Order`."""
        execution = execution if isinstance(execution, dict) else {}
        cid = str(raw.get("clientOrderId") or execution.get("clientOrderId") or "")
        sent = self._requests.get(cid) if cid else None
        slug = raw.get("marketSlug") or slug or (sent.market if sent else None)
        if not slug:
            raise VenueUnavailable(f"order {raw.get('id')}: the venue did not say which market it is in")
        with self._lock:
            self._used_markets.add(slug)
        outcome = self.market_keys(slug).outcome(str(raw.get("tokenId"))) or (sent.outcome if sent else None)
        if outcome is None:
            raise VenueUnavailable(f"order {raw.get('id')}: token {raw.get('tokenId')} is not in market {slug}")
        return _assemble(raw, execution, slug, outcome, sent, cid, datetime.fromtimestamp(self._clock(), UTC))

    # -- portfolio ---------------------------------------------------------------------------

    def positions(self) -> list[Position]:
        """GET /portfolio/positions: the `clob` entries, one Position per outcome held."""
        data = self._call("GET", "/portfolio/positions")
        with _reading("GET /portfolio/positions"):
            found = [p for entry in data.get("clob") or [] for p in _positions_of(entry)]
        with self._lock:
            self._used_markets.update(p.market for p in found)
        return found

    def fills(self, *, market: str | None = None, limit: int = 500) -> list[Fill]:
        """GET /portfolio/history (cursor-paged, newest first): the CLOB trades, oldest first."""
        found: list[Fill] = []
        hashes: dict[str, int] = {}  # one transaction may carry several of our trades
        cursor, seen = "", {""}
        for _ in range(HISTORY_MAX_PAGES):
            data = self._call("GET", "/portfolio/history", params={"cursor": cursor, "limit": HISTORY_PAGE})
            with _reading("GET /portfolio/history"):
                for item in data.get("data") or []:
                    fill = _fill_of(item, hashes)
                    if fill is not None and (market is None or fill.market == market):
                        found.append(fill)
                cursor = data.get("nextCursor") or ""
            if len(found) >= limit or not cursor or cursor in seen:
                break
            seen.add(cursor)
        return list(reversed(found[:limit]))

    def balance(self) -> Balance:
        """USDC from the chain (Limitless has no REST balance); locked = collateral of our live BUYs."""
        usdc = self._chain_read(lambda chain: Decimal(chain.usdc()))
        live = self.orders(status=OrderStatus.LIVE, limit=100_000)
        locked = sum((o.price * o.remaining for o in live if o.side is Side.BUY), Decimal(0))
        locked = locked.quantize(Decimal("0.000001"), rounding=ROUND_CEILING)
        return Balance(usdc=usdc, locked=locked, available=max(usdc - locked, Decimal(0)))

    def chain_ledger(self) -> ChainLedger:
        """On-chain USDC and outcome-token balances of the markets we hold (per REST positions).

        Limitless does not say what is still settling, so `pending` is 0 and the pending amounts unknown.
        """
        held = self.positions()
        tokens = {(p.market, p.outcome): self.market_keys(p.market).token(p.outcome) for p in held}
        avg = {(p.market, p.outcome): p.avg_price for p in held}
        usdc = self._chain_read(lambda chain: Decimal(chain.usdc()))
        shares = self._chain_read(lambda chain: chain.shares(list(tokens.values()))) if tokens else {}
        positions = [
            Position(
                market=market, outcome=outcome, shares=Decimal(shares.get(token, 0)), avg_price=avg[market, outcome]
            )
            for (market, outcome), token in sorted(tokens.items())
            if Decimal(shares.get(token, 0)) > 0
        ]
        return ChainLedger(usdc=usdc, positions=positions, pending=0)

    def _chain_read(self, read: Callable[[ChainBalances], Any]) -> Any:
        if self.chain is None:
            raise VenueUnavailable(
                "balance: Limitless has no REST balance; give LimitlessVenue a chain reader (chain=...)"
            )
        try:
            return read(self.chain)
        except Exception as exc:  # any reader failure: never read as a zero balance
            raise VenueUnavailable(f"chain reading failed: {type(exc).__name__}: {exc}") from exc


# ------------------------------------------------------------------------------------ building orders


def order_amounts(request: OrderRequest) -> tuple[int, int]:
    """(makerAmount, takerAmount) of an order, as the SDK builds them.

    GTC/FAK: `limitless.limit_amounts`. FOK carries takerAmount 1: a BUY spends makerAmount USDC
    (price x size, rounded up: at a better price it may get more shares), a SELL sells makerAmount shares.
    """
    side = lm.SIDE_BUY if request.side is Side.BUY else lm.SIDE_SELL
    limit = lm.limit_amounts(side, request.price, request.size)  # also checks price and size
    if request.order_type is not OrderType.FOK:
        return limit
    if side == lm.SIDE_SELL:
        return limit[0], 1
    return int((request.price * request.size * lm.SCALE).to_integral_value(ROUND_CEILING)), 1


def _stale_cache_refusal(message: str) -> bool:
    """A refusal that cached data may explain: the fee rate, or the order's signature / verifying contract."""
    text = message.lower()
    if "fee_rate_mismatch" in text or "feeratebps" in text:
        return True
    if "lmts-" in text or "api key" in text or "api-key" in text:
        return False  # the request's HMAC or key, not the order's signature
    return "signature" in text or "verifying" in text


# ------------------------------------------------------------------------------------ reading answers


def _assemble(
    raw: dict[str, Any],
    execution: dict[str, Any],
    slug: str,
    outcome: Outcome,
    sent: OrderRequest | None,
    cid: str,
    now: datetime,
) -> LimitlessOrder:
    """Build the order from the wire fields, filling gaps from what we sent."""
    wire_status = str(raw.get("status") or "LIVE").upper()
    status = _status_of(wire_status)
    side = _side(raw.get("side"))
    order_type = OrderType(raw.get("orderType") or (sent.order_type.value if sent else "GTC"))
    size = _micro(raw.get("originalSize")) or _size_from_amounts(raw, side, order_type) or (sent.size if sent else None)
    filled = _micro(raw.get("filledSize"))
    remaining = _micro(raw.get("remainingSize"))
    if filled is None:
        contracts = _micro((execution.get("totalsRaw") or {}).get("contractsGross"))
        filled = contracts if contracts is not None else (size - remaining if size and remaining is not None else None)
    if wire_status == "UNMATCHED":
        filled = Decimal(0)
    size = size if size is not None else (filled or Decimal(0))
    filled = filled if filled is not None else (size if status is OrderStatus.MATCHED else Decimal(0))
    if remaining is None or status is not OrderStatus.LIVE:
        remaining = max(size - filled, Decimal(0)) if status is OrderStatus.LIVE else Decimal(0)
    return LimitlessOrder(
        id=str(raw["id"]),
        client_order_id=cid,
        market=slug,
        side=side,
        outcome=outcome,
        price=_price(raw, side, sent),
        size=size,
        filled=filled,
        remaining=remaining,
        order_type=order_type,
        status=status,
        reason=str(raw.get("reason") or execution.get("reason") or ""),
        created_at=_moment(raw.get("createdAt"), now),
        updated_at=_moment(raw.get("updatedAt") or raw.get("createdAt"), now),
        settlement=str(execution.get("settlementStatus") or ""),
    )


def _flat_order(raw: dict[str, Any]) -> dict[str, Any]:
    """The order of a status-batch result. The docs' example nests the signed order one level deeper
    (`data.order.order`); take the outer fields (id, status, sizes) over the inner signed ones."""
    inner = raw.get("order")
    if not isinstance(inner, dict):
        return raw
    return {**_flat_order(inner), **{k: v for k, v in raw.items() if k != "order"}}


def _status_of(wire: str) -> OrderStatus:
    """LIVE/MATCHED/CANCELED as they are; UNMATCHED (an FAK/FOK that met nothing) is CANCELED.
    Anything else unknown is read as LIVE: an order we cannot classify may still rest."""
    return {
        "LIVE": OrderStatus.LIVE,
        "MATCHED": OrderStatus.MATCHED,
        "FILLED": OrderStatus.MATCHED,
        "CANCELED": OrderStatus.CANCELED,
        "CANCELLED": OrderStatus.CANCELED,
        "UNMATCHED": OrderStatus.CANCELED,
        "KILLED": OrderStatus.CANCELED,
        "REJECTED": OrderStatus.REJECTED,
    }.get(wire, OrderStatus.LIVE)


def _side(value: Any) -> Side:
    if value in (lm.SIDE_BUY, "0", "BUY", "buy"):
        return Side.BUY
    if value in (lm.SIDE_SELL, "1", "SELL", "sell"):
        return Side.SELL
    raise VenueUnavailable(f"order side {value!r}: not BUY (0) or SELL (1)")


def _size_from_amounts(raw: dict[str, Any], side: Side, order_type: OrderType) -> Decimal | None:
    """Shares of a GTC/FAK order (or a FOK SELL) from its signed amounts; None for a FOK BUY."""
    maker, taker = raw.get("makerAmount"), raw.get("takerAmount")
    if maker is None or taker is None or (order_type is OrderType.FOK and side is Side.BUY):
        return None
    code = lm.SIDE_BUY if side is Side.BUY else lm.SIDE_SELL
    if order_type is OrderType.FOK:
        return lm.decimal_of(lm.uint(maker, "makerAmount"))
    return lm.decimal_of(lm.shares_from_amounts(code, lm.uint(maker, "makerAmount"), lm.uint(taker, "takerAmount")))


def _price(raw: dict[str, Any], side: Side, sent: OrderRequest | None) -> Decimal:
    """The order's limit price: its `price` field, else what we sent, else from the amounts; 0 if none."""
    if raw.get("price") is not None:
        return Decimal(str(raw["price"])).quantize(lm.TICK)
    if sent is not None:
        return sent.price
    maker, taker = lm.uint(raw.get("makerAmount", 0), "makerAmount"), lm.uint(raw.get("takerAmount", 0), "takerAmount")
    usdc, shares = (maker, taker) if side is Side.BUY else (taker, maker)
    return (Decimal(usdc) / shares).quantize(lm.TICK) if shares > 1 else Decimal(0)


def _market_of(data: dict[str, Any]) -> Market:
    status = {"FUNDED": MarketStatus.OPEN, "RESOLVED": MarketStatus.RESOLVED}.get(
        str(data.get("status")).upper(), MarketStatus.PAUSED
    )
    winner = {0: Outcome.YES, 1: Outcome.NO}.get(data.get("winningOutcomeIndex"))
    prices = data.get("prices")
    last = prices[0] if isinstance(prices, list) and prices and prices[0] is not None else None
    categories, tags = data.get("categories") or [], data.get("tags") or []
    return Market(
        slug=data["slug"],
        title=data.get("title") or "",
        description=data.get("description") or "",
        category=str(categories[0]) if categories else "",
        market_type=str(tags[0]) if tags else str(data.get("marketType") or ""),
        status=status,
        close_time=datetime.fromtimestamp(int(data["expirationTimestamp"]) / 1000, UTC),
        note=data.get("orderbookNote") or "",  # paper venue only; Limitless has no such field
        resolution_text=data.get("resolutionText") or "",  # paper venue only
        winning_outcome=winner if status is MarketStatus.RESOLVED else None,
        last_price=Decimal(str(last)) if last is not None else None,
    )


def _level(raw: dict[str, Any]) -> BookLevel:
    """A REST book level: price a number, size an integer of shares x 1e6."""
    return BookLevel(price=Decimal(str(raw["price"])), size=lm.decimal_of(int(raw["size"])))


def _positions_of(entry: dict[str, Any]) -> list[Position]:
    """One `clob` entry of /portfolio/positions: tokensBalance and fillPrice are x 1e6 strings."""
    slug = entry["market"]["slug"]
    balances, sides = entry.get("tokensBalance") or {}, entry.get("positions") or {}
    out = []
    for outcome, key in ((Outcome.YES, "yes"), (Outcome.NO, "no")):
        shares = _micro(balances.get(key)) or Decimal(0)
        if shares <= 0:
            continue
        side = sides.get(key) or {}
        value = _micro(side.get("marketValue"))
        mark = (value / shares).quantize(Decimal("0.000001")) if value is not None else None
        avg = _micro(side.get("fillPrice")) or Decimal(0)
        out.append(Position(market=slug, outcome=outcome, shares=shares, avg_price=avg, mark_price=mark))
    return out


def _fill_of(item: dict[str, Any], hashes: dict[str, int]) -> Fill | None:
    """One /portfolio/history item, if it is a CLOB buy or sell (splits, merges and conversions are not fills).

    History names no order: order_id and client_order_id are "", liquidity "unknown".
    """
    strategy = str(item.get("strategy") or "").lower()
    market = item.get("market") or {}
    if strategy not in ("buy", "sell") or not market.get("slug"):
        return None
    index = int(item.get("outcomeIndex") or 0)
    amount = item.get("outcomeTokenAmount")
    if amount is None and isinstance(item.get("outcomeTokenAmounts"), list):  # multi-outcome form
        amount = item["outcomeTokenAmounts"][index]
    price = item.get("outcomeTokenPrice")
    if amount is None or not isinstance(price, (int, float, str)) or isinstance(price, bool):
        return None
    shares = _micro(amount)
    if shares is None:
        return None
    stamp = int(item.get("blockTimestamp") or 0)
    tx = str(item.get("transactionHash") or "no-tx")
    hashes[tx] = hashes.get(tx, 0) + 1
    return Fill(
        id=tx if hashes[tx] == 1 else f"{tx}:{hashes[tx]}",
        order_id="",
        client_order_id="",
        market=market["slug"],
        side=Side.BUY if strategy == "buy" else Side.SELL,
        outcome=Outcome.YES if index == 0 else Outcome.NO,
        price=Decimal(str(price)),
        size=shares,
        liquidity="unknown",
        created_at=datetime.fromtimestamp(stamp / 1000 if stamp > 10**11 else stamp, UTC),
    )


def _cancel_result(data: Any, where: str) -> CancelResult:
    """{canceled, failed[{orderId, reason, message}]} (a bare {message} is an empty result)."""
    with _reading(where):
        failed = [
            {k: str(v) for k, v in item.items() if v is not None and isinstance(v, (str, int))}
            for item in data.get("failed") or []
        ]
        return CancelResult(canceled=[str(i) for i in data.get("canceled") or []], failed=failed)


# ------------------------------------------------------------------------------------ errors


def _failure_of(response: httpx.Response, method: str, path: str, now: float) -> _Failure:
    """Map an error answer: 401/403 auth, 404 not found, 400/409/422 rejected, 429 and 5xx unavailable."""
    try:
        body = response.json()
    except ValueError:
        body = response.text[:500]
    status = response.status_code
    where = f"{method} {path}: {status} {_message(body) or response.reason_phrase}"
    if status == 429:
        wait = _retry_after(response, body, now)
        return _Failure(VenueThrottled(where, wait), True, status, wait, body)
    if status >= 500:
        return _Failure(VenueUnavailable(where), True, status, None, body)
    if status in (401, 403):
        return _Failure(VenueAuthError(where), False, status, None, body)
    if status == 404:
        return _Failure(VenueNotFound(where), False, status, None, body)
    if status == 425:  # Limitless's "too early": a maintenance or trading-mode block
        return _Failure(VenueUnavailable(where), False, status, None, body)
    return _Failure(VenueRejected(where), False, status, None, body)


def _message(body: Any) -> str:
    """The SDK's reading: `message` (a list joined by ' | '), else `error`, else `msg`."""
    if not isinstance(body, dict):
        return str(body or "")
    message = body.get("message")
    if isinstance(message, list):
        return " | ".join(
            ", ".join(f"{k}: {v}" for k, v in m.items()) if isinstance(m, dict) else str(m) for m in message
        )
    return str(message or body.get("error") or body.get("msg") or "")


def _retry_after(response: httpx.Response, body: Any, now: float) -> float | None:
    """Seconds to wait from `Retry-After` (seconds or an HTTP date), else the body's retryAfterSeconds."""
    value = response.headers.get("retry-after")
    if value:
        try:
            return max(float(value), 0.0)
        except ValueError:
            pass
        try:
            return max(parsedate_to_datetime(value).timestamp() - now, 0.0)
        except (TypeError, ValueError):
            pass
    if isinstance(body, dict) and isinstance(body.get("retryAfterSeconds"), (int, float)):
        return max(float(body["retryAfterSeconds"]), 0.0)
    return None


def _clock_offset(response: httpx.Response, local: float) -> float:
    """The server's Date minus our clock; VenueError when missing or more than 10 s off."""
    header = response.headers.get("date")
    if not header:
        raise VenueUnavailable("check_clock: the venue sent no Date header")
    try:
        server = parsedate_to_datetime(header).timestamp() + 0.5  # Date has whole seconds: take the middle
    except (TypeError, ValueError):
        raise VenueUnavailable(f"check_clock: unreadable Date header {header!r}") from None
    offset = server - local
    if abs(offset) > MAX_CLOCK_SKEW_S + 0.5:
        raise VenueError(
            f"check_clock: our clock is {offset:+.1f} s off the venue's; HMAC requests are refused "
            f"beyond {lm.HMAC_WINDOW_S:.0f} s: fix the host's time (NTP) before trading"
        )
    return offset


@contextmanager
def _reading(where: str) -> Iterator[None]:
    """An answer that does not have the documented shape is a venue failure, never a crash."""
    try:
        yield
    except VenueError:
        raise
    except (KeyError, IndexError, TypeError, ValueError, ArithmeticError, AttributeError) as exc:
        raise VenueUnavailable(f"{where}: answer has an unexpected shape ({type(exc).__name__}: {exc})") from exc


# ------------------------------------------------------------------------------------ small helpers


def _private_key(value: str) -> str:
    if not isinstance(value, str) or not _HEX_KEY.fullmatch(value.strip()):
        raise ValueError("private_key: is missing or not a 32-byte hex key (64 hex digits, optional 0x)")
    value = value.strip()
    return value if value.startswith("0x") else "0x" + value


def _credentials(
    api_key: str | None, token_id: str | None, secret: str | None
) -> tuple[str | None, str | None, str | None]:
    """(token id, base64 secret, api key): HMAC when a token is given, else the legacy key."""
    if (token_id is None) != (secret is None):
        raise ValueError("hmac_token_id / hmac_secret: give both or neither")
    if token_id is not None and secret is not None:
        if not _HEADER_VALUE.fullmatch(token_id):
            raise ValueError("hmac_token_id: must be printable ASCII without spaces")
        try:
            lm.hmac_signature(secret, "t", "GET", "/", "")
        except ValueError:
            raise ValueError("hmac_secret: must be base64") from None
        return token_id, secret, None
    if not api_key:
        raise ValueError("api_key or hmac_token_id + hmac_secret: no credentials given")
    if not _HEADER_VALUE.fullmatch(api_key):
        raise ValueError("api_key: must be printable ASCII without spaces")
    return None, None, api_key


def _with_children(markets: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A group (NegRisk) market's child markets hold the orders; list them beside the group."""
    out = []
    for market in markets:
        out.append(market)
        children = market.get("markets")
        if isinstance(children, list):
            out += [c for c in children if isinstance(c, dict) and isinstance(c.get("slug"), str)]
    return out


def _seg(value: str) -> str:
    """Quote a path segment so an id can never change the path."""
    return quote(value, safe="")


def _int(value: Any) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, str)):
        raise ValueError(f"{value!r} is not an integer")
    return int(value)


def _micro(value: Any) -> Decimal | None:
    """A 1e6-scaled integer (int or digit string) as a Decimal, or None when absent."""
    if value is None or value == "":
        return None
    return lm.decimal_of(int(Decimal(str(value)).to_integral_value(ROUND_FLOOR)))


def _moment(value: Any, default: datetime) -> datetime:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value / 1000 if value > 10**11 else value, UTC)
    if isinstance(value, str) and value:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return default
