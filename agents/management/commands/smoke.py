"""manage.py smoke [--seconds 30]: the card's smoke test, a short live run with zero crashes allowed.

Runs every enabled agent back to back (ignoring schedules) against the configured venue for the
given time, with the monitor's health pass every few seconds. It refuses to start while trading
is halted or paused (every run would stop at once and prove nothing), and fails on any crashed
run, any exception, any halt event in the window (a no-op sweep too), any run stopped by the
kill switch, a pause, a budget or max steps, no `completed` run at all, or no order placed when
an agent trades for real. Point VENUE_URL at the paper venue or a testnet, never at money.
"""

from __future__ import annotations

import time
from collections import Counter
from datetime import datetime
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agents.models import AgentConfig, Order, RunStatus
from agents.services import run_agent, stop_check, venue_client
from monitoring.halt import kill_switch_state
from monitoring.health import Monitor
from monitoring.models import HaltEvent

HEALTH_EVERY_S = 5.0
# A run that ended like this did not do its job: stopped by a guard, or cut off by a limit.
STOPPED = frozenset(s.value for s in (RunStatus.KILL_SWITCH, RunStatus.PAUSED, RunStatus.BUDGET_TOKENS,
                                      RunStatus.BUDGET_TOOL_CALLS, RunStatus.BUDGET_TIME, RunStatus.BUDGET_COST,
                                      RunStatus.MAX_STEPS))
COMPLETED, ERROR = RunStatus.COMPLETED.value, RunStatus.ERROR.value


class Command(BaseCommand):
    help = ("Run every enabled agent for a while against the configured venue; fail on any crash, halt or "
            "stopped run, or when nothing completed or traded.")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=float, default=30.0)

    def handle(self, *args: Any, seconds: float, **options: Any) -> None:
        agents = list(AgentConfig.objects.filter(enabled=True))
        if not agents:
            raise CommandError("no enabled agent to smoke-test")
        refusal = not_ready()
        if refusal:
            raise CommandError(f"smoke failed before it started: {refusal}")
        started = timezone.now()
        statuses, crashes = self._drive(agents, seconds)
        live = [a for a in agents if not (a.dry_run or settings.DRY_RUN)]
        orders = orders_placed(live, started)
        self.stdout.write(f"smoke: {sum(statuses.values())} runs in {seconds:.0f} s: {dict(statuses)}; "
                          f"{orders} order(s) placed at the venue")
        problems = crashes + findings(statuses, halt_events(started), orders=orders, live=[a.name for a in live])
        if problems:
            raise CommandError("smoke failed: " + "; ".join(problems))
        self.stdout.write(self.style.SUCCESS(
            f"smoke passed: zero crashes, zero halts, {statuses[COMPLETED]} completed run(s), "
            f"{orders} order(s) placed"))

    def _drive(self, agents: list[AgentConfig], seconds: float) -> tuple[Counter[str], list[str]]:
        monitor = Monitor(venue_client)
        statuses: Counter[str] = Counter()
        crashes: list[str] = []
        deadline = time.monotonic() + seconds
        next_health = 0.0
        while time.monotonic() < deadline:
            if time.monotonic() >= next_health:
                crashes += _safely(monitor.health_tick)[1]
                next_health = time.monotonic() + HEALTH_EVERY_S
            for agent in agents:
                run, crashed = _safely(run_agent, agent_id=agent.pk)
                crashes += crashed
                if run is not None:
                    statuses[str(run.status)] += 1
        return statuses, crashes


def not_ready() -> str:
    """Why trading cannot happen right now (halted, paused, an override that trips, no monitor, no
    dead-man's cover), or "": refuse up front, naming it, rather than fail late and vaguely."""
    state = kill_switch_state()
    if state["halted"]:
        why = state.get("reason") or state.get("detail") or ""
        return f"trading is halted ({why or 'kill switch active'}); resume first, a halted smoke proves nothing"
    reading = stop_check()()  # the runs' own check, database half included (row, monitor, dead-man's cover)
    if reading.stop is not None:
        return f"the stop check trips ({reading.stop.kind}: {reading.stop.reason}); every run would stop at once"
    return ""


def halt_events(since: datetime) -> list[tuple[str, str, str]]:
    """Every halt event in the window, whatever its action: a no-op sweep means something halted."""
    rows = HaltEvent.objects.filter(ts__gte=since).order_by("ts").values_list("action", "source", "reason")
    return [(str(a), str(s), str(r)) for a, s, r in rows]


def orders_placed(agents: list[AgentConfig], since: datetime) -> int:
    """Journaled orders of these agents created in the window that the venue acknowledged (has an id)."""
    return Order.objects.filter(agent__in=agents, created_at__gte=since).exclude(venue_order_id="").count()


def findings(statuses: Counter[str], halts: list[tuple[str, str, str]], *, orders: int, live: list[str]) -> list[str]:
    """What makes the smoke fail, besides crashes (each with its figures)."""
    problems = [f"{n} run(s) ended in error" for s, n in statuses.items() if s == ERROR]
    stopped = {str(s): n for s, n in statuses.items() if s in STOPPED}
    if stopped:
        problems.append(f"run(s) stopped before completing: {stopped}")
    problems += [f"halt event ({action}) by {source}: {reason}" for action, source, reason in halts]
    if not statuses[COMPLETED]:
        problems.append(f"no run completed (runs: {dict(statuses) or 'none'})")
    if live and not orders:
        problems.append(f"0 orders placed at the venue, though {', '.join(live)} trade(s) for real (not dry-run)")
    return problems


def _safely(fn: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    try:
        return fn(**kwargs), []
    except Exception as exc:  # the point of a smoke test: any exception is a finding
        return None, [f"{type(exc).__name__}: {exc}"]
