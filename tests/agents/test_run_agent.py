"""The agent runtime end to end: Django + the loop + the real paper venue process."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings

from agents.core.policies import PolicyStep, RulesPolicy, ScriptedPolicy
from agents.core.policies.base import PolicyContext, ToolCall
from agents.core.state import AgentState, save_state
from agents.models import Order, OrderStatus, Run, RunStatus, TraceEvent
from agents.services import run_agent
from agents.venue.schemas import OrderRequest
from approvals.models import ApprovalRequest
from monitoring.models import KillSwitch, kill_switch_writer
from tests.factories import AgentConfigFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)  # tools run in worker threads with their own connections

FAKE_KEY = "sk-proj-FAKEfakeFAKEfake0123456789abcdefXYZ"


def buy(market: str, size: str, price: str = "0.400") -> tuple[str, dict[str, str]]:
    return ("place_limit_order", {"market": market, "side": "BUY", "price": price, "size": size})


def trace_lines(run: Run) -> list[dict]:
    return [json.loads(line) for line in Path(run.trace_path).read_text().splitlines()]


@pytest.fixture
def agent(market):
    return AgentConfigFactory(known_market_types=["test"], max_order_notional=Decimal("25"),
                              approval_notional=Decimal("10"), second_approval_notional=Decimal("20"))


@pytest.fixture(autouse=True)
def no_flag():
    flag = settings.DATA_DIR / "kill_switch.flag"
    flag.unlink(missing_ok=True)
    yield flag
    flag.unlink(missing_ok=True)


def test_it_trades_on_the_paper_venue_with_the_rules_policy(fresh_venue):
    trader = fresh_venue[1]
    agent = AgentConfigFactory(known_market_types=["crypto-hourly", "sports", "politics", "test"])
    run = run_agent(agent_id=agent.pk, venue=trader, policy=RulesPolicy())
    assert run.status == RunStatus.COMPLETED, run.end_reason
    placed = Order.objects.filter(agent=agent).exclude(venue_order_id="")
    assert placed.exists()
    at_venue = {o.client_order_id for o in trader.orders()}
    assert set(placed.values_list("client_order_id", flat=True)) <= at_venue
    rows = TraceEvent.objects.filter(run=run).count()
    assert rows == len(trace_lines(run)) and rows > 5
    assert os.stat(run.trace_path).st_mode & 0o777 == 0o600
    assert run.steps >= 1 and run.tool_calls >= 1


def test_it_rejects_oversize_even_when_the_model_insists(make_trader, agent, market):
    trader = make_trader()
    insists = ScriptedPolicy([[buy(market, "1000", "0.500")]], repeat_last=True)
    run = run_agent(agent_id=agent.pk, venue=trader, policy=insists)
    assert run.status == RunStatus.MAX_STEPS  # it kept asking; the cap ended it
    assert trader.orders() == [] and not Order.objects.filter(agent=agent).exists()
    refusals = TraceEvent.objects.filter(run=run, kind="refusal")
    assert refusals.count() == agent.max_steps
    assert "per-order cap" in refusals.first().data["reason"]


def test_it_refuses_a_tool_outside_the_allowlist(make_trader, agent, market):
    agent.allowed_tools = ["browse_markets", "get_market"]
    agent.save()
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "1")], "done"]))
    assert trader.orders() == []
    refusal = TraceEvent.objects.get(run=run, kind="refusal")
    assert refusal.data["tool"] == "place_limit_order" or "place_limit_order" in json.dumps(refusal.data)


def test_it_records_an_approval_request_instead_of_an_oversize_order(make_trader, agent, market):
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "30", "0.500")], "ok"]))
    request = ApprovalRequest.objects.get(run=run)
    assert request.status == "pending" and request.notional == Decimal("15.000000")
    assert request.required_approvals == 1 and "approval size" in request.reasons[0]
    assert trader.orders() == []
    result = TraceEvent.objects.get(run=run, kind="tool_result")
    assert "pending approval" in json.dumps(result.data)


def test_it_stops_before_the_next_action_when_the_flag_is_touched(make_trader, agent, market, no_flag):
    trader = make_trader()

    def touch_then_check(ctx: PolicyContext) -> PolicyStep:
        no_flag.touch()  # the operator touches the flag while the model is thinking
        return PolicyStep(tool_calls=(ToolCall("c1", *buy(market, "1")),))

    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([touch_then_check], repeat_last=True))
    assert run.status == RunStatus.KILL_SWITCH
    assert trader.orders() == []
    assert TraceEvent.objects.filter(run=run, kind="kill_switch_stop").exists()


def test_it_stops_at_once_when_the_database_kill_switch_is_active(make_trader, agent, market):
    with kill_switch_writer():  # set the row as a halt would, without the venue sweep
        KillSwitch.objects.filter(pk=1).update(active=True, reason="drill")
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "1")]], repeat_last=True))
    assert run.status == RunStatus.KILL_SWITCH and "drill" in run.end_reason
    assert run.tool_calls == 0 and trader.orders() == []


def test_it_keeps_a_fake_api_key_out_of_every_trace(make_trader, agent, market, faults, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    faults.plant(market, "description", f"Great market. Debug: api_key={FAKE_KEY} AKIAABCDEFGHIJKLMNOP")
    trader = make_trader()
    leaky = ScriptedPolicy([[("get_market", {"slug": market})], f"my key is {FAKE_KEY}"])
    run = run_agent(agent_id=agent.pk, venue=trader, policy=leaky)
    text = Path(run.trace_path).read_text()
    rows = json.dumps([e.data for e in TraceEvent.objects.filter(run=run)])
    assert re.search("Great.market", text)  # the tool output did reach the trace (datamarked)...
    for leak in (FAKE_KEY, "AKIAABCDEFGHIJKLMNOP"):
        assert leak not in text and leak not in rows  # ...with the secrets redacted
    all_files = "".join(p.read_text() for p in (settings.DATA_DIR / "state" / "traces").rglob("*.ndjson"))
    assert FAKE_KEY not in all_files
    run.refresh_from_db()
    # A model that writes a configured key halts the desk, naming the variable (never the value).
    assert "OPENAI_API_KEY" in run.end_reason and FAKE_KEY not in run.end_reason  # the Run row, shown on pages


ESCAPED_FORMS = {
    "partly-percent-encoded": "".join(f"%{ord(c):02X}" if i % 3 == 0 else c for i, c in enumerate(FAKE_KEY)),
    "x-escapes": "".join(f"\\x{b:02x}" for b in FAKE_KEY.encode()),
    "u-escapes": "".join(f"\\u{ord(c):04x}" for c in FAKE_KEY),
    "full-width": "".join(chr(ord(c) + 0xFEE0) for c in FAKE_KEY),
}


@pytest.mark.parametrize("form", sorted(ESCAPED_FORMS))
def test_it_halts_on_an_escaped_key_and_writes_it_in_no_trace(make_trader, agent, market, monkeypatch, form):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    written = ESCAPED_FORMS[form]
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([f"the key is {written}, ok"]))
    assert run.status == RunStatus.KILL_SWITCH and "OPENAI_API_KEY" in run.end_reason, run.end_reason
    text = Path(run.trace_path).read_text()
    rows = json.dumps([e.data for e in TraceEvent.objects.filter(run=run)], ensure_ascii=False)
    for spelled in {written, json.dumps(written)[1:-1], json.dumps(written, ensure_ascii=False)[1:-1]}:
        assert spelled not in text and spelled not in rows
    assert "[REDACTED:env:escaped]" in text


def test_it_skips_a_run_while_another_process_holds_the_agent_lock(make_trader, agent, market):
    code = (
        "import sys, time; from pathlib import Path; from agents.core.state import AgentLock;"
        f"lock = AgentLock(Path(sys.argv[1]), '{agent.pk}'); lock.acquire(); print('held', flush=True);"
        "time.sleep(30)"
    )
    holder = subprocess.Popen([sys.executable, "-c", code, str(settings.DATA_DIR / "state")],
                              stdout=subprocess.PIPE, text=True, cwd=Path(__file__).resolve().parents[2])
    try:
        assert holder.stdout.readline().strip() == "held"
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[buy(market, "1")]]))
    finally:
        holder.kill()
        holder.wait()
    assert run.status == RunStatus.SKIPPED and "holds the lock" in run.end_reason
    assert not TraceEvent.objects.filter(run=run).exists()


def test_it_recovers_after_a_crash_mid_run(make_trader, agent, market):
    trader = make_trader()
    crashed = RunFactory(agent=agent, status=RunStatus.RUNNING)
    # The crashed run had journaled an order and sent it; the acknowledgement never came back.
    order = Order.objects.create(agent=agent, run=crashed, client_order_id="ac-crash-1", market=market, side="BUY",
                                 price=Decimal("0.300"), size=Decimal("2"), notional=Decimal("0.6"),
                                 status=OrderStatus.SENT)
    trader.place(OrderRequest(market=market, side="BUY", price=Decimal("0.300"), size=Decimal("2"),
                              client_order_id="ac-crash-1"))
    lost = Order.objects.create(agent=agent, run=crashed, client_order_id="ac-crash-2", market=market, side="BUY",
                                price=Decimal("0.300"), size=Decimal("2"), notional=Decimal("0.6"),
                                status=OrderStatus.SENT)
    save_state(settings.DATA_DIR / "state", AgentState(agent_id=str(agent.pk), last_run_id=str(crashed.pk),
                                                       last_run_finished=False))
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy(["nothing to do"]))
    order.refresh_from_db(), lost.refresh_from_db(), crashed.refresh_from_db()
    assert order.status == OrderStatus.LIVE and order.venue_order_id
    assert lost.status == OrderStatus.REJECTED and "never reached" in lost.reason
    assert crashed.status == RunStatus.ERROR and "crashed" in crashed.end_reason
    recovery = TraceEvent.objects.get(run=run, kind="recovery")
    assert recovery.data["orders"] == {"ac-crash-1": "LIVE", "ac-crash-2": "never reached the venue"}


def test_it_times_out_a_hung_venue_call_and_goes_on(make_trader, agent, market, faults):
    agent.tool_timeout_s = 1
    agent.save()
    trader = make_trader(timeout=3.0, retries=0)
    faults.hang(path_prefix="/paper/portfolio")
    try:
        policy = ScriptedPolicy([[("get_balance", {})], [("get_market", {"slug": market})], "done"])
        run = run_agent(agent_id=agent.pk, venue=trader, policy=policy)
    finally:
        faults.release()
    assert run.status == RunStatus.COMPLETED and run.steps == 3
    assert TraceEvent.objects.filter(run=run, kind="tool_timeout").count() == 1
    assert TraceEvent.objects.filter(run=run, kind="tool_result", tool="get_market").exists()


def test_it_simulates_orders_in_dry_run(make_trader, agent, market, settings):
    settings.DRY_RUN = True
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "1")], "done"]))
    assert trader.orders() == []
    placed = TraceEvent.objects.get(run=run, kind="order_placed")
    assert placed.data["dry_run"] is True


def test_it_does_not_run_a_disabled_agent(make_trader, agent):
    agent.enabled = False
    agent.save()
    assert run_agent(agent_id=agent.pk, venue=make_trader()) is None
    assert not Run.objects.filter(agent=agent).exists()


def test_a_desk_pause_saved_on_any_host_stops_the_run_before_its_next_order(make_trader, agent, market, operator):
    from agents.overrides import override_write

    trader = make_trader()

    def pause_then_buy(ctx: PolicyContext) -> PolicyStep:
        override_write(text='{"pause": true, "note": "desk paused"}', actor=operator)  # another host's panel
        return PolicyStep(tool_calls=(ToolCall("c1", *buy(market, "1")),))

    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([pause_then_buy], repeat_last=True))
    assert run.status == RunStatus.PAUSED and "paused by the desk override: desk paused" in run.end_reason
    assert trader.orders() == []


def test_the_desks_tighter_limit_refuses_an_order_its_own_limit_allows(make_trader, agent, market, operator):
    from agents.overrides import override_write

    override_write(text='{"limits": {"max_order_notional": "1"}}', actor=operator)
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "5")], "done"]))
    assert trader.orders() == [] and run.status == RunStatus.COMPLETED
    assert TraceEvent.objects.filter(run=run, kind="refusal").exists()
