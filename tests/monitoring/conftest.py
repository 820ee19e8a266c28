"""Monitoring fixtures: a trader account on the real venue that the halt path uses by default."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable, Iterator
from decimal import Decimal
from pathlib import Path

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


ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def monitor_process(venue, transactional_db) -> Iterator[Callable[..., subprocess.Popen]]:
    """Start the real `manage.py monitor` against this test's database file and the test venue."""
    started: list[subprocess.Popen] = []

    def start(api_key: str, **env: str) -> subprocess.Popen:
        full = {**os.environ, "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true", "PYTHONUNBUFFERED": "1",
                "ACADEMY_DATA_DIR": str(django_settings.DATA_DIR), "VENUE_URL": venue.url,
                "VENUE_API_KEY": api_key, "MONITOR_INTERVAL_S": "3600", "FLAG_POLL_S": "0.1",
                "DATABASE_URL": f"sqlite:///{django_settings.DATABASES['default']['NAME']}", **env}
        proc = subprocess.Popen([sys.executable, "manage.py", "monitor"], cwd=ROOT, env=full,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        started.append(proc)
        line = proc.stdout.readline().decode()  # the first line comes once the dead-man's switch is armed
        assert line.startswith("monitor:"), line
        return proc

    yield start
    for proc in started:
        if proc.poll() is None:
            proc.terminate()
        proc.communicate(timeout=20)
