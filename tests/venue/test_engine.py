"""Unit tests of the exchange engine, in process (through LocalVenue where an account acts)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from agents.venue.client import Venue, VenueNotFound, VenueRejected
from agents.venue.schemas import MarketStatus, OrderRequest, OrderStatus, OrderType, Outcome, Side
from paper_venue.engine import STP_REASON, Engine
from paper_venue.local import LocalVenue
from tests.venue.helpers import Clock, open_engine, quiet_market

D = Decimal


def req(
    cid: str, side: str, price: str, size: str, outcome: str = "YES", kind: str = "GTC", **kw: object
) -> OrderRequest:
    return OrderRequest(
        market="m", side=Side(side), outcome=Outcome(outcome), price=D(price), size=D(size),
        order_type=OrderType(kind), client_order_id=cid, **kw,  # type: ignore[arg-type]
    )  # fmt: skip


def test_it_implements_the_venue_protocol(engine: Engine) -> None:
    assert isinstance(LocalVenue(engine, "alice"), Venue)


def test_it_matches_by_price_then_time_with_partial_fills(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    first = alice.place(req("a1", "BUY", "0.40", "5"))
    second = alice.place(req("a2", "BUY", "0.40", "5"))
    better = alice.place(req("a3", "BUY", "0.41", "5"))
    # bob sells YES by buying NO: a NO bid at 0.62 is a YES ask at 0.38, crossing all three
    taker = bob.place(req("b1", "BUY", "0.62", "8", outcome="NO", kind="FAK"))
    assert taker.status is OrderStatus.MATCHED and taker.filled == D(8)
    assert alice.order(better.id).status is OrderStatus.MATCHED  # best price first
    assert alice.order(first.id).filled == D(3)  # then the oldest at 0.40, partly
    assert alice.order(first.id).status is OrderStatus.LIVE
    assert alice.order(second.id).filled == D(0)
    fills = bob.fills()
    assert [(f.price, f.size) for f in fills] == [
        (D("0.590"), D(5)),
        (D("0.600"), D(3)),
    ]  # NO price = 1 - maker YES price
    assert {(p.outcome, p.shares) for p in bob.positions()} == {(Outcome.NO, D(8))}


def test_it_gives_the_taker_the_maker_price_and_releases_the_difference(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.70", "10", outcome="NO"))  # YES ask at 0.30
    alice.place(req("a1", "BUY", "0.50", "10"))
    bal = alice.balance()
    assert bal.usdc == D(1000) - D(3) and bal.locked == 0 and bal.available == D(997)


def test_it_kills_an_fok_that_cannot_fill_completely(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    resting = bob.place(req("b1", "BUY", "0.60", "4", outcome="NO"))  # 4 YES offered at 0.40
    fok = alice.place(req("a1", "BUY", "0.40", "5", kind="FOK"))
    assert fok.status is OrderStatus.CANCELED and fok.filled == 0 and "FOK" in fok.reason
    assert bob.order(resting.id).filled == 0  # nothing traded
    assert alice.balance().locked == 0 and alice.balance().usdc == D(1000)
    ok = alice.place(req("a2", "BUY", "0.40", "4", kind="FOK"))
    assert ok.status is OrderStatus.MATCHED and ok.filled == D(4)


def test_it_fills_what_it_can_of_a_fak_and_cancels_the_rest(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.60", "4", outcome="NO"))
    fak = alice.place(req("a1", "BUY", "0.45", "10", kind="FAK"))
    assert fak.status is OrderStatus.CANCELED and fak.filled == D(4) and fak.remaining == 0
    assert alice.balance().locked == 0
    assert alice.orders(status=OrderStatus.LIVE) == []
    assert engine.book("m").asks == [] and engine.book("m").bids == []


def test_it_cancels_the_resting_maker_on_a_self_trade(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    own = alice.place(req("a1", "BUY", "0.60", "5", outcome="NO"))  # alice's YES ask at 0.40
    bob.place(req("b1", "BUY", "0.59", "5", outcome="NO"))  # bob's YES ask at 0.41, behind it
    taker = alice.place(req("a2", "BUY", "0.45", "5", kind="FAK"))
    stopped = alice.order(own.id)
    assert stopped.status is OrderStatus.CANCELED and stopped.reason == STP_REASON and stopped.filled == 0
    assert taker.filled == D(5)
    assert [f.price for f in alice.fills()] == [D("0.410")]  # traded with bob, never with itself


def test_it_rejects_an_unfunded_order_with_a_reason_and_stores_it(engine: Engine) -> None:
    alice = LocalVenue(engine, "alice")
    with pytest.raises(VenueRejected, match="insufficient funds") as caught:
        alice.place(req("a1", "BUY", "0.50", "2001"))
    assert caught.value.order is not None and caught.value.order.status is OrderStatus.REJECTED
    assert alice.balance().locked == 0
    assert alice.order_by_client_id("a1").status is OrderStatus.REJECTED  # type: ignore[union-attr]


def test_it_refuses_to_sell_shares_the_account_does_not_hold(engine: Engine) -> None:
    alice = LocalVenue(engine, "alice")
    with pytest.raises(VenueRejected, match="insufficient shares"):
        alice.place(req("a1", "SELL", "0.50", "1"))
    assert alice.positions() == []


def test_it_locks_shares_offered_for_sale_so_they_cannot_be_sold_twice(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.60", "5", outcome="NO"))
    alice.place(req("a1", "BUY", "0.40", "5", kind="FAK"))  # alice now holds 5 YES
    alice.place(req("a2", "SELL", "0.90", "5"))
    with pytest.raises(VenueRejected, match="insufficient shares"):
        alice.place(req("a3", "SELL", "0.95", "1"))


def test_it_returns_the_first_order_for_a_repeated_client_order_id(engine: Engine) -> None:
    alice = LocalVenue(engine, "alice")
    first = alice.place(req("same", "BUY", "0.30", "1"))
    again = alice.place(req("same", "BUY", "0.31", "9"))
    assert again.id == first.id and again.price == D("0.300")
    assert len(alice.orders()) == 1
    assert alice.balance().locked == D("0.3")


def test_it_rejects_a_post_only_order_that_would_match(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.60", "5", outcome="NO"))
    with pytest.raises(VenueRejected, match="post-only"):
        alice.place(req("a1", "BUY", "0.40", "5", post_only=True))
    maker = alice.place(req("a2", "BUY", "0.39", "5", post_only=True))
    assert maker.status is OrderStatus.LIVE


def test_it_refuses_bad_prices_and_sizes_without_storing_anything(engine: Engine) -> None:
    alice = LocalVenue(engine, "alice")
    for price, size in [("0", "1"), ("1", "1"), ("0.0005", "1"), ("0.5", "0"), ("0.5", "0.0001"), ("0.5", "-1")]:
        with pytest.raises(VenueRejected):
            alice.place(req(f"bad-{price}-{size}", "BUY", price, size))
    with pytest.raises(VenueNotFound):
        alice.place(OrderRequest(market="nope", side=Side.BUY, price=D("0.5"), size=D(1), client_order_id="x"))
    assert alice.orders() == []


def test_it_refuses_new_orders_in_a_paused_market_but_still_cancels(engine: Engine) -> None:
    alice = LocalVenue(engine, "alice")
    resting = alice.place(req("a1", "BUY", "0.30", "1"))
    engine.set_status("m", MarketStatus.PAUSED)
    with pytest.raises(VenueRejected, match="paused"):
        alice.place(req("a2", "BUY", "0.30", "1"))
    assert alice.cancel(resting.id).status is OrderStatus.CANCELED
    engine.set_status("m", MarketStatus.OPEN)
    assert alice.place(req("a3", "BUY", "0.30", "1")).status is OrderStatus.LIVE


def test_it_settles_positions_at_one_or_zero_on_resolution(engine: Engine) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.60", "10", outcome="NO"))
    alice.place(req("a1", "BUY", "0.40", "10", kind="FAK"))  # alice 10 YES @0.40, bob 10 NO @0.60
    resting = alice.place(req("a2", "BUY", "0.10", "5"))
    engine.resolve("m", Outcome.YES)
    assert alice.balance().usdc == D(1000) - D(4) + D(10) and alice.balance().locked == 0
    assert bob.balance().usdc == D(1000) - D(6)
    assert alice.positions() == [] and bob.positions() == []
    assert alice.order(resting.id).status is OrderStatus.CANCELED
    assert engine.market("m").status is MarketStatus.RESOLVED and engine.market("m").winning_outcome is Outcome.YES
    with pytest.raises(VenueRejected, match="resolved"):
        alice.place(req("a3", "BUY", "0.10", "5"))


def test_it_cancels_all_of_an_account_in_one_market_only(engine: Engine) -> None:
    engine.create_market(quiet_market("other", engine.clock()))
    alice = LocalVenue(engine, "alice")
    for i in range(20):
        alice.place(req(f"a{i}", "BUY", "0.20", "1"))
    other = alice.place(OrderRequest(market="other", side=Side.BUY, price=D("0.2"), size=D(1), client_order_id="o1"))
    result = alice.cancel_all("m")
    assert len(result.canceled) == 20
    assert engine.book("m").bids == []
    assert alice.order(other.id).status is OrderStatus.LIVE
    assert alice.balance().locked == D("0.2")


def test_it_settles_fills_into_the_chain_ledger_after_the_lag(engine: Engine, clock: Clock) -> None:
    alice, bob = LocalVenue(engine, "alice"), LocalVenue(engine, "bob")
    bob.place(req("b1", "BUY", "0.60", "10", outcome="NO"))
    alice.place(req("a1", "BUY", "0.40", "10", kind="FAK"))
    before = alice.chain_ledger()
    assert before.usdc == D(1000) and before.positions == [] and before.pending == 1
    clock.now += 10
    after = alice.chain_ledger()
    assert after.usdc == alice.balance().usdc and after.pending == 0
    assert [(p.market, p.outcome, p.shares) for p in after.positions] == [("m", Outcome.YES, D(10))]


def test_it_replays_the_same_market_history_from_the_same_seed(tmp_path: Path) -> None:
    def history(seed: int, name: str) -> list[tuple[str, str, str]]:
        eng = open_engine(tmp_path / name, Clock(), seed=seed, demo=True)
        for _ in range(30):
            eng.tick()
        books = [(m.slug, str(m.last_price), str(eng.book(m.slug).bids[:1])) for m in eng.markets()]
        eng.close()
        return books

    assert history(5, "a.sqlite3") == history(5, "b.sqlite3")
    assert history(5, "c.sqlite3") != history(6, "d.sqlite3")


def test_it_keeps_every_demo_book_two_sided_while_simulating(tmp_path: Path) -> None:
    eng = open_engine(tmp_path / "v.sqlite3", Clock(), seed=3, demo=True)
    for _ in range(50):
        eng.tick()
        for market in eng.markets():
            book = eng.book(market.slug)
            assert book.bids and book.asks and book.bids[0].price < book.asks[0].price
    eng.close()


def test_it_reloads_orders_balances_and_locks_from_its_file(tmp_path: Path) -> None:
    clock = Clock()
    eng = open_engine(tmp_path / "v.sqlite3", clock)
    alice, bob = LocalVenue(eng, "alice"), LocalVenue(eng, "bob")
    bob.place(req("b1", "BUY", "0.60", "10", outcome="NO"))
    alice.place(req("a1", "BUY", "0.40", "4", kind="FAK"))
    resting = alice.place(req("a2", "BUY", "0.20", "5"))
    before = (alice.balance(), alice.positions(), alice.orders(), bob.fills(), eng.book("m"))
    eng.close()
    again = open_engine(tmp_path / "v.sqlite3", clock)
    alice2, bob2 = LocalVenue(again, "alice"), LocalVenue(again, "bob")
    assert (alice2.balance(), alice2.positions(), alice2.orders(), bob2.fills(), again.book("m")) == before
    assert alice2.place(req("a2", "BUY", "0.99", "1")).id == resting.id  # idempotency survives too
    again.close()


def test_it_charges_a_taker_fee_in_contracts_on_a_buy_and_in_usdc_on_a_sell(engine: Engine) -> None:
    """The Limitless surface passes a fee schedule; only the incoming order's fills pay it, never the maker's."""
    fee = lambda side, price: 200 if side is Side.BUY else 100  # noqa: E731 - bps by side
    alice = LocalVenue(engine, "alice")
    alice.place(req("rest-ask", "BUY", "0.60", "10", outcome="NO"))  # a YES ask at 0.40, resting: a maker
    engine.place("bob", req("take", "BUY", "0.40", "10"), taker_fee=fee)
    bob = LocalVenue(engine, "bob")
    assert [(p.outcome, p.shares) for p in bob.positions()] == [(Outcome.YES, D("9.8"))]  # 2% of 10 contracts
    assert bob.balance().usdc == D(1000) - D(4)  # the USDC side is untouched on a buy
    assert [(p.outcome, p.shares) for p in alice.positions()] == [(Outcome.NO, D(10))]  # the maker pays nothing
    alice.place(req("rest-bid", "BUY", "0.50", "5"))  # a YES bid at 0.50
    engine.place("bob", req("sell", "SELL", "0.50", "5"), taker_fee=fee)
    assert bob.balance().usdc == D(996) + D("2.5") - D("0.025")  # 1% of the 2.50 USDC proceeds
