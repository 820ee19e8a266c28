"""The desk page and the JSON its script polls (agents/desk.py reads the venue)."""

from __future__ import annotations

import logging
from typing import Any

from django.contrib.auth.decorators import login_required, permission_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.views.decorators.http import require_GET

from agents import desk
from agents.models import AgentConfig

log = logging.getLogger("academy.operator")
TOGGLE = "monitoring.toggle_kill_switch"
DB_DOWN = "database unavailable: figures cannot be attributed to agents nor set against today's opening NAV"
FRAGMENTS = {"desk-venue": "agents/_desk_venue.html", "desk-total": "agents/_desk_total.html",
             "desk-books": "agents/_desk_books.html"}


def _context(request: HttpRequest) -> dict[str, Any]:
    agents = list(AgentConfig.objects.order_by("name"))
    snapshot = desk.desk_snapshot(agents)
    enabled = {a.name: a.enabled for a in agents}
    for book in snapshot["books"]:
        book["enabled"] = enabled.get(book["agent"])
        book["paused"] = book["agent"] in snapshot["pause"]["agents"]
    return {"snap": snapshot, "can_toggle": request.user.has_perm(TOGGLE), "poll_ms": desk.DESK_POLL_MS,
            "next": request.path if request.path.endswith("/") else "/desk/"}


@login_required
@permission_required("agents.view_agentconfig", raise_exception=True)
@require_GET
def desk_page(request: HttpRequest) -> HttpResponse:
    """NAV and today's P&L against the daily-loss limit, then each agent's positions, orders and fills."""
    try:
        return render(request, "agents/desk.html", _context(request))
    except DatabaseError as exc:  # no attribution, no opening NAV, no pause state: say so, show no figures
        log.error("desk: database unavailable: %s", exc)
        return render(request, "agents/desk.html", {"db_error": DB_DOWN, "poll_ms": desk.DESK_POLL_MS}, status=503)


@login_required
@permission_required("agents.view_agentconfig", raise_exception=True)
@require_GET
def desk_state(request: HttpRequest) -> JsonResponse:
    """The desk's sections rendered again (the page swaps them in), and whether the venue answered."""
    try:
        context = _context(request)
    except DatabaseError as exc:
        log.error("desk: database unavailable: %s", exc)
        return JsonResponse({"error": DB_DOWN}, status=503)
    context["next"] = "/desk/"
    html = {element: render_to_string(name, context, request=request) for element, name in FRAGMENTS.items()}
    return JsonResponse({"venue_ok": context["snap"]["venue"]["ok"], "html": html},
                        headers={"Cache-Control": "no-store"})
