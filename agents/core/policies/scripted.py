"""Replays a fixed list of decisions (tests, red-team scenarios, trace replay)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from agents.core.policies.base import PolicyContext, PolicyStep, ToolCall, Usage

# One scripted step: a final text, a list of (tool name, arguments), or a function of the context.
ScriptItem = str | Sequence[tuple[str, Any]] | Callable[[PolicyContext], PolicyStep]


class ScriptedPolicy:
    kind = "scripted"
    billable = False

    def __init__(self, script: Sequence[ScriptItem], *, repeat_last: bool = False, usage: Usage | None = None,
                 model: str = "scripted-v1", temperature: float = 0.0, seed: int | None = None) -> None:
        self.script = list(script)
        self.repeat_last = repeat_last  # a model that "insists": keeps sending the last step forever
        self.usage = usage or Usage()
        self.model = model
        self.temperature = temperature
        self.seed = seed

    def next_step(self, ctx: PolicyContext) -> PolicyStep:
        item = self._item(ctx.step)
        if item is None:
            return PolicyStep(final="script exhausted", usage=self.usage)
        if callable(item):
            return item(ctx)
        if isinstance(item, str):
            return PolicyStep(final=item, usage=self.usage)
        calls = tuple(ToolCall(f"call_{ctx.step}_{i}", name, args) for i, (name, args) in enumerate(item))
        return PolicyStep(tool_calls=calls, usage=self.usage)

    def _item(self, step: int) -> ScriptItem | None:
        if step < len(self.script):
            return self.script[step]
        if self.repeat_last and self.script:
            return self.script[-1]
        return None
