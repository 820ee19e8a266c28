"""Who decides: rules (offline default), scripted (replay/tests), OpenAI-compatible, Anthropic (the last two
through the official `openai` and `anthropic` clients)."""

from __future__ import annotations

from agents.core.policies.anthropic import AnthropicPolicy
from agents.core.policies.base import (
    Message,
    Policy,
    PolicyContext,
    PolicyError,
    PolicyStep,
    PriceTable,
    ToolCall,
    Usage,
    cost_usd,
)
from agents.core.policies.factory import build_policy
from agents.core.policies.openai import OpenAIPolicy
from agents.core.policies.rules import RulesParams, RulesPolicy
from agents.core.policies.scripted import ScriptedPolicy

__all__ = [
    "AnthropicPolicy",
    "Message",
    "OpenAIPolicy",
    "Policy",
    "PolicyContext",
    "PolicyError",
    "PolicyStep",
    "PriceTable",
    "RulesParams",
    "RulesPolicy",
    "ScriptedPolicy",
    "ToolCall",
    "Usage",
    "build_policy",
    "cost_usd",
]
