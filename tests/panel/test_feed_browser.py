"""The panel's feed and activity chart in a real browser (Playwright + Debian chromium, real daphne):
run ends folded into one line, the filter remembered across reloads, the chart counting live run ends.

Data: tests/panel/seed.py, then tests/panel/charts_seed.py seed_feed (a halt, then twelve run ends, one failed).
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

RUN_ENDS = "#feed li[data-event]:has(.pill.kind-run_end)"
NEW_RUN = ("from datetime import timedelta; from django.utils import timezone; from agents.models import AgentConfig; "
           "from monitoring.outbox import outbox_publish; from tests.factories import RunFactory; "
           "now = timezone.now(); run = RunFactory(agent=AgentConfig.objects.get(name='btc-hourly'), status='error', "
           "started_at=now - timedelta(seconds=5), ended_at=now); outbox_publish('run_end', {'run': run.pk, "
           "'agent': 'btc-hourly', 'status': 'error', 'cost': '0.001', 'steps': 1, 'at': now.isoformat()})")


@pytest.fixture(scope="module")
def server(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    with paper_panel(venue, tmp_path_factory.mktemp("feed-web"), account="feed-browser",
                     seed="from tests.panel.charts_seed import seed_feed; seed_feed()") as running:
        yield running


@pytest.fixture
def page(server: PanelServer) -> Iterator[object]:
    with chromium() as browser:
        page = open_page(browser)
        login(page, f"{server.url}/accounts/login/?next=/panel/", "viewer")
        page.wait_for_selector("#conn.live")
        yield page


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_text_contents()]


def test_it_folds_run_ends_and_filters_the_feed_remembering_the_choice(page):
    # All: the twelve run ends are one closed line above the halt, which stands on its own line.
    group = page.locator("#feed > li.feed-group")
    assert group.count() == 1
    assert group.locator("summary strong").text_content() == "12 runs ended, 1 failed"
    assert not group.locator("li[data-event]").first.is_visible()
    assert page.locator("#feed > li[data-event] .pill.kind-halt").count() == 1
    group.locator("summary").click()  # opens: each run end, with its link
    assert group.locator("li[data-event]").count() == 12
    assert group.locator("li[data-event]").first.is_visible()
    # Halts and alerts: no run end at all.
    page.click("[data-feed-filter=alerts]")
    assert page.get_attribute("[data-feed-filter=alerts]", "aria-pressed") == "true"
    assert page.locator(RUN_ENDS).count() == 0 and page.locator("#feed .feed-group").count() == 0
    assert set(_texts(page, "#feed .pill")) == {"HALT", "ALERT"}
    # Remembered across a reload (localStorage).
    page.reload()
    page.wait_for_selector("#conn.live")
    assert page.get_attribute("[data-feed-filter=alerts]", "aria-pressed") == "true"
    assert page.get_attribute("[data-feed-filter=all]", "aria-pressed") == "false"
    assert page.locator(RUN_ENDS).count() == 0 and page.locator("#feed .pill.kind-halt").count() == 1
    # Run ends: each one, unfolded, and nothing else.
    page.click("[data-feed-filter=runs]")
    assert page.locator(RUN_ENDS).count() == 12
    assert set(_texts(page, "#feed .pill")) == {"RUN END"}


def test_it_counts_a_run_ended_in_another_process_on_the_activity_chart(page, server):
    readout = page.locator("#activity .chart-readout")
    before = int(re.match(r"Last 6 hours: (\d+) runs? ended, (\d+) failed", readout.text_content()).group(1))
    assert page.locator("#activity canvas").count() == 1
    server.shell(NEW_RUN)
    page.wait_for_function("n => document.querySelector('#activity .chart-readout').textContent"
                           ".startsWith('Last 6 hours: ' + n + ' runs ended')", arg=before + 1, timeout=5000)
    assert ", 1 failed, 1 halt." in readout.text_content()  # the new one failed; the seeded halt is marked
    # The feed took it too: the newest line of the folded run ends.
    assert page.locator("#feed > li.feed-group summary strong").text_content() == "13 runs ended, 2 failed"
