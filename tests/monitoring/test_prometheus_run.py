"""`make prometheus` (deploy/prometheus/run.py): the example config, rendered for the port `make run` wrote
and the deployment's name, is one Debian's promtool accepts; the script refuses a Prometheus port already
taken, and otherwise starts a prometheus that scrapes that port and labels its alerts with that name."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from tests.monitoring.prometheus import RULES, RunningPrometheus
from tests.panel.server import free_port

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "deploy" / "prometheus" / "run.py"
EXAMPLE = ROOT / "deploy" / "prometheus" / "prometheus.yml"
PROMTOOL = "/usr/bin/promtool"


@pytest.fixture
def run() -> ModuleType:
    spec = importlib.util.spec_from_file_location("prometheus_run", SCRIPT)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _promtool_check(config: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PROMTOOL, "check", "config", str(config)], capture_output=True, text=True, timeout=60)


def test_it_ships_an_example_config_promtool_accepts_in_place() -> None:
    checked = _promtool_check(EXAMPLE)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "academy.rules.yml" in checked.stdout  # the rules file, found and checked beside it


def test_it_renders_the_port_of_env_and_the_rules_by_absolute_path(run: ModuleType, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEB_PORT", raising=False)
    env = tmp_path / ".env"
    env.write_text("DEBUG=true\nWEB_PORT=8123\n")
    config = tmp_path / "elsewhere" / "prometheus.yml"
    config.parent.mkdir()
    config.write_text(run.render(EXAMPLE.read_text(), port=run.web_port(env), rules=RULES, academy="desk-a"))

    assert '"127.0.0.1:8123"' in config.read_text() and "127.0.0.1:8000" not in config.read_text()
    assert 'academy: "desk-a"' in config.read_text() and "CHANGE-ME" not in config.read_text()
    checked = _promtool_check(config)  # away from deploy/: only an absolute rules path is found
    assert checked.returncode == 0, checked.stdout + checked.stderr


def test_it_takes_web_port_as_make_run_does(run: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = tmp_path / ".env"
    monkeypatch.delenv("WEB_PORT", raising=False)
    assert run.web_port(env) == 8000  # no .env yet: the demo default
    env.write_text("WEB_PORT=8123\n")
    assert run.web_port(env) == 8123
    monkeypatch.setenv("WEB_PORT", "8200")  # the environment over .env
    assert run.web_port(env) == 8200
    monkeypatch.setenv("WEB_PORT", "80a")
    with pytest.raises(SystemExit, match="not a TCP port"):
        run.web_port(env)


def test_it_names_the_deployment_from_academy_name(run: ModuleType, monkeypatch: pytest.MonkeyPatch) -> None:
    """The `academy` external label that Alertmanager groups and inhibits by: ACADEMY_NAME, else "local";
    a value that would need quoting in YAML is refused, not written."""
    monkeypatch.delenv("ACADEMY_NAME", raising=False)
    assert run.academy_name() == "local"
    monkeypatch.setenv("ACADEMY_NAME", "desk-a.eu_1")
    assert run.academy_name() == "desk-a.eu_1"
    for wrong in ("", "desk a", 'x"\nacademy: y', "é"):
        monkeypatch.setenv("ACADEMY_NAME", wrong)
        with pytest.raises(SystemExit, match="ACADEMY_NAME"):
            run.academy_name()


@pytest.mark.parametrize(("old", "new"), [('"127.0.0.1:8000"', '"localhost:8000"'),
                                          ("academy: CHANGE-ME", "academy: desk")])
def test_it_refuses_an_example_it_no_longer_matches(run: ModuleType, old: str, new: str) -> None:
    moved = EXAMPLE.read_text().replace(old, new)
    with pytest.raises(SystemExit, match=old):
        run.render(moved, port=8123, rules=RULES, academy="desk-a")


@pytest.mark.parametrize("how", ["PROMETHEUS_PORT", "--listen"])
def test_it_refuses_a_prometheus_port_already_taken(tmp_path: Path, how: str) -> None:
    """Debian's prometheus package starts a service on :9090 when installed: `make prometheus` must then say
    which port is taken and how to pick another, before writing or starting anything."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        env = {**{k: v for k, v in os.environ.items() if k != "WEB_PORT"}, "PROMETHEUS_PORT": str(port)}
        listen = ["--listen", f"127.0.0.1:{port}"] if how == "--listen" else []  # the Makefile passes --listen
        result = subprocess.run([sys.executable, str(SCRIPT), "--env-file", str(tmp_path / ".env"), *listen,
                                 "--dir", str(tmp_path / "prometheus")], env=env, capture_output=True, text=True,
                                timeout=60)
    assert result.returncode != 0
    assert f"port {port} is already in use (127.0.0.1:{port})" in result.stderr, result.stderr
    assert f"PROMETHEUS_PORT={port + 1} make prometheus" in result.stderr
    assert not (tmp_path / "prometheus").exists()


def test_it_starts_prometheus_scraping_the_academy_of_env(tmp_path: Path) -> None:
    web, listen = free_port(), free_port()
    env = tmp_path / ".env"
    env.write_text(f"WEB_PORT={web}\n")
    full = {**{k: v for k, v in os.environ.items() if k != "WEB_PORT"}, "ACADEMY_NAME": "desk-b"}
    with (tmp_path / "prometheus.log").open("wb") as log:
        process = subprocess.Popen([sys.executable, str(SCRIPT), "--env-file", str(env), "--listen",
                                    f"127.0.0.1:{listen}", "--dir", str(tmp_path / "prometheus")], env=full,
                                   stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    prom = RunningPrometheus(directory=tmp_path, port=listen, process=process)
    try:
        prom.wait_ready(30.0)
        prom.wait_until(lambda: bool(prom.api("targets")["activeTargets"]), "the scrape target discovered")
        targets = [(t["labels"]["job"], t["scrapeUrl"]) for t in prom.api("targets")["activeTargets"]]
        assert targets == [("academy", f"http://127.0.0.1:{web}/metrics")]
        assert {g["name"] for g in prom.api("rules")["groups"]} == {"academy-paging"}
        assert "external_labels:\n    academy: desk-b\n" in prom.api("status/config")["yaml"]
        assert (tmp_path / "prometheus" / "data").is_dir()
    finally:
        prom.stop()
    assert process.poll() is not None  # exec'd: the script's pid is prometheus, stopped with its group
