"""/status as text: what the operator woken at 3 a.m. needs on a phone's screen, read fresh."""

from __future__ import annotations

from typing import Any

from django.db.models import OuterRef, Subquery

MAX_AGENTS = 20


def status_text(user: Any) -> str:
    """The kill switch and its hold, each agent's last run and P&L, firing alerts, pending approvals."""
    from agents.models import AgentConfig, Run
    from approvals.access import may_view_approvals
    from approvals.models import ApprovalRequest, ApprovalStatus
    from monitoring.halt import kill_switch_state
    from monitoring.metrics import latest_by_agent, latest_system
    from monitoring.models import Alert, AlertState

    lines = [_kill_switch_line(kill_switch_state())]
    system = latest_system(["nav", "daily_pnl"])
    if "nav" in system:
        pnl = system.get("daily_pnl")
        lines.append(f"NAV {system['nav'].normalize():f} USDC; today's P&L "
                     f"{'n/a' if pnl is None else format(pnl.normalize(), '+f')} USDC")
    latest = Run.objects.filter(agent=OuterRef("pk")).order_by("-started_at", "-id")
    agents = list(AgentConfig.objects.order_by("name").annotate(
        run_id=Subquery(latest.values("id")[:1]), run_status=Subquery(latest.values("status")[:1]),
        run_at=Subquery(latest.values("started_at")[:1]))[:MAX_AGENTS + 1])
    costs = latest_by_agent(["cost_per_run"], AgentConfig.objects.filter(pk__in=[a.pk for a in agents]))
    lines.append("")
    lines.append("Agents:" if agents else "No agents.")
    for a in agents[:MAX_AGENTS]:
        state = "enabled" if a.enabled else "disabled"
        run = (f"last run #{a.run_id} {a.run_status} at {a.run_at:%H:%M:%S}" if a.run_id else "no run yet")
        cost = costs.get(("cost_per_run", a.pk))
        lines.append(f"- {a.name} ({state}): {run}" + (f", cost {cost.normalize():f} USDC" if cost is not None else ""))
    if len(agents) > MAX_AGENTS:
        lines.append("... and more: see the panel")
    firing = list(Alert.objects.filter(state=AlertState.FIRING).order_by("-last_fired_at")[:10])
    lines.append("")
    lines.append(f"Alerts firing: {len(firing)}" + ("" if len(firing) < 10 else "+"))
    lines += [f"- [{a.severity}] {a.title}" for a in firing]
    if may_view_approvals(user):
        pending = ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).count()
        lines.append(f"\nApprovals pending: {pending}" + (" (/approvals)" if pending else ""))
    return "\n".join(lines)


def _kill_switch_line(state: dict[str, Any]) -> str:
    if state["state"] == "unknown":
        return f"KILL SWITCH UNKNOWN (counts as halted): {state.get('detail', '')}"
    if not state["halted"]:
        return "Trading: RUNNING"
    line = f"Trading: HALTED ({state.get('source') or '?'}): {state.get('reason') or ''}"
    if state.get("since"):
        line += f", since {state['since']:%Y-%m-%d %H:%M:%S} UTC"
    if state.get("hold_until"):
        line += f"; held until {state['hold_until']:%Y-%m-%d %H:%M} UTC"
    if state.get("needs_reconciliation"):
        line += "; needs chain reconciliation before resume"
    return line
