"""The paper chain's JSON-RPC endpoint (/rpc) against the real venue process, and ChainReader over it."""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import httpx
import pytest
from eth_abi import encode

from agents.venue.chain_reader import ChainReader, ChainReadError
from agents.venue.client import HttpVenue
from agents.venue.limitless import CHAIN_ID_BASE, CTF_BASE, USDC_BASE, paper_wallet_address
from agents.venue.schemas import OrderRequest, OrderStatus, OrderType, Outcome, Side
from paper_venue.faults import Faults
from paper_venue.identities import token_id
from paper_venue.testing import REPO_ROOT, RunningVenue, free_port

D = Decimal
Trader = Callable[..., HttpVenue]
STRANGER = "0x" + "ab" * 20  # a wallet that is no venue account
BALANCE_OF_ERC20 = "0x70a08231"
BALANCE_OF_ERC1155 = "0x00fdd58e"
BALANCE_OF_BATCH = "0x4e1273f4"


def order(
    market: str, cid: str, side: str, price: str, size: str, outcome: str = "YES", kind: str = "GTC"
) -> OrderRequest:
    return OrderRequest(
        market=market, side=Side(side), outcome=Outcome(outcome), price=D(price), size=D(size),
        order_type=OrderType(kind), client_order_id=cid,
    )  # fmt: skip


def post(venue: RunningVenue, body: Any) -> httpx.Response:
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(venue.url + "/rpc", content=content, headers={"Content-Type": "application/json"})


def rpc(venue: RunningVenue, method: str, params: Any = None, rid: Any = 1) -> dict[str, Any]:
    body: dict[str, Any] = {"jsonrpc": "2.0", "id": rid, "method": method}
    if params is not None:
        body["params"] = params
    response = post(venue, body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def call(venue: RunningVenue, to: str, data: str) -> dict[str, Any]:
    return rpc(venue, "eth_call", [{"to": to, "data": data}, "latest"])


def wallet_of(trader: HttpVenue) -> str:
    return paper_wallet_address(trader.api_key)  # type: ignore[attr-defined]


@pytest.fixture
def reader(venue: RunningVenue) -> Iterator[Callable[..., ChainReader]]:
    """ChainReader factory on the venue's /rpc (closed after the test)."""
    made: list[ChainReader] = []

    def make(wallet: str, **kwargs: Any) -> ChainReader:
        made.append(ChainReader(kwargs.pop("rpc_url", venue.url + "/rpc"), wallet, **kwargs))
        return made[-1]

    yield make
    for chain in made:
        chain.close()


def _trade(make_trader: Trader, market: str, size: str = "10") -> tuple[HttpVenue, HttpVenue]:
    """The maker buys NO, the taker buys YES against it: both hold `size` shares once settled."""
    maker, taker = make_trader(), make_trader()
    maker.place(order(market, "m", "BUY", "0.600", size, outcome="NO"))
    assert taker.place(order(market, "t", "BUY", "0.400", size, kind="FAK")).status is OrderStatus.MATCHED
    return maker, taker


# ------------------------------------------------------------------------------------ readings


def test_it_answers_the_chain_id_and_a_rising_block_number(
    venue: RunningVenue, reader: Callable[..., ChainReader]
) -> None:
    assert rpc(venue, "eth_chainId") == {"jsonrpc": "2.0", "id": 1, "result": hex(CHAIN_ID_BASE)}
    assert rpc(venue, "eth_chainId", [], rid="a")["result"] == "0x2105"
    assert reader(STRANGER).chain_id() == CHAIN_ID_BASE
    first = int(rpc(venue, "eth_blockNumber")["result"], 16)
    second = int(rpc(venue, "eth_blockNumber")["result"], 16)
    assert 0 < first <= second


def test_it_reads_the_default_accounts_usdc_as_the_chain_ledger(
    venue: RunningVenue, reader: Callable[..., ChainReader]
) -> None:
    wallet = paper_wallet_address("paper-key")
    with HttpVenue(venue.url, venue.api_key) as academy:
        ledger = academy.chain_ledger()
    assert reader(wallet).usdc() == ledger.usdc > 0
    raw = call(venue, USDC_BASE, BALANCE_OF_ERC20 + encode(["address"], [wallet]).hex())["result"]
    assert raw == "0x" + encode(["uint256"], [int(ledger.usdc * 10**6)]).hex()
    lowercase = call(venue, USDC_BASE.lower(), BALANCE_OF_ERC20 + encode(["address"], [wallet.lower()]).hex())
    assert lowercase["result"] == raw


def test_it_shows_shares_bought_from_the_simulated_makers_only_once_settled(
    make_trader: Trader, faults: Faults, reader: Callable[..., ChainReader]
) -> None:
    taker = make_trader()
    slug = "rpc-sim-" + taker.account_name  # type: ignore[attr-defined]
    faults.create_market(slug, simulated=True, fair="0.5")
    faults.tick()  # the simulated makers quote
    faults.settlement_lag(3600)
    ask = taker.book(slug).asks[0]
    bought = taker.place(order(slug, "buy", "BUY", str(ask.price), str(min(ask.size, D(5))), kind="FAK"))
    assert bought.filled > 0
    chain, yes = reader(wallet_of(taker)), token_id(slug, "YES")
    assert chain.shares([yes]) == {yes: D(0)}  # inside the settlement lag: nothing on chain yet
    assert chain.usdc() == D(10000)
    assert taker.chain_ledger().pending > 0
    faults.settle_now()
    assert chain.shares([yes]) == {yes: bought.filled}
    assert chain.usdc() == taker.balance().usdc < D(10000)


def test_it_settles_the_shares_by_itself_once_a_short_lag_has_passed(
    make_trader: Trader, faults: Faults, market: str, reader: Callable[..., ChainReader]
) -> None:
    faults.settlement_lag(1.0)
    _, taker = _trade(make_trader, market, size="2")
    chain, yes = reader(wallet_of(taker)), token_id(market, "YES")
    assert chain.shares([yes])[yes] == 0
    deadline = time.monotonic() + 10
    while chain.shares([yes])[yes] == 0 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert chain.shares([yes]) == {yes: D(2)}


def test_it_reads_yes_and_no_in_one_batch_and_checks_the_lengths(
    venue: RunningVenue, make_trader: Trader, faults: Faults, market: str, reader: Callable[..., ChainReader]
) -> None:
    maker, taker = _trade(make_trader, market)
    faults.settle_now()
    yes, no = token_id(market, "YES"), token_id(market, "NO")
    assert reader(wallet_of(taker)).shares([yes, no]) == {yes: D(10), no: D(0)}
    assert reader(wallet_of(maker)).shares([yes, no]) == {yes: D(0), no: D(10)}
    owners, ids = [wallet_of(taker), wallet_of(maker), STRANGER], [int(yes), int(no), int(yes)]
    batch = call(venue, CTF_BASE, BALANCE_OF_BATCH + encode(["address[]", "uint256[]"], [owners, ids]).hex())
    assert batch["result"] == "0x" + encode(["uint256[]"], [[10 * 10**6, 10 * 10**6, 0]]).hex()
    single = call(venue, CTF_BASE, BALANCE_OF_ERC1155 + encode(["address", "uint256"], [owners[1], ids[1]]).hex())
    assert single["result"] == "0x" + encode(["uint256"], [10 * 10**6]).hex()
    mismatch = call(venue, CTF_BASE, BALANCE_OF_BATCH + encode(["address[]", "uint256[]"], [owners, ids[:2]]).hex())
    assert mismatch["error"]["code"] == 3
    assert mismatch["error"]["message"] == "execution reverted: ERC1155: accounts and ids length mismatch"
    assert mismatch["error"]["data"].startswith("0x08c379a0")


def test_it_shows_an_injected_chain_drift(
    make_trader: Trader, faults: Faults, market: str, reader: Callable[..., ChainReader]
) -> None:
    _, taker = _trade(make_trader, market)
    faults.settle_now()
    chain, yes = reader(wallet_of(taker)), token_id(market, "YES")
    name = taker.account_name  # type: ignore[attr-defined]
    faults.chain_drift(name, usdc="-25", market=market, outcome="YES", shares="-3")
    assert chain.usdc() == taker.balance().usdc - D(25)
    assert chain.shares([yes]) == {yes: D(7)}
    faults.chain_drift(name, market=market, outcome="YES", shares="-100")  # below zero: a uint256 reads 0
    assert chain.shares([yes]) == {yes: D(0)}
    faults.reset()
    assert chain.usdc() == taker.balance().usdc and chain.shares([yes]) == {yes: D(10)}


def test_it_reads_zero_for_a_wallet_that_is_no_account_or_a_token_never_held(
    make_trader: Trader, market: str, reader: Callable[..., ChainReader]
) -> None:
    stranger = reader(STRANGER)
    yes = token_id(market, "YES")
    assert stranger.usdc() == 0
    assert stranger.shares([yes, "12345"]) == {yes: D(0), "12345": D(0)}
    assert reader(wallet_of(make_trader())).shares([yes, "12345"]) == {yes: D(0), "12345": D(0)}


# ------------------------------------------------------------------------------------ errors


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["jsonrpc"] == "2.0" and "result" not in body, body
    return dict(body["error"]) | {"id": body["id"]}


@pytest.mark.parametrize(
    ("body", "code", "words"),
    [
        (b"not json", -32700, "parse error"),
        (b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "id": 2}', -32700, "parse error"),
        (b"[]", -32600, "empty"),
        (b'"eth_chainId"', -32600, "JSON object"),
        ({"jsonrpc": "1.0", "id": 1, "method": "eth_chainId"}, -32600, "jsonrpc"),
        ({"jsonrpc": "2.0", "id": 1}, -32600, "method"),
        ({"jsonrpc": "2.0", "id": True, "method": "eth_chainId"}, -32600, "id"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": "x"}, -32600, "params"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_sendRawTransaction", "params": ["0x00"]}, -32601, "eth_send"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": [1]}, -32602, "eth_chainId takes 0"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": {"to": USDC_BASE}}, -32602, "array"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": []}, -32602, "eth_call takes 1 to 2"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": ["0x00"]}, -32602, "params[0]"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"data": "0x"}]}, -32602, "params[0].to"),
        ({"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": "0x12"}]}, -32602, "params[0].to"),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": USDC_BASE, "data": "0xzz"}]},
            -32602,
            "params[0].data",
        ),
        (
            {"jsonrpc": "2.0", "id": 1, "method": "eth_call", "params": [{"to": USDC_BASE, "data": "0x"}, "yesterday"]},
            -32602,
            "params[1]",
        ),
    ],
)
def test_it_answers_malformed_requests_with_the_json_rpc_error_code(
    venue: RunningVenue, body: Any, code: int, words: str
) -> None:
    response = post(venue, body)
    assert response.status_code == 200
    error = _error(response)
    assert error["code"] == code and words in error["message"], error


def test_it_reverts_calls_the_paper_chain_cannot_execute(venue: RunningVenue) -> None:
    owner = encode(["address"], [STRANGER]).hex()
    for to, data in [
        ("0x" + "12" * 20, BALANCE_OF_ERC20 + owner),  # no such contract
        (USDC_BASE, "0x313ce567"),  # decimals(): a function the paper USDC does not serve
        (CTF_BASE, BALANCE_OF_ERC20 + owner),  # the ERC-20 selector on the ERC-1155 contract
        (USDC_BASE, BALANCE_OF_ERC20 + owner[:20]),  # truncated calldata
        (USDC_BASE, BALANCE_OF_ERC20 + "ff" * 12 + owner[24:]),  # dirty address padding
        (USDC_BASE, "0x"),
    ]:
        response = call(venue, to, data)
        assert response["error"] == {"code": -32000, "message": "execution reverted"}, (to, data)


def test_it_answers_batches_and_notifications(venue: RunningVenue) -> None:
    batch = [
        {"jsonrpc": "2.0", "id": "c", "method": "eth_chainId"},
        {"jsonrpc": "2.0", "method": "eth_chainId"},  # a notification: no reply
        {"jsonrpc": "2.0", "id": 7, "method": "nope"},
        42,
    ]
    replies = post(venue, batch).json()
    assert replies[0] == {"jsonrpc": "2.0", "id": "c", "result": "0x2105"}
    assert replies[1]["id"] == 7 and replies[1]["error"]["code"] == -32601
    assert replies[2]["id"] is None and replies[2]["error"]["code"] == -32600
    assert len(replies) == 3
    only_notifications = post(venue, {"jsonrpc": "2.0", "method": "eth_chainId"})
    assert only_notifications.status_code == 204 and only_notifications.content == b""
    too_many = post(venue, [{"jsonrpc": "2.0", "id": i, "method": "eth_chainId"} for i in range(101)])
    assert _error(too_many)["code"] == -32600
    huge = post(venue, b'{"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "x": "' + b"a" * 300_000 + b'"}')
    assert huge.status_code == 413 and _error(huge)["code"] == -32600
    assert httpx.get(venue.url + "/rpc").status_code == 405


# ------------------------------------------------------------------------------------ ChainReader fails closed


def test_it_raises_rather_than_reading_zero_when_the_endpoint_is_down(reader: Callable[..., ChainReader]) -> None:
    down = reader(STRANGER, rpc_url=f"http://127.0.0.1:{free_port()}/rpc", timeout=1.0)
    for read in (down.chain_id, down.usdc, lambda: down.shares(["1"])):
        with pytest.raises(ChainReadError, match="cannot reach"):
            read()


def test_it_raises_rather_than_reading_zero_when_the_endpoint_answers_an_error(
    venue: RunningVenue, faults: Faults, reader: Callable[..., ChainReader]
) -> None:
    wallet = paper_wallet_address("paper-key")
    faults.fail_next(1, status=503, path_prefix="/rpc")
    with pytest.raises(ChainReadError, match="HTTP 503"):
        reader(wallet).usdc()
    with pytest.raises(ChainReadError, match="execution reverted"):
        reader(wallet, usdc="0x" + "12" * 20).usdc()  # not the USDC contract: a revert, not a 0
    with pytest.raises(ChainReadError, match="execution reverted"):
        reader(wallet, ctf=USDC_BASE).shares(["1"])
    faults.hang(path_prefix="/rpc")
    try:
        with pytest.raises(ChainReadError, match="in time"):
            reader(wallet, timeout=0.3).usdc()
    finally:
        faults.release()
    assert reader(wallet).usdc() > 0  # and it reads again once the endpoint is back


def _mock_reader(answer: Callable[[dict[str, Any]], Any], status: int = 200) -> ChainReader:
    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        reply = answer(body)
        if isinstance(reply, bytes):
            return httpx.Response(status, content=reply)
        return httpx.Response(status, json=reply)

    return ChainReader("http://chain.test/rpc", STRANGER, transport=httpx.MockTransport(handler))


def _result(value: Any) -> Callable[[dict[str, Any]], Any]:
    return lambda body: {"jsonrpc": "2.0", "id": body["id"], "result": value}


@pytest.mark.parametrize(
    ("answer", "words"),
    [
        (_result("0x12"), "does not decode"),  # not 32 bytes
        (_result("0x"), "empty result"),  # an address without code answers 0x
        (_result("12" * 32), "malformed result"),  # no 0x
        (_result("0x" + "zz" * 32), "malformed result"),
        (_result(12), "malformed result"),
        (_result(None), "malformed result"),
        (lambda body: {"jsonrpc": "2.0", "id": body["id"]}, "neither result nor error"),
        (lambda body: {"jsonrpc": "2.0", "id": body["id"] + 1, "result": "0x" + "00" * 32}, "request id"),
        (lambda body: {"id": body["id"], "result": "0x" + "00" * 32}, "JSON-RPC 2.0"),
        (lambda body: [{"jsonrpc": "2.0", "id": body["id"], "result": "0x" + "00" * 32}], "JSON-RPC 2.0"),
        (lambda body: {"jsonrpc": "2.0", "id": body["id"], "error": {"code": -32005, "message": "limit"}}, "limit"),
        (lambda body: b"<html>bad gateway</html>", "not JSON"),
    ],
)
def test_it_raises_on_a_malformed_answer(answer: Callable[[dict[str, Any]], Any], words: str) -> None:
    with _mock_reader(answer) as chain, pytest.raises(ChainReadError, match=words):
        chain.usdc()


def test_it_raises_when_a_batch_answer_has_the_wrong_length_or_the_chain_id_is_not_hex() -> None:
    with _mock_reader(_result("0x" + encode(["uint256[]"], [[1]]).hex())) as chain:
        with pytest.raises(ChainReadError, match="1 balances for 2 token ids"):
            chain.shares(["1", "2"])
    with _mock_reader(_result(8453)) as chain, pytest.raises(ChainReadError, match="eth_chainId"):
        chain.chain_id()
    with _mock_reader(_result("0x" + encode(["uint256"], [1_500_000]).hex())) as chain:
        assert chain.usdc() == D("1.5")  # the happy path of the same mock, for contrast
    with _mock_reader(_result("0x" + encode(["uint256"], [0]).hex()), status=500) as chain:
        with pytest.raises(ChainReadError, match="HTTP 500"):
            chain.usdc()
    with pytest.raises(ValueError, match="wallet"):
        ChainReader("http://chain.test/rpc", "0x1234")
    with _mock_reader(_result("0x")) as chain, pytest.raises(ValueError, match="token id"):
        chain.shares(["0x01"])


def test_it_keeps_the_reader_free_of_the_simulator() -> None:
    code = (
        "import sys, agents.venue.chain_reader;"
        "bad = [m for m in ('engine', 'service', 'identities', 'chain_rpc', 'faults', 'testing')"
        " if 'agents.venue.' + m in sys.modules];"
        "sys.exit(', '.join(bad) or None)"
    )
    done = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_it_never_shows_the_rpc_urls_path_or_key_in_an_error() -> None:
    from agents.venue.chain_reader import ChainReader, ChainReadError

    secret_url = "https://base-mainnet.example.com/v2/sk-provider-key-0123456789abcdef"

    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError(f"cannot connect to {request.url}")

    reader = ChainReader(secret_url, "0x" + "11" * 20, transport=httpx.MockTransport(refuse))
    with pytest.raises(ChainReadError) as raised:
        reader.usdc()
    assert "base-mainnet.example.com" in str(raised.value) and "sk-provider-key" not in str(raised.value)
