"""Each tool in isolation against the fake venue, and the Toolbox's gatekeeping."""

from __future__ import annotations

import pytest

from agents.core.tools import TOOLS, CallRef, Prepared, ToolRefused

from .conftest import Harness, demo_spec


def run_tool(h: Harness, name: str, args: dict, **spec_kw: object):
    box = h.toolbox(demo_spec(**spec_kw))
    prepared = box.prepare(name, args)
    assert isinstance(prepared, Prepared), prepared
    return box.run(prepared, CallRef(step=0, index=0))


def test_it_offers_only_allowed_tools_with_strict_schemas(h: Harness) -> None:
    box = h.toolbox(demo_spec(allowed_tools=("get_market", "place_limit_order")))
    schemas = box.schemas()
    assert [s["name"] for s in schemas] == ["get_market", "place_limit_order"]
    params = schemas[1]["parameters"]
    assert params["additionalProperties"] is False and set(params["required"]) == {"market", "side", "price", "size"}
    with pytest.raises(ToolRefused):
        box.prepare("cancel_all", {})


def test_it_flags_exactly_the_side_effect_tools() -> None:
    assert {n for n, t in TOOLS.items() if t.side_effect} == {"place_limit_order", "cancel_order", "cancel_all"}


def test_it_browses_and_reads_a_market_with_book_and_own_orders(h: Harness) -> None:
    assert [m["slug"] for m in run_tool(h, "browse_markets", {})] == ["btc-up", "eth-up"]
    run_tool(h, "place_limit_order", {"market": "btc-up", "side": "BUY", "price": "0.41", "size": "5"})
    m = run_tool(h, "get_market", {"slug": "btc-up"})
    assert m["book"]["bids"][0] == {"price": "0.400", "size": "100"} and m["description"] == "Will it happen?"
    assert [o["price"] for o in m["my_open_orders"]] == ["0.41"]


def test_it_reports_freshness_against_the_clock(h: Harness) -> None:
    box = h.toolbox(demo_spec(stale_after_s=30))

    def fresh() -> dict:
        return box.run(box.prepare("check_freshness", {"slug": "btc-up"}), CallRef(0, 0))

    assert fresh()["stale"] is True and fresh()["never_fetched"] is True
    box.run(box.prepare("get_market", {"slug": "btc-up"}), CallRef(0, 1))
    h.clock.advance(10)
    assert (fresh()["age_s"], fresh()["stale"]) == (10.0, False)
    h.clock.advance(25)
    assert fresh()["stale"] is True and fresh()["seconds_to_close"] == 24 * 3600 - 35


def test_it_cancels_and_dry_runs_cancels(h: Harness) -> None:
    run_tool(h, "place_limit_order", {"market": "btc-up", "side": "BUY", "price": "0.41", "size": "5"})
    oid = h.venue.orders()[0].id
    assert run_tool(h, "cancel_all", {}, dry_run=True)["dry_run"] is True and h.venue.cancel_calls == []
    assert run_tool(h, "cancel_order", {"order_id": oid})["status"] == "CANCELED"


@pytest.mark.parametrize(
    ("name", "args", "expect"),
    [
        ("browse_markets", {"limit": 0}, "limit"),
        ("browse_markets", {"limit": "5"}, "limit"),  # strict int: no string coercion
        ("get_market", {"slug": "../etc"}, "slug"),
        ("get_market", {}, "slug: Field required"),
        ("place_limit_order", {"market": "btc-up", "side": "HOLD", "price": "0.4", "size": "1"}, "side"),
        ("place_limit_order", {"market": "btc-up", "side": "BUY", "price": "0.4", "size": "1.0001"}, "size"),
        ("get_balance", [], "JSON object"),
    ],
)
def test_it_explains_invalid_arguments(h: Harness, name: str, args: object, expect: str) -> None:
    error = h.toolbox(demo_spec()).prepare(name, args)
    assert isinstance(error, str) and error.startswith(f"invalid arguments for {name}") and expect in error
