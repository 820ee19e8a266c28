"""A real Prometheus (Debian's) scrapes a running Academy, pages with the repo's rules as the monitor would,
and answers every query of the Grafana dashboard.

One Academy web process (daphne on a throw-away database, seeded) and one Prometheus for the module:
1 s scrapes and rule evaluations, deploy/prometheus/academy.rules.yml as it is in the repo.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import pytest

from paper_venue.testing import RunningVenue
from tests.browser import paper_panel
from tests.monitoring.prometheus import RULES, RunningPrometheus, dashboard, panels, promql
from tests.panel.server import PanelServer

GROUP = "academy-paging"
CONTRACT = {"AcademyCostPerRunHigh", "AcademyToolCallsPerRunHigh", "AcademyLatencyP95High", "AcademyErrorRate5mHigh",
            "AcademyKillSwitchActive", "AcademyChainRestDrift", "AcademyDecisionRateOutOfBand",
            "AcademyAlertDeliveryFailed", "AcademyMetricsDown"}
AGENT = "btc-hourly"
TOOL_CALLS = f'academy_agent_tool_calls_per_run{{agent="{AGENT}"}}'


@pytest.fixture(scope="module")
def academy(venue: RunningVenue, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PanelServer]:
    """The web process, seeded with the demo run and a card's worth of figures; halt() sweeps a real account."""
    with paper_panel(venue, tmp_path_factory.mktemp("prometheus-academy"), account="prometheus-live",
                     seed="from tests.monitoring.prometheus import seed_card; seed_card()") as server:
        yield server


@pytest.fixture(scope="module")
def prometheus(academy: PanelServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningPrometheus]:
    prom = RunningPrometheus.start(tmp_path_factory.mktemp("prometheus"), scrape=f"127.0.0.1:{academy.port}",
                                   rules=RULES)
    try:
        prom.wait_for_scrapes()
        yield prom
    finally:
        prom.stop()


def _record(server: PanelServer, name: str, value: int) -> None:
    server.shell(f"from agents.models import AgentConfig; from monitoring.metrics import metric_record; "
                 f"metric_record({name!r}, {value}, agent_id=AgentConfig.objects.get(name={AGENT!r}).pk)")


def _unix(rfc3339: str) -> float:
    """Prometheus's timestamps carry nanoseconds; Python reads microseconds."""
    return datetime.fromisoformat(re.sub(r"(\.\d{6})\d+", r"\1", rfc3339.replace("Z", "+00:00"))).timestamp()


def _evaluated_after(prom: RunningPrometheus, expr: str) -> None:
    """Wait until `expr` has a scraped sample and the paging rules were evaluated two scrapes after it, so
    their states now reflect that sample."""
    prom.wait_for_scrapes(expr)
    scraped = float(prom.query(f"timestamp({expr})")[0]["value"][1])

    def evaluated() -> float:
        groups = {g["name"]: g for g in prom.api("rules")["groups"]}
        return _unix(groups[GROUP]["lastEvaluation"]) if GROUP in groups else 0.0

    prom.wait_until(lambda: evaluated() >= scraped + 2, f"the rules evaluated after the sample of {expr}")


def test_it_loads_every_paging_rule_and_evaluates_it_without_error(prometheus: RunningPrometheus) -> None:
    prometheus.wait_until(lambda: all(r.get("lastEvaluation", "").startswith("2") and r["health"] != "unknown"
                                      for g in prometheus.api("rules")["groups"] for r in g["rules"]),
                          "every rule evaluated once")
    rules = {r["name"]: r for g in prometheus.api("rules")["groups"] if g["name"] == GROUP for r in g["rules"]}
    assert CONTRACT <= set(rules), f"missing from {RULES.name}: {sorted(CONTRACT - set(rules))}"
    broken = {name: r.get("lastError") for name, r in rules.items() if r["health"] != "ok"}
    assert not broken, f"rules failing against a real /metrics: {broken}"
    assert {r["labels"].get("severity") for r in rules.values() if r["type"] == "alerting"} == {"page"}


def test_it_fires_the_kill_switch_alert_when_academy_halts(academy: PanelServer,
                                                           prometheus: RunningPrometheus) -> None:
    _evaluated_after(prometheus, "academy_kill_switch_active == 0")
    assert prometheus.alert_state("AcademyKillSwitchActive") is None

    academy.shell("from monitoring.halt import halt; halt(reason='live Prometheus test', source='command', "
                  "actor_name='pytest')")

    prometheus.wait_for_alert("AcademyKillSwitchActive", state="firing", timeout_s=60)
    assert [a["labels"]["severity"] for a in prometheus.alerts("AcademyKillSwitchActive")] == ["page"]
    # A halt is not a scrape failure, and the seeded costs are far under their floor: neither pages.
    assert prometheus.alert_state("AcademyMetricsDown") is None
    assert prometheus.alert_state("AcademyCostPerRunHigh") is None


def test_it_pages_on_tool_calls_above_the_threshold_and_not_at_it(academy: PanelServer,
                                                                  prometheus: RunningPrometheus) -> None:
    _record(academy, "tool_calls_per_run", 30)  # PAGE_TOOL_CALLS_PER_RUN: the monitor pages above it only
    _evaluated_after(prometheus, f"{TOOL_CALLS} == 30")
    assert prometheus.alert_state("AcademyToolCallsPerRunHigh") is None

    _record(academy, "tool_calls_per_run", 31)
    _evaluated_after(prometheus, f"{TOOL_CALLS} == 31")
    # pending or firing: breached either way (a `for:` on the rule only delays the page)
    assert prometheus.alert_state("AcademyToolCallsPerRunHigh") in ("pending", "firing")
    assert [a["labels"]["agent"] for a in prometheus.alerts("AcademyToolCallsPerRunHigh")] == [AGENT]


def test_it_answers_every_query_of_the_grafana_dashboard(prometheus: RunningPrometheus) -> None:
    board = dashboard()
    prometheus.wait_for_scrapes("count_over_time(up{job='academy'}[1m]) >= 3")  # rate() needs two samples
    empty = [f"{panel['title']!r} {target['refId']}: {promql(target['expr'])}"
             for panel in panels(board) for target in panel["targets"] if not prometheus.query(promql(target["expr"]))]
    assert not empty, "dashboard queries with no series:\n" + "\n".join(empty)
    agents = prometheus.api("label/agent/values", **{"match[]": "academy_runs_total"})  # the $agent variable
    assert AGENT in agents
