"""Trace replay (reference card 04): re-ask the same policy at every recorded step, compare decisions.

The tools are "mocked" by the trace itself: at step k the policy gets exactly the conversation it
had then (system prompt, task, its own earlier turns and every tool result as it saw them, all
recorded in `model_request.new_messages`), so nothing touches a venue. A decision matches when it
is the same action with the same tool calls (names and arguments, order kept); the text of a
final answer is not compared (wording may vary, the decision to stop may not).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from agents.core.policies.base import Message, Policy, PolicyContext, ToolCall
from agents.core.spec import AgentSpec
from agents.core.tools import TOOLS


class NotReplayable(Exception):
    """The trace lacks what a replay needs (no run_start, no model requests, a scripted policy...)."""


@dataclass(frozen=True)
class StepDiff:
    step: int
    recorded: dict[str, Any]
    replayed: dict[str, Any]


@dataclass
class ReplayResult:
    run_id: str
    agent: str
    policy: str
    model: str
    steps: int = 0
    matched: int = 0
    diffs: list[StepDiff] = field(default_factory=list)
    error: str = ""

    @property
    def drift(self) -> int:
        return len(self.diffs) + (1 if self.error else 0)


PolicyFactory = Callable[[AgentSpec], Policy]


def trace_lines(text: str) -> list[str]:
    """An NDJSON trace's lines, split on "\n" only: lines are written with raw Unicode, and str.splitlines()
    would also split inside a model's text at U+2028, U+0085 and the like, breaking one event in two."""
    return text.split("\n")


def run_order(file_name: str) -> tuple[int, int, str]:
    """Sort key of a trace file (`<run id>.ndjson`, `<run id>.superseded-<ns>.ndjson`): by run id as a
    number (1, 2, 10, 11; as text it would be 1, 10, 11, 2), then by name; names without an id last."""
    head = file_name.split(".", 1)[0]
    return (0, int(head), file_name) if head.isdigit() else (1, 0, file_name)


def load_events(lines: Iterable[str]) -> list[dict[str, Any]]:
    """Parse an NDJSON trace; a corrupt line makes the trace unreplayable (never silently skipped)."""
    events = []
    for n, line in enumerate(lines, 1):
        if line.strip():
            try:
                events.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise NotReplayable(f"line {n} is not JSON: {exc}") from None
    return events


def replay_run(events: Sequence[dict[str, Any]], make_policy: PolicyFactory) -> ReplayResult:
    """Replay one run's events; compare each recorded decision with the policy's answer now."""
    start = _first(events, "run_start")
    data = start["data"]
    if data.get("policy") == "scripted":
        raise NotReplayable("scripted runs replay their script, not a model: nothing to compare")
    # What actually ran (policy kind, model, temperature, seed) is in run_start, beside the spec.
    spec = AgentSpec.model_validate(data["spec"]).model_copy(update={
        "policy": data.get("policy", data["spec"]["policy"]), "model": data.get("model", data["spec"]["model"]),
        "temperature": data.get("temperature", 0.0), "seed": data.get("seed") or 0})
    result = ReplayResult(run_id=str(start["run_id"]), agent=spec.name, policy=spec.policy, model=spec.model)
    policy = make_policy(spec)
    tools = [TOOLS[name].schema() for name in start["data"]["offered_tools"] if name in TOOLS]
    messages: list[Message] = []
    decisions = {e["step"]: e["data"] for e in events if e["kind"] == "decision"}
    for request in (e for e in events if e["kind"] == "model_request"):
        messages += [_message(m) for m in request["data"]["new_messages"]]
        recorded = decisions.get(request["step"])
        if recorded is None:
            continue  # the run stopped before deciding (budget, kill switch): nothing to compare
        ctx = PolicyContext(messages=tuple(messages), tools=tools, step=request["step"],
                            now=datetime.fromisoformat(request["ts"]))
        try:
            replayed = _decision(policy.next_step(ctx))
        except Exception as exc:  # a model that cannot answer now is drift, not a crash of the audit
            result.error = f"step {request['step']}: {type(exc).__name__}: {exc}"
            break
        result.steps += 1
        if _same(recorded, replayed):
            result.matched += 1
        else:
            result.diffs.append(StepDiff(request["step"], recorded, replayed))
    return result


def _first(events: Sequence[dict[str, Any]], kind: str) -> dict[str, Any]:
    for e in events:
        if e.get("kind") == kind:
            return e
    raise NotReplayable(f"no {kind} event in the trace")


def _message(m: dict[str, Any]) -> Message:
    calls = tuple(ToolCall(c.get("id", ""), c["name"], c.get("arguments")) for c in m.get("tool_calls") or ())
    return Message(m["role"], m.get("content", ""), tool_calls=calls, tool_call_id=m.get("tool_call_id", ""),
                   name=m.get("name", ""), is_error=bool(m.get("is_error")))


def _decision(step: Any) -> dict[str, Any]:
    """The same shape the loop records in a `decision` event."""
    if not step.tool_calls:
        return {"action": "final", "message": step.final or ""}
    return {"action": "tool_calls", "calls": [{"name": c.name, "arguments": c.arguments} for c in step.tool_calls]}


def _same(recorded: dict[str, Any], replayed: dict[str, Any]) -> bool:
    if recorded.get("action") != replayed.get("action"):
        return False
    if recorded.get("action") == "final":
        return True
    return _calls(recorded) == _calls(replayed)


def _calls(decision: dict[str, Any]) -> list[tuple[str, str]]:
    return [(c["name"], _canonical(c.get("arguments"))) for c in decision.get("calls", [])]


def _canonical(arguments: Any) -> str:
    """Arguments as canonical JSON: a model's raw JSON string and the parsed dict compare equal."""
    if isinstance(arguments, str):
        try:
            arguments = json.loads(arguments)
        except json.JSONDecodeError:
            return arguments
    return json.dumps(arguments, sort_keys=True, separators=(",", ":"), default=str)
