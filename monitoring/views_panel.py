"""The live panel page and its two actions, halt and resume (both through monitoring/halt.py).

The page renders a snapshot at once and panel.js keeps it live over the websocket. Halt and
resume are plain CSRF-protected POSTs: they work without JavaScript (redirect with a message),
and panel.js posts them with fetch() (header X-Panel-Fetch) to show the answer in place.
"""

from __future__ import annotations

import logging
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_POST

from agents.venue.strict import clean_text
from monitoring import panel as panel_data
from monitoring.halt import ResumeRefused, halt, resume
from monitoring.models import HaltSource

log = logging.getLogger("academy.panel")
TOGGLE = "monitoring.toggle_kill_switch"
MAX_REASON = 2000
WS_PATH = "/ws/panel/"  # monitoring/routing.py; websocket routes are outside ROOT_URLCONF, so no reverse()


@login_required
@require_GET
def panel(request: HttpRequest) -> HttpResponse:
    """Show the panel; everyone logged in reads it, only TOGGLE users get the buttons."""
    approvals = panel_data.may_see_approvals(request.user)
    context = {
        "snapshot": panel_data.for_user(panel_data.snapshot(), approvals=approvals),
        "activity": _activity_or_error(),
        "can_toggle": request.user.has_perm(TOGGLE),
        "can_see_approvals": approvals,
        "urls": {
            "ws": WS_PATH,
            "halt": reverse("monitoring:panel_halt"),
            "activity": reverse("monitoring:panel_activity"),
            "resume": reverse("monitoring:panel_resume"),
            "run": reverse("agents:run", args=[0]).replace("/0/", "/{id}/")
            if request.user.has_perm("agents.view_run") else "",
            "agent": reverse("agents:agent", args=["x"]).replace("/x/", "/{name}/")
            if request.user.has_perm("agents.view_agentconfig") else "",
        },
    }
    return render(request, "monitoring/panel.html", context)


@login_required
@require_GET
def panel_state(request: HttpRequest) -> JsonResponse:
    """The same snapshot as JSON (debugging, and scripts that poll instead of subscribing)."""
    snap = panel_data.for_user(panel_data.snapshot(), approvals=panel_data.may_see_approvals(request.user))
    return JsonResponse({"snapshot": snap, "can_toggle": request.user.has_perm(TOGGLE)})


@login_required
@require_GET
@never_cache
def panel_activity(request: HttpRequest) -> JsonResponse:
    """The panel chart's history: runs ended per 5 minutes and the halts, last 6 hours (503 when unreadable)."""
    data = _activity_or_error()
    return JsonResponse(data, status=503 if "error" in data else 200)


def _activity_or_error() -> dict[str, Any]:
    """The chart's data, or why there is none: a chart must never draw "no runs" for "could not read"."""
    try:
        return panel_data.activity_snapshot()
    except DatabaseError as exc:
        log.exception("panel: activity chart unavailable")
        return {"error": f"chart unavailable: the database did not answer ({type(exc).__name__})"}


@login_required
@permission_required(TOGGLE, raise_exception=True)
@require_POST
def panel_halt(request: HttpRequest) -> HttpResponse:
    """Halt trading: the confirm step's reason is required."""
    reason = _reason(request)
    if not reason:
        return _answer(request, False, "A halt needs a reason.", 400)
    event = halt(reason=reason, source=HaltSource.PANEL, actor=request.user)
    log.warning("panel: %s halted trading: %s", request.user.get_username(), reason)
    done = "Trading HALTED." if event.action == "halt" else "Trading was already halted; venue swept again."
    if event.pk is None:  # swept and durable; only the database record waits (it lands by itself)
        done = (f"Trading HALTED: {event.orders_cancelled} resting order(s) cancelled. The database has not "
                f"recorded it yet; it lands by itself once the database takes writes.")
        rest = [e for e in event.errors if not e.startswith("halt not recorded")]
        return _answer(request, True, f"{done} {'; '.join(rest)}".strip(), 200)
    if event.errors:
        return _answer(request, True, f"{done} With errors, check the venue by hand: {'; '.join(event.errors)}", 200)
    return _answer(request, True, f"{done} {event.orders_cancelled} resting order(s) cancelled.", 200)


@login_required
@permission_required(TOGGLE, raise_exception=True)
@require_POST
def panel_resume(request: HttpRequest) -> HttpResponse:
    """Resume trading: reason required; a hold or a pending reconciliation refuses it, and we say why."""
    reason = _reason(request)
    try:
        resume(actor=request.user, reason=reason, source=HaltSource.PANEL)
    except PermissionDenied as exc:
        return _answer(request, False, str(exc), 403)
    except ValueError as exc:
        return _answer(request, False, f"{str(exc).capitalize()}.", 400)
    except ResumeRefused as exc:
        return _answer(request, False, f"Resume refused: {exc}", 409)
    log.warning("panel: %s resumed trading: %s", request.user.get_username(), reason)
    return _answer(request, True, "Trading resumed.", 200)


def _reason(request: HttpRequest) -> str:
    """The posted reason without control characters: a NUL would fail the row write on PostgreSQL
    after the venue was already swept (a half-done halt), and a halt must not be refused for it."""
    return clean_text(request.POST.get("reason", ""), max_chars=MAX_REASON).strip()


def _answer(request: HttpRequest, ok: bool, message: str, status: int) -> HttpResponse:
    """JSON for panel.js; a message and a redirect back to the panel for a plain form post."""
    if request.headers.get("X-Panel-Fetch"):
        return JsonResponse({"ok": ok, "message": message}, status=status)
    (messages.success if ok else messages.error)(request, message)
    return redirect("monitoring:panel")
