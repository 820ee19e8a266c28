"""The health monitor: paging thresholds and the kill-switch shapes.

Paging (reference card section 02; all thresholds in settings): cost_per_run > 2x baseline (floor
0.05 USD), tool_calls_per_run > 30, latency_p95 > 2x baseline (floor 1,000 ms), error_rate_5m > 1%,
kill_switch_active, chain_rest_drift > dust, and decision_rate far from its baseline (the pitfall
"an agent can lose money slowly": watch what it does, not only P&L).

Kill-switch shapes (section 05), each ending in monitoring.halt.halt(): daily loss, cost cap,
tool error rate, chain drift (the flag-file shape is the watcher in `Monitor.flag_tick`).
A guard that cannot be computed for GUARD_GRACE_S seconds trips: fail closed.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, NamedTuple

from django.conf import settings
from django.utils import timezone

from monitoring.alerts import Fire, alert_fire, alert_resolve, alerts_apply
from monitoring.halt import (
    flag_path,
    flag_present,
    halt,
    halt_requests_land,
    halt_waiting,
    kill_switch_state,
    sweep_resting,
)
from monitoring.metrics import (
    baseline,
    baselines_for,
    decision_rate,
    decision_rates,
    inference_cost_today,
    latest,
    latest_by_agent,
    metric_record,
    record_run_metrics,
    tool_error_rate,
    tool_error_rates,
)
from monitoring.models import HaltEvent, HaltSource, MetricSample

log = logging.getLogger("academy.monitor")
ZERO = Decimal(0)


# --- paging ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Check:
    """One threshold evaluated on one value (the panel shows these too)."""

    name: str
    agent: str | None
    value: Decimal | None
    threshold: Decimal | None
    breached: bool
    rule: str
    unit: str = ""

    def for_panel(self) -> dict[str, Any]:
        return {"name": self.name, "label": self.rule, "agent": self.agent,
                "value": None if self.value is None else format(self.value.normalize(), "f"),
                "threshold": "" if self.threshold is None else format(self.threshold.normalize(), "f"),
                "breached": self.breached}


def _above(name: str, agent: Any, value: Decimal | None, threshold: Decimal | None, rule: str) -> Check:
    return _above_named(name, getattr(agent, "name", None), value, threshold, rule)


def _above_named(name: str, agent: str | None, value: Decimal | None, threshold: Decimal | None, rule: str) -> Check:
    breached = value is not None and threshold is not None and value > threshold
    return Check(name, agent, value, threshold, breached, rule)


def _num(value: Decimal) -> str:
    """A figure as people write it: 0.05, 1000, 0 (never 0E-8 or 25.00000000)."""
    return format(value.normalize(), "f")


class Ratio(NamedTuple):
    """An "x baseline" threshold with its absolute floor: max(x * baseline, floor). Without the floor a
    baseline near 0 pages on noise (2x a 25 ms p95 is 50 ms; 2x a cost of 0 is 0)."""

    x: Decimal
    floor: Decimal
    unit: str

    def rule(self, base: Decimal | None) -> tuple[Decimal, str]:
        """The threshold used, and a rule text naming what set it first and the other in brackets."""
        floor = f"floor {_num(self.floor)} {self.unit}"
        if base is None:
            return self.floor, f"> {_num(self.floor)} {self.unit}: {floor} (no baseline yet)"
        scaled = base * self.x
        times = f"{_num(self.x)}x baseline {_num(base)} {self.unit}"
        if scaled >= self.floor:
            return scaled, f"> {_num(scaled)} {self.unit}: {times} ({floor})"
        return self.floor, f"> {_num(self.floor)} {self.unit}: {floor} ({times} = {_num(scaled)} {self.unit})"


def ratio_rules() -> dict[str, Ratio]:
    """The "x baseline" metrics, their factors and floors (settings read once per call)."""
    return {"cost_per_run": Ratio(settings.PAGE_COST_PER_RUN_X, settings.PAGE_COST_PER_RUN_FLOOR_USD, "USD"),
            "latency_p95": Ratio(settings.PAGE_LATENCY_P95_X, settings.PAGE_LATENCY_P95_FLOOR_MS, "ms")}


def _against(name: str, agent: str | None, value: Decimal | None, base: Decimal | None, ratio: Ratio) -> Check:
    threshold, rule = ratio.rule(base)
    return replace(_above_named(name, agent, value, threshold, rule), unit=ratio.unit)


def run_checks(run: Any, figures: dict[str, Decimal], now: datetime) -> list[Check]:
    """The per-run thresholds, against the agent's baseline without this run."""
    agent = run.agent
    ratios = ratio_rules()
    cost_base = baseline("cost_per_run", agent.pk, now=now, exclude_run=run.pk)
    lat_base = baseline("latency_p95", agent.pk, now=now, exclude_run=run.pk)
    return [
        _against("cost_per_run", agent.name, figures["cost_per_run"], cost_base, ratios["cost_per_run"]),
        _above("tool_calls_per_run", agent, figures["tool_calls_per_run"], Decimal(settings.PAGE_TOOL_CALLS_PER_RUN),
               f"> {settings.PAGE_TOOL_CALLS_PER_RUN}"),
        _against("latency_p95", agent.name, figures["latency_p95"], lat_base, ratios["latency_p95"]),
    ]


def rate_checks(agent: Any, now: datetime) -> list[Check]:
    """Error rate over 5 minutes and decision rate against its baseline, for one agent."""
    rate, _ = tool_error_rate(since=now - timedelta(minutes=5), agent_id=agent.pk)
    base = baseline("decision_rate", agent.pk, now=now)
    return _rate_checks(agent, rate, decision_rate(agent.pk, now=now), base, _RateRules.read())


def fleet_rate_checks(agents: list[Any], now: datetime) -> list[Check]:
    """`rate_checks` for every agent in four queries whatever their number: one GROUP BY per figure, and the
    decision-rate baselines as stored (each agent's run refreshes its own)."""
    rates = tool_error_rates(since=now - timedelta(minutes=5))
    decisions = decision_rates(now=now)
    bases = baselines_for("decision_rate", [a.pk for a in agents])
    rules = _RateRules.read()  # once, not per agent
    checks: list[Check] = []
    for agent in agents:
        rate, _ = rates.get(agent.pk, (ZERO, 0))
        checks += _rate_checks(agent, rate, decisions.get(agent.pk, ZERO), bases[agent.pk], rules)
    return checks


class _RateRules(NamedTuple):
    error_rate: Decimal
    decision_x: Decimal
    decision_floor: Decimal

    @classmethod
    def read(cls) -> _RateRules:
        return cls(settings.PAGE_ERROR_RATE_5M, settings.PAGE_DECISION_RATE_X, settings.PAGE_DECISION_RATE_FLOOR)


class DecisionBand(NamedTuple):
    """Where the decision rate pages: above `high`, below `low` (None: that side never pages). /metrics
    exposes both lines, so a Prometheus rule pages where the monitor does."""

    low: Decimal | None
    high: Decimal | None

    @classmethod
    def of(cls, base: Decimal | None, rules: _RateRules) -> DecisionBand:
        """baseline / x .. baseline * x; without a baseline nowhere; with a baseline of 0 above the floor only
        (a quiet agent suddenly busy: a multiple of 0 would never page)."""
        if base is None:
            return cls(None, None)
        if base == 0:
            return cls(None, rules.decision_floor)
        return cls(base / rules.decision_x, base * rules.decision_x)

    def outside(self, rate: Decimal) -> bool:
        return (self.high is not None and rate > self.high) or (self.low is not None and rate < self.low)


def _rate_checks(agent: Any, rate: Decimal, decisions: Decimal, base: Decimal | None, rules: _RateRules) -> list[Check]:
    band = DecisionBand.of(base, rules)
    return [
        _above("error_rate_5m", agent, rate, rules.error_rate, f"> {rules.error_rate}"),
        Check("decision_rate", agent.name, decisions, base, band.outside(decisions), _decision_rule(base, band, rules),
              "per hour"),
    ]


def _decision_rule(base: Decimal | None, band: DecisionBand, rules: _RateRules) -> str:
    """The band the decision rate pages outside of, in figures, and what set it."""
    x, floor = rules.decision_x, rules.decision_floor
    if base is None:
        return f"outside baseline / {_num(x)} .. x {_num(x)} (no baseline yet)"
    if base == 0:
        return f"> {_num(floor)} per hour: floor {_num(floor)} (baseline 0)"
    low = band.low.quantize(Decimal("0.01"))
    return f"outside {_num(low)} .. {_num(band.high)} per hour: baseline {_num(base)} / {_num(x)} .. x {_num(x)}"


def page(checks: list[Check]) -> None:
    """Fire the breached checks' alerts (deduplicated), resolve the ones back in bounds: all in one
    `alerts_apply`, so a pass over the fleet costs the same few queries for 3 agents or 1,000."""
    fire: dict[str, Fire] = {}
    resolve: dict[str, dict[str, Any]] = {}
    for c in checks:
        key = f"{c.name}:{c.agent or 'system'}"
        if c.breached:
            value = f"{_num(c.value)} {c.unit}".strip() if c.value is not None else "?"
            fire[key] = Fire(f"{c.name} {value} {c.rule} ({c.agent or 'system'})",
                             {"value": _figure(c.value), "threshold": _figure(c.threshold), "unit": c.unit,
                              "rule": c.rule}, "error")
        else:
            resolve[key] = {"value": _figure(c.value)}
    alerts_apply(fire=fire, resolve=resolve)


def _figure(value: Decimal | None) -> str:
    return "None" if value is None else _num(value)


def after_run(run: Any, latencies_ms: list[float]) -> list[Check]:
    """At a run's end: record its metrics, page on its thresholds, and check the cost and error shapes."""
    from monitoring.outbox import outbox_publish

    now = run.ended_at or timezone.now()
    figures = record_run_metrics(run, latencies_ms)
    checks = run_checks(run, figures, now) + rate_checks(run.agent, now)
    metric_record("error_rate_5m", checks[3].value or ZERO, agent_id=run.agent_id, run_id=run.pk, ts=now)
    metric_record("decision_rate", checks[4].value or ZERO, agent_id=run.agent_id, run_id=run.pk, ts=now)
    page(checks)
    outbox_publish("run_end", {"run": run.pk, "agent": run.agent.name, "status": run.status,
                               "cost": str(run.cost), "steps": run.steps, "at": now.isoformat()})
    # A cost spike halts now, not at the next tick. Only a run that added cost can newly pass the cost
    # cap, and only one with a tool error can raise the error rate (a clean run only lowers it): the
    # rest leave both to the monitor's pass, so a fleet's runs do not each sum five minutes of runs.
    guards = [g for g, moved in ((cost_cap, run.cost > 0), (tool_error_rate_guard, run.tool_errors > 0)) if moved]
    for guard in guards:
        trip = guard(None, now)
        if trip is not None and not _in_force(kill_switch_state(), trip):
            _halt(trip)
    return checks


# --- kill-switch shapes ----------------------------------------------------------------------


@dataclass(frozen=True)
class Trip:
    source: str
    reason: str
    figures: dict[str, Any] = field(default_factory=dict)
    flatten: bool = False
    hold_hours: int = 0
    needs_reconciliation: bool = False


def nav_of(venue: Any) -> Decimal:
    """USDC plus every position at its mark (avg price where the venue has no mark)."""
    total = venue.balance().usdc
    for p in venue.positions():
        total += p.shares * (p.mark_price if p.mark_price is not None else p.avg_price)
    return total


def daily_loss(venue: Any, now: datetime) -> Trip | None:
    """NAV down more than HALT_DAILY_LOSS since the day's first NAV sample, on two readings in a row
    (one stray mark or balance read must not sell everything and lock trading for a day): flatten,
    hold 24 h."""
    nav = nav_of(venue)
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    today = MetricSample.objects.filter(name="nav", agent=None, ts__gte=midnight)
    start = today.order_by("ts", "id").first()
    previous = today.order_by("-ts", "-id").first()
    metric_record("nav", nav, ts=now)
    if start is None:
        return None  # this reading is the day's opening NAV
    metric_record("daily_pnl", nav - start.value, ts=now)
    if not (_loss_breached(start.value, nav) and _loss_breached(start.value, previous.value)):
        return None
    drop = ((start.value - nav) / start.value * 100).quantize(Decimal("0.01"))
    return Trip(HaltSource.DAILY_LOSS, f"NAV down {drop}% today ({start.value} -> {nav} USDC, confirmed on two "
                f"readings)", {"nav_start": str(start.value), "nav": str(nav), "nav_previous": str(previous.value),
                               "drop_pct": str(drop)},
                flatten=True, hold_hours=settings.HALT_DAILY_LOSS_HOLD_HOURS)


def _loss_breached(start: Decimal, nav: Decimal) -> bool:
    return start > 0 and (start - nav) / start > settings.HALT_DAILY_LOSS


def cost_cap(venue: Any, now: datetime) -> Trip | None:
    """Inference spend today above HALT_COST_CAP_USD."""
    spent = inference_cost_today(now)
    metric_record("inference_cost_today", spent, ts=now)
    if spent > settings.HALT_COST_CAP_USD:
        return Trip(HaltSource.COST_CAP, f"inference spend today {spent} USD is over the cap "
                    f"{settings.HALT_COST_CAP_USD} USD", {"spent": str(spent), "cap": str(settings.HALT_COST_CAP_USD)})
    return None


def tool_error_rate_guard(venue: Any, now: datetime) -> Trip | None:
    """Tool errors above HALT_TOOL_ERROR_RATE of tool calls over the last 5 minutes (all agents)."""
    rate, calls = tool_error_rate(since=now - timedelta(minutes=5))
    if calls and rate > settings.HALT_TOOL_ERROR_RATE:
        pct = (rate * 100).quantize(Decimal("0.1"))
        return Trip(HaltSource.TOOL_ERROR_RATE, f"tool error rate {pct}% over 5 min ({calls} calls) is over "
                    f"{settings.HALT_TOOL_ERROR_RATE * 100}%", {"rate": str(rate), "calls": calls})
    return None


class SettlementPending(Exception):
    """The chain has not caught up with REST yet: drift cannot be judged at this instant."""


class DriftUnmeasurable(SettlementPending):
    """REST moved during every bracketed chain read (fills landing): no consistent snapshot.

    A SettlementPending so `reconcile_chain` says "try again"; the monitor gives it GUARD_GRACE_S, not
    the settlement grace: a drift it can never measure must trip like any guard it cannot compute.
    """


# The venue answers balance, positions and the chain ledger in three calls, and fills land between
# them (issue 12: one such reading halted a healthy desk). A chain read is trusted only between two
# equal REST readings. A bracket takes ~10 ms; 8 tries a jittered 50 ms apart found a gap in 96-100 of
# 100 passes with ~70 fills a second landing (tests/monitoring/test_drift.py), and a quiet account
# costs one try.
SNAPSHOT_TRIES = 8
SNAPSHOT_PAUSE_S = 0.05


@dataclass(frozen=True)
class Snapshot:
    """REST and the chain ledger as of one moment (no fill landed on the account in between)."""

    usdc: Decimal
    shares: dict[tuple[str, Any], Decimal]
    ledger: Any


def chain_snapshot(venue: Any, *, tries: int = SNAPSHOT_TRIES, pause_s: float = SNAPSHOT_PAUSE_S) -> Snapshot:
    """1. Read REST (balance, positions), 2. the chain ledger, 3. REST again, mirrored (positions, balance).
    Equal REST readings mean nothing moved the account while the chain was read. Else pause and retry;
    after `tries` the drift cannot be computed (DriftUnmeasurable), never guessed."""
    for attempt in range(tries):
        if attempt:
            time.sleep(pause_s * (0.5 + random.random()))  # jitter: do not beat in step with a trading loop
        usdc, shares = venue.balance().usdc, _shares(venue.positions())
        ledger = venue.chain_ledger()
        if _shares(venue.positions()) == shares and venue.balance().usdc == usdc:
            return Snapshot(usdc, shares, ledger)
    raise DriftUnmeasurable(f"REST balances moved during each of {tries} chain readings (fills landing): "
                            "no consistent snapshot")


def chain_drift_amount(venue: Any, *, tries: int = SNAPSHOT_TRIES, pause_s: float = SNAPSHOT_PAUSE_S) -> Decimal:
    """|REST USDC - chain USDC| + sum over positions of |REST shares - chain shares|, on one consistent
    snapshot (`chain_snapshot`).

    Settlements still inside the lag are added to the chain side when the venue reports them
    (the paper venue does), so drift is measured at any moment; a venue that only counts them
    leaves us to wait for a moment with nothing pending (SettlementPending).
    """
    snap = chain_snapshot(venue, tries=tries, pause_s=pause_s)
    ledger = snap.ledger
    chain_usdc = ledger.usdc
    chain = _shares(ledger.positions)
    if ledger.pending:
        if ledger.pending_usdc is None or ledger.pending_positions is None:
            raise SettlementPending(f"{ledger.pending} settlements pending")
        chain_usdc += ledger.pending_usdc
        for key, shares in _shares(ledger.pending_positions).items():
            chain[key] = chain.get(key, ZERO) + shares
    drift = abs(snap.usdc - chain_usdc)
    for key in snap.shares.keys() | chain.keys():
        drift += abs(snap.shares.get(key, ZERO) - chain.get(key, ZERO))
    return drift


def _shares(positions: Any) -> dict[tuple[str, Any], Decimal]:
    out: dict[tuple[str, Any], Decimal] = {}
    for p in positions:
        out[(p.market, p.outcome)] = out.get((p.market, p.outcome), ZERO) + p.shares
    return out


def chain_drift(venue: Any, now: datetime) -> Trip | None:
    """REST balances/positions vs the chain ledger (chain is the truth), on a consistent snapshot; a
    drift above dust is confirmed on a second snapshot a moment later, in the same tick. (Equal REST
    readings can still hide a fill and its reverse around the chain read; the next snapshot would need
    the very same pair at the very same instant.)"""
    first = drift = chain_drift_amount(venue)
    if first > settings.CHAIN_DUST:
        time.sleep(SNAPSHOT_PAUSE_S)
        try:
            drift = chain_drift_amount(venue)
        except SettlementPending as exc:  # a measured drift must not fade into "could not be computed"
            raise DriftUnconfirmed(f"drift {first} measured, its confirmation could not be: {exc}") from exc
        if drift <= settings.CHAIN_DUST:
            log.warning("chain drift %s on one reading, %s on the next: not confirmed, no halt", first, drift)
    # Only measured readings reach the metric and the page: an unmeasurable one raised above.
    metric_record("chain_rest_drift", drift, ts=now)
    page([_above("chain_rest_drift", None, drift, settings.CHAIN_DUST, f"> dust {settings.CHAIN_DUST}")])
    if drift > settings.CHAIN_DUST:
        return Trip(HaltSource.CHAIN_DRIFT, f"venue REST differs from the chain ledger by {drift} (dust "
                    f"{settings.CHAIN_DUST}, confirmed on two consistent readings); reconcile by hand, the "
                    f"chain is the source of truth", {"drift": str(drift), "drift_first_reading": str(first)},
                    needs_reconciliation=True)
    return None


class DriftUnconfirmed(DriftUnmeasurable):
    """A drift above dust was measured and its confirmation could not be: if this lasts past the grace,
    the trip needs a reconciliation by hand like a confirmed drift (the chain is the truth)."""


GUARDS: dict[str, Callable[[Any, datetime], Trip | None]] = {
    "daily_loss": daily_loss, "cost_cap": cost_cap, "tool_error_rate": tool_error_rate_guard,
    "chain_drift": chain_drift,
}
SOURCE = {"daily_loss": HaltSource.DAILY_LOSS, "cost_cap": HaltSource.COST_CAP,
          "tool_error_rate": HaltSource.TOOL_ERROR_RATE, "chain_drift": HaltSource.CHAIN_DRIFT}


def _in_force(state: dict[str, Any], trip: Trip) -> bool:
    """True when the halt this trip asks for is already in force (no repeat halt every tick)."""
    if not state.get("halted") or state.get("state") != "halted":
        return False
    if trip.needs_reconciliation and not state.get("needs_reconciliation"):
        return False
    return not (trip.hold_hours and not state.get("hold_until"))


def _halt(trip: Trip, venue: Any = None) -> HaltEvent:
    hold = timezone.now() + timedelta(hours=trip.hold_hours) if trip.hold_hours else None
    return halt(reason=trip.reason, source=trip.source, flatten=trip.flatten, hold_until=hold,
                needs_reconciliation=trip.needs_reconciliation, figures=trip.figures, venue=venue)


# --- the monitor loop --------------------------------------------------------------------------


class Monitor:
    """What `manage.py monitor` runs: the flag-file watcher and the periodic health checks."""

    def __init__(self, venue_factory: Callable[[], Any], *, grace_s: int | None = None, deadman: Any = None) -> None:
        self.venue_factory = venue_factory
        self.deadman = deadman
        self.grace = timedelta(seconds=settings.GUARD_GRACE_S if grace_s is None else grace_s)
        self.settle_grace = timedelta(seconds=settings.CHAIN_SETTLE_GRACE_S)
        self.failing_since: dict[str, datetime] = {}
        self.drift_measured: set[str] = set()  # guards that measured a drift while failing (DriftUnconfirmed)

    def flag_tick(self) -> HaltEvent | None:
        """Land halts the database missed (halt slot), then: a hand-touched flag file with the row not yet
        active runs the rest of the halt path."""
        landed = halt_requests_land()
        if landed:  # its halter may have died before its venue sweep: sweep now, not at the next health pass
            sweep_resting(self.venue_factory())
        if halt_waiting():  # already halted at the venue; its record waits for the database: no repeat
            return None
        try:
            present, why = flag_present(), ""
        except OSError as exc:  # cannot tell whether someone touched it: that is a halt, not a pass
            present, why = True, f"flag file cannot be checked ({exc})"
        row = kill_switch_state().get("row") if present else None
        if not present or (row is not None and row.active):
            return landed[-1] if landed else None
        text = why or _flag_text()
        return halt(reason=f"flag file touched: {text or 'no reason written'}", source=HaltSource.FILE_FLAG,
                    venue=self.venue_factory())

    def health_tick(self, now: datetime | None = None) -> list[HaltEvent]:
        """Evaluate every shape; trip the ones that fire or cannot be computed past the grace period."""
        now = now or timezone.now()
        venue = self.venue_factory()
        halts = []
        for name, guard in GUARDS.items():
            trip = self._evaluate(name, guard, venue, now)
            if trip is not None and not _in_force(kill_switch_state(), trip):
                halts.append(_halt(trip, venue))
        row = kill_switch_state().get("row")
        if (row is not None and row.active) or halt_waiting():  # a flag without the row is the watcher's
            sweep_resting(venue)  # whatever still rests while halted (in flight, or a failed cancel-all)
        self._page_rates(now)
        self._page_deadman()
        self._page_dispatch(now)
        metric_record("kill_switch_active", 1 if kill_switch_state()["halted"] else 0, ts=now)
        return halts

    def _page_dispatch(self, now: datetime) -> None:
        """No dispatcher, no runs: quiet, but an operator must know the desk has stopped trading."""
        from agents.dispatch import dispatch_lag

        lag = Decimal(str(round(dispatch_lag(now), 1)))
        limit = Decimal(settings.DISPATCH_LAG_PAGE_S)
        page([Check("dispatch_lag", None, lag, limit, lag > limit,
                    f"> {limit} s behind (is manage.py dispatch running?)")])

    def _page_deadman(self) -> None:
        """Without the cancel-on-disconnect session, a dead control plane would leave orders resting."""
        if self.deadman is None:
            return
        live = self.deadman.live(float(settings.DEADMAN_MAX_SILENCE_S))  # open AND heard from: a cover
        page([Check("cancel_on_disconnect", None, Decimal(int(live)), Decimal(1), not live,
                    "session down or silent (no order is sent without it)")])

    def _evaluate(self, name: str, guard: Callable[[Any, datetime], Trip | None], venue: Any,
                  now: datetime) -> Trip | None:
        try:
            trip = guard(venue, now)
        except Exception as exc:
            since = self.failing_since.setdefault(name, now)
            if isinstance(exc, DriftUnconfirmed):
                self.drift_measured.add(name)
            log.warning("guard %s could not be computed: %s", name, exc)
            # Settlement in progress is normal for a few seconds; stuck for minutes, it is a chain fault.
            settling = isinstance(exc, SettlementPending) and not isinstance(exc, DriftUnmeasurable)
            grace = self.settle_grace if settling else self.grace
            if now - since < grace:
                return None
            return Trip(SOURCE[name], f"{name} could not be computed for {(now - since).seconds} s: "
                        f"{type(exc).__name__}: {exc}", {"error": str(exc)},
                        needs_reconciliation=name in self.drift_measured)
        self.failing_since.pop(name, None)
        self.drift_measured.discard(name)
        return trip

    def _page_rates(self, now: datetime) -> None:
        from agents.models import AgentConfig

        page(fleet_rate_checks(list(AgentConfig.objects.filter(enabled=True).only("name")), now))
        state = kill_switch_state()
        if state["halted"]:  # the same key as the halt's own alert: one page per halt, not two
            alert_fire(key="kill_switch", title=f"kill_switch_active: trading is halted ({state.get('reason', '')})",
                       details={"source": state.get("source", ""), "flag_file": state.get("flag_file")})
        else:  # trading runs: a kill_switch alert still firing is stale (a resume whose resolve failed, or this
            # pass's own fire racing a resume); left firing, the next halt would only bump it, paging nobody
            alert_resolve(key="kill_switch", details={"resolved": "trading is running (monitor)"})


def _flag_text() -> str:
    try:
        return flag_path().read_text(errors="replace").strip()[:500]
    except OSError:
        return ""


# --- for the panel -----------------------------------------------------------------------------


def panel_metrics() -> list[dict[str, Any]]:
    """The six card metrics against their thresholds: latest per agent, plus the system-wide two.
    A constant number of queries: the latest samples of every agent in one, each baseline as stored."""
    from agents.models import AgentConfig

    enabled = AgentConfig.objects.filter(enabled=True)
    agents = list(enabled.values_list("pk", "name"))  # names only: no model rows for a thousand agents
    rules = _card_rules()  # settings read once, not per agent: at a thousand agents that counts
    latest_values = latest_by_agent([name for name, *_ in rules], enabled)
    bases = {name: baselines_for(name, [pk for pk, _ in agents]) for name, _, ratio, _ in rules if ratio is not None}
    out: list[dict[str, Any]] = []
    for pk, agent in agents:
        for name, threshold, ratio, label in rules:
            value = latest_values.get((name, pk))
            check = (_against(name, agent, value, bases[name][pk], ratio) if ratio is not None
                     else _above_named(name, agent, value, threshold, label))
            out.append(check.for_panel())
    state = kill_switch_state()
    out.append(Check("kill_switch_active", None, Decimal(int(state["halted"])), ZERO, state["halted"],
                     "any").for_panel())
    drift = latest("chain_rest_drift")
    out.append(_above("chain_rest_drift", None, drift.value if drift else None, settings.CHAIN_DUST,
                      f"> dust {settings.CHAIN_DUST}").for_panel())
    return out


def _card_rules() -> list[tuple[str, Decimal | None, Ratio | None, str]]:
    """Each agent card: (metric, absolute threshold, or the "x baseline" rule with its floor, label)."""
    calls, error_rate = Decimal(settings.PAGE_TOOL_CALLS_PER_RUN), settings.PAGE_ERROR_RATE_5M
    ratios = ratio_rules()
    return [("cost_per_run", None, ratios["cost_per_run"], ""), ("tool_calls_per_run", calls, None, f"> {calls}"),
            ("latency_p95", None, ratios["latency_p95"], ""),
            ("error_rate_5m", error_rate, None, f"> {error_rate}")]
