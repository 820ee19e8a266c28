"""The panel in real browsers (Playwright + Debian chromium) against a real daphne process.

The tests share one server and run in file order: halt from a browser, resume from a browser,
halt from another process, lose the connection and catch up, then a hold that refuses a resume.
Set UPDATE_SCREENSHOTS=1 to write the PNGs in docs/screenshots/ (otherwise they go to a temp dir).
"""

from __future__ import annotations

import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from agents.venue.faults import Faults
from agents.venue.testing import RunningVenue
from tests.panel.server import ROOT, PanelServer

pytestmark = pytest.mark.browser
playwright_sync = pytest.importorskip("playwright.sync_api")
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
if not Path(CHROMIUM).exists():
    pytest.skip("Debian chromium is not installed", allow_module_level=True)


@pytest.fixture(scope="module")
def server(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    faults = Faults(venue.url, venue.faults_token)
    key = "key-panel-browser-0123456789"
    faults.account("panel-browser", key, "10000")
    faults.close()
    running = PanelServer.create(tmp_path_factory.mktemp("panel-web"), venue_url=venue.url, venue_api_key=key)
    yield running
    running.stop()


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_sync.sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield chromium
        chromium.close()


def _panel(browser, server: PanelServer, username: str, **context_args):
    """Log in as `username` in a fresh context and open the panel; wait until it is live."""
    page = browser.new_context(**context_args).new_page()
    page.goto(f"{server.url}/panel/")
    page.fill("#id_username", username)
    page.fill("#id_password", f"pw-{username}")
    page.click("button[type=submit]")
    page.wait_for_url(f"{server.url}/panel/")
    page.wait_for_selector("#conn.live")
    return page


@pytest.fixture(scope="module")
def operator_page(browser, server):
    page = _panel(browser, server, "operator")
    yield page
    page.context.close()


@pytest.fixture(scope="module")
def viewer_page(browser, server):
    page = _panel(browser, server, "viewer")
    yield page
    page.context.close()


def _wait_state(page, text: str, timeout_ms: int = 1000) -> None:
    page.wait_for_function("t => document.getElementById('ks-state').textContent === t", arg=text, timeout=timeout_ms)


def test_it_shows_a_halt_from_one_browser_in_the_other_within_a_second(operator_page, viewer_page):
    assert viewer_page.locator("#halt-form").count() == 0  # read-only: no buttons at all
    assert viewer_page.locator("#read-only").is_visible()
    assert viewer_page.text_content("#ks-state") == "TRADING ENABLED"
    operator_page.click("#halt-button")  # one tap...
    operator_page.fill("#halt-reason", "fills look wrong")
    start = time.monotonic()
    operator_page.click("#halt-confirm-button")  # ...then confirm, with a reason
    _wait_state(viewer_page, "HALTED")
    assert time.monotonic() - start < 1.0
    # The flag file (written first by halt()) may show HALTED before the row and the event: then the reason follows.
    viewer_page.wait_for_selector("#ks-detail >> text=fills look wrong", timeout=1000)
    operator_page.wait_for_selector("#action-message.ok-text")
    assert operator_page.text_content("#action-message").startswith("Trading HALTED.")


def test_it_resumes_with_a_reason(operator_page, viewer_page):
    _wait_state(operator_page, "HALTED")
    assert operator_page.locator("#halt-form").is_hidden()
    operator_page.click("#resume-button")  # an empty reason: the browser refuses to submit
    assert operator_page.text_content("#ks-state") == "HALTED"
    operator_page.fill("#resume-reason", "fills explained: venue replay")
    operator_page.click("#resume-button")
    _wait_state(viewer_page, "TRADING ENABLED")
    _wait_state(operator_page, "TRADING ENABLED")
    viewer_page.wait_for_selector("#feed li:first-child >> text=fills explained: venue replay")


def test_it_shows_a_halt_tripped_by_another_process(server, operator_page, viewer_page):
    server.shell("from monitoring.halt import halt; halt(reason='daily loss 3.1% > 3%', source='daily_loss')")
    _wait_state(viewer_page, "HALTED")
    _wait_state(operator_page, "HALTED")
    viewer_page.wait_for_selector("#ks-detail >> text=daily loss 3.1% > 3%", timeout=1000)
    assert "Daily loss" in viewer_page.text_content("#ks-detail")


def test_it_says_disconnected_and_catches_up_after_a_restart(server, viewer_page):
    server.stop()
    viewer_page.wait_for_selector("#conn.down", timeout=3000)
    assert viewer_page.text_content("#conn").startswith("disconnected — reconnecting")
    server.shell("from django.contrib.auth.models import User; from monitoring.halt import resume; "
                 "resume(actor=User.objects.get(username='operator'), reason='resumed while you were away')")
    server.start()
    viewer_page.wait_for_selector("#conn.live", timeout=15000)
    _wait_state(viewer_page, "TRADING ENABLED")
    missed = viewer_page.locator("#feed li", has_text="resumed while you were away")
    assert "missed while disconnected" in missed.text_content()


def test_it_shows_why_a_resume_is_refused_during_a_hold(server, operator_page, viewer_page, browser):
    operator_page.reload()
    operator_page.wait_for_selector("#conn.live")
    server.shell("from datetime import timedelta; from django.utils import timezone; "
                 "from monitoring.halt import halt; halt(reason='daily loss 3.4% > 3%', source='daily_loss', "
                 "hold_until=timezone.now() + timedelta(hours=6))")
    _wait_state(operator_page, "HALTED")
    operator_page.wait_for_selector("#ks-hold")
    operator_page.fill("#resume-reason", "looks fine to me")
    operator_page.click("#resume-button")
    operator_page.wait_for_selector("#action-message.errors")
    message = operator_page.text_content("#action-message")
    assert re.match(r"Resume refused: a hold is in force until \S+ \S+ UTC", message)
    _screenshots(server, operator_page, browser)


def _screenshots(server: PanelServer, operator_page, browser) -> None:
    """The panel (desktop and phone) and the run viewer, for docs/screenshots/."""
    out = ROOT / "docs" / "screenshots"
    tmp = server.data_dir / "screenshots"
    tmp.mkdir(exist_ok=True)
    operator_page.set_viewport_size({"width": 1280, "height": 900})
    operator_page.screenshot(path=str(tmp / "panel.png"), full_page=True)
    phone = browser.new_context(viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    page = phone.new_page()
    page.goto(f"{server.url}/accounts/login/?next=/panel/")
    page.fill("#id_username", "operator")
    page.fill("#id_password", "pw-operator")
    page.click("button[type=submit]")
    page.wait_for_selector("#conn.live")
    page.screenshot(path=str(tmp / "panel-phone.png"), full_page=False)
    run_id = server.shell("from agents.models import Run; print(Run.objects.filter(status='budget_tokens').get().pk)")
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(f"{server.url}/agents/runs/{run_id.strip().splitlines()[-1]}/")
    assert page.locator("li[data-kind=budget_stop]").count() == 1
    page.screenshot(path=str(tmp / "run-viewer.png"), full_page=True)
    page.goto(f"{server.url}/agents/btc-hourly/")
    page.screenshot(path=str(tmp / "agent.png"), full_page=True)
    phone.close()
    if os.environ.get("UPDATE_SCREENSHOTS"):
        out.mkdir(parents=True, exist_ok=True)
        for png in tmp.glob("*.png"):
            shutil.copy(png, out / png.name)
