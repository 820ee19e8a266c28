"""The Prometheus rules and the Alertmanager example (deploy/): Debian's promtool and amtool accept them, the
promtool unit tests pass (and fail when a rule names another family), every paging metric of the card has an
alert, and every family the rules name is on /metrics."""

from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
import yaml
from django.test import RequestFactory
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.alerts import alert_fire
from monitoring.metrics import baseline, metric_record
from monitoring.models import AlertDelivery, DeliveryStatus
from monitoring.views_metrics import metrics
from tests.factories import AgentConfigFactory

ROOT = Path(__file__).resolve().parents[2]
RULES = ROOT / "deploy" / "prometheus" / "academy.rules.yml"
RULES_TEST = ROOT / "deploy" / "prometheus" / "academy.rules.test.yml"
ALERTMANAGER = ROOT / "deploy" / "alertmanager" / "alertmanager.yml"
PROMTOOL, AMTOOL = "/usr/bin/promtool", "/usr/bin/amtool"  # Debian's prometheus and prometheus-alertmanager
AM = "/usr/bin/prometheus-alertmanager"

# Each paging metric of the card (section 02) -> the /metrics family its alert must compare. The kill switch is
# the live state (academy_kill_switch_active, as the panel reads it), not the monitor's last recorded sample.
CARD = {
    "cost_per_run": "academy_agent_cost_per_run_usd",
    "tool_calls_per_run": "academy_agent_tool_calls_per_run",
    "latency_p95": "academy_agent_latency_p95_seconds",
    "error_rate_5m": "academy_agent_error_rate_5m_ratio",
    "kill_switch_active": "academy_kill_switch_active",
    "chain_rest_drift": "academy_agent_chain_rest_drift",
    "decision_rate": "academy_agent_decisions_last_hour",
}
SYSTEM_WIDE = {"AcademyKillSwitchActive", "AcademyChainRestDrift", "AcademyAlertDeliveryFailed",  # no agent label
               "AcademyMetricsDown"}
FAMILY = re.compile(r"\bacademy_[a-z0-9_]+")


def _run(*args: str | Path, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([str(a) for a in args], cwd=cwd, capture_output=True, text=True, timeout=120)


def _ok(result: subprocess.CompletedProcess) -> None:
    assert result.returncode == 0, f"exit {result.returncode}\n{result.stdout}\n{result.stderr}"


def _alerts() -> dict[str, dict]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule for group in groups for rule in group["rules"]}


# --- the tools ----------------------------------------------------------------------------------------------


def test_it_passes_promtool_check_rules() -> None:
    _ok(_run(PROMTOOL, "check", "rules", RULES))


def test_it_passes_the_promtool_unit_tests() -> None:
    _ok(_run(PROMTOOL, "test", "rules", RULES_TEST))


def test_it_passes_amtool_check_config() -> None:
    _ok(_run(AMTOOL, "check-config", ALERTMANAGER))


@pytest.mark.parametrize(("wrong", "right"), [
    ("academy_agent_cost_per_run_page_threshold_usd", "academy_agent_cost_per_run_threshold_usd"),  # renamed
    ("academy_agent_decisions_last_hour < academy_agent_decisions_last_hour_page_low", "vector(0) > 1"),  # no low
    ("academy_kill_switch_active == 1", "academy_kill_switch_active > 1"),
    ("> academy_agent_error_rate_5m_page_threshold_ratio", "> 0.01"),  # the default, hard-coded
    ("for: 2m", "for: 5m"),
    # AcademyAlertDeliveryFailed: blind to a sink's first failure (its series appears), which is what `delta` or a
    # bare subtraction sees; paging about old failures after a Prometheus restart; paging on sent deliveries.
    ('unless academy_alert_deliveries{status="failed"} offset 15m', 'unless academy_alert_deliveries{status="failed"}'),
    ("and on(job, instance) academy_kill_switch_active offset 15m", "and on(job, instance) academy_kill_switch_active"),
    ('(academy_alert_deliveries{status="failed"} - academy_alert_deliveries{status="failed"} offset 15m)',
     "(academy_alert_deliveries - academy_alert_deliveries offset 15m)"),
])
def test_it_fails_the_unit_tests_when_a_rule_is_wrong(tmp_path: Path, wrong: str, right: str) -> None:
    """The unit tests read the exact /metrics family names and edges: a rule that drifts from them fails."""
    rules = RULES.read_text()
    assert wrong in rules
    (tmp_path / RULES.name).write_text(rules.replace(wrong, right))
    shutil.copy(RULES_TEST, tmp_path / RULES_TEST.name)
    result = _run(PROMTOOL, "test", "rules", RULES_TEST.name, cwd=tmp_path)
    assert result.returncode == 1 and "FAILED" in result.stdout + result.stderr, result.stdout + result.stderr


# --- what the rules say -------------------------------------------------------------------------------------


def test_it_has_an_alert_on_every_paging_metric_of_the_card() -> None:
    exprs = [rule["expr"] for rule in _alerts().values()]
    for metric, family in CARD.items():
        assert [e for e in exprs if family in FAMILY.findall(e)], f"no alert on {metric} ({family})"


def test_it_pages_at_once_like_the_monitor_with_labels_and_annotations_for_the_on_call() -> None:
    alerts = _alerts()
    assert set(alerts) == {"AcademyCostPerRunHigh", "AcademyToolCallsPerRunHigh", "AcademyLatencyP95High",
                           "AcademyErrorRate5mHigh", "AcademyKillSwitchActive", "AcademyChainRestDrift",
                           "AcademyDecisionRateOutOfBand", "AcademyAlertDeliveryFailed", "AcademyMetricsDown"}
    for name, rule in alerts.items():
        assert rule["for"] == ("2m" if name == "AcademyMetricsDown" else "0m"), name
        assert rule["labels"] == {"severity": "page", "component": "academy"}, name
        assert set(rule["annotations"]) == {"summary", "description", "runbook_url"}, name
        summary = rule["annotations"]["summary"]
        assert name in SYSTEM_WIDE or "$labels.agent" in summary, name
        assert name == "AcademyMetricsDown" or "$value |" in summary, name  # humanised, not a raw float


def test_it_links_each_alert_to_a_section_of_the_runbook() -> None:
    """runbook_url anchors are GitHub's heading slugs of runbook.md: a renamed heading breaks this, not a page."""
    headings = [line.lstrip("#").strip() for line in (ROOT / "runbook.md").read_text().splitlines()
                if line.startswith("#")]
    slugs = {re.sub(r"[^\w\- ]", "", h.lower()).replace(" ", "-") for h in headings}
    for name, rule in _alerts().items():
        page, _, anchor = rule["annotations"]["runbook_url"].partition("#")
        assert page == "runbook.md" and anchor in slugs, (name, anchor)


@pytest.mark.django_db
def test_it_names_only_families_that_are_on_metrics() -> None:
    """Seed one agent with every figure and baseline and one failed alert delivery, scrape /metrics: each family
    a rule names has a sample (so renaming a family in monitoring/prom.py breaks this test, not the pages), and
    a delivery given up on carries the status AcademyAlertDeliveryFailed selects."""
    agent = AgentConfigFactory(name="alpha")
    now = timezone.now()
    for name, value in (("cost_per_run", "0.02"), ("tool_calls_per_run", "4"), ("latency_p95", "800"),
                        ("error_rate_5m", "0"), ("decision_rate", "6")):
        for hours in range(5):
            metric_record(name, Decimal(value), agent_id=agent.pk, ts=now - timedelta(hours=hours))
        baseline(name, agent.pk, now=now)
    metric_record("chain_rest_drift", 0, ts=now)
    alert_fire(key="cost_per_run:alpha", title="cost")
    AlertDelivery.objects.update(status=DeliveryStatus.FAILED)  # as monitoring.tasks gives up on them
    text = metrics(RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1")).content.decode()
    exposed = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    named = {family for rule in _alerts().values() for family in FAMILY.findall(rule["expr"])}
    assert named >= set(CARD.values())
    assert named - exposed == set()
    failed = [s for family in text_string_to_metric_families(text) for s in family.samples
              if s.name == "academy_alert_deliveries" and s.labels["status"] == DeliveryStatus.FAILED]
    assert failed and f'{{status="{DeliveryStatus.FAILED}"}}' in _alerts()["AcademyAlertDeliveryFailed"]["expr"]


# --- the Alertmanager example, running ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def _running_alertmanager(config: Path, storage: Path) -> Iterator[str]:
    """Debian's Alertmanager on a free loopback port with `config`, no cluster; its base URL."""
    port = _free_port()
    storage.mkdir(exist_ok=True)
    proc = subprocess.Popen([AM, f"--config.file={config}", f"--storage.path={storage}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, proc)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """The example configuration as it stands, running."""
    with _running_alertmanager(ALERTMANAGER, tmp_path / "alertmanager") as url:
        yield url


def _wait(ready: Callable[[], bool], proc: subprocess.Popen | None = None, deadline_s: float = 30) -> None:
    """Poll until ready() (a slow machine is not a failure; a dead process is)."""
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        assert proc is None or proc.poll() is None, proc.stderr.read().decode()
        try:
            if ready():
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"not ready within {deadline_s} s")


def _alert(name: str, summary: str = "", **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": "page", "component": "academy", "job": "academy", **labels},
            "annotations": {"summary": summary} if summary else {}}


def test_it_holds_back_the_per_agent_pages_of_a_halted_academy_and_no_other(alertmanager: str) -> None:
    """While AcademyKillSwitchActive fires, the same Academy's per-agent pages are inhibited (the halt is the
    page); its drift page, its failed-delivery page (the halt's own page may be the one lost) and another
    Academy's pages are not, even another deployment of the example config with the same job and instance labels
    (only its `academy` external label tells it apart)."""
    here, there = {"academy": "a", "instance": "academy:8000"}, {"academy": "a", "instance": "other-desk:8000"}
    twin = {"academy": "b", "instance": "academy:8000"}
    sent = [_alert("AcademyKillSwitchActive", **here), _alert("AcademyCostPerRunHigh", agent="alpha", **here),
            _alert("AcademyDecisionRateOutOfBand", agent="alpha", **here),
            _alert("AcademyChainRestDrift", agent="_system", **here),
            _alert("AcademyAlertDeliveryFailed", sink="pagerduty", status="failed", **here),
            _alert("AcademyCostPerRunHigh", agent="alpha", **there),
            _alert("AcademyCostPerRunHigh", agent="alpha", **twin)]
    assert httpx.post(f"{alertmanager}/api/v2/alerts", json=sent, timeout=5).status_code == 200

    seen: list[dict] = []

    def inhibited() -> bool:  # the inhibitor learns of the halt alert a moment after it is posted
        seen[:] = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        return len(seen) == len(sent) and any(a["status"]["inhibitedBy"] for a in seen)

    _wait(inhibited)
    held = {(a["labels"]["academy"], a["labels"]["alertname"], a["labels"]["instance"])
            for a in seen if a["status"]["inhibitedBy"]}
    assert held == {("a", "AcademyCostPerRunHigh", "academy:8000"),
                    ("a", "AcademyDecisionRateOutOfBand", "academy:8000")}


# --- what the pager and the chat receive --------------------------------------------------------------------


class _Capture:
    """A local HTTP server standing in for PagerDuty and Slack: keeps each JSON body posted, answers 202."""

    def __init__(self) -> None:
        self.received: list[tuple[str, dict]] = []
        capture = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = self.rfile.read(int(self.headers["Content-Length"]))
                capture.received.append((self.path, json.loads(body)))
                self.send_response(202)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"status": "success", "message": "Event processed"}')

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, path: str) -> list[dict]:
        return [body for p, body in list(self.received) if p == path]


@pytest.fixture
def capture() -> Iterator[_Capture]:
    server = _Capture()
    try:
        yield server
    finally:
        server.server.shutdown()
        server.server.server_close()


def _captured_config(tmp_path: Path, capture_url: str) -> Path:
    """The repo's example with its receivers pointed at `capture_url` and its waits shortened; nothing else.

    Each replaced value is asserted first, so the templates under test are the repo's as they stand, and an
    edit of the example that moves these keys fails here rather than testing something else.
    """
    config = yaml.safe_load(ALERTMANAGER.read_text())
    route, (pager, chat) = config["route"], config["receivers"]
    assert (pager["name"], chat["name"]) == ("pager", "chat")
    (pagerduty,), (slack,) = pager["pagerduty_configs"], chat["slack_configs"]
    assert pagerduty["routing_key_file"] == "/etc/alertmanager/academy-pagerduty-routing-key"
    assert slack.pop("api_url_file") == "/etc/alertmanager/academy-slack-webhook-url"
    assert (route["group_wait"], route["group_interval"], route["routes"][0]["group_wait"]) == ("30s", "5m", "10s")
    key = tmp_path / "routing-key"
    key.write_text("0123456789abcdef0123456789abcdef\n")
    pagerduty.update(routing_key_file=str(key), url=f"{capture_url}/v2/enqueue")
    slack["api_url"] = f"{capture_url}/slack"
    route.update(group_wait="1s", group_interval="1s")
    route["routes"][0]["group_wait"] = "1s"
    copy = tmp_path / "alertmanager.yml"
    copy.write_text(yaml.safe_dump(config, sort_keys=False))
    _ok(_run(AMTOOL, "check-config", copy))
    return copy


def _post(url: str, alerts: list[dict]) -> None:
    assert httpx.post(f"{url}/api/v2/alerts", json=alerts, timeout=5).status_code == 200


def _events(capture: _Capture, action: str) -> list[dict]:
    """The PagerDuty events of `action` ("trigger", "resolve") received so far."""
    return [e for e in capture.bodies("/v2/enqueue") if e["event_action"] == action]


def test_it_pages_with_a_summary_when_the_alerts_of_a_group_have_different_ones(
        tmp_path: Path, capture: _Capture) -> None:
    """Two web instances down group into one page whose alerts share no summary: PagerDuty refuses an empty
    payload.summary with a 400 that Alertmanager does not retry, so the page must still carry one, naming
    both instances; and its resolve too. A group of one alert pages with that alert's own summary."""
    down = [_alert("AcademyMetricsDown", f"Academy /metrics has not been scraped for 2 minutes ({instance})",
                   academy="desk-a", instance=instance) for instance in ("web1:8000", "web2:8000")]
    cost = _alert("AcademyCostPerRunHigh", "Agent alpha: cost per run 0.0900 USD, over 0.0500",
                  academy="desk-a", agent="alpha", instance="web1:8000")
    with _running_alertmanager(_captured_config(tmp_path, capture.url), tmp_path / "alertmanager") as url:
        _post(url, [*down, cost])
        _wait(lambda: len(_events(capture, "trigger")) == 2)  # one page per group: the two down, the cost
        (paged,) = [e for e in _events(capture, "trigger") if "cost per run" not in e["payload"]["summary"]]
        (single,) = [e for e in _events(capture, "trigger") if e is not paged]
        assert paged["payload"]["summary"] == "desk-a: AcademyMetricsDown: 2 firing (web1:8000, web2:8000)"
        assert single["payload"]["summary"] == "desk-a: " + cost["annotations"]["summary"]
        details = paged["payload"]["custom_details"]["alerts"]
        assert [a["annotations"]["summary"] in details for a in down] == [True, True]

        ended = datetime.now(UTC).isoformat()
        _post(url, [{**alert, "endsAt": ended} for alert in down])
        _wait(lambda: bool(_events(capture, "resolve")))
        (resolved,) = _events(capture, "resolve")
        assert resolved["dedup_key"] == paged["dedup_key"]
        assert resolved["payload"]["summary"] == "desk-a: AcademyMetricsDown: 0 firing, 2 resolved"


def test_it_titles_every_chat_message(tmp_path: Path, capture: _Capture) -> None:
    """A chat message's title says the group's status, deployment, alert and agent, even when the alerts share
    no other label."""
    sent = [{"labels": {"alertname": "AcademyErrorBudget", "severity": "ticket", "academy": "desk-a",
                        "instance": instance}, "annotations": {"summary": f"budget low on {instance}"}}
            for instance in ("web1:8000", "web2:8000")]
    with _running_alertmanager(_captured_config(tmp_path, capture.url), tmp_path / "alertmanager") as url:
        _post(url, sent)
        _wait(lambda: bool(capture.bodies("/slack")))
        (message,) = capture.bodies("/slack")
        (attachment,) = message["attachments"]
        assert attachment["title"] == "[FIRING] desk-a: AcademyErrorBudget"
        assert attachment["text"].splitlines() == ["budget low on web1:8000 ()", "budget low on web2:8000 ()"]
