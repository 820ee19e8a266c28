"""The cross-host lease: one run per agent across hosts, with a fencing token."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from agents.core.policies import PolicyStep, ScriptedPolicy
from agents.core.policies.base import PolicyContext, ToolCall
from agents.lease import lease_claim, lease_lost, lease_release
from agents.models import AgentLease, RunStatus
from agents.services import run_agent
from tests.factories import AgentConfigFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def agent(market):
    return AgentConfigFactory(known_market_types=["test"])


def test_it_skips_a_run_while_another_host_holds_the_lease(agent, make_trader):
    AgentLease.objects.create(agent=agent, holder="host-b:42:abcd", token=7,
                              expires_at=timezone.now() + timedelta(minutes=5))
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy(["done"]))
    assert run.status == RunStatus.SKIPPED and "host-b:42:abcd" in run.end_reason
    assert AgentLease.objects.get(agent=agent).token == 7  # untouched


def test_it_takes_over_an_expired_lease_with_a_new_token_and_frees_it_after(agent, make_trader):
    AgentLease.objects.create(agent=agent, holder="crashed-host:1:dead", token=7,
                              expires_at=timezone.now() - timedelta(seconds=1))
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy(["done"]))
    lease = AgentLease.objects.get(agent=agent)
    assert run.status == RunStatus.COMPLETED and lease.token == 8
    assert lease.expires_at <= timezone.now()  # released at the end


def test_it_stops_a_run_whose_lease_was_taken_over_before_its_next_order(agent, market, make_trader):
    trader = make_trader()

    def taken_over(ctx: PolicyContext) -> PolicyStep:
        # Another worker decided this run was dead and claimed the agent: a new token.
        AgentLease.objects.filter(agent=agent).update(holder="host-b:7:beef", token=99,
                                                      expires_at=timezone.now() + timedelta(minutes=5))
        order = {"market": market, "side": "BUY", "price": "0.300", "size": "1"}
        return PolicyStep(tool_calls=(ToolCall("c", "place_limit_order", order),))

    run = run_agent(agent_id=agent.pk, venue=trader, policy=ScriptedPolicy([taken_over, "done"]))
    assert run.status == RunStatus.KILL_SWITCH and "lease" in run.end_reason
    assert trader.orders() == []
    assert AgentLease.objects.get(agent=agent).holder == "host-b:7:beef"  # ours not freed over theirs


def test_it_claims_once_and_releases_only_its_own_token(agent):
    first = lease_claim(agent)
    assert first is not None and lease_claim(agent) is None and lease_lost(first) is None
    AgentLease.objects.filter(agent=agent).update(expires_at=timezone.now() - timedelta(seconds=1))
    second = lease_claim(agent)
    assert second.token == first.token + 1 and lease_lost(first)
    lease_release(first)  # a superseded holder must not free the successor's lease
    assert lease_lost(second) is None


def test_it_derives_different_client_order_ids_for_a_reused_run_id():
    """A recreated database restarts run ids; the venue still remembers the old client ids."""
    from agents.core.orders import client_order_id
    from agents.models import Run
    from agents.services import order_key

    before = Run(pk=1, started_at=timezone.now() - timedelta(days=3))
    after = Run(pk=1, started_at=timezone.now())
    assert client_order_id(order_key(before), 0, 0) != client_order_id(order_key(after), 0, 0)
