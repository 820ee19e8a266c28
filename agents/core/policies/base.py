"""The policy seam: given the conversation and the offered tools, decide the next step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal, Protocol

Role = Literal["system", "user", "assistant", "tool"]


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: Any  # a dict, or the raw JSON string the model produced (the Toolbox parses it)


@dataclass(frozen=True)
class Message:
    role: Role
    content: str = ""
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str = ""  # role == "tool": which call this answers
    name: str = ""  # role == "tool": the tool's name
    is_error: bool = False


@dataclass(frozen=True)
class Usage:
    input_tokens: int = 0
    output_tokens: int = 0

    @property
    def total(self) -> int:
        return self.input_tokens + self.output_tokens


@dataclass(frozen=True)
class PolicyStep:
    """Either tool calls (run them, then ask again) or a final message (the run is done)."""

    tool_calls: tuple[ToolCall, ...] = ()
    final: str | None = None
    text: str = ""  # what the model said alongside its tool calls (kept in the conversation)
    usage: Usage = field(default_factory=Usage)
    stop_reason: str = ""


@dataclass(frozen=True)
class PolicyContext:
    messages: Sequence[Message]
    tools: Sequence[dict[str, Any]]  # {"name", "description", "parameters"} of the allowed tools only
    step: int
    now: datetime


class Policy(Protocol):
    kind: str  # rules | openai | anthropic | scripted
    model: str  # frozen model version (recorded in every trace)
    billable: bool  # True when token usage costs money (needs a price)
    temperature: float
    seed: int | None

    def next_step(self, ctx: PolicyContext) -> PolicyStep: ...


class PolicyError(Exception):
    """The model could not be asked (HTTP failure, malformed reply): the run ends with `error`."""


# model -> (USD per million input tokens, USD per million output tokens)
PriceTable = Mapping[str, tuple[Decimal, Decimal]]
MTOK = Decimal(1_000_000)


def cost_usd(prices: PriceTable, model: str, usage: Usage) -> Decimal | None:
    """Cost of one call, or None when the model has no price (the loop fails closed on None)."""
    price = prices.get(model)
    if price is None:
        return None
    p_in, p_out = (Decimal(str(p)) for p in price)
    return (p_in * usage.input_tokens + p_out * usage.output_tokens) / MTOK


def tool_names(tools: Sequence[Mapping[str, Any]]) -> set[str]:
    return {str(t["name"]) for t in tools}
