"""The Grafana dashboard (deploy/grafana/academy-dashboard.json) imports into any Grafana and asks only for
metrics that /metrics serves. (That every query returns a series is proven by a real Prometheus in
test_prometheus_live.py.)"""

from __future__ import annotations

import itertools
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.monitoring.prometheus import dashboard, metric_names, panels, promql, seed_card
from tests.panel.seed import seed

DATASOURCE = {"type": "prometheus", "uid": "${DS_PROMETHEUS}"}


def _variables(board: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {v["name"]: v for v in board["templating"]["list"]}


def _exprs(board: dict[str, Any]) -> list[str]:
    """Every PromQL expression: the panels' targets and the query of the agent variable."""
    return [t["expr"] for p in panels(board) for t in p["targets"]] + [_variables(board)["agent"]["definition"]]


def test_it_is_a_schema_39_dashboard_with_unique_panel_ids() -> None:
    board = dashboard()
    assert board["schemaVersion"] == 39 and board["uid"] and board["title"]
    ids = [p["id"] for p in board["panels"]] + [p["id"] for row in board["panels"] for p in row.get("panels", [])]
    assert len(ids) == len(set(ids)), f"panel ids repeat: {sorted(ids)}"


def test_it_lays_out_panels_without_overlap() -> None:
    cells: dict[tuple[int, int], str] = {}
    for panel in dashboard()["panels"]:
        pos = panel["gridPos"]
        assert pos["x"] + pos["w"] <= 24, panel["title"]
        for cell in itertools.product(range(pos["x"], pos["x"] + pos["w"]), range(pos["y"], pos["y"] + pos["h"])):
            assert cell not in cells, f"{panel['title']!r} overlaps {cells[cell]!r}"
            cells[cell] = panel["title"]


def test_it_takes_its_prometheus_from_a_variable_so_it_imports_anywhere() -> None:
    board = dashboard()
    variables = _variables(board)
    assert variables["DS_PROMETHEUS"]["type"] == "datasource"
    assert variables["DS_PROMETHEUS"]["query"] == "prometheus"
    assert variables["agent"]["datasource"] == DATASOURCE
    assert variables["agent"]["includeAll"] and variables["agent"]["allValue"] == ".*"
    for panel in panels(board):
        assert panel["datasource"] == DATASOURCE, panel["title"]
        assert panel["targets"], f"{panel['title']!r} has no query"
        assert all(t["datasource"] == DATASOURCE for t in panel["targets"]), panel["title"]


def test_it_sets_a_unit_on_every_panel() -> None:
    missing = [p["title"] for p in panels(dashboard()) if not p["fieldConfig"]["defaults"].get("unit")]
    assert not missing, f"panels without a unit: {missing}"


def test_it_draws_each_paging_threshold_dashed_beside_its_figure() -> None:
    for panel in panels(dashboard()):
        refs = {t["refId"]: t["expr"] for t in panel["targets"]}
        lines = [r for r, expr in refs.items() if "_page_" in expr]
        dashed = {o["matcher"]["options"] for o in panel["fieldConfig"]["overrides"]
                  if any(p["id"] == "custom.lineStyle" and p["value"]["fill"] == "dash" for p in o["properties"])}
        assert set(lines) == dashed, panel["title"]


@pytest.mark.django_db
def test_it_names_only_metrics_that_metrics_serves(client) -> None:
    seed()
    seed_card()
    exposed = {s.name for family in text_string_to_metric_families(client.get("/metrics").content.decode())
               for s in family.samples}
    used = set().union(*(metric_names(promql(expr)) for expr in _exprs(dashboard())))
    assert used, "no academy_ metric found in the dashboard"
    assert not used - exposed, f"not on /metrics: {sorted(used - exposed)}"
