"""The home page and the liveness probe."""

from __future__ import annotations

import logging

import httpx
from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import DatabaseError, connection
from django.db.models import OuterRef, Subquery
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from agents.models import AgentConfig, Run
from monitoring.halt import kill_switch_state

log = logging.getLogger(__name__)


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Answer 200 when the database answers, 503 otherwise (load balancers read this)."""
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:  # the details go to the log, not to an anonymous caller
        log.error("healthz: database check failed: %s", exc)
        return JsonResponse({"status": "fail", "db": "unavailable"}, status=503)
    return JsonResponse({"status": "ok", "db": "ok"})


@login_required
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    """Show the agents with their latest run, the kill-switch state and the venue's reachability."""
    context = {
        "agents": _agents_with_last_run(),
        "kill_switch": kill_switch_state(),
        "venue": venue_reachability(),
    }
    return render(request, "home.html", context)


def _agents_with_last_run() -> list[AgentConfig]:
    # One query: the latest run's id, status and start per agent come from subqueries.
    latest = Run.objects.filter(agent=OuterRef("pk")).order_by("-started_at", "-id")
    return list(
        AgentConfig.objects.annotate(
            last_run_id=Subquery(latest.values("id")[:1]),
            last_run_status=Subquery(latest.values("status")[:1]),
            last_run_started=Subquery(latest.values("started_at")[:1]),
        )
    )


def venue_reachability() -> dict[str, object]:
    """Probe the venue's /healthz with a short timeout."""
    try:
        response = httpx.get(f"{settings.VENUE_URL}/healthz", timeout=1.0)
    except httpx.HTTPError as exc:
        return {"ok": False, "url": settings.VENUE_URL, "detail": type(exc).__name__}
    return {"ok": response.status_code == 200, "url": settings.VENUE_URL, "detail": f"HTTP {response.status_code}"}
