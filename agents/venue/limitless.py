"""Limitless Exchange wire rules shared by the live adapter and the paper venue.

What both sides of the Limitless API must compute the same way, in one place (see
`../shared/limitless-api.md`, sections 3 and 6): the HMAC request signature, the EIP-712
order typed data (signing and signer recovery), the amounts of GTC/FAK/FOK orders, the
price-dependent taker fee and the chain constants. Pure functions; no I/O.

eth-account does the EIP-712 hashing and the secp256k1 work: the same library the official
SDK signs with, so a signature we make is one Limitless (and the SDK) can verify.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
from datetime import UTC, datetime
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from typing import Any

from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_utils import keccak, to_checksum_address

CHAIN_ID_BASE = 8453
USDC_BASE = "0x833589fCD6eDb6E08f4c7C32D4f71b54bdA02913"  # 6 decimals
CTF_BASE = "0xC9c98965297Bc527861c898329Ee280632B76e18"  # ERC-1155 outcome tokens
ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
SCALE = 10**6  # USDC and shares are both scaled by 1e6 on the wire
SHARE_STEP_RAW = 1000  # shares have 3 decimals: a multiple of 1000 raw units
TICK = Decimal("0.001")
HMAC_WINDOW_S = 30.0
DEFAULT_FEE_RATE_BPS = 300
SIDE_BUY, SIDE_SELL = 0, 1
SIGNATURE_EOA = 0
ORDER_TYPES = ("GTC", "FAK", "FOK")

DOMAIN_NAME = "Limitless CTF Exchange"
DOMAIN_VERSION = "1"
EIP712_TYPES: dict[str, list[dict[str, str]]] = {
    "EIP712Domain": [
        {"name": "name", "type": "string"},
        {"name": "version", "type": "string"},
        {"name": "chainId", "type": "uint256"},
        {"name": "verifyingContract", "type": "address"},
    ],
    "Order": [
        {"name": "salt", "type": "uint256"},
        {"name": "maker", "type": "address"},
        {"name": "signer", "type": "address"},
        {"name": "taker", "type": "address"},
        {"name": "tokenId", "type": "uint256"},
        {"name": "makerAmount", "type": "uint256"},
        {"name": "takerAmount", "type": "uint256"},
        {"name": "expiration", "type": "uint256"},
        {"name": "nonce", "type": "uint256"},
        {"name": "feeRateBps", "type": "uint256"},
        {"name": "side", "type": "uint8"},
        {"name": "signatureType", "type": "uint8"},
    ],
}
SIGNED_FIELDS = tuple(f["name"] for f in EIP712_TYPES["Order"])


class WireError(ValueError):
    """A Limitless payload that breaks the wire rules; the message names the field."""


# ------------------------------------------------------------------------------------ HMAC


def iso_millis(moment: datetime | None = None) -> str:
    """ISO-8601 UTC with milliseconds and Z, Limitless's time format (now when not given)."""
    return (moment or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def hmac_timestamp(now: datetime | None = None) -> str:
    """The `lmts-timestamp` header, as the SDK sends it."""
    return iso_millis(now)


def hmac_signature(secret_b64: str, timestamp: str, method: str, path_with_query: str, body: str) -> str:
    """base64(HMAC-SHA256(b64decode(secret), "ts\\nMETHOD\\npath?query\\nbody"))."""
    key = base64.b64decode(secret_b64, validate=True)
    message = f"{timestamp}\n{method.upper()}\n{path_with_query}\n{body}".encode()
    return base64.b64encode(hmac.new(key, message, hashlib.sha256).digest()).decode()


def hmac_headers(token_id: str, secret_b64: str, method: str, path_with_query: str, body: str) -> dict[str, str]:
    """The three `lmts-*` headers of one request, with a fresh timestamp."""
    ts = hmac_timestamp()
    return {
        "lmts-api-key": token_id,
        "lmts-timestamp": ts,
        "lmts-signature": hmac_signature(secret_b64, ts, method, path_with_query, body),
    }


def parse_hmac_timestamp(raw: str) -> datetime:
    try:
        moment = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise WireError("lmts-timestamp: is not an ISO-8601 time") from None
    if moment.tzinfo is None:
        raise WireError("lmts-timestamp: has no time zone")
    return moment


# ------------------------------------------------------------------------------------ EIP-712


def typed_data(order: dict[str, Any], *, chain_id: int, verifying_contract: str) -> dict[str, Any]:
    """The full EIP-712 message of an order (every signed field as the integer it stands for)."""
    message: dict[str, Any] = {}
    for name in SIGNED_FIELDS:
        if name not in order:
            raise WireError(f"order.{name}: is required")
        value = order[name]
        if name in ("maker", "signer", "taker"):
            message[name] = _address(value, f"order.{name}")
        else:
            message[name] = _uint(value, f"order.{name}")
    return {
        "types": EIP712_TYPES,
        "primaryType": "Order",
        "domain": {
            "name": DOMAIN_NAME,
            "version": DOMAIN_VERSION,
            "chainId": chain_id,
            "verifyingContract": _address(verifying_contract, "verifyingContract"),
        },
        "message": message,
    }


def sign_order(order: dict[str, Any], private_key: str, *, chain_id: int, verifying_contract: str) -> str:
    """Sign an order's EIP-712 hash: a 0x-prefixed 65-byte r||s||v hex string."""
    signable = encode_typed_data(
        full_message=typed_data(order, chain_id=chain_id, verifying_contract=verifying_contract)
    )
    signed = Account.sign_message(signable, private_key=private_key)
    return "0x" + bytes(signed.signature).hex()


def recover_signer(order: dict[str, Any], signature: str, *, chain_id: int, verifying_contract: str) -> str:
    """The checksummed address that signed this order under this verifying contract."""
    if not isinstance(signature, str) or not signature.startswith("0x") or len(signature) != 132:
        raise WireError("order.signature: must be a 0x-prefixed 65-byte hex string")
    signable = encode_typed_data(
        full_message=typed_data(order, chain_id=chain_id, verifying_contract=verifying_contract)
    )
    try:
        return str(Account.recover_message(signable, signature=signature))
    except Exception as exc:  # malformed r, s or v: eth-keys raises several classes
        raise WireError(f"order.signature: cannot be recovered ({type(exc).__name__})") from None


def _uint(value: Any, where: str) -> int:
    """A non-negative integer given as a JSON int or a string of ASCII digits (never a bool or float)."""
    if isinstance(value, bool):
        raise WireError(f"{where}: must be an unsigned integer")
    if isinstance(value, int):
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit() and len(value) <= 78:
        number = int(value)
    else:
        raise WireError(f"{where}: must be an unsigned integer")
    if not 0 <= number < 2**256:
        raise WireError(f"{where}: is out of range")
    return number


def _address(value: Any, where: str) -> str:
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise WireError(f"{where}: must be a 0x-prefixed 20-byte address")
    try:
        return to_checksum_address(value)
    except ValueError:
        raise WireError(f"{where}: must be a 0x-prefixed 20-byte address") from None


uint = _uint
address = _address


# ------------------------------------------------------------------------------------ amounts


def limit_amounts(side: int, price: Decimal, shares: Decimal) -> tuple[int, int]:
    """GTC/FAK (maker, taker) amounts for `shares` at `price`, as the SDK builds them (section 6.4).

    Shares are floored to 3 decimals; BUY pays collateral rounded up, SELL receives it rounded down.
    """
    if not TICK <= price <= 1 - TICK or price % TICK:
        raise WireError("price: must be on the 0.001 tick, strictly between 0 and 1")
    raw_shares = int((shares * SCALE).to_integral_value(ROUND_FLOOR))
    raw_shares -= raw_shares % SHARE_STEP_RAW
    if raw_shares <= 0:
        raise WireError("size: must be at least 0.001 shares")
    price_raw = int(price * SCALE)
    exact = Decimal(raw_shares * price_raw) / SCALE
    if side == SIDE_BUY:
        return int(exact.to_integral_value(ROUND_CEILING)), raw_shares
    return raw_shares, int(exact.to_integral_value(ROUND_FLOOR))


def shares_from_amounts(side: int, maker_amount: int, taker_amount: int) -> int:
    """Raw shares (x1e6) of a GTC/FAK order: what BUY receives, or what SELL gives."""
    return taker_amount if side == SIDE_BUY else maker_amount


def decimal_of(raw: int) -> Decimal:
    """A 1e6-scaled integer as a Decimal (USDC or shares)."""
    return Decimal(raw) / SCALE


# ------------------------------------------------------------------------------------ fees


def taker_fee_bps(side: int, price: Decimal, fee_rate_bps: int) -> int:
    """The price-dependent taker fee, in basis points, for an account whose rate is `fee_rate_bps`.

    Limitless publishes ranges, not the formula: BUY 0.40%-3.00% (high at low prices, paid in
    contracts), SELL 0.42%-1.50% (highest at 0.5, paid in USDC), for the default rate of 300 bps;
    a lower rank rate scales the curve down. This curve stays inside those ranges; makers pay 0.
    """
    if fee_rate_bps <= 0:
        return 0
    p = float(price)
    if side == SIDE_BUY:
        bps = 40 + (300 - 40) * (1 - p**1.3)
    else:
        bps = 42 + (150 - 42) * (1 - abs(2 * p - 1) ** 1.3)
    return round(bps * fee_rate_bps / DEFAULT_FEE_RATE_BPS)


# ------------------------------------------------------------------------------------ paper wallets


def paper_wallet_key(api_key: str) -> str:
    """The paper venue's wallet for an API key that names no address of its own (paper only).

    Derived, so that a paper account needs one secret, not two; a live account always brings
    its own wallet key (LIMITLESS_PRIVATE_KEY).
    """
    return "0x" + keccak(b"academy-paper-wallet\x00" + api_key.encode()).hex()


def paper_wallet_address(api_key: str) -> str:
    return str(Account.from_key(paper_wallet_key(api_key)).address)
