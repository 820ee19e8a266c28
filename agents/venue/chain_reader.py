"""Read a wallet's on-chain balances over Ethereum JSON-RPC: USDC and CTF outcome tokens.

The product's client for reconciling the Limitless REST portfolio (an indexed cache) against
the chain (`../shared/limitless-api.md`, sections 1 and 8). It reads Base itself in production
and the paper venue's /rpc endpoint in tests; it knows nothing of the simulator.

Fail closed: every reading that cannot be made - no connection, a timeout, an HTTP error, a
JSON-RPC error (a revert included), a result that is not what the call returns - raises
`ChainReadError`. A reading that failed never comes back as a zero balance.

    with ChainReader("https://mainnet.base.org", wallet) as chain:
        chain.chain_id()                  # 8453
        chain.usdc()                      # Decimal('9996.0')
        chain.shares([yes_id, no_id])     # {yes_id: Decimal('10'), no_id: Decimal('0')}
"""

from __future__ import annotations

import itertools
import json
import re
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import httpx
from eth_abi import decode, encode
from eth_abi.exceptions import DecodingError
from eth_utils import to_checksum_address

from agents.venue.limitless import CTF_BASE, SCALE, USDC_BASE
from agents.venue.tls import tls_context

BALANCE_OF_ERC20 = bytes.fromhex("70a08231")  # balanceOf(address)
BALANCE_OF_BATCH = bytes.fromhex("4e1273f4")  # balanceOfBatch(address[],uint256[])
BLOCK_TAG = "latest"
MAX_TOKEN_ID = 2**256 - 1

_HEX_DATA = re.compile(r"0x(?:[0-9a-fA-F]{2})*")
_HEX_QUANTITY = re.compile(r"0x[0-9a-fA-F]{1,64}")
_HEX_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}")
_DECIMAL_ID = re.compile(r"[0-9]{1,78}")


class ChainReadError(Exception):
    """A chain reading that could not be made; never to be read as a zero balance."""


class ChainReader:
    """Balances of one wallet on one chain, over a JSON-RPC endpoint (sync httpx)."""

    def __init__(
        self,
        rpc_url: str,
        wallet: str,
        *,
        usdc: str = USDC_BASE,
        ctf: str = CTF_BASE,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.rpc_url = rpc_url
        self._where = _origin(rpc_url)  # what messages may show: providers put their keys in the URL
        self.wallet = _checked_address(wallet, "wallet")
        self.usdc_address = _checked_address(usdc, "usdc")
        self.ctf_address = _checked_address(ctf, "ctf")
        self._http = httpx.Client(timeout=timeout, transport=transport, verify=tls_context())
        self._ids = itertools.count(1)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> ChainReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- readings --------------------------------------------------------------------------------

    def chain_id(self) -> int:
        result = self._call("eth_chainId", [])
        if not isinstance(result, str) or not _HEX_QUANTITY.fullmatch(result):
            raise ChainReadError(f"eth_chainId: malformed result {_show(result)} (want a hex quantity)")
        return int(result, 16)

    def usdc(self) -> Decimal:
        """The wallet's USDC (6 decimals) as settled on chain."""
        data = BALANCE_OF_ERC20 + encode(["address"], [self.wallet])
        (raw,) = self._eth_call(self.usdc_address, data, ["uint256"], "USDC balanceOf")
        return Decimal(raw) / SCALE

    def shares(self, token_ids: list[str]) -> dict[str, Decimal]:
        """The wallet's shares of each outcome token (uint256 ids as decimal strings), in one batch call."""
        ids = [_checked_token_id(t) for t in token_ids]
        if not ids:
            return {}
        data = BALANCE_OF_BATCH + encode(["address[]", "uint256[]"], [[self.wallet] * len(ids), ids])
        (raws,) = self._eth_call(self.ctf_address, data, ["uint256[]"], "CTF balanceOfBatch")
        if len(raws) != len(ids):
            raise ChainReadError(f"CTF balanceOfBatch: {len(raws)} balances for {len(ids)} token ids")
        return {token: Decimal(raw) / SCALE for token, raw in zip(token_ids, raws, strict=True)}

    # -- JSON-RPC --------------------------------------------------------------------------------

    def _eth_call(self, to: str, data: bytes, types: list[str], what: str) -> tuple[Any, ...]:
        result = self._call("eth_call", [{"to": to, "data": "0x" + data.hex()}, BLOCK_TAG])
        if not isinstance(result, str) or not _HEX_DATA.fullmatch(result):
            raise ChainReadError(f"{what}: malformed result {_show(result)} (want 0x-prefixed hex bytes)")
        raw = bytes.fromhex(result[2:])
        if not raw:  # what a call to an address without code returns: no contract there
            raise ChainReadError(f"{what}: empty result from {to} (is it the contract on this chain?)")
        try:
            return decode(types, raw)
        except (DecodingError, OverflowError) as exc:
            raise ChainReadError(f"{what}: result does not decode as {', '.join(types)}: {exc}") from None

    def _call(self, method: str, params: list[Any]) -> Any:
        rid = next(self._ids)
        body = {"jsonrpc": "2.0", "id": rid, "method": method, "params": params}
        try:
            response = self._http.post(self.rpc_url, json=body)
        except httpx.TimeoutException as exc:
            raise ChainReadError(f"{method}: no answer from {self._where} in time ({type(exc).__name__})") from exc
        except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
            raise ChainReadError(f"{method}: cannot reach {self._where}: {type(exc).__name__}") from exc
        if response.status_code != 200:
            raise ChainReadError(f"{method}: {self._where} answered HTTP {response.status_code}: {_snippet(response)}")
        try:
            reply = json.loads(response.content)
        except ValueError:
            raise ChainReadError(f"{method}: the answer is not JSON: {_snippet(response)}") from None
        if not isinstance(reply, dict) or reply.get("jsonrpc") != "2.0":
            raise ChainReadError(f"{method}: the answer is not a JSON-RPC 2.0 response: {_show(reply)}")
        if reply.get("id") != rid:
            raise ChainReadError(f"{method}: the answer is for request id {_show(reply.get('id'))}, not {rid}")
        if "error" in reply:
            error = reply["error"]
            if isinstance(error, dict):
                raise ChainReadError(f"{method}: JSON-RPC error {error.get('code')}: {error.get('message')}")
            raise ChainReadError(f"{method}: JSON-RPC error {_show(error)}")
        if "result" not in reply:
            raise ChainReadError(f"{method}: the answer has neither result nor error")
        return reply["result"]


def _checked_address(value: str, what: str) -> str:
    if not isinstance(value, str) or not _HEX_ADDRESS.fullmatch(value):
        raise ValueError(f"{what}: must be a 0x-prefixed 20-byte hex address, got {value!r}")
    return str(to_checksum_address(value))


def _checked_token_id(value: str) -> int:
    if not isinstance(value, str) or not _DECIMAL_ID.fullmatch(value) or int(value) > MAX_TOKEN_ID:
        raise ValueError(f"token id: must be a uint256 as a decimal string, got {value!r}")
    return int(value)


def _show(value: Any, limit: int = 120) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[:limit] + "..."


def _snippet(response: httpx.Response, limit: int = 200) -> str:
    text = response.text.strip().replace("\n", " ")
    return text if len(text) <= limit else text[:limit] + "..."


def _origin(url: str) -> str:
    """Scheme and host of a URL, without its path, query or credentials (an RPC URL often holds a key)."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.hostname or '?'}" + (f":{parts.port}" if parts.port else "")
