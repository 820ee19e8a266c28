"""django-q2 task entry points: take ids, call one service."""

from __future__ import annotations

from datetime import datetime

from agents.dispatch import run_picked_up
from agents.services import run_agent


def run_agent_task(agent_id: int, due: str | None = None) -> str:
    """Run one agent once (the dispatcher enqueues this at the agent's slot, `due`). Returns a one-line
    summary for django-q2's log."""
    run_picked_up(agent_id)  # before the run: its next slot may be enqueued while this one runs
    run = run_agent(agent_id=agent_id, scheduled_for=datetime.fromisoformat(due) if due else None)
    if run is None:
        return f"agent {agent_id}: disabled, not run"
    return f"agent {agent_id}: run {run.pk} {run.status}"


def replay_audit_task() -> str:
    """The daily replay audit (scheduled by schedule_agents)."""
    from agents.replay import replay_audit

    report = replay_audit()
    return f"replay audit {report.day}: {len(report.results)} runs, {report.drift} drifted decisions"
