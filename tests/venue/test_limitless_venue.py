"""LimitlessVenue (the live Limitless adapter) against the real paper venue process's Limitless surface."""

from __future__ import annotations

import base64
import dataclasses
import itertools
import secrets
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_account import Account

from agents.venue import limitless as lm
from agents.venue import limitless_client
from agents.venue.limitless_client import CancelIncomplete, LimitlessVenue, VenueThrottled
from agents.venue.port import (
    Venue,
    VenueAuthError,
    VenueError,
    VenueNotFound,
    VenueRejected,
    VenueTimeout,
    VenueUnavailable,
)
from agents.venue.schemas import Balance, MarketStatus, OrderStatus, OrderType, Outcome, Side
from paper_venue.faults import Faults

D = Decimal


from tests.venue.lmts import FakeChain, MakeTrader, order  # noqa: E402

# ---------------------------------------------------------------------------- trading


def test_it_is_a_venue_and_matches_by_price_and_time_with_partial_fills(lmts: MakeTrader, slug: str) -> None:
    maker, taker = lmts(), lmts()
    assert isinstance(maker, Venue)
    early = maker.place(order(slug, "m1", "BUY", "0.550", "10", outcome="NO"))  # a YES ask at 0.450
    late = maker.place(order(slug, "m2", "BUY", "0.550", "10", outcome="NO"))  # same price, later
    cheaper = maker.place(order(slug, "m3", "BUY", "0.560", "4", outcome="NO"))  # a YES ask at 0.440
    assert early.status is OrderStatus.LIVE and early.settlement == "UNMATCHED"
    hit = taker.place(order(slug, "t1", "BUY", "0.460", "9"))
    assert hit.status is OrderStatus.MATCHED and hit.filled == D(9) and hit.remaining == 0
    assert hit.settlement == "MATCHED" and not hit.settled  # matched, not yet mined: not safe to sell
    fills = [(f.side, f.outcome, f.price, f.size) for f in taker.fills(market=slug)]
    assert fills == [(Side.BUY, Outcome.YES, D("0.440"), D(4)), (Side.BUY, Outcome.YES, D("0.450"), D(5))]
    assert maker.order(cheaper.id).status is OrderStatus.MATCHED
    assert (maker.order(early.id).filled, maker.order(early.id).remaining) == (D(5), D(5))
    assert maker.order(late.id).filled == 0
    book = taker.book(slug)
    assert [(lvl.price, lvl.size) for lvl in book.asks] == [(D("0.450"), D(15))] and book.bids == []
    assert [(p.market, p.outcome, p.shares) for p in maker.positions()] == [(slug, Outcome.NO, D(9))]
    live = maker.orders(market=slug, status=OrderStatus.LIVE)
    assert [o.id for o in live] == [early.id, late.id]
    assert [o.client_order_id for o in maker.orders(market=slug)] == ["m1", "m2", "m3"]


def test_it_places_fok_and_fak_orders_with_the_amounts_limitless_expects(lmts: MakeTrader, slug: str) -> None:
    maker, taker = lmts(), lmts()
    maker.place(order(slug, "ask", "BUY", "0.550", "10", outcome="NO"))  # YES ask 0.450 x 10
    maker.place(order(slug, "bid", "BUY", "0.400", "5"))  # YES bid 0.400 x 5
    fok = taker.place(order(slug, "fok", "BUY", "0.450", "4", kind="FOK"))  # spends 1.8 USDC
    assert (fok.status, fok.filled, fok.order_type) == (OrderStatus.MATCHED, D(4), OrderType.FOK)
    killed = taker.place(order(slug, "fok-big", "BUY", "0.450", "20", kind="FOK"))  # only 6 left
    assert (killed.status, killed.filled, killed.remaining) == (OrderStatus.CANCELED, 0, 0)  # UNMATCHED
    fak = taker.place(order(slug, "fak", "BUY", "0.450", "10", kind="FAK"))
    assert (fak.status, fak.filled, fak.remaining) == (OrderStatus.CANCELED, D(6), 0)
    sold = taker.place(order(slug, "fok-sell", "SELL", "0.400", "2", kind="FOK"))
    assert (sold.status, sold.filled, sold.side) == (OrderStatus.MATCHED, D(2), Side.SELL)
    assert limitless_client.order_amounts(order(slug, "x", "BUY", "0.333", "3", kind="FOK")) == (999_000, 1)
    assert limitless_client.order_amounts(order(slug, "x", "SELL", "0.333", "3", kind="FOK")) == (3_000_000, 1)
    assert limitless_client.order_amounts(order(slug, "x", "BUY", "0.550", "5")) == (2_750_000, 5_000_000)


def test_it_answers_a_repeated_place_with_the_first_order(lmts: MakeTrader, slug: str) -> None:
    trader = lmts()
    first = trader.place(order(slug, "again", "BUY", "0.300", "2"))
    second = trader.place(order(slug, "again", "BUY", "0.300", "2"))  # a 409, looked up: already accepted
    assert second.id == first.id and second.status is OrderStatus.LIVE
    assert trader.recorder.calls("POST", "/orders") == [201, 409]
    assert [o.id for o in trader.orders(market=slug)] == [first.id]
    sent = [h for m, p, _, _, h in trader.recorder.seen if (m, p) == ("POST", "/orders")]
    assert all(h["content-type"] == "application/json" and "lmts-signature" in h for h in sent)


def test_it_reconciles_a_lost_reply_by_client_order_id(lmts: MakeTrader, slug: str, faults: Faults) -> None:
    trader = lmts()
    faults.drop_responses(1, path_prefix="/orders")  # the venue places the order, then the reply is lost
    placed = trader.place(order(slug, "lost", "BUY", "0.300", "2"))
    assert placed.status is OrderStatus.LIVE and placed.client_order_id == "lost"
    assert trader.recorder.calls("POST", "/orders") == [503]  # never sent again: the lookup found it
    assert trader.recorder.calls("POST", "/orders/status/batch") == [200]
    faults.fail_next(1, status=502, path_prefix="/orders")  # refused before the venue did anything
    second = trader.place(order(slug, "not-applied", "BUY", "0.300", "1"))
    assert trader.recorder.calls("POST", "/orders") == [503, 502, 201]  # looked up, not found, then resent
    assert sorted(o.id for o in trader.orders(market=slug)) == sorted([placed.id, second.id])


def test_it_cancels_one_a_batch_and_all_across_markets(lmts: MakeTrader, faults: Faults) -> None:
    trader, other = lmts(), lmts()
    slugs = [f"lc-{secrets.token_hex(4)}-a", f"lc-{secrets.token_hex(4)}-b"]
    for name in slugs:
        faults.create_market(name)
    ids = [trader.place(order(slugs[i % 2], f"c{i}", "BUY", "0.200", "1")).id for i in range(6)]
    assert trader.cancel(ids[0]).status is OrderStatus.CANCELED
    assert trader.cancel(ids[0]).status is OrderStatus.CANCELED  # cancelling again changes nothing
    batch = trader.cancel_batch([ids[1], ids[2], "ord_missing"])
    assert batch.canceled == [ids[1], ids[2]]
    assert batch.failed == [{"orderId": "ord_missing", "reason": "ORDER_NOT_FOUND",
                             "message": "Order not found or already canceled"}]  # fmt: skip
    assert trader.recorder.calls("POST", "/orders/batch-cancel") == [207]  # a normal answer
    with pytest.raises(VenueNotFound):
        other.cancel(ids[3])  # another account's order is unknown to it
    assert sorted(trader.cancel_all().canceled) == sorted(ids[3:])  # every market, no market named
    assert trader.orders(status=OrderStatus.LIVE) == []
    assert len(trader.orders(status=OrderStatus.CANCELED)) == 6


def test_it_raises_when_an_account_wide_cancel_is_incomplete(lmts: MakeTrader, faults: Faults) -> None:
    trader = lmts(retries=0)
    slugs = [f"lc-{secrets.token_hex(4)}-a", f"lc-{secrets.token_hex(4)}-b"]
    for name in slugs:
        faults.create_market(name)
    first, second = (trader.place(order(name, f"o-{name}", "BUY", "0.200", "1")) for name in slugs)
    faults.fail_next(1, status=500, path_prefix=f"/orders/all/{slugs[0]}")
    with pytest.raises(CancelIncomplete, match=slugs[0]) as caught:
        trader.cancel_all()
    assert caught.value.result.canceled == [second.id]  # the others were still cancelled
    assert trader.order(first.id).status is OrderStatus.LIVE
    faults.fail_next(1, status=503, path_prefix="/markets/active")
    with pytest.raises(CancelIncomplete, match="cannot list the markets"):
        trader.cancel_all()
    assert trader.order(first.id).status is OrderStatus.CANCELED  # the markets it used were still swept


def test_it_refuses_bad_input_and_says_why(lmts: MakeTrader, slug: str) -> None:
    trader = lmts()
    for request, reason in [
        (order(slug, "b1", "BUY", "0.5005", "1"), "price"),
        (order(slug, "b2", "BUY", "1.000", "1"), "price"),
        (order(slug, "b3", "BUY", "0.500", "0.0001"), "size"),
        (order(slug, "b4", "BUY", "0.500", "1", kind="FAK", post_only=True), "post_only"),
    ]:
        with pytest.raises(VenueRejected, match=reason):
            trader.place(request)
    assert trader.recorder.calls("POST", "/orders") == []  # refused here, nothing sent
    body = trader._order_body(order(slug, "b5", "BUY", "0.500", "1"))
    body["order"]["makerAmount"] += 1000  # amounts that do not match the price
    body["order"]["signature"] = trader._sign(body["order"], trader.market_keys(slug).exchange)
    with pytest.raises(VenueRejected, match="order amounts"):
        trader._call("POST", "/orders", body=body)
    with pytest.raises(VenueNotFound):
        trader.place(order("no-such-market", "b6", "BUY", "0.500", "1"))
    poor = lmts(usdc="5")
    with pytest.raises(VenueRejected, match="insufficient") as caught:
        poor.place(order(slug, "big", "BUY", "0.500", "100"))
    assert caught.value.order is not None and caught.value.order.status is OrderStatus.REJECTED
    assert trader.orders(market=slug) == [] and poor.orders(market=slug) == []


# ---------------------------------------------------------------------------- signing and auth


def test_it_never_sends_an_order_it_did_not_sign_with_its_own_key(
    lmts: MakeTrader, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trader, stranger = lmts(), Account.create()
    monkeypatch.setattr(trader, "_key", "0x" + stranger.key.hex().removeprefix("0x"))
    with pytest.raises(VenueRejected, match="not our wallet"):
        trader.place(order(slug, "forged", "BUY", "0.300", "1"))
    assert trader.recorder.calls("POST", "/orders") == []
    monkeypatch.undo()
    body = trader._order_body(order(slug, "forged", "BUY", "0.300", "1"))
    exchange = trader.market_keys(slug).exchange
    body["order"]["signature"] = lm.sign_order(body["order"], stranger.key, chain_id=8453, verifying_contract=exchange)
    with pytest.raises(VenueAuthError, match="order.signature"):  # the venue refuses it too
        trader._call("POST", "/orders", body=body)
    assert trader.orders(market=slug) == []


def test_it_refetches_a_wrong_verifying_contract_and_resends_once(lmts: MakeTrader, slug: str) -> None:
    trader = lmts()
    keys = trader.market_keys(slug)
    trader._keys[slug] = dataclasses.replace(keys, exchange=Account.create().address)  # a stale cache
    placed = trader.place(order(slug, "vc", "BUY", "0.300", "1"))
    assert placed.status is OrderStatus.LIVE
    assert trader.recorder.calls("POST", "/orders") == [401, 201]
    assert trader.recorder.calls("GET", f"/markets/{slug}") == [200, 200]  # read once, refetched once
    assert trader.market_keys(slug) == keys
    assert [o.id for o in trader.orders(market=slug)] == [placed.id]


def test_it_refetches_the_fee_rate_after_a_fee_rate_mismatch(
    lmts: MakeTrader, slug: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    trader = lmts()
    profile = trader.profile()
    assert profile.fee_rate_bps == 300
    trader._profile = dataclasses.replace(profile, fee_rate_bps=250)  # a stale cache
    placed = trader.place(order(slug, "fee", "BUY", "0.300", "1"))
    assert placed.status is OrderStatus.LIVE and trader.profile() == profile
    assert trader.recorder.calls("POST", "/orders") == [400, 201]
    stale = dataclasses.replace(profile, fee_rate_bps=250)
    monkeypatch.setattr(trader, "profile", lambda refresh=False: stale)  # a refetch that does not help
    with pytest.raises(VenueRejected, match="FEE_RATE_MISMATCH"):
        trader.place(order(slug, "fee-2", "BUY", "0.300", "1"))
    assert trader.recorder.calls("POST", "/orders") == [400, 201, 400, 400]  # sent once more, then given up


def test_it_signs_each_attempt_afresh_and_a_stale_timestamp_is_refused(lmts: MakeTrader, faults: Faults) -> None:
    ticks = itertools.count()
    trader = lmts(clock=lambda: time.time() + next(ticks) * 0.01)
    assert abs(trader.check_clock()) <= 11
    faults.fail_next(1, status=503, path_prefix="/portfolio")
    assert trader.positions() == []  # retried through the 503
    stamps = [h["lmts-timestamp"] for m, p, _, _, h in trader.recorder.seen if p == "/portfolio/positions"]
    assert len(stamps) == 2 and stamps[0] != stamps[1]
    late = lmts(clock=lambda: time.time() - 60)
    with pytest.raises(VenueAuthError, match="lmts-timestamp"):
        late.positions()
    assert late.recorder.calls("GET", "/portfolio/positions") == [401]  # never retried
    with pytest.raises(VenueError, match="clock"):
        late.check_clock()


def test_it_authenticates_with_a_legacy_api_key(lmts: MakeTrader, slug: str) -> None:
    trader = lmts(hmac=False)
    placed = trader.place(order(slug, "legacy", "BUY", "0.300", "1"))
    assert [o.id for o in trader.orders(market=slug)] == [placed.id]
    headers = [h for _, _, _, _, h in trader.recorder.seen]
    assert all("x-api-key" in h and "lmts-signature" not in h for h in headers)


def test_it_refuses_missing_or_malformed_credentials() -> None:
    key = Account.create().key.hex()
    token = {"hmac_token_id": "tok", "hmac_secret": base64.b64encode(b"s" * 32).decode()}
    cases: list[tuple[dict[str, Any], str]] = [
        ({"private_key": "", **token}, "private_key"),
        ({"private_key": "0x1234", **token}, "private_key"),
        ({"private_key": "zz" * 32, **token}, "private_key"),
        ({"private_key": key}, "api_key"),
        ({"private_key": key, "api_key": "has a space"}, "api_key"),
        ({"private_key": key, "hmac_token_id": "tok"}, "hmac_secret"),
        ({"private_key": key, "hmac_token_id": "tok", "hmac_secret": "not base64!"}, "hmac_secret"),
    ]
    for kwargs, name in cases:
        with pytest.raises(ValueError, match=name):
            LimitlessVenue("http://127.0.0.1:9", **kwargs)
    assert LimitlessVenue("http://127.0.0.1:9", private_key=key, **token).address == Account.from_key(key).address


# ---------------------------------------------------------------------------- limits and maintenance


def test_it_honours_retry_after_on_429(lmts: MakeTrader, slug: str, faults: Faults) -> None:
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        time.sleep(seconds)

    faults.limitless(rate_limit={"max_in_flight": 2, "min_interval_ms": 300, "retry_after_s": 1})
    trader = lmts(sleep=sleep)  # no client-side spacing: the venue's limiter answers 429
    trader.book(slug)
    start = time.monotonic()
    trader.book(slug)
    assert time.monotonic() - start >= 1.0 and slept == [1.0]
    assert trader.recorder.calls("GET", f"/markets/{slug}/orderbook") == [200, 429, 200]
    impatient = lmts(retries=0)
    impatient.book(slug)
    with pytest.raises(VenueThrottled, match="429") as caught:
        impatient.book(slug)
    assert isinstance(caught.value, VenueUnavailable) and caught.value.retry_after == 1.0


def test_it_stays_inside_the_rate_limit_from_several_threads(lmts: MakeTrader, slug: str, faults: Faults) -> None:
    faults.limitless(rate_limit={"max_in_flight": 2, "min_interval_ms": 250, "retry_after_s": 5})
    trader = lmts(min_interval_s=0.3, max_in_flight=2, retries=0)  # a 429 would raise
    start = time.monotonic()
    with ThreadPoolExecutor(3) as pool:
        books = list(pool.map(lambda _: trader.book(slug), range(5)))
    assert len(books) == 5 and time.monotonic() - start >= 4 * 0.3
    assert trader.recorder.calls("GET", f"/markets/{slug}/orderbook") == [200] * 5


def test_it_surfaces_maintenance_as_unavailable(lmts: MakeTrader, slug: str, faults: Faults) -> None:
    trader = lmts(retries=1)
    resting = trader.place(order(slug, "before", "BUY", "0.300", "1"))
    faults.limitless(maintenance="disabled")
    with pytest.raises(VenueUnavailable, match="503"):
        trader.place(order(slug, "during", "BUY", "0.300", "1"))
    assert trader.recorder.calls("POST", "/orders/status/batch") == [200, 200]  # looked up after each 503
    with pytest.raises(VenueUnavailable, match="503"):
        trader.cancel(resting.id)
    faults.limitless(maintenance="cancel_only")
    with pytest.raises(VenueUnavailable, match="cancels"):
        trader.place(order(slug, "during-2", "BUY", "0.300", "1"))
    assert trader.cancel(resting.id).status is OrderStatus.CANCELED
    faults.limitless(maintenance="post_only")
    posted = trader.place(order(slug, "maker-only", "BUY", "0.300", "1", post_only=True))
    with pytest.raises(VenueUnavailable, match="post-only"):
        trader.place(order(slug, "taker", "BUY", "0.300", "1"))
    faults.limitless(maintenance="")
    assert {o.client_order_id for o in trader.orders(market=slug)} == {resting.client_order_id, "maker-only"}
    assert posted.status is OrderStatus.LIVE


# ---------------------------------------------------------------------------- shapes


def test_it_maps_markets_and_the_book(lmts: MakeTrader, faults: Faults, monkeypatch: pytest.MonkeyPatch) -> None:
    trader = lmts()
    name = f"lc-{secrets.token_hex(4)}-m"
    faults.create_market(name, title="Will it?", description="Desc", note="Book note", resolution_text="Source",
                         close_in_seconds=3600, category="Crypto", market_type="crypto-hourly")  # fmt: skip
    market = trader.market(name)
    assert (market.title, market.description, market.note, market.resolution_text) == (
        "Will it?", "Desc", "Book note", "Source"
    )  # fmt: skip
    assert (market.status, market.category, market.market_type) == (MarketStatus.OPEN, "Crypto", "crypto-hourly")
    assert abs(market.close_time.timestamp() - time.time() - 3600) < 60
    monkeypatch.setattr(limitless_client, "MARKETS_PAGE", 2)  # walk many pages
    assert name in {m.slug for m in trader.markets()}
    assert len(trader.recorder.calls("GET", "/markets/active")) > 2
    faults.pause(name)
    assert trader.market(name).status is MarketStatus.PAUSED
    faults.resolve(name, "NO")
    resolved = trader.market(name)
    assert resolved.status is MarketStatus.RESOLVED and resolved.winning_outcome is Outcome.NO
    quoted = f"lc-{secrets.token_hex(4)}-s"
    faults.create_market(quoted, simulated=True, fair="0.5")
    faults.tick(3)  # the simulated makers quote
    book = trader.book(quoted)
    assert book.bids and book.asks and book.bids[0].price < book.asks[0].price
    assert [b.price for b in book.bids] == sorted((b.price for b in book.bids), reverse=True)
    assert all(lvl.size > 0 and lvl.size == lvl.size.quantize(D("0.001")) for lvl in book.bids + book.asks)
    with pytest.raises(VenueNotFound):
        trader.market("no-such-market")


def test_it_pages_fills_from_the_history(lmts: MakeTrader, slug: str, monkeypatch: pytest.MonkeyPatch) -> None:
    maker, taker = lmts(), lmts()
    maker.place(order(slug, "ask", "BUY", "0.600", "10", outcome="NO"))  # YES ask 0.400
    for i in range(5):
        taker.place(order(slug, f"t{i}", "BUY", "0.400", "1", kind="FAK"))
    monkeypatch.setattr(limitless_client, "HISTORY_PAGE", 2)
    fills = taker.fills()
    assert [(f.market, f.price, f.size) for f in fills] == [(slug, D("0.400"), D(1))] * 5
    assert len({f.id for f in fills}) == 5
    queries = [q for m, p, q, _, _ in taker.recorder.seen if p == "/portfolio/history"]
    assert len(queries) == 3 and queries[0] == "cursor=&limit=2" and "cursor=&" not in queries[1]
    assert [f.size for f in taker.fills(limit=2)] == [D(1), D(1)]
    assert maker.fills(market="other-market") == []


def test_it_reads_balance_and_chain_ledger_from_the_chain_reader(lmts: MakeTrader, slug: str, faults: Faults) -> None:
    chain = FakeChain("1234.5")
    maker, taker = lmts(chain=chain), lmts()
    no_bid = maker.place(order(slug, "no-bid", "BUY", "0.600", "10", outcome="NO"))
    maker.place(order(slug, "yes-bid", "BUY", "0.100", "3"))
    taker.place(order(slug, "take", "BUY", "0.400", "4", kind="FAK"))  # fills 4 of the NO bid
    [held] = maker.positions()
    assert (held.market, held.outcome, held.shares, held.avg_price) == (slug, Outcome.NO, D(4), D("0.6"))
    assert maker.balance() == Balance(usdc=D("1234.5"), locked=D("3.9"), available=D("1230.6"))  # 0.6x6 + 0.1x3
    assert maker.chain_ledger().positions == []  # nothing on chain yet
    chain.held[maker.market_keys(slug).no] = D(4)
    ledger = maker.chain_ledger()
    assert ledger.usdc == D("1234.5") and [(p.market, p.outcome, p.shares) for p in ledger.positions] == [
        (slug, Outcome.NO, D(4))
    ]
    assert maker.order(no_bid.id).settlement == "MATCHED" and not maker.order(no_bid.id).settled
    faults.settlement_lag(0)
    assert maker.order(no_bid.id).settled  # MINED: these shares may be sold
    with pytest.raises(VenueUnavailable, match="chain reader"):
        taker.balance()
    chain.usdc = lambda: (_ for _ in ()).throw(RuntimeError("rpc down"))  # type: ignore[method-assign]
    with pytest.raises(VenueUnavailable, match="rpc down"):
        maker.balance()


def test_it_scans_every_market_for_account_wide_reads_at_most_once_per_rescan(lmts: MakeTrader, slug: str) -> None:
    trader = lmts(rescan_s=60)
    placed = trader.place(order(slug, "scan", "BUY", "0.300", "1"))
    assert [o.id for o in trader.orders()] == [placed.id]
    listings = len(trader.recorder.calls("GET", "/markets/active"))
    assert listings >= 1
    assert [o.id for o in trader.orders(status=OrderStatus.LIVE)] == [placed.id]  # known markets only
    assert len(trader.recorder.calls("GET", "/markets/active")) == listings
    eager = lmts(rescan_s=0)
    eager.orders()
    eager.orders()
    assert len(eager.recorder.calls("GET", "/markets/active")) >= 2


# ---------------------------------------------------------------------------- what the paper venue cannot play

MOCK_KEY = Account.create()
EXCHANGE = Account.create().address
MARKET = {"slug": "m", "title": "M", "status": "FUNDED", "expirationTimestamp": 1924905600000,
          "tokens": {"yes": "11", "no": "22"}, "venue": {"exchange": EXCHANGE}}  # fmt: skip


def mock_venue(post_orders: Callable[[httpx.Request], httpx.Response], status: dict[str, Any]) -> LimitlessVenue:
    """A client over a mock Limitless: a profile, one market, POST /orders and the status lookup as given."""

    def handler(request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if path.startswith("/profiles/"):
            return httpx.Response(200, json={"id": 7, "account": MOCK_KEY.address, "rank": None})
        if path == "/markets/m":
            return httpx.Response(200, json=MARKET)
        if path == "/orders":
            return post_orders(request)
        if path == "/orders/status/batch":
            return httpx.Response(200, json=status)
        return httpx.Response(404, json={"statusCode": 404, "message": "nope"})

    return LimitlessVenue("http://lmts", private_key=MOCK_KEY.key.hex(), api_key="lmts_k",
                          transport=httpx.MockTransport(handler), sleep=lambda s: None, min_interval_s=0)  # fmt: skip


def test_it_reads_a_timed_out_place_back_in_the_documented_status_shape() -> None:
    sent: list[bytes] = []

    def post_orders(request: httpx.Request) -> httpx.Response:
        sent.append(request.read())
        raise httpx.ReadTimeout("slow")

    documented = {"results": [{"index": 0, "status": "found", "data": {
        "order": {"order": {"tokenId": "22", "side": "BUY", "price": "0.75", "makerAmount": 1_500_000,
                            "takerAmount": 2_000_000}, "id": "o-1", "status": "LIVE", "clientOrderId": "c-1"},
        "makerMatches": [], "execution": {"settlementStatus": "UNMATCHED", "clientOrderId": "c-1"}}}]}  # fmt: skip
    client = mock_venue(post_orders, documented)
    placed = client.place(order("m", "c-1", "BUY", "0.750", "2", outcome="NO"))
    assert (placed.id, placed.outcome, placed.price, placed.size, placed.status) == (
        "o-1", Outcome.NO, D("0.750"), D(2), OrderStatus.LIVE
    )  # fmt: skip
    assert len(sent) == 1  # found by its client order id: never sent twice
    body = httpx.Request("POST", "/", content=sent[0]).read()
    assert b'"clientOrderId":"c-1"' in body and b'"ownerId":7' in body and b'"feeRateBps":300' in body


def test_it_leaves_the_outcome_unknown_when_the_lookup_fails_too() -> None:
    def post_orders(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("slow")

    client = mock_venue(post_orders, {"results": "not a list"})
    client._status_of = lambda item: (_ for _ in ()).throw(VenueUnavailable("down"))  # type: ignore[method-assign]
    with pytest.raises(VenueTimeout, match="may or may not be at the venue"):  # a timeout, still unknown
        client.place(order("m", "c-2", "BUY", "0.500", "1"))


def test_it_never_calls_a_409_it_cannot_look_up_a_refusal() -> None:
    """A 409 says the order exists; a lookup that lags must leave the outcome unknown (never 'refused',
    which would let the agent send it again under a new id)."""

    def post_orders(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"statusCode": 409, "message": "duplicate clientOrderId"})

    client = mock_venue(post_orders, {"results": [{"index": 0, "status": "not_found"}]})
    with pytest.raises(VenueUnavailable, match="outcome unknown") as raised:
        client.place(order("m", "c-409", "BUY", "0.500", "1"))
    assert not isinstance(raised.value, VenueRejected)


def test_it_trusts_the_lookup_filter_when_the_answer_does_not_echo_the_client_order_id() -> None:
    found = {"results": [{"index": 0, "status": "found", "data": {
        "order": {"tokenId": "11", "side": 0, "price": 0.5, "makerAmount": 500_000, "takerAmount": 1_000_000,
                  "id": "o-9", "status": "LIVE", "marketSlug": "m"},
        "makerMatches": [], "execution": {"settlementStatus": "UNMATCHED"}}}]}

    def post_orders(request: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"statusCode": 409, "message": "duplicate clientOrderId"})

    placed = mock_venue(post_orders, found).place(order("m", "c-echo", "BUY", "0.500", "1"))
    assert placed.id == "o-9" and placed.client_order_id == "c-echo"


def markets_venue(pages: Callable[[int], dict[str, Any]]) -> LimitlessVenue:
    swept: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/markets/active":
            return httpx.Response(200, json=pages(int(request.url.params["page"])))
        if request.url.path.startswith("/orders/all/"):
            swept.append(request.url.path.rsplit("/", 1)[1])
            return httpx.Response(200, json={"message": "ok", "canceled": [], "failed": []})
        return httpx.Response(404, json={"statusCode": 404, "message": "nope"})

    client = LimitlessVenue("http://lmts", private_key=MOCK_KEY.key.hex(), api_key="lmts_k",
                            transport=httpx.MockTransport(handler), sleep=lambda s: None, min_interval_s=0)
    client.swept = swept  # type: ignore[attr-defined]
    return client


def test_it_refuses_to_call_a_sweep_complete_without_the_market_count() -> None:
    client = markets_venue(lambda page: {"data": [{"slug": f"m{page}-{i}"} for i in range(25)] if page < 3 else []})
    with pytest.raises(CancelIncomplete, match="totalMarketsCount"):
        client.cancel_all()


def test_it_sweeps_a_market_the_pages_shifted_past_and_the_children_of_a_group() -> None:
    listings = iter(range(100))
    first_pass = {"m-a": 1, "m-b": 1}

    def pages(page: int) -> dict[str, Any]:
        n = next(listings)
        if page > 1:
            return {"data": [], "totalMarketsCount": 2}
        if n == 0:  # the first pass misses m-b (it moved to another page while we listed)
            return {"data": [{"slug": "m-a", "markets": [{"slug": "m-a-child"}]}], "totalMarketsCount": 2}
        return {"data": [{"slug": s} for s in first_pass], "totalMarketsCount": 2}

    client = markets_venue(pages)
    client.cancel_all()
    assert {"m-a", "m-a-child", "m-b"} <= set(client.swept)  # type: ignore[attr-defined]


def test_it_sells_only_shares_the_chain_shows_settled(lmts: MakeTrader, faults: Faults) -> None:
    chain = FakeChain("1000")
    trader = lmts(chain=chain)
    faults.tick()
    market = "btc-above-100k-next-hour"
    bought = trader.place(order(market, "settle-buy", "BUY", "0.990", "2", kind="FAK"))
    assert bought.filled == D(2)  # REST shows the shares at once; the chain does not yet
    with pytest.raises(VenueRejected, match="insufficient settled shares"):
        trader.place(order(market, "settle-sell-1", "SELL", "0.010", "1", kind="FAK"))
    chain.held[trader.market_keys(market).token(Outcome.YES)] = D(2)  # mined
    sold = trader.place(order(market, "settle-sell-2", "SELL", "0.010", "1", kind="FAK"))
    assert sold.filled > 0


def test_it_treats_a_delayed_taker_order_as_accepted_and_reads_its_match_later(
    lmts: MakeTrader, faults: Faults
) -> None:
    trader = lmts()
    faults.tick()
    faults.limitless(taker_delay_s=0.3)
    market = "btc-above-100k-next-hour"
    placed = trader.place(order(market, "delay-1", "BUY", "0.990", "1", kind="FAK"))
    assert placed.status is OrderStatus.LIVE and placed.settlement == "DELAYED" and placed.filled == 0
    deadline = time.monotonic() + 5
    while trader.order(placed.id).status is OrderStatus.LIVE and time.monotonic() < deadline:
        time.sleep(0.1)
    later = trader.order(placed.id)
    assert later.id == placed.id and later.status is OrderStatus.MATCHED and later.filled == D(1)
    assert trader.order_by_client_id("delay-1").id == placed.id  # one order, never two
