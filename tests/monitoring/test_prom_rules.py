"""The Prometheus rules and the Alertmanager example (deploy/): Debian's promtool and amtool accept them, the
promtool unit tests pass (and fail when a rule names another family), every paging metric of the card has an
alert, and every family the rules name is on /metrics."""

from __future__ import annotations

import re
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
import yaml
from django.test import RequestFactory
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families

from monitoring.metrics import baseline, metric_record
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
SYSTEM_WIDE = {"AcademyKillSwitchActive", "AcademyChainRestDrift", "AcademyMetricsDown"}  # no agent label
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
    ("for: 2m", "for: 5m"),
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
                           "AcademyDecisionRateOutOfBand", "AcademyMetricsDown"}
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
    """Seed one agent with every figure and baseline, scrape /metrics: each family a rule names has a sample
    (so renaming a family in monitoring/prom.py breaks this test, not the pages)."""
    agent = AgentConfigFactory(name="alpha")
    now = timezone.now()
    for name, value in (("cost_per_run", "0.02"), ("tool_calls_per_run", "4"), ("latency_p95", "800"),
                        ("error_rate_5m", "0"), ("decision_rate", "6")):
        for hours in range(5):
            metric_record(name, Decimal(value), agent_id=agent.pk, ts=now - timedelta(hours=hours))
        baseline(name, agent.pk, now=now)
    metric_record("chain_rest_drift", 0, ts=now)
    text = metrics(RequestFactory().get("/metrics", REMOTE_ADDR="127.0.0.1")).content.decode()
    exposed = {s.name for family in text_string_to_metric_families(text) for s in family.samples}
    named = {family for rule in _alerts().values() for family in FAMILY.findall(rule["expr"])}
    assert named >= set(CARD.values())
    assert named - exposed == set()


# --- the Alertmanager example, running ----------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def alertmanager(tmp_path: Path) -> Iterator[str]:
    """Debian's Alertmanager on a free loopback port with the example configuration, no cluster; its base URL."""
    port = _free_port()
    proc = subprocess.Popen([AM, f"--config.file={ALERTMANAGER}", f"--storage.path={tmp_path}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    try:
        _wait(lambda: httpx.get(f"{url}/-/ready", timeout=1).status_code == 200, proc)
        yield url
    finally:
        proc.terminate()
        proc.communicate(timeout=20)


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


def _alert(name: str, **labels: str) -> dict:
    return {"labels": {"alertname": name, "severity": "page", "component": "academy", "job": "academy", **labels}}


def test_it_holds_back_the_per_agent_pages_of_a_halted_academy_and_no_other(alertmanager: str) -> None:
    """While AcademyKillSwitchActive fires, the same Academy's per-agent pages are inhibited (the halt is the
    page); its drift page and another Academy's pages are not."""
    here, there = {"instance": "academy:8000"}, {"instance": "other-desk:8000"}
    sent = [_alert("AcademyKillSwitchActive", **here), _alert("AcademyCostPerRunHigh", agent="alpha", **here),
            _alert("AcademyDecisionRateOutOfBand", agent="alpha", **here),
            _alert("AcademyChainRestDrift", agent="_system", **here),
            _alert("AcademyCostPerRunHigh", agent="alpha", **there)]
    assert httpx.post(f"{alertmanager}/api/v2/alerts", json=sent, timeout=5).status_code == 200

    seen: list[dict] = []

    def inhibited() -> bool:  # the inhibitor learns of the halt alert a moment after it is posted
        seen[:] = httpx.get(f"{alertmanager}/api/v2/alerts", timeout=5).json()
        return len(seen) == len(sent) and any(a["status"]["inhibitedBy"] for a in seen)

    _wait(inhibited)
    held = {(a["labels"]["alertname"], a["labels"]["instance"]) for a in seen if a["status"]["inhibitedBy"]}
    assert held == {("AcademyCostPerRunHigh", "academy:8000"), ("AcademyDecisionRateOutOfBand", "academy:8000")}
