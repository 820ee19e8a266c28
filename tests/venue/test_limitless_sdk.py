"""Contract test: the official, unmodified `limitless-sdk` 1.3.0 against the paper venue.

The venue runs as `make run` starts it (`python -m agents.venue --host 127.0.0.1 --port P`), and
every public call of the SDK's `Client` is made the way a new user would make it, through the
SDK's own validation (its pydantic models, its EIP-712 signing, its HMAC headers, its Socket.IO
client). Each test asserts what the venue did, not only that the SDK did not raise.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from eth_account import Account
from limitless_sdk import Client
from limitless_sdk.api.errors import APIError, AuthenticationError, ConflictError, ValidationError
from limitless_sdk.orders.builder import OrderBuilder
from limitless_sdk.types.api_tokens import HMACCredentials
from limitless_sdk.types.markets import ActiveMarketsParams
from limitless_sdk.types.orders import CancelReplaceMode, OrderType, Side
from limitless_sdk.websocket.types import WebSocketConfig

from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue, running_venue

SLUG = "btc-above-100k-next-hour"


@dataclass
class User:
    """A new Limitless user: a wallet of their own, a legacy API key and a scoped HMAC token."""

    url: str
    wallet: Any
    api_key: str
    token_id: str
    secret: str

    def client(self, *, hmac: bool = True) -> Client:
        if hmac:
            return Client(
                base_url=self.url, hmac_credentials=HMACCredentials(token_id=self.token_id, secret=self.secret)
            )
        return Client(base_url=self.url, api_key=self.api_key)


@pytest.fixture(scope="module")
def paper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningVenue]:
    """The venue process exactly as the Procfile starts it (the testing helper runs that command line)."""
    with running_venue(tmp_path_factory.mktemp("lmts"), VENUE_SETTLE_LAG="0.3") as running:
        Faults(running.url, running.faults_token).tick(3)  # the simulated makers quote the demo markets
        yield running


@pytest.fixture
def user(paper: RunningVenue) -> User:
    wallet = Account.create()
    name = "sdk-" + secrets.token_hex(4)
    api_key, token, secret = (
        "lmts_" + secrets.token_hex(12),
        "tok-" + name,
        base64.b64encode(secrets.token_bytes(32)).decode(),
    )
    Faults(paper.url, paper.faults_token).account(
        name, api_key, "1000", address=wallet.address, hmac_token_id=token, hmac_secret=secret
    )
    return User(paper.url, wallet, api_key, token, secret)


def run(body: Callable[[], Awaitable[Any]]) -> Any:
    return asyncio.run(body())


async def _with(client: Client, body: Callable[[Client], Awaitable[Any]]) -> Any:
    try:
        return await body(client)
    finally:
        await client.close()


def test_it_lists_markets_reads_one_and_its_book(user: User) -> None:
    async def body(c: Client) -> None:
        page = await c.markets.get_active_markets(ActiveMarketsParams(limit=2, page=1))
        assert len(page.data) == 2 and page.total_markets_count == 5
        market = await c.markets.get_market(SLUG)
        assert market.venue.exchange.startswith("0x") and market.tokens.yes != market.tokens.no
        assert market.position_ids == [market.tokens.yes, market.tokens.no]
        book = await c.markets.get_orderbook(SLUG)
        assert book.token_id == market.tokens.yes and book.bids and book.asks
        assert all(level.side == "BUY" for level in book.bids) and all(level.side == "SELL" for level in book.asks)
        assert isinstance(book.bids[0].size, int) and book.bids[0].price < book.asks[0].price

    run(lambda: _with(user.client(hmac=False), body))


def test_it_serves_the_profile_the_order_client_needs(user: User) -> None:
    async def body(c: Client) -> None:
        profile = await c.portfolio.get_profile(user.wallet.address)
        assert profile["account"] == user.wallet.address and profile["rank"]["feeRateBps"] == 300
        me = await c.portfolio.get_current_profile()
        assert me["id"] == profile["id"]

    run(lambda: _with(user.client(), body))


def test_it_places_a_signed_gtc_post_only_order_and_cancels_it(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        placed = await orders.create_order(
            token_id=market.tokens.yes,
            price=0.05,
            size=5,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            post_only=True,
        )
        assert placed.order.status == "LIVE" and placed.execution.settlement_status == "UNMATCHED"
        assert placed.order.maker_amount == 250_000 and placed.order.taker_amount == 5_000_000
        resting = await market.get_user_orders()
        assert [o["id"] for o in resting] == [placed.order.id]
        assert (await orders.cancel(placed.order.id))["message"] == "Order canceled successfully"
        assert await market.get_user_orders() == []

    run(lambda: _with(user.client(), body))


def test_it_fills_fak_and_fok_orders_against_the_book(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        fak = await orders.create_order(
            token_id=market.tokens.yes, price=0.99, size=2, side=Side.BUY, order_type=OrderType.FAK, market_slug=SLUG
        )
        assert fak.execution.matched and fak.execution.totals_raw.contracts_gross == "2000000"
        fok = await orders.create_order(
            token_id=market.tokens.yes, maker_amount=1, side=Side.BUY, order_type=OrderType.FOK, market_slug=SLUG
        )
        assert fok.execution.matched and fok.order.taker_amount == 1
        assert int(fok.execution.totals_raw.usd_gross) <= 1_000_000  # it spent at most the 1 USDC it signed for
        killed = await orders.create_order(
            token_id=market.tokens.no, maker_amount=900, side=Side.BUY, order_type=OrderType.FOK, market_slug=SLUG
        )
        assert not killed.execution.matched and killed.order.status == "UNMATCHED"  # more than the book holds

    run(lambda: _with(user.client(), body))


def test_it_cancels_all_in_a_market_and_cancel_replaces(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        first = await orders.create_order(
            token_id=market.tokens.yes, price=0.04, size=5, side=Side.BUY, order_type=OrderType.GTC, market_slug=SLUG
        )
        swapped = await orders.cancel_replace(
            order_id=first.order.id,
            token_id=market.tokens.yes,
            price=0.03,
            size=5,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            replacement_client_order_id="swap-1",
        )
        assert swapped.cancel.status == "SUCCESS" and swapped.replacement.status == "SUCCESS"
        stopped = await orders.cancel_replace(
            order_id=first.order.id,
            token_id=market.tokens.yes,
            price=0.02,
            size=5,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            mode=CancelReplaceMode.STOP_ON_FAILURE,
        )
        assert stopped.cancel.status == "FAILURE" and stopped.replacement.status == "NOT_ATTEMPTED"  # a 409
        batch = await orders.cancel_replace_batch(
            [
                {
                    "client_order_id": "swap-1",
                    "token_id": market.tokens.yes,
                    "price": 0.02,
                    "size": 5,
                    "side": Side.BUY,
                    "order_type": OrderType.GTC,
                    "market_slug": SLUG,
                    "replacement_client_order_id": "swap-2",
                },
            ]
        )
        assert batch.results[0].replacement.status == "SUCCESS"
        await orders.create_order(
            token_id=market.tokens.no, price=0.05, size=5, side=Side.BUY, order_type=OrderType.GTC, market_slug=SLUG
        )
        assert len(await market.get_user_orders()) == 2
        result = await orders.cancel_all(SLUG)
        assert result["message"] and len(result["canceled"]) == 2
        assert await market.get_user_orders() == []

    run(lambda: _with(user.client(), body))


def test_it_reports_positions_and_pages_the_history(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        net = 0
        for _ in range(3):
            taken = await orders.create_order(
                token_id=market.tokens.yes,
                price=0.99,
                size=1,
                side=Side.BUY,
                order_type=OrderType.FAK,
                market_slug=SLUG,
            )
            net += int(taken.execution.totals_raw.contracts_net)
        clob = await c.portfolio.get_clob_positions()
        assert [p["market"]["slug"] for p in clob] == [SLUG]
        assert clob[0]["tokensBalance"]["yes"] == str(net) and net < 3_000_000  # the taker fee, paid in contracts
        positions = await c.portfolio.get_positions()
        assert {"clob", "amm", "group", "points"} <= set(positions)
        first = await c.portfolio.get_user_history(limit=2)
        second = await c.portfolio.get_user_history(cursor=first["nextCursor"], limit=2)
        assert len(first["data"]) == 2 and len(second["data"]) == 1 and second["nextCursor"] is None
        assert {e["strategy"] for e in first["data"] + second["data"]} == {"Buy"}

    run(lambda: _with(user.client(), body))


def test_it_streams_books_order_events_and_positions_over_socketio(user: User) -> None:
    async def body(c: Client) -> list[tuple[str, dict[str, Any]]]:
        market = await c.markets.get_market(SLUG)
        ws = c.new_websocket_client(WebSocketConfig(url=user.url))
        got: list[tuple[str, dict[str, Any]]] = []
        for name in ("orderbookUpdate", "orderEvent", "positions"):
            ws.on(name, (lambda n: lambda data: got.append((n, data)))(name))
        await ws.connect()
        try:
            await ws.subscribe("subscribe_market_prices", {"marketSlugs": [SLUG]})
            await ws.subscribe("subscribe_order_events", {})
            await ws.subscribe("subscribe_positions", {"marketSlugs": [SLUG]})
            await _until(lambda: any(n == "positions" for n, _ in got))
            orders = c.new_order_client(user.wallet.key.hex())
            placed = await orders.create_order(
                token_id=market.tokens.yes,
                price=0.99,
                size=1,
                side=Side.BUY,
                order_type=OrderType.FAK,
                market_slug=SLUG,
            )
            await _until(lambda: any(d.get("type") == "MINED" for n, d in got if n == "orderEvent"))
            await ws.unsubscribe("subscribe_market_prices", {"marketSlugs": [SLUG]})  # acked, or it raises
        finally:
            await ws.disconnect()
        mine = [d for n, d in got if n == "orderEvent" and d["orderId"] == placed.order.id]
        assert [(d["source"], d["type"]) for d in mine] == [
            ("OME", "EXECUTION"),
            ("SETTLEMENT", "MATCHED"),
            ("SETTLEMENT", "MINED"),
        ]
        assert mine[0]["status"] == "FILLED" and mine[1]["amountContracts"] == "1000000"
        got.append(("net", {"contracts": placed.execution.totals_raw.contracts_net}))
        return got

    got = run(lambda: _with(user.client(), body))
    books = [d for n, d in got if n == "orderbookUpdate"]
    assert books and books[0]["marketSlug"] == SLUG and books[0]["orderbook"]["bids"]
    held = [d for n, d in got if n == "positions" and d["positions"]]
    net = next(d["contracts"] for n, d in got if n == "net")
    assert held and held[-1]["positions"][0]["balance"] == net and int(net) < 1_000_000  # less the taker fee


async def _until(done: Callable[[], bool], timeout: float = 5.0) -> None:
    deadline = asyncio.get_running_loop().time() + timeout
    while not done():
        assert asyncio.get_running_loop().time() < deadline, "timed out waiting for the stream"
        await asyncio.sleep(0.02)


# ------------------------------------------------------------------------------------ refusals


def test_it_refuses_a_wrong_secret_a_stale_timestamp_and_an_unknown_key(user: User) -> None:
    wrong = User(user.url, user.wallet, "lmts_nope", user.token_id, base64.b64encode(b"x" * 32).decode())

    async def body(c: Client) -> None:
        with pytest.raises(AuthenticationError):
            await c.portfolio.get_positions()

    run(lambda: _with(wrong.client(), body))
    run(lambda: _with(wrong.client(hmac=False), body))
    stale = "2020-01-01T00:00:00.000Z"
    from agents.venue.limitless import hmac_signature

    headers = {
        "lmts-api-key": user.token_id,
        "lmts-timestamp": stale,
        "lmts-signature": hmac_signature(user.secret, stale, "GET", "/portfolio/positions", ""),
    }
    response = httpx.get(user.url + "/portfolio/positions", headers=headers)
    assert response.status_code == 401 and "30 s" in response.json()["message"]


def test_it_refuses_a_duplicate_client_order_id_with_409(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        first = await orders.create_order(
            token_id=market.tokens.yes, price=0.05, size=1, side=Side.BUY, order_type=OrderType.GTC, market_slug=SLUG
        )
        await orders.cancel_replace(
            order_id=first.order.id,
            token_id=market.tokens.yes,
            price=0.04,
            size=1,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            replacement_client_order_id="dup-1",
        )
        again = await orders.cancel_replace(
            order_id="no-such-order",
            token_id=market.tokens.yes,
            price=0.03,
            size=1,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            mode=CancelReplaceMode.ALLOW_FAILURE,
            replacement_client_order_id="dup-1",
        )
        assert again.replacement.status == "FAILURE" and again.replacement.error.code == "CONFLICT"
        assert len(await market.get_user_orders()) == 1  # still the one order named dup-1
        await orders.cancel_all(SLUG)

    run(lambda: _with(user.client(), body))


def test_it_refuses_to_trade_for_a_wallet_it_does_not_know(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        stranger = c.new_order_client(Account.create().key.hex())
        with pytest.raises(APIError) as refused:  # the order client's profile lookup finds no such wallet
            await stranger.create_order(
                token_id=market.tokens.yes,
                price=0.05,
                size=1,
                side=Side.BUY,
                order_type=OrderType.GTC,
                market_slug=SLUG,
            )
        assert refused.value.status_code == 404 and await market.get_user_orders() == []

    run(lambda: _with(user.client(), body))


def test_it_answers_the_same_signed_order_twice_with_409(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        payload = await orders._build_signed_create_payload(  # the DTO create_order would send
            token_id=market.tokens.yes,
            price=0.05,
            size=1,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
            client_order_id="twice-1",
        )
        dto = payload.model_dump(by_alias=True, exclude_none=True, mode="json")
        first = await c.http.post("/orders", dto)
        with pytest.raises(ConflictError):
            await c.http.post("/orders", dto)  # a retried send is never a second order
        assert [o["id"] for o in await market.get_user_orders()] == [first["order"]["id"]]
        with pytest.raises(ValidationError):
            await c.http.post("/orders", {"order": {}, "ownerId": 1, "orderType": "GTC", "marketSlug": SLUG})
        await orders.cancel_all(SLUG)

    run(lambda: _with(user.client(), body))


def test_it_charges_the_price_dependent_taker_fee_and_none_to_makers(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        cheap = await orders.create_order(
            token_id=market.tokens.no, price=0.99, size=10, side=Side.BUY, order_type=OrderType.FAK, market_slug=SLUG
        )
        dear = await orders.create_order(
            token_id=market.tokens.yes, price=0.99, size=10, side=Side.BUY, order_type=OrderType.FAK, market_slug=SLUG
        )
        book = await c.markets.get_orderbook(SLUG)
        for taken in (cheap, dear):  # a buy pays 0.40%-3.00% of its contracts, more at lower prices
            totals = taken.execution.totals_raw
            assert 40 <= taken.execution.effective_fee_bps <= 300
            assert (
                int(totals.contracts_fee) == int(totals.contracts_gross) * taken.execution.effective_fee_bps // 10_000
            )
        low, high = sorted((cheap, dear), key=lambda t: int(t.execution.totals_raw.usd_gross))
        assert low.execution.effective_fee_bps > high.execution.effective_fee_bps
        sold = await orders.create_order(
            token_id=market.tokens.yes, price=0.01, size=5, side=Side.SELL, order_type=OrderType.FAK, market_slug=SLUG
        )
        totals = sold.execution.totals_raw  # a sell pays 0.42%-1.50% in USDC
        assert int(totals.usd_fee) > 0 and int(totals.contracts_fee) == 0 and 42 <= sold.execution.effective_fee_bps
        maker = await orders.create_order(
            token_id=market.tokens.yes,
            price=float(book.bids[0].price),
            size=1,
            side=Side.BUY,
            order_type=OrderType.GTC,
            market_slug=SLUG,
        )
        assert maker.execution.effective_fee_bps == 0 and maker.execution.totals_raw.contracts_fee == "0"
        await orders.cancel_all(SLUG)

    run(lambda: _with(user.client(), body))


def test_it_refuses_a_fee_rate_other_than_the_profiles(user: User) -> None:
    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        await orders._ensure_user_data()  # a client that cached a stale rank:
        orders._builder = OrderBuilder(maker_address=user.wallet.address, fee_rate_bps=100, price_tick=0.001)
        with pytest.raises(ValidationError) as refused:
            await orders.create_order(
                token_id=market.tokens.yes,
                price=0.05,
                size=1,
                side=Side.BUY,
                order_type=OrderType.GTC,
                market_slug=SLUG,
            )
        assert "FEE_RATE_MISMATCH" in str(refused.value) and await market.get_user_orders() == []

    run(lambda: _with(user.client(), body))


def test_it_reports_a_settlement_that_failed_on_chain(user: User, paper: RunningVenue) -> None:
    Faults(paper.url, paper.faults_token).limitless(fail_settlements=1)

    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        failed = await orders.create_order(token_id=market.tokens.yes, price=0.99, size=1, side=Side.BUY,
                                           order_type=OrderType.FAK, market_slug=SLUG)
        assert failed.execution.matched and failed.execution.settlement_status == "FAILED"
        fine = await orders.create_order(token_id=market.tokens.yes, price=0.99, size=1, side=Side.BUY,
                                         order_type=OrderType.FAK, market_slug=SLUG)
        assert fine.execution.settlement_status in ("MATCHED", "MINED")  # one failure was asked for

    run(lambda: _with(user.client(), body))


def test_it_accepts_a_taker_order_as_delayed_and_matches_it_at_eligible_at(user: User, paper: RunningVenue) -> None:
    faults = Faults(paper.url, paper.faults_token)
    faults.limitless(taker_delay_s=0.4)

    async def body(c: Client) -> None:
        market = await c.markets.get_market(SLUG)
        orders = c.new_order_client(user.wallet.key.hex())
        delayed = await orders.create_order(token_id=market.tokens.yes, price=0.99, size=1, side=Side.BUY,
                                            order_type=OrderType.FAK, market_slug=SLUG)
        assert delayed.execution.settlement_status == "DELAYED" and delayed.execution.eligible_at
        assert not delayed.execution.matched and delayed.order.status == "LIVE"
        dropped = await orders.create_order(token_id=market.tokens.yes, price=0.99, size=1, side=Side.BUY,
                                            order_type=OrderType.FAK, market_slug=SLUG)
        await orders.cancel(dropped.order.id)  # cancelled while it waits: it never meets the book
        resting = await orders.create_order(token_id=market.tokens.yes, price=0.01, size=1, side=Side.BUY,
                                            order_type=OrderType.GTC, market_slug=SLUG)
        assert resting.execution.settlement_status == "UNMATCHED"  # not marketable: no delay
        await asyncio.sleep(0.8)
        found = await c.http.post("/orders/status/batch", {"items": [{"orderId": delayed.order.id},
                                                                     {"orderId": dropped.order.id}]})
        first, second = found["results"]
        assert first["status"] == "found" and first["data"]["order"]["status"] == "MATCHED"
        assert first["data"]["execution"]["matched"] and first["data"]["order"]["id"] == delayed.order.id
        assert second["status"] == "found" and second["data"]["order"]["status"] in ("CANCELED", "UNMATCHED")
        assert not second["data"]["execution"]["matched"]
        await orders.cancel_all(SLUG)

    try:
        run(lambda: _with(user.client(), body))
    finally:
        faults.limitless(taker_delay_s=0)
