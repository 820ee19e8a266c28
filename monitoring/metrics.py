"""Metrics: every sample goes through `metric_record()`; baselines are rolling medians, stored.

The fleet readers (`latest_by_agent`, `baselines_for`, `tool_error_rates`, `decision_rates`) read every
agent in a constant number of queries: the monitor, the panel and /metrics never query per agent.

Names (reference card section 02, plus the figures the kill-switch shapes need):
cost_per_run, tool_calls_per_run, latency_p95, error_rate_5m, decision_rate, kill_switch_active,
chain_rest_drift, nav, daily_pnl, inference_cost_today.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, OuterRef, QuerySet, Subquery, Sum
from django.utils import timezone

from monitoring.models import MetricBaseline, MetricSample

NAMES = (
    "cost_per_run", "tool_calls_per_run", "latency_p95", "error_rate_5m", "decision_rate", "kill_switch_active",
    "chain_rest_drift", "nav", "daily_pnl", "inference_cost_today",
)
DECISION_TOOLS = ("place_limit_order", "cancel_order", "cancel_all")
QUANTUM = Decimal("0.00000001")  # MetricSample.value and MetricBaseline.value have 8 decimal places


def metric_record(name: str, value: Decimal | int | float, *, agent_id: int | None = None, run_id: int | None = None,
                  ts: datetime | None = None) -> MetricSample:
    """Record one sample (the one way metrics are written)."""
    if name not in NAMES:
        raise ValueError(f"unknown metric {name!r}")
    quantized = Decimal(str(value)).quantize(QUANTUM)
    return MetricSample.objects.create(name=name, value=quantized, agent_id=agent_id, run_id=run_id,
                                       ts=ts or timezone.now())


def latest(name: str, agent_id: int | None = None) -> MetricSample | None:
    return MetricSample.objects.filter(name=name, agent_id=agent_id).order_by("-ts", "-id").first()


def latest_by_agent(names: Sequence[str], agents: QuerySet | None = None) -> dict[tuple[str, int], Decimal]:
    """Map (name, agent id) -> the agent's latest sample of each metric, for every agent in `agents` (all by
    default), in ONE query: per agent row, one index seek per name (metric_name_agent_latest), never a
    scan of the samples. Agents without a sample of a name are left out."""
    from agents.models import AgentConfig

    agents = AgentConfig.objects.all() if agents is None else agents
    newest = MetricSample.objects.filter(agent=OuterRef("pk")).order_by("-ts", "-id").values("value")
    columns = {f"latest_{i}": Subquery(newest.filter(name=name)[:1]) for i, name in enumerate(names)}
    out: dict[tuple[str, int], Decimal] = {}
    for pk, *values in agents.order_by().annotate(**columns).values_list("pk", *columns):
        out.update({(name, pk): value for name, value in zip(names, values, strict=True) if value is not None})
    return out


def latest_system(names: Sequence[str]) -> dict[str, Decimal]:
    """Map name -> the latest system-wide sample (agent null) of each metric that has one, in ONE query."""
    newest = MetricSample.objects.filter(agent__isnull=True).order_by("-ts", "-id").values("id")
    rows = MetricSample.objects.filter(pk__in=[Subquery(newest.filter(name=name)[:1]) for name in names])
    return dict(rows.values_list("name", "value"))


def baseline(name: str, agent_id: int | None, *, now: datetime, exclude_run: int | None = None) -> Decimal | None:
    """The agent's baseline: the stored one while it is fresh (`_fresh`), else the rolling median computed
    now (without `exclude_run`'s samples) and stored. Below the minimum sample count, the cold-start value
    (or None)."""
    stored = MetricBaseline.objects.filter(name=name, agent_id=agent_id).first()
    if stored is not None and _fresh(stored, now):
        return stored.value
    value, samples = _median(name, agent_id, now=now, exclude_run=exclude_run)
    _store(stored, name=name, agent_id=agent_id, value=value, samples=samples, now=now)
    return value if samples >= settings.BASELINE_MIN_SAMPLES else cold_start(name)


def baselines_for(name: str, agent_ids: Iterable[int]) -> dict[int, Decimal | None]:
    """Every listed agent's baseline of `name` in one query: as `baseline()` last stored it (a run refreshes
    its agent's at most BASELINE_REFRESH_S apart), the cold-start value where none is stored or it was
    computed on too few samples. Nothing is computed here."""
    rows = MetricBaseline.objects.filter(name=name, agent__isnull=False).values_list("agent_id", "value", "samples")
    stored = {agent: value for agent, value, samples in rows if samples >= settings.BASELINE_MIN_SAMPLES}
    return {agent: stored.get(agent, cold_start(name)) for agent in agent_ids}


def cold_start(name: str) -> Decimal | None:
    """The stand-in baseline until an agent has BASELINE_MIN_SAMPLES samples (None: the metric has none)."""
    return settings.COLD_START_BASELINE.get(name)


def _fresh(stored: MetricBaseline, now: datetime) -> bool:
    """Computed on enough samples (a cold agent is recomputed each time: its few samples are cheap, and its
    sixth counts at once), at most BASELINE_REFRESH_S before `now`."""
    age = now - stored.computed_at
    return (stored.samples >= settings.BASELINE_MIN_SAMPLES
            and timedelta(0) <= age < timedelta(seconds=settings.BASELINE_REFRESH_S))


def _median(name: str, agent_id: int | None, *, now: datetime, exclude_run: int | None) -> tuple[Decimal | None, int]:
    """The median of the newest 10,000 samples in the window, and how many there were."""
    since = now - timedelta(days=settings.BASELINE_WINDOW_DAYS)
    rows = MetricSample.objects.filter(name=name, agent_id=agent_id, ts__gte=since)
    if exclude_run is not None:
        rows = rows.exclude(run_id=exclude_run)
    values = list(rows.order_by("-ts").values_list("value", flat=True)[:10_000])
    if not values:
        return None, 0
    return Decimal(statistics.median(values)).quantize(QUANTUM), len(values)


def _store(stored: MetricBaseline | None, *, name: str, agent_id: int | None, value: Decimal | None, samples: int,
           now: datetime) -> None:
    """Upsert the baseline row; a row another process created meanwhile is updated instead."""
    fields = {"value": value, "samples": samples, "computed_at": now}
    if stored is not None:
        MetricBaseline.objects.filter(pk=stored.pk).update(**fields)
        return
    try:
        with transaction.atomic():
            MetricBaseline.objects.create(name=name, agent_id=agent_id, **fields)
    except IntegrityError:  # stored by another run of the same agent a moment ago: ours is as new
        MetricBaseline.objects.filter(name=name, agent_id=agent_id).update(**fields)


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
    return _error_rate(totals["calls"] or 0, totals["errors"] or 0)


def tool_error_rates(*, since: datetime) -> dict[int, tuple[Decimal, int]]:
    """`tool_error_rate` of every agent with a run that ended since `since`, in one GROUP BY."""
    from agents.models import Run

    rows = (Run.objects.filter(ended_at__gte=since).order_by().values_list("agent_id")
            .annotate(calls=Sum("tool_calls"), errors=Sum("tool_errors")))
    return {agent: _error_rate(calls or 0, errors or 0) for agent, calls, errors in rows}


def _error_rate(calls: int, errors: int) -> tuple[Decimal, int]:
    return (Decimal(errors) / Decimal(calls) if calls else Decimal(0)), calls


def decision_rate(agent_id: int, *, now: datetime) -> Decimal:
    """Orders and cancels the agent asked for in the last hour (per hour)."""
    return Decimal(_decisions(now).filter(agent_id=agent_id).count())


def decision_rates(*, now: datetime) -> dict[int, Decimal]:
    """`decision_rate` of every agent that decided anything in the last hour, in one GROUP BY (0 elsewhere)."""
    rows = _decisions(now).order_by().values_list("agent_id").annotate(n=Count("id"))
    return {agent: Decimal(n) for agent, n in rows}


def _decisions(now: datetime) -> QuerySet:
    from agents.models import TraceEvent

    return TraceEvent.objects.filter(kind="tool_call", tool__in=DECISION_TOOLS, ts__gte=now - timedelta(hours=1))


def inference_cost_today(now: datetime) -> Decimal:
    """Inference spend of the runs started today (UTC): one row, kept as runs end (agents.DailyCost)."""
    from agents.models import DailyCost

    row = DailyCost.objects.filter(day=now.astimezone(UTC).date()).values_list("usd", flat=True).first()
    return row if row is not None else Decimal(0)
