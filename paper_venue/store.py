"""SQLite persistence for the paper venue engine (stdlib sqlite3, WAL).

The engine keeps its working state in memory and writes every change of one operation
here in a single transaction, so a crash or restart loses nothing that was acknowledged.
Fills and chain events are append-only; orders, accounts, positions and markets are
upserted rows. Locks are not stored: they are derived from live orders on load, so the
two can never disagree.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS accounts (
    name TEXT PRIMARY KEY, api_key TEXT NOT NULL UNIQUE, usdc INTEGER NOT NULL,
    event_seq INTEGER NOT NULL, simulated INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS markets (
    slug TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS orders (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, account TEXT NOT NULL, client_order_id TEXT NOT NULL,
    market TEXT NOT NULL, side TEXT NOT NULL, outcome TEXT NOT NULL, price INTEGER NOT NULL,
    size INTEGER NOT NULL, filled INTEGER NOT NULL, order_type TEXT NOT NULL, status TEXT NOT NULL,
    reason TEXT NOT NULL, post_only INTEGER NOT NULL, session_id TEXT,
    created REAL NOT NULL, updated REAL NOT NULL);
-- idempotency: one order per (account, client_order_id), enforced by the database too
CREATE UNIQUE INDEX IF NOT EXISTS orders_account_cid ON orders (account, client_order_id);
-- load on start: only live orders go back on the books
CREATE INDEX IF NOT EXISTS orders_status ON orders (status);
CREATE TABLE IF NOT EXISTS fills (
    id TEXT PRIMARY KEY, seq INTEGER NOT NULL, order_id TEXT NOT NULL, account TEXT NOT NULL,
    client_order_id TEXT NOT NULL, market TEXT NOT NULL, side TEXT NOT NULL, outcome TEXT NOT NULL,
    price INTEGER NOT NULL, size INTEGER NOT NULL, liquidity TEXT NOT NULL, created REAL NOT NULL);
-- GET /portfolio/fills lists one account's fills, newest last
CREATE INDEX IF NOT EXISTS fills_account ON fills (account, seq);
CREATE TABLE IF NOT EXISTS positions (
    account TEXT NOT NULL, market TEXT NOT NULL, outcome TEXT NOT NULL,
    shares INTEGER NOT NULL, cost INTEGER NOT NULL, PRIMARY KEY (account, market, outcome));
CREATE TABLE IF NOT EXISTS chain_events (
    id INTEGER PRIMARY KEY AUTOINCREMENT, account TEXT NOT NULL, market TEXT NOT NULL,
    outcome TEXT NOT NULL, usdc INTEGER NOT NULL, shares INTEGER NOT NULL, kind TEXT NOT NULL,
    settle_at REAL NOT NULL);
-- GET /chain/ledger sums one account's settled events
CREATE INDEX IF NOT EXISTS chain_events_account ON chain_events (account, settle_at);
CREATE TABLE IF NOT EXISTS ws_sessions (
    id TEXT PRIMARY KEY, account TEXT NOT NULL, scope TEXT NOT NULL, open INTEGER NOT NULL);
"""

ORDER_COLS = (
    "id, seq, account, client_order_id, market, side, outcome, price, size, filled, order_type, "
    "status, reason, post_only, session_id, created, updated"
)
FILL_COLS = "id, seq, order_id, account, client_order_id, market, side, outcome, price, size, liquidity, created"


class Store:
    """One SQLite connection owned by the engine (the engine serialises access)."""

    def __init__(self, path: str, synchronous: str = "NORMAL") -> None:
        self.conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self.conn.row_factory = sqlite3.Row
        if path != ":memory:":
            self.conn.execute("PRAGMA journal_mode=WAL")
        # NORMAL in WAL survives a process crash; FULL also survives power loss.
        if synchronous not in {"OFF", "NORMAL", "FULL"}:
            raise ValueError(f"bad sqlite synchronous mode {synchronous!r}")
        self.conn.execute(f"PRAGMA synchronous={synchronous}")
        self.conn.executescript(SCHEMA)

    def close(self) -> None:
        self.conn.close()

    # -- reads ---------------------------------------------------------------------------------

    def meta(self, key: str) -> str | None:
        row = self.conn.execute("SELECT value FROM meta WHERE key=?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def rows(self, sql: str, params: Sequence[Any] = ()) -> list[sqlite3.Row]:
        return self.conn.execute(sql, params).fetchall()

    # -- the one write path --------------------------------------------------------------------

    def write(self, batch: WriteBatch) -> None:
        """Write one operation's changes atomically (all or nothing)."""
        cur = self.conn.cursor()
        cur.execute("BEGIN IMMEDIATE")
        try:
            batch.apply(cur)
            cur.execute("COMMIT")
        except BaseException:
            cur.execute("ROLLBACK")
            raise


class WriteBatch:
    """The rows one engine operation changed, collected then written in one transaction."""

    def __init__(self) -> None:
        self.meta: dict[str, str] = {}
        self.accounts: list[tuple[Any, ...]] = []
        self.markets: dict[str, str] = {}
        self.orders: list[tuple[Any, ...]] = []
        self.deleted_orders: list[str] = []
        self.fills: list[tuple[Any, ...]] = []
        self.positions: list[tuple[Any, ...]] = []
        self.chain: list[tuple[Any, ...]] = []
        self.sql: list[tuple[str, tuple[Any, ...]]] = []

    def market(self, slug: str, data: dict[str, Any]) -> None:
        self.markets[slug] = json.dumps(data, sort_keys=True)

    def apply(self, cur: sqlite3.Cursor) -> None:
        cur.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", self.meta.items())
        cur.executemany("INSERT OR REPLACE INTO accounts VALUES (?, ?, ?, ?, ?)", self.accounts)
        cur.executemany("INSERT OR REPLACE INTO markets VALUES (?, ?)", self.markets.items())
        _many(cur, f"INSERT OR REPLACE INTO orders ({ORDER_COLS}) VALUES ({_q(17)})", self.orders)
        cur.executemany("DELETE FROM orders WHERE id=?", ((i,) for i in self.deleted_orders))
        _many(cur, f"INSERT INTO fills ({FILL_COLS}) VALUES ({_q(12)})", self.fills)
        cur.executemany("INSERT OR REPLACE INTO positions VALUES (?, ?, ?, ?, ?)", self.positions)
        _many(
            cur,
            "INSERT INTO chain_events (account, market, outcome, usdc, shares, kind, settle_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            self.chain,
        )
        for sql, params in self.sql:
            cur.execute(sql, params)


def _q(n: int) -> str:
    return ", ".join("?" * n)


def _many(cur: sqlite3.Cursor, sql: str, rows: Iterable[tuple[Any, ...]]) -> None:
    cur.executemany(sql, rows)
