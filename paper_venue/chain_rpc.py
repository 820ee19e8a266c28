"""The paper venue's chain: a minimal Ethereum JSON-RPC endpoint over the settled chain ledger.

On Limitless a careful client reconciles the REST portfolio (an indexed cache) against the chain
itself: `balanceOf` on the USDC token and on the CTF outcome-token contract (see
`../shared/limitless-api.md`, sections 1 and 8). This module answers those reads for the paper
venue, from `Engine.chain_ledger` - so the settlement lag and the injected drift show through
exactly as they would on Base.

JSON-RPC 2.0 over HTTP POST, single requests and batches. Methods:

- `eth_chainId`: the venue's chain id (VENUE_CHAIN_ID, Base 8453 by default);
- `eth_blockNumber`: a block height derived from the clock (Base makes a block every 2 s), never
  going backwards;
- `eth_call` with `[{to, data}, blockTag]`, for exactly three functions:
  ERC-20 `balanceOf(address)` (0x70a08231) on USDC, and ERC-1155 `balanceOf(address,uint256)`
  (0x00fdd58e) and `balanceOfBatch(address[],uint256[])` (0x4e1273f4) on the CTF contract.
  Amounts are raw units (USDC and shares both 1e6-scaled). A wallet that is no venue account,
  and a token id it does not hold, read 0, as on chain.

Errors follow JSON-RPC 2.0 (-32700 parse error, -32600 invalid request, -32601 method not found,
-32602 invalid params; the message names what is wrong). A call the paper chain cannot execute
(another contract, another selector, calldata that does not decode) is geth's revert without a
reason, `{"code": -32000, "message": "execution reverted"}`; a revert with a reason (the length
check of balanceOfBatch) is geth's `{"code": 3, "message": "execution reverted: ...", "data": ...}`.

Simplification: the paper chain keeps no history, so latest, pending, safe, finalized (and any block number up to
the current one) read the current settled state.
"""

from __future__ import annotations

import functools
import logging
import re
import threading
import time
from collections.abc import Awaitable, Callable
from decimal import Decimal
from typing import Any

from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import to_checksum_address
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from agents.venue.limitless import CTF_BASE, SCALE, USDC_BASE
from agents.venue.schemas import ChainLedger
from agents.venue.strict import InvalidInput, load_json
from paper_venue.engine import Engine, NotFound
from paper_venue.identities import Identities, token_id

log = logging.getLogger("agents.venue")

PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
REVERTED = -32000  # geth: execution reverted, no reason
REVERTED_WITH_REASON = 3  # geth: execution reverted with a reason (the revert data in `data`)

MAX_BODY = 256 * 1024  # bytes; a balanceOfBatch of ~2000 token ids still fits
MAX_BATCH = 100  # requests in one batch
BLOCK_TAGS = ("latest", "pending", "safe", "finalized")  # not "earliest": there is no history
BASE_GENESIS_TS = 1_686_789_347  # Base mainnet block 0
BLOCK_TIME_S = 2

BALANCE_OF_ERC20 = bytes.fromhex("70a08231")  # balanceOf(address)
BALANCE_OF_ERC1155 = bytes.fromhex("00fdd58e")  # balanceOf(address,uint256)
BALANCE_OF_BATCH = bytes.fromhex("4e1273f4")  # balanceOfBatch(address[],uint256[])
ERROR_STRING = bytes.fromhex("08c379a0")  # Error(string): how Solidity encodes a revert reason

_HEX_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_HEX_QUANTITY = re.compile(r"0x(?:0|[1-9a-fA-F][0-9a-fA-F]{0,63})")
_NO_ID = object()  # a request without an "id" member: a notification, answered with nothing


class RpcError(Exception):
    """One JSON-RPC error object: code, message and optional data."""

    def __init__(self, code: int, message: str, data: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.data = data

    def body(self) -> dict[str, Any]:
        error: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.data is not None:
            error["data"] = self.data
        return error


def reverted(reason: str | None = None) -> RpcError:
    if reason is None:
        return RpcError(REVERTED, "execution reverted")
    data = "0x" + (ERROR_STRING + encode(["string"], [reason])).hex()
    return RpcError(REVERTED_WITH_REASON, f"execution reverted: {reason}", data)


@functools.lru_cache(maxsize=65_536)
def _token_int(slug: str, outcome: str) -> int:
    return int(token_id(slug, outcome))


class ChainRpc:
    """The JSON-RPC methods over one engine's chain ledger and the wallet registry."""

    def __init__(self, engine: Engine, identities: Identities, chain_id: int) -> None:
        self.engine = engine
        self.identities = identities
        self.chain_id = chain_id
        self.usdc = to_checksum_address(USDC_BASE)
        self.ctf = to_checksum_address(CTF_BASE)
        self._block = 0
        self._block_lock = threading.Lock()
        self.methods: dict[str, Callable[[list[Any]], Any]] = {
            "eth_chainId": self.eth_chain_id,
            "eth_blockNumber": self.eth_block_number,
            "eth_call": self.eth_call,
        }

    # -- the protocol ----------------------------------------------------------------------------

    def handle_body(self, raw: bytes) -> Any:
        """The reply to one HTTP body: a response object, a list of them, or None (nothing to send)."""
        try:
            payload = load_json(raw, max_bytes=MAX_BODY)
        except InvalidInput as exc:
            return _error(None, RpcError(PARSE_ERROR, f"parse error: {exc}"))
        if isinstance(payload, list):
            if not payload:
                return _error(None, RpcError(INVALID_REQUEST, "invalid request: the batch is empty"))
            if len(payload) > MAX_BATCH:
                message = f"invalid request: a batch holds at most {MAX_BATCH} requests, got {len(payload)}"
                return _error(None, RpcError(INVALID_REQUEST, message))
            replies = [r for r in (self.handle_one(item) for item in payload) if r is not None]
            return replies or None
        return self.handle_one(payload)

    def handle_one(self, request: Any) -> dict[str, Any] | None:
        if not isinstance(request, dict):
            return _error(None, RpcError(INVALID_REQUEST, "invalid request: must be a JSON object"))
        rid = request.get("id", _NO_ID)
        if rid is not _NO_ID and (isinstance(rid, bool) or not isinstance(rid, str | int | None)):
            return _error(None, RpcError(INVALID_REQUEST, "invalid request: id must be a string, an integer or null"))
        reply_id = None if rid is _NO_ID else rid
        try:
            result = self._dispatch(request)
        except RpcError as exc:
            return None if rid is _NO_ID else _error(reply_id, exc)
        return None if rid is _NO_ID else {"jsonrpc": "2.0", "id": reply_id, "result": result}

    def _dispatch(self, request: dict[str, Any]) -> Any:
        if request.get("jsonrpc") != "2.0":
            raise RpcError(INVALID_REQUEST, 'invalid request: jsonrpc must be "2.0"')
        method = request.get("method")
        if not isinstance(method, str):
            raise RpcError(INVALID_REQUEST, "invalid request: method must be a string")
        params = request.get("params", [])
        if not isinstance(params, list | dict):
            raise RpcError(INVALID_REQUEST, "invalid request: params must be an array or an object")
        handler = self.methods.get(method)
        if handler is None:
            served = ", ".join(self.methods)
            raise RpcError(METHOD_NOT_FOUND, f"the method {method} does not exist/is not available (served: {served})")
        if not isinstance(params, list):
            raise RpcError(INVALID_PARAMS, f"invalid params: {method} takes its params as an array")
        return handler(params)

    # -- methods ---------------------------------------------------------------------------------

    def eth_chain_id(self, params: list[Any]) -> str:
        _arity(params, "eth_chainId", 0, 0)
        return hex(self.chain_id)

    def eth_block_number(self, params: list[Any]) -> str:
        _arity(params, "eth_blockNumber", 0, 0)
        return hex(self.block_number())

    def block_number(self) -> int:
        """Base's height by the clock (a block every 2 s), never lower than one already shown."""
        with self._block_lock:
            self._block = max(self._block, int(time.time() - BASE_GENESIS_TS) // BLOCK_TIME_S)
            return self._block

    def eth_call(self, params: list[Any]) -> str:
        _arity(params, "eth_call", 1, 2)
        call = params[0]
        if not isinstance(call, dict):
            raise RpcError(INVALID_PARAMS, "invalid params: params[0] must be a call object {to, data}")
        if "to" not in call or call["to"] is None:
            raise RpcError(INVALID_PARAMS, "invalid params: params[0].to is required (contract creation is not served)")
        to = _address(call["to"], "params[0].to")
        data = _data(call)
        if len(params) == 2:
            self._check_block(params[1])
        return "0x" + self.execute(to, data).hex()

    def _check_block(self, tag: Any) -> None:
        if isinstance(tag, str) and tag in BLOCK_TAGS:
            return
        if isinstance(tag, str) and _HEX_QUANTITY.fullmatch(tag):
            if int(tag, 16) > self.block_number():
                raise RpcError(REVERTED, "header not found")
            return
        tags = ", ".join(BLOCK_TAGS)
        raise RpcError(INVALID_PARAMS, f"invalid params: params[1] must be a block tag ({tags}) or a hex block number")

    # -- the two contracts -----------------------------------------------------------------------

    def execute(self, to: str, data: bytes) -> bytes:
        """Run one call; what the paper chain does not know reverts, as a contract without it would."""
        selector, args = data[:4], data[4:]
        ledgers: dict[str, ChainLedger | None] = {}
        if to == self.usdc and selector == BALANCE_OF_ERC20:
            (owner,) = _decode(["address"], args)
            return encode(["uint256"], [self._usdc(owner, ledgers)])
        if to == self.ctf and selector == BALANCE_OF_ERC1155:
            owner, token = _decode(["address", "uint256"], args)
            return encode(["uint256"], [self._shares(owner, token, ledgers)])
        if to == self.ctf and selector == BALANCE_OF_BATCH:
            owners, tokens = _decode(["address[]", "uint256[]"], args)
            if len(owners) != len(tokens):
                raise reverted("ERC1155: accounts and ids length mismatch")
            balances = [self._shares(o, t, ledgers) for o, t in zip(owners, tokens, strict=True)]
            return encode(["uint256[]"], [balances])
        raise reverted()  # another contract or another function: nothing here answers it

    def _ledger(self, owner: str, ledgers: dict[str, ChainLedger | None]) -> ChainLedger | None:
        """The settled ledger of the account behind a wallet; None for a wallet that is no account."""
        wallet = to_checksum_address(owner)
        if wallet not in ledgers:
            identity = self.identities.of_address(wallet)
            ledger = None
            if identity is not None:
                try:
                    ledger = self.engine.chain_ledger(identity.account)
                except NotFound:
                    ledger = None
            ledgers[wallet] = ledger
        return ledgers[wallet]

    def _usdc(self, owner: str, ledgers: dict[str, ChainLedger | None]) -> int:
        ledger = self._ledger(owner, ledgers)
        return 0 if ledger is None else _raw(ledger.usdc)

    def _shares(self, owner: str, token: int, ledgers: dict[str, ChainLedger | None]) -> int:
        ledger = self._ledger(owner, ledgers)
        if ledger is None:
            return 0
        for position in ledger.positions:
            if _token_int(position.market, position.outcome.value) == token:
                return _raw(position.shares)
        return 0  # a token the wallet never held, or one of no market at all


def _raw(amount: Decimal) -> int:
    """A ledger amount in raw 1e6 units; a drift below zero reads 0 (a chain balance is a uint256)."""
    return max(0, int((amount * SCALE).to_integral_value()))


def _decode(types: list[str], args: bytes) -> tuple[Any, ...]:
    """ABI-decode call arguments; calldata Solidity's decoder would refuse is a bare revert."""
    try:
        return decode(types, args)
    except (DecodingError, OverflowError):
        raise reverted() from None


def _arity(params: list[Any], method: str, low: int, high: int) -> None:
    if not low <= len(params) <= high:
        want = f"{low}" if low == high else f"{low} to {high}"
        raise RpcError(INVALID_PARAMS, f"invalid params: {method} takes {want} params, got {len(params)}")


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _HEX_ADDRESS.fullmatch(value):
        raise RpcError(INVALID_PARAMS, f"invalid params: {where} must be a 0x-prefixed 20-byte hex address")
    return to_checksum_address(value)


def _data(call: dict[str, Any]) -> bytes:
    """The calldata of a call object: `data` or `input` (geth accepts both; if both, they must agree)."""
    given = {k: call[k] for k in ("input", "data") if call.get(k) is not None}
    for key, value in given.items():
        if not isinstance(value, str) or not _HEX_DATA.fullmatch(value):
            raise RpcError(INVALID_PARAMS, f"invalid params: params[0].{key} must be 0x-prefixed hex bytes")
    if len(given) == 2 and given["input"].lower() != given["data"].lower():
        raise RpcError(INVALID_PARAMS, 'invalid params: both "data" and "input" are set and not equal')
    text = given.get("input", given.get("data", "0x"))
    return bytes.fromhex(text[2:])


def _error(rid: Any, exc: RpcError) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": rid, "error": exc.body()}


async def _capped_body(request: Request) -> bytes | None:
    """The body, or None past MAX_BODY (what is over the cap is read and dropped, never buffered)."""
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size <= MAX_BODY:
            chunks.append(chunk)
    return None if size > MAX_BODY else b"".join(chunks)


def endpoint(engine: Engine, identities: Identities, chain_id: int) -> Callable[[Request], Awaitable[Response]]:
    """The Starlette endpoint of POST /rpc."""
    rpc = ChainRpc(engine, identities, chain_id)

    async def handle(request: Request) -> Response:
        raw = await _capped_body(request)
        if raw is None:
            error = RpcError(INVALID_REQUEST, f"invalid request: the body is larger than {MAX_BODY} bytes")
            return JSONResponse(_error(None, error), status_code=413)
        try:
            reply = rpc.handle_body(raw)
        except Exception:  # a bug must still answer JSON-RPC, never hang up or leak a traceback
            log.exception("chain rpc failed")
            return JSONResponse(_error(None, RpcError(INTERNAL_ERROR, "internal error")), status_code=500)
        if reply is None:
            return Response(status_code=204)  # only notifications: JSON-RPC sends nothing back
        return JSONResponse(reply)

    return handle
