"""OpenAI-compatible and Anthropic policies against local fake servers on a real socket."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from agents.core.policies import AnthropicPolicy, OpenAIPolicy
from agents.core.policies.base import Message, PolicyContext, PolicyError

from .conftest import Harness, demo_spec
from .fake_llm import anthropic_reply, openai_reply, serve

KEY = "sk-test-OPENAIFAKE0123456789abcdef"
ANT_KEY = "sk-ant-test-FAKE0123456789abcdef"
OA_MODEL = "gpt-4o-2024-08-06"
ANT_MODEL = "claude-3-5-sonnet-20241022"
PRICES = {OA_MODEL: (Decimal("2.5"), Decimal("10")), ANT_MODEL: (Decimal("3"), Decimal("15"))}


def test_it_runs_a_tool_calling_round_trip_over_the_openai_wire(h: Harness) -> None:
    with serve(openai_reply) as srv:
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, temperature=0.2, seed=42)
        result = h.run(demo_spec(policy="openai", model=OA_MODEL), policy, prices=PRICES)
    assert result.outcome == "completed" and result.final_message == "balance seen: True"
    assert (result.steps, result.tool_calls, result.tokens_in, result.tokens_out) == (2, 1, 240, 60)
    assert result.cost_usd == Decimal("0.0012") and len(result.model_latencies_ms) == 2
    first, second = srv.requests
    assert first.path == "/v1/chat/completions" and first.headers["authorization"] == f"Bearer {KEY}"
    assert (first.body["model"], first.body["temperature"], first.body["seed"]) == (OA_MODEL, 0.2, 42)
    assert first.body["tools"][0]["type"] == "function" and "parameters" in first.body["tools"][0]["function"]
    assistant, tool = second.body["messages"][-2:]
    assert assistant["tool_calls"][0] == {"id": "call_abc", "type": "function",
                                          "function": {"name": "get_balance", "arguments": "{}"}}
    assert tool["role"] == "tool" and tool["tool_call_id"] == "call_abc"
    assert json.loads(tool["content"])["result"]["available"] == "1000"
    request = h.events("model_request")[0]["data"]
    assert (request["temperature"], request["seed"], request["model"]) == (0.2, 42, OA_MODEL)


def test_it_runs_a_tool_use_round_trip_over_the_anthropic_wire(h: Harness) -> None:
    with serve(anthropic_reply) as srv:
        policy = AnthropicPolicy(base_url=srv.url, model=ANT_MODEL, api_key=ANT_KEY, seed=7)
        result = h.run(demo_spec(policy="anthropic", model=ANT_MODEL), policy, prices=PRICES)
    assert result.outcome == "completed" and result.final_message == "balance seen: True"
    assert (result.tokens_in, result.tokens_out, result.cost_usd) == (400, 100, Decimal("0.0027"))
    first, second = srv.requests
    assert first.path == "/v1/messages"
    assert first.headers["x-api-key"] == ANT_KEY and first.headers["anthropic-version"] == "2023-06-01"
    assert "untrusted data" in first.body["system"] and "seed" not in first.body
    assert {"name", "description", "input_schema"} == set(first.body["tools"][0])
    roles = [m["role"] for m in second.body["messages"]]
    assert roles == ["user", "assistant", "user"]  # strictly alternating
    assert second.body["messages"][1]["content"][1] == {"type": "tool_use", "id": "toolu_01",
                                                        "name": "get_balance", "input": {}}
    result_block = second.body["messages"][2]["content"][0]
    assert result_block["type"] == "tool_result" and result_block["tool_use_id"] == "toolu_01"
    assert h.events("run_start")[0]["data"]["seed"] == 7  # recorded though not sent


def test_it_retries_transient_errors_then_succeeds() -> None:
    sleeps: list[float] = []
    with serve(openai_reply) as srv:
        srv.fail_first = [(503, "{}"), (429, "{}")]
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=2, sleep=sleeps.append)
        step = policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    assert step.tool_calls[0].name == "get_balance" and len(srv.requests) == 3 and sleeps == [0.5, 1.0]


def test_it_ends_the_run_cleanly_on_an_auth_error_without_leaking_the_key(h: Harness) -> None:
    with serve(openai_reply) as srv:
        srv.fail_first = [(401, json.dumps({"error": {"message": f"Incorrect API key provided: {KEY}"}}))]
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=0)
        result = h.run(demo_spec(policy="openai", model=OA_MODEL), policy, prices=PRICES)
    assert result.outcome == "error" and "401" in result.halt_reason
    assert KEY not in json.dumps(h.recorder.events) and "[REDACTED:openai_key]" in json.dumps(h.recorder.events)


def test_it_rejects_malformed_replies_and_aliases() -> None:
    def no_usage(body: dict) -> dict:
        reply = openai_reply(body)
        del reply["usage"]
        return reply

    with serve(no_usage) as srv:
        policy = OpenAIPolicy(base_url=srv.url + "/v1", model=OA_MODEL, api_key=KEY, retries=0)
        with pytest.raises(PolicyError, match="usage"):
            policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    with pytest.raises(ValueError, match="alias"):
        AnthropicPolicy(model="claude-3-5-sonnet-latest", api_key="x")


def test_it_accepts_an_injected_transport() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=openai_reply(json.loads(request.content)))

    policy = OpenAIPolicy(base_url="http://model.invalid/v1", model=OA_MODEL, api_key=KEY,
                          transport=httpx.MockTransport(handler))
    step = policy.next_step(PolicyContext(messages=[Message("user", "hi")], tools=[], step=0, now=None))
    assert step.usage.input_tokens == 120


def test_it_builds_the_policy_the_spec_names() -> None:
    from agents.core.policies import RulesPolicy, build_policy

    rules = build_policy(demo_spec(seed=3))
    assert isinstance(rules, RulesPolicy) and (rules.seed, rules.model) == (3, "rules-v1")
    oa = build_policy(demo_spec(policy="openai", model=OA_MODEL, temperature=0.3), api_key=KEY, base_url="http://x/v1")
    assert isinstance(oa, OpenAIPolicy) and (oa.model, oa.temperature, oa.base_url) == (OA_MODEL, 0.3, "http://x/v1")
    with pytest.raises(ValueError, match="API key"):
        build_policy(demo_spec(policy="anthropic", model=ANT_MODEL))
