"""/status as text: what the operator woken at 3 a.m. needs on a phone's screen, read fresh."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import OuterRef, Subquery

MAX_AGENTS = 20


def status_text(user: Any) -> str:
    """The kill switch and its hold, each agent's last run and P&L, firing alerts, pending approvals."""
    from agents.models import AgentConfig, Run
    from approvals.access import may_view_approvals
    from approvals.models import ApprovalRequest, ApprovalStatus
    from monitoring.halt import kill_switch_state
    from monitoring.models import Alert, AlertState

    lines = [_kill_switch_line(kill_switch_state())]
    latest = Run.objects.filter(agent=OuterRef("pk")).order_by("-started_at", "-id")
    agents = list(AgentConfig.objects.order_by("name").annotate(
        run_id=Subquery(latest.values("id")[:1]), run_status=Subquery(latest.values("status")[:1]),
        run_at=Subquery(latest.values("started_at")[:1]))[:MAX_AGENTS + 1])
    money, pnl_of = _money(agents[:MAX_AGENTS])
    lines += money
    lines.append("")
    lines.append("Agents:" if agents else "No agents.")
    for a in agents[:MAX_AGENTS]:
        state = "enabled" if a.enabled else "disabled"
        run = (f"last run #{a.run_id} {a.run_status} at {a.run_at:%H:%M:%S}" if a.run_id else "no run yet")
        lines.append(f"- {a.name} ({state}): {run}{pnl_of.get(a.name, '')}")
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


def _money(agents: list[Any]) -> tuple[list[str], dict[str, str]]:
    """The desk's NAV and P&L against the daily-loss limit, and each agent's P&L today, as the desk view
    reads them (agents/desk.py: through the venue, cached a few seconds); an unreachable venue is said,
    never shown as zero."""
    from agents.desk import desk_snapshot

    try:
        desk = desk_snapshot(agents)
    except Exception as exc:  # the rest of /status still matters at 3 a.m.
        return [f"Money: unreadable ({type(exc).__name__})"], {}
    lines, venue, total, pause = [], desk["venue"], desk["total"], desk["pause"]
    if pause["error"]:
        lines.append(f"Override UNREADABLE: every agent is stopped ({pause['error']})")
    elif pause["desk"]:
        lines.append("Desk PAUSED by the override: no agent trades")
    elif pause["agents"]:
        lines.append(f"Paused agents: {', '.join(pause['agents'])}")
    if total is not None:
        pnl = "n/a (no opening NAV today)" if total["pnl"] is None else f"{_usdc(total['pnl'], sign=True)} USDC"
        limit = "" if total["limit"] is None else f" (daily-loss limit {_usdc(total['limit'], sign=True)})"
        lines.append(f"NAV {_usdc(total['nav'])} USDC; today's P&L {pnl}{limit}")
    if not venue["ok"]:
        since = f" since {venue['down_since']:%H:%M:%S} UTC" if venue.get("down_since") else ""
        as_of = f"; figures above as of {venue['as_of']:%H:%M:%S} UTC (stale)" if total is not None else ""
        lines.append(f"Venue unreachable{since}{as_of}")
    pnl_of = {b["agent"]: f", P&L today {_usdc(b['pnl'], sign=True)} USDC" for b in desk["books"]
              if b.get("pnl") is not None}
    return lines, pnl_of


def _usdc(value: Any, *, sign: bool = False) -> str:
    return format(Decimal(value).quantize(Decimal("0.01")), "+,f" if sign else ",f")


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
