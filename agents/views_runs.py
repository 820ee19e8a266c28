"""The run search at /agents/runs/: runs across agents by agent, market, tool, status and time, newest first.

The filters live in the query string (a search is a link to share). Agent, status and time read the
Run indexes; the tool and market filters look into the trace (a run's `tool_call` rows, through the
(run, seq) index), and the market one into each call's JSON arguments, which no index covers: both are
bounded to the runs started in a window of at most TRACE_WINDOW_MAX (the last TRACE_WINDOW_DEFAULT when
no start is given), and to the newest TRACE_SCAN_RUNS runs in it; the page says so. Pages are read with
one extra row instead of a COUNT, so a page costs the same on a table of a million runs as on ten.
"""

from __future__ import annotations

import logging
import re
from datetime import datetime, timedelta
from typing import Any

from django import forms
from django.contrib.auth.decorators import login_required, permission_required
from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Q, QuerySet, Value
from django.db.models.functions import Concat
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from agents.core.spec import TOOL_NAMES
from agents.models import AgentConfig, Run, RunStatus, TraceEvent
from agents.venue.strict import MAX_SLUG_CHARS

log = logging.getLogger("academy.operator")
PAGE_SIZE = 25
MAX_PAGE = 400  # deeper than this, narrow the filters (an OFFSET walks every row before it)
TRACE_WINDOW_DEFAULT = timedelta(days=1)
TRACE_WINDOW_MAX = timedelta(days=7)
TRACE_SCAN_RUNS = 10_000  # at most this many runs' traces per search: about 0.3 s on SQLite (docs/runs.md)
SLUG = re.compile(r"^[a-z0-9][a-z0-9-]*$")
TIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"]


class _TimeInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self) -> None:
        super().__init__(format="%Y-%m-%dT%H:%M")


class RunSearchForm(forms.Form):
    """The filters, all optional; a bad value is an error on its field, and then nothing is searched."""

    agent = forms.ModelChoiceField(queryset=AgentConfig.objects.order_by("name"), to_field_name="name",
                                   required=False, empty_label="any agent",
                                   error_messages={"invalid_choice": "No agent with that name."})
    market = forms.CharField(required=False, max_length=MAX_SLUG_CHARS, strip=True,
                             help_text="market slug, as the agent's tool calls name it")
    tool = forms.ChoiceField(choices=[("", "any tool"), *[(t, t) for t in TOOL_NAMES]], required=False,
                             error_messages={"invalid_choice": "Unknown tool %(value)s."})
    status = forms.ChoiceField(choices=[("", "any status"), *RunStatus.choices], required=False,
                               error_messages={"invalid_choice": "Unknown status %(value)s."})
    since = forms.DateTimeField(required=False, input_formats=TIME_FORMATS, widget=_TimeInput(),
                                label="started from (UTC)")
    until = forms.DateTimeField(required=False, input_formats=TIME_FORMATS, widget=_TimeInput(),
                                label="started before (UTC)")
    page = forms.IntegerField(required=False, min_value=1, max_value=MAX_PAGE, widget=forms.HiddenInput)

    def clean_market(self) -> str:
        market = self.cleaned_data["market"]
        if market and not SLUG.match(market):
            raise forms.ValidationError("A market slug is lower-case letters, digits and dashes, e.g. btc-above-100k.")
        return market

    def clean(self) -> dict[str, Any]:
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since >= until:
            self.add_error("until", "This must be after the start of the range.")
        elif self.reads_trace and since and (until or timezone.now()) - since > TRACE_WINDOW_MAX:
            self.add_error("since", f"With a tool or market filter the range is at most {TRACE_WINDOW_MAX.days} days "
                                    "(those filters read each run's trace).")
        return data

    @property
    def reads_trace(self) -> bool:
        return bool(self.cleaned_data.get("tool") or self.cleaned_data.get("market"))


def runs_search(filters: dict[str, Any], *, now: datetime) -> tuple[QuerySet[Run], str]:
    """The runs matching valid filters, newest first, and a note on the window the trace filters read."""
    runs = Run.objects.select_related("agent").order_by("-started_at", "-id")
    since, until, note = _window(filters, now)
    if filters.get("agent"):
        runs = runs.filter(agent=filters["agent"])
    if filters.get("status"):
        runs = runs.filter(status=filters["status"])
    if since:
        runs = runs.filter(started_at__gte=since)
    if until:
        runs = runs.filter(started_at__lt=until)
    if filters.get("tool") or filters.get("market"):
        runs, capped = _scan_cap(runs)
        runs = runs.filter(Exists(_calls(filters)))
        note = " ".join(filter(None, [note, capped]))
    return runs, note


def _scan_cap(runs: QuerySet[Run]) -> tuple[QuerySet[Run], str]:
    """Bound the trace filters to the newest TRACE_SCAN_RUNS runs of the window: one walk of the Run index
    finds where they begin, so a market no run touched costs that many runs' traces, not a week's."""
    edge = list(runs.values_list("started_at", flat=True)[TRACE_SCAN_RUNS - 1:TRACE_SCAN_RUNS])
    if not edge:
        return runs, ""
    return runs.filter(started_at__gte=edge[0]), (
        f"The traces of the newest {TRACE_SCAN_RUNS:,} runs in that range were read (back to "
        f"{edge[0]:%Y-%m-%d %H:%M:%S} UTC): pick an agent, a status or a shorter range to reach older ones.")


def _window(filters: dict[str, Any], now: datetime) -> tuple[datetime | None, datetime | None, str]:
    since, until = filters.get("since"), filters.get("until")
    if not (filters.get("tool") or filters.get("market")) or since:
        return since, until, ""
    since = (until or now) - TRACE_WINDOW_DEFAULT
    return since, until, (f"Tool and market filters read each run's trace, so this searched only the runs started "
                          f"in the {_hours(TRACE_WINDOW_DEFAULT)} hours from {since:%Y-%m-%d %H:%M} UTC. Pick a "
                          f"start to look further back, at most {TRACE_WINDOW_MAX.days} days at a time.")


def _hours(delta: timedelta) -> int:
    return int(delta.total_seconds() // 3600)


def _calls(filters: dict[str, Any]) -> QuerySet[TraceEvent]:
    """A run's tool calls that match the tool and market filters (each is a `tool_call` row of that run)."""
    # Read through the run's own rows (trace_run_seq_unique: a few dozen per run). kind and tool are compared
    # as expressions so that no planner walks the (kind, tool, ts) index instead, once per run, over every
    # call of that tool in the window (SQLite did, without table statistics). The window is already on the
    # runs (started_at), so the calls need no time bound of their own.
    calls = TraceEvent.objects.filter(run=OuterRef("pk")).alias(kind_of=Concat("kind", Value("")))
    calls = calls.filter(kind_of="tool_call")
    if filters.get("tool"):
        calls = calls.alias(tool_of=Concat("tool", Value(""))).filter(tool_of=filters["tool"])
    if filters.get("market"):
        slug = filters["market"]  # the tools name a market `slug` (reads) or `market` (orders, cancels)
        calls = calls.filter(Q(data__arguments__slug=slug) | Q(data__arguments__market=slug))
    return calls


def _page(runs: QuerySet[Run], page: int) -> tuple[list[Run], bool]:
    """One page and whether an older one exists (one extra row instead of a COUNT over every match)."""
    start = (page - 1) * PAGE_SIZE
    rows = list(runs[start:start + PAGE_SIZE + 1])
    return rows[:PAGE_SIZE], len(rows) > PAGE_SIZE


@login_required
@permission_required("agents.view_run", raise_exception=True)
@require_GET
def run_search(request: HttpRequest) -> HttpResponse:
    """Search runs; bad filters are shown on the form (400), a database that cannot answer says so (503)."""
    form = RunSearchForm(request.GET or None)
    context: dict[str, Any] = {"form": form, "runs": None, "note": "", "error": "", "trace_days": TRACE_WINDOW_MAX.days}
    if request.GET and not form.is_valid():
        return render(request, "agents/run_search.html", context, status=400)
    filters = form.cleaned_data if request.GET else {}
    page = filters.get("page") or 1
    try:
        runs, note = runs_search(filters, now=timezone.now())
        rows, older = _page(runs, page)
    except DatabaseError as exc:
        log.error("run search failed: %s: %s", type(exc).__name__, exc)
        context["error"] = (f"The runs could not be read: the database did not answer ({type(exc).__name__}). "
                            "Nothing is shown rather than a partial list; try again.")
        return render(request, "agents/run_search.html", context, status=503)
    context.update(runs=rows, note=note, page=page, newer=_link(request, page - 1) if page > 1 else "",
                   older=_link(request, page + 1) if older else "")
    return render(request, "agents/run_search.html", context)


def _link(request: HttpRequest, page: int) -> str:
    query = request.GET.copy()
    query["page"] = str(page)
    if page == 1:
        query.pop("page")
    return f"?{query.urlencode()}"
