"""OpenTelemetry export of every run (opt-in): GenAI spans built from the run's redacted trace events.

Operators read LLM traces in Jaeger, Tempo, Langfuse or Honeycomb; this hands each run to them over
OTLP/HTTP in the GenAI semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/):
one `invoke_agent` span per run, a `chat` span per model call and an `execute_tool` span per tool call.

On only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set and OTEL_SDK_DISABLED
is not "true"; off, nothing is kept and opentelemetry is never imported. Every other OTEL_ variable is read
by the SDK itself (Resource.create(), OTLPSpanExporter()). The spans are built at the run's end from the
events the trace file got, after redaction, never from the policy or the tools: a secret the trace does not
hold cannot be exported. Export is observability, not a guard: spans go to a BatchSpanProcessor whose own
thread sends them, and anything that fails here is logged and never reaches the run.

This module imports nothing from Django (a run is read by its attributes), so that a bare process can use it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import multiprocessing.util
import os
import re
import threading
from collections.abc import Callable, Sequence
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import cache
from typing import Any, NamedTuple, Protocol
from urllib.parse import urlsplit

log = logging.getLogger(__name__)

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first set wins
PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
PROTOCOL = "http/protobuf"  # the one exporter we ship (opentelemetry-exporter-otlp-proto-http)
CAPTURE_VAR = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SERVICE_NAME = "academy"  # unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one
CONTENT_CAP = 4096  # characters of one captured argument, result or message
EXIT_FLUSH_S = 2.0  # how long a process's exit waits for its last spans to leave
SCOPE = "academy.agents"

# What ends a model call that got no response (tool threads may append other events meanwhile).
_ENDS_A_CALL = frozenset({"model_request", "error", "budget_stop", "kill_switch_stop", "max_steps", "run_end"})
# A policy failure's text, as the loop writes it: "policy failed: ExceptionName: ..."
_POLICY_FAILED = re.compile(r"^policy failed: ([A-Za-z_][A-Za-z0-9_.]*):")


class Event(Protocol):
    """One redacted trace event (agents.services.TraceRow has these fields)."""

    ts: datetime
    seq: int
    kind: str
    step: int
    data: dict[str, Any]


# --- configuration ------------------------------------------------------------------------------


def endpoint() -> str:
    """The traces endpoint variable's value that turns export on ('' when none is set)."""
    return next((v for name in ENDPOINT_VARS if (v := os.environ.get(name, "").strip())), "")


def disabled() -> bool:
    return os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"


def enabled() -> bool:
    """Export is on: an endpoint is set, the SDK is not disabled, and the configuration is one we can send."""
    return bool(endpoint()) and not disabled() and not config_errors()


class ConfigError(NamedTuple):
    what: str  # "protocol" or "endpoint": academy.checks gives each its check id
    message: str
    hint: str


def config_errors() -> list[ConfigError]:
    """What is wrong with the OTEL_ variables when export is asked for (an endpoint is set, the SDK is not
    disabled); academy.checks reports each at start, and export stays off meanwhile."""
    if not endpoint() or disabled():
        return []
    errors = []
    protocol_var = next((name for name in PROTOCOL_VARS if os.environ.get(name, "").strip()), "")
    protocol = os.environ.get(protocol_var, "").strip() if protocol_var else PROTOCOL  # the one the SDK reads
    if protocol != PROTOCOL:
        errors.append(ConfigError(
            "protocol", f"{protocol_var}={protocol!r}: Academy exports traces over OTLP/HTTP with protobuf only",
            f"Set {protocol_var}={PROTOCOL} (or unset it) and point the endpoint at the collector's OTLP/HTTP "
            f"port (4318 by default), not its gRPC port (4317)."))
    for name in ENDPOINT_VARS:
        if (url := os.environ.get(name, "").strip()) and (why := _bad_url(url)):
            errors.append(ConfigError(
                "endpoint", f"{name}={url!r} is not a usable URL: {why}",
                "Give the full http(s) URL, e.g. http://localhost:4318 (OTEL_EXPORTER_OTLP_ENDPOINT) or "
                "http://localhost:4318/v1/traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT)."))
    return errors


def _bad_url(url: str) -> str:
    """Why `url` cannot be an OTLP/HTTP endpoint, or ''."""
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError as exc:
        return str(exc)
    if parts.scheme not in ("http", "https"):
        return f"the scheme must be http or https, not {parts.scheme!r}"
    if not parts.hostname:
        return "it names no host"
    return ""


def capture_content() -> bool:
    return os.environ.get(CAPTURE_VAR, "").strip().lower() == "true"


def trace_id_for(run: Any) -> str:
    """The run's trace id (32 hex digits), derived from the run alone: staff find its trace from the run."""
    return _trace_id(run).to_bytes(16, "big").hex()


def trace_link(template: str, trace_id: str) -> str | None:
    """The trace's URL in the backend (TRACE_LINK_TEMPLATE with {trace_id} filled in), or None when the
    template is no such URL (academy.E011 reports it at start)."""
    if "{trace_id}" not in template:
        return None
    try:
        return template.format(trace_id=trace_id)
    except (KeyError, IndexError, ValueError):
        return None


def _trace_id(run: Any) -> int:
    digest = hashlib.sha256(f"academy-run:{run.pk}:{run.started_at.isoformat()}".encode()).digest()
    return int.from_bytes(digest[:16], "big") or 1  # zero is the invalid trace id


# --- the per-process provider -------------------------------------------------------------------


@dataclass
class _Exporting:
    pid: int
    provider: Any  # opentelemetry.sdk.trace.TracerProvider
    exporter: Any  # its OTLPSpanExporter
    tracer: Any
    closed: bool = False


_state: _Exporting | None = None
_state_lock = threading.Lock()
_fixed_trace_id: ContextVar[int | None] = ContextVar("academy_otel_trace_id", default=None)


def events_for_run() -> list[Event] | None:
    """The list a run's recorder keeps its events in when export is on; None (nothing kept) when off."""
    return [] if enabled() else None


def _exporting() -> _Exporting:
    """This process's provider, built on first use. A forked child (a django-q2 worker) builds its own,
    with its own exit hook: the parent's is the parent's to flush."""
    global _state
    with _state_lock:
        if _state is None or _state.pid != os.getpid():
            _state = _build()
            _hook_exit()
        return _state


def _build() -> _Exporting:
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.resources import Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    resource = Resource.create()  # OTEL_SERVICE_NAME, OTEL_RESOURCE_ATTRIBUTES
    if str(resource.attributes.get("service.name", "")).startswith("unknown_service"):
        resource = resource.merge(Resource({"service.name": SERVICE_NAME}))
    provider = TracerProvider(resource=resource, id_generator=_id_generator_class()(), shutdown_on_exit=False)
    exporter = OTLPSpanExporter()  # OTEL_EXPORTER_OTLP_* (endpoint, headers, timeout, compression, certificates)
    provider.add_span_processor(BatchSpanProcessor(exporter))  # OTEL_BSP_*
    return _Exporting(pid=os.getpid(), provider=provider, exporter=exporter, tracer=provider.get_tracer(SCOPE))


@cache
def _id_generator_class() -> type:
    from opentelemetry.sdk.trace.id_generator import RandomIdGenerator

    class RunIdGenerator(RandomIdGenerator):
        """Random ids, except the root span's trace id, which is the run's own (trace_id_for)."""

        def generate_trace_id(self) -> int:
            fixed = _fixed_trace_id.get()
            return fixed if fixed is not None else super().generate_trace_id()

        def is_trace_id_random(self) -> bool:
            return False

    return RunIdGenerator


def _hook_exit() -> None:
    """Send the last spans when the process ends, for at most EXIT_FLUSH_S. A multiprocessing finalizer
    runs both at a plain interpreter exit (multiprocessing's own atexit hook) and when a multiprocessing
    child (a django-q2 worker) leaves through os._exit, which skips atexit; a forked child starts with
    none, hence one per process."""
    multiprocessing.util.Finalize(None, _flush_at_exit, exitpriority=10)


def _flush_at_exit() -> None:
    state = _state
    if state is not None and state.pid == os.getpid():
        _close(state, EXIT_FLUSH_S / 2)


def _close(state: _Exporting, seconds: float) -> None:
    """Send what waits for at most `seconds`, then stop the export thread (at most `seconds` more). An
    export still stuck on a hanging collector is abandoned: its exporter is shut first, so that its
    retries give up instead of holding the processor's shutdown."""
    if state.closed:
        return
    state.closed = True
    if not _bounded(state.provider.force_flush, seconds):
        state.exporter.shutdown()
    _bounded(state.provider.shutdown, seconds)


def _bounded(fn: Callable[[], None], seconds: float) -> bool:
    """Run fn in a daemon thread and wait for it at most `seconds`: the SDK's flush ignores its timeout
    and would wait out a hanging collector. True when it finished."""
    def target() -> None:
        try:
            fn()
        except Exception:
            log.warning("OpenTelemetry: flushing spans failed", exc_info=True)

    thread = threading.Thread(target=target, name="otel-flush", daemon=True)
    thread.start()
    thread.join(seconds)
    return not thread.is_alive()


def force_flush(seconds: float = 10.0) -> bool:
    """Send the spans waiting in this process now (tests, a command that exits); True when done in time."""
    state = _state
    if state is None or state.pid != os.getpid():
        return True
    return _bounded(state.provider.force_flush, seconds)


def reset_for_tests(seconds: float = 2.0) -> None:
    """Forget this process's provider (shut down, bounded), so the next run reads the variables afresh."""
    global _state
    with _state_lock:
        state, _state = _state, None
    if state is not None and state.pid == os.getpid():
        _close(state, seconds)


# --- one run's spans ----------------------------------------------------------------------------


def run_export(run: Any, events: Sequence[Event] | None) -> None:
    """Hand the run's spans to this process's exporter (sent on its own thread). Never raises: export
    must not slow or fail a run. `events` None means export was off when the run started."""
    if events is None:
        return
    try:
        if not enabled():
            return
        _RunSpans(run, events, _exporting().tracer, capture=capture_content()).emit()
    except Exception:
        log.warning("run %s: its OpenTelemetry spans were not exported", getattr(run, "pk", "?"), exc_info=True)


def _ns(ts: datetime) -> int:
    """Nanoseconds since the epoch, exact to the microsecond (a float would round them)."""
    ts = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _capped(value: Any) -> str:
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= CONTENT_CAP else text[:CONTENT_CAP] + "…[truncated]"


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """OTel attributes take no None: leave those out."""
    return {k: v for k, v in attributes.items() if v is not None and v != []}


class _RunSpans:
    """The span tree of one run, from its events: the root, then chat and tool spans as its children."""

    def __init__(self, run: Any, events: Sequence[Event], tracer: Any, *, capture: bool) -> None:
        self.run, self.tracer, self.capture = run, tracer, capture
        self.events = sorted(events, key=lambda e: e.seq)
        start = next((e.data for e in self.events if e.kind == "run_start"), {})
        self.start = start if isinstance(start, dict) else {}
        self.summary = next((e.data for e in reversed(self.events) if e.kind == "run_end"), None)
        self.begin_ns = min([_ns(run.started_at), *(_ns(e.ts) for e in self.events[:1])])
        ended = [_ns(e.ts) for e in self.events[-1:]] + ([_ns(run.ended_at)] if run.ended_at else [])
        self.end_ns = max([self.begin_ns, *ended])

    # -- the root ---------------------------------------------------------------------------------
    def emit(self) -> None:
        from opentelemetry import context, trace

        token = _fixed_trace_id.set(_trace_id(self.run))
        try:
            root = self.tracer.start_span(f"invoke_agent {self.agent_name()}", context=context.Context(),
                                          kind=trace.SpanKind.INTERNAL, attributes=self.root_attributes(),
                                          start_time=self.begin_ns)
        finally:
            _fixed_trace_id.reset(token)
        parent = trace.set_span_in_context(root)
        self.children(parent)
        self.root_status(root)
        root.end(end_time=self.end_ns)

    def agent_name(self) -> str:
        return str(self.start.get("agent") or getattr(self.run.agent, "name", ""))

    def provider(self) -> str:
        return str(self.start.get("policy") or getattr(self.run.agent, "policy_kind", ""))

    def model(self) -> str:
        return str(self.start.get("model") or self.run.model_version or "")

    def request_attributes(self, data: dict[str, Any]) -> dict[str, Any]:
        """The model, temperature and seed a request ran with (the run's, when the event lacks them)."""
        temperature = data.get("temperature", self.start.get("temperature"))
        seed = data.get("seed", self.start.get("seed"))
        return {"gen_ai.provider.name": self.provider(), "gen_ai.request.model": str(data.get("model") or self.model()),
                "gen_ai.request.temperature": _number(temperature),
                "gen_ai.request.seed": seed if isinstance(seed, int) and not isinstance(seed, bool) else None}

    def totals(self) -> dict[str, Any]:
        """steps, tool calls, tokens and cost: the run_end event's, or the Run row's when the run ended
        before its loop could write one."""
        if isinstance(self.summary, dict):
            s = self.summary
            return {"steps": s.get("steps"), "tool_calls": s.get("tool_calls"), "in": s.get("tokens_in"),
                    "out": s.get("tokens_out"), "cost": _number(s.get("cost_usd")),
                    "final": s.get("final_message") or "", "reason": s.get("halt_reason") or ""}
        r = self.run
        return {"steps": r.steps, "tool_calls": r.tool_calls, "in": r.tokens_in, "out": r.tokens_out,
                "cost": _number(r.cost), "final": "", "reason": r.end_reason or ""}

    def outcome(self) -> str:
        status = str(self.run.status or "")
        if status and status != "running":
            return status
        return str((self.summary or {}).get("outcome") or "error")

    def root_attributes(self) -> dict[str, Any]:
        t = self.totals()
        attributes = {
            "gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": self.agent_name(),
            "gen_ai.agent.id": str(self.run.agent_id), **self.request_attributes({}),
            "gen_ai.usage.input_tokens": t["in"], "gen_ai.usage.output_tokens": t["out"],
            "academy.run.id": str(self.run.pk), "academy.run.outcome": self.outcome(),
            "academy.run.steps": t["steps"], "academy.run.tool_calls": t["tool_calls"],
            "academy.run.cost_usd": t["cost"],
        }
        if self.outcome() != "completed":
            attributes["error.type"] = self.outcome()
        if self.capture and t["final"]:
            attributes["gen_ai.output.messages"] = _capped([{"role": "assistant", "parts": [
                {"type": "text", "content": _capped(t["final"])}], "finish_reason": "stop"}])
        return _clean(attributes)

    def root_status(self, root: Any) -> None:
        from opentelemetry.trace import Status, StatusCode

        if self.outcome() != "completed":
            reason = self.totals()["reason"]
            root.set_status(Status(StatusCode.ERROR, str(reason)[:1000] or self.outcome()))

    # -- the children -----------------------------------------------------------------------------
    def children(self, parent: Any) -> None:
        """One span per model call and per tool call, in time order, each ended at its outcome's event."""
        for span in sorted(self.chat_spans() + self.tool_spans(), key=lambda s: (s.start_ns, s.seq)):
            span.emit(self.tracer, parent)

    def chat_spans(self) -> list[_Child]:
        """A chat span per model_request, ended by its step's model_response; one that got none ends at
        the event that ended it (the policy's error, a stop) or at the run's end, failed."""
        spans, pending = [], None
        for event in self.events:
            if pending is not None and event.kind == "model_response" and event.step == pending.step:
                spans.append(self.chat(pending, event))
                pending = None
            elif pending is not None and event.kind in _ENDS_A_CALL:
                spans.append(self.chat(pending, event, failed=True))
                pending = None
            if event.kind == "model_request":
                pending = event
        if pending is not None:
            spans.append(self.chat(pending, None, failed=True))
        return spans

    def chat(self, request: Event, end: Event | None, *, failed: bool = False) -> _Child:
        req = request.data if isinstance(request.data, dict) else {}
        model = str(req.get("model") or self.model())
        attributes: dict[str, Any] = {"gen_ai.operation.name": "chat", **self.request_attributes(req)}
        error = description = ""
        if failed:
            error, description = _failure(end)
            attributes["error.type"] = error
        elif end is not None and isinstance(end.data, dict):
            usage = end.data.get("usage") if isinstance(end.data.get("usage"), dict) else {}
            stop = end.data.get("stop_reason")
            attributes |= {"gen_ai.usage.input_tokens": usage.get("input_tokens"),
                           "gen_ai.usage.output_tokens": usage.get("output_tokens"),
                           "gen_ai.response.finish_reasons": [str(stop)] if stop else None,
                           "academy.cost_usd": _number(end.data.get("cost_usd"))}
        return _Child(name=f"chat {model}", kind="CLIENT", seq=request.seq, start_ns=_ns(request.ts),
                      end_ns=_ns(end.ts) if end is not None else self.end_ns, attributes=attributes,
                      error=error, description=description)

    def tool_spans(self) -> list[_Child]:
        """An execute_tool span per tool_call, ended by its result, timeout or refusal (same step, same
        call id), or at the run's end when none was recorded."""
        outcomes: dict[tuple[int, str], list[Event]] = {}
        for event in self.events:
            if event.kind in ("tool_result", "tool_timeout", "refusal") and isinstance(event.data, dict):
                outcomes.setdefault((event.step, str(event.data.get("call_id"))), []).append(event)
        spans = []
        for event in self.events:
            if event.kind == "tool_call" and isinstance(event.data, dict):
                found = outcomes.get((event.step, str(event.data.get("id"))), [])
                after = [o for o in found if o.seq > event.seq]
                outcome = after[0] if after else None
                if outcome is not None:
                    found.remove(outcome)
                spans.append(self.tool(event, outcome))
        return spans

    def tool(self, call: Event, outcome: Event | None) -> _Child:
        data = call.data
        name = str(data.get("name") or "")
        attributes: dict[str, Any] = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                                      "gen_ai.tool.call.id": str(data.get("id") or ""), "gen_ai.tool.type": "function"}
        error = _tool_error(outcome)
        if error:
            attributes["error.type"] = error
        if self.capture:
            attributes["gen_ai.tool.call.arguments"] = _capped(data.get("arguments"))
            if outcome is not None and outcome.kind == "tool_result":
                attributes["gen_ai.tool.call.result"] = _capped(_result_of(outcome.data))
        return _Child(name=f"execute_tool {name}", kind="INTERNAL", seq=call.seq, start_ns=_ns(call.ts),
                      end_ns=_ns(outcome.ts) if outcome is not None else self.end_ns, attributes=attributes,
                      error=error, description="")


def _failure(end: Event | None) -> tuple[str, str]:
    """(error.type, description) of a model call that got no response: the exception's class when the
    loop's error event names it ("policy failed: Name: ..."), else what ended the run (a budget, the
    kill switch: its outcome), or 'error'; the description is that event's (redacted) reason."""
    if end is None:
        return "unfinished", "the run ended before the model answered"
    data = end.data if isinstance(end.data, dict) else {}
    reason = str(data.get("reason") or data.get("error") or "")[:1000]
    if end.kind == "error":
        match = _POLICY_FAILED.match(reason)
        return (match.group(1) if match else "error"), reason
    return str(data.get("outcome") or end.kind), reason


def _tool_error(outcome: Event | None) -> str:
    if outcome is None:
        return "unfinished"
    if outcome.kind == "tool_timeout":
        return "timeout"
    if outcome.kind == "refusal":
        return "refused"
    return "" if outcome.data.get("ok") else "tool_error"


def _result_of(data: dict[str, Any]) -> Any:
    return data.get("result") if data.get("ok") else {"error": data.get("error")}


@dataclass
class _Child:
    name: str
    kind: str  # a SpanKind member's name
    seq: int
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    error: str  # '' when the call succeeded
    description: str

    def emit(self, tracer: Any, parent: Any) -> None:
        from opentelemetry.trace import SpanKind, Status, StatusCode

        span = tracer.start_span(self.name, context=parent, kind=SpanKind[self.kind],
                                 attributes=_clean(self.attributes), start_time=self.start_ns)
        if self.error:
            span.set_status(Status(StatusCode.ERROR, self.description or None))
        span.end(end_time=max(self.end_ns, self.start_ns))
