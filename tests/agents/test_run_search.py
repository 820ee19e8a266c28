"""The run search at /agents/runs/: each filter, bad input, permissions, pages, and a database that fails."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from itertools import count
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.db import OperationalError
from django.urls import resolve, reverse
from django.utils import timezone

from agents import views_runs
from agents.models import AgentConfig, Run
from tests.factories import AgentConfigFactory, RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db
URL = "/agents/runs/"
_call_ids = count(1)


def _run(agent: AgentConfig, *, ago: timedelta = timedelta(minutes=5), status: str = "completed",
         calls: list[tuple[str, dict[str, Any]]] = ()) -> Run:
    """A run with its tool calls traced as the loop writes them (tool_call rows, then an ok result)."""
    start = timezone.now() - ago
    run = RunFactory(agent=agent, status=status, started_at=start, ended_at=start + timedelta(seconds=9))
    for seq, (tool, arguments) in enumerate(calls):
        data = {"id": f"call_{next(_call_ids)}", "name": tool, "arguments": arguments, "index": seq}
        TraceEventFactory(run=run, seq=2 * seq, kind="tool_call", step=seq, tool=tool, data=data,
                          ts=start + timedelta(seconds=seq + 1))
        TraceEventFactory(run=run, seq=2 * seq + 1, kind="tool_result", step=seq, tool=tool,
                          data={"call_id": data["id"], "tool": tool, "ok": True, "result": {"market": arguments},
                                "latency_ms": 4.0}, ts=start + timedelta(seconds=seq + 1.5))
    return run


def _found(response) -> list[int]:
    assert response.status_code == 200, response.content.decode()[:2000]
    return [int(pk) for pk in re.findall(r'id="result-(\d+)"', response.content.decode())]


@pytest.fixture
def reader(django_user_model):
    """May read runs (agents.view_run) and nothing else."""
    user = django_user_model.objects.create_user("reader", password="pw-reader")
    user.user_permissions.add(Permission.objects.get(codename="view_run"))
    return user


@pytest.fixture
def reader_client(client, reader):
    client.force_login(reader)
    return client


@pytest.fixture
def alpha() -> AgentConfig:
    return AgentConfigFactory(name="alpha")


@pytest.fixture
def beta() -> AgentConfig:
    return AgentConfigFactory(name="beta")


# --- the filters -----------------------------------------------------------------------------------


def test_it_lists_every_run_newest_first_without_filters(reader_client, alpha, beta):
    old, new = _run(alpha, ago=timedelta(hours=3)), _run(beta, ago=timedelta(minutes=1))
    html = reader_client.get(URL).content.decode()
    assert _found(reader_client.get(URL)) == [new.pk, old.pk]
    assert f'href="/agents/runs/{new.pk}/"' in html  # each result opens its run


def test_it_finds_the_runs_of_one_agent(reader_client, alpha, beta):
    mine = [_run(alpha, ago=timedelta(minutes=m)) for m in (9, 2)]
    _run(beta)
    assert _found(reader_client.get(URL, {"agent": "alpha"})) == [mine[1].pk, mine[0].pk]


def test_it_finds_the_runs_that_called_a_tool(reader_client, alpha):
    ordered = _run(alpha, calls=[("browse_markets", {}), ("place_limit_order", {"market": "btc-1"})])
    _run(alpha, calls=[("browse_markets", {})])
    assert _found(reader_client.get(URL, {"tool": "place_limit_order"})) == [ordered.pk]


def test_it_finds_the_runs_that_touched_a_market_by_their_tool_arguments(reader_client, alpha, beta):
    read = _run(alpha, ago=timedelta(minutes=3), calls=[("get_market", {"slug": "btc-above-100k"})])
    ordered = _run(beta, ago=timedelta(minutes=2), calls=[("place_limit_order", {"market": "btc-above-100k"})])
    _run(alpha, ago=timedelta(minutes=1), calls=[("get_market", {"slug": "btc-above-100k-hourly"})])  # a prefix only
    _run(alpha, calls=[("browse_markets", {"category": "btc-above-100k"})])  # not a market argument
    assert _found(reader_client.get(URL, {"market": "btc-above-100k"})) == [ordered.pk, read.pk]
    both = reader_client.get(URL, {"market": "btc-above-100k", "tool": "get_market", "agent": "alpha"})
    assert _found(both) == [read.pk]


def test_it_finds_runs_by_status(reader_client, alpha):
    stopped = _run(alpha, status="budget_tokens")
    _run(alpha, status="completed")
    assert _found(reader_client.get(URL, {"status": "budget_tokens"})) == [stopped.pk]


def test_it_finds_runs_started_in_a_time_range(reader_client, alpha):
    now = timezone.now()
    inside = _run(alpha, ago=timedelta(hours=5))
    _run(alpha, ago=timedelta(hours=8))
    _run(alpha, ago=timedelta(hours=1))
    since, until = (now - timedelta(hours=6)).strftime("%Y-%m-%dT%H:%M"), (now - timedelta(hours=4)).strftime(
        "%Y-%m-%dT%H:%M")
    assert _found(reader_client.get(URL, {"since": since, "until": until})) == [inside.pk]


def test_it_reads_the_trace_of_the_last_day_only_unless_told_and_says_so(reader_client, alpha):
    recent = _run(alpha, ago=timedelta(hours=2), calls=[("get_balance", {})])
    older = _run(alpha, ago=timedelta(days=3), calls=[("get_balance", {})])
    response = reader_client.get(URL, {"tool": "get_balance"})
    assert _found(response) == [recent.pk]
    assert 'id="window-note"' in response.content.decode()
    since = (timezone.now() - timedelta(days=4)).strftime("%Y-%m-%dT%H:%M")
    assert _found(reader_client.get(URL, {"tool": "get_balance", "since": since})) == [recent.pk, older.pk]


def test_it_reads_the_traces_of_the_newest_runs_only_and_says_where_it_stopped(reader_client, alpha, monkeypatch):
    monkeypatch.setattr(views_runs, "TRACE_SCAN_RUNS", 3)
    runs = [_run(alpha, ago=timedelta(minutes=m), calls=[("get_balance", {})]) for m in (50, 40, 30, 20, 10)]
    response = reader_client.get(URL, {"tool": "get_balance"})
    assert _found(response) == [r.pk for r in reversed(runs[2:])]
    note = re.search(r'id="window-note">(.*?)</p>', response.content.decode(), re.S).group(1)
    assert f"newest 3 runs in that range were read (back to {runs[2].started_at:%Y-%m-%d %H:%M:%S} UTC)" in note
    assert _found(reader_client.get(URL, {"status": "completed"})) == [r.pk for r in reversed(runs)]  # no trace read


def test_it_finds_a_run_whose_calls_came_after_the_end_of_the_range(reader_client, alpha):
    """The range is on when runs started: a run started a second before the end still counts by its later calls."""
    run = _run(alpha, ago=timedelta(minutes=10), calls=[("get_balance", {}), ("get_positions", {})])
    until = run.started_at + timedelta(seconds=1)
    assert _found(reader_client.get(URL, {"tool": "get_positions", "until": until.strftime("%Y-%m-%dT%H:%M:%S")})) \
        == [run.pk]


def test_it_keeps_the_filters_in_the_url_and_the_form(reader_client, alpha):
    html = reader_client.get(URL, {"agent": "alpha", "tool": "get_market", "market": "eth-2"}).content.decode()
    assert '<option value="alpha" selected>' in html
    assert '<option value="get_market" selected>' in html
    assert 'value="eth-2"' in html


# --- bad input ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("query,field,message", [
    ({"agent": "no-such-agent"}, "agent", "No agent with that name."),
    ({"tool": "rm_rf"}, "tool", "Unknown tool rm_rf."),
    ({"status": "exploded"}, "status", "Unknown status exploded."),
    ({"market": "BTC 100k"}, "market", "A market slug is lower-case letters, digits and dashes"),
    ({"since": "yesterday"}, "since", "Enter a valid date/time."),
    ({"since": "2026-01-02T00:00", "until": "2026-01-01T00:00"}, "until", "This must be after the start"),
    ({"tool": "get_market", "since": "2026-01-01T00:00", "until": "2026-01-20T00:00"}, "since", "at most 7 days"),
])
def test_it_shows_a_bad_filter_on_its_field_and_searches_nothing(reader_client, alpha, query, field, message):
    _run(alpha)
    response = reader_client.get(URL, query)
    html = response.content.decode()
    assert response.status_code == 400
    errors = re.search(rf'<ul class="errorlist" id="{field}-errors">(.*?)</ul>', html, re.S)
    assert errors and message in errors.group(1).replace("&#x27;", "'")
    assert 'id="search-invalid"' in html and 'id="run-results"' not in html


@pytest.mark.parametrize("page", ["0", "abc", "100000"])
def test_it_refuses_a_bad_page_number(reader_client, alpha, page):
    _run(alpha)
    response = reader_client.get(URL, {"page": page})
    assert response.status_code == 400
    assert 'id="form-errors"' in response.content.decode()


# --- pages -------------------------------------------------------------------------------------------


def test_it_pages_newest_first_and_keeps_the_filters_on_the_links(reader_client, alpha, beta):
    runs = [_run(alpha, ago=timedelta(minutes=m)) for m in range(30, 0, -1)]  # oldest first
    _run(beta)
    newest_first = [r.pk for r in reversed(runs)]
    first = reader_client.get(URL, {"agent": "alpha"})
    assert _found(first) == newest_first[:25]
    older = re.search(r'href="(\?[^"]+)" rel="next"', first.content.decode()).group(1).replace("&amp;", "&")
    assert "agent=alpha" in older and "page=2" in older
    second = reader_client.get(URL + older)
    assert _found(second) == newest_first[25:]
    html = second.content.decode()
    assert 'rel="next"' not in html
    assert re.search(r'href="\?agent=alpha" rel="prev"', html)


def test_it_reads_a_page_in_a_fixed_number_of_queries(reader_client, alpha, beta, django_assert_max_num_queries):
    for i in range(12):
        _run(alpha if i % 2 else beta, calls=[("get_market", {"slug": "m-1"})])
    with django_assert_max_num_queries(8):  # session, user, permissions, agents for the form, one page of runs
        assert len(_found(reader_client.get(URL, {"market": "m-1"}))) == 12


def test_it_checks_each_runs_calls_through_the_run_index_not_a_scan_of_the_trace(alpha):
    """The tool and market filters read a run's own trace rows (the (run, seq) index), newest runs first,
    not the (kind, tool, ts) index once per run over every call of that tool in the window."""
    runs, _ = views_runs.runs_search({"tool": "get_market", "market": "m-1"}, now=timezone.now())
    plan = runs.explain()  # SQLite names the unique (run, seq) constraint's index sqlite_autoindex_...
    trace_line = next(line for line in plan.splitlines() if "CORRELATED" not in line and " U0 " in line)
    assert "(run_id=?)" in trace_line, plan
    assert "trace_decisions" not in plan and "trace_kind_recent" not in plan and "trace_tool" not in plan, plan


# --- who may search, and failures --------------------------------------------------------------------


def test_it_sends_anonymous_users_to_the_login_page(client):
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")


def test_it_needs_the_view_run_permission(client, nobody, alpha):
    _run(alpha)
    client.force_login(nobody)
    assert client.get(URL).status_code == 403


def test_it_is_not_taken_for_an_agent_named_runs(reader_client):
    AgentConfigFactory(name="runs")
    assert reverse("agents:runs") == URL
    assert resolve(URL).func is views_runs.run_search


def test_it_says_the_runs_cannot_be_read_when_the_database_fails(reader_client, alpha, monkeypatch):
    _run(alpha)

    def broken(filters: dict[str, Any], *, now: datetime) -> Any:
        raise OperationalError("database is locked")

    monkeypatch.setattr(views_runs, "runs_search", broken)
    response = reader_client.get(URL, {"agent": "alpha"})
    assert response.status_code == 503
    html = response.content.decode()
    assert "The runs could not be read: the database did not answer (OperationalError)" in html
    assert 'id="run-results"' not in html and 'id="no-results"' not in html
