"""A crashed run's resting order, the monitor's session gone with it, and the agent's next run on
another worker host (its state file never heard of the crashed run): the next run's end still
cancels the uncovered order (issue 12 review)."""

from __future__ import annotations

import pytest

from agents.core.policies import ScriptedPolicy
from agents.models import Order, OrderStatus
from agents.services import run_agent, runs_sweep_crashed
from tests.agents.test_cover_recovered import killed_after_its_order_rested
from tests.agents.test_deadman_cover import agent, live_orders, monitor_beats, order  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_cancels_a_crashed_runs_uncovered_order_from_a_run_on_another_host(  # noqa: F811
        agent, market, make_trader, monitor_beats, settings, tmp_path):  # noqa: F811
    trader = make_trader()
    beater = monitor_beats()
    crashed = killed_after_its_order_rested(agent, trader, market)
    beater.stop()  # the monitor died with the run: its session no longer covers the order
    assert runs_sweep_crashed() == 1
    host2 = tmp_path / "host2"
    (host2 / "state").mkdir(parents=True)
    settings.DATA_DIR = host2  # the next run lands on another worker host
    run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy(["done"]))
    assert live_orders(trader) == []
    assert Order.objects.get(run=crashed).status == OrderStatus.CANCELED
