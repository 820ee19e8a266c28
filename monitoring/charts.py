"""Chart data for the agent page and the panel: bounded, downsampled, in display units, with the
thresholds the monitor pages on. The browser only draws it (static/js/charts.js, uPlot).

1. Units: `METRICS` says each metric's unit and how a stored value becomes a shown one (an error
   rate of 0.02 is shown as 2 %). The panel's metric cards use the same table (`with_units`).
2. Bounds: the last `hours` (at most MAX_HOURS), at most MAX_READ samples read per metric (newest
   first, an index seek: metric_name_agent_latest) and at most MAX_POINTS drawn: each time bucket
   keeps its lowest and its highest sample, so the spike that paged is never averaged away.
3. Thresholds: the ones monitoring/health.py pages on now, from its own rules and the baselines it
   stored (`baselines_for`, as the panel reads them): nothing here re-derives a rule.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db.models import Count
from django.db.models.functions import TruncMinute

from monitoring.models import HaltEvent, MetricSample

DEFAULT_HOURS = 24
MAX_HOURS = 7 * 24
MAX_POINTS = 1000  # drawn per metric: two per bucket (its low and its high)
MAX_READ = 20_000  # samples read per metric: an agent sampled every 5 s fills 24 h with 17,280
ACTIVITY_HOURS = 6
ACTIVITY_BUCKET_S = 300
MAX_RUN = timedelta(hours=1)  # the panel counts runs that ended in its window and started at most this before it
FAILED = ("error",)  # run statuses counted as failed on the panel (a budget stop is a stop, not a failure)


@dataclass(frozen=True)
class Metric:
    name: str
    title: str
    unit: str
    scale: Decimal = Decimal(1)  # shown value = stored value x scale
    system: bool = False  # recorded for the whole desk (agent null), drawn only where present
    from_zero: bool = True  # the value axis starts at 0 (a NAV axis fits its data instead)

    def show(self, value: Decimal | None) -> float | None:
        return None if value is None else float(value * self.scale)


METRICS = (
    Metric("cost_per_run", "Cost per run", "USD"),
    Metric("tool_calls_per_run", "Tool calls per run", "calls"),
    Metric("latency_p95", "Latency p95", "ms"),
    Metric("error_rate_5m", "Tool error rate, 5 min", "%", Decimal(100)),
    Metric("decision_rate", "Decisions (orders and cancels)", "per hour"),
    Metric("kill_switch_active", "Kill switch (whole desk)", "halted", system=True),
    Metric("nav", "NAV (whole desk)", "USDC", system=True, from_zero=False),
)
BY_NAME = {m.name: m for m in METRICS} | {
    "chain_rest_drift": Metric("chain_rest_drift", "Chain vs REST drift", "USDC + shares", system=True),
    "daily_pnl": Metric("daily_pnl", "P&L today", "USDC", system=True),
    "inference_cost_today": Metric("inference_cost_today", "Inference spend today", "USD", system=True),
}


class BadRequest(ValueError):
    """A query parameter out of bounds: the view answers 400 with this text."""


def parse_hours(raw: str | None) -> int:
    """?hours=N: a whole number of hours, 1 to MAX_HOURS (DEFAULT_HOURS when absent)."""
    if raw is None or raw == "":
        return DEFAULT_HOURS
    if not (raw.isascii() and raw.isdigit()) or not 1 <= int(raw) <= MAX_HOURS:
        raise BadRequest(f"hours must be a whole number from 1 to {MAX_HOURS}, not {raw[:20]!r}")
    return int(raw)


# --- the agent page ------------------------------------------------------------------------------


def agent_chart_data(agent: Any, *, hours: int, now: datetime) -> dict[str, Any]:
    """Every chart of one agent's page: its metrics, then the desk's kill switch and NAV where sampled."""
    since = now - timedelta(hours=hours)
    thresholds = _thresholds_or_error(agent, now)
    charts = []
    for metric in METRICS:
        chart = _chart(metric, None if metric.system else agent.pk, since, now)
        if metric.system and not chart["x"]:
            continue  # "where present": a desk without a monitor running has no such samples
        chart["threshold"] = thresholds.get(metric.name) or _NO_THRESHOLD
        charts.append(chart)
    return {"agent": agent.name, "hours": hours, "from": _epoch(since), "to": _epoch(now),
            "max_points": MAX_POINTS, "charts": charts}


_NO_THRESHOLD: dict[str, Any] = {"lines": [], "rule": "", "note": "no paging threshold"}


def _chart(metric: Metric, agent_id: int | None, since: datetime, now: datetime) -> dict[str, Any]:
    rows = list(MetricSample.objects.filter(name=metric.name, agent_id=agent_id, ts__gte=since, ts__lte=now)
                .order_by("-ts", "-id").values_list("ts", "value")[:MAX_READ])
    rows.reverse()
    start = rows[0][0] if len(rows) == MAX_READ else since  # cut by MAX_READ: the chart starts later, and says so
    points = downsample([(_epoch(ts), metric.show(v)) for ts, v in rows], start=_epoch(start), end=_epoch(now),
                        max_points=MAX_POINTS)
    return {"name": metric.name, "title": metric.title, "unit": metric.unit, "system": metric.system,
            "from_zero": metric.from_zero,
            "samples": len(rows), "truncated": len(rows) == MAX_READ, "downsampled": len(points) < len(rows),
            "x": [t for t, _ in points], "y": [v for _, v in points]}


def downsample(points: Sequence[tuple[float, float]], *, start: float, end: float,
               max_points: int) -> list[tuple[float, float]]:
    """At most `max_points` of `points` (time order): per time bucket its lowest and its highest, in time
    order. Averages would hide the one run that paged."""
    if len(points) <= max_points:
        return list(points)
    buckets = max(1, max_points // 2)
    width = max((end - start) / buckets, 1e-9)
    kept: dict[int, tuple[int, int]] = {}  # bucket -> (index of its low, index of its high)
    for i, (t, v) in enumerate(points):
        b = min(buckets - 1, max(0, int((t - start) // width)))
        lo, hi = kept.get(b, (i, i))
        kept[b] = (i if v < points[lo][1] else lo, i if v > points[hi][1] else hi)
    return [points[i] for i in sorted({i for pair in kept.values() for i in pair})]


def _epoch(ts: datetime) -> float:
    return round(ts.timestamp(), 3)


# --- thresholds: monitoring/health.py's rules, its stored baselines ------------------------------


def _thresholds_or_error(agent: Any, now: datetime) -> dict[str, dict[str, Any]]:
    """The thresholds, or every chart saying they could not be read (the data is still worth drawing)."""
    try:
        return agent_thresholds(agent, now)
    except Exception as exc:  # a broken baseline read must not take the charts down with it
        note = f"threshold unavailable ({type(exc).__name__})"
        return {m.name: {"lines": [], "rule": "", "note": note} for m in METRICS}


def agent_thresholds(agent: Any, now: datetime) -> dict[str, dict[str, Any]]:
    """Map metric -> {lines: [{value, label}], rule, note}: where the monitor pages this agent now.

    The card rules and baselines the panel uses (health.panel_metrics), the decision-rate band of
    health._rate_checks, the daily-loss line of health.daily_loss."""
    from monitoring.health import _card_rules, _RateRules
    from monitoring.metrics import baselines_for

    out: dict[str, dict[str, Any]] = {}
    for name, threshold, ratio, rule in _card_rules():
        if ratio is not None:  # "x baseline, with a floor": the rule text names what set it
            threshold, rule = ratio.rule(baselines_for(name, [agent.pk])[agent.pk])
        elif threshold is not None:  # "> 0.01" in the unit shown: "> 1 %"
            rule = f"> {_plain(threshold * BY_NAME[name].scale)} {BY_NAME[name].unit}"
        out[name] = _lines(name, [(threshold, "pages above")], rule, "" if threshold is not None else "none")
    out["decision_rate"] = _decision_band(baselines_for("decision_rate", [agent.pk])[agent.pk], _RateRules.read())
    out["kill_switch_active"] = {"lines": [], "rule": "any", "note": "pages whenever halted"}
    out["nav"] = _daily_loss_line(now)
    return out


def _decision_band(base: Decimal | None, rules: Any) -> dict[str, Any]:
    """The monitor's band (health.DecisionBand) as chart lines."""
    from monitoring.health import DecisionBand

    x = rules.decision_x
    rule = f"outside baseline / {x} .. x {x}"
    band = DecisionBand.of(base, rules)
    if base is None:
        return _lines("decision_rate", [], rule, "no baseline yet")
    if base == 0:  # a quiet agent pages once it passes the floor
        return _lines("decision_rate", [(band.high, "pages above")], f"> {rules.decision_floor} (baseline 0)", "")
    return _lines("decision_rate", [(band.high, "pages above"), (band.low, "pages below")], rule, "")


def _daily_loss_line(now: datetime) -> dict[str, Any]:
    """The NAV below which the daily-loss guard halts: today's opening NAV less HALT_DAILY_LOSS."""
    midnight = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    opening = (MetricSample.objects.filter(name="nav", agent=None, ts__gte=midnight).order_by("ts", "id")
               .values_list("value", flat=True).first())
    rule = f"< {settings.HALT_DAILY_LOSS * 100:g} % under today's opening NAV"
    if opening is None:
        return _lines("nav", [], rule, "no NAV sample today yet")
    return _lines("nav", [(opening * (1 - settings.HALT_DAILY_LOSS), "halts below")], rule, "")


def _lines(name: str, lines: list[tuple[Decimal | None, str]], rule: str, note: str) -> dict[str, Any]:
    metric = BY_NAME[name]
    return {"lines": [{"value": metric.show(v), "label": label} for v, label in lines if v is not None],
            "rule": rule, "note": note}


# --- the panel -----------------------------------------------------------------------------------


def with_units(metrics: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The panel's metric cards with each value and threshold in its display unit ("2 %", "812 ms")."""
    return [_card(m) for m in metrics]


def _card(m: dict[str, Any]) -> dict[str, Any]:
    name, label = m["name"], m.get("label") or ""
    card = dict(m, unit=_unit(name), shown=_shown(name, m.get("value")),
                threshold_shown=_shown(name, m.get("threshold")), label_shown=label)
    if name == "kill_switch_active":
        card.update(threshold_shown="", label_shown="pages whenever halted")
    elif label == f"> {m.get('threshold')}":  # an absolute rule, e.g. "> 0.01": "> 1 %"
        card["label_shown"] = f"> {card['threshold_shown']}"
    return card


def _unit(name: str) -> str:
    metric = BY_NAME.get(name)
    return "" if metric is None or name == "kill_switch_active" else metric.unit


def _shown(name: str, raw: str | None) -> str:
    """A card's figure with its unit; "" for none. The kill switch reads "halted" / "trading"."""
    if raw in (None, ""):
        return ""
    metric = BY_NAME.get(name)
    try:
        value = Decimal(raw)
    except (ArithmeticError, ValueError, TypeError):
        return str(raw)  # a message (e.g. "metrics unavailable"), not a number: shown as is
    if name == "kill_switch_active":
        return "halted" if value else "trading"
    if metric is None:
        return str(raw)
    return f"{_plain(value * metric.scale)} {metric.unit}"


def _plain(value: Decimal) -> str:
    """0.0042, 12.5, 1200: at most 4 decimals under 1000, none above, never an exponent."""
    q = value.quantize(Decimal("0.0001")) if abs(value) < 1000 else value.quantize(Decimal(1))
    text = format(q, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def panel_activity(now: datetime, *, hours: int = ACTIVITY_HOURS, bucket_s: int = ACTIVITY_BUCKET_S) -> dict[str, Any]:
    """Runs ended (and of them failed) per bucket over the last `hours`, and the halts: the panel's chart.

    One GROUP BY over the runs started in the window or up to MAX_RUN before it (index run_recent; a
    longer run is left out) and the halts by time (halt_recent). panel.js keeps it live
    from the run_end and halt events it already receives."""
    from agents.models import Run

    since = now - timedelta(hours=hours)
    first = math.floor(since.timestamp() / bucket_s) * bucket_s
    count = math.ceil((now.timestamp() - first) / bucket_s)
    runs, failed = [0] * count, [0] * count
    rows = (Run.objects.filter(started_at__gte=since - MAX_RUN, ended_at__gte=since, ended_at__lte=now)
            .exclude(status="running").order_by().annotate(minute=TruncMinute("ended_at"))
            .values("minute", "status").annotate(n=Count("id")).values_list("minute", "status", "n"))
    for minute, status, n in rows:
        i = min(count - 1, max(0, int((minute.timestamp() - first) // bucket_s)))
        runs[i] += n
        failed[i] += n if status in FAILED else 0
    halts = HaltEvent.objects.filter(ts__gte=since, action=HaltEvent.Action.HALT).order_by("ts")[:200]
    return {"bucket_s": bucket_s, "from": first, "to": _epoch(now), "failed_statuses": list(FAILED),
            "x": [first + i * bucket_s for i in range(count)], "runs": runs, "failed": failed,
            "halts": [{"ts": _epoch(h.ts), "source": h.get_source_display(), "reason": h.reason[:200]}
                      for h in halts]}

