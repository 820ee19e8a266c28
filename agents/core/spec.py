"""An agent's frozen configuration: who decides, which tools, which limits, which budgets."""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

TOOL_NAMES: tuple[str, ...] = (
    "browse_markets",
    "get_market",
    "check_freshness",
    "get_positions",
    "get_balance",
    "place_limit_order",
    "cancel_order",
    "cancel_all",
)
SIDE_EFFECT_TOOLS: frozenset[str] = frozenset({"place_limit_order", "cancel_order", "cancel_all"})

PolicyKind = Literal["rules", "openai", "anthropic", "scripted"]

# A model name is "frozen" when it pins a snapshot: a date (2024-08-06 / 20241022), an OpenAI-style
# MMDD suffix (gpt-4-0613), a numbered revision (-001), an explicit -vN tag, or a content digest.
_FROZEN = re.compile(
    r"((19|20)\d{2}-?\d{2}-?\d{2})"
    r"|(-\d{3,4}$)"
    r"|([-_.]v\d+(\.\d+)*$)"
    r"|(@sha256:[0-9a-f]{12,}$)"
)
_ALIAS = re.compile(r"(^|[-_.:@/])(latest|default|stable|current)($|[-_.:@/])", re.I)


def check_model_frozen(model: str) -> str:
    """Refuse aliases: the same name must mean the same weights next month (replay audit)."""
    name = model.strip()
    if not name:
        raise ValueError("model is empty: pin a dated model version, e.g. 'gpt-4o-2024-08-06'")
    if _ALIAS.search(name):
        raise ValueError(
            f"model {name!r} is an alias that moves over time; pin a dated version "
            "(e.g. 'claude-3-5-sonnet-20241022' or 'gpt-4o-2024-08-06')"
        )
    if not _FROZEN.search(name):
        raise ValueError(
            f"model {name!r} names a family, not a frozen version; add the snapshot date or "
            "revision (e.g. 'gpt-4o-2024-08-06', 'gemini-1.5-pro-002', 'rules-v1')"
        )
    return name


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


Usdc = Decimal


class HardLimits(_Frozen):
    """Limits enforced in code by place_order_safe; nothing the model says can move them."""

    max_order_notional: Usdc = Field(default=Decimal("10"), ge=0)
    max_daily_notional: Usdc = Field(default=Decimal("100"), ge=0)
    max_open_positions: int = Field(default=5, ge=0)
    max_market_exposure: Usdc = Field(default=Decimal("25"), ge=0)


class SoftLimits(_Frozen):
    """Limits that ask a human (approval request) instead of refusing."""

    approval_notional: Usdc = Field(default=Decimal("5"), ge=0)
    known_market_types: tuple[str, ...] = ()


class Budgets(_Frozen):
    """Per-run budgets; exhausting one ends the run cleanly."""

    max_tokens: int = Field(default=200_000, ge=0)
    max_tool_calls: int = Field(default=30, ge=0)
    max_seconds: float = Field(default=120.0, gt=0)
    # None = no cost budget for the run (the daily cost cap lives in monitoring).
    max_cost_usd: Decimal | None = Field(default=None, ge=0)


class AgentSpec(_Frozen):
    name: str = Field(min_length=1, max_length=100)
    policy: PolicyKind = "rules"
    model: str = "rules-v1"
    temperature: float = Field(default=0.0, ge=0.0, le=2.0)
    seed: int = 0
    allowed_tools: tuple[str, ...] = TOOL_NAMES
    hard: HardLimits = HardLimits()
    soft: SoftLimits = SoftLimits()
    budgets: Budgets = Budgets()
    max_steps: int = Field(default=10, ge=1, le=1000)
    tool_timeout_s: float = Field(default=30.0, gt=0)
    tool_timeouts: dict[str, float] = Field(default_factory=dict)
    stale_after_s: float = Field(default=60.0, gt=0)
    dry_run: bool = False

    @field_validator("model")
    @classmethod
    def _model_frozen(cls, v: str) -> str:
        return check_model_frozen(v)

    @field_validator("allowed_tools")
    @classmethod
    def _known_tools(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        unknown = sorted(set(v) - set(TOOL_NAMES))
        if unknown:
            raise ValueError(f"unknown tools {unknown}; known tools are {list(TOOL_NAMES)}")
        return tuple(dict.fromkeys(v))  # de-duplicated, order kept

    @model_validator(mode="after")
    def _timeouts_known(self) -> AgentSpec:
        bad = {k: t for k, t in self.tool_timeouts.items() if k not in TOOL_NAMES or t <= 0}
        if bad:
            raise ValueError(f"tool_timeouts must name known tools with a positive timeout: {bad}")
        return self

    def timeout_for(self, tool: str) -> float:
        return self.tool_timeouts.get(tool, self.tool_timeout_s)
