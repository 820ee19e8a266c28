"""Data for the chart and feed browser tests (run in `manage.py shell` after tests/panel/seed.py).

`seed_charts()`: agent "chart-agent" with a day of samples of every paging metric and stored baselines;
agent "quiet-agent" with none. `seed_feed()`: a halt, a resume, then twelve run ends (one failed).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal

from django.utils import timezone


def seed_charts() -> None:
    from monitoring.metrics import metric_record
    from monitoring.models import MetricBaseline
    from tests.factories import AgentConfigFactory, RunFactory

    now = timezone.now()
    agent = AgentConfigFactory(name="chart-agent")
    AgentConfigFactory(name="quiet-agent")
    for name, value in (("cost_per_run", "0.004"), ("latency_p95", "900"), ("decision_rate", "4")):
        MetricBaseline.objects.create(name=name, agent=agent, value=Decimal(value), samples=50, computed_at=now)
    for i in range(48):  # every 30 minutes over the last day
        ts = now - timedelta(minutes=30 * i + 5)
        run = RunFactory(agent=agent, status="completed", started_at=ts - timedelta(seconds=9), ended_at=ts,
                         cost=Decimal("0.003") + Decimal(i % 4) / 1000)
        metric_record("cost_per_run", run.cost, agent_id=agent.pk, run_id=run.pk, ts=ts)
        metric_record("tool_calls_per_run", 3 + i % 5, agent_id=agent.pk, run_id=run.pk, ts=ts)
        metric_record("latency_p95", 700 + 35 * (i % 9), agent_id=agent.pk, run_id=run.pk, ts=ts)
        metric_record("error_rate_5m", 0, agent_id=agent.pk, run_id=run.pk, ts=ts)  # all zero: 0..1, not -1..1
        metric_record("decision_rate", i % 6, agent_id=agent.pk, run_id=run.pk, ts=ts)


def seed_feed() -> None:
    from agents.models import AgentConfig
    from monitoring.halt import halt
    from monitoring.outbox import outbox_publish

    agent = AgentConfig.objects.get(name="btc-hourly")
    halt(reason="spread blew out", source="command")
    now = timezone.now()
    for i in range(12):
        outbox_publish("run_end", {"run": 9000 + i, "agent": agent.name, "status": "error" if i == 4 else "completed",
                                   "cost": "0.002", "steps": 2, "at": (now + timedelta(seconds=i)).isoformat()})
