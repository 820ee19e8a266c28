"""The card's smoke test: a 30 s live run on the paper venue, zero crashes."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from io import StringIO
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.management.commands import smoke
from agents.models import Order, Run, RunStatus
from agents.venue.client import HttpVenue
from monitoring.models import HaltEvent, HaltSource, KillSwitch, kill_switch_writer
from paper_venue.testing import free_port
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)


def test_it_runs_the_demo_agent_for_thirty_seconds_with_zero_crashes(fresh_venue, settings):
    running, _ = fresh_venue
    settings.VENUE_URL, settings.VENUE_API_KEY = running.url, running.api_key
    AgentConfigFactory(known_market_types=["crypto-hourly", "sports", "politics"])
    out = StringIO()
    call_command("smoke", seconds=30, stdout=out)
    assert "smoke passed" in out.getvalue()
    assert HttpVenue(running.url, running.api_key).orders()  # it really traded
    placed = Order.objects.exclude(venue_order_id="").count()
    assert placed and f", {placed} order(s) placed" in out.getvalue(), out.getvalue()


def test_it_fails_when_the_venue_is_down(settings):
    settings.VENUE_URL = f"http://127.0.0.1:{free_port()}"
    settings.GUARD_GRACE_S = 3600  # here: the crashed runs must fail the smoke, not a halt first
    AgentConfigFactory()
    with pytest.raises(CommandError, match="smoke failed"):
        call_command("smoke", seconds=2, stdout=StringIO())


# --- review fixes: a smoke that cannot pass while the thing it checks is broken ------------------


class QuietMonitor:
    """The health pass, doing nothing (the tests below drive runs by hand; no venue)."""

    def __init__(self, venue_factory: Any) -> None:
        pass

    def health_tick(self) -> None:
        return None


def fake_runs(monkeypatch, status: str, *, during: Callable[[], None] = lambda: None) -> list[Run]:
    """Replace run_agent by one that records a finished run with `status` (no loop, no venue)."""
    runs: list[Run] = []

    def run_agent(*, agent_id: int) -> Run:
        time.sleep(0.05)
        during()
        now = timezone.now()
        runs.append(Run.objects.create(agent_id=agent_id, status=status, started_at=now, ended_at=now))
        return runs[-1]

    monkeypatch.setattr(smoke, "run_agent", run_agent)
    monkeypatch.setattr(smoke, "Monitor", QuietMonitor)
    return runs


@pytest.mark.parametrize("how", ["flag file", "kill-switch row"])
def test_it_fails_at_the_start_when_trading_is_already_halted(how, settings, monkeypatch):
    runs = fake_runs(monkeypatch, RunStatus.KILL_SWITCH)  # what the reviewer saw: every run stopped at once
    AgentConfigFactory()
    if how == "flag file":
        (settings.DATA_DIR / "kill_switch.flag").touch()
    else:
        with kill_switch_writer():
            KillSwitch.objects.filter(pk=1).update(active=True, reason="daily loss")

    with pytest.raises(CommandError, match="smoke failed before it started: trading is halted"):
        call_command("smoke", seconds=1, stdout=StringIO())
    assert runs == []


def test_it_fails_at_the_start_when_the_override_file_pauses(settings, monkeypatch):
    runs = fake_runs(monkeypatch, RunStatus.PAUSED)
    AgentConfigFactory()
    (settings.DATA_DIR / "override.json").write_text(json.dumps({"pause": True, "note": "lunch"}))

    with pytest.raises(CommandError, match=r"before it started: the stop check trips \(paused: paused by override"):
        call_command("smoke", seconds=1, stdout=StringIO())
    assert runs == []


@pytest.mark.parametrize("status", [RunStatus.KILL_SWITCH, RunStatus.PAUSED, RunStatus.BUDGET_TOKENS,
                                    RunStatus.MAX_STEPS])
def test_it_fails_when_the_runs_are_stopped_instead_of_completing(status, monkeypatch):
    fake_runs(monkeypatch, status)
    AgentConfigFactory(dry_run=True)

    with pytest.raises(CommandError) as failed:
        call_command("smoke", seconds=0.3, stdout=StringIO())

    assert f"run(s) stopped before completing: {{'{status.value}': " in str(failed.value)
    assert "no run completed" in str(failed.value)


def test_it_fails_on_any_halt_event_in_the_window_even_a_noop_sweep(monkeypatch):
    def sweep() -> None:
        if not HaltEvent.objects.exists():
            HaltEvent.objects.create(ts=timezone.now(), action=HaltEvent.Action.NOOP, source=HaltSource.COMMAND,
                                     reason="sweep while halted: 0 orders")

    fake_runs(monkeypatch, RunStatus.COMPLETED, during=sweep)
    AgentConfigFactory(dry_run=True)

    with pytest.raises(CommandError, match=r"halt event \(noop\) by command: sweep while halted"):
        call_command("smoke", seconds=0.3, stdout=StringIO())


def test_it_fails_when_an_agent_that_trades_for_real_places_no_order(monkeypatch):
    fake_runs(monkeypatch, RunStatus.COMPLETED)
    AgentConfigFactory(name="real-trader")

    with pytest.raises(CommandError, match="0 orders placed at the venue, though real-trader trade"):
        call_command("smoke", seconds=0.3, stdout=StringIO())


def test_it_passes_completed_dry_run_agents_without_orders_and_counts_them(monkeypatch):
    runs = fake_runs(monkeypatch, RunStatus.COMPLETED)
    AgentConfigFactory(dry_run=True)
    out = StringIO()

    call_command("smoke", seconds=0.3, stdout=out)

    assert f"smoke passed: zero crashes, zero halts, {len(runs)} completed run(s), 0 order(s) placed" in out.getvalue()
