"""A crashed run's orders under the dead-man's cover (issue 12, item 5): no run's end judged them, so the
run that recovers the crashed run judges them at its own end, once. A later run's end never judges them
again (a late beat then would cancel a good order), and a run with nothing to judge waits for no beat."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

import agents.services as services
from agents.core.policies import ScriptedPolicy
from agents.core.ports import VenuePort
from agents.core.state import load_state, mark_run_started
from agents.models import AgentConfig, Order, OrderStatus, Run, RunStatus, TraceEvent, TraceKind
from agents.services import run_agent, runs_sweep_crashed, state_dir
from monitoring.models import CoverBeat
from tests.agents.test_deadman_cover import agent, live_orders, monitor_beats, order  # noqa: F401

pytestmark = pytest.mark.django_db(transaction=True)  # the beat thread has its own connection


def killed_after_its_order_rested(agent_row: AgentConfig, trader: VenuePort, market: str) -> Run:
    """A run whose order rests (a beat covered it), then what a SIGKILL before its end leaves: the row
    running, the state file naming the run as started and not finished."""
    run = run_agent(agent_id=agent_row.pk, venue=trader, policy=order(market))
    assert len(live_orders(trader)) == 1
    Run.objects.filter(pk=run.pk).update(status=RunStatus.RUNNING, ended_at=None, end_reason="")
    state = load_state(state_dir(), str(run.agent_id))
    mark_run_started(state_dir(), state, run_id=str(run.pk), at=run.started_at.isoformat())
    return run


@pytest.fixture
def cover_waits(monkeypatch) -> list[float]:
    """Every wait for a covering beat a run's end makes (the real wait runs)."""
    calls: list[float] = []
    real = services._cover_wait

    def spy(sent_at: float) -> bool:
        calls.append(sent_at)
        return real(sent_at)

    monkeypatch.setattr(services, "_cover_wait", spy)
    return calls


def test_it_judges_a_crashed_runs_orders_once_in_the_run_that_recovered_it(agent, market, make_trader,  # noqa: F811
                                                                           monitor_beats, cover_waits):  # noqa: F811
    trader = make_trader()
    beater = monitor_beats()
    crashed = killed_after_its_order_rested(agent, trader, market)
    recovering = run_agent(agent_id=agent.pk, venue=trader, policy=order(market, "0.301"))
    assert recovering.status == RunStatus.COMPLETED and len(live_orders(trader)) == 2  # a beat covered both
    beater.stop()
    CoverBeat.objects.update(confirmed_at=timezone.now() - timedelta(seconds=2.5))  # a late beat (database busy)
    waits_before = len(cover_waits)
    later = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy(["done"]))  # sends nothing
    assert later.status == RunStatus.COMPLETED
    assert len(live_orders(trader)) == 2, "an order of a crashed run, confirmed when recovered, was cancelled"
    assert len(cover_waits) == waits_before, "a run that sent nothing and recovered nothing waited for a beat"
    recovery = TraceEvent.objects.get(run=recovering, kind=TraceKind.RECOVERY)
    assert recovery.data["recovered_runs"] == [crashed.pk]  # the trace says which run took them over


@pytest.mark.parametrize("marked_by", ["the next run", "the monitor's sweep"])
def test_it_cancels_a_crashed_runs_order_no_beat_confirms_at_the_recovering_runs_end(marked_by, agent, market,  # noqa: F811
                                                                                     make_trader, monitor_beats):  # noqa: F811
    trader = make_trader()
    beater = monitor_beats()
    crashed = killed_after_its_order_rested(agent, trader, market)
    beater.stop()  # the monitor died with the run: its session no longer covers the order
    if marked_by == "the monitor's sweep":
        assert runs_sweep_crashed() == 1  # its lease was released: no live process behind it
    run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy(["done"]))
    assert live_orders(trader) == []
    assert Order.objects.get(run=crashed).status == OrderStatus.CANCELED
