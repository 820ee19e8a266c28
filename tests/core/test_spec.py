"""AgentSpec: frozen model versions, known tools, sane defaults."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from agents.core.spec import AgentSpec


@pytest.mark.parametrize("alias", ["gpt-4o", "gpt-4o-latest", "claude-3-5-sonnet-latest", "latest",
                                   "chatgpt-4o-latest", "claude-sonnet-4", "o1", "llama3.1:8b", "gpt-4o:latest"])
def test_it_refuses_model_aliases(alias: str) -> None:
    with pytest.raises(ValidationError) as exc:
        AgentSpec(name="a", policy="openai", model=alias)
    assert "pin a dated" in str(exc.value) or "frozen version" in str(exc.value)


@pytest.mark.parametrize("frozen", ["gpt-4o-2024-08-06", "claude-3-5-sonnet-20241022", "gpt-4-0613",
                                    "gemini-1.5-pro-002", "rules-v1", "claude-sonnet-4-5-20250929",
                                    "qwen2.5@sha256:0123456789abcdef"])
def test_it_accepts_frozen_versions(frozen: str) -> None:
    assert AgentSpec(name="a", policy="openai", model=frozen).model == frozen


def test_it_has_the_documented_defaults() -> None:
    spec = AgentSpec(name="a")
    assert (spec.max_steps, spec.tool_timeout_s, spec.policy, spec.dry_run) == (10, 30.0, "rules", False)
    assert spec.timeout_for("get_market") == 30.0


def test_it_refuses_unknown_tools_and_timeouts() -> None:
    with pytest.raises(ValidationError, match="unknown tools"):
        AgentSpec(name="a", allowed_tools=("get_market", "transfer_funds"))
    with pytest.raises(ValidationError, match="tool_timeouts"):
        AgentSpec(name="a", tool_timeouts={"transfer_funds": 1.0})


def test_it_is_frozen() -> None:
    spec = AgentSpec(name="a")
    with pytest.raises(ValidationError):
        spec.max_steps = 1000  # type: ignore[misc]
