"""One writer per agent (flock across processes) and atomic state."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from agents.core.state import (
    AgentLock,
    AgentState,
    AlreadyRunning,
    StateCorrupt,
    load_state,
    mark_run_finished,
    mark_run_started,
    save_state,
)

ROOT = Path(__file__).resolve().parents[2]
HOLDER = """
import sys
from pathlib import Path
from agents.core.state import AgentLock
with AgentLock(Path(sys.argv[1]), "agent-7"):
    print("locked", flush=True)
    sys.stdin.readline()
print("released", flush=True)
"""


def test_it_lets_only_one_process_hold_an_agent(tmp_path: Path) -> None:
    child = subprocess.Popen([sys.executable, "-c", HOLDER, str(tmp_path)], cwd=ROOT, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert child.stdout.readline().strip() == "locked"
        with pytest.raises(AlreadyRunning, match="held by another run"):
            AgentLock(tmp_path, "agent-7").acquire()
        with AgentLock(tmp_path, "agent-8") as other:  # another agent is independent
            assert other.held
        child.stdin.write("\n")
        child.stdin.flush()
        assert child.stdout.readline().strip() == "released"
    finally:
        child.stdin.close()
        child.wait(timeout=10)
    with AgentLock(tmp_path, "agent-7") as lock:
        assert lock.held
    assert not lock.held


def test_it_frees_the_lock_when_the_holder_dies(tmp_path: Path) -> None:
    code = HOLDER.replace("sys.stdin.readline()", "import os; os._exit(9)")
    subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=ROOT, capture_output=True, timeout=30)
    with AgentLock(tmp_path, "agent-7"):
        pass


def test_it_saves_and_loads_state_atomically(tmp_path: Path) -> None:
    assert load_state(tmp_path, "a1") == AgentState(agent_id="a1")
    started = mark_run_started(tmp_path, AgentState(agent_id="a1"), run_id="r-9", at="2025-01-15T12:00:00Z")
    assert load_state(tmp_path, "a1").needs_recovery  # a crash now would be noticed by the next run
    mark_run_finished(tmp_path, started, outcome="completed", at="2025-01-15T12:01:00Z")
    state = load_state(tmp_path, "a1")
    assert not state.needs_recovery and (state.last_run_id, state.last_outcome) == ("r-9", "completed")
    path = tmp_path / "agents" / "a1.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and json.loads(path.read_text())["last_run_id"] == "r-9"
    assert [p.name for p in path.parent.iterdir() if p.name.endswith(".tmp")] == []  # no temp left behind


def test_it_keeps_the_old_state_when_a_save_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    save_state(tmp_path, AgentState(agent_id="a1", last_run_id="old"))

    def crash(*a: object) -> None:
        raise OSError("power cut before rename")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError):
        save_state(tmp_path, AgentState(agent_id="a1", last_run_id="new"))
    monkeypatch.undo()
    assert load_state(tmp_path, "a1").last_run_id == "old"
    assert [p.name for p in (tmp_path / "agents").iterdir()] == ["a1.json"]


def test_it_reports_a_corrupt_state_file(tmp_path: Path) -> None:
    (tmp_path / "agents").mkdir()
    (tmp_path / "agents" / "a1.json").write_text("{half")
    with pytest.raises(StateCorrupt):
        load_state(tmp_path, "a1")


def test_it_refuses_agent_ids_that_are_not_file_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        AgentLock(tmp_path, "../x")
