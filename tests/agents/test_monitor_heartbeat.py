"""No trading without the watcher: runs stop when the monitor's heartbeat is missing or stale."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.core.policies import ScriptedPolicy
from agents.models import RunStatus
from agents.services import run_agent
from monitoring.metrics import metric_record
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent(market, settings):
    settings.REQUIRE_MONITOR_HEARTBEAT = True
    return AgentConfigFactory(known_market_types=["test"])


def order(market: str) -> ScriptedPolicy:
    return ScriptedPolicy([[("place_limit_order", {"market": market, "side": "BUY", "price": "0.300", "size": "1"})],
                           "done"])


def test_it_refuses_to_trade_when_the_monitor_never_ran(agent, market, make_trader):
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.KILL_SWITCH and "never run" in run.end_reason
    assert trader.orders() == []


def test_it_refuses_to_trade_when_the_heartbeat_is_stale(agent, market, make_trader, settings):
    settings.MONITOR_STALE_S = 60
    metric_record("kill_switch_active", 0, ts=timezone.now() - timedelta(seconds=90))
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.KILL_SWITCH and "heartbeat" in run.end_reason
    assert trader.orders() == []


def test_it_trades_while_the_monitor_is_alive(agent, market, make_trader):
    metric_record("kill_switch_active", 0)
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=order(market))
    assert run.status == RunStatus.COMPLETED and len(trader.orders()) == 1
