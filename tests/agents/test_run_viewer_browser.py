"""The run search and the run viewer in a real browser (Playwright + Debian chromium) against a real daphne
process (tests/panel/server.py): search by agent and tool and open a result; the waterfall of a run
recorded for real (the loop, the paper venue, a model on the OpenAI wire), on a phone, by keyboard."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from paper_venue.testing import RunningVenue
from tests.agents import run_viewer_recording as recording
from tests.browser import PHONE, login, paper_panel, phone_page, require_chromium
from tests.core.fake_llm import serve
from tests.panel.server import PanelServer

pytestmark = pytest.mark.browser
require_chromium()
KEY = "key-run-viewer-browser-0123456789"

# Two agents' runs, traced as the loop writes tool calls (run in the server's own database).
RUNS = """
from datetime import timedelta
from django.utils import timezone
from tests.factories import AgentConfigFactory, RunFactory, TraceEventFactory
now = timezone.now()
a, b = AgentConfigFactory(name="scout-a"), AgentConfigFactory(name="scout-b")
def run(agent, minutes, tools):
    r = RunFactory(agent=agent, status="completed", started_at=now - timedelta(minutes=minutes),
                   ended_at=now - timedelta(minutes=minutes, seconds=-5), steps=1, tool_calls=len(tools))
    for seq, tool in enumerate(tools):
        TraceEventFactory(run=r, seq=seq, step=0, kind="tool_call", tool=tool, ts=r.started_at,
                          data={"id": f"c{seq}", "name": tool, "arguments": {"slug": "eth-above-5k"}})
    return r.pk
print(run(a, 30, ["get_market", "get_positions"]), run(a, 20, ["get_market"]), run(a, 10, ["browse_markets"]),
      run(b, 5, ["get_positions"]))
"""


@pytest.fixture(scope="module")
def server(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    with paper_panel(venue, tmp_path_factory.mktemp("run-viewer-web"), account="run-viewer-browser",
                     key=KEY) as running:
        yield running


@pytest.fixture
def page(server: PanelServer) -> Iterator[object]:
    """A phone-sized page logged in as the operator."""
    with phone_page() as page:
        login(page, f"{server.url}/accounts/login/?next=/agents/runs/", "operator")
        page.wait_for_url(re.compile(r"/agents/runs/$"))
        yield page


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_it_searches_runs_by_agent_and_tool_and_opens_one(server, page):
    oldest, newer, _, _ = (int(pk) for pk in _last_line(server.shell(RUNS)).split())
    page.reload()  # the agents were created after the page was opened
    page.select_option("#id_agent", "scout-a")
    page.select_option("#id_tool", "get_market")
    page.click("#run-filters button[type=submit]")
    page.wait_for_url(re.compile(r"agent=scout-a.*tool=get_market"))  # the search is a link to share
    assert page.locator("#run-results tbody tr").evaluate_all("rows => rows.map(r => r.id)") == [
        f"result-{newer}", f"result-{oldest}"]  # newest first; scout-a's browse-only run and scout-b's are out
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    page.click(f"#result-{newer} a")
    page.wait_for_url(f"{server.url}/agents/runs/{newer}/")
    assert page.locator(".wf-row[data-kind=tool]").inner_text().startswith("get_market")
    page.go_back()
    page.select_option("#id_tool", "")
    page.fill("#id_market", "ETH above")  # a bad value: shown on its field, nothing searched
    page.click("#run-filters button[type=submit]")
    assert "lower-case letters, digits and dashes" in page.locator("#market-errors").inner_text()
    assert page.locator("#run-results").count() == 0


def test_it_shows_the_waterfall_of_a_real_run_with_tokens_and_cost(server, page, market):
    with serve(recording.responder(market)) as llm:
        code = ("from tests.agents.run_viewer_recording import record_run; "
                f"print(record_run(agent_name='real-viewer', venue_url={server.env['VENUE_URL']!r}, "
                f"api_key={KEY!r}, llm_url={llm.url!r}))")
        run_id = int(_last_line(server.shell(code)))
    page.goto(f"{server.url}/agents/runs/{run_id}/")
    rows = page.locator(".wf-row")
    assert rows.evaluate_all("rows => rows.map(r => r.dataset.kind)") == ["model", "tool", "tool", "model", "tool",
                                                                           "model"]
    model = page.locator(".wf-row[data-kind=model]").first.inner_text()
    assert f"{recording.PROMPT_TOKENS} in / {recording.COMPLETION_TOKENS} out" in model and "USD" in model
    totals = page.locator("#waterfall-totals").inner_text()
    assert f"tokens in / out: {3 * recording.PROMPT_TOKENS} / {3 * recording.COMPLETION_TOKENS}" in totals
    assert page.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # readable on a phone
    bar = page.locator(".wf-row[data-kind=tool] .wf-bar").first.bounding_box()
    assert bar is not None and bar["width"] >= 3 and bar["height"] > 0  # drawn, not collapsed to nothing
    first = page.locator(".wf-label").first
    first.focus()  # each row is a link: reachable by keyboard, and Enter opens its event in the timeline
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"#event-\d+$"))
    target = page.url.rsplit("#", 1)[1]
    assert page.locator(f"#{target}").get_attribute("data-kind") == "model_request"
