"""place_order_safe: hard limits, soft limits, idempotency, dry run, fail-closed inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest

from agents.core.orders import OrderIntent, client_order_id, place_order_safe
from agents.core.ports import VenueError
from agents.core.spec import HardLimits
from agents.venue.schemas import Position, Side

from .conftest import Harness, demo_spec
from .fakes import make_market


def buy(size: str, price: str = "0.400", market: str = "btc-up") -> OrderIntent:
    return OrderIntent(market=market, side=Side.BUY, price=Decimal(price), size=Decimal(size))


def place(h: Harness, intent: OrderIntent, *, step: int = 0, call: int = 0, **spec_kw: object):
    return place_order_safe(h.desk(demo_spec(**spec_kw)), intent, step=step, call_index=call)


def test_it_places_a_small_order_with_a_deterministic_client_id(h: Harness) -> None:
    res = place(h, buy("10"), step=2, call=5)
    assert res.status == "placed" and res.notional == Decimal("4.000")
    assert res.client_order_id == client_order_id("run-1", 2, 5) == h.venue.place_calls[0].client_order_id
    assert res.client_order_id.startswith("ac-") and len(res.client_order_id) <= 128


def test_it_derives_stable_distinct_client_ids() -> None:
    assert client_order_id("r", 1, 2) == client_order_id("r", 1, 2)
    assert len({client_order_id("r", 1, 2), client_order_id("r", 2, 1), client_order_id("r2", 1, 2),
                client_order_id("r", 12, 1), client_order_id("r", 1, 21)}) == 5


def test_it_never_doubles_an_order_on_retry(h: Harness) -> None:
    first = place(h, buy("10"), step=1, call=3)
    again = place(h, buy("10"), step=1, call=3)
    assert again.status == "placed" and again.duplicate and again.order == first.order
    assert len(h.venue.place_calls) == 1 and len(h.venue.orders()) == 1


def test_it_finds_an_order_that_landed_although_the_call_failed(h: Harness) -> None:
    def land_then_fail(req):
        h.venue.on_place = None
        h.venue.place(req)
        raise VenueError("connection reset after send")

    h.venue.on_place = land_then_fail
    res = place(h, buy("10"))
    assert res.status == "placed" and len(h.venue.orders()) == 1


@pytest.mark.parametrize(
    ("intent", "spec_kw", "reason"),
    [
        (buy("30"), {}, "per-order cap"),  # 12 USDC > 10
        (OrderIntent(market="btc-up", side=Side.SELL, price=Decimal("0.100"), size=Decimal("12")), {},
         "per-order cap"),  # a sell risks (1-p)*size = 10.8
        (buy("10", "0.4005"), {}, "tick"),
        (buy("0", "0.400"), {}, "size"),
        (buy("10", "1.000"), {}, "strictly between 0 and 1"),
    ],
)
def test_it_rejects_on_hard_limits_and_shape(h: Harness, intent: OrderIntent, spec_kw: dict, reason: str) -> None:
    res = place(h, intent, **spec_kw)
    assert res.status == "rejected" and reason in res.reason
    assert h.venue.place_calls == [] and h.events("refusal")[0]["data"]["reason"] == res.reason


def test_it_rejects_past_the_daily_notional(h: Harness) -> None:
    wide = HardLimits(max_order_notional="10", max_daily_notional="50", max_open_positions=3,
                      max_market_exposure="1000")
    for i in range(12):  # 12 x 4 USDC = 48 of 50
        assert place(h, buy("10"), call=i, hard=wide).status == "placed"
    res = place(h, buy("10"), call=12, hard=wide)
    assert res.status == "rejected" and "daily notional would be 52.000 USDC, over the daily cap 50" in res.reason


def test_it_rejects_a_new_market_past_max_open_positions(h: Harness) -> None:
    h.venue.positions_list = [Position(market=m, outcome="YES", shares=Decimal("1"), avg_price=Decimal("0.5"))
                              for m in ("a", "b", "c")]
    res = place(h, buy("10"))
    assert res.status == "rejected" and "3 markets already open" in res.reason


def test_it_rejects_past_the_per_market_exposure(h: Harness) -> None:
    h.venue.positions_list = [Position(market="btc-up", outcome="YES", shares=Decimal("40"),
                                       avg_price=Decimal("0.45"))]  # 18 USDC already
    res = place(h, buy("10"))
    assert res.status == "rejected" and "exposure in btc-up would be 22" in res.reason


def test_it_rejects_when_exposure_cannot_be_computed(h: Harness) -> None:
    def broken():
        raise VenueError("positions endpoint down")

    h.venue.before["positions"] = broken
    res = place(h, buy("10"))
    assert res.status == "rejected" and "exposure could not be computed" in res.reason and not h.venue.place_calls


def test_it_asks_for_approval_above_the_approval_size(h: Harness) -> None:
    res = place(h, buy("20"))  # 8 USDC: under the hard cap 10, over the approval size 5
    assert res.status == "pending_approval" and res.approval_id == "apr-1"
    assert h.venue.place_calls == [] and "above the approval size" in h.approvals[0].reasons[0]
    assert res.for_model()["message"].startswith("pending approval")
    assert h.events("approval_requested")[0]["data"]["approval_id"] == "apr-1"


def test_it_asks_for_approval_on_a_new_market_type(h: Harness) -> None:
    h.venue.add_market(*make_market("election", market_type="politics"))
    res = place(h, buy("5", market="election"))
    assert res.status == "pending_approval" and "'politics' has never been traded" in res.reason


def test_it_places_an_approved_order_but_still_enforces_hard_limits(h: Harness) -> None:
    desk = h.desk(demo_spec())
    assert place_order_safe(desk, buy("20"), step=0, call_index=0, approved=True).status == "placed"
    assert place_order_safe(desk, buy("30"), step=0, call_index=1, approved=True).status == "rejected"


def test_it_rejects_when_the_approval_cannot_be_recorded(h: Harness) -> None:
    def sink(draft):
        raise RuntimeError("db locked")

    desk = h.desk(demo_spec())
    desk = desk.__class__(**{**desk.__dict__, "approvals": sink})
    res = place_order_safe(desk, buy("20"), step=0, call_index=0)
    assert res.status == "rejected" and "approval request could not be recorded" in res.reason


def test_it_simulates_in_dry_run_and_sends_nothing(h: Harness) -> None:
    res = place(h, buy("10"), dry_run=True)
    assert res.status == "simulated" and res.order is not None and res.order.id.startswith("dry-")
    assert h.venue.place_calls == [] and h.venue.orders() == []
    assert h.events("order_placed")[0]["data"]["dry_run"] is True


def test_it_halts_when_the_guard_trips_right_before_placing(h: Harness) -> None:
    h.flag.touch()
    res = place(h, buy("10"))
    assert res.status == "halted" and "kill switch flag" in res.reason and h.venue.place_calls == []


def test_it_applies_override_limits_only_when_tighter(h: Harness) -> None:
    (h.tmp / "override.json").write_text('{"limits": {"max_order_notional": "3", "max_daily_notional": "999"}}')
    assert place(h, buy("10")).reason.endswith("per-order cap 3 USDC")  # tightened 10 -> 3
    (h.tmp / "override.json").write_text('{"limits": {"max_order_notional": "500"}}')
    assert "per-order cap 10 USDC" in place(h, buy("30")).reason  # 500 would loosen: ignored


def test_it_rejects_a_closed_market(h: Harness) -> None:
    h.venue.add_market(*make_market("done", status="closed"))
    res = place(h, buy("5", market="done"))
    assert res.status == "rejected" and "is closed, not open" in res.reason
