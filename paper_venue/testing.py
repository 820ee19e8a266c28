"""Start the real paper venue process for tests and benchmarks.

Plain Python (no pytest import) so tests/conftest.py, tests/venue/conftest.py and the
bench scripts all share it:

    with running_venue(tmp_path, VENUE_FAULTS_TOKEN="t") as venue:
        httpx.get(venue.url + "/healthz")
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

DEFAULT_KEY = "paper-key"
DEFAULT_FAULTS_TOKEN = "faults-token"
REPO_ROOT = Path(__file__).resolve().parents[1]


@dataclass
class RunningVenue:
    """A venue subprocess: where it listens and how to reach its control API."""

    url: str
    ws_url: str
    port: int
    data_dir: Path
    api_key: str
    faults_token: str
    process: subprocess.Popen[bytes]
    env: dict[str, str] = field(default_factory=dict)
    log_path: Path | None = None

    def stop(self) -> None:
        stop_process(self.process)

    def log_tail(self, chars: int = 4000) -> str:
        if self.log_path is None or not self.log_path.exists():
            return ""
        return self.log_path.read_text(errors="replace")[-chars:]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def stop_process(process: subprocess.Popen[bytes], timeout: float = 10.0) -> None:
    """Stop gracefully (SIGTERM), then kill if it does not exit in time."""
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=timeout)


def start_venue(data_dir: Path, port: int | None = None, **env: str) -> RunningVenue:
    """Start `python -m agents.venue` on a free port and wait until /healthz answers."""
    data_dir = Path(data_dir)
    data_dir.mkdir(parents=True, exist_ok=True)
    port = port or free_port()
    full_env = {
        **os.environ,
        "VENUE_FAULTS_TOKEN": DEFAULT_FAULTS_TOKEN,
        "VENUE_TICK_INTERVAL": "0",  # tests step the simulation explicitly (/_faults/tick)
        **env,
    }
    full_env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), full_env.get("PYTHONPATH", "")]))
    log_path = data_dir / f"venue-{port}.log"
    cmd = [sys.executable, "-m", "agents.venue", "--host", "127.0.0.1", "--port", str(port)]
    cmd += ["--data-dir", str(data_dir), "--log-level", "warning"]
    with open(log_path, "ab") as log:
        process = subprocess.Popen(cmd, env=full_env, stdout=log, stderr=subprocess.STDOUT, cwd=REPO_ROOT)
    venue = RunningVenue(
        url=f"http://127.0.0.1:{port}",
        ws_url=f"ws://127.0.0.1:{port}/paper/ws",
        port=port,
        data_dir=data_dir,
        api_key=DEFAULT_KEY,
        faults_token=full_env["VENUE_FAULTS_TOKEN"],
        process=process,
        env=env,
        log_path=log_path,
    )
    _wait_healthy(venue)
    return venue


def _wait_healthy(venue: RunningVenue, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if venue.process.poll() is not None:
            raise RuntimeError(f"venue exited with {venue.process.returncode}:\n{venue.log_tail()}")
        try:
            if httpx.get(venue.url + "/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.05)
    venue.stop()
    raise RuntimeError(f"venue did not become healthy within {timeout}s:\n{venue.log_tail()}")


def restart_venue(venue: RunningVenue) -> RunningVenue:
    """Stop the process and start a new one on the same port and data dir."""
    venue.stop()
    return start_venue(venue.data_dir, port=venue.port, **venue.env)


@contextmanager
def running_venue(data_dir: Path, **env: str) -> Iterator[RunningVenue]:
    """Run a venue process for the duration of the block."""
    venue = start_venue(data_dir, **env)
    try:
        yield venue
    finally:
        venue.stop()
