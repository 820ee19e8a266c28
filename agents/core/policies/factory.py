"""Build the policy an AgentSpec names (the Django side passes secrets and URLs from settings).

The key and base URL always come in here, explicitly: the official SDKs would otherwise read their own
environment variables (OPENAI_API_KEY, ANTHROPIC_AUTH_TOKEN...) and could send a key we were not given.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from agents.core.policies.anthropic import AnthropicPolicy
from agents.core.policies.base import Policy
from agents.core.policies.openai import OpenAIPolicy
from agents.core.policies.rules import RulesParams, RulesPolicy
from agents.core.policies.scripted import ScriptedPolicy, ScriptItem
from agents.core.spec import AgentSpec


def build_policy(spec: AgentSpec, *, api_key: str = "", base_url: str | None = None,
                 transport: httpx.BaseTransport | None = None, script: Sequence[ScriptItem] = (),
                 rules: RulesParams | None = None, max_output_tokens: int = 1024) -> Policy:
    """Return the spec's policy with its frozen model, temperature and seed."""
    if spec.policy == "rules":
        return RulesPolicy(rules, seed=spec.seed, model=spec.model, temperature=spec.temperature)
    if spec.policy == "scripted":
        return ScriptedPolicy(script, model=spec.model, temperature=spec.temperature, seed=spec.seed)
    if not api_key:
        raise ValueError(f"policy {spec.policy!r} needs an API key")
    if spec.policy == "openai":
        return OpenAIPolicy(base_url=base_url or "https://api.openai.com/v1", model=spec.model, api_key=api_key,
                            temperature=spec.temperature, seed=spec.seed, max_tokens=max_output_tokens,
                            transport=transport)
    return AnthropicPolicy(base_url=base_url or "https://api.anthropic.com", model=spec.model, api_key=api_key,
                           temperature=spec.temperature, seed=spec.seed, max_tokens=max_output_tokens,
                           transport=transport)
