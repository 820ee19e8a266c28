"""Model constraints hold at the database, and append-only records refuse rewrites."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from academy.append_only import AppendOnlyError
from agents.models import TraceEvent
from monitoring.models import HaltEvent, KillSwitch
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
