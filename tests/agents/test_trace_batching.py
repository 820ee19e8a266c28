"""Trace rows in batches (issue 15): the NDJSON line first and at once, the rows in one INSERT per step,
size or interval, all of them at a run's end, and the rows a dead process held written from its file."""

from __future__ import annotations

import json
import logging
import signal
import threading
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import DatabaseError, connection, connections
from django.test.utils import CaptureQueriesContext

from agents.core.policies import ScriptedPolicy
from agents.core.redact import Redactor, to_jsonable
from agents.core.state import AgentState, save_state
from agents.core.tools import TOOLS, BrowseMarketsArgs
from agents.core.tracing import TraceWriter
from agents.models import Run, RunStatus, TraceEvent
from agents.services import RunRecorder, open_run_recorder, redactor, run_agent, trace_backfill, traces_dir
from monitoring.models import Alert
from tests.agents.test_crash_faults import desk, new_agent  # noqa: F401  (the real-process crash harness)
from tests.core.fakes import FakeClock
from tests.factories import AgentConfigFactory, RunFactory

pytestmark = pytest.mark.django_db


def recorder_for(run: Run, clock: FakeClock | None = None, **batching: Any) -> RunRecorder:
    """A run's recorder as _run_locked makes it, on a clock that moves only when told."""
    writer = TraceWriter(traces_dir=traces_dir(), run_id=str(run.pk), clock=clock or FakeClock(), redactor=redactor())
    Run.objects.filter(pk=run.pk).update(trace_path=str(writer.path))
    run.refresh_from_db()
    return RunRecorder(run, writer, **batching)


def lines(run: Run) -> list[dict[str, Any]]:
    """The events of the run's file (a line cut short by a crash is none)."""
    events = []
    for line in Path(run.trace_path).read_bytes().split(b"\n"):
        try:
            events.append(json.loads(line))
        except ValueError:
            pass
    return events


def rows(run: Run) -> dict[int, dict[str, Any]]:
    return dict(TraceEvent.objects.filter(run=run).values_list("seq", "data"))


def inserts(ctx: CaptureQueriesContext) -> int:
    """Statements that insert trace rows (one executemany is one, "N times: INSERT ...")."""
    return sum('INSERT INTO "agents_traceevent"' in q["sql"] for q in ctx.captured_queries)


def event(i: int) -> dict[str, Any]:
    return {"tool": "get_market", "result": {"slug": f"m-{i}", "last_price": "0.415", "book": {"bids": [[0.4, 5]]}}}


def assert_rows_are_the_lines(run: Run) -> None:
    in_file, in_db = lines(run), rows(run)
    assert sorted(in_db) == [e["seq"] for e in in_file] == list(range(len(in_file)))
    assert all(in_db[e["seq"]] == e["data"] for e in in_file)


def test_it_writes_the_rows_of_each_step_in_one_insert():
    run, clock = RunFactory(), FakeClock()
    recorder = recorder_for(run, clock)
    with CaptureQueriesContext(connection) as ctx:
        for i in range(50):
            recorder.append("tool_result", i // 17, event(i))  # steps 0, 1 and 2, a model call apart
            clock.advance(0.1 if i % 17 == 16 else 0.001)
        recorder.close()
    assert inserts(ctx) == 3
    assert_rows_are_the_lines(run)


def test_it_writes_a_burst_of_quick_steps_in_one_insert():
    run = RunFactory()
    recorder = recorder_for(run)  # its clock stands still: every step as quick as can be
    with CaptureQueriesContext(connection) as ctx:
        for i in range(50):
            recorder.append("tool_result", i // 5, event(i))
        recorder.close()
    assert inserts(ctx) == 1
    assert_rows_are_the_lines(run)


def test_it_writes_the_line_at_once_and_the_row_with_its_batch():
    run = RunFactory()
    recorder = recorder_for(run)
    recorder.append("tool_result", 0, event(1))
    assert [e["data"] for e in lines(run)] == [event(1)]  # the replay source has it already
    assert rows(run) == {}
    recorder.flush()
    assert rows(run) == {0: event(1)}


def test_it_writes_the_waiting_rows_when_the_step_changes():
    run, clock = RunFactory(), FakeClock()
    recorder = recorder_for(run, clock)
    for i in range(3):
        recorder.append("tool_call", 0, event(i))
    clock.advance(0.1)  # the next step comes after a model call
    assert rows(run) == {}
    recorder.append("model_request", 1, event(3))
    assert sorted(rows(run)) == [0, 1, 2]


def test_it_writes_a_batch_when_it_is_full():
    run = RunFactory()
    recorder = recorder_for(run, batch_rows=5)
    for i in range(4):
        recorder.append("tool_call", 0, event(i))
    assert rows(run) == {}
    recorder.append("tool_call", 0, event(4))
    assert sorted(rows(run)) == [0, 1, 2, 3, 4]


def test_it_writes_rows_that_waited_the_interval():
    run, clock = RunFactory(), FakeClock()
    recorder = recorder_for(run, clock, batch_s=0.5)
    recorder.append("tool_call", 0, event(0))
    clock.advance(0.4)
    recorder.append("tool_call", 0, event(1))
    assert rows(run) == {}
    clock.advance(0.2)  # the first row has now waited 0.6 s
    recorder.append("tool_call", 0, event(2))
    assert sorted(rows(run)) == [0, 1, 2]


def test_it_writes_at_once_what_others_act_on():
    run = RunFactory()
    recorder = recorder_for(run)
    recorder.append("tool_call", 0, event(0))
    assert rows(run) == {}
    recorder.append("order_placed", 0, {"dry_run": True, "order": {"market": "m-1"}, "notional": "1.2"})
    assert sorted(rows(run)) == [0, 1]


def test_it_writes_the_rows_before_a_tool_with_side_effects_runs():
    run = RunFactory()
    recorder = recorder_for(run)
    recorder.append("tool_call", 0, {"id": "c1", "name": "get_market", "arguments": {"slug": "m-1"}})
    assert rows(run) == {}
    recorder.append("tool_call", 0, {"id": "c2", "name": "place_limit_order", "arguments": {"market": "m-1"}})
    assert sorted(rows(run)) == [0, 1]  # a database that takes no rows stops the run before the order


def test_it_keeps_the_failed_batch_for_the_next_try(monkeypatch):
    run = RunFactory()
    recorder = recorder_for(run, batch_rows=2)
    recorder.append("tool_call", 0, event(0))

    def down(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("database is locked")

    monkeypatch.setattr("agents.services.trace_rows_write", down)
    with pytest.raises(DatabaseError):  # the loop sees "could not record" and stops
        recorder.append("tool_call", 0, event(1))
    monkeypatch.undo()
    recorder.close()
    assert_rows_are_the_lines(run)


def test_it_backfills_the_rows_a_crashed_run_held(caplog):
    run, clock = RunFactory(status=RunStatus.RUNNING), FakeClock()
    recorder = recorder_for(run, clock)
    for i in range(12):
        recorder.append("tool_result", i // 5, event(i))  # steps 0 and 1 written, step 2 still waiting
        clock.advance(0.1)
    assert sorted(rows(run)) == list(range(10))
    with open(run.trace_path, "ab") as f:  # the process dies: its rows are gone, and a line was cut short
        f.write(b'{"ts":"2026-01-01T00:00:00+00:00","run_id":"')
    del recorder
    with caplog.at_level(logging.WARNING, logger="agents.services"):
        assert trace_backfill(run) == 2
    assert "line 13" in caplog.text and "skipped" in caplog.text
    assert_rows_are_the_lines(run)
    assert trace_backfill(run) == 0  # nothing twice


def test_it_reopens_a_crashed_run_after_its_rows_and_its_cut_line():
    run = RunFactory(status=RunStatus.ERROR)
    recorder = recorder_for(run)
    for i in range(3):
        recorder.append("tool_result", 0, event(i))
    recorder.writer.close()  # the rows never written: the process died
    with open(run.trace_path, "ab") as f:
        f.write(b'{"ts":"2026-01-')
    reopened = open_run_recorder(run)
    reopened.append("approval_decided", 0, {"approval_id": 1, "decision": "approved"})  # written at once
    reopened.writer.close()
    assert b'{"ts":"2026-01-\n' in Path(run.trace_path).read_bytes()  # the cut line ended: the next is whole
    assert_rows_are_the_lines(run)
    assert rows(run)[3] == {"approval_id": 1, "decision": "approved"}


@pytest.mark.django_db(transaction=True)
def test_it_keeps_order_and_every_row_when_threads_append():
    run = RunFactory()
    recorder = recorder_for(run, batch_rows=7)

    def tool_thread(t: int) -> None:
        try:
            for i in range(40):
                recorder.append("tool_result", 0, {**event(i), "thread": t})
        finally:
            connections.close_all()

    threads = [threading.Thread(target=tool_thread, args=(t,)) for t in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    recorder.close()
    assert_rows_are_the_lines(run)
    assert len(rows(run)) == 240


SECRET = "sk-proj-AbCdEf0123456789AbCdEf0123456789"
EVENTS = [
    {"tool": "get_market", "result": {"slug": "m-1", "book": {"bids": [["0.400", "5"]]}, "n": [1, 2.5, None, True]}},
    {"text": f"my key is {SECRET}", "usage": {"input_tokens": 10}},
    {"text": "escaped: " + "".join(f"%{ord(c):02X}" for c in SECRET), "ok": True},
    {"headers": {"Authorization": "Bearer abc.DEF-123_xyz=="}, 7: ("a", Decimal("1.5"))},
    {"note": "the venue key is plain-looking-value-42", "plain-looking-value-42": 1, "pin": 98765432},
    {"split": ["sk-proj-AbCdEf", "0123456789AbCdEf0123456789"], "api_key": "x"},
]


@pytest.mark.parametrize("event", EVENTS)
def test_it_redacts_an_event_as_string_by_string_does(event, monkeypatch):
    """The whole-event look first is only a shortcut: the result is the full walk's, secrets or none."""
    monkeypatch.setenv("VENUE_TOKEN", "plain-looking-value-42")
    monkeypatch.setenv("PIN", "98765432")
    r = Redactor(["VENUE_TOKEN", "PIN"])
    assert r.redact(event) == r._walk(to_jsonable(event), r._needles())


def test_it_walks_a_clean_event_once(monkeypatch):
    r = Redactor(["VENUE_TOKEN"], environ={"VENUE_TOKEN": "plain-looking-value-42"})
    walks = []
    monkeypatch.setattr(Redactor, "_walk", lambda *args: walks.append(args))
    monkeypatch.setattr("agents.core.redact.to_jsonable", lambda value: walks.append(value))
    assert r.redact(EVENTS[0]) == EVENTS[0] and walks == []  # one copy, no second walk to mask nothing


def test_it_builds_each_tool_schema_once(monkeypatch):
    calls = []
    real = BrowseMarketsArgs.model_json_schema

    def counted(*args: Any, **kwargs: Any) -> dict[str, Any]:
        calls.append(1)
        return real(*args, **kwargs)

    first = TOOLS["browse_markets"].schema()
    monkeypatch.setattr(BrowseMarketsArgs, "model_json_schema", counted)
    first["parameters"]["properties"].clear()  # one run changing its copy changes no other's
    second = TOOLS["browse_markets"].schema()
    assert calls == [] and second["parameters"]["properties"]["limit"]["maximum"] == 100


# --- through run_agent ------------------------------------------------------------------------


@pytest.fixture
def agent(market):
    return AgentConfigFactory(
        known_market_types=["test"],
        max_order_notional=Decimal("25"),
        approval_notional=Decimal("10"),
        second_approval_notional=Decimal("20"),
    )


def buy(market: str, size: str) -> tuple[str, dict[str, str]]:
    return ("place_limit_order", {"market": market, "side": "BUY", "price": "0.400", "size": size})


@pytest.mark.django_db(transaction=True)
def test_it_writes_every_row_of_a_run_in_a_few_inserts(make_trader, agent, market):
    policy = ScriptedPolicy([[("get_market", {"slug": market}), ("get_balance", {})], [("get_positions", {})], "done"])
    with CaptureQueriesContext(connection) as ctx:
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=policy)
    assert run.status == RunStatus.COMPLETED, run.end_reason
    assert_rows_are_the_lines(run)
    assert len(rows(run)) >= 15 and inserts(ctx) <= 5  # a step's rows together, not one INSERT an event


@pytest.mark.django_db(transaction=True)
def test_it_stops_a_run_whose_rows_cannot_be_written_and_writes_them_later(make_trader, agent, market, monkeypatch):
    def down(*args: Any, **kwargs: Any) -> None:
        raise DatabaseError("disk I/O error")

    monkeypatch.setattr("agents.services.trace_rows_write", down)
    trader = make_trader()
    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([[buy(market, "1")], "done"]))
    monkeypatch.undo()
    run.refresh_from_db()
    assert run.status == RunStatus.ERROR and "trace could not be written" in run.end_reason  # fail closed
    assert trader.orders() == [] and not TraceEvent.objects.filter(run=run).exists()
    assert Alert.objects.filter(key=f"trace_rows:{run.pk}").exists()  # the last write failed too: paged
    assert lines(run)  # the file has them
    run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy(["done"]))
    assert_rows_are_the_lines(run)  # the next run wrote them


@pytest.mark.django_db(transaction=True)
def test_it_writes_a_crashed_runs_rows_when_the_next_run_recovers(make_trader, agent, market):
    crashed = RunFactory(agent=agent, status=RunStatus.RUNNING)
    recorder = recorder_for(crashed)
    for i in range(4):
        recorder.append("tool_result", 0, event(i))
    recorder.writer.close()  # killed: the four rows never written
    save_state(
        settings.DATA_DIR / "state",
        AgentState(agent_id=str(agent.pk), last_run_id=str(crashed.pk), last_run_finished=False),
    )
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy(["nothing to do"]))
    recovery = TraceEvent.objects.get(run=run, kind="recovery")
    assert recovery.data["trace_rows_backfilled"] == {str(crashed.pk): 4}
    assert_rows_are_the_lines(crashed)
    assert_rows_are_the_lines(run)


# --- a real process, SIGKILLed -----------------------------------------------------------------


@pytest.mark.fault
@pytest.mark.django_db(transaction=True)
def test_it_writes_every_line_of_a_sigkilled_run_as_a_row(desk):  # noqa: F811
    """Killed right after each trace line of a run in turn: whatever rows it held, backfill writes them all."""
    agent, client = new_agent(), desk.account()
    assert desk.run(agent.pk, client)["exit"] == 0  # a typical run, untouched: count its events
    events = len(lines(Run.objects.get(agent=agent)))
    waited = 0
    for n in range(1, events + 1):
        agent, client = new_agent(), desk.account()
        crash = desk.run(agent.pk, client, {"at": "trace_append", "n": n, "when": "after"})
        assert crash["signal"] == signal.SIGKILL, (n, crash)
        run = Run.objects.get(agent=agent)
        assert len(lines(run)) == n  # the line is written before trace_append returns
        held = n - len(rows(run))
        assert trace_backfill(run) == held
        assert_rows_are_the_lines(run)
        waited += held
    assert waited >= events  # most lines had their row still waiting when the process died


@pytest.mark.django_db
def test_each_trace_row_feeds_no_index_another_one_already_covers() -> None:
    """run and agent have no single-column index of their own: the unique (run, seq) and (agent, ts)
    indexes begin with them, and each index is one more B-tree every trace row is written into."""
    with connection.cursor() as cursor:
        found = connection.introspection.get_constraints(cursor, TraceEvent._meta.db_table)
    single = sorted(tuple(c["columns"]) for c in found.values() if c["index"] and not c["primary_key"]
                    and len(c["columns"]) == 1)
    assert single == [("tool",), ("ts",)]
    leading = {c["columns"][0] for c in found.values() if c["index"] or c["unique"]}
    assert {"run_id", "agent_id"} <= leading  # still reached by an index: a run's rows, an agent's
