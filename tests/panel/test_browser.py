"""The panel in real browsers (Playwright + Debian chromium) against a real daphne process.

Each test sets up its own state: the module shares one server, but every test starts from
"trading enabled" with fresh logged-in pages (the `running` fixture), and the hold test, which
leaves a hold nobody can lift, gets a server of its own. Any one test passes alone, in any order,
and under `-p xdist -n 2 --dist loadfile`. The last tests drive panel.js against a mocked websocket
and a fake clock (its liveness check and which messages may move its last id).
Set UPDATE_SCREENSHOTS=1 to write the PNGs in docs/screenshots/ (otherwise they go to a temp dir).
"""

from __future__ import annotations

import json
import os
import re
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from paper_venue.testing import RunningVenue
from tests.browser import chromium, login, open_page, panel_page, paper_panel, require_chromium
from tests.panel.server import ROOT, PanelServer

pytestmark = pytest.mark.browser
require_chromium()


@pytest.fixture(scope="module")
def server(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    with paper_panel(venue, tmp_path_factory.mktemp("panel-web"), account="panel-browser") as running:
        yield running


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as launched:
        yield launched


RESET = ("from django.contrib.auth.models import User; from monitoring.halt import kill_switch_state, resume; "
         "kill_switch_state()['halted'] and resume(actor=User.objects.get(username='operator'), reason='test setup')")


@pytest.fixture
def running(server: PanelServer) -> PanelServer:
    """This test's starting state, whatever ran before: the server up and trading enabled."""
    if server.process is None or server.process.poll() is not None:
        server.start()
    server.shell(RESET)
    return server


@pytest.fixture
def held_server(venue: RunningVenue, tmp_path: Path) -> Iterator[PanelServer]:
    """A server of the test's own: a hold cannot be lifted, so it must not leak into other tests."""
    key = f"key-panel-held-{os.getpid()}-{time.monotonic_ns()}"
    with paper_panel(venue, tmp_path / "panel-held", account=key[:40], key=key) as running:
        yield running


@pytest.fixture
def operator_page(browser, running):
    page = panel_page(browser, running, "operator")
    yield page
    page.context.close()


@pytest.fixture
def viewer_page(browser, running):
    page = panel_page(browser, running, "viewer")
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


def test_it_resumes_with_a_reason(running, operator_page, viewer_page):
    running.shell("from monitoring.halt import halt; halt(reason='fills look wrong', source='command')")
    _wait_state(operator_page, "HALTED")
    assert operator_page.locator("#halt-form").is_hidden()
    operator_page.click("#resume-button")  # an empty reason: the browser refuses to submit
    assert operator_page.text_content("#ks-state") == "HALTED"
    operator_page.fill("#resume-reason", "fills explained: venue replay")
    operator_page.click("#resume-button")
    _wait_state(viewer_page, "TRADING ENABLED")
    _wait_state(operator_page, "TRADING ENABLED")
    # The newest resume (the kill-switch alert's resolution may come after it: alerts are in the feed too).
    viewer_page.wait_for_selector("#feed > li:has(.kind-resume) >> text=fills explained: venue replay")


def test_it_shows_a_halt_tripped_by_another_process(running, operator_page, viewer_page):
    _wait_state(viewer_page, "TRADING ENABLED")
    running.shell("from monitoring.halt import halt; halt(reason='daily loss 3.1% > 3%', source='daily_loss')")
    _wait_state(viewer_page, "HALTED")
    _wait_state(operator_page, "HALTED")
    viewer_page.wait_for_selector("#ks-detail >> text=daily loss 3.1% > 3%", timeout=1000)
    assert "Daily loss" in viewer_page.text_content("#ks-detail")


def test_it_says_disconnected_and_catches_up_after_a_restart(running, viewer_page):
    server = running
    server.shell("from monitoring.halt import halt; halt(reason='before the restart', source='command')")
    _wait_state(viewer_page, "HALTED")
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


def test_it_shows_why_a_resume_is_refused_during_a_hold(held_server, browser):
    server = held_server
    operator_page = panel_page(browser, server, "operator")
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
    operator_page.context.close()


def _screenshots(server: PanelServer, operator_page, browser) -> None:
    """The panel (desktop and phone) and the run viewer, for docs/screenshots/."""
    out = ROOT / "docs" / "screenshots"
    tmp = server.data_dir / "screenshots"
    tmp.mkdir(exist_ok=True)
    operator_page.set_viewport_size({"width": 1280, "height": 900})
    operator_page.screenshot(path=str(tmp / "panel.png"), full_page=True)
    page = open_page(browser, viewport={"width": 390, "height": 844}, device_scale_factor=2, is_mobile=True)
    login(page, f"{server.url}/accounts/login/?next=/panel/", "operator")
    page.wait_for_selector("#conn.live")
    page.screenshot(path=str(tmp / "panel-phone.png"), full_page=False)
    run_id = server.shell("from agents.models import Run; print(Run.objects.filter(status='budget_tokens').get().pk)")
    page.set_viewport_size({"width": 1000, "height": 900})
    page.goto(f"{server.url}/agents/runs/{run_id.strip().splitlines()[-1]}/")
    assert page.locator("li[data-kind=budget_stop]").count() == 1
    page.screenshot(path=str(tmp / "run-viewer.png"), full_page=True)
    page.goto(f"{server.url}/agents/btc-hourly/")
    page.screenshot(path=str(tmp / "agent.png"), full_page=True)
    page.context.close()
    if os.environ.get("UPDATE_SCREENSHOTS"):
        out.mkdir(parents=True, exist_ok=True)
        for png in tmp.glob("*.png"):
            shutil.copy(png, out / png.name)


# --- panel.js against a mocked websocket and a fake clock -----------------------------------------


class FakeSockets:
    """Stand in for /ws/panel/: record each connection's ?last_id and let the test speak for the server."""

    def __init__(self) -> None:
        self.routes: list[object] = []

    def __call__(self, route) -> None:  # playwright calls this for every websocket the page opens
        self.routes.append(route)

    def last_ids(self) -> list[str]:
        return [re.search(r"last_id=(\d+)", r.url).group(1) for r in self.routes]

    def send(self, message: dict) -> None:
        self.routes[-1].send(json.dumps(message))


def _mocked_panel(browser, running: PanelServer):
    """The real page, logged in, with its websocket answered by the test and timers on a fake clock."""
    sockets = FakeSockets()
    page = open_page(browser)
    page.clock.install()
    page.route_web_socket(re.compile(r".*/ws/panel/.*"), sockets)
    login(page, f"{running.url}/accounts/login/?next=/panel/", "viewer")
    page.wait_for_selector("#conn.live")
    page.wait_for_function("() => true")
    initial = json.loads(page.text_content("#panel-snapshot"))
    return page, sockets, initial


def _wait_connections(page, sockets: FakeSockets, n: int) -> None:
    for _ in range(200):
        if len(sockets.routes) >= n:
            return
        page.clock.run_for(100)
    raise AssertionError(f"{len(sockets.routes)} websocket connection(s), expected {n}")


def test_it_treats_a_silent_connection_as_lost_and_reconnects_from_the_last_id(browser, running):
    page, sockets, initial = _mocked_panel(browser, running)
    _wait_connections(page, sockets, 1)
    assert sockets.last_ids() == [str(initial["last_id"])]
    sockets.send({"type": "events", "catchup": True, "truncated": False, "events": [
        {"id": initial["last_id"] + 7, "ts": None, "kind": "override", "payload": {"note": "delivered"}}]})
    page.clock.run_for(11_000)  # the server snapshots every 5 s: 11 s of silence is still within the grace
    assert page.locator("#conn.live").count() == 1
    page.clock.run_for(2_000)  # > 12 s without a message: dead, even though the socket never closed
    page.wait_for_selector("#conn.down", timeout=3000)
    assert "no message from the server" in page.text_content("#conn")
    assert "ks-state" in page.eval_on_selector("#ks-state.stale", "e => e.id")
    _wait_connections(page, sockets, 2)  # reconnects by itself, catching up from the last delivered event
    assert sockets.last_ids()[1] == str(initial["last_id"] + 7)
    page.wait_for_selector("#conn.live")
    page.context.close()


def test_it_moves_its_last_id_only_on_delivered_events_not_on_live_snapshots(browser, running):
    page, sockets, initial = _mocked_panel(browser, running)
    _wait_connections(page, sockets, 1)
    ahead = dict(initial, last_id=initial["last_id"] + 50)  # a snapshot claims a later id than anything delivered
    sockets.send({"type": "snapshot", "snapshot": ahead, "can_toggle": False})
    page.wait_for_function("() => true")
    sockets.routes[-1].close()  # the server goes away: reconnect
    _wait_connections(page, sockets, 2)
    assert sockets.last_ids() == [str(initial["last_id"])] * 2  # not the snapshot's last_id
    sockets.send({"type": "events", "catchup": True, "truncated": False, "events": [
        {"id": initial["last_id"] + 3, "ts": None, "kind": "run_end", "payload": {"run": 1}}]})
    page.wait_for_function("() => true")
    sockets.routes[-1].close()
    _wait_connections(page, sockets, 3)
    assert sockets.last_ids()[2] == str(initial["last_id"] + 3)
    page.context.close()
