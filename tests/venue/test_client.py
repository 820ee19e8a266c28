"""HttpVenue over httpx.MockTransport: retry policy and error classes, without a network."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import httpx
import pytest

from agents.venue.client import (
    HttpVenue,
    VenueAuthError,
    VenueNotFound,
    VenueRejected,
    VenueTimeout,
    VenueUnavailable,
)
from agents.venue.schemas import OrderRequest, Side

BALANCE = {"usdc": "10", "locked": "0", "available": "10"}
ORDER = {
    "id": "ord_1", "client_order_id": "c1", "market": "m", "side": "BUY", "outcome": "YES", "price": "0.5",
    "size": "1", "filled": "0", "remaining": "1", "order_type": "GTC", "status": "LIVE",
    "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z",
}  # fmt: skip


def venue_with(answers: list[Any]) -> tuple[HttpVenue, list[httpx.Request]]:
    """A client whose transport plays the given answers (a Response or an exception) in order."""
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        answer = answers[min(len(seen), len(answers)) - 1]
        if isinstance(answer, Exception):
            raise answer
        return answer  # type: ignore[no-any-return]

    client = HttpVenue("http://venue", "k", transport=httpx.MockTransport(handler), sleep=lambda s: None)
    return client, seen


def err(status: int, message: str = "nope") -> httpx.Response:
    return httpx.Response(status, json={"statusCode": status, "message": message, "error": "x"})


REQ = OrderRequest(market="m", side=Side.BUY, price=Decimal("0.5"), size=Decimal(1), client_order_id="c1")


def test_it_retries_reads_through_5xx_and_connection_errors() -> None:
    client, seen = venue_with([err(503), httpx.ConnectError("down"), httpx.Response(200, json=BALANCE)])
    assert client.balance().usdc == Decimal(10)
    assert len(seen) == 3 and all(r.headers["X-API-Key"] == "k" for r in seen)


def test_it_retries_a_place_with_the_same_client_order_id() -> None:
    client, seen = venue_with([httpx.ReadTimeout("slow"), httpx.Response(200, json={"order": ORDER})])
    assert client.place(REQ).id == "ord_1"
    assert [r.read() for r in seen][0] == seen[1].read()  # byte-identical retry


@pytest.mark.parametrize(
    ("answer", "error"),
    [
        (err(400, "price: bad"), VenueRejected),
        (err(401), VenueAuthError),
        (err(404), VenueNotFound),
    ],
)
def test_it_never_retries_a_4xx(answer: httpx.Response, error: type[Exception]) -> None:
    client, seen = venue_with([answer])
    with pytest.raises(error):
        client.place(REQ)
    assert len(seen) == 1


def test_it_raises_unavailable_or_timeout_once_retries_run_out() -> None:
    client, seen = venue_with([err(502)])
    with pytest.raises(VenueUnavailable, match="502"):
        client.balance()
    assert len(seen) == 4
    client, _ = venue_with([httpx.ConnectTimeout("x")])
    with pytest.raises(VenueTimeout):
        client.balance()


def test_it_carries_the_stored_rejected_order_on_a_rejection() -> None:
    body = {"statusCode": 400, "message": "order rejected: insufficient funds", "error": "Bad Request",
            "order": {**ORDER, "status": "REJECTED", "reason": "insufficient funds"}}  # fmt: skip
    client, _ = venue_with([httpx.Response(400, json=body)])
    with pytest.raises(VenueRejected) as caught:
        client.place(REQ)
    assert caught.value.reason == "insufficient funds" and caught.value.order is not None


def test_it_quotes_ids_into_the_path() -> None:
    client, seen = venue_with([httpx.Response(200, json=ORDER)])
    client.order("../portfolio/balances")
    assert seen[0].url.raw_path == b"/paper/orders/..%2Fportfolio%2Fbalances"


def test_it_sends_the_session_header_only_when_bound() -> None:
    client, seen = venue_with([httpx.Response(201, json={"order": ORDER})])
    client.place(REQ)
    client.session_id = "ws_1"
    client.place(REQ)
    assert "X-Session-Id" not in seen[0].headers and seen[1].headers["X-Session-Id"] == "ws_1"


def test_it_ignores_an_order_with_another_client_id_when_the_venue_ignores_the_filter():
    import httpx

    from agents.venue.client import HttpVenue

    other = {"id": "o1", "client_order_id": "someone-else", "market": "m", "side": "BUY", "outcome": "YES",
             "price": "0.5", "size": "1", "filled": "0", "remaining": "1", "order_type": "GTC", "status": "LIVE",
             "created_at": "2026-01-01T00:00:00Z", "updated_at": "2026-01-01T00:00:00Z"}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"data": [other]}))
    venue = HttpVenue("http://venue.test", "k", transport=transport)
    assert venue.order_by_client_id("mine") is None
