"""Prometheus exposition: a collector that reads the database on every scrape.

A registry of our own (not prometheus_client's global one) holds only this collector, so the
output is exactly the figures in the database, the same from every web process on every host
(in-process counters would differ per process and reset on restart).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable, Iterator
from datetime import timedelta
from decimal import Decimal
from functools import lru_cache
from typing import Any, NamedTuple

from django.conf import settings
from django.core.checks import Error, register
from django.db.models import Count, FloatField, Func
from django.utils import timezone
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric, SummaryMetricFamily
from prometheus_client.registry import Collector, CollectorRegistry

from agents.models import AgentConfig, Run
from approvals.models import ApprovalRequest, ApprovalStatus
from monitoring.metrics import (
    NAMES,
    baselines_for,
    decision_rates,
    latest_by_agent,
    latest_system,
    quantile,
    tool_error_rates,
)
from monitoring.models import Alert, AlertDelivery, AlertState, HaltEvent

SYSTEM = "_system"  # the agent label of system-wide samples (agent is null)
RECENT_RUNS = timedelta(minutes=5)  # window (by start time) of the run-duration quantiles
QUANTILES = ("0.5", "0.95", "1")


class Exposed(NamedTuple):
    """How one recorded metric is named on /metrics (Prometheus conventions: base units in the name,
    `_seconds` not ms, `_usd` for money, `_ratio` for a fraction), the divisor from the stored unit (1,000
    from ms), the OpenMetrics unit, and the help text."""

    name: str
    per: float
    unit: str
    doc: str


# Recorded name -> its /metrics family. docs/monitoring.md lists the names these replaced.
EXPOSED = {
    "cost_per_run": Exposed("academy_agent_cost_per_run_usd", 1, "usd", "Inference cost of the latest run (USD)."),
    "tool_calls_per_run": Exposed("academy_agent_tool_calls_per_run", 1, "", "Tool calls in the latest run."),
    "latency_p95": Exposed("academy_agent_latency_p95_seconds", 1000, "seconds",
                           "95th percentile of the model and tool call latencies of the latest run (seconds)."),
    "error_rate_5m": Exposed("academy_agent_error_rate_5m_ratio", 1, "ratio",
                             "Tool errors / tool calls over the last 5 minutes (0 to 1)."),
    "decision_rate": Exposed("academy_agent_decisions_last_hour", 1, "",
                             "Orders and cancels the agent asked for in the last hour."),
    "kill_switch_active": Exposed("academy_agent_kill_switch_active", 1, "",
                                  "1 while halted, as the monitor last recorded it."),
    "chain_rest_drift": Exposed("academy_agent_chain_rest_drift", 1, "",
                                "|REST - chain| of USDC plus shares, as last measured (mixed units: no suffix)."),
    "nav": Exposed("academy_agent_nav_usd", 1, "usd", "Net asset value: USDC plus positions at mark (USD)."),
    "daily_pnl": Exposed("academy_agent_daily_pnl_usd", 1, "usd", "NAV now minus the day's first NAV (USD)."),
    "inference_cost_today": Exposed("academy_agent_inference_cost_today_usd", 1, "usd",
                                    "Inference spend of the runs started today, UTC (USD)."),
}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class AcademyCollector(Collector):
    """Yield every Academy metric family, read fresh from the database."""

    def collect(self) -> Iterator[Metric]:
        yield from agent_metric_families()
        yield from threshold_families()
        yield kill_switch_family()
        yield _counter("academy_halts", "Halts recorded (HaltEvent action=halt).",
                       HaltEvent.objects.filter(action=HaltEvent.Action.HALT).count())
        yield _gauge("academy_alerts_firing", "Alerts currently firing.",
                     Alert.objects.filter(state=AlertState.FIRING).count())
        yield _gauge("academy_approvals_pending", "Approval requests waiting for a human.",
                     ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).count())
        yield alert_deliveries_family()
        yield from run_families()


def _gauge(name: str, doc: str, value: float) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, value=value)


def _counter(name: str, doc: str, value: float) -> CounterMetricFamily:
    return CounterMetricFamily(name, doc, value=value)


def agent_metric_families() -> Iterator[GaugeMetricFamily]:
    """`academy_agent_<name>_<unit>{agent}`: the latest sample of each metric per agent and system-wide, in
    base units (EXPOSED)."""
    latest = latest_samples()
    for name in NAMES:
        exposed = EXPOSED[name]
        family = GaugeMetricFamily(exposed.name, f"Latest sample per agent: {exposed.doc}", labels=["agent"],
                                   unit=exposed.unit)
        for agent, value in sorted(latest.get(name, {}).items()):
            family.add_metric([agent], value / exposed.per)
        yield family


def latest_samples() -> dict[str, dict[str, float]]:
    """Map name -> agent label -> value, in five queries whatever the number of agents and samples: the
    agents' names, every agent's latest of every name (an index seek each), the system-wide ones, and the
    two rates as the monitor computes them now (`live_rates`)."""
    labels = dict(AgentConfig.objects.values_list("pk", "name"))
    result: dict[str, dict[str, float]] = {name: {} for name in NAMES}
    for (name, agent), value in latest_by_agent(NAMES).items():
        if agent in labels:  # an agent created between the two reads has no label yet: next scrape
            result[name][labels[agent]] = float(value)
    for name, value in latest_system(NAMES).items():
        result[name][SYSTEM] = float(value)
    for name, values in live_rates(labels).items():
        result[name].update(values)
    return result


def live_rates(labels: dict[int, str]) -> dict[str, dict[str, float]]:
    """The error rate over the last 5 minutes and the decisions of the last hour of every agent, read now with
    the monitor's own GROUP BYs (`fleet_rate_checks`), not the samples recorded at each run's end: a window
    moves on without runs. An agent that stopped running has a decision rate falling to 0, and a run that
    failed hours ago no longer has an error rate, as the monitor sees them; a recorded sample would page
    on neither, or for ever."""
    now = timezone.now()
    errors = tool_error_rates(since=now - timedelta(minutes=5))
    decisions = decision_rates(now=now)
    zero = (Decimal(0), 0)
    return {"error_rate_5m": {label: float(errors.get(pk, zero)[0]) for pk, label in labels.items()},
            "decision_rate": {label: float(decisions.get(pk, Decimal(0))) for pk, label in labels.items()}}


def threshold_families() -> Iterator[GaugeMetricFamily]:
    """Where the monitor pages each enabled agent now, beside the figures it judges, so an alerting rule
    compares two series of one scrape (`academy_agent_cost_per_run_usd > academy_agent_cost_per_run_page_threshold_usd`)
    and pages exactly where the monitor does (deploy/prometheus/academy.rules.yml).

    Computed by the monitor's own code (monitoring.health: the card rules, `Ratio.rule`, `DecisionBand`) on
    the baselines as stored (`baselines_for`, as the panel reads them): one query for the agents and one per
    baseline, whatever their number. A disabled agent gets none: the monitor does not judge it, so a rule
    must not page on the last figures it left."""
    from monitoring.health import _card_rules, _RateRules

    agents = sorted(AgentConfig.objects.filter(enabled=True).values_list("name", "pk"))
    for name, threshold, ratio, _ in _card_rules():
        if ratio is None:
            yield _per_agent(name, "page_threshold", "Pages above this (the monitor's threshold).",
                             {agent: threshold for agent, _ in agents})
            continue
        bases = baselines_for(name, [pk for _, pk in agents])
        yield _per_agent(name, "baseline", "The baseline the monitor judges against (as stored; the cold-start "
                         "value until there are enough samples); no series without one.",
                         {agent: bases[pk] for agent, pk in agents})
        yield _per_agent(name, "page_threshold", "Pages above this: max(x * baseline, floor); the floor alone "
                         "without a baseline.", {agent: ratio.rule(bases[pk])[0] for agent, pk in agents})
    yield from decision_band_families(agents, _RateRules.read())
    yield _per_agent("chain_rest_drift", "page_threshold", "Pages (and halts) above this drift: CHAIN_DUST.",
                     {SYSTEM: settings.CHAIN_DUST})


def decision_band_families(agents: list[tuple[str, int]], rules: Any) -> Iterator[GaugeMetricFamily]:
    """The decision-rate baseline and the band outside which the monitor pages (`DecisionBand`): no line
    without a baseline, no low line with a baseline of 0 (the floor is the high one)."""
    from monitoring.health import DecisionBand

    bases = baselines_for("decision_rate", [pk for _, pk in agents])
    bands = {agent: DecisionBand.of(bases[pk], rules) for agent, pk in agents}
    yield _per_agent("decision_rate", "baseline", "The decision-rate baseline the monitor judges against (as "
                     "stored); no series without one.", {agent: bases[pk] for agent, pk in agents})
    yield _per_agent("decision_rate", "page_high", "Pages above this: baseline * x; the floor with a baseline "
                     "of 0.", {agent: band.high for agent, band in bands.items()})
    yield _per_agent("decision_rate", "page_low", "Pages below this: baseline / x; no series with a baseline "
                     "of 0.", {agent: band.low for agent, band in bands.items()})


def _per_agent(name: str, what: str, doc: str, values: dict[str, Decimal | None]) -> GaugeMetricFamily:
    """`<the metric's family stem>_<what>_<unit>{agent}`, in the metric's base unit; None leaves the agent out."""
    exposed = EXPOSED[name]
    stem = exposed.name.removesuffix(f"_{exposed.unit}") if exposed.unit else exposed.name
    family = GaugeMetricFamily(f"{stem}_{what}", f"{name}: {doc}", labels=["agent"], unit=exposed.unit)
    for agent, value in values.items():
        if value is not None:
            family.add_metric([agent], float(value) / exposed.per)
    return family


def kill_switch_family() -> GaugeMetricFamily:
    """1 while halted; an unreadable state counts as halted, as everywhere else."""
    from monitoring.halt import kill_switch_state

    halted = kill_switch_state()["halted"]
    return _gauge("academy_kill_switch_active", "1 while trading is halted (flag file or kill-switch row).",
                  1 if halted else 0)


def alert_deliveries_family() -> GaugeMetricFamily:
    """Deliveries by sink and status: a failing sink shows as pending/failed here too."""
    family = GaugeMetricFamily("academy_alert_deliveries", "Alert deliveries by sink and status.",
                               labels=["sink", "status"])
    rows = AlertDelivery.objects.values_list("sink", "status").annotate(n=Count("id")).order_by("sink", "status")
    for sink, status, n in rows:
        family.add_metric([sink, status], n)
    return family


def run_families() -> Iterator[Metric]:
    """Runs by agent and status, and the summary of finished runs (count, sum: rate() gives the mean),
    from the tallies kept as runs end (RunTally: one row per agent and status, not every run ever), plus
    the runs running now; then the recent quantiles."""
    from agents.models import RunStatus, RunTally

    runs = CounterMetricFamily("academy_runs", "Agent runs by agent and status.", labels=["agent", "status"])
    finished: dict[str, tuple[int, float]] = {}
    tallies = RunTally.objects.values_list("agent__name", "status", "runs", "seconds").order_by("agent__name",
                                                                                                "status")
    running = dict(Run.objects.filter(status=RunStatus.RUNNING).values_list("agent__name").annotate(n=Count("id"))
                   .order_by())
    rows = sorted([*tallies, *((agent, RunStatus.RUNNING.value, n, 0.0) for agent, n in running.items())])
    for agent, status, n, seconds in rows:
        runs.add_metric([agent, status], n)
        if status != RunStatus.RUNNING:
            count, total = finished.get(agent, (0, 0.0))
            finished[agent] = (count + n, total + seconds)
    yield runs
    summary = SummaryMetricFamily("academy_run_duration_seconds", "Duration of finished runs.", labels=["agent"])
    for agent, (n, total) in finished.items():
        if n:  # an agent whose runs are all still running has no finished run to summarise
            summary.add_metric([agent], n, total)
    yield summary
    recent = GaugeMetricFamily("academy_run_duration_recent_seconds",
                               f"Duration quantiles of the runs started in the last {RECENT_RUNS.seconds // 60} "
                               "minutes that have ended (1 = the longest).", labels=["agent", "quantile"])
    for agent, durations in sorted(_recent_durations().items()):
        for q in QUANTILES:
            recent.add_metric([agent, q], quantile(durations, float(q)))
    yield recent


def _recent_durations() -> dict[str, list[float]]:
    """By the start time (index run_recent): a window of starts, so the rows read grow with the fleet's
    rate, never with the table."""
    since = timezone.now() - RECENT_RUNS
    rows = (Run.objects.filter(started_at__gte=since, ended_at__isnull=False).order_by()
            .values_list("agent__name", Seconds("ended_at", "started_at")))
    by_agent: dict[str, list[float]] = {}
    for agent, seconds in rows:
        by_agent.setdefault(agent, []).append(seconds)
    return by_agent


class Seconds(Func):
    """`end - start` in seconds (a float), in the database's own arithmetic, to the microsecond.

    Django's SQLite backend subtracts two datetimes in a Python function per row: over every run ever
    (the summary above) that was most of a scrape, 2 s at 360,000 runs. SQLite keeps datetimes as
    'YYYY-MM-DD HH:MM:SS.ffffff' text, and its date functions round to the millisecond: whole days
    (only when the dates differ) plus the difference of the seconds of the day, read from the text.
    """

    arity = 2
    output_field = FloatField()

    def as_sql(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:  # PostgreSQL
        return super().as_sql(compiler, connection, template="EXTRACT(EPOCH FROM (%(expressions)s))::float8",
                              arg_joiner=" - ", **extra)

    def as_sqlite(self, compiler: Any, connection: Any, **extra: Any) -> tuple[str, list[Any]]:
        (end, end_params), (start, start_params) = (compiler.compile(e) for e in self.get_source_expressions())
        if end_params or start_params:
            raise ValueError("Seconds() takes two columns")
        days = (f"(CASE WHEN substr({end}, 1, 10) = substr({start}, 1, 10) THEN 0 ELSE "
                f"(julianday(substr({end}, 1, 10)) - julianday(substr({start}, 1, 10))) * 86400 END)")
        return f"({days} + {_sqlite_second_of_day(end)} - {_sqlite_second_of_day(start)})", []


def _sqlite_second_of_day(column: str) -> str:
    return (f"(CAST(substr({column}, 12, 2) AS INTEGER) * 3600 + CAST(substr({column}, 15, 2) AS INTEGER) * 60"
            f" + CAST(substr({column}, 18) AS REAL))")


@lru_cache(maxsize=1)
def academy_registry() -> CollectorRegistry:
    """The registry /metrics serves; built once, read per scrape."""
    registry = CollectorRegistry(auto_describe=False)  # no describe(): registering reads nothing
    registry.register(AcademyCollector())
    return registry


# --- who may scrape ---------------------------------------------------------------------------


def parse_networks(items: Iterable[str]) -> list[Network]:
    """Parse IPs and CIDRs (host bits allowed: 10.0.0.7/8 means 10.0.0.0/8); ValueError on junk."""
    return [ipaddress.ip_network(item.strip(), strict=False) for item in items]


@register("monitoring")
def check_metrics_access(app_configs: Any = None, **kwargs: Any) -> list[Error]:
    """METRICS_ALLOWED_IPS must parse (monitoring.E020): a typo must not open or close /metrics by surprise.

    Behind a reverse proxy every request arrives from loopback, so the loopback default would open
    /metrics (NAV, P&L) to the internet: there a token or an allowlist is required (monitoring.E021).
    """
    errors = []
    if settings.SECURE_PROXY_SSL_HEADER and not (settings.METRICS_TOKEN or settings.METRICS_ALLOWED_IPS):
        errors.append(Error("BEHIND_TLS_PROXY is on and /metrics has no METRICS_TOKEN or METRICS_ALLOWED_IPS: "
                            "through the proxy every scrape looks like loopback", id="monitoring.E021"))
    for item in settings.METRICS_ALLOWED_IPS:
        try:
            ipaddress.ip_network(item.strip(), strict=False)
        except ValueError as exc:
            errors.append(Error(f"METRICS_ALLOWED_IPS has an invalid entry {item!r}: {exc}", id="monitoring.E020"))
    return errors
