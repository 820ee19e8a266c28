"""Record a real run for the run viewer's tests: the real loop and recorder, the real paper venue, and a model
provider on a real socket (tests/core/fake_llm.py) that reads balance and markets, then one market, then stops.

Used in-process by the view tests and, through `manage.py shell`, by the browser test's web server.
"""

from __future__ import annotations

import json
from typing import Any

MODEL = "gpt-4o-mini-2024-07-18"  # priced in settings.MODEL_PRICES: 0.15 / 0.60 USD per million tokens
PROMPT_TOKENS, COMPLETION_TOKENS = 1200, 80
KEY = "sk-test-RUNVIEWER0123456789abcdef"


def responder(market: str) -> Any:
    """An OpenAI-wire model: step 1 calls get_balance and browse_markets, step 2 get_market, step 3 answers."""

    def reply(body: dict[str, Any]) -> dict[str, Any]:
        results = sum(1 for m in body["messages"] if m["role"] == "tool")
        if results == 0:
            calls = [("call_bal", "get_balance", {}), ("call_browse", "browse_markets", {"limit": 5})]
        elif results == 2:
            calls = [("call_market", "get_market", {"slug": market})]
        else:
            calls = []
        message: dict[str, Any] = {"role": "assistant", "content": None if calls else "Nothing worth buying."}
        if calls:
            message["tool_calls"] = [{"id": i, "type": "function", "function": {"name": n, "arguments": json.dumps(a)}}
                                     for i, n, a in calls]
        return {"id": f"chatcmpl-{results}", "object": "chat.completion", "model": body["model"],
                "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if calls else "stop"}],
                "usage": {"prompt_tokens": PROMPT_TOKENS, "completion_tokens": COMPLETION_TOKENS}}

    return reply


def record_run(*, agent_name: str, venue_url: str, api_key: str, llm_url: str) -> int:
    """Create an agent on the OpenAI wire and run it once for real; return the run's id."""
    from agents.core.policies import OpenAIPolicy
    from agents.services import run_agent
    from agents.venue.client import HttpVenue
    from tests.factories import AgentConfigFactory

    agent = AgentConfigFactory(name=agent_name, policy_kind="openai", model_version=MODEL, known_market_types=["test"])
    policy = OpenAIPolicy(base_url=llm_url + "/v1", model=MODEL, api_key=KEY, retries=0)
    venue = HttpVenue(venue_url, api_key)
    try:
        run = run_agent(agent_id=agent.pk, venue=venue, policy=policy)
    finally:
        venue.close()
    assert run is not None and run.status == "completed", (run and run.status, run and run.end_reason)
    return run.pk
