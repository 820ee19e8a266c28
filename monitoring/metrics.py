"""Metrics: every sample goes through `metric_record()`; baselines are rolling medians.

Names (reference card section 02, plus the figures the kill-switch shapes need):
cost_per_run, tool_calls_per_run, latency_p95, error_rate_5m, decision_rate, kill_switch_active,
chain_rest_drift, nav, daily_pnl, inference_cost_today.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Sum
from django.utils import timezone

from monitoring.models import MetricSample

NAMES = (
    "cost_per_run", "tool_calls_per_run", "latency_p95", "error_rate_5m", "decision_rate", "kill_switch_active",
    "chain_rest_drift", "nav", "daily_pnl", "inference_cost_today",
)
DECISION_TOOLS = ("place_limit_order", "cancel_order", "cancel_all")


def metric_record(name: str, value: Decimal | int | float, *, agent_id: int | None = None, run_id: int | None = None,
                  ts: datetime | None = None) -> MetricSample:
    """Record one sample (the one way metrics are written)."""
    if name not in NAMES:
        raise ValueError(f"unknown metric {name!r}")
    quantized = Decimal(str(value)).quantize(Decimal("0.00000001"))
    return MetricSample.objects.create(name=name, value=quantized, agent_id=agent_id, run_id=run_id,
                                       ts=ts or timezone.now())


def latest(name: str, agent_id: int | None = None) -> MetricSample | None:
    return MetricSample.objects.filter(name=name, agent_id=agent_id).order_by("-ts", "-id").first()


def baseline(name: str, agent_id: int | None, *, now: datetime, exclude_run: int | None = None) -> Decimal | None:
    """Rolling median over the window; below the minimum sample count, the cold-start value (or None)."""
    since = now - timedelta(days=settings.BASELINE_WINDOW_DAYS)
    rows = MetricSample.objects.filter(name=name, agent_id=agent_id, ts__gte=since)
    if exclude_run is not None:
        rows = rows.exclude(run_id=exclude_run)
    values = list(rows.order_by("-ts").values_list("value", flat=True)[:10_000])
    if len(values) < settings.BASELINE_MIN_SAMPLES:
        return settings.COLD_START_BASELINE.get(name)
    return Decimal(statistics.median(values))


def quantile(values: Iterable[float], q: float) -> float:
    """Nearest-rank quantile (a value that occurred, no interpolation); NaN for no values."""
    ordered = sorted(values)
    if not ordered:
        return math.nan
    return ordered[max(0, math.ceil(q * len(ordered)) - 1)]


def p95(values: list[float]) -> float:
    """Nearest-rank 95th percentile; 0 for no values."""
    return quantile(values, 0.95) if values else 0.0


def record_run_metrics(run: Any, latencies_ms: list[float]) -> dict[str, Decimal]:
    """The per-run metrics, recorded when a run ends (model and tool latencies pooled for p95)."""
    figures = {
        "cost_per_run": run.cost,
        "tool_calls_per_run": Decimal(run.tool_calls),
        "latency_p95": Decimal(str(round(p95(latencies_ms), 3))),
    }
    for name, value in figures.items():
        metric_record(name, value, agent_id=run.agent_id, run_id=run.pk, ts=run.ended_at)
    return figures


def tool_error_rate(*, since: datetime, agent_id: int | None = None) -> tuple[Decimal, int]:
    """Tool errors / tool calls over runs that ended since `since` (all agents when agent_id is None)."""
    from agents.models import Run

    runs = Run.objects.filter(ended_at__gte=since)
    if agent_id is not None:
        runs = runs.filter(agent_id=agent_id)
    totals = runs.aggregate(calls=Sum("tool_calls"), errors=Sum("tool_errors"))
    calls, errors = totals["calls"] or 0, totals["errors"] or 0
    return (Decimal(errors) / Decimal(calls) if calls else Decimal(0)), calls


def decision_rate(agent_id: int, *, now: datetime) -> Decimal:
    """Orders and cancels the agent asked for in the last hour (per hour)."""
    from agents.models import TraceEvent

    return Decimal(TraceEvent.objects.filter(agent_id=agent_id, kind="tool_call", tool__in=DECISION_TOOLS,
                                             ts__gte=now - timedelta(hours=1)).count())


def inference_cost_today(now: datetime) -> Decimal:
    from agents.models import Run

    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return Run.objects.filter(started_at__gte=midnight).aggregate(total=Sum("cost"))["total"] or Decimal(0)
