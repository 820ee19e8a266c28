"""The run viewer's waterfall: each step's model call and tool calls on one time axis, with tokens and cost.

Read from the run's TraceEvent rows as the loop writes them (agents/core/loop.py): `model_request` then
`model_response` (latency_ms, usage, cost_usd); `tool_call` then its `tool_result` (latency_ms, ok),
`tool_timeout` or `refusal`, matched by call id. A figure the trace does not hold is None and shows as
"not recorded", never as 0. Pure functions over rows: no query here.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from agents.models import Run, TraceEvent

STEPS_SHOWN = 20  # beyond this many steps the rest are folded (a runaway loop has up to 100)
MIN_BAR_PCT = 0.6  # a 3 ms tool call next to a 20 s run still shows as a visible sliver
# Events that mark a step as gone wrong: drawn as a tick at their time, and the step is flagged.
MARKS = {"refusal": "refused", "error": "error", "budget_stop": "budget stop", "kill_switch_stop": "kill switch",
         "max_steps": "step cap", "suspicious_output": "suspicious output", "tool_timeout": "timeout"}


@dataclass
class Span:
    """One bar: a model call or a tool call (or a tick for a refusal or a stop, with no latency)."""

    seq: int
    kind: str  # "model", "tool" or "mark"
    label: str
    start_ms: float | None
    latency_ms: float | None = None
    state: str = "ok"  # ok, error, refused, timeout, pending (no result recorded), mark
    note: str = ""
    tokens_in: int | None = None
    tokens_out: int | None = None
    cost: Decimal | None = None
    left_pct: float = 0.0
    width_pct: float = 0.0

    @property
    def start_s(self) -> float | None:
        return None if self.start_ms is None else round(self.start_ms / 1000, 3)


@dataclass
class Step:
    step: int
    spans: list[Span] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def models(self) -> list[Span]:
        return [s for s in self.spans if s.kind == "model"]

    @property
    def asked(self) -> bool:
        """Whether the model was asked in this step (a step of stops alone has no tokens to show)."""
        return bool(self.models)

    @property
    def tokens_in(self) -> int | None:
        return _total([s.tokens_in for s in self.models])

    @property
    def tokens_out(self) -> int | None:
        return _total([s.tokens_out for s in self.models])

    @property
    def cost(self) -> Decimal | None:
        return _total([s.cost for s in self.models])


@dataclass
class Waterfall:
    steps: list[Step]
    total_ms: float

    @property
    def shown(self) -> list[Step]:
        return self.steps[:STEPS_SHOWN]

    @property
    def folded(self) -> list[Step]:
        return self.steps[STEPS_SHOWN:]

    @property
    def spans(self) -> list[Span]:
        return [s for step in self.steps for s in step.spans]

    @property
    def model_calls(self) -> int:
        return sum(1 for s in self.spans if s.kind == "model")

    @property
    def tool_calls(self) -> int:
        return sum(1 for s in self.spans if s.kind == "tool")

    @property
    def model_ms(self) -> float | None:
        return _total([s.latency_ms for s in self.spans if s.kind == "model"])

    @property
    def tool_ms(self) -> float | None:
        return _total([s.latency_ms for s in self.spans if s.kind == "tool"])

    @property
    def tokens_in(self) -> int | None:
        return _total([s.tokens_in for s in self.spans if s.kind == "model"])

    @property
    def tokens_out(self) -> int | None:
        return _total([s.tokens_out for s in self.spans if s.kind == "model"])

    @property
    def cost(self) -> Decimal | None:
        return _total([s.cost for s in self.spans if s.kind == "model"])

    @property
    def problems(self) -> int:
        return sum(len(step.problems) for step in self.steps)

    @property
    def axis(self) -> list[tuple[float, str]]:
        """Five ticks (percent, label in seconds) along the time axis."""
        return [(pct, f"{self.total_ms * pct / 100 / 1000:.3g} s") for pct in (0, 25, 50, 75, 100)]


def waterfall(run: Run, events: list[TraceEvent]) -> Waterfall:
    """Build the waterfall of a run from its events (in seq order)."""
    steps: dict[int, _StepBuilder] = {}
    for event in events:
        if event.step >= 0:
            steps.setdefault(event.step, _StepBuilder(event.step, run.started_at)).add(event)
    built = [steps[n].finish() for n in sorted(steps)]
    total = _axis_ms(run, events, built)
    for step in built:
        for span in step.spans:
            _place(span, total)
    return Waterfall(steps=built, total_ms=total)


class _StepBuilder:
    """Pairs one step's requests with responses and calls with their outcomes, in trace order."""

    def __init__(self, step: int, started_at: datetime) -> None:
        self.step = Step(step)
        self.started_at = started_at
        self.request: TraceEvent | None = None
        self.calls: dict[str, Span] = {}  # call id -> span still waiting for its outcome
        self.waiting: list[Span] = []  # calls in order (traces without call ids match by tool name)

    def add(self, event: TraceEvent) -> None:
        data = event.data if isinstance(event.data, dict) else {}
        handler = getattr(self, f"_on_{event.kind}", None)
        if handler is not None:
            handler(event, data)
        if event.kind in MARKS:
            self._mark(event, data)

    def finish(self) -> Step:
        if self.request is not None:  # asked, never answered (the policy failed, or the run is still going)
            self.step.spans.append(Span(seq=self.request.seq, kind="model", label="model", state="pending",
                                        start_ms=self._offset(self.request), note="no answer recorded"))
        return self.step

    def _offset(self, event: TraceEvent) -> float:
        return (event.ts - self.started_at).total_seconds() * 1000

    def _on_model_request(self, event: TraceEvent, data: dict[str, Any]) -> None:
        self.request = event

    def _on_model_response(self, event: TraceEvent, data: dict[str, Any]) -> None:
        latency = _number(data.get("latency_ms"))
        start = self._offset(self.request) if self.request is not None else (
            self._offset(event) - latency if latency is not None else self._offset(event))
        usage = data.get("usage") if isinstance(data.get("usage"), dict) else {}
        self.step.spans.append(Span(
            seq=self.request.seq if self.request is not None else event.seq, kind="model",
            label=f"model ({data['stop_reason']})" if data.get("stop_reason") else "model", start_ms=max(start, 0.0),
            latency_ms=latency,
            tokens_in=_count(usage.get("input_tokens")), tokens_out=_count(usage.get("output_tokens")),
            cost=_money(data.get("cost_usd"))))
        self.request = None

    def _on_tool_call(self, event: TraceEvent, data: dict[str, Any]) -> None:
        span = Span(seq=event.seq, kind="tool", label=str(data.get("name") or event.tool or "?"),
                    start_ms=self._offset(event), state="pending", note="no result recorded")
        self.step.spans.append(span)
        if data.get("id"):
            self.calls[str(data["id"])] = span
        self.waiting.append(span)

    def _on_tool_result(self, event: TraceEvent, data: dict[str, Any]) -> None:
        span = self._call_for(data, event)
        if span is None:
            return
        span.latency_ms = _number(data.get("latency_ms"))
        if data.get("ok"):
            span.state, span.note = "ok", ""
            return
        span.state, span.note = "error", _short(data.get("error"))
        self.step.problems.append(f"{span.label} failed")  # its bar is drawn red: no tick of its own

    def _on_tool_timeout(self, event: TraceEvent, data: dict[str, Any]) -> None:
        span = self._call_for(data, event)
        if span is not None:
            span.latency_ms = max(self._offset(event) - (span.start_ms or 0.0), 0.0)
            span.state, span.note = "timeout", f"timed out after {data.get('timeout_s', '?')} s"

    def _on_refusal(self, event: TraceEvent, data: dict[str, Any]) -> None:
        span = self._call_for(data, event) if data.get("what") == "tool" else None
        if span is not None:
            span.state, span.note = "refused", _short(data.get("reason"))

    def _call_for(self, data: dict[str, Any], event: TraceEvent) -> Span | None:
        """The call this outcome belongs to: by call id, else the oldest open call of that tool."""
        span = self.calls.pop(str(data.get("call_id")), None) if data.get("call_id") else None
        if span is None:
            name = str(data.get("tool") or event.tool or "")
            span = next((s for s in self.waiting if s.label == name), None)
        if span is not None and span in self.waiting:
            self.waiting.remove(span)
        return span

    def _mark(self, event: TraceEvent, data: dict[str, Any]) -> None:
        what = MARKS[event.kind]
        why = _short(data.get("reason") or data.get("error") or data.get("tool") or "")
        self.step.problems.append(f"{what}: {why}" if why else what)
        self.step.spans.append(Span(seq=event.seq, kind="mark", label=what, start_ms=self._offset(event),
                                    state="mark", note=why))


def _axis_ms(run: Run, events: list[TraceEvent], steps: list[Step]) -> float:
    """The axis spans the run (its last event while it runs) and every bar, whichever is longer. Not an event
    appended after the end (an approved order placed minutes later): it would squeeze the run into a corner."""
    ends = [(s.start_ms or 0.0) + (s.latency_ms or 0.0) for step in steps for s in step.spans]
    if run.ended_at is not None:
        ends.append((run.ended_at - run.started_at).total_seconds() * 1000)
    else:
        ends += [(e.ts - run.started_at).total_seconds() * 1000 for e in events[-1:]]
    return max([*ends, 1.0])


def _place(span: Span, total: float) -> None:
    left = min(max((span.start_ms or 0.0) / total * 100, 0.0), 100.0)
    width = (span.latency_ms or 0.0) / total * 100 if span.kind != "mark" else 0.0
    span.left_pct = round(min(left, 100.0 - MIN_BAR_PCT), 2)
    span.width_pct = round(min(max(width, MIN_BAR_PCT), 100.0 - span.left_pct), 2)


def _total(values: list[Any]) -> Any:
    """The sum, or None when any part was not recorded (a partial sum would understate it)."""
    if not values or any(v is None for v in values):
        return None
    return sum(values[1:], values[0])


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if number == number and number >= 0 else None  # NaN and negatives are not latencies


def _count(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else None


def _money(value: Any) -> Decimal | None:
    try:
        amount = Decimal(str(value)) if value is not None and not isinstance(value, bool) else None
    except InvalidOperation:
        return None
    return amount if amount is not None and amount.is_finite() and amount >= 0 else None


def _short(value: Any, limit: int = 160) -> str:
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    return text if len(text) <= limit else text[: limit - 1] + "…"
