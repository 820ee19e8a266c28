"""The deploy gate: each item passes in a good setup and fails when the thing it guards is broken."""

from __future__ import annotations

import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test.utils import override_settings
from django.utils import timezone

from academy import deploy_gate
from academy.deploy_gate import FAIL, NOT_CHECKED, PASS
from agents.core.guards import GuardReading, StopReason, never_stop
from agents.core.redact import Redactor, to_jsonable
from agents.models import Order, Run
from approvals.models import ApprovalRequest
from monitoring.alerts import alert_fire
from monitoring.metrics import metric_record
from monitoring.models import KillSwitch, kill_switch_writer
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db

WIRED = {"ALERT_SINKS": ["log", "webhook"], "ALERT_WEBHOOK_URL": "https://hooks.example.com/academy"}

GOOD_RUNBOOK = """# Run-book
## How to stop
touch the flag
## How to flatten
manage.py halt --flatten
## Who to call
#academy-oncall
"""


class DoNothingRedactor(Redactor):
    """A redactor that has lost its job: everything goes through as is."""

    def redact(self, value: Any) -> Any:
        return to_jsonable(value)

    def text(self, s: str) -> str:
        return s


@pytest.fixture
def agent(monitor_alive):
    # monitor_alive: items 2 and 3 use the production stop check, which may require a fresh monitor sample.
    return AgentConfigFactory(name="gate-agent", max_order_notional="25", approval_notional="10",
                              allowed_tools=["get_market", "place_limit_order"])


@pytest.fixture
def monitor_alive():
    """What a running monitor leaves behind: a fresh kill_switch_active sample."""
    return metric_record("kill_switch_active", 0)


@pytest.fixture
def wired(monitor_alive):
    with override_settings(**WIRED):
        yield


def by_item(results: list[deploy_gate.GateResult]) -> dict[str, deploy_gate.GateResult]:
    return {r.item.split(".")[0]: r for r in results}


def test_it_passes_every_checked_item_in_a_good_setup(agent, wired):
    results = by_item(deploy_gate.run_gate())

    assert results["1"].status == NOT_CHECKED and "make test" in results["1"].detail
    assert {n: r.status for n, r in results.items() if n != "1"} == {str(n): PASS for n in range(2, 8)}, results


def test_it_rejects_an_order_ten_times_the_cap_and_names_the_figures(agent):
    result = deploy_gate.check_risk_caps()

    assert result.status == PASS, result
    assert "250.000000 USDC vs cap 25.00" in result.detail and "per-order cap" in result.detail
    assert "0 order(s) at the venue" in result.detail


def test_it_fails_risk_caps_when_the_hard_limits_are_gone(agent, monkeypatch):
    # orders.py imported the function by name: patch both places so no copy survives.
    monkeypatch.setattr("agents.core.risk.hard_limit_violation", lambda **kw: None)
    monkeypatch.setattr("agents.core.orders.hard_limit_violation", lambda **kw: None)

    result = deploy_gate.check_risk_caps()

    assert result.status == FAIL, result
    assert "gate-agent" in result.detail and "rejected" not in result.detail


def test_it_checks_every_enabled_agent_and_skips_disabled_ones(agent):
    AgentConfigFactory(name="other-agent", max_order_notional="5")
    AgentConfigFactory(name="off-agent", enabled=False)

    detail = deploy_gate.check_risk_caps().detail

    assert "gate-agent" in detail and "other-agent" in detail and "off-agent" not in detail


def test_it_does_not_pass_vacuously_without_an_enabled_agent():
    assert deploy_gate.check_risk_caps().status == NOT_CHECKED
    assert deploy_gate.check_kill_switch().status == NOT_CHECKED


def test_it_stops_the_loop_within_one_iteration_when_the_flag_is_present(agent):
    result = deploy_gate.check_kill_switch()

    assert result.status == PASS, result
    assert "outcome kill_switch after 1 iteration(s), model asked 0 time(s), 0 order(s)" in result.detail
    assert "stopped by the flag file" in result.detail and "already trips" not in result.detail
    assert Run.objects.count() == 0


def test_it_fails_the_kill_switch_when_the_production_stop_check_never_trips(agent, monkeypatch):
    # The guard real runs get (loop and order desk): the gate must exercise it, not a copy of its own.
    monkeypatch.setattr("agents.services.stop_check", lambda lease=None, agent="": never_stop)

    result = deploy_gate.check_kill_switch()

    assert result.status == FAIL, result
    assert "outcome completed" in result.detail and "1 order(s) at the venue" in result.detail
    assert Run.objects.count() == 0  # the throwaway run was rolled back


def test_it_fails_risk_caps_when_the_production_desk_skips_the_hard_limits_and_leaves_no_rows(agent, monkeypatch):
    monkeypatch.setattr("agents.core.risk.hard_limit_violation", lambda **kw: None)
    monkeypatch.setattr("agents.core.orders.hard_limit_violation", lambda **kw: None)
    journaled: list[int] = []
    real_place = deploy_gate.JournaledVenue.place

    def place(self, req):
        order = real_place(self, req)
        journaled.append(Order.objects.filter(client_order_id=req.client_order_id, run=self.run).count())
        return order

    monkeypatch.setattr(deploy_gate.JournaledVenue, "place", place)

    result = deploy_gate.check_risk_caps()

    assert result.status == FAIL and "1 order(s) at the venue" in result.detail, result
    assert journaled == [1]  # the order went through the production desk and its journal...
    assert (Order.objects.count(), Run.objects.count(), ApprovalRequest.objects.count()) == (0, 0, 0)  # ...rolled back


def trips_for(reason: str):
    def stop_check(lease=None, agent=""):
        return lambda: GuardReading(StopReason("kill_switch", reason))

    return stop_check


def test_it_says_when_the_production_stop_check_trips_for_another_reason_than_the_flag(agent, monkeypatch):
    # e.g. the monitor-heartbeat condition: items 5 and 6's business, and the flag is not what stopped the run.
    monkeypatch.setattr("agents.services.stop_check", trips_for("monitor heartbeat stale: no sample for 300 s"))

    caps, kill = deploy_gate.check_risk_caps(), deploy_gate.check_kill_switch()

    assert caps.status == FAIL and "-> halted" in caps.detail and "UNVERIFIED" in caps.detail, caps
    assert kill.status == FAIL and "NOT by the flag file (monitor heartbeat stale" in kill.detail, kill
    assert "items 5 and 6" in kill.detail and "items 5 and 6" in caps.detail


@override_settings(REQUIRE_MONITOR_HEARTBEAT=True)
def test_it_reports_a_missing_monitor_heartbeat_as_items_5_and_6_business():
    AgentConfigFactory(name="gate-agent", max_order_notional="25", approval_notional="10",
                       allowed_tools=["get_market", "place_limit_order"])  # and no monitor sample

    caps, kill = deploy_gate.check_risk_caps(), deploy_gate.check_kill_switch()

    assert caps.status == FAIL and "the monitor has never run" in caps.detail and "UNVERIFIED" in caps.detail, caps
    assert "see items 5 and 6" in caps.detail
    # the flag is read before the heartbeat: still verified, and the line says what else trips
    assert kill.status == PASS and "stopped by the flag file" in kill.detail, kill
    assert "already trips (kill_switch: the monitor has never run" in kill.detail


def test_it_verifies_the_flag_while_the_real_kill_switch_row_is_active_and_says_so(agent):
    with kill_switch_writer():
        KillSwitch.objects.filter(pk=1).update(active=True, reason="daily loss")

    kill, caps = deploy_gate.check_kill_switch(), deploy_gate.check_risk_caps()

    assert kill.status == PASS and "stopped by the flag file" in kill.detail, kill
    assert "without the flag the production stop check already trips (kill_switch:" in kill.detail
    assert "daily loss" in kill.detail
    assert caps.status == FAIL and "-> halted (kill_switch: kill switch active" in caps.detail, caps
    assert "250.000000 USDC vs cap" in caps.detail and "UNVERIFIED" in caps.detail


def test_it_never_touches_the_real_flag_file_or_traces(agent, wired):
    real = Path(settings.DATA_DIR)
    before = sorted(p for p in real.rglob("*") if "traces" in p.parts or p.name == "kill_switch.flag")

    deploy_gate.run_gate()

    assert not (real / "kill_switch.flag").exists()
    assert sorted(p for p in real.rglob("*") if "traces" in p.parts or p.name == "kill_switch.flag") == before


def test_it_finds_no_planted_key_in_the_traces_and_restores_the_environment(monkeypatch):
    monkeypatch.setenv("VENUE_API_KEY", "the-deployments-own-venue-key")
    env_before = dict(os.environ)

    result = deploy_gate.check_trace_redaction()

    assert result.status == PASS, result
    assert "0 carry the shaped key, 0 carry the $VENUE_API_KEY value" in result.detail
    assert dict(os.environ) == env_before


def test_it_fails_redaction_with_a_redactor_that_does_nothing(monkeypatch):
    monkeypatch.setattr("agents.services.redactor", lambda: DoNothingRedactor())

    result = deploy_gate.check_trace_redaction()

    assert result.status == FAIL, result
    assert "1 carry the shaped key, 1 carry the $VENUE_API_KEY value, 0 redaction marker(s)" in result.detail


def test_it_fails_redaction_when_the_secret_env_values_are_not_redacted(monkeypatch):
    # Patterns still work (the shaped key is masked), but no env var's value is: a shapeless venue key leaks.
    monkeypatch.setattr("agents.services.redactor", lambda: Redactor(()))

    result = deploy_gate.check_trace_redaction()

    assert result.status == FAIL, result
    assert "0 carry the shaped key, 1 carry the $VENUE_API_KEY value" in result.detail


def test_it_fails_the_health_monitor_with_only_the_log_sink(monitor_alive):
    with override_settings(ALERT_SINKS=["log"]):
        result = deploy_gate.check_health_monitor()

    assert result.status == FAIL
    assert "only ['log']" in result.detail


def test_it_fails_the_health_monitor_when_a_sink_lacks_its_settings(monitor_alive):
    with override_settings(ALERT_SINKS=["log", "slack"], SLACK_WEBHOOK_URL=""):
        result = deploy_gate.check_health_monitor()

    assert result.status == FAIL
    assert "monitoring.E011" in result.detail


def test_it_fails_the_health_monitor_when_the_monitor_has_gone_quiet():
    metric_record("kill_switch_active", 0, ts=timezone.now() - timedelta(minutes=5))
    with override_settings(**WIRED, MONITOR_INTERVAL_S=5):
        result = deploy_gate.check_health_monitor()

    assert result.status == FAIL
    assert "limit 15 s" in result.detail and "sink config: valid" in result.detail


def test_it_fails_cancel_on_disconnect_while_its_alert_fires(monitor_alive):
    alert_fire(key="cancel_on_disconnect:system", title="cancel_on_disconnect 0 session down (system)")

    result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == FAIL
    assert "FIRING since" in result.detail


def test_it_fails_cancel_on_disconnect_when_turned_off(monitor_alive):
    with override_settings(VENUE_CANCEL_ON_DISCONNECT=False):
        result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == FAIL
    assert "VENUE_CANCEL_ON_DISCONNECT=False" in result.detail


def test_it_fails_cancel_on_disconnect_without_a_live_monitor():
    result = deploy_gate.check_cancel_on_disconnect()

    assert result.status == FAIL
    assert "no kill_switch_active sample" in result.detail


def test_it_accepts_the_projects_runbook_and_a_minimal_one(tmp_path):
    path = tmp_path / "runbook.md"
    path.write_text(GOOD_RUNBOOK)

    assert deploy_gate.check_runbook().status == PASS
    assert deploy_gate.check_runbook(path).status == PASS


def test_it_fails_a_runbook_without_flatten(tmp_path):
    path = tmp_path / "runbook.md"
    path.write_text(GOOD_RUNBOOK.replace("## How to flatten", "## Selling"))

    result = deploy_gate.check_runbook(path)

    assert result.status == FAIL
    assert "no heading for how to flatten" in result.detail


def test_it_fails_a_runbook_longer_than_a_page_or_missing(tmp_path):
    path = tmp_path / "runbook.md"
    path.write_text(GOOD_RUNBOOK + "more\n" * 150)

    assert "longer than one page" in deploy_gate.check_runbook(path).detail
    assert deploy_gate.check_runbook(tmp_path / "absent.md").status == FAIL


def test_it_runs_the_suite_only_when_asked():
    passing = deploy_gate.check_tests(run=True, command=[sys.executable, "-c", "print('3 passed in 0.1s')"])
    failing = deploy_gate.check_tests(run=True, command=[sys.executable, "-c", "raise SystemExit(1)"])

    assert deploy_gate.check_tests().status == NOT_CHECKED
    assert passing.status == PASS and "3 passed" in passing.detail
    assert failing.status == FAIL and "exited 1" in failing.detail


def test_it_runs_the_suite_without_the_deployments_environment(monkeypatch):
    monkeypatch.setenv("VENUE_URL", "https://live-exchange.example.com")
    monkeypatch.setenv("DJANGO_SETTINGS_MODULE", "academy.settings")
    probe = "import os; print(sorted(k for k in os.environ if not k.startswith('LC_')))"

    result = deploy_gate.check_tests(run=True, command=[sys.executable, "-c", probe])

    assert result.status == PASS
    assert "VENUE_URL" not in result.detail and "DJANGO_SETTINGS_MODULE" not in result.detail
    assert "PATH" in result.detail


def test_it_runs_the_core_and_agents_suites_with_the_test_settings():
    command = deploy_gate.suite_command()

    assert command[-5:] == ["-q", "-x", "--ds=academy.settings_test", "tests/core", "tests/agents"]


def test_it_turns_a_check_that_crashes_into_a_fail(monkeypatch, wired):
    monkeypatch.setattr(deploy_gate, "check_runbook", lambda path=None: 1 / 0)

    result = by_item(deploy_gate.run_gate())["7"]

    assert result.status == FAIL and "ZeroDivisionError" in result.detail


def test_it_exits_non_zero_when_an_item_fails(agent, monitor_alive, capsys):
    with override_settings(ALERT_SINKS=["log"]), pytest.raises(CommandError, match="5. Health monitor wired"):
        call_command("deploy_gate")

    out = capsys.readouterr().out
    assert len([ln for ln in out.splitlines() if ln[:2] in {f"{n}." for n in range(1, 8)}]) == 7
    assert "FAIL" in out and "NOT CHECKED" in out


def test_it_exits_zero_when_no_item_fails(agent, wired, capsys):
    call_command("deploy_gate")

    assert "no item failed" in capsys.readouterr().out
