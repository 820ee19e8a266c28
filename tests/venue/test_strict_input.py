"""Strict input over HTTP and the websocket, against the real venue process (issue 12, item 6).

Python's own parsers read "1_0", "١٠" and "１０" as 10 and recurse once per JSON nesting level;
the venue must refuse each of these with a 400 naming the field, store nothing, and never 500.
"""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Callable
from typing import Any

import httpx
import pytest
import websockets

from agents.venue.client import HttpVenue
from paper_venue.faults import Faults
from paper_venue.testing import RunningVenue
from tests.fuzz import random_document

Trader = Callable[..., HttpVenue]

# Each is 10 (or 1000) to Python's Decimal/int/float, and none is a plain ASCII decimal.
BAD_NUMBERS = [
    "1_0", "١٠", "１０", "۱۰", "१०", "1e3", "1E3", "1.0e1", " 10", "10 ", "10\n", "\t10", "+10", "0x10",
    "1,0", ".5", "5.", "NaN", "nan", "Infinity", "-Infinity", "inf", "", "1\u200b0", "١.٥",
]  # fmt: skip
NOT_NUMBERS: list[Any] = [True, False, None, [], {}, ["1"], {"value": "1"}]
BAD_IDS = ["a\x00b", "a\u202eb", "a\u200bb", "é", "ａ", "a b", "a/b", "a\nb", "x" * 129, "", "\ud800", 7, None, True]
BAD_SLUGS = [v if v != "x" * 129 else "x" * 201 for v in BAD_IDS] + ["-lead", ".lead"]


def _good(market: str, cid: str) -> dict[str, Any]:
    return {"market": market, "side": "BUY", "price": "0.400", "size": "10", "client_order_id": cid}


def _post(venue: RunningVenue, path: str, body: Any, headers: dict[str, str]) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(venue.url + path, content=content, headers=headers, timeout=30)


def _assert_400(r: httpx.Response, field: str, context: object) -> None:
    assert r.status_code == 400, (context, r.status_code, r.text)
    body = r.json()
    assert body["statusCode"] == 400 and body["message"].startswith(field), (context, body)


def test_it_refuses_non_ascii_and_non_plain_numbers_in_an_order(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    for field in ("price", "size"):
        for value in BAD_NUMBERS + NOT_NUMBERS:
            body = {**_good(market, f"bad-{field}"), field: value}
            _assert_400(_post(venue, "/paper/orders", body, headers), field, (field, value))
    assert trader.orders() == []  # nothing half-written: no order, not even a rejected one


def test_it_refuses_exponent_and_non_finite_json_number_literals(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    for literal in (b"1e3", b"1E+3", b"4.0e-1", b"1e400"):
        raw = b'{"market": "%s", "side": "BUY", "price": "0.4", "size": %s, "client_order_id": "lit"}' % (
            market.encode(), literal,
        )  # fmt: skip
        _assert_400(_post(venue, "/paper/orders", raw, headers), "size", literal)
    for literal in (b"NaN", b"Infinity", b"-Infinity"):
        raw = b'{"market": "%s", "side": "BUY", "price": %s, "size": "1", "client_order_id": "c"}' % (
            market.encode(), literal,
        )  # fmt: skip
        _assert_400(_post(venue, "/paper/orders", raw, headers), "body", literal)
    # Plain JSON numbers stay accepted (documented): 10 and 0.4 are what they say.
    ok = b'{"market": "%s", "side": "BUY", "price": 0.4, "size": 10, "client_order_id": "plain"}' % market.encode()
    r = _post(venue, "/paper/orders", ok, headers)
    assert r.status_code == 201 and r.json()["order"]["size"] == "10.000", r.text
    assert [o.client_order_id for o in trader.orders()] == ["plain"]


def test_it_refuses_client_order_ids_and_slugs_outside_the_strict_alphabet(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    for value in BAD_IDS:
        _assert_400(_post(venue, "/paper/orders", {**_good(market, "x"), "client_order_id": value}, headers),
                    "client_order_id", value)  # fmt: skip
    for value in BAD_SLUGS:
        _assert_400(_post(venue, "/paper/orders", {**_good(market, "y"), "market": value}, headers), "market", value)
    assert trader.orders() == []
    # What Academy itself generates is inside the alphabet: agent, flatten and simulator ids.
    for cid in ("ac-" + "0f" * 16, "flat-20261202053000-btc-above-100k-next-hour-YES", "sim-maker-1-42", "a.b:c_d"):
        r = _post(venue, "/paper/orders", _good(market, cid), headers)
        assert r.status_code == 201, (cid, r.text)


def test_it_refuses_bad_ids_in_paths_and_query_strings(venue: RunningVenue, make_trader: Trader) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    for raw in ("a%00b", "a%E2%80%AEb", "%D9%A1", "x" * 201, "%ED%A0%80", "-lead"):
        _assert_400(httpx.get(f"{venue.url}/paper/markets/{raw}"), "slug", raw)
        _assert_400(httpx.get(f"{venue.url}/paper/markets/{raw}/orderbook"), "slug", raw)
        _assert_400(httpx.delete(f"{venue.url}/paper/orders/all/{raw}", headers=headers), "slug", raw)
        _assert_400(httpx.get(f"{venue.url}/paper/orders?market={raw}", headers=headers), "market", raw)
        _assert_400(httpx.get(f"{venue.url}/paper/portfolio/fills?market={raw}", headers=headers), "market", raw)
    for raw in ("a%00b", "a%E2%80%AEb", "a%E2%80%8Bb", "x" * 129):
        _assert_400(httpx.get(f"{venue.url}/paper/orders/{raw}", headers=headers), "order_id", raw)
        _assert_400(httpx.delete(f"{venue.url}/paper/orders/{raw}", headers=headers), "order_id", raw)
        by_cid = httpx.get(f"{venue.url}/paper/orders?client_order_id={raw}", headers=headers)
        _assert_400(by_cid, "client_order_id", raw)
    for query in ("limit=1_0", "limit=%D9%A1%D9%A0", "limit=%EF%BC%91%EF%BC%90", "limit=%2010", "limit=1e3",
                  "limit=true", "limit=", "status=l%C4%B1ve"):  # fmt: skip
        _assert_400(httpx.get(f"{venue.url}/paper/orders?{query}", headers=headers), query.split("=")[0], query)
    _assert_400(_post(venue, "/paper/orders/cancel-batch", {"orderIds": ["ok", "a\x00"]}, headers), "orderIds", "batch")
    assert httpx.get(f"{venue.url}/paper/orders?limit=10", headers=headers).status_code == 200  # plain is fine


def test_it_refuses_deep_huge_and_malformed_bodies_with_a_4xx(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    deep = b"[" * 100_000 + b"]" * 100_000  # 200 kB: refused by size before anything parses it
    r = _post(venue, "/paper/orders", deep, headers)
    assert r.status_code == 413 and r.json()["message"].startswith("body"), r.text
    nested = b'{"market": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}"  # under the size cap, too deep
    _assert_400(_post(venue, "/paper/orders", nested, headers), "body", "nested")
    huge = json.dumps({**_good(market, "huge"), "pad": "x" * 5_000_000}).encode()
    r = _post(venue, "/paper/orders", huge, headers)
    assert r.status_code == 413 and r.json()["message"].startswith("body"), r.text
    for raw in (b"\xff\xfe{}", '{"a": 1}'.encode("utf-16"), b"\xef\xbb\xbf{}", b"{", b"[1]", b'"s"', b"\x00",
                b'{"size": ' + b"9" * 100 + b"}"):  # fmt: skip
        _assert_400(_post(venue, "/paper/orders", raw, headers), "body", raw[:20])
    lone = b'{"market": "m", "client_order_id": "\\ud800"}'  # an escaped lone surrogate cannot be stored
    _assert_400(_post(venue, "/paper/orders", lone, headers), "client_order_id", lone)
    assert trader.orders() == []
    assert httpx.get(venue.url + "/healthz").status_code == 200


def test_it_refuses_bad_fault_control_input_naming_the_field(venue: RunningVenue, faults: Faults, market: str) -> None:
    token = {"X-Faults-Token": venue.faults_token}
    cases: list[tuple[str, dict[str, Any], str]] = []
    for value in ["1_0", "١٠", "１０", " 1", "1e1", True]:
        cases += [
            (f"/_faults/markets/{market}/shock", {"price": value}, "price"),
            ("/_faults/chain/drift", {"account": "academy", "usdc": value}, "usdc"),
            ("/_faults/chain/lag", {"seconds": value}, "seconds"),
            ("/_faults/http", {"latency_ms": value}, "latency_ms"),
            ("/_faults/http", {"error_rate": value}, "error_rate"),
            ("/_faults/tick", {"n": value}, "n"),
            ("/_faults/markets", {"slug": "strict-bad", "fair": value}, "fair"),
            ("/_faults/markets", {"slug": "strict-bad", "close_in_seconds": value}, "close_in_seconds"),
            ("/_faults/accounts", {"name": "strict-bad", "api_key": "strict-bad-key-0", "usdc": value}, "usdc"),
        ]
    cases += [
        ("/_faults/markets", {"slug": "strict-bad", "simulated": "yes"}, "simulated"),
        ("/_faults/accounts", {"name": "strict-bad", "api_key": "key\x00with-nul"}, "api_key"),
        ("/_faults/chain/drift", {"account": "acad\u202eemy", "usdc": "1"}, "account"),
        ("/_faults/chain/drift", {"account": "academy", "market": "m\x00", "outcome": "YES", "shares": "1"}, "market"),
    ]
    for path, body, field in cases:
        _assert_400(_post(venue, path, body, token), field, (path, body))
    assert faults.state()["latency_ms"] == 0 and venue.url  # no fault was half-applied
    assert httpx.get(venue.url + "/paper/markets/strict-bad").status_code == 404


def test_it_answers_fuzzed_requests_with_2xx_or_4xx_only(venue: RunningVenue, make_trader: Trader) -> None:
    trader = make_trader()
    headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
    rng = random.Random(12)
    paths = ["/paper/orders", "/paper/orders/cancel-batch", "/_faults/http", "/_faults/tick"]
    with httpx.Client(base_url=venue.url, timeout=30) as client:
        for i in range(300):
            body = _fuzz_body(rng) if i % 2 else bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200)))
            hdrs = {**headers, "X-Faults-Token": venue.faults_token} if i % 4 == 3 else headers
            path = paths[i % len(paths)]  # the fuzz keys are no fault field: nothing real is injected
            r = client.post(path, content=body, headers=hdrs)
            assert r.status_code < 500, (path, body[:200], r.status_code, r.text)
    assert httpx.get(venue.url + "/healthz").status_code == 200


def _fuzz_body(rng: random.Random) -> bytes:
    """A random JSON document of the venue's field names and odd values (some cut short or too deep)."""
    keys = ["market", "side", "price", "size", "client_order_id", "orderIds", "n", "post_only", "outcome", "x"]
    leaves = [*BAD_NUMBERS, *BAD_IDS[:-4], True, None, 0, -1, 10**30, "0.5", "BUY", "YES", "ok", 1.5]
    return random_document(rng, keys, leaves, max_depth=40).encode("utf-8", "surrogatepass")


def test_it_answers_bad_websocket_frames_with_an_error_and_keeps_the_session(
    venue: RunningVenue, make_trader: Trader, market: str
) -> None:
    trader = make_trader()

    async def scenario() -> tuple[list[str], str]:
        headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
        async with websockets.connect(venue.ws_url, additional_headers=headers, max_size=None) as ws:
            await _recv_type(ws, "welcome")
            errors = []
            frames: list[str | bytes] = [
                "[" * 100_000 + "]" * 100_000,  # over the frame cap
                "[" * 5000 + "]" * 5000,  # under the cap, too deep
                b"\x00\x01binary",
                json.dumps({"op": "subscribe", "channel": "orderbook", "markets": ["m\u202ex"]}),
                json.dumps({"op": "flag", "order_ids": ["a\x00b"]}),
                json.dumps({"op": "flag", "order_ids": ["ok"] * 1001}),
            ]
            for frame in frames:
                await ws.send(frame)
                errors.append((await _recv_type(ws, "error"))["message"])
            await ws.send(json.dumps({"op": "subscribe", "channel": "orderbook", "markets": [market]}))
            book = await _recv_type(ws, "orderbook")
            return errors, book["stream"]

    errors, stream = asyncio.run(scenario())
    assert [e.split(":")[0] for e in errors] == ["body", "body", "body", "markets", "order_ids", "order_ids"], errors
    assert stream == f"book:{market}"  # the session lived through every bad frame


async def _recv_type(ws: Any, kind: str) -> dict[str, Any]:
    while True:
        msg = json.loads(await asyncio.wait_for(ws.recv(), 10))
        if msg.get("type") == kind:
            return msg


@pytest.mark.parametrize("frame", ["{", '{"op": 1}', "null", '"text"'])
def test_it_answers_malformed_websocket_json_without_closing(venue: RunningVenue, frame: str) -> None:
    async def scenario() -> str:
        async with websockets.connect(venue.ws_url, additional_headers={"X-API-Key": venue.api_key}) as ws:
            await _recv_type(ws, "welcome")
            await ws.send(frame)
            error = await _recv_type(ws, "error")
            await ws.send(json.dumps({"op": "ping", "nonce": 5}))
            assert (await _recv_type(ws, "pong"))["nonce"] == 5
            return str(error["message"])

    assert asyncio.run(scenario())


def test_it_refuses_a_key_given_twice(venue: RunningVenue, make_trader: Trader, market: str) -> None:
    trader = make_trader()
    body = (b'{"market": "%s", "side": "BUY", "price": "0.100", "price": "0.200", "size": "1", '
            b'"client_order_id": "twice-1"}' % market.encode())
    r = _post(venue, "/paper/orders", body, {"X-API-Key": trader.api_key, "Content-Type": "application/json"})
    assert r.status_code == 400 and "twice" in r.json()["message"], r.text
    assert trader.orders() == []  # which price was meant? neither is stored


def test_it_keeps_the_session_and_its_orders_after_an_odd_ping_nonce(venue: RunningVenue, make_trader: Trader,
                                                                      market: str) -> None:
    trader = make_trader()

    async def scenario() -> dict[str, Any]:
        headers = {"X-API-Key": trader.api_key}  # type: ignore[attr-defined]
        async with websockets.connect(venue.ws_url, additional_headers=headers) as ws:
            await _recv_type(ws, "welcome")
            await ws.send(json.dumps({"op": "pong", "nonce": 1.5}))
            await ws.send(json.dumps({"op": "ping", "nonce": 1.5}))
            await ws.send(json.dumps({"op": "subscribe", "channel": "orderbook", "markets": [market]}))
            return await _recv_type(ws, "orderbook")

    assert asyncio.run(scenario())["stream"] == f"book:{market}"  # the session lived on
