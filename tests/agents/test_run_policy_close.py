"""A run closes the model client it built (policy_for): its keep-alive socket to the provider and the SDK
client's reference cycle do not outlive the run until the garbage collector's next pass."""

from __future__ import annotations

import pytest

from agents import services
from agents.models import RunStatus
from agents.services import run_agent
from tests.agents import run_viewer_recording as recording
from tests.core.fake_llm import serve
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db

KEY = "sk-test-CLOSEFAKE0123456789abcdef"


def test_a_run_closes_the_model_client_it_built(make_trader, market, settings, monkeypatch) -> None:
    built = []

    def policy_for(spec):
        policy = real(spec)
        built.append(policy)
        return policy

    real = services.policy_for
    monkeypatch.setattr(services, "policy_for", policy_for)
    agent = AgentConfigFactory(policy_kind="openai", model_version=recording.MODEL, known_market_types=["test"])
    with serve(recording.responder(market)) as llm:
        settings.OPENAI_API_KEY, settings.OPENAI_BASE_URL = KEY, llm.url + "/v1"
        run = run_agent(agent_id=agent.pk, venue=make_trader())
        assert llm.requests  # the run really spoke to the model through the client it built
    assert run.status == RunStatus.COMPLETED, run.end_reason
    assert len(built) == 1 and built[0]._http.is_closed
