"""manage.py smoke [--seconds 30]: the card's smoke test, a short live run with zero crashes allowed.

Runs every enabled agent back to back (ignoring schedules) against the configured venue for the
given time, with the monitor's health pass every few seconds, and fails on any crashed run,
any exception, or any halt. Point VENUE_URL at the paper venue or a testnet, never at money.
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from agents.models import AgentConfig, RunStatus
from agents.services import run_agent, venue_client
from monitoring.health import Monitor
from monitoring.models import HaltEvent

HEALTH_EVERY_S = 5.0


class Command(BaseCommand):
    help = "Run every enabled agent for a while against the configured venue; fail on any crash or halt."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--seconds", type=float, default=30.0)

    def handle(self, *args: Any, seconds: float, **options: Any) -> None:
        agents = list(AgentConfig.objects.filter(enabled=True))
        if not agents:
            raise CommandError("no enabled agent to smoke-test")
        started = timezone.now()
        statuses, crashes = self._drive(agents, seconds)
        halts = list(HaltEvent.objects.filter(ts__gte=started, action="halt").values_list("source", "reason"))
        self.stdout.write(f"smoke: {sum(statuses.values())} runs in {seconds:.0f} s: {dict(statuses)}")
        problems = crashes + [f"run ended in error: {n}" for s, n in statuses.items() if s == RunStatus.ERROR]
        problems += [f"halted by {source}: {reason}" for source, reason in halts]
        if problems or not statuses:
            raise CommandError("smoke failed: " + ("; ".join(problems) or "no run completed"))
        self.stdout.write(self.style.SUCCESS("smoke passed: zero crashes, zero halts"))

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
                    statuses[run.status] += 1
        return statuses, crashes


def _safely(fn: Any, **kwargs: Any) -> tuple[Any, list[str]]:
    try:
        return fn(**kwargs), []
    except Exception as exc:  # the point of a smoke test: any exception is a finding
        return None, [f"{type(exc).__name__}: {exc}"]
