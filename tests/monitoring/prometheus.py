"""A real Prometheus (Debian's /usr/bin/prometheus) for the tests, and the Grafana dashboard's queries.

    prom = RunningPrometheus.start(tmp_dir, scrape="127.0.0.1:8123", rules=RULES)   # 1 s scrapes and rules
    prom.alert_state("AcademyKillSwitchActive")                                       # "firing", "pending", None
    prom.stop()                                                                       # the whole process group
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from tests.panel.server import free_port

ROOT = Path(__file__).resolve().parents[2]
PROMETHEUS = "/usr/bin/prometheus"
RULES = ROOT / "deploy" / "prometheus" / "academy.rules.yml"
DASHBOARD = ROOT / "deploy" / "grafana" / "academy-dashboard.json"
# What Grafana puts in place of its variables when the dashboard shows every agent over an hour.
GRAFANA_VARIABLES = {"$agent": ".*", "$__rate_interval": "1m", "$__range": "1h", "$__interval": "15s"}


def config_text(*, scrape: str, rules: Path) -> str:
    """Scrape job "academy" (the name the rules' AcademyMetricsDown watches) every second, rules every second.
    JSON is YAML: no YAML writer needed, and every value is quoted as it should be."""
    config = {"global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
              "rule_files": [str(rules)],
              "scrape_configs": [{"job_name": "academy", "metrics_path": "/metrics",
                                  "static_configs": [{"targets": [scrape]}]}]}
    return json.dumps(config, indent=2)


@dataclass
class RunningPrometheus:
    directory: Path
    port: int
    process: subprocess.Popen[bytes]

    @classmethod
    def start(cls, directory: Path, *, scrape: str, rules: Path = RULES, timeout_s: float = 30.0) -> RunningPrometheus:
        """1. write the config; 2. start prometheus in a process group of its own; 3. wait for /-/ready."""
        directory.mkdir(parents=True, exist_ok=True)
        config = directory / "prometheus.yml"
        config.write_text(config_text(scrape=scrape, rules=rules))
        port = free_port()
        log = open(directory / "prometheus.log", "ab")  # noqa: SIM115 (the process owns it)
        process = subprocess.Popen([PROMETHEUS, f"--config.file={config}", f"--storage.tsdb.path={directory / 'data'}",
                                    f"--web.listen-address=127.0.0.1:{port}"],
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        running = cls(directory=directory, port=port, process=process)
        try:
            running.wait_ready(timeout_s)
        except BaseException:
            running.stop()
            raise
        return running

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"prometheus exited ({self.process.returncode}):\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/-/ready", timeout=1.0).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"prometheus not ready within {timeout_s}s:\n{self.log_tail()}")

    def api(self, path: str, **params: str) -> Any:
        """GET /api/v1/<path>; the `data` of a success, RuntimeError (with Prometheus's error) otherwise."""
        response = httpx.get(f"{self.url}/api/v1/{path}", params=params, timeout=10.0)
        body = response.json()
        if body.get("status") != "success":
            raise RuntimeError(f"/api/v1/{path} {params}: {body.get('errorType')}: {body.get('error')}")
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector (or scalar, as one sample) `expr` evaluates to now."""
        data = self.api("query", query=expr)
        return data["result"] if data["resultType"] in ("vector", "matrix") else [{"value": data["result"]}]

    def alerts(self, name: str) -> list[dict[str, Any]]:
        """The active (pending or firing) alerts of the rule `name`, one per series."""
        return [a for a in self.api("alerts")["alerts"] if a["labels"].get("alertname") == name]

    def alert_state(self, name: str) -> str | None:
        """The state of the alert `name` ("firing" or "pending"), None while inactive."""
        states = {a["state"] for a in self.alerts(name)}
        return "firing" if "firing" in states else states.pop() if states else None

    def wait_until(self, condition: Callable[[], bool], what: str, *, timeout_s: float = 60.0) -> None:
        """Poll `condition` until it holds; fail naming `what`, with Prometheus's own account of why not."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if condition():
                return
            time.sleep(0.25)
        raise AssertionError(f"not within {timeout_s}s: {what}\n{self.diagnosis()}")

    def wait_for_alert(self, name: str, *, state: str = "firing", timeout_s: float = 60.0) -> None:
        self.wait_until(lambda: self.alert_state(name) == state, f"{name} {state}", timeout_s=timeout_s)

    def wait_for_scrapes(self, expr: str = "up{job='academy'} == 1", *, timeout_s: float = 30.0) -> None:
        """Wait until `expr` returns a series (by default: the academy target has been scraped up)."""
        self.wait_until(lambda: bool(self.query(expr)), f"a series for {expr}", timeout_s=timeout_s)

    def diagnosis(self) -> str:
        """The targets' health, the rules' state and the log tail: what a failure message needs."""
        try:
            targets = [{k: t.get(k) for k in ("scrapeUrl", "health", "lastError")}
                       for t in self.api("targets")["activeTargets"]]
            rules = [{k: r.get(k) for k in ("name", "state", "health", "lastError")}
                     for g in self.api("rules")["groups"] for r in g["rules"]]
        except (httpx.HTTPError, RuntimeError, ValueError) as exc:
            targets = rules = [f"unavailable: {exc}"]
        return f"targets: {targets}\nrules: {rules}\nprometheus log:\n{self.log_tail()}"

    def log_tail(self, lines: int = 30) -> str:
        log = self.directory / "prometheus.log"
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:]) if log.exists() else ""

    def stop(self) -> None:
        """SIGTERM the process group, SIGKILL it when it lingers: no orphan outlives the test."""
        for sig, wait_s in ((signal.SIGTERM, 10), (signal.SIGKILL, 5)):
            if self.process.poll() is not None:
                return
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                return
            try:
                self.process.wait(timeout=wait_s)
            except subprocess.TimeoutExpired:
                continue


# --- the Grafana dashboard --------------------------------------------------------------------------


def dashboard() -> dict[str, Any]:
    return json.loads(DASHBOARD.read_text())


def panels(board: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel that shows data (rows only group them), collapsed rows' panels included."""
    for panel in board["panels"]:
        if panel["type"] == "row":
            yield from panel.get("panels", [])
        else:
            yield panel


def promql(expr: str) -> str:
    """The expression as Grafana sends it, with the dashboard's variables filled in."""
    for name in sorted(GRAFANA_VARIABLES, key=len, reverse=True):
        expr = expr.replace("${" + name[1:] + "}", GRAFANA_VARIABLES[name]).replace(name, GRAFANA_VARIABLES[name])
    if "$" in expr:
        raise ValueError(f"unknown variable left in {expr!r}")
    return expr


def metric_names(expr: str) -> set[str]:
    return set(re.findall(r"academy_[a-z0-9_]+", expr))


# --- the data ---------------------------------------------------------------------------------------


def seed_card() -> None:
    """On top of tests/panel/seed.py (run in `manage.py shell`): what an hour of runs and monitor passes
    leave, so that every figure of the card and every threshold has a series, as on a running Academy.

    1. the rate figures each run records (error rate, decisions), and the baselines its checks store;
    2. the system-wide figures of a monitor pass (NAV, P&L, spend, chain drift, kill switch);
    3. a run that has just ended, for the recent run-duration quantiles (a 5-minute window).
    """
    from datetime import timedelta
    from decimal import Decimal

    from django.utils import timezone

    from agents.models import AgentConfig
    from monitoring.metrics import baseline, metric_record
    from tests.factories import RunFactory

    agent = AgentConfig.objects.get(name="btc-hourly")
    now = timezone.now()
    for minutes in range(60, 0, -10):
        metric_record("error_rate_5m", 0, agent_id=agent.pk, ts=now - timedelta(minutes=minutes))
        metric_record("decision_rate", 4, agent_id=agent.pk, ts=now - timedelta(minutes=minutes))
    for name in ("cost_per_run", "latency_p95", "decision_rate"):
        baseline(name, agent.pk, now=now)
    for name, value in (("nav", "1012.50"), ("daily_pnl", "-3.20"), ("inference_cost_today", "0.0352"),
                        ("chain_rest_drift", "0"), ("kill_switch_active", "0")):
        metric_record(name, Decimal(value), ts=now)
    RunFactory(agent=agent, status="completed", started_at=now - timedelta(seconds=12),
               ended_at=now - timedelta(seconds=2), steps=2, tool_calls=3, cost=Decimal("0.0024"))
