"""The five kill-switch shapes, end to end against the paper venue, all through halt()."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.venue.client import HttpVenue
from agents.venue.schemas import OrderStatus
from monitoring.halt import ResumeRefused, flag_path, resume
from monitoring.health import Monitor, chain_drift_amount
from monitoring.models import HaltEvent, KillSwitch
from paper_venue.testing import free_port
from tests.factories import RunFactory
from tests.monitoring.conftest import give_position, rest

pytestmark = pytest.mark.django_db



def monitor(client) -> Monitor:
    return Monitor(lambda: client, grace_s=0)


def last_halt() -> HaltEvent:
    return HaltEvent.objects.filter(action="halt").latest("ts")


# 1. file flag ---------------------------------------------------------------------------------


def test_it_completes_the_halt_when_the_flag_file_is_touched_by_hand(trader, market):
    rest(trader, market, 3)
    flag_path().write_text("operator at 3am: agent looping\n")
    event = monitor(trader).flag_tick()
    assert event.source == "file_flag" and "agent looping" in event.reason
    assert trader.orders(status=OrderStatus.LIVE) == [] and KillSwitch.objects.get(pk=1).active
    assert monitor(trader).flag_tick() is None  # done once: the row is active now


def test_it_completes_the_halt_from_the_real_monitor_process(trader, market, monitor_process):
    """The watcher as it runs in production: `manage.py monitor`, a separate process."""
    rest(trader, market, 5)
    monitor_process(trader.api_key, VENUE_CANCEL_ON_DISCONNECT="false")
    flag_path().touch()
    deadline = time.monotonic() + 30  # a generous wait, not a timing assertion: the bench times it
    halted = HaltEvent.objects.filter(source="file_flag", action="halt")
    while time.monotonic() < deadline and not halted.exists():
        time.sleep(0.1)
    assert halted.exists(), list(HaltEvent.objects.values_list("source", "action", "reason"))
    assert trader.orders(status=OrderStatus.LIVE) == []


# 2. daily loss ----------------------------------------------------------------------------------


def test_it_halts_flattens_and_holds_on_a_daily_loss(trader, make_trader, market, faults, operator):
    other = make_trader()
    small = make_trader(usdc="100")
    give_position(small, other, market, shares="100", price="0.500")  # NAV 100 = 50 USDC + 100 x 0.50
    rest(other, market, 10, price="0.250", prefix="bids")  # somewhere to sell into when flattening
    faults.settle_now()  # the chain has caught up: only the loss is in question here
    watch = monitor(small)
    assert watch.health_tick() == []  # records the day's opening NAV
    faults.price_shock(market, "0.300")  # marks fall: NAV 50 + 100 x 0.30 = 80, down 20%
    faults.settle_now()
    assert watch.health_tick() == []  # one reading is not enough to sell everything
    halts = watch.health_tick()  # the next one confirms it
    assert [h.source for h in halts] == ["daily_loss"]
    event = halts[0]
    assert event.flattened and event.hold_until - event.ts >= timedelta(hours=23, minutes=59)
    assert "NAV down" in event.reason and Decimal(event.figures["drop_pct"]) > 3
    assert sum(p.shares for p in small.positions()) < Decimal("100")  # flatten really sold
    with pytest.raises(ResumeRefused, match="hold"):
        resume(actor=operator, reason="fine now")


# 3. cost cap ------------------------------------------------------------------------------------


def test_it_halts_when_inference_spend_passes_the_daily_cap(trader, settings, market):
    settings.HALT_COST_CAP_USD = Decimal("1")
    RunFactory(cost=Decimal("0.60"))
    assert monitor(trader).health_tick() == []
    rest(trader, market, 2)
    RunFactory(cost=Decimal("0.50"))
    halts = monitor(trader).health_tick()
    assert [h.source for h in halts] == ["cost_cap"] and "1.10" in halts[0].reason
    assert trader.orders(status=OrderStatus.LIVE) == [] and halts[0].orders_cancelled == 2


# 4. tool error rate -----------------------------------------------------------------------------


def test_it_halts_on_a_tool_error_rate_above_five_percent_over_five_minutes(trader, market):
    now = timezone.now()
    RunFactory(ended_at=now - timedelta(minutes=10), tool_calls=10, tool_errors=10)  # outside the window
    RunFactory(ended_at=now - timedelta(minutes=1), tool_calls=100, tool_errors=5)  # exactly 5%: not above
    assert monitor(trader).health_tick() == []
    RunFactory(ended_at=now, tool_calls=20, tool_errors=2)  # 7 / 120 = 5.8%
    rest(trader, market, 1)
    assert [h.source for h in monitor(trader).health_tick()] == ["tool_error_rate"]
    assert trader.orders(status=OrderStatus.LIVE) == []


# 5. chain drift ---------------------------------------------------------------------------------


def test_it_halts_on_chain_drift_and_resumes_only_after_reconciliation(trader, faults, operator, market):
    faults.settle_now()
    first = monitor(trader).health_tick()
    assert first == [], [h.reason for h in first]  # REST and chain agree
    rest(trader, market, 1)
    faults.chain_drift(trader.account_name, usdc="5")
    halts = monitor(trader).health_tick()
    assert trader.orders(status=OrderStatus.LIVE) == []
    assert [h.source for h in halts] == ["chain_drift"] and KillSwitch.objects.get(pk=1).needs_reconciliation
    with pytest.raises(ResumeRefused, match="reconcile"):
        resume(actor=operator, reason="ok")
    with pytest.raises(CommandError, match="still differ"):
        call_command("reconcile_chain", user="operator", note="checked", stdout=StringIO())
    faults.reset()  # the venue operator fixed the books: REST agrees with the chain again
    faults.settle_now()
    call_command("reconcile_chain", user="operator", note="venue fixed its ledger", stdout=StringIO())
    resume(actor=operator, reason="reconciled")
    assert not KillSwitch.objects.get(pk=1).active


# fail closed ----------------------------------------------------------------------------------


def test_it_trips_a_guard_that_cannot_be_computed(trader):
    dead = HttpVenue(f"http://127.0.0.1:{free_port()}", "k", timeout=0.3, retries=0)
    halts = Monitor(lambda: dead, grace_s=0).health_tick()
    sources = {h.source for h in halts}
    assert "daily_loss" in sources and KillSwitch.objects.get(pk=1).active
    assert "could not be computed" in halts[0].reason


def test_it_does_not_flatten_on_a_single_stray_reading(trader, make_trader, market, faults):
    small = make_trader(usdc="100")
    give_position(small, make_trader(), market, shares="100", price="0.500")
    faults.settle_now()
    watch = monitor(small)
    watch.health_tick()
    faults.price_shock(market, "0.300")
    assert watch.health_tick() == []  # a stray mark...
    faults.price_shock(market, "0.500")
    assert watch.health_tick() == [] and not KillSwitch.objects.get(pk=1).active  # ...that came back


def test_it_measures_drift_while_settlement_is_in_progress(trader, make_trader, market, faults):
    """Fills inside the settlement lag (3600 s in the test venue) count as pending, not as drift."""
    give_position(trader, make_trader(), market, shares="1")
    ledger = trader.chain_ledger()
    assert ledger.pending and ledger.pending_usdc is not None
    assert chain_drift_amount(trader) == 0  # REST = settled chain + pending, exactly
    watch = monitor(trader)
    assert watch.health_tick() == [] and watch.health_tick(now=timezone.now() + timedelta(seconds=301)) == []
    faults.chain_drift(trader.account_name, market=market, outcome="YES", shares="0.5")  # a real difference
    assert [h.source for h in monitor(trader).health_tick()] == ["chain_drift"]


class CountOnlyLedger:
    """A venue that says how many settlements are pending but not what they hold (a real chain may not)."""

    def __init__(self, inner):
        self.inner = inner

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def chain_ledger(self):
        return self.inner.chain_ledger().model_copy(update={"pending_usdc": None, "pending_positions": None})


def test_it_waits_for_settlement_it_cannot_see_into_but_trips_when_it_stays_pending(trader, make_trader, market):
    give_position(trader, make_trader(), market, shares="1")
    watch = monitor(CountOnlyLedger(trader))
    assert watch.health_tick() == []
    stuck = watch.health_tick(now=timezone.now() + timedelta(seconds=301))
    assert [h.source for h in stuck] == ["chain_drift"] and "pending" in stuck[0].reason


def test_it_waits_out_the_grace_period_before_tripping(trader):
    dead = HttpVenue(f"http://127.0.0.1:{free_port()}", "k", timeout=0.3, retries=0)
    watch = Monitor(lambda: dead, grace_s=60)
    assert watch.health_tick() == []
    assert watch.health_tick(now=timezone.now() + timedelta(seconds=61)) != []


# commands and admin -----------------------------------------------------------------------------


def test_it_halts_and_resumes_from_the_command_line(trader, market, operator):
    rest(trader, market, 2)
    out = StringIO()
    call_command("halt", reason="from the shell", user="operator", stdout=out)
    assert "HALTED: 2 resting orders cancelled" in out.getvalue()
    assert last_halt().source == "command" and last_halt().figures["os_user"] and last_halt().actor == operator
    with pytest.raises(CommandError, match="no active user"):
        call_command("resume", reason="ok", user="nobody-here", stdout=StringIO())
    with pytest.raises(CommandError, match="refused"):
        call_command("resume", reason="", user="operator", stdout=StringIO())
    call_command("resume", reason="shell drill over", user="operator", stdout=StringIO())
    assert not KillSwitch.objects.get(pk=1).active


def test_it_says_what_a_command_line_flatten_sold(trader, make_trader, market, settings):
    give_position(trader, make_trader(), market, shares="3")
    rest(make_trader(), market, 5, price="0.400", prefix="bids")
    out = StringIO()
    call_command("halt", reason="flatten from the shell", flatten=True, stdout=out, stderr=StringIO())
    assert f"flatten {market}:YES: sold 3" in out.getvalue()


def test_it_halts_and_resumes_from_admin_actions_with_a_reason(client, trader, operator):
    client.force_login(operator)
    url = "/admin/monitoring/killswitch/"
    page = client.post(url, {"action": "halt_trading", "_selected_action": ["1"]})
    assert b"Reason (required)" in page.content  # asks first
    client.post(url, {"action": "halt_trading", "_selected_action": ["1"], "apply": "1", "reason": "admin drill"})
    assert last_halt().source == "admin" and last_halt().actor == operator
    client.post(url, {"action": "resume_trading", "_selected_action": ["1"], "apply": "1", "reason": "done"})
    assert not KillSwitch.objects.get(pk=1).active


def test_the_days_spend_is_one_row_kept_as_runs_end(settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from agents.models import DailyCost
    from monitoring.metrics import inference_cost_today

    now = timezone.now()
    for cost in ("0.25", "0.50"):
        RunFactory(cost=Decimal(cost), started_at=now, ended_at=now)  # each counted as it ends
    RunFactory(cost=Decimal("9"), started_at=now - timedelta(days=1), ended_at=now)  # yesterday's run
    assert DailyCost.objects.get(day=now.date()).usd == Decimal("0.75")
    with CaptureQueriesContext(connection) as ctx:
        assert inference_cost_today(now) == Decimal("0.75")
    assert len(ctx.captured_queries) == 1 and "agents_run" not in ctx.captured_queries[0]["sql"]


def test_a_run_that_added_no_cost_and_no_tool_error_leaves_the_fleet_shapes_to_the_monitor(settings):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from monitoring.health import after_run

    now = timezone.now()
    clean = RunFactory(status="completed", started_at=now, ended_at=now, tool_calls=3)
    with CaptureQueriesContext(connection) as ctx:
        after_run(clean, [5.0])
    fleet_sums = [q["sql"] for q in ctx.captured_queries
                  if 'SUM("agents_run"."tool_calls")' in q["sql"] and '"agents_run"."agent_id" =' not in q["sql"]]
    assert fleet_sums == [] and not any("agents_dailycost" in q["sql"] for q in ctx.captured_queries)
    failing = RunFactory(status="completed", started_at=now, ended_at=now, tool_calls=3, tool_errors=3)
    settings.HALT_TOOL_ERROR_RATE = Decimal("0.4")  # 3 errors in 6 calls
    after_run(failing, [5.0])  # its errors can raise the fleet's rate: checked at once
    assert HaltEvent.objects.filter(source="tool_error_rate").exists()
