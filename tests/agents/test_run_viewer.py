"""The run viewer's waterfall: bars on the run's time axis, tokens and cost per step, problems marked,
figures the trace lacks said to be missing (never 0), long runs folded; and one real recorded run."""

from __future__ import annotations

import re
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.db import OperationalError, connection
from django.urls import reverse
from django.utils import timezone

from agents.models import Run
from agents.waterfall import STEPS_SHOWN
from tests.agents import run_viewer_recording as recording
from tests.core.fake_llm import serve
from tests.factories import RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db


def _trace(run: Run, events: list[tuple[float, str, int, str, dict[str, Any]]]) -> None:
    """events: (seconds after the start, kind, step, tool, data)."""
    for seq, (at, kind, step, tool, data) in enumerate(events):
        TraceEventFactory(run=run, seq=seq, kind=kind, step=step, tool=tool, data=data,
                          ts=run.started_at + timedelta(seconds=at))


def _run(seconds: float = 10, **fields: Any) -> Run:
    start = timezone.now() - timedelta(minutes=5)
    fields = {"status": "completed", **fields}
    return RunFactory(started_at=start, ended_at=start + timedelta(seconds=seconds), **fields)


def _page(client, run: Run) -> str:
    response = client.get(reverse("agents:run", args=[run.pk]))
    assert response.status_code == 200
    return response.content.decode()


def _rows(html: str) -> list[dict[str, str]]:
    """Each waterfall row: kind, state, its text, and the bar's style."""
    rows = re.findall(r'<li class="wf-row[^"]*" data-kind="(\w+)" data-state="(\w+)">(.*?)</li>', html, re.S)
    out = []
    for kind, state, body in rows:
        style = re.search(r'class="wf-bar" style="([^"]*)"', body).group(1)
        text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", body)).strip()
        out.append({"kind": kind, "state": state, "text": text, "style": style})
    return out


def _model(latency: Any, tokens_in: Any = 100, tokens_out: Any = 10, cost: Any = "0.0001") -> dict[str, Any]:
    return {"tool_calls": [], "usage": {"input_tokens": tokens_in, "output_tokens": tokens_out},
            "cost_usd": cost, "latency_ms": latency, "stop_reason": "tool_calls"}


def test_it_draws_each_call_at_its_offset_with_its_latency_and_the_step_tokens_and_cost(reader_client):
    run = _run(seconds=10)
    _trace(run, [
        (0.0, "run_start", -1, "", {}),
        (0.0, "model_request", 0, "", {}),
        (2.0, "model_response", 0, "", _model(2000.0, 1900, 140, "0.0004")),
        (2.5, "tool_call", 0, "get_market", {"id": "c1", "name": "get_market", "arguments": {"slug": "m-1"}}),
        (3.0, "tool_result", 0, "get_market", {"call_id": "c1", "tool": "get_market", "ok": True, "latency_ms": 500.0}),
        (5.0, "model_request", 1, "", {}),
        (6.0, "model_response", 1, "", _model(1000.0, 2300, 90, "0.0005")),
        (10.0, "run_end", 1, "", {}),
        (600.0, "approval_decided", 1, "", {"approval_id": 3, "decision": "approve"}),  # placed 10 min later
    ])
    html = _page(reader_client, run)
    rows = _rows(html)
    assert [(r["kind"], r["state"]) for r in rows] == [("model", "ok"), ("tool", "ok"), ("model", "ok")]
    assert [r["style"] for r in rows] == ["left:0.00%;width:20.00%", "left:25.00%;width:5.00%",
                                          "left:50.00%;width:10.00%"]
    assert "+2.500 s · 500.0 ms" in rows[1]["text"] and rows[1]["text"].startswith("get_market")
    assert "1900 in / 140 out · 0.0004 USD" in rows[0]["text"]
    step_one = re.search(r'id="wf-step-0">\s*<h3 class="wf-head">(.*?)</h3>', html, re.S).group(1)
    assert "tokens 1900 / 140" in step_one and "0.0004 USD" in step_one
    totals = re.sub(r"\s+", " ", re.search(r'id="waterfall-totals">(.*?)</p>', html, re.S).group(1))
    for text in ("2 model calls (3000 ms)", "1 tool call (500 ms)", "tokens in / out: 4200 / 230", "cost: 0.0009 USD"):
        assert text in totals, totals
    assert 'href="#event-1"' in html  # the model row opens its request in the timeline below


def test_it_marks_failed_refused_and_timed_out_calls_and_stops(reader_client):
    run = _run(seconds=40, status="budget_tokens")
    _trace(run, [
        (0.0, "model_request", 0, "", {}),
        (1.0, "model_response", 0, "", _model(1000.0)),
        (1.1, "tool_call", 0, "get_market", {"id": "a", "name": "get_market"}),
        (1.2, "tool_call", 0, "place_limit_order", {"id": "b", "name": "place_limit_order"}),
        (1.3, "tool_call", 0, "get_positions", {"id": "c", "name": "get_positions"}),
        (1.4, "tool_result", 0, "get_market", {"call_id": "a", "tool": "get_market", "ok": False,
                                               "error": "venue said 404", "latency_ms": 80.0}),
        (1.5, "refusal", 0, "", {"what": "tool", "tool": "place_limit_order", "call_id": "b",
                                 "reason": "not on the allowlist"}),
        (31.3, "tool_timeout", 0, "get_positions", {"call_id": "c", "tool": "get_positions", "timeout_s": 30}),
        (32.0, "budget_stop", 0, "", {"reason": "tokens budget exhausted: 51000 of 50000"}),
    ])
    html = _page(reader_client, run)
    by_state = {r["state"]: r for r in _rows(html) if r["kind"] == "tool"}
    assert "failed: venue said 404" in by_state["error"]["text"]
    assert "refused: not on the allowlist" in by_state["refused"]["text"]
    assert "timed out after 30 s" in by_state["timeout"]["text"] and "30000.0 ms" in by_state["timeout"]["text"]
    marks = [r["text"] for r in _rows(html) if r["kind"] == "mark"]
    assert any("budget stop" in m and "tokens budget exhausted" in m for m in marks)
    assert 'class="wf-step wf-flagged"' in html
    assert '<span class="pill bad">refused: not on the allowlist</span>' in html
    assert "4 problems marked" in html  # the failed call, the refusal, the timeout and the budget stop
    assert '<span class="pill bad">get_market failed</span>' in html


def test_it_says_a_figure_is_not_recorded_instead_of_showing_zero(reader_client):
    run = _run()
    _trace(run, [
        (0.0, "model_request", 0, "", {}),
        (1.0, "model_response", 0, "", {"tool_calls": [], "usage": {}}),  # an old trace: no usage, no latency
        (1.1, "tool_call", 0, "get_balance", {"name": "get_balance"}),  # and no result ever written
    ])
    html = _page(reader_client, run)
    model, tool = _rows(html)
    assert "latency not recorded" in model["text"] and "tokens not recorded" in model["text"]
    assert "cost not recorded" in model["text"]
    assert tool["state"] == "pending" and "no result recorded" in tool["text"]
    totals = re.search(r'id="waterfall-totals">(.*?)</p>', html, re.S).group(1)
    assert "tokens in / out: not recorded" in totals and "cost: not recorded" in totals
    assert "0 in" not in html and "(0 ms)" not in totals


def test_it_pairs_calls_without_ids_with_their_results_in_order(reader_client):
    """Older traces carry no call ids: results go to the oldest open call of the same tool."""
    run = _run()
    _trace(run, [
        (1.0, "tool_call", 0, "get_market", {"name": "get_market"}),
        (2.0, "tool_call", 0, "get_market", {"name": "get_market"}),
        (2.1, "tool_result", 0, "get_market", {"tool": "get_market", "ok": True, "latency_ms": 1100.0}),
        (2.2, "tool_result", 0, "get_market", {"tool": "get_market", "ok": False, "error": "gone",
                                               "latency_ms": 200.0}),
    ])
    first, second = _rows(_page(reader_client, run))
    assert (first["state"], second["state"]) == ("ok", "error")
    assert "+1.000 s · 1100.0 ms" in first["text"] and "+2.000 s · 200.0 ms" in second["text"]


def test_it_folds_the_steps_of_a_long_run_beyond_the_first_ones(reader_client):
    run = _run(seconds=60)
    steps = STEPS_SHOWN + 5
    _trace(run, [(step * 2.0 + 0.5 * half, kind, step, "", {} if half == 0 else _model(400.0))
                 for step in range(steps) for half, kind in enumerate(("model_request", "model_response"))])
    html = _page(reader_client, run)
    shown, folded = html.split('<details class="wf-more" id="waterfall-more">')
    assert shown.count('class="wf-step"') == STEPS_SHOWN and folded.count('class="wf-step"') == 5
    assert "<summary>Show 5 more steps</summary>" in folded
    assert f'id="wf-step-{steps - 1}"' in folded


def test_it_says_when_a_run_made_no_calls(reader_client):
    run = _run()
    html = _page(reader_client, run)
    assert 'id="waterfall-empty"' in html and "wf-row" not in html


def test_it_says_the_run_cannot_be_read_when_the_database_fails(reader_client):
    run = _run()
    _trace(run, [(0.0, "model_request", 0, "", {})])

    def trace_unreadable(execute, sql, params, many, context):
        if "agents_traceevent" in sql:
            raise OperationalError("database is locked")
        return execute(sql, params, many, context)

    with connection.execute_wrapper(trace_unreadable):
        response = reader_client.get(reverse("agents:run", args=[run.pk]))
    assert response.status_code == 503
    html = response.content.decode()
    assert f"Run #{run.pk} could not be read" in html and "The database did not answer (OperationalError)" in html
    assert "wf-row" not in html


@pytest.mark.django_db(transaction=True)  # the tools run in worker threads with their own connections
def test_it_shows_the_latency_tokens_and_cost_of_a_real_recorded_run(client, operator, venue, make_trader, market):
    trader = make_trader()
    with serve(recording.responder(market)) as llm:
        run_id = recording.record_run(agent_name="viewer-real", venue_url=venue.url, api_key=trader.api_key,
                                      llm_url=llm.url)
    client.force_login(operator)
    html = _page(client, Run.objects.get(pk=run_id))
    rows = _rows(html)
    assert [(r["kind"], r["state"]) for r in rows] == [
        ("model", "ok"), ("tool", "ok"), ("tool", "ok"), ("model", "ok"), ("tool", "ok"), ("model", "ok")]
    assert [r["text"].split(" ")[0] for r in rows if r["kind"] == "tool"] == ["get_balance", "browse_markets",
                                                                              "get_market"]
    cost = Decimal("0.15") * recording.PROMPT_TOKENS / 10**6 + Decimal("0.60") * recording.COMPLETION_TOKENS / 10**6
    for model in (r for r in rows if r["kind"] == "model"):
        assert f"{recording.PROMPT_TOKENS} in / {recording.COMPLETION_TOKENS} out · {cost.normalize()}" in model["text"]
        assert re.search(r"\+\d+\.\d{3} s · \d+\.\d ms", model["text"]), model["text"]  # a latency was measured
    totals = re.search(r'id="waterfall-totals">(.*?)</p>', html, re.S).group(1)
    assert f"tokens in / out: {3 * recording.PROMPT_TOKENS} / {3 * recording.COMPLETION_TOKENS}" in totals
    offsets = [float(re.search(r"left:([\d.]+)%", r["style"]).group(1)) for r in rows]
    assert offsets == sorted(offsets) and offsets[-1] > 0  # later calls sit further along the axis
