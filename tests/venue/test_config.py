"""Start-up refuses a bad setting: a non-zero exit and a message naming the variable."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from paper_venue.testing import REPO_ROOT, free_port

BAD_SETTINGS = [
    ("VENUE_HEARTBEAT_TIMEOUT", "nan"),  # passed `<= 0`, so no session was ever dropped
    ("VENUE_HEARTBEAT_TIMEOUT", "inf"),
    ("VENUE_HEARTBEAT_TIMEOUT", "0"),
    ("VENUE_HEARTBEAT_INTERVAL", "NaN"),
    ("VENUE_HEARTBEAT_INTERVAL", "-1"),
    ("VENUE_HEARTBEAT_INTERVAL", "1e400"),
    ("VENUE_TICK_INTERVAL", "nan"),
    ("VENUE_TICK_INTERVAL", "-0.5"),
    ("VENUE_SETTLE_LAG", "nan"),
    ("VENUE_SETTLE_LAG", "-1"),
    ("VENUE_SETTLE_LAG", "soon"),
    ("VENUE_PORT", "http"),
    ("VENUE_PORT", "70000"),
    ("VENUE_SEED", "1.5"),
    ("VENUE_SQLITE_SYNC", "sometimes"),
    ("VENUE_DEMO_MARKETS", "maybe"),
    ("VENUE_ACCOUNTS", "alice:alice-key:-5"),
    ("VENUE_ACCOUNTS", "alice:alice-key:1e999999999"),
    ("VENUE_ACCOUNTS", "sim-maker-1:stolen-key:5"),  # a simulated account must not get a key
]


def _start(tmp_path: Path, name: str, value: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VENUE_TICK_INTERVAL": "0", "VENUE_FAULTS_TOKEN": "", name: value}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH", "")]))
    cmd = [sys.executable, "-m", "agents.venue", "--port", str(free_port()), "--data-dir", str(tmp_path)]
    # A venue that accepted the value would serve until the timeout kills it: that is the failure.
    return subprocess.run(cmd, env=env, cwd=REPO_ROOT, capture_output=True, text=True, timeout=20)


@pytest.mark.parametrize(("name", "value"), BAD_SETTINGS)
def test_it_refuses_to_start_with_a_bad_setting(tmp_path: Path, name: str, value: str) -> None:
    done = _start(tmp_path, name, value)
    assert done.returncode != 0, done.stderr
    assert "bad configuration" in done.stderr and name in done.stderr, done.stderr
