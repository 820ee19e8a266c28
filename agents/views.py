"""The operator UI for agents: the run viewer, the agent page, the override editor, enable/disable.

Reading needs the model's view permission (the same one the admin uses); changing the override
needs the kill-switch permission (it can pause every agent); enable/disable needs change_agentconfig.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from agents.desk import pause_state
from agents.models import AgentConfig, Run, TraceEvent
from agents.overrides import (
    MAX_OVERRIDE_BYTES,
    OverrideChanged,
    OverrideInvalid,
    desk_override_row,
    desk_override_text,
    override_ignored,
    override_parse,
    override_path,
    override_pause_set,
    override_write,
)
from agents.waterfall import waterfall

log = logging.getLogger("academy.operator")
TOGGLE = "monitoring.toggle_kill_switch"
OVERRIDE_EXAMPLE = '{\n  "pause": false,\n  "limits": {"max_order_notional": "10"},\n  "note": "why, and until when"\n}'


# --- the run viewer ----------------------------------------------------------------------------


@login_required
@permission_required("agents.view_run", raise_exception=True)
@require_GET
def run_detail(request: HttpRequest, run_id: int) -> HttpResponse:
    """Show one run's trace: a waterfall of its steps (latency, tokens, cost), then the timeline, grouped
    by step, in plain words first and JSON second."""
    try:
        run = get_object_or_404(Run.objects.select_related("agent", "started_by"), pk=run_id)
        events = list(TraceEvent.objects.filter(run=run).order_by("seq"))
        approvals = list(run.approval_requests.order_by("requested_at"))
    except DatabaseError as exc:  # say so, rather than a crash page or a run without its trace
        log.error("run viewer: run %s could not be read: %s: %s", run_id, type(exc).__name__, exc)
        return render(request, "agents/run_unavailable.html", {"run_id": run_id, "error": type(exc).__name__},
                      status=503)
    context = {"run": run, "steps": _by_step(run, events), "event_count": len(events), "approvals": approvals,
               "waterfall": waterfall(run, events), **_otel_trace(run)}
    return render(request, "agents/run_detail.html", context)


def _otel_trace(run: Run) -> dict[str, Any]:
    """The run's OpenTelemetry trace id, and its link when TRACE_LINK_TEMPLATE is set; shown only where runs
    are exported (the workers' OTEL_ variables, or a link template saying where they go)."""
    from agents import otel

    template = settings.TRACE_LINK_TEMPLATE
    if not (template or otel.enabled()):
        return {}
    trace_id = otel.trace_id_for(run)
    return {"otel_trace_id": trace_id, "otel_trace_link": otel.trace_link(template, trace_id) if template else None}


def _by_step(run: Run, events: list[TraceEvent]) -> list[dict[str, Any]]:
    steps: list[dict[str, Any]] = []
    for event in events:
        if not steps or steps[-1]["step"] != event.step:
            steps.append({"step": event.step, "items": []})
        steps[-1]["items"].append(timeline_item(run, event))
    return steps


def timeline_item(run: Run, event: TraceEvent) -> dict[str, Any]:
    """One event as {title, tone, fields [(label, text)], blocks [(summary, text, open)]}."""
    describe = DESCRIBE.get(event.kind, _generic)
    item = {"seq": event.seq, "kind": event.kind, "ts": event.ts, "tool": event.tool,
            "offset_s": round((event.ts - run.started_at).total_seconds(), 3), "fields": [], "blocks": []}
    item.update(describe(event.data or {}))
    return item


def _pretty(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True, ensure_ascii=False, default=str)


def _run_start(d: dict[str, Any]) -> dict[str, Any]:
    spec = d.get("spec") or {}
    return {"title": f"Run started: {d.get('agent', '?')} with {d.get('policy', '?')} / {d.get('model', '?')}",
            "tone": "info",
            "fields": [("temperature", str(d.get("temperature"))), ("seed", str(d.get("seed"))),
                       ("tools offered", ", ".join(d.get("offered_tools") or []))],
            "blocks": [("Agent spec: limits, budgets, allowlist", _pretty(spec), False)]}


def _model_request(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Asked the model ({d.get('message_count', '?')} messages so far)", "tone": "model",
            "fields": [("model", str(d.get("model", ""))), ("tools offered", ", ".join(d.get("tools") or []))],
            "blocks": [("New messages sent", _pretty(d.get("new_messages", [])), False)]}


def _model_response(d: dict[str, Any]) -> dict[str, Any]:
    calls = d.get("tool_calls") or []
    usage = d.get("usage") or {}
    title = (f"Model answered: {len(calls)} tool call(s)" if calls else "Model answered with a final message")
    blocks = [("Reasoning (the model's text)", d["text"], False)] if d.get("text") else []
    if d.get("final"):
        blocks.append(("Final message", str(d["final"]), True))
    blocks += [(f"{c.get('name')} arguments", _pretty(c.get("arguments")), False) for c in calls]
    return {"title": title, "tone": "model", "blocks": blocks,
            "fields": [("tokens in/out", f"{usage.get('input_tokens', '?')} / {usage.get('output_tokens', '?')}"),
                       ("cost", f"{d.get('cost_usd', '?')} USD"), ("latency", f"{d.get('latency_ms', '?')} ms"),
                       ("stop reason", str(d.get("stop_reason", "")))]}


def _decision(d: dict[str, Any]) -> dict[str, Any]:
    if d.get("action") == "final":
        return {"title": "Decided to stop", "tone": "model", "fields": [("message", str(d.get("message", "")))]}
    names = ", ".join(str(c.get("name")) for c in d.get("calls") or [])
    return {"title": f"Decided to call: {names}", "tone": "model"}


def _approval_decided(d: dict[str, Any]) -> dict[str, Any]:
    votes = d.get("votes") or []
    who = ", ".join(f"{v.get('by')} ({v.get('decision')}{': ' + v['note'] if v.get('note') else ''})" for v in votes)
    return {"title": f"Human approval #{d.get('approval_id')}: {d.get('decision', '?')} by {who or '?'}",
            "tone": "approval", "fields": [("client order id", str(d.get("client_order_id", "")))]}


def _tool_call(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Tool call: {d.get('name', '?')}", "tone": "tool",
            "blocks": [("Arguments", _pretty(d.get("arguments")), True)]}


def _tool_result(d: dict[str, Any]) -> dict[str, Any]:
    ok = d.get("ok")
    fields = [("latency", f"{d.get('latency_ms', '?')} ms")]
    if d.get("sanitised"):
        fields.append(("sanitised", ", ".join(map(str, d["sanitised"]))))
    if ok:
        return {"title": f"Result of {d.get('tool', '?')}: ok", "tone": "tool", "fields": fields,
                "blocks": [("Result (as the model saw it)", _pretty(d.get("result")), False)]}
    return {"title": f"Result of {d.get('tool', '?')}: FAILED", "tone": "refusal", "fields": fields,
            "blocks": [("Error", _pretty(d.get("error")), True)]}


def _refusal(d: dict[str, Any]) -> dict[str, Any]:
    if d.get("what") == "order":
        return {"title": f"Order refused: {d.get('reason', '')}", "tone": "refusal",
                "fields": [("client order id", str(d.get("client_order_id", ""))),
                           ("notional", str(d.get("notional", "")))]}
    return {"title": f"Tool refused (not on the allowlist): {d.get('tool', '?')}", "tone": "refusal",
            "blocks": [("Details", _pretty(d), False)]}


def _approval(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Sent for human approval (#{d.get('approval_id', '?')}): {', '.join(d.get('reasons') or [])}",
            "tone": "approval", "fields": [("notional", str(d.get("notional", "")))],
            "blocks": [("Order request", _pretty(d.get("request")), True)]}


def _order(d: dict[str, Any]) -> dict[str, Any]:
    order = d.get("order") or {}
    what = "Order simulated (dry run)" if d.get("dry_run") else "Order placed"
    if d.get("duplicate"):
        what += " (the venue already had it: retry was safe)"
    summary = f"{order.get('side', '')} {order.get('size', '')} {order.get('outcome', '')} {order.get('market', '')}"
    return {"title": f"{what}: {summary} @ {order.get('price', '')}", "tone": "order",
            "fields": [("notional", str(d.get("notional", ""))), ("status", str(order.get("status", "")))],
            "blocks": [("Order", _pretty(order), False)]}


def _stop(label: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    def describe(d: dict[str, Any]) -> dict[str, Any]:
        return {"title": f"{label}: {d.get('reason', '')}", "tone": "stop",
                "blocks": [("Details", _pretty(d), False)]}
    return describe


def _tool_timeout(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Tool {d.get('tool', '?')} timed out after {d.get('timeout_s', '?')} s", "tone": "stop"}


def _suspicious(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Suspicious output from {d.get('tool', '?')} (cleaned before the model saw it)",
            "tone": "refusal", "blocks": [("Findings", _pretty(d.get("findings")), True)]}


def _run_end(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": f"Run ended: {d.get('outcome', '?')}" + (f" ({d['halt_reason']})" if d.get("halt_reason") else ""),
            "tone": "info",
            "fields": [("steps", str(d.get("steps"))), ("tool calls", str(d.get("tool_calls"))),
                       ("tokens in/out", f"{d.get('tokens_in')} / {d.get('tokens_out')}"),
                       ("cost", f"{d.get('cost_usd')} USD"), ("orders", _pretty(d.get("orders") or {}))],
            "blocks": [("Run result", _pretty(d), False)]}


def _generic(d: dict[str, Any]) -> dict[str, Any]:
    return {"title": "", "tone": "info", "blocks": [("Data", _pretty(d), False)]}


DESCRIBE: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {
    "run_start": _run_start, "model_request": _model_request, "model_response": _model_response,
    "decision": _decision, "tool_call": _tool_call, "tool_result": _tool_result, "refusal": _refusal,
    "approval_requested": _approval, "approval_decided": _approval_decided,
    "order_placed": _order, "budget_stop": _stop("Budget stop"),
    "kill_switch_stop": _stop("Kill switch stop"), "max_steps": _stop("Step cap reached (runaway loop)"),
    "tool_timeout": _tool_timeout, "suspicious_output": _suspicious, "recovery": _stop("Recovered"),
    "error": _stop("Error"), "run_end": _run_end,
}


# --- the agent page ----------------------------------------------------------------------------


@login_required
@permission_required("agents.view_agentconfig", raise_exception=True)
@require_GET
def agent_detail(request: HttpRequest, name: str) -> HttpResponse:
    """Config, recent runs, the override editor and the enable switch; the charts load from metrics.json."""
    agent = get_object_or_404(AgentConfig, name=name)
    context = {"agent": agent, "runs": Run.objects.filter(agent=agent).order_by("-started_at", "-id")[:20],
               **_override_context(request)}
    return render(request, "agents/agent_detail.html", context)


@login_required
@permission_required("agents.change_agentconfig", raise_exception=True)
@require_POST
def agent_set_enabled(request: HttpRequest, name: str) -> HttpResponse:
    """Enable or disable an agent (compare-and-set), then make the worker schedules follow."""
    from agents.schedules import schedules_sync

    agent = get_object_or_404(AgentConfig, name=name)
    wanted = request.POST.get("enabled") in ("1", "true", "on")
    changed = AgentConfig.objects.filter(pk=agent.pk, enabled=not wanted).update(enabled=wanted)
    if not changed:
        messages.info(request, f"{agent.name} was already {'enabled' if wanted else 'disabled'}.")
        return redirect("agents:agent", name=agent.name)
    schedules_sync()
    log.warning("operator: %s %s agent %s", request.user.get_username(), "enabled" if wanted else "disabled", name)
    messages.success(request, f"{agent.name} {'enabled: runs are scheduled' if wanted else 'disabled: no new runs'}.")
    return redirect("agents:agent", name=agent.name)


# --- the override editor -------------------------------------------------------------------------

DRAFT_KEY = "override_draft"  # a refused or checked draft, carried to the page the user came from


def _override_context(request: HttpRequest, text: str | None = None, error: str = "",
                      checked: bool = False) -> dict[str, Any]:
    """The editor's context: the document in force, or a draft (passed, or carried in the session
    from a POST that redirected back), with its error and what the guards would ignore in it."""
    if text is None and (draft := request.session.pop(DRAFT_KEY, None)):
        text, error, checked = draft["text"], draft["error"], draft["checked"]
    row = desk_override_row()
    shown = desk_override_text() if text is None else text
    return {"override_text": shown, "override_row": row, "override_draft": text is not None,
            "override_error": error, "override_example": OVERRIDE_EXAMPLE, "override_checked": checked,
            "override_ignored": [] if error else _ignored(shown), "override_paused": pause_state(),
            "local_override": _local_override_text(), "can_edit_override": request.user.has_perm(TOGGLE)}


def _ignored(text: str) -> list[str]:
    """What the guards will ignore in this document (nothing to say about one that does not parse)."""
    try:
        doc = override_parse(text)
    except OverrideInvalid:
        return []
    return override_ignored(doc, list(AgentConfig.objects.order_by("name")))


def _local_override_text() -> str:
    """This host's override.json as the agents here read it (it can only tighten), or "" when absent."""
    path = override_path()
    try:
        return path.read_text(encoding="utf-8", errors="replace")[:MAX_OVERRIDE_BYTES] if path.exists() else ""
    except OSError as exc:
        return f"(unreadable: {exc}; the agents on this host stop until it is fixed)"


@login_required
@permission_required("agents.view_agentconfig", raise_exception=True)
@require_http_methods(["GET", "POST"])
def override_edit(request: HttpRequest) -> HttpResponse:
    """Show the desk override; on POST validate it strictly and save it as the new one (or, with
    action=check, only say what is wrong or ignored), or refuse and say why on the page posted from."""
    if request.method == "GET":
        return render(request, "agents/override.html", _override_context(request))
    if not request.user.has_perm(TOGGLE):
        raise PermissionDenied("editing the desk override needs the toggle_kill_switch permission")
    text = request.POST.get("document", "")
    checking = request.POST.get("action") == "check"
    based_on = request.POST.get("based_on")
    try:
        override_parse(text)  # first: the error the user can mend
        if checking:
            return _back_with_draft(request, text, "", status=200)
        if based_on is None or not (based_on == "" or based_on.isdigit()):
            return _back_with_draft(request, text, "This form is out of date (it does not say which override it "
                                    "edited): reload the page, then save again.", status=400)
        # compare-and-set on the row the form showed: a pause pressed meanwhile is never undone unseen
        override_write(text=text, actor=request.user, based_on=int(based_on) if based_on else None)
    except OverrideInvalid as exc:
        return _back_with_draft(request, text, str(exc), status=400)
    except OverrideChanged:
        now = pause_state()
        return _back_with_draft(request, text, "Not saved: someone changed the desk override while you edited it "
                                f"(now in force: desk {'PAUSED' if now['desk'] else 'trading'}, paused agents: "
                                f"{', '.join(now['agents']) or 'none'}). Your draft is below: make sure it keeps "
                                "what they set, then save again.", status=409)
    ignored = _ignored(text)
    messages.success(request, "Desk override saved: agents on every host read it at their next check."
                     + (f" {len(ignored)} part(s) of it will be ignored: see below." if ignored else ""))
    return redirect(request.POST["next"] if _safe_next(request) else "agents:override")


def _back_with_draft(request: HttpRequest, text: str, error: str, *, status: int) -> HttpResponse:
    """Show the draft, its error or what it would ignore, where the user was: the agent page they posted
    from (through the session, then back to its form), else the editor's own page."""
    if _safe_next(request):
        request.session[DRAFT_KEY] = {"text": text[:MAX_OVERRIDE_BYTES], "error": error, "checked": not error}
        return redirect(request.POST["next"] + "#override-form")
    return render(request, "agents/override.html", _override_context(request, text, error, checked=not error),
                  status=status)


@login_required
@permission_required(TOGGLE, raise_exception=True)
@require_POST
def override_pause(request: HttpRequest) -> HttpResponse:
    """Pause or resume one agent (`agent`) or the whole desk (no agent) through the desk override, with
    a reason; back to the page posted from, with what happened."""
    agent = request.POST.get("agent", "").strip()
    if request.POST.get("pause") not in ("0", "1"):  # never read a missing field as "resume"
        messages.error(request, "Not changed: the request did not say pause (1) or resume (0).")
        return _back(request)
    pause = request.POST["pause"] == "1"
    what = agent or "the whole desk"
    if agent and not AgentConfig.objects.filter(name=agent).exists():
        messages.error(request, f"Not changed: there is no agent named {agent!r}.")
        return _back(request)
    try:
        changed = override_pause_set(actor=request.user, pause=pause, reason=request.POST.get("reason", ""),
                                     agent=agent)
    except (OverrideInvalid, OverrideChanged) as exc:
        messages.error(request, f"Not {'paused' if pause else 'resumed'}: {exc}")
        return _back(request)
    except DatabaseError as exc:  # busy or down: nothing was written (one transaction); say so where the user is
        log.error("operator: %s could not %s %s: %s", request.user.get_username(), "pause" if pause else "resume",
                  what, exc)
        messages.error(request, f"Not {'paused' if pause else 'resumed'}: the database did not answer ({exc}); "
                       "nothing changed, try again.")
        return _back(request)
    if not changed:
        messages.info(request, f"{what.capitalize()} was already {'paused' if pause else 'running'}: nothing changed.")
    elif pause:
        messages.success(request, f"Paused {what}: runs stop at their next check, on every host.")
    else:
        messages.success(request, f"Resumed {what}: runs trade again at their next check (unless halted).")
    return _back(request)


def _back(request: HttpRequest) -> HttpResponse:
    return redirect(request.POST["next"] if _safe_next(request) else "desk:desk")


def _safe_next(request: HttpRequest) -> bool:
    from django.utils.http import url_has_allowed_host_and_scheme

    return url_has_allowed_host_and_scheme(request.POST.get("next"), allowed_hosts={request.get_host()})
