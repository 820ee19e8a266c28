"""Wire and domain shapes shared by the paper venue, its client and the agent runtime.

Pure pydantic, no Django and no I/O: the paper venue service, `client.py` and
`agents/core` all import these, so the contract lives in one place.

Units: prices are `Decimal` on a 0.001 tick strictly between 0 and 1; sizes are
shares as `Decimal` with at most 3 decimals (Limitless floors shares to 1e-3);
USDC amounts are `Decimal` with at most 6 decimals. On the wire every decimal is a
JSON string, never a float.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainSerializer, StrictBool

from agents.venue.strict import Identifier, Slug, StrictDecimal

TICK = Decimal("0.001")
SHARE_STEP = Decimal("0.001")
USDC_STEP = Decimal("0.000001")
DUST = Decimal("0.000001")

# A Decimal that always goes out as a string, so no float ever touches money.
Dec = Annotated[Decimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]
# The same, for what a client sends: a plain ASCII decimal only (strict.parse_decimal).
InDec = Annotated[StrictDecimal, PlainSerializer(lambda v: format(v, "f"), return_type=str, when_used="json")]


class Side(StrEnum):
    BUY = "BUY"
    SELL = "SELL"


class Outcome(StrEnum):
    YES = "YES"
    NO = "NO"


class OrderType(StrEnum):
    GTC = "GTC"
    FAK = "FAK"
    FOK = "FOK"


class OrderStatus(StrEnum):
    LIVE = "LIVE"  # resting on the book (possibly partly filled)
    MATCHED = "MATCHED"  # fully filled
    CANCELED = "CANCELED"  # cancelled (by the owner, cancel-on-disconnect, a halt or an FAK/FOK kill)
    REJECTED = "REJECTED"  # refused before touching the book


class MarketStatus(StrEnum):
    OPEN = "open"
    PAUSED = "paused"
    CLOSED = "closed"
    RESOLVED = "resolved"


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")


class Market(_Model):
    slug: str
    title: str
    description: str = ""
    category: str = ""
    market_type: str = ""  # e.g. crypto-hourly, sports, politics
    status: MarketStatus
    close_time: datetime
    note: str = ""  # order-book note shown beside the book
    resolution_text: str = ""  # news / resolution source text
    winning_outcome: Outcome | None = None
    last_price: Dec | None = None


class BookLevel(_Model):
    price: Dec
    size: Dec


class OrderBook(_Model):
    """YES-side book: a NO bid at P is shown as a YES ask at 1-P."""

    market: str
    bids: list[BookLevel]  # best (highest) first
    asks: list[BookLevel]  # best (lowest) first
    note: str = ""
    seq: int = 0


class OrderRequest(_Model):
    """What a client sends to place an order (strict: unknown fields are an error)."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=False)

    market: Slug
    side: Side
    outcome: Outcome = Outcome.YES
    price: InDec
    size: InDec
    order_type: OrderType = OrderType.GTC
    client_order_id: Identifier  # [A-Za-z0-9_.:-], 1..128 characters
    post_only: StrictBool = False


class Order(_Model):
    id: str
    client_order_id: str
    market: str
    side: Side
    outcome: Outcome
    price: Dec
    size: Dec
    filled: Dec
    remaining: Dec
    order_type: OrderType
    status: OrderStatus
    reason: str = ""  # why it was rejected or cancelled
    created_at: datetime
    updated_at: datetime
    session_id: str | None = None  # websocket session whose cancel-on-disconnect covers this order


class Fill(_Model):
    id: str
    order_id: str
    client_order_id: str
    market: str
    side: Side
    outcome: Outcome
    price: Dec  # price of the outcome traded
    size: Dec
    liquidity: str  # "maker" or "taker"
    created_at: datetime


class Position(_Model):
    market: str
    outcome: Outcome
    shares: Dec
    avg_price: Dec
    mark_price: Dec | None = None


class Balance(_Model):
    usdc: Dec  # total collateral
    locked: Dec  # held by resting orders
    available: Dec


class CancelResult(_Model):
    canceled: list[str]
    failed: list[dict[str, str]] = []


class ChainLedger(_Model):
    """What has settled 'on chain' (after the settlement lag), per account."""

    usdc: Dec
    positions: list[Position]
    settled_through: datetime | None = None
    pending: int = 0  # fills/payouts not yet settled (still inside the settlement lag)
    # What those pending events will add once settled (None: the venue cannot say). With them a
    # reader compares REST with chain + pending at any moment, not only when nothing is pending.
    pending_usdc: Dec | None = None
    pending_positions: list[Position] | None = None
