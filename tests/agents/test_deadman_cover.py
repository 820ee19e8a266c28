"""No order without a dead-man's cover (issue 12): the monitor's cancel-on-disconnect session must be
confirmed within seconds at the moment an order is sent; when it is not, the agent sends nothing,
and what it sent in the gap is cancelled at the run's end."""

from __future__ import annotations

import signal
import socket
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from agents.core.policies import ScriptedPolicy
from agents.models import Order, OrderStatus, RunStatus
from agents.services import run_agent
from agents.venue.schemas import OrderStatus as VenueStatus
from monitoring.models import CoverBeat
from tests.factories import AgentConfigFactory
from tests.monitoring.conftest import monitor_process  # noqa: F401  (the real `manage.py monitor` fixture)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent(market, settings):
    settings.REQUIRE_DEADMAN_COVER = True
    settings.DEADMAN_COVER_STALE_S = Decimal("3")
    return AgentConfigFactory(known_market_types=["test"])


def order(market: str, price: str = "0.300") -> ScriptedPolicy:
    return ScriptedPolicy([[("place_limit_order", {"market": market, "side": "BUY", "price": price, "size": "1"})],
                           "done"])


def beat(*, armed: bool = True, age_s: float = 0.0, host: str = "monitor-host") -> None:
    CoverBeat.objects.update_or_create(host=host, defaults={
        "armed": armed, "confirmed_at": timezone.now() - timedelta(seconds=age_s)})


def test_it_sends_no_order_when_no_monitor_ever_confirmed_a_cover(agent, market, make_trader):
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.KILL_SWITCH and "dead-man's cover" in run.end_reason
    assert trader.orders() == []


def test_it_sends_no_order_when_the_cover_is_stale_or_down(agent, market, make_trader):
    trader = make_trader()
    beat(age_s=10)
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market)).status == RunStatus.KILL_SWITCH
    beat(armed=False)
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market)).status == RunStatus.KILL_SWITCH
    assert trader.orders() == []


def test_it_trades_under_a_fresh_cover_from_any_monitor_host(agent, market, make_trader):
    trader = make_trader()
    beat(armed=False, host="a")
    beat(armed=True, host="b")
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.COMPLETED and len(trader.orders(status=VenueStatus.LIVE)) == 1


def test_it_cancels_at_the_runs_end_what_rests_without_a_cover(agent, market, make_trader, monkeypatch):
    """An order sent while the cover still read fresh, then the cover lapses before the run ends."""
    import agents.services as services

    trader = make_trader()
    beat()
    real = services._cancel_uncovered

    def cover_lapses_then_cleanup(agent_row, venue):
        CoverBeat.objects.all().delete()  # the monitor died during the run
        real(agent_row, venue)

    monkeypatch.setattr(services, "_cancel_uncovered", cover_lapses_then_cleanup)
    run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert trader.orders(status=VenueStatus.LIVE) == []
    assert Order.objects.get(agent=agent).status == OrderStatus.CANCELED


def test_it_records_the_monitors_cover_as_armed_only_while_the_venue_is_heard(settings):
    from monitoring.deadman import cover_confirm

    class Deadman:
        def __init__(self, alive: bool) -> None:
            self.alive = alive

        def live(self, max_silence_s: float) -> bool:
            return self.alive

    assert cover_confirm(Deadman(True), host="h") is True
    assert CoverBeat.objects.get(host="h").armed
    assert cover_confirm(Deadman(False), host="h") is False and not CoverBeat.objects.get(host="h").armed
    assert cover_confirm(None, host="h") is False
    assert CoverBeat.objects.count() == 1


# --- the real monitor killed while an agent trades ------------------------------------------------


@pytest.mark.fault
def test_it_leaves_nothing_resting_when_the_monitor_is_killed_while_agents_trade(agent, market, make_trader,
                                                                                 monitor_process, settings):  # noqa: F811
    settings.REQUIRE_MONITOR_HEARTBEAT = False  # this test is about the cover alone
    trader = make_trader()
    monitor = monitor_process(trader.api_key)  # arms account-wide cancel-on-disconnect, beats every second
    deadline = time.monotonic() + 20
    while not CoverBeat.objects.filter(host=socket.gethostname(), armed=True).exists():
        assert time.monotonic() < deadline, "the monitor never confirmed its cover"
        time.sleep(0.1)
    prices = iter(f"0.{n:03d}" for n in range(100, 400, 3))
    assert run_agent(agent_id=agent.pk, venue=trader, policy=order(market, next(prices))).status == "completed"
    assert len(trader.orders(status=VenueStatus.LIVE)) == 1

    monitor.send_signal(signal.SIGKILL)
    monitor.wait(timeout=10)
    killed_at = time.monotonic()
    statuses = []
    while time.monotonic() - killed_at < float(settings.DEADMAN_COVER_STALE_S) + 2:  # trade on through the gap
        statuses.append(run_agent(agent_id=agent.pk, venue=trader, policy=order(market, next(prices))).status)
    assert statuses[-1] == RunStatus.KILL_SWITCH  # the lapsed cover stops every order
    assert trader.orders(status=VenueStatus.LIVE) == []  # the venue's cancel-on-disconnect + the runs' own
    assert not Order.objects.filter(agent=agent, status=OrderStatus.LIVE).exists()
