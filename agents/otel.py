"""OpenTelemetry export of every run (opt-in): GenAI spans built from the run's redacted trace events.

Operators read LLM traces in Jaeger, Tempo, Langfuse or Honeycomb; this hands each run to them over
OTLP/HTTP in the GenAI semantic conventions (https://opentelemetry.io/docs/specs/semconv/gen-ai/):
one `invoke_agent` span per run, a `chat` span per model call and an `execute_tool` span per tool call.

On only when OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT is set, OTEL_SDK_DISABLED is
not "true" and OTEL_TRACES_EXPORTER (when set) names otlp; off, nothing is kept and opentelemetry is never
imported. Every other OTEL_ variable is read by the SDK itself (Resource.create(), OTLPSpanExporter()). The
spans are built at the run's end from the events the trace file got, after redaction, never from the policy
or the tools: a secret the trace does not hold cannot be exported. Of each event the run keeps only what the
spans read, and content (arguments, results, reasons, a tool name the run did not offer) only with capture
on. Export is observability, not a guard: spans go to a BatchSpanProcessor whose own thread sends them, and
anything that fails here is logged and never reaches the run.

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

from agents.core.spec import TOOL_NAMES

log = logging.getLogger(__name__)

ENDPOINT_VARS = ("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "OTEL_EXPORTER_OTLP_ENDPOINT")  # the first set wins
PROTOCOL_VARS = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
PROTOCOL = "http/protobuf"  # the one exporter we ship (opentelemetry-exporter-otlp-proto-http)
CAPTURE_VAR = "OTEL_INSTRUMENTATION_GENAI_CAPTURE_MESSAGE_CONTENT"
SERVICE_NAME = "academy"  # unless OTEL_SERVICE_NAME or OTEL_RESOURCE_ATTRIBUTES names one
CONTENT_CAP = 4096  # characters of one captured argument, result or message
REASON_CAP = 1000  # characters of a halt reason or an error, as a span's status description
ID_CAP = 64  # characters of a tool call's id (the model's own), and of a tool name only capture may export
UNKNOWN_TOOL = "unknown"  # a tool name the run neither offered nor knows, exported with capture off
GRPC_PORT = 4317  # the collector's OTLP/gRPC port; OTLP/HTTP is 4318
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
    return _endpoint_var()[1]


def _endpoint_var() -> tuple[str, str]:
    """(name, value) of the endpoint variable the exporter uses: the traces one wins; ('', '') when none is set."""
    return next(((name, v) for name in ENDPOINT_VARS if (v := os.environ.get(name, "").strip())), ("", ""))


def disabled() -> bool:
    """OTEL_SDK_DISABLED=true, or OTEL_TRACES_EXPORTER naming no `otlp` exporter (`none`, say): the standard
    ways to say "no traces from this process", honoured even with an endpoint set for other services."""
    if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return True
    exporters = {x.strip().lower() for x in os.environ.get("OTEL_TRACES_EXPORTER", "").split(",")} - {""}
    return bool(exporters) and "otlp" not in exporters


def enabled() -> bool:
    """Export is on: an endpoint is set, the SDK is not disabled, and the configuration is one we can send."""
    return bool(endpoint()) and not disabled() and not any(e.blocks for e in config_errors())


class ConfigError(NamedTuple):
    what: str  # "protocol", "port" or "endpoint": academy.checks gives each its check id
    message: str
    hint: str
    blocks: bool = True  # export stays off while it stands


def config_errors() -> list[ConfigError]:
    """What is wrong with the OTEL_ variables when export is asked for (an endpoint is set, the SDK is not
    disabled); academy.checks warns of each at start, and export stays off meanwhile (but for the port,
    which may be right after all). Messages never show the endpoint's user, password or query."""
    name, url = _endpoint_var()
    if not url or disabled():
        return []
    errors = []
    protocol_var = next((n for n in PROTOCOL_VARS if os.environ.get(n, "").strip()), "")
    protocol = os.environ.get(protocol_var, "").strip() if protocol_var else PROTOCOL  # the one the SDK reads
    if protocol != PROTOCOL:
        errors.append(ConfigError(
            "protocol", f"{protocol_var}={protocol!r}: Academy exports traces over OTLP/HTTP with protobuf only",
            f"Set {protocol_var}={PROTOCOL} (or unset it) and point the endpoint at the collector's OTLP/HTTP "
            f"port (4318 by default), not its gRPC port (4317). No trace is exported meanwhile."))
    if why := _bad_url(url):
        errors.append(ConfigError(
            "endpoint", f"{name}={_shown(url)!r} is not a usable URL: {why}",
            "Give the full http(s) URL, e.g. http://localhost:4318 (OTEL_EXPORTER_OTLP_ENDPOINT) or "
            "http://localhost:4318/v1/traces (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT). No trace is exported meanwhile."))
    elif protocol == PROTOCOL and urlsplit(url).port == GRPC_PORT:
        errors.append(ConfigError(
            "port", f"{name}={_shown(url)!r}: 4317 is the gRPC port; OTLP/HTTP is 4318",
            "Point it at the collector's OTLP/HTTP port (4318 by default). Export stays on, in case your "
            "collector does serve OTLP/HTTP on 4317.", blocks=False))
    return errors


def _bad_url(url: str) -> str:
    """Why `url` cannot be an OTLP/HTTP endpoint, or ''. The reasons never quote the URL (a password)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "it does not parse as a URL"
    try:
        parts.port  # noqa: B018 (raises on a port that is not a number in range)
    except ValueError:
        return "its port is not a number from 0 to 65535"
    if parts.scheme not in ("http", "https"):
        return f"the scheme must be http or https, not {parts.scheme!r}"
    if not parts.hostname:
        return "it names no host"
    return ""


def _shown(url: str) -> str:
    """The endpoint as a message may show it: without user, password, query or fragment (any may hold a
    credential). Everything up to the last @ goes, even in a URL too broken to parse."""
    head = re.split(r"[?#]", url, maxsplit=1)[0]
    scheme, rest = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*://)?(.*)$", head, re.DOTALL).groups()
    return (scheme or "") + rest.rpartition("@")[2]


def capture_content() -> bool:
    return os.environ.get(CAPTURE_VAR, "").strip().lower() == "true"


def trace_id_for(run: Any) -> str:
    """The run's trace id (32 hex digits), derived from the run alone: staff find its trace from the run."""
    return _trace_id(run).to_bytes(16, "big").hex()


def trace_link(template: str, trace_id: str) -> str | None:
    """The trace's URL in the backend (TRACE_LINK_TEMPLATE with {trace_id} filled in), or None when the
    template makes no http(s) URL (academy.W011 warns of it at start; the run viewer shows no link)."""
    if not template.startswith(("http://", "https://")) or "{trace_id}" not in template:
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


def events_for_run() -> RunEvents | None:
    """The list a run's recorder keeps its events in when export is on; None (nothing kept) when off, or
    when even that fails: it runs before the run does, and must never stop it."""
    try:
        return RunEvents(capture=capture_content()) if enabled() else None
    except Exception:
        log.warning("OpenTelemetry: the run will not be exported", exc_info=True)
        return None


class Kept(NamedTuple):
    """What a run keeps of one trace event for its export: the event's fields, and of its data only what
    the spans read (slim()), so that a long run does not hold every tool result twice."""

    ts: datetime
    seq: int
    kind: str
    step: int
    data: dict[str, Any]


class RunEvents(list[Kept]):
    """A run's kept events, each slimmed as it comes; content (arguments, results, the final message,
    reasons) is kept only when capture was on at the run's start."""

    def __init__(self, *, capture: bool) -> None:
        super().__init__()
        self.capture = capture

    def keep(self, event: Event) -> None:
        """Keep the event; never raises (the recorder calls it for every event of the run)."""
        try:
            self.append(slim(event, capture=self.capture))
        except Exception:
            log.warning("OpenTelemetry: event %s of a run not kept for its export", getattr(event, "seq", "?"),
                        exc_info=True)


# The data keys each kind's spans read, and those that are content (kept only with capture on). An event
# of any other kind is kept without data: its time still bounds the run.
_READ: dict[str, tuple[str, ...]] = {
    "run_start": ("agent", "policy", "model", "temperature", "seed", "offered_tools"),
    "run_end": ("outcome", "steps", "tool_calls", "tokens_in", "tokens_out", "cost_usd"),
    "model_request": ("model", "temperature", "seed"),
    "model_response": ("stop_reason", "cost_usd"),
    "tool_call": ("id", "name"),
    "tool_result": ("call_id", "tool", "ok", "order_status"),
    "tool_timeout": ("call_id",), "refusal": ("call_id",),
    "error": ("error_type",), "budget_stop": ("outcome",), "kill_switch_stop": ("outcome",), "max_steps": ("outcome",),
}
_CONTENT: dict[str, tuple[str, ...]] = {
    "run_end": ("final_message", "halt_reason"), "tool_call": ("arguments",), "tool_result": ("result", "error"),
    "error": ("reason", "error"), "budget_stop": ("reason",), "kill_switch_stop": ("reason",), "max_steps": ("reason",),
}
_REASONS = frozenset({"halt_reason", "reason"})  # a status description: cut shorter
_REFUSED_ORDER = frozenset({"rejected", "halted"})  # place_limit_order's answer when the order desk refused it
ORDER_TOOL = "place_limit_order"


def slim(event: Event, *, capture: bool) -> Kept:
    """The event as export keeps it (see Kept); a Kept event slims to itself."""
    data = event.data if isinstance(event.data, dict) else {}
    derived = {"error_type": _error_type(data)} if event.kind == "error" else {}
    if event.kind == "tool_result" and data.get("tool") == ORDER_TOOL:
        result = data.get("result")
        derived["order_status"] = data.get("order_status") or (result.get("status") if isinstance(result, dict)
                                                                else None)
    if event.kind == "model_response" and isinstance(data.get("usage"), dict):
        derived["usage"] = {k: data["usage"].get(k) for k in ("input_tokens", "output_tokens")}
    kept = {k: data[k] for k in _READ.get(event.kind, ()) if k in data} | derived
    if capture:
        kept |= {k: _reason(data[k]) if k in _REASONS else _content(data[k])
                 for k in _CONTENT.get(event.kind, ()) if k in data}
    return Kept(event.ts, event.seq, str(event.kind), event.step, kept)


def _error_type(data: dict[str, Any]) -> str:
    """An error event's type: the exception's class where the loop names it ("policy failed: Name: ..."),
    else 'error'."""
    if isinstance(data.get("error_type"), str):
        return data["error_type"]
    match = _POLICY_FAILED.match(str(data.get("reason") or data.get("error") or ""))
    return match.group(1) if match else "error"


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
    must not slow or fail a run. `events` None means export was off when the run started. Content is
    exported when capture is on now and was when the events were kept (a RunEvents says)."""
    if events is None:
        return
    try:
        if not enabled():
            return
        capture = capture_content() and getattr(events, "capture", True)
        _RunSpans(run, events, _exporting().tracer, capture=capture).emit()
    except Exception:
        log.warning("run %s: its OpenTelemetry spans were not exported", getattr(run, "pk", "?"), exc_info=True)


def _ns(ts: datetime) -> int:
    """Nanoseconds since the epoch, exact to the microsecond (a float would round them)."""
    ts = ts if ts.tzinfo is not None else ts.replace(tzinfo=UTC)
    delta = ts - datetime(1970, 1, 1, tzinfo=UTC)
    return (delta.days * 86_400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1_000


def _content(value: Any) -> str:
    """Captured content as one attribute of at most about CONTENT_CAP characters. A string is cut; anything
    else is JSON that still parses: its strings are cut until it fits, or, failing that (a long list), it
    is wrapped whole as {"truncated": "<its JSON, cut>"}. A string it returned is returned as it is."""
    if isinstance(value, str):
        return _cut(value, CONTENT_CAP)
    text, limit = _json(value), CONTENT_CAP // 2
    while len(text) > CONTENT_CAP and limit >= 64:
        text, limit = _json(_cut_strings(value, limit)), limit // 2
    keep = CONTENT_CAP - 64
    while len(text) > CONTENT_CAP:  # escaping may lengthen the cut text: cut it shorter until it fits
        wrapped = _json({"truncated": _cut(_json(value), keep)})
        text, keep = wrapped, keep * CONTENT_CAP // len(wrapped) - 1
    return text


def _reason(value: Any) -> str:
    return _cut(str(value), REASON_CAP)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit] + "…[truncated]"


def _cut_strings(value: Any, limit: int) -> Any:
    if isinstance(value, str):
        return _cut(value, limit)
    if isinstance(value, dict):
        return {str(k): _cut_strings(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_cut_strings(v, limit) for v in value]
    return value


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=str)


def _number(value: Any) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def _clean(attributes: dict[str, Any]) -> dict[str, Any]:
    """OTel attributes take no None: leave those out."""
    return {k: v for k, v in attributes.items() if v is not None and v != []}


class _RunSpans:
    """The span tree of one run, from its events: the root, then chat and tool spans as its children.
    It reads the events slimmed (slim()): without capture, no content and no reason text is left to export."""

    def __init__(self, run: Any, events: Sequence[Event], tracer: Any, *, capture: bool) -> None:
        self.run, self.tracer, self.capture = run, tracer, capture
        self.events = sorted((slim(e, capture=capture) for e in events), key=lambda e: e.seq)
        start = next((e.data for e in self.events if e.kind == "run_start"), {})
        self.start = start if isinstance(start, dict) else {}
        self.summary = next((e.data for e in reversed(self.events) if e.kind == "run_end"), None)
        offered = self.start.get("offered_tools")
        self.known_tools = frozenset(TOOL_NAMES) | frozenset(
            t for t in (offered if isinstance(offered, list | tuple) else ()) if isinstance(t, str))
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
                "cost": _number(r.cost), "final": "", "reason": _reason(r.end_reason or "") if self.capture else ""}

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
            attributes["gen_ai.output.messages"] = _content([{"role": "assistant", "parts": [
                {"type": "text", "content": t["final"]}], "finish_reason": "stop"}])
        return _clean(attributes)

    def root_status(self, root: Any) -> None:
        """ERROR unless completed, described by the redacted halt reason with capture on, else by the outcome
        alone: a reason may quote a market or a provider's error text."""
        from opentelemetry.trace import Status, StatusCode

        if self.outcome() != "completed":
            root.set_status(Status(StatusCode.ERROR, self.totals()["reason"] or self.outcome()))

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

    def tool_name(self, name: Any) -> str:
        """The called tool's name as exported: the model chose it, so with capture off only a name the run
        offered or the toolbox knows is exported, any other as 'unknown'; with capture on, cut to ID_CAP (none
        at all is 'unknown' either way)."""
        if isinstance(name, str) and name in self.known_tools:
            return name
        return str(name)[:ID_CAP] if self.capture and name else UNKNOWN_TOOL

    def tool(self, call: Event, outcome: Event | None) -> _Child:
        data = call.data
        name = self.tool_name(data.get("name"))
        attributes: dict[str, Any] = {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name,
                                      "gen_ai.tool.call.id": str(data.get("id") or "")[:ID_CAP],
                                      "gen_ai.tool.type": "function"}
        error = _tool_error(outcome)
        if error:
            attributes["error.type"] = error
        if self.capture:
            attributes["gen_ai.tool.call.arguments"] = _content(data.get("arguments"))
            if outcome is not None and outcome.kind == "tool_result":
                attributes["gen_ai.tool.call.result"] = _content(_result_of(outcome.data))
        return _Child(name=f"execute_tool {name}", kind="INTERNAL", seq=call.seq, start_ns=_ns(call.ts),
                      end_ns=_ns(outcome.ts) if outcome is not None else self.end_ns, attributes=attributes,
                      error=error, description="")


def _failure(end: Event | None) -> tuple[str, str]:
    """(error.type, description) of a model call that got no response: the exception's class when the
    loop's error event names it ("policy failed: Name: ..."), else what ended the run (a budget, the
    kill switch: its outcome), or 'error'. The description is that event's redacted reason when it was
    kept (capture on), else the error type."""
    if end is None:
        return "unfinished", "the run ended before the model answered"
    data = end.data
    error = str(data.get("error_type") or "error") if end.kind == "error" else str(data.get("outcome") or end.kind)
    return error, _reason(data.get("reason") or data.get("error") or error)


def _tool_error(outcome: Event | None) -> str:
    """A tool call's error.type, '' when it succeeded. An order the order desk refused (its limits, a halt)
    is refused though the tool answered: the refusal event it records names no call, the tool's result does."""
    if outcome is None:
        return "unfinished"
    if outcome.kind == "tool_timeout":
        return "timeout"
    if outcome.kind == "refusal":
        return "refused"
    if not outcome.data.get("ok"):
        return "tool_error"
    return "refused" if outcome.data.get("order_status") in _REFUSED_ORDER else ""


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
