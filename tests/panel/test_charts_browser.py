"""The agent page's charts in a real browser (Playwright + Debian chromium) against a real daphne process:
a chart drawn with its threshold line, the value and unit under the pointer, the empty state.

Data: tests/panel/seed.py, then tests/panel/charts_seed.py (chart-agent has a day of samples, quiet-agent none).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest

from paper_venue.testing import RunningVenue
from tests.browser import chromium, login, open_page, paper_panel, require_chromium
from tests.panel.server import PanelServer

pytestmark = pytest.mark.browser
require_chromium()

# The canvas pixels on the threshold's row that have the threshold's red (#b3261e), give or take antialiasing.
RED_ON_ROW = """fig => {
  const u = fig.querySelector('.chart-plot').uplot;
  const value = Number(fig.dataset.threshold);
  const y = Math.round(u.valToPos(value, 'y', true));
  const row = u.ctx.getImageData(u.bbox.left, y - 1, u.bbox.width, 3).data;
  let red = 0;
  for (let i = 0; i < row.length; i += 4) {
    if (Math.abs(row[i] - 179) < 30 && Math.abs(row[i + 1] - 38) < 30 && Math.abs(row[i + 2] - 30) < 30) red += 1;
  }
  return {red, width: u.bbox.width};
}"""


@pytest.fixture(scope="module")
def server(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    with paper_panel(venue, tmp_path_factory.mktemp("charts-web"), account="charts-browser",
                     seed="from tests.panel.charts_seed import seed_charts; seed_charts()") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


def _agent_page(browser, server: PanelServer, agent: str, **context_args):
    page = open_page(browser, **context_args)
    login(page, f"{server.url}/accounts/login/?next=/agents/{agent}/", "operator")
    page.wait_for_url(f"{server.url}/agents/{agent}/")
    page.wait_for_selector("figure.chart[data-metric=decision_rate]")  # drawn from metrics.json
    return page


def test_it_draws_each_metric_with_its_threshold_line_and_shows_the_value_under_the_pointer(browser, server):
    page = _agent_page(browser, server, "chart-agent")
    latency = page.locator("figure[data-metric=latency_p95]")
    assert latency.locator("canvas").count() == 1
    assert latency.locator(".chart-unit").text_content() == "ms"
    # The threshold: 2x the stored 900 ms baseline (above the 1,000 ms floor), stated and drawn.
    assert latency.get_attribute("data-threshold") == "1800"
    assert latency.locator(".chart-threshold").text_content().startswith("Pages above 1800 ms")
    drawn = latency.evaluate(RED_ON_ROW)
    assert drawn["red"] > drawn["width"] / 3  # a dashed line across the plot, not a stray pixel
    # Hover: the readout names the time and the value of the point under the pointer, with its unit.
    over = latency.locator(".u-over")
    over.scroll_into_view_if_needed()
    box = over.bounding_box()
    over.hover(position={"x": box["width"] * 0.6, "y": box["height"] / 2})
    point = latency.evaluate("fig => { const u = fig.querySelector('.chart-plot').uplot;"
                             " return u.data[1][u.cursor.idx]; }")
    readout = latency.locator(".chart-readout")
    assert re.fullmatch(rf"\d{{4}}-\d\d-\d\d \d\d:\d\d UTC: {point:g} ms", readout.text_content())
    # All-zero data gets 0..1 with the threshold (1 %) in view, not an axis of -1..1.
    errors = page.locator("figure[data-metric=error_rate_5m]")
    y_range = errors.evaluate("fig => { const s = fig.querySelector('.chart-plot').uplot.scales.y;"
                              " return [s.min, s.max]; }")
    assert y_range[0] == 0 and 1 < y_range[1] < 1.5
    assert errors.evaluate(RED_ON_ROW)["red"] > 0
    page.context.close()


def test_it_shows_the_value_on_a_tap_on_a_phone(browser, server):
    page = _agent_page(browser, server, "chart-agent", viewport={"width": 390, "height": 844}, is_mobile=True,
                       has_touch=True, device_scale_factor=2)
    cost = page.locator("figure[data-metric=cost_per_run]")
    plot = cost.locator(".chart-plot")
    assert plot.bounding_box()["width"] > 300  # full width on a 390 px screen
    assert float(cost.locator(".chart-readout").evaluate("e => parseFloat(getComputedStyle(e).fontSize)")) >= 11
    cost.locator(".u-over").tap(position={"x": 40, "y": 30})
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d UTC: 0\.00\d+ USD", cost.locator(".chart-readout").text_content())
    page.context.close()


def test_it_says_no_samples_yet_instead_of_drawing_an_empty_axis(browser, server):
    page = _agent_page(browser, server, "quiet-agent")
    figures = page.locator("figure.chart")
    assert figures.count() == 5  # the agent's five paging metrics; the desk's kill switch and NAV have no samples
    for i in range(5):
        assert figures.nth(i).locator(".chart-empty").text_content() == "No samples yet in the last 24 hours."
    assert page.locator("figure.chart canvas").count() == 0
    # The threshold is still stated: what would page once samples come.
    assert page.locator("figure[data-metric=tool_calls_per_run] .chart-threshold").text_content().startswith(
        "Pages above 30 calls")
    page.context.close()


def test_it_says_the_charts_are_unavailable_when_the_data_cannot_be_read(browser, server):
    page = open_page(browser)
    page.route("**/metrics.json*", lambda route: route.fulfill(
        status=503, content_type="application/json",
        body='{"error": "metrics unavailable: the database did not answer (OperationalError)"}'))
    login(page, f"{server.url}/accounts/login/?next=/agents/chart-agent/", "operator")
    error = page.wait_for_selector("#charts .chart-error")
    assert error.text_content() == "metrics unavailable: the database did not answer (OperationalError)"
    assert page.locator("#charts figure").count() == 0  # no empty chart that would read as "all quiet"
    page.context.close()
