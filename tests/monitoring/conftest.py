"""Monitoring fixtures: a trader account on the real venue that the halt path uses by default."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.conf import settings as django_settings

from agents.venue.schemas import OrderRequest, Outcome, Side


@pytest.fixture
def trader(make_trader, venue, settings):
    """A funded account; halt()'s default venue client (VENUE_URL / VENUE_API_KEY) points at it."""
    client = make_trader()
    settings.VENUE_URL = venue.url
    settings.VENUE_API_KEY = client.api_key
    return client


@pytest.fixture(autouse=True)
def clean_flag():
    flag = django_settings.DATA_DIR / "kill_switch.flag"
    flag.unlink(missing_ok=True)
    yield flag
    flag.unlink(missing_ok=True)


def rest(client, market: str, n: int, *, price: str = "0.300", prefix: str = "rest") -> list[str]:
    """Place n resting BUY orders; return their venue ids."""
    return [client.place(OrderRequest(market=market, side=Side.BUY, price=Decimal(price), size=Decimal("1"),
                                      client_order_id=f"{prefix}-{market}-{i}")).id for i in range(n)]


def give_position(trader, counterparty, market: str, shares: str = "100", price: str = "0.500") -> None:
    """trader ends up long YES `shares` (minted against counterparty's BUY NO at the same price)."""
    counterparty.place(OrderRequest(market=market, side=Side.BUY, outcome=Outcome.NO,
                                    price=Decimal("1") - Decimal(price), size=Decimal(shares),
                                    client_order_id=f"mint-no-{market}"))
    trader.place(OrderRequest(market=market, side=Side.BUY, price=Decimal(price), size=Decimal(shares),
                              client_order_id=f"mint-yes-{market}"))
