"""Cancel-on-disconnect (deploy gate item 6): the monitor's venue session guards the account."""

from __future__ import annotations

import signal
import time

import pytest

from agents.venue.schemas import OrderStatus
from monitoring.deadman import ws_url
from tests.monitoring.conftest import rest

pytestmark = pytest.mark.django_db(transaction=True)


def wait_until(predicate, timeout: float = 30.0) -> bool:
    """Poll until true; a generous bound, not a timing assertion."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


def test_it_has_the_venue_cancel_everything_when_the_monitor_dies(trader, market, monitor_process):
    proc = monitor_process(trader.api_key)
    rest(trader, market, 4)
    proc.send_signal(signal.SIGKILL)  # no goodbye: the socket just drops
    assert wait_until(lambda: trader.orders(status=OrderStatus.LIVE) == [])


def test_it_keeps_orders_resting_while_the_monitor_lives(trader, market, monitor_process):
    monitor_process(trader.api_key)
    rest(trader, market, 2)
    time.sleep(2.5)  # more than two heartbeat timeouts of the test venue (1 s)
    assert len(trader.orders(status=OrderStatus.LIVE)) == 2


def test_it_leaves_orders_alone_when_cancel_on_disconnect_is_off(trader, market, monitor_process):
    proc = monitor_process(trader.api_key, VENUE_CANCEL_ON_DISCONNECT="false")
    rest(trader, market, 2)
    proc.send_signal(signal.SIGKILL)
    time.sleep(1.5)
    assert len(trader.orders(status=OrderStatus.LIVE)) == 2


def test_it_derives_the_websocket_url_from_the_rest_url():
    assert ws_url("http://127.0.0.1:8100") == "ws://127.0.0.1:8100/paper/ws"
    assert ws_url("https://venue.example.com/") == "wss://venue.example.com/paper/ws"
