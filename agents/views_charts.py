"""The agent page's chart data as JSON (/agents/<name>/metrics.json), drawn by static/js/charts.js.

Same permission as the agent page. Bounded and downsampled in monitoring/charts.py; a bad `hours`
is a 400 with the reason, a database that does not answer a 503 the page shows as such (never an
empty chart that would read as "all quiet").
"""

from __future__ import annotations

import logging

from django.contrib.auth.decorators import login_required, permission_required
from django.db import DatabaseError
from django.http import HttpRequest, JsonResponse
from django.shortcuts import get_object_or_404
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from agents.models import AgentConfig
from monitoring.charts import BadRequest, agent_chart_data, parse_hours

log = logging.getLogger("academy.operator")


@login_required
@permission_required("agents.view_agentconfig", raise_exception=True)
@require_GET
@never_cache
def agent_metrics(request: HttpRequest, name: str) -> JsonResponse:
    """Answer the agent's charts for the last ?hours=N (default 24): points, unit and threshold each."""
    try:
        hours = parse_hours(request.GET.get("hours"))
    except BadRequest as exc:
        return JsonResponse({"error": str(exc)}, status=400)
    try:
        agent = get_object_or_404(AgentConfig, name=name)
        return JsonResponse(agent_chart_data(agent, hours=hours, now=timezone.now()))
    except DatabaseError as exc:
        log.exception("agent %s: chart data unavailable", name)
        return JsonResponse({"error": f"metrics unavailable: the database did not answer ({type(exc).__name__})"},
                            status=503)
