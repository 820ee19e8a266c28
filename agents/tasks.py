"""django-q2 task entry points: take ids, call one service."""

from __future__ import annotations

from agents.services import run_agent


def run_agent_task(agent_id: int) -> str:
    """Run one agent once (its schedule fires this). Returns a one-line summary for django-q2's log."""
    run = run_agent(agent_id=agent_id)
    if run is None:
        return f"agent {agent_id}: disabled, not run"
    return f"agent {agent_id}: run {run.pk} {run.status}"


def replay_audit_task() -> str:
    """The daily replay audit (scheduled by schedule_agents)."""
    from agents.replay import replay_audit

    report = replay_audit()
    return f"replay audit {report.day}: {len(report.results)} runs, {report.drift} drifted decisions"
