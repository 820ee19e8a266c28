"""OpenTelemetry export of runs (agents/otel.py): real runs against the paper venue, exported over OTLP/HTTP
to a real receiver on loopback (tests/otlp_receiver.py) that decodes them with opentelemetry-proto."""

from __future__ import annotations

import json
import multiprocessing
import os
import socket
import subprocess
import sys
import textwrap
import threading
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from django.core.checks import WARNING
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from academy.checks import check_otel_export
from agents import otel
from agents.core.policies import OpenAIPolicy, ScriptedPolicy
from agents.core.policies.base import PolicyContext, PolicyStep, ToolCall, Usage
from agents.core.state import load_state
from agents.models import Run, RunStatus, TraceEvent
from agents.services import run_agent, state_dir
from monitoring.models import HaltEvent, MetricSample
from tests.agents import run_viewer_recording as recording
from tests.core.fake_llm import serve
from tests.factories import AgentConfigFactory
from tests.otlp_receiver import Span, otlp_receiver

FAKE_KEY = "sk-proj-OTELfakeOTELfake0123456789abcdefXYZ"
CLIENT, INTERNAL, ERROR = 3, 1, 2  # the proto's SpanKind and StatusCode numbers
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
             "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
             "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TIMEOUT",
             otel.CAPTURE_VAR, "OTEL_TRACES_SAMPLER", "OTEL_TRACES_EXPORTER")


@pytest.fixture(autouse=True)
def fresh_otel(monkeypatch):
    """Each test reads the variables afresh (no provider left from the last), with short export delays."""
    for name in OTEL_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OTEL_BSP_SCHEDULE_DELAY", "50")
    otel.reset_for_tests()
    yield
    otel.reset_for_tests()


def export_to(monkeypatch, url: str, **more: str) -> None:
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    for name, value in more.items():
        monkeypatch.setenv(name, value)


def every_value(spans: list[Span]) -> str:
    """All attribute and resource values of the spans, and their names and statuses, as one text."""
    return json.dumps([[s.name, s.status_message, s.attributes, s.resource] for s in spans], ensure_ascii=False)


class ExportSpy:
    """Which thread exports and flushes spans, and whether a run was going on then: a run must hand its
    spans over and go on, the SDK's batch thread alone sending them. (No timing: the run's own thread is
    the one that must never export, nor wait for a flush.)"""

    BATCH_THREAD = "OtelBatchSpanRecordProcessor"  # the BatchSpanProcessor's worker
    EXPORT = "OTLPSpanExporter.export"

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: list[tuple[str, str, bool]] = []  # (what, thread name, during run_agent)
        self.running = False
        self.exported = threading.Event()
        for cls, name in ((OTLPSpanExporter, "export"), (TracerProvider, "force_flush"),
                          (BatchSpanProcessor, "force_flush"), (SimpleSpanProcessor, "force_flush")):
            monkeypatch.setattr(cls, name, self._spy(f"{cls.__name__}.{name}", getattr(cls, name)))

    def _spy(self, what: str, real: Any) -> Any:
        def spy(*args: Any, **kwargs: Any) -> Any:
            self.calls.append((what, threading.current_thread().name, self.running))
            if what == self.EXPORT:
                self.exported.set()
            return real(*args, **kwargs)
        return spy

    def run_agent(self, **kwargs: Any) -> Run:
        self.running = True
        try:
            return run_agent(**kwargs)
        finally:
            self.running = False

    def during_runs(self) -> list[tuple[str, str]]:
        """What was called, on which thread, while run_agent ran, but exports on the batch thread."""
        return [(w, t) for w, t, running in self.calls if running and (w, t) != (self.EXPORT, self.BATCH_THREAD)]

    def batch_exports(self) -> int:
        return sum((w, t) == (self.EXPORT, self.BATCH_THREAD) for w, t, _ in self.calls)


def tree(spans: list[Span]) -> tuple[Span, list[Span]]:
    roots = [s for s in spans if not s.parent_span_id]
    assert len(roots) == 1, [s.name for s in spans]
    return roots[0], sorted((s for s in spans if s.parent_span_id), key=lambda s: s.start_ns)


# --- a real run, exported -------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)  # the tools run in worker threads with their own connections
def test_it_exports_a_real_run_as_a_genai_span_tree_without_any_secret(venue, make_trader, market, faults,
                                                                         monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)  # a configured secret the redactor knows
    faults.plant(market, "description", f"Great market. Debug: api_key={FAKE_KEY}")  # a tool result carries it
    trader = make_trader()
    agent = AgentConfigFactory(name="otel-real", policy_kind="openai", model_version=recording.MODEL,
                               known_market_types=["test"], temperature=Decimal("0.25"), seed=7)
    with otlp_receiver() as receiver, serve(recording.responder(market)) as llm:
        export_to(monkeypatch, receiver.url, OTEL_RESOURCE_ATTRIBUTES="deployment.environment=test",
                  OTEL_EXPORTER_OTLP_COMPRESSION="gzip", **{otel.CAPTURE_VAR: "true"})
        policy = OpenAIPolicy(base_url=llm.url + "/v1", model=recording.MODEL, api_key=FAKE_KEY, retries=0,
                              temperature=0.25, seed=7)
        run = run_agent(agent_id=agent.pk, venue=trader, policy=policy)
        assert run.status == RunStatus.COMPLETED, run.end_reason
        assert otel.force_flush()
        spans = receiver.wait_for(7)
    assert receiver.requests[0]["content-encoding"] == "gzip"  # the SDK read OTEL_EXPORTER_OTLP_COMPRESSION
    assert len(spans) == 7
    root, children = tree(spans)
    assert {s.trace_id for s in spans} == {otel.trace_id_for(run)}
    assert {s.parent_span_id for s in children} == {root.span_id}
    assert [(s.name, s.kind) for s in children] == [
        (f"chat {recording.MODEL}", CLIENT), ("execute_tool get_balance", INTERNAL),
        ("execute_tool browse_markets", INTERNAL), (f"chat {recording.MODEL}", CLIENT),
        ("execute_tool get_market", INTERNAL), (f"chat {recording.MODEL}", CLIENT)]
    assert root.name == "invoke_agent otel-real" and root.kind == INTERNAL and root.status_code != ERROR
    assert root.resource["service.name"] == "academy" and root.resource["deployment.environment"] == "test"
    assert root.scope == otel.SCOPE
    cost = Decimal("0.15") * recording.PROMPT_TOKENS / 10**6 + Decimal("0.60") * recording.COMPLETION_TOKENS / 10**6
    assert root.attributes == {
        "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "otel-real", "gen_ai.agent.id": str(agent.pk),
        "gen_ai.provider.name": "openai", "gen_ai.request.model": recording.MODEL, "gen_ai.request.temperature": 0.25,
        "gen_ai.request.seed": 7, "gen_ai.usage.input_tokens": 3 * recording.PROMPT_TOKENS,
        "gen_ai.usage.output_tokens": 3 * recording.COMPLETION_TOKENS, "academy.run.id": str(run.pk),
        "academy.run.outcome": "completed", "academy.run.steps": 3, "academy.run.tool_calls": 3,
        "academy.run.cost_usd": pytest.approx(float(3 * cost)),
        "gen_ai.output.messages": root.attributes["gen_ai.output.messages"]}
    assert "Nothing worth buying." in root.attributes["gen_ai.output.messages"]
    chats = [s for s in children if s.kind == CLIENT]
    assert [c.attributes["gen_ai.response.finish_reasons"] for c in chats] == [["tool_calls"], ["tool_calls"], ["stop"]]
    for chat in chats:
        assert chat.attributes == {
            "gen_ai.operation.name": "chat", "gen_ai.provider.name": "openai", "gen_ai.request.model": recording.MODEL,
            "gen_ai.request.temperature": 0.25, "gen_ai.request.seed": 7,
            "gen_ai.usage.input_tokens": recording.PROMPT_TOKENS,
            "gen_ai.usage.output_tokens": recording.COMPLETION_TOKENS,
            "gen_ai.response.finish_reasons": chat.attributes["gen_ai.response.finish_reasons"],
            "academy.cost_usd": pytest.approx(float(cost))}
    tools = {s.attributes["gen_ai.tool.name"]: s for s in children if s.kind == INTERNAL}
    assert tools["browse_markets"].attributes["gen_ai.tool.call.id"] == "call_browse"
    assert json.loads(tools["browse_markets"].attributes["gen_ai.tool.call.arguments"]) == {"limit": 5}
    assert all(t.attributes["gen_ai.operation.name"] == "execute_tool" and "error.type" not in t.attributes
               and t.attributes["gen_ai.tool.type"] == "function" and t.status_code != ERROR for t in tools.values())
    # Times are the trace events' own: each span within the root, and each call within its run.
    rows = {e.seq: e for e in TraceEvent.objects.filter(run=run)}
    first = min(rows.values(), key=lambda e: e.seq)
    assert root.start_ns <= int(first.ts.timestamp() * 1e6) * 1000 and root.end_ns >= max(s.end_ns for s in children)
    assert all(root.start_ns <= s.start_ns <= s.end_ns <= root.end_ns for s in children)
    # The secret reached the tool's result, and left only as the redactor's mark.
    result = tools["get_market"].attributes["gen_ai.tool.call.result"]
    assert "Great" in result and "REDACTED" in result
    assert FAKE_KEY not in every_value(spans)
    assert not any(FAKE_KEY.encode() in body for body in receiver.bodies)  # nor anywhere in what was sent


@pytest.mark.django_db(transaction=True)
def test_it_exports_no_content_unless_asked(make_trader, market, monkeypatch):
    agent = AgentConfigFactory(known_market_types=["test"])
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        policy = ScriptedPolicy([[("get_market", {"slug": market})], "all done"])
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=policy)
        assert otel.force_flush()
        spans = receiver.wait_for(4)
    assert run.status == RunStatus.COMPLETED
    text = every_value(spans)
    assert market not in text and "all done" not in text  # neither the arguments, the result nor the answer
    assert not any(k.startswith(("gen_ai.tool.call.arguments", "gen_ai.tool.call.result", "gen_ai.output"))
                   for s in spans for k in s.attributes)
    root, _ = tree(spans)
    assert root.attributes["gen_ai.provider.name"] == "scripted"  # an Academy policy, named as it is
    assert "gen_ai.request.seed" not in root.attributes  # no seed set


@pytest.mark.django_db(transaction=True)
def test_it_marks_a_failed_a_refused_call_and_a_failed_policy(make_trader, market, monkeypatch):
    agent = AgentConfigFactory(known_market_types=["test"], allowed_tools=["get_market", "get_balance"])

    def explode(ctx: PolicyContext) -> PolicyStep:
        raise RuntimeError(f"the provider fell over, key {FAKE_KEY}")

    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)
    calls = [("get_market", {"slug": "no-such-market-otel"}),
             ("place_limit_order", {"market": market, "side": "BUY", "price": "0.400", "size": "1"})]
    policy = ScriptedPolicy([calls, explode], usage=Usage(input_tokens=11, output_tokens=3))
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=policy)
        assert otel.force_flush()
        spans = receiver.wait_for(5)
    assert run.status == RunStatus.ERROR
    root, children = tree(spans)
    assert [(s.name, s.attributes.get("error.type"), s.status_code) for s in children] == [
        ("chat scripted-v1", None, 0), ("execute_tool get_market", "tool_error", ERROR),
        ("execute_tool place_limit_order", "refused", ERROR), ("chat scripted-v1", "RuntimeError", ERROR)]
    assert children[-1].status_message == "RuntimeError"  # no capture: the class, not the provider's text
    assert root.attributes["error.type"] == "error" and root.attributes["academy.run.outcome"] == "error"
    assert root.status_code == ERROR and root.status_message == "error"
    assert root.attributes["gen_ai.usage.input_tokens"] == 11 and root.attributes["academy.run.tool_calls"] == 2
    assert FAKE_KEY not in every_value(spans) and "fell over" not in every_value(spans)


@pytest.mark.django_db(transaction=True)
def test_it_exports_a_secret_only_the_trace_writer_redacted_as_its_mark(make_trader, monkeypatch):
    """A policy's exception text reaches the trace unredacted by the loop: only the trace writer's redaction
    stands between it and the spans, which must be built from what the writer wrote."""
    monkeypatch.setenv("OPENAI_API_KEY", FAKE_KEY)

    def explode(ctx: PolicyContext) -> PolicyStep:
        raise RuntimeError(f"provider said: bad key {FAKE_KEY}")

    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url, **{otel.CAPTURE_VAR: "true"})  # reasons are exported
        run = run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(), policy=ScriptedPolicy([explode]))
        assert otel.force_flush()
        spans = receiver.wait_for(2)
    assert run.status == RunStatus.ERROR
    root, [chat] = tree(spans)
    for status in (chat.status_message, root.status_message):
        assert "provider said: bad key [REDACTED:" in status, status  # the text went out, the key as its mark
    assert FAKE_KEY not in every_value(spans)
    assert not any(FAKE_KEY.encode() in body for body in receiver.bodies)


@pytest.mark.django_db(transaction=True)
def test_it_exports_no_tool_name_the_model_invented_without_capture(make_trader, monkeypatch):
    """The model names the tool it calls and its call id: an invented name is content, exported as 'unknown'."""
    invented, call_id = "exfiltrate_" + "q" * 3057, "call_" + "i" * 500

    def call(ctx: PolicyContext) -> PolicyStep:
        return PolicyStep(tool_calls=(ToolCall(call_id, invented, {}), ToolCall("call_ok", "get_balance", {})))

    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run = run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(), policy=ScriptedPolicy([call, "done"]))
        assert otel.force_flush()
        spans = receiver.wait_for(5)
    assert run.status == RunStatus.COMPLETED
    _, children = tree(spans)
    tools = [(s.name, s.attributes["gen_ai.tool.name"], s.attributes["gen_ai.tool.call.id"],
              s.attributes.get("error.type")) for s in children if s.kind == INTERNAL]
    assert tools == [("execute_tool unknown", "unknown", call_id[:otel.ID_CAP], "refused"),
                     ("execute_tool get_balance", "get_balance", "call_ok", None)]
    assert "exfiltrate" not in every_value(spans) and "q" * 100 not in every_value(spans)


@pytest.mark.django_db(transaction=True)
def test_it_names_the_outcome_of_a_run_the_kill_switch_stopped(make_trader, market, monkeypatch):
    agent = AgentConfigFactory(known_market_types=["test"])
    policy = ScriptedPolicy([[("get_balance", {})]], repeat_last=True)
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        (settings.DATA_DIR / "kill_switch.flag").touch()
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=policy)
        assert otel.force_flush()
        spans = receiver.wait_for(1)
    assert run.status == RunStatus.KILL_SWITCH
    root, children = tree(spans)
    assert children == [] and root.attributes["error.type"] == "kill_switch" and root.status_code == ERROR
    assert root.status_message == "kill_switch"


@pytest.mark.django_db(transaction=True)
def test_it_marks_an_order_the_limits_refused_as_refused(make_trader, market, monkeypatch):
    agent = AgentConfigFactory(known_market_types=["test"], max_order_notional=Decimal("1"))
    calls = [("place_limit_order", {"market": market, "side": "BUY", "price": "0.400", "size": "100"})]
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([calls, "done"]))
        assert otel.force_flush()
        spans = receiver.wait_for(4)
    # The desk refused it (a refusal event naming no call); the tool answered, with the status "rejected".
    assert TraceEvent.objects.filter(run=run, kind="refusal", data__what="order").exists()
    assert TraceEvent.objects.get(run=run, kind="tool_result").data["result"]["status"] == "rejected"
    _, children = tree(spans)
    order = next(s for s in children if s.name == "execute_tool place_limit_order")
    assert order.attributes["error.type"] == "refused" and order.status_code == ERROR


@pytest.mark.django_db(transaction=True)
def test_it_describes_a_failure_by_its_reason_only_with_capture_on(make_trader, market, monkeypatch):
    def explode(ctx: PolicyContext) -> PolicyStep:
        raise RuntimeError(f"the provider refused to price {market}")

    statuses = []
    for capture in ("false", "true"):
        with otlp_receiver() as receiver:
            export_to(monkeypatch, receiver.url, **{otel.CAPTURE_VAR: capture})
            run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(), policy=ScriptedPolicy([explode]))
            assert otel.force_flush()
            root, [chat] = tree(receiver.wait_for(2))
        statuses.append((root.status_message, chat.status_message, chat.attributes["error.type"]))
        otel.reset_for_tests()
    reason = f"policy failed: RuntimeError: the provider refused to price {market}"
    assert statuses == [("error", "RuntimeError", "RuntimeError"), (reason, reason, "RuntimeError")]


@pytest.mark.django_db(transaction=True)
def test_a_failure_building_the_spans_leaves_the_run_alone(make_trader, market, monkeypatch, caplog):
    def broken(self: Any) -> None:
        raise RuntimeError("the span builder broke")

    monkeypatch.setattr(otel._RunSpans, "emit", broken)
    agent = AgentConfigFactory(known_market_types=["test"])
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[("get_balance", {})], "done"]))
        assert otel.force_flush()
    assert run.status == RunStatus.COMPLETED and Run.objects.get(pk=run.pk).end_reason == "done"
    state = load_state(state_dir(), str(agent.pk))
    assert (state.last_run_id, state.last_run_finished, state.last_outcome) == (str(run.pk), True, "completed")
    assert MetricSample.objects.filter(run=run).exists()  # the health checks ran
    assert f"run {run.pk}: its OpenTelemetry spans were not exported" in caplog.text and receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_it_exports_a_run_that_failed_before_its_trace_could_be_opened(make_trader, monkeypatch):
    def no_space(**kwargs: Any) -> None:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("agents.services.TraceWriter", no_space)
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run = run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(), policy=ScriptedPolicy(["done"]))
        assert otel.force_flush()
        spans = receiver.wait_for(1)
    assert run.status == RunStatus.ERROR and "No space left" in run.end_reason
    root, children = tree(spans)
    assert children == [] and root.attributes["error.type"] == "error" and root.status_code == ERROR
    assert root.attributes["academy.run.id"] == str(run.pk) and root.trace_id == otel.trace_id_for(run)


@pytest.mark.django_db(transaction=True)
def test_it_keeps_only_what_the_spans_read(make_trader, market, monkeypatch):
    handed: list[Any] = []
    real_export = otel.run_export
    monkeypatch.setattr(otel, "run_export", lambda run, events: handed.append(events) or real_export(run, events))
    agent = AgentConfigFactory(known_market_types=["test"])
    policy = ScriptedPolicy([[("browse_markets", {"limit": 50})], "done"])
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        run_agent(agent_id=agent.pk, venue=make_trader(), policy=policy)
        export_to(monkeypatch, receiver.url, **{otel.CAPTURE_VAR: "true"})
        run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[("browse_markets", {})], "done"]))
    plain, captured = handed
    assert all(isinstance(e, otel.Kept) for e in plain + captured)
    result_rows = TraceEvent.objects.filter(run__agent=agent, kind="tool_result").order_by("seq")
    assert len(json.dumps(result_rows[0].data)) > 500  # the row holds the whole result...
    [kept] = [e for e in plain if e.kind == "tool_result"]
    assert kept.data == {"call_id": kept.data["call_id"], "tool": "browse_markets", "ok": True}  # ...kept: none
    assert {k for e in plain for k in e.data} <= {k for keys in otel._READ.values() for k in keys} | {"usage"}
    [kept] = [e for e in captured if e.kind == "tool_result"]
    assert isinstance(kept.data["result"], str) and json.loads(kept.data["result"])  # capped JSON text
    [start] = [e for e in plain if e.kind == "run_start"]
    assert "spec" not in start.data  # not the agent's whole spec; the names of the tools it offered, yes
    assert isinstance(start.data["offered_tools"], list) and "browse_markets" in start.data["offered_tools"]


def test_it_keeps_no_result_payload_without_capture():
    big = {"markets": [{"slug": f"m-{i}", "description": "d" * 1000} for i in range(50)]}
    events = otel.RunEvents(capture=False)
    events.keep(ev(1, "tool_result", 0, {"call_id": "c", "tool": "browse_markets", "ok": True, "result": big}))
    events.keep(ev(2, "run_end", 0, {"outcome": "error", "halt_reason": "market m-1 broke", "final_message": "x",
                                     "errors": ["market m-1 broke"], "steps": 1}))
    assert [e.data for e in events] == [{"call_id": "c", "tool": "browse_markets", "ok": True},
                                         {"outcome": "error", "steps": 1}]


@pytest.mark.django_db(transaction=True)
def test_a_bad_otel_variable_warns_and_never_stops_the_halt_command(venue, make_trader, tmp_path):
    """OTEL_ variables are often set host-wide for other services: a gRPC protocol, a link template that
    makes no link. `manage.py halt`, the one halt path, must still run; the warnings say what is wrong."""
    env = {"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "academy.settings", "DEBUG": "true",
           "ACADEMY_DATA_DIR": str(tmp_path), "DATABASE_URL": f"sqlite:///{settings.DATABASES['default']['NAME']}",
           "VENUE_URL": venue.url, "VENUE_API_KEY": make_trader().api_key, "HALT_LANDER_S": "0",
           "OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4317", "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
           "TRACE_LINK_TEMPLATE": "jaeger:16686/trace/{trace_id}"}
    done = subprocess.run([sys.executable, "manage.py", "halt", "--reason", "otel drill", "--user", "drill"],
                          cwd=settings.BASE_DIR, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "HALTED" in done.stdout and (tmp_path / "kill_switch.flag").exists()
    assert "academy.W009" in done.stderr and "academy.W011" in done.stderr
    assert HaltEvent.objects.filter(action="halt", reason="otel drill").exists()


# --- off, and a collector that is down ----------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_it_keeps_nothing_and_builds_nothing_without_an_endpoint(make_trader, market, monkeypatch):
    handed: list[Any] = []
    real_export = otel.run_export
    monkeypatch.setattr(otel, "run_export", lambda run, events: handed.append(events) or real_export(run, events))
    run = run_agent(agent_id=AgentConfigFactory(known_market_types=["test"]).pk, venue=make_trader(),
                    policy=ScriptedPolicy([[("get_balance", {})], "done"]))
    assert run.status == RunStatus.COMPLETED
    assert handed == [None]  # the recorder kept no list
    assert otel._state is None  # no provider, no exporter, no thread


@pytest.mark.django_db(transaction=True)
def test_it_keeps_nothing_when_the_sdk_is_disabled(make_trader, market, monkeypatch):
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url, OTEL_SDK_DISABLED="true")
        run = run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(), policy=ScriptedPolicy(["done"]))
    assert run.status == RunStatus.COMPLETED and otel._state is None and receiver.requests == []


@pytest.mark.django_db(transaction=True)
def test_it_finishes_runs_while_the_collector_holds_the_export(make_trader, market, monkeypatch):
    agent = AgentConfigFactory(known_market_types=["test"])
    spy = ExportSpy(monkeypatch)
    with otlp_receiver(hang=True) as receiver:
        export_to(monkeypatch, receiver.url, OTEL_EXPORTER_OTLP_TIMEOUT="60")
        first = spy.run_agent(agent_id=agent.pk, venue=make_trader(),
                              policy=ScriptedPolicy([[("get_balance", {})], "a"]))
        receiver.wait_for_request()  # the first run's spans are in flight, held by the collector
        second = spy.run_agent(agent_id=agent.pk, venue=make_trader(),
                               policy=ScriptedPolicy([[("get_balance", {})], "b"]))
        assert len(receiver.requests) == 1  # the exporter is still stuck in the first export: the run did not wait
    assert (first.status, second.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED)
    assert Run.objects.get(pk=second.pk).end_reason == "b"
    assert spy.during_runs() == []  # no run exported or flushed spans, nor waited for a flush on another thread...
    assert spy.batch_exports() == 1  # ...the held export was the batch thread's


@pytest.mark.django_db(transaction=True)
def test_it_finishes_the_run_when_nothing_listens_at_the_endpoint(make_trader, market, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    export_to(monkeypatch, f"http://127.0.0.1:{port}", OTEL_EXPORTER_OTLP_TIMEOUT="1")
    spy = ExportSpy(monkeypatch)
    run = spy.run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(),
                        policy=ScriptedPolicy([[("get_balance", {})], "done"]))
    assert run.status == RunStatus.COMPLETED and run.end_reason == "done"
    assert spy.exported.wait(15)  # it did try (the refused export is logged by the SDK, raised nowhere)...
    assert spy.during_runs() == [] and spy.batch_exports() >= 1  # ...on the batch thread, not the run's


# --- the span builder alone (the SDK's in-memory exporter) --------------------------------------

T0 = datetime(2026, 12, 7, 12, 0, tzinfo=UTC)


def ev(seq: int, kind: str, step: int, data: dict[str, Any], at: float | None = None) -> SimpleNamespace:
    return SimpleNamespace(seq=seq, kind=kind, step=step, data=data, ts=T0 + timedelta(seconds=at or seq))


def built(events: list[SimpleNamespace], *, status: str = "error", capture: bool = False) -> list[Any]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(id_generator=otel._id_generator_class()())
    provider.add_span_processor(SimpleSpanProcessor(memory))
    run = SimpleNamespace(pk=42, agent_id=3, started_at=T0, ended_at=T0 + timedelta(seconds=60), status=status,
                          model_version="m-1", steps=0, tool_calls=0, tokens_in=0, tokens_out=0, cost=Decimal(0),
                          end_reason="", agent=SimpleNamespace(name="a", policy_kind="rules"))
    otel._RunSpans(run, events, provider.get_tracer("t"), capture=capture).emit()
    return sorted(memory.get_finished_spans(), key=lambda s: s.start_time)


def test_it_ends_a_timed_out_and_an_unfinished_call_as_such():
    spans = built([
        ev(0, "run_start", -1, {"agent": "a", "policy": "rules", "model": "m-1", "temperature": 0.0, "seed": None}),
        ev(1, "model_request", 0, {"model": "m-1"}), ev(2, "model_response", 0, {"usage": {}, "stop_reason": ""}),
        ev(3, "tool_call", 0, {"id": "c1", "name": "get_market", "arguments": {}}),
        ev(4, "tool_timeout", 0, {"call_id": "c1", "tool": "get_market", "timeout_s": 1}),
        ev(5, "tool_call", 1, {"id": "c1", "name": "place_limit_order", "arguments": {}}),  # same id, next step
        ev(6, "kill_switch_stop", 1, {"outcome": "kill_switch", "reason": "flag"}),
        ev(7, "run_end", 1, {"outcome": "kill_switch", "halt_reason": "flag", "steps": 2, "tool_calls": 2})],
        status="kill_switch")
    by_name = {s.name: s for s in spans}
    assert by_name["execute_tool get_market"].attributes["error.type"] == "timeout"
    unfinished = by_name["execute_tool place_limit_order"]
    assert unfinished.attributes["error.type"] == "unfinished"
    assert unfinished.end_time == otel._ns(T0 + timedelta(seconds=60))  # the run's end
    assert "gen_ai.response.finish_reasons" not in by_name["chat m-1"].attributes  # none recorded: none said
    assert by_name["invoke_agent a"].status.description == "kill_switch"


def test_it_ends_an_unanswered_model_call_at_the_stop_that_ended_it():
    spans = built([ev(1, "model_request", 0, {"model": "m-1"}),
                   ev(2, "budget_stop", 0, {"outcome": "budget_cost", "reason": "no price"}), ev(3, "run_end", 0, {})],
                  status="budget_cost")
    chat = next(s for s in spans if s.name == "chat m-1")
    assert chat.attributes["error.type"] == "budget_cost" and chat.end_time == otel._ns(T0 + timedelta(seconds=2))
    assert chat.attributes["gen_ai.provider.name"] == "rules"  # the agent row's, with no run_start event


def test_it_caps_captured_content_as_json_that_still_parses():
    big = "x" * (otel.CONTENT_CAP * 3)
    many = [{"slug": f"market-{i}", "title": "t" * 40} for i in range(500)]  # no one string is long
    spans = built([ev(0, "run_start", -1, {"agent": "a", "policy": "rules", "model": "m-1"}),
                   ev(1, "tool_call", 0, {"id": "c", "name": "t", "arguments": {"a": big, "q": 'say "hi"\n' * 900}}),
                   ev(2, "tool_result", 0, {"call_id": "c", "ok": True, "result": {"markets": many}}),
                   ev(3, "tool_call", 0, {"id": "d", "name": "u", "arguments": {}}),
                   ev(4, "tool_result", 0, {"call_id": "d", "ok": True, "result": big}),
                   ev(5, "run_end", 0, {"outcome": "completed", "final_message": "y" * 5000, "steps": 1})],
                  status="completed", capture=True)
    by_name = {s.name: s for s in spans}
    arguments = json.loads(by_name["execute_tool t"].attributes["gen_ai.tool.call.arguments"])
    assert arguments["a"].startswith("xxx") and arguments["a"].endswith("…[truncated]")
    wrapped = json.loads(by_name["execute_tool t"].attributes["gen_ai.tool.call.result"])
    assert list(wrapped) == ["truncated"] and wrapped["truncated"].startswith('{"markets":[{"slug":"market-0"')
    text = by_name["execute_tool u"].attributes["gen_ai.tool.call.result"]  # a plain string stays text
    assert text == big[:otel.CONTENT_CAP] + "…[truncated]"
    output = by_name["invoke_agent a"].attributes["gen_ai.output.messages"]
    [message] = json.loads(output)
    assert message["parts"][0]["content"].startswith("yyy") and message["parts"][0]["content"].endswith("[truncated]")
    for span in spans:
        for name, value in span.attributes.items():
            if name in ("gen_ai.tool.call.arguments", "gen_ai.output.messages") or (
                    name == "gen_ai.tool.call.result" and span.name != "execute_tool u"):
                assert len(value) <= otel.CONTENT_CAP and json.loads(value) is not None, name


@pytest.mark.parametrize("capture", [False, True])
def test_it_exports_a_tool_name_the_run_did_not_offer_only_with_capture(capture):
    """With capture off: a name the run offered (run_start's offered_tools, kept in the slim events) or a tool
    the toolbox knows, else 'unknown'. With capture on: the model's name, cut. The call id is cut either way."""
    invented, call_id = "made_up_" + "n" * 3000, "c" * 300
    events = otel.RunEvents(capture=capture)  # slimmed as a run keeps them
    for event in [ev(0, "run_start", -1, {"agent": "a", "policy": "rules", "model": "m-1",
                                          "offered_tools": ["get_market", "plugin_tool"], "spec": {"big": "x"}}),
                  ev(1, "tool_call", 0, {"id": "c1", "name": "plugin_tool", "arguments": {}}),
                  ev(2, "tool_call", 0, {"id": "c2", "name": "cancel_all", "arguments": {}}),  # known, not offered
                  ev(3, "tool_call", 0, {"id": call_id, "name": invented, "arguments": {}}),
                  ev(4, "tool_call", 0, {"id": "c4", "name": None, "arguments": {}})]:
        events.keep(event)
    assert events[0].data["offered_tools"] == ["get_market", "plugin_tool"] and "spec" not in events[0].data
    spans = [s for s in built(list(events), capture=capture) if s.name.startswith("execute_tool")]
    made_up = invented[:otel.ID_CAP] if capture else "unknown"
    assert [(s.name, s.attributes["gen_ai.tool.name"], s.attributes["gen_ai.tool.call.id"]) for s in spans] == [
        ("execute_tool plugin_tool", "plugin_tool", "c1"), ("execute_tool cancel_all", "cancel_all", "c2"),
        (f"execute_tool {made_up}", made_up, call_id[:otel.ID_CAP]),
        ("execute_tool unknown", "unknown", "c4")]


def test_it_derives_the_trace_id_from_the_run_alone():
    run = SimpleNamespace(pk=5, started_at=T0)
    assert otel.trace_id_for(run) == otel.trace_id_for(SimpleNamespace(pk=5, started_at=T0)) != otel.trace_id_for(
        SimpleNamespace(pk=5, started_at=T0 + timedelta(microseconds=1)))
    assert len(otel.trace_id_for(run)) == 32 and {s.context.trace_id for s in built([])} == {otel._trace_id(
        SimpleNamespace(pk=42, started_at=T0))}


# --- process exit and fork ----------------------------------------------------------------------

EXPORTER = textwrap.dedent("""
    import sys
    from datetime import UTC, datetime
    from types import SimpleNamespace
    from agents import otel
    run = SimpleNamespace(pk=9, agent_id=1, started_at=datetime(2026, 1, 1, tzinfo=UTC), ended_at=None,
                          status="completed", model_version="m", steps=0, tool_calls=0, tokens_in=0, tokens_out=0,
                          cost=0, end_reason="", agent=SimpleNamespace(name="exiting", policy_kind="rules"))
    otel.run_export(run, [])
    print(otel.trace_id_for(run))
""")


def exit_env(url: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OTEL_")}
    # A schedule longer than the process lives: only the exit hook can send the span.
    return env | {"OTEL_EXPORTER_OTLP_ENDPOINT": url, "OTEL_BSP_SCHEDULE_DELAY": "600000",
                  "PYTHONPATH": str(Path(settings.BASE_DIR))}


def test_it_sends_the_last_spans_when_the_process_exits():
    with otlp_receiver() as receiver:
        done = subprocess.run([sys.executable, "-c", EXPORTER], env=exit_env(receiver.url), capture_output=True,
                              text=True, timeout=60, check=True)
        spans = receiver.wait_for(1)
    assert [s.name for s in spans] == ["invoke_agent exiting"] and spans[0].trace_id == done.stdout.strip()


def test_it_exits_promptly_when_the_collector_hangs():
    with otlp_receiver(hang=True) as receiver:
        env = exit_env(receiver.url) | {"OTEL_EXPORTER_OTLP_TIMEOUT": "600"}  # the exporter alone would wait
        done = subprocess.run([sys.executable, "-c", EXPORTER], env=env, capture_output=True, text=True, timeout=60)
        assert receiver.requests  # the span was on its way, held, when the process left
    assert done.returncode == 0, done.stderr


def _forked_export(url: str) -> None:
    os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"] = url
    os.environ["OTEL_BSP_SCHEDULE_DELAY"] = "600000"
    run = SimpleNamespace(pk=10, agent_id=1, started_at=T0, ended_at=None, status="completed", model_version="m",
                          steps=0, tool_calls=0, tokens_in=0, tokens_out=0, cost=0, end_reason="",
                          agent=SimpleNamespace(name="forked", policy_kind="rules"))
    otel.run_export(run, [])  # then the child leaves through os._exit, as a django-q2 worker does


def test_it_sends_the_spans_of_a_forked_worker_that_exits(monkeypatch):
    with otlp_receiver() as receiver:
        export_to(monkeypatch, receiver.url)
        otel.run_export(SimpleNamespace(pk=11, agent_id=1, started_at=T0, ended_at=None, status="completed",
                                        model_version="m", steps=0, tool_calls=0, tokens_in=0, tokens_out=0, cost=0,
                                        end_reason="", agent=SimpleNamespace(name="parent", policy_kind="rules")), [])
        parent = otel._state
        child = multiprocessing.get_context("fork").Process(target=_forked_export, args=(receiver.url,))
        child.start()
        child.join(60)
        assert child.exitcode == 0
        spans = receiver.wait_for(2)
    assert {s.name for s in spans} == {"invoke_agent parent", "invoke_agent forked"}
    assert otel._state is parent  # the parent's own provider is untouched by the child's


# --- the system check ---------------------------------------------------------------------------


def check_ids() -> list[str]:
    return [e.id for e in check_otel_export(None)]


def test_it_warns_of_the_grpc_protocol_and_exports_nothing(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert check_ids() == ["academy.W009"] and not otel.enabled()
    assert all(e.level == WARNING for e in check_otel_export(None))  # never an Error: no command is stopped
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")  # the traces variable wins
    assert check_ids() == [] and otel.enabled()


@pytest.mark.parametrize("url", ["collector:4318", "http://collector:port", "ftp://collector/v1/traces", "http://"])
def test_it_warns_of_a_malformed_endpoint_and_exports_nothing(monkeypatch, url):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)
    assert check_ids() == ["academy.W010"] and not otel.enabled()


@pytest.mark.parametrize("url", ["http://collector:4317", "https://collector:4317/v1/traces"])
def test_it_warns_of_the_grpc_port_and_still_exports(monkeypatch, url):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)  # no protocol variable: http/protobuf
    [warning] = check_otel_export(None)
    assert warning.id == "academy.W009" and "4317 is the gRPC port; OTLP/HTTP is 4318" in warning.msg
    assert otel.enabled()  # a collector may serve OTLP/HTTP there after all


@pytest.mark.parametrize("url", ["http://user:s3cr3t-pw@collector:port/v1/traces?api_key=s3cr3t-q",
                                 "user:s3cr3t-pw@collector:4318", "http://user:s3/cr3t-pw@collector:4318",
                                 "http://user:s3cr3t-pw@collector:4317"])
def test_it_never_shows_the_endpoint_credentials(monkeypatch, url):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", url)
    [warning] = check_otel_export(None)
    assert "collector" in warning.msg and "s3" not in warning.msg and "cr3t" not in warning.msg, warning.msg


def test_it_checks_only_the_endpoint_the_exporter_uses(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "collector-for-metrics")  # set for another signal: unused
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://collector:4318/v1/traces")
    assert check_ids() == [] and otel.enabled()


def test_it_exports_nothing_when_the_traces_exporter_is_none(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert not otel.enabled() and otel.events_for_run() is None
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "console, otlp")
    assert otel.enabled()


def test_it_accepts_a_good_configuration_and_says_nothing_when_off(monkeypatch):
    assert check_ids() == []
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert check_ids() == []  # no endpoint: nothing is exported, nothing to refuse
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example.com:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc")
    assert check_ids() == [] and otel.enabled()
