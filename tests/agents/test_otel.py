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
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from django.conf import settings
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from academy.checks import check_otel_export
from agents import otel
from agents.core.policies import OpenAIPolicy, ScriptedPolicy
from agents.core.policies.base import PolicyContext, PolicyStep, Usage
from agents.models import Run, RunStatus, TraceEvent
from agents.services import run_agent
from tests.agents import run_viewer_recording as recording
from tests.core.fake_llm import serve
from tests.factories import AgentConfigFactory
from tests.otlp_receiver import Span, otlp_receiver

FAKE_KEY = "sk-proj-OTELfakeOTELfake0123456789abcdefXYZ"
CLIENT, INTERNAL, ERROR = 3, 1, 2  # the proto's SpanKind and StatusCode numbers
OTEL_VARS = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_PROTOCOL",
             "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_SDK_DISABLED", "OTEL_SERVICE_NAME", "OTEL_RESOURCE_ATTRIBUTES",
             "OTEL_EXPORTER_OTLP_HEADERS", "OTEL_EXPORTER_OTLP_COMPRESSION", "OTEL_EXPORTER_OTLP_TIMEOUT",
             otel.CAPTURE_VAR, "OTEL_TRACES_SAMPLER")


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
    assert "policy failed: RuntimeError" in children[-1].status_message
    assert root.attributes["error.type"] == "error" and root.attributes["academy.run.outcome"] == "error"
    assert root.status_code == ERROR and root.status_message.startswith("policy failed: RuntimeError")
    assert root.attributes["gen_ai.usage.input_tokens"] == 11 and root.attributes["academy.run.tool_calls"] == 2
    assert FAKE_KEY not in every_value(spans) and "REDACTED" in root.status_message


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
    assert "kill" in root.status_message.lower() or "flag" in root.status_message.lower()


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
    with otlp_receiver(hang=True) as receiver:
        export_to(monkeypatch, receiver.url, OTEL_EXPORTER_OTLP_TIMEOUT="60")
        first = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[("get_balance", {})], "a"]))
        receiver.wait_for_request()  # the first run's spans are in flight, held by the collector
        second = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[("get_balance", {})], "b"]))
        assert len(receiver.requests) == 1  # the exporter is still stuck in the first export: the run did not wait
    assert (first.status, second.status) == (RunStatus.COMPLETED, RunStatus.COMPLETED)
    assert Run.objects.get(pk=second.pk).end_reason == "b"


@pytest.mark.django_db(transaction=True)
def test_it_finishes_the_run_when_nothing_listens_at_the_endpoint(make_trader, market, monkeypatch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed again: connections are refused
    export_to(monkeypatch, f"http://127.0.0.1:{port}", OTEL_EXPORTER_OTLP_TIMEOUT="1")
    run = run_agent(agent_id=AgentConfigFactory().pk, venue=make_trader(),
                    policy=ScriptedPolicy([[("get_balance", {})], "done"]))
    assert run.status == RunStatus.COMPLETED and run.end_reason == "done"
    assert otel._state is not None  # it did try
    otel.force_flush(5)  # the refused export is logged by the SDK, raised nowhere


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
    assert by_name["invoke_agent a"].status.description == "flag"


def test_it_ends_an_unanswered_model_call_at_the_stop_that_ended_it():
    spans = built([ev(1, "model_request", 0, {"model": "m-1"}),
                   ev(2, "budget_stop", 0, {"outcome": "budget_cost", "reason": "no price"}), ev(3, "run_end", 0, {})],
                  status="budget_cost")
    chat = next(s for s in spans if s.name == "chat m-1")
    assert chat.attributes["error.type"] == "budget_cost" and chat.end_time == otel._ns(T0 + timedelta(seconds=2))
    assert chat.attributes["gen_ai.provider.name"] == "rules"  # the agent row's, with no run_start event


def test_it_caps_captured_content():
    big = "x" * (otel.CONTENT_CAP * 3)
    spans = built([ev(1, "tool_call", 0, {"id": "c", "name": "t", "arguments": {"a": big}}),
                   ev(2, "tool_result", 0, {"call_id": "c", "ok": True, "result": big})], capture=True)
    tool = next(s for s in spans if s.name == "execute_tool t")
    for name in ("gen_ai.tool.call.arguments", "gen_ai.tool.call.result"):
        assert len(tool.attributes[name]) <= otel.CONTENT_CAP + 20 and tool.attributes[name].endswith("[truncated]")


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


def test_it_refuses_the_grpc_protocol(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4317")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert check_ids() == ["academy.E009"] and not otel.enabled()
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "http/protobuf")  # the traces variable wins
    assert check_ids() == [] and otel.enabled()


@pytest.mark.parametrize("url", ["collector:4318", "http://collector:port", "ftp://collector/v1/traces", "http://"])
def test_it_refuses_a_malformed_endpoint(monkeypatch, url):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", url)
    assert check_ids() == ["academy.E010"] and not otel.enabled()


def test_it_accepts_a_good_configuration_and_says_nothing_when_off(monkeypatch):
    assert check_ids() == []
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "grpc")
    assert check_ids() == []  # no endpoint: nothing is exported, nothing to refuse
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "https://otlp.example.com:4318")
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_HEADERS", "x-honeycomb-team=abc")
    assert check_ids() == [] and otel.enabled()
