"""Model constraints hold at the database, and append-only records refuse rewrites."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from academy.append_only import AppendOnlyError
from agents.models import TraceEvent
from monitoring.models import HaltEvent, KillSwitch, kill_switch_writer
from tests.factories import (
    AgentConfigFactory,
    ApprovalRequestFactory,
    HaltEventFactory,
    OrderFactory,
    RunFactory,
    TraceEventFactory,
)

pytestmark = pytest.mark.django_db


def _refused(factory, **kwargs) -> bool:
    try:
        with transaction.atomic():
            factory(**kwargs)
    except IntegrityError:
        return True
    return False


def test_it_refuses_a_second_order_with_the_same_client_order_id():
    OrderFactory(client_order_id="ac-1")
    assert _refused(OrderFactory, client_order_id="ac-1")


def test_it_refuses_prices_outside_zero_and_one():
    assert _refused(OrderFactory, price=Decimal("1.000"))
    assert _refused(OrderFactory, price=Decimal("0.000"))
    assert not _refused(OrderFactory, price=Decimal("0.999"))


def test_it_refuses_an_unbounded_or_zero_step_loop():
    assert _refused(AgentConfigFactory, max_steps=0)
    assert _refused(AgentConfigFactory, max_steps=1000)


def test_it_refuses_non_positive_hard_limits():
    assert _refused(AgentConfigFactory, max_order_notional=Decimal("0"))


def test_it_refuses_approval_thresholds_out_of_order():
    assert _refused(AgentConfigFactory, approval_notional=Decimal("50"), second_approval_notional=Decimal("20"))


def test_it_refuses_a_reused_trace_sequence_number():
    event = TraceEventFactory(seq=1)
    assert _refused(TraceEventFactory, run=event.run, seq=1)


def test_it_refuses_a_second_kill_switch_row():
    assert KillSwitch.objects.filter(pk=1, active=False).exists()  # created by the migration
    with pytest.raises(IntegrityError), transaction.atomic():
        with kill_switch_writer():
            KillSwitch.objects.create(pk=2)


def test_it_refuses_to_update_or_delete_trace_events():
    event = TraceEventFactory()
    with pytest.raises(AppendOnlyError):
        TraceEvent.objects.filter(pk=event.pk).update(kind="decision")
    with pytest.raises(AppendOnlyError):
        TraceEvent.objects.filter(pk=event.pk).delete()
    assert TraceEvent.objects.get(pk=event.pk).kind == "tool_call"


def test_it_refuses_to_rewrite_halt_events():
    HaltEventFactory()
    with pytest.raises(AppendOnlyError):
        HaltEvent.objects.all().update(reason="nothing happened")


def test_it_refuses_an_approval_that_expires_before_it_was_requested():
    run = RunFactory()
    request = ApprovalRequestFactory.build(run=run, agent=run.agent)
    request.expires_at = request.requested_at
    with pytest.raises(IntegrityError), transaction.atomic():
        request.save()


@pytest.mark.parametrize("alias", ["gpt-4o", "gpt-4o-latest", "claude-3-5-sonnet-latest", ""])
def test_it_refuses_an_aliased_model_version(alias):
    from django.core.exceptions import ValidationError

    agent = AgentConfigFactory.build(model_version=alias)
    with pytest.raises(ValidationError, match="model_version"):
        agent.full_clean()


def test_it_accepts_a_frozen_model_version_and_refuses_unknown_tools():
    from django.core.exceptions import ValidationError

    AgentConfigFactory.build(model_version="gpt-4o-2024-08-06").full_clean()
    with pytest.raises(ValidationError, match="unknown tools"):
        AgentConfigFactory.build(allowed_tools=["browse_markets", "withdraw_funds"]).full_clean()


def test_it_refuses_an_aliased_model_in_the_admin(client, operator):
    from django.urls import reverse

    client.force_login(operator)
    data = {"name": "x", "policy_kind": "openai", "model_version": "gpt-4o-latest", "temperature": "0",
            "allowed_tools": '["browse_markets"]', "known_market_types": "[]", "max_order_notional": "10",
            "max_daily_notional": "100", "max_open_positions": "5", "max_market_exposure": "50",
            "approval_notional": "5", "second_approval_notional": "10", "max_tokens": "1000",
            "max_tool_calls": "10", "max_seconds": "60", "max_steps": "10", "tool_timeout_s": "30",
            "interval_s": "60", "enabled": "on"}
    page = client.post(reverse("admin:agents_agentconfig_add"), data).content.decode()
    assert "alias" in page
    assert not AgentConfigFactory._meta.model.objects.filter(name="x").exists()


def test_it_refuses_to_save_a_changed_trace_event_or_delete_one():
    event = TraceEventFactory()
    event.kind = "decision"
    with pytest.raises(AppendOnlyError), transaction.atomic():
        event.save()
    with pytest.raises(AppendOnlyError), transaction.atomic():
        event.delete()
    assert TraceEvent.objects.get(pk=event.pk).kind == "tool_call"
