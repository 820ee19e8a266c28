"""Who is who on the paper venue's Limitless surface: wallets, profiles, HMAC tokens, signed orders.

Limitless knows an account by its wallet address (the EIP-712 signer), its profile id (the
`ownerId` of an order) and its API credentials (a legacy `X-API-Key` or a scoped HMAC token).
The engine knows accounts by name and API key; this registry maps one onto the other and keeps
the signed form of every order that came in through the Limitless surface, so that it can be
shown back exactly as it was signed. Its tables live in the venue's own SQLite file.

Paper only: an account that names no wallet gets one derived from its API key
(`limitless.paper_wallet_key`), so a paper account needs one secret, not two.
"""

from __future__ import annotations

import json
import secrets
import sqlite3
import threading
from dataclasses import dataclass
from typing import Any

from eth_utils import keccak, to_checksum_address

from agents.venue.limitless import (
    DEFAULT_FEE_RATE_BPS,
    HMAC_WINDOW_S,
    WireError,
    address,
    hmac_signature,
    paper_wallet_address,
    parse_hmac_timestamp,
)

SCHEMA = """
CREATE TABLE IF NOT EXISTS lmts_identities (
    account TEXT PRIMARY KEY, address TEXT NOT NULL UNIQUE, profile_id INTEGER NOT NULL UNIQUE,
    fee_rate_bps INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS lmts_tokens (
    token_id TEXT PRIMARY KEY, account TEXT NOT NULL, secret TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS lmts_signed_orders (
    order_id TEXT PRIMARY KEY, account TEXT NOT NULL, payload TEXT NOT NULL);
-- orders whose settlement failed on chain (the fault control): their execution reads FAILED
CREATE TABLE IF NOT EXISTS lmts_failed (order_id TEXT PRIMARY KEY);
"""
FIRST_PROFILE_ID = 4200


@dataclass(frozen=True, slots=True)
class Identity:
    account: str
    address: str
    profile_id: int
    fee_rate_bps: int = DEFAULT_FEE_RATE_BPS


class Identities:
    """The registry; thread-safe, every write its own transaction."""

    def __init__(self, path: str) -> None:
        self._conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=5.0)
        self._conn.executescript(SCHEMA)
        self._lock = threading.Lock()

    def close(self) -> None:
        self._conn.close()

    # -- identities ------------------------------------------------------------------------------

    def ensure(self, account: str, api_key: str, wallet: str | None = None) -> Identity:
        """Give an account its wallet and profile once; a wallet given later replaces a derived one."""
        wanted = address(wallet, "address") if wallet else None
        with self._lock:
            found = self._by("account", account)
            if found is not None and (wanted is None or wanted == found.address):
                return found
            chosen = wanted or paper_wallet_address(api_key)
            owner = self._by("address", chosen)
            if owner is not None and owner.account != account:
                raise WireError(f"address: {chosen} already belongs to another account")
            if found is None:
                row = self._conn.execute(
                    "SELECT COALESCE(MAX(profile_id), ?) + 1 FROM lmts_identities", (FIRST_PROFILE_ID,)
                ).fetchone()
                identity = Identity(account, chosen, int(row[0]))
                self._conn.execute(
                    "INSERT INTO lmts_identities VALUES (?, ?, ?, ?)",
                    (account, chosen, identity.profile_id, identity.fee_rate_bps),
                )
                return identity
            self._conn.execute("UPDATE lmts_identities SET address=? WHERE account=?", (chosen, account))
            return Identity(account, chosen, found.profile_id, found.fee_rate_bps)

    def of_account(self, account: str) -> Identity | None:
        with self._lock:
            return self._by("account", account)

    def of_address(self, wallet: str) -> Identity | None:
        with self._lock:
            return self._by("address", wallet)

    def _by(self, column: str, value: str) -> Identity | None:
        row = self._conn.execute(
            f"SELECT account, address, profile_id, fee_rate_bps FROM lmts_identities WHERE {column}=?",  # noqa: S608
            (value,),
        ).fetchone()
        return None if row is None else Identity(*row)

    # -- HMAC tokens -----------------------------------------------------------------------------

    def add_token(self, account: str, token_id: str, secret_b64: str) -> None:
        with self._lock:
            row = self._conn.execute("SELECT account FROM lmts_tokens WHERE token_id=?", (token_id,)).fetchone()
            if row is not None and row[0] != account:
                raise WireError("hmac_token_id: already belongs to another account")
            self._conn.execute("INSERT OR REPLACE INTO lmts_tokens VALUES (?, ?, ?)", (token_id, account, secret_b64))

    def verify_hmac(
        self,
        token_id: str,
        timestamp: str,
        signature: str,
        *,
        method: str,
        targets: tuple[str, ...],
        body: str,
        now: float,
    ) -> str:
        """The account of a request signed with an HMAC token, or WireError saying why not: an unknown token,
        a missing header, a timestamp more than 30 s off, or a signature that matches none of `targets`
        (the path and query as received; the stream also accepts the documented query orders)."""
        found = self.token(token_id)
        if found is None or not timestamp or not signature:
            raise WireError("unknown token or missing lmts-timestamp / lmts-signature")
        if abs(parse_hmac_timestamp(timestamp).timestamp() - now) > HMAC_WINDOW_S:
            raise WireError("lmts-timestamp is more than 30 s from the server's time")
        account, secret = found
        for target in dict.fromkeys(t for t in targets if t):
            if secrets.compare_digest(hmac_signature(secret, timestamp, method, target, body), signature):
                return account
        raise WireError("lmts-signature does not match the request")

    def token(self, token_id: str) -> tuple[str, str] | None:
        """(account, base64 secret) of an HMAC token id, or None."""
        with self._lock:
            row = self._conn.execute("SELECT account, secret FROM lmts_tokens WHERE token_id=?", (token_id,)).fetchone()
            return None if row is None else (row[0], row[1])

    # -- signed orders ---------------------------------------------------------------------------

    def keep_signed(self, order_id: str, account: str, payload: dict[str, Any]) -> None:
        with self._lock:
            self._conn.execute(
                "INSERT OR IGNORE INTO lmts_signed_orders VALUES (?, ?, ?)",
                (order_id, account, json.dumps(payload, separators=(",", ":"))),
            )

    def mark_failed(self, order_id: str) -> None:
        with self._lock:
            self._conn.execute("INSERT OR IGNORE INTO lmts_failed VALUES (?)", (order_id,))

    def failed(self, order_id: str) -> bool:
        with self._lock:
            return self._conn.execute("SELECT 1 FROM lmts_failed WHERE order_id=?", (order_id,)).fetchone() is not None

    def signed(self, order_ids: list[str]) -> dict[str, dict[str, Any]]:
        if not order_ids:
            return {}
        with self._lock:
            marks = ",".join("?" * len(order_ids))
            rows = self._conn.execute(
                f"SELECT order_id, payload FROM lmts_signed_orders WHERE order_id IN ({marks})",  # noqa: S608
                order_ids,
            ).fetchall()
        return {row[0]: json.loads(row[1]) for row in rows}


# ------------------------------------------------------------------------------------ paper market ids


def token_id(slug: str, outcome: str) -> str:
    """A stable uint256 token id for a paper market's outcome (a decimal string, as Limitless sends)."""
    return str(int.from_bytes(keccak(f"academy-paper-token:{slug}:{outcome}".encode()), "big"))


def exchange_address(slug: str) -> str:
    """The market's EIP-712 verifying contract: one per market, as on Limitless (`venue.exchange`)."""
    return str(to_checksum_address(keccak(f"academy-paper-exchange:{slug}".encode())[-20:]))


def market_id(slug: str) -> int:
    return int.from_bytes(keccak(f"academy-paper-market:{slug}".encode())[:4], "big") % 10**8


def condition_id(slug: str) -> str:
    return "0x" + keccak(f"academy-paper-condition:{slug}".encode()).hex()
