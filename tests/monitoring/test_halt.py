"""The one halt path: flag + row, cancel at the venue, flatten, record, alert, panels; and resume."""

from __future__ import annotations

import ast
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from agents.venue.client import HttpVenue
from agents.venue.schemas import OrderStatus
from monitoring.halt import ResumeRefused, flag_path, halt, resume
from monitoring.models import Alert, HaltEvent, KillSwitch, OutboxEvent
from paper_venue.testing import free_port
from tests.monitoring.conftest import give_position, rest

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parents[2]


def live(client) -> list:
    return client.orders(status=OrderStatus.LIVE)


def test_it_sets_the_flag_cancels_resting_orders_records_alerts_and_tells_panels(trader, market):
    rest(trader, market, 3)
    event = halt(reason="drill", source="command")
    assert flag_path().exists() and "drill" in flag_path().read_text()
    row = KillSwitch.objects.get(pk=1)
    assert row.active and row.reason == "drill" and row.source == "command"
    assert live(trader) == []  # really gone at the venue
    assert (event.action, event.orders_cancelled, event.errors) == ("halt", 3, [])
    assert Alert.objects.get(key="kill_switch", state="firing").title.startswith("Trading HALTED")
    assert OutboxEvent.objects.filter(kind="halt", payload__id=event.pk).exists()


def test_it_changes_nothing_on_a_second_call_but_sweeps_the_venue_again(trader, market):
    first = halt(reason="first", source="command")
    rest(trader, market, 2, prefix="late")  # an order that was in flight during the first halt
    second = halt(reason="second", source="panel")
    row = KillSwitch.objects.get(pk=1)
    assert (row.reason, row.source, row.since) == ("first", "command", first.ts)
    assert second.action == "noop" and second.orders_cancelled == 2
    assert live(trader) == []
    assert Alert.objects.filter(key="kill_switch").count() == 1  # deduplicated while firing


def test_it_flattens_positions_when_asked(trader, make_trader, market):
    other = make_trader()
    give_position(trader, other, market, shares="10")
    rest(other, market, 4, price="0.400", prefix="bid")  # bids to sell into: 4 x 1 share at 0.40...
    rest(other, market, 10, price="0.350", prefix="deep")  # ...and 10 x 1 share at 0.35
    event = halt(reason="flatten drill", source="command", flatten=True)
    assert event.flattened and event.figures["flattened"][f"{market}:YES"].startswith("sold 10")
    assert [p for p in trader.positions() if p.shares > 0] == []


def test_it_keeps_halting_when_the_venue_is_unreachable(trader, market):
    dead = HttpVenue(f"http://127.0.0.1:{free_port()}", "k", timeout=0.5, retries=0)
    event = halt(reason="venue down", source="command", venue=dead)
    assert flag_path().exists() and KillSwitch.objects.get(pk=1).active
    assert event.errors and "cancel-all failed" in event.errors[0]
    assert Alert.objects.filter(key=f"halt_errors:{event.pk}", state="firing").exists()


def test_it_records_and_pages_a_halt_whose_venue_client_cannot_be_built(trader, monkeypatch):
    """A halt must never be lost to a venue client that fails to start (a key, a clock, a network)."""
    import monitoring.halt as halt_module

    def broken() -> None:
        raise RuntimeError("the client did not start")

    monkeypatch.setattr(halt_module, "_venue", broken)
    event = halt(reason="stream lost", source="deadman")
    assert event.pk is not None and flag_path().exists() and KillSwitch.objects.get(pk=1).active
    assert any("no venue client" in e for e in event.errors)
    assert Alert.objects.filter(key=f"halt_errors:{event.pk}", state="firing").exists()
    halt_module.sweep_resting()  # the monitor's sweep while halted fails the same way, and raises nothing
    assert Alert.objects.filter(key__startswith="halt_errors:", state="firing").exists()


def test_it_refuses_a_halt_without_reason_or_with_an_unknown_source(trader):
    with pytest.raises(ValueError):
        halt(reason=" ", source="command")
    with pytest.raises(ValueError):
        halt(reason="x", source="somebody")
    assert not flag_path().exists() and not KillSwitch.objects.get(pk=1).active


def test_it_resumes_for_a_permitted_person_with_a_reason(trader, operator):
    halt(reason="drill", source="command")
    event = resume(actor=operator, reason="drill over")
    assert not flag_path().exists() and not KillSwitch.objects.get(pk=1).active
    assert (event.action, event.actor, event.reason) == ("resume", operator, "drill over")
    assert Alert.objects.get(key="kill_switch").state == "resolved"
    assert OutboxEvent.objects.filter(kind="resume").exists()


def test_it_refuses_resume_without_permission_or_reason(trader, operator, nobody):
    halt(reason="drill", source="command")
    with pytest.raises(PermissionDenied):
        resume(actor=nobody, reason="let me")
    with pytest.raises(ValueError):
        resume(actor=operator, reason="")
    assert KillSwitch.objects.get(pk=1).active and flag_path().exists()


def test_it_refuses_resume_while_a_hold_is_in_force(trader, operator):
    halt(reason="daily loss", source="daily_loss", hold_until=timezone.now() + timedelta(hours=24))
    with pytest.raises(ResumeRefused, match="hold is in force"):
        resume(actor=operator, reason="looks fine")
    assert KillSwitch.objects.get(pk=1).active
    assert HaltEvent.objects.filter(action="refused", actor=operator).exists()


def test_it_refuses_resume_until_the_chain_is_reconciled(trader, operator):
    halt(reason="drift", source="chain_drift", needs_reconciliation=True)
    with pytest.raises(ResumeRefused, match="reconcile"):
        resume(actor=operator, reason="ok")


def test_it_lengthens_a_hold_on_a_repeat_halt_but_never_shortens_it(trader):
    later = timezone.now() + timedelta(hours=24)
    halt(reason="panel", source="panel")
    halt(reason="loss", source="daily_loss", hold_until=later)
    halt(reason="panel again", source="panel", hold_until=timezone.now() + timedelta(hours=1))
    assert KillSwitch.objects.get(pk=1).hold_until == later


# --- nothing but monitoring/halt.py writes the kill-switch state ----------------------------------

WRITE_METHODS = {"update", "create", "get_or_create", "update_or_create", "delete", "bulk_create", "bulk_update",
                 "save", "touch", "write_text", "write_bytes", "unlink", "rename", "replace", "mkdir", "rmdir"}


def _writes_kill_switch(source: str) -> list[int]:
    """Lines where a write method is called on something that names the kill switch or its flag."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in WRITE_METHODS:
            receiver = ast.unparse(node.func.value).lower()
            args = " ".join(ast.unparse(a) for a in node.args).lower()
            if any(s in receiver or s in args for s in ("killswitch", "kill_switch", "flag")):
                hits.append(node.lineno)
        if isinstance(node, ast.Call) and ast.unparse(node.func) in {"os.replace", "os.rename", "os.remove",
                                                                      "os.unlink", "open"}:
            if "flag" in ast.unparse(node).lower() or "kill_switch" in ast.unparse(node).lower():
                hits.append(node.lineno)
    return hits


def test_it_lets_no_module_but_halt_py_write_the_kill_switch_state():
    writers = {}
    for path in ROOT.glob("*/**/*.py"):
        rel = path.relative_to(ROOT).as_posix()
        if rel.startswith((".venv/", "tests/", "bench/")) or "/migrations/" in rel:
            continue
        lines = _writes_kill_switch(path.read_text())
        if lines:
            writers[rel] = lines
    # The deploy gate touches a flag in a temp data dir of its own (to prove the loop refuses);
    # it is listed by name so that any other writer still fails this test.
    assert set(writers) == {"monitoring/halt.py", "academy/deploy_gate.py"}, writers  # halt.py seen: not blind


# --- review fixes: races, a refusing disk, sweeping while halted, escalation, the runtime gate -------


def test_it_lets_a_hold_that_lands_during_a_resume_win(trader, operator, monkeypatch):
    import monitoring.halt as halt_module

    halt(reason="manual", source="panel")
    real_check = halt_module._resume_refusal

    def check_then_loss_lands(row, now):
        verdict = real_check(row, now)  # the resume has looked: nothing in the way...
        halt(reason="daily loss", source="daily_loss", hold_until=timezone.now() + timedelta(hours=24))
        return verdict

    monkeypatch.setattr(halt_module, "_resume_refusal", check_then_loss_lands)
    with pytest.raises(ResumeRefused, match="changed meanwhile"):
        resume(actor=operator, reason="all fine")
    row = KillSwitch.objects.get(pk=1)
    assert row.active and row.hold_until is not None and flag_path().exists()


def test_it_halts_at_the_venue_and_in_the_database_when_the_flag_file_cannot_be_written(trader, market,
                                                                                         monkeypatch):

    def disk_full(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("agents.core.state.tempfile.mkstemp", disk_full)
    rest(trader, market, 2)
    event = halt(reason="disk full drill", source="command")
    assert KillSwitch.objects.get(pk=1).active and live(trader) == []
    assert any("flag file not written" in e for e in event.errors)


def test_it_writes_the_flag_safely_from_concurrent_halts(trader):
    import threading

    import monitoring.halt as halt_module

    failures: list[Exception] = []

    def write_many() -> None:
        for _ in range(200):
            errors: list[str] = []
            halt_module._write_flag("race", "command", timezone.now(), errors)
            failures.extend(errors)

    threads = [threading.Thread(target=write_many) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert failures == [] and flag_path().read_text().endswith("command: race\n")
    assert list(flag_path().parent.glob(".kill_switch.flag.*.tmp")) == []


def test_it_sweeps_the_venue_again_while_halted_and_clears_the_error_alert(trader, market):
    from monitoring.health import Monitor

    dead = HttpVenue(f"http://127.0.0.1:{free_port()}", "k", timeout=0.3, retries=0)
    event = halt(reason="venue down", source="command", venue=dead)
    assert Alert.objects.get(key=f"halt_errors:{event.pk}").state == "firing"
    rest(trader, market, 3, prefix="in-flight")  # orders that rested through the failed cancel-all
    Monitor(lambda: trader).health_tick()
    assert live(trader) == []
    assert Alert.objects.get(key=f"halt_errors:{event.pk}").state == "resolved"
    assert HaltEvent.objects.filter(reason__startswith="sweep while halted: 3").exists()


def test_it_pages_a_daily_loss_that_trips_on_top_of_a_manual_halt(trader):
    halt(reason="manual", source="panel")
    event = halt(reason="NAV down 4%", source="daily_loss", hold_until=timezone.now() + timedelta(hours=24))
    assert event.action == "noop" and event.figures["tightened"] == ["hold_until"]
    assert Alert.objects.filter(key="kill_switch:daily_loss", state="firing").exists()


def test_it_refuses_kill_switch_writes_from_anywhere_but_the_halt_path():
    from django.db import transaction

    from monitoring.models import KillSwitchWriteRefused

    with pytest.raises(KillSwitchWriteRefused), transaction.atomic():
        KillSwitch.objects.filter(pk=1).update(active=True)
    row = KillSwitch.objects.get(pk=1)
    row.active = True
    with pytest.raises(KillSwitchWriteRefused), transaction.atomic():
        row.save()
    with pytest.raises(KillSwitchWriteRefused), transaction.atomic():
        KillSwitch.objects.create(pk=3)
    assert not KillSwitch.objects.get(pk=1).active


def test_it_counts_an_uncheckable_flag_as_halted_and_the_watcher_halts(trader, market, monkeypatch):
    import os as os_module

    from monitoring.halt import kill_switch_state
    from monitoring.health import Monitor

    real_lstat = os_module.lstat

    def broken(path, *args, **kwargs):
        if str(path).endswith("kill_switch.flag"):
            raise OSError(5, "Input/output error")
        return real_lstat(path, *args, **kwargs)

    rest(trader, market, 1)
    monkeypatch.setattr(os_module, "lstat", broken)
    assert kill_switch_state()["halted"] is True
    event = Monitor(lambda: trader).flag_tick()
    assert event is not None and "cannot be checked" in event.reason and live(trader) == []
