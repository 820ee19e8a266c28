"""factory-boy factories for the models every app's tests need."""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

import factory
from django.utils import timezone

from agents.models import AgentConfig, Order, Run, TraceEvent
from approvals.models import ApprovalRequest
from monitoring.models import HaltEvent, MetricSample


class AgentConfigFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AgentConfig

    name = factory.Sequence(lambda n: f"agent-{n}")
    known_market_types = ["crypto-hourly"]


class RunFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Run
        skip_postgeneration_save = True  # the tally hook writes its own row, not the run again

    agent = factory.SubFactory(AgentConfigFactory)
    started_at = factory.LazyFunction(timezone.now)

    @factory.post_generation
    def tally(run, create, extracted, **kwargs):  # noqa: N805 (factory_boy passes the object)
        """A run made ended is counted as a run's end counts it (RunTally for /metrics, DailyCost for the
        cost cap); a run made with a cost has it counted in its day's spend."""
        from agents.services import cost_tally, run_tally

        if create and run.ended_at is not None:
            run_tally(run)
        elif create and run.cost:
            cost_tally(run.started_at, run.cost)


class TraceEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TraceEvent

    run = factory.SubFactory(RunFactory)
    agent = factory.SelfAttribute("run.agent")
    seq = factory.Sequence(lambda n: n)
    ts = factory.LazyFunction(timezone.now)
    kind = "tool_call"
    tool = "browse_markets"
    data = factory.LazyFunction(lambda: {"args": {}})


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    agent = factory.SubFactory(AgentConfigFactory)
    client_order_id = factory.Sequence(lambda n: f"ac-test-{n}")
    market = "btc-above-100k-hourly"
    side = "BUY"
    price = Decimal("0.550")
    size = Decimal("5.000")
    notional = Decimal("2.750000")


class ApprovalRequestFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ApprovalRequest

    run = factory.SubFactory(RunFactory)
    agent = factory.SelfAttribute("run.agent")
    step = 1
    client_order_id = factory.Sequence(lambda n: f"ac-appr-{n}")
    market = "btc-above-100k-hourly"
    market_type = "crypto-hourly"
    side = "BUY"
    price = Decimal("0.550")
    size = Decimal("50.000")
    notional = Decimal("27.500000")
    reasons = ["oversize"]
    requested_at = factory.LazyFunction(timezone.now)
    expires_at = factory.LazyAttribute(lambda o: o.requested_at + timedelta(minutes=15))


class MetricSampleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = MetricSample

    name = "cost_per_run"
    value = Decimal("0.01")
    ts = factory.LazyFunction(timezone.now)


class HaltEventFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = HaltEvent

    ts = factory.LazyFunction(timezone.now)
    action = HaltEvent.Action.HALT
    source = "command"
    reason = "test"
