"""One writer per agent, and its state saved atomically.

The lock is an flock on `state/agents/<id>.lock` (non-blocking: a second run gets AlreadyRunning
and is skipped). flock belongs to the open file, so it dies with the process: a crashed run never
leaves a stale lock. Atomic rename alone is not enough with two writers (the reference card's
"state drift" pitfall); the lock is what makes one writer.

State is written temp-file-in-the-same-dir, fsync(file), rename, fsync(dir): after a crash the
file is either the old state or the new one, never half of each.
"""

from __future__ import annotations

import fcntl
import json
import os
import re
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

_AGENT_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,99}$")


class AlreadyRunning(Exception):
    """Another process holds this agent's lock."""


class StateCorrupt(Exception):
    """The state file exists but cannot be read: the caller must treat the last run as unfinished."""


def agents_dir(state_dir: Path) -> Path:
    d = Path(state_dir) / "agents"
    d.mkdir(mode=0o700, parents=True, exist_ok=True)
    return d


def _check_id(agent_id: str) -> str:
    if not _AGENT_ID.match(agent_id):
        raise ValueError(f"agent id {agent_id!r} must match {_AGENT_ID.pattern}")
    return agent_id


class AgentLock:
    """`with AgentLock(state_dir, agent_id):` holds the single-writer lock or raises AlreadyRunning."""

    def __init__(self, state_dir: Path, agent_id: str) -> None:
        self.path = agents_dir(state_dir) / f"{_check_id(agent_id)}.lock"
        self._fd = -1
        self.previous_pid: int | None = None
        self.previous_holder: str | None = None  # the lease holder id the last holder recorded, if any

    def acquire(self) -> None:
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(fd)
            raise AlreadyRunning(f"agent lock {self.path} is held by another run") from exc
        # The flock is the lock; the pid is for an operator reading the file. The lease holder id
        # (record_holder), read back by the next holder as previous_holder, tells the lease that a
        # dead local holder used this very lock.
        self.previous_pid, self.previous_holder = _read_lock_file(fd)
        self._fd = fd
        self._write(f"{os.getpid()}\n")

    def record_holder(self, holder: str) -> None:
        """Write the lease holder id (host:pid:nonce) this lock's holder claimed, under its pid: a pid
        alone collides across pid namespaces, the nonce does not."""
        if self._fd >= 0:
            self._write(f"{os.getpid()}\n{holder}\n")

    def _write(self, text: str) -> None:
        os.ftruncate(self._fd, 0)
        os.pwrite(self._fd, text.encode(), 0)

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1

    @property
    def held(self) -> bool:
        return self._fd >= 0

    def __enter__(self) -> AgentLock:
        self.acquire()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def _read_lock_file(fd: int) -> tuple[int | None, str | None]:
    """The pid and lease holder id the lock's last holder wrote; None for what is missing or unreadable."""
    lines = os.pread(fd, 512, 0).decode("ascii", "replace").splitlines()
    pid = lines[0].strip() if lines else ""
    holder = lines[1].strip() if len(lines) > 1 else ""
    return (int(pid) if pid.isdigit() else None), (holder or None)


@dataclass
class AgentState:
    agent_id: str
    last_run_id: str = ""
    last_run_finished: bool = True
    last_outcome: str = ""
    started_at: str = ""
    ended_at: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def needs_recovery(self) -> bool:
        """The last run started but never recorded its end (crash): reconcile and replay first."""
        return bool(self.last_run_id) and not self.last_run_finished


def state_path(state_dir: Path, agent_id: str) -> Path:
    return agents_dir(state_dir) / f"{_check_id(agent_id)}.json"


def load_state(state_dir: Path, agent_id: str) -> AgentState:
    """Saved state, a fresh one when none exists; StateCorrupt when unreadable."""
    path = state_path(state_dir, agent_id)
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        return AgentState(**raw)
    except FileNotFoundError:
        return AgentState(agent_id=agent_id)
    except (OSError, ValueError, TypeError) as exc:
        raise StateCorrupt(f"state file {path} unreadable: {exc}") from exc


def save_state(state_dir: Path, state: AgentState) -> None:
    """Write the agent's state file atomically."""
    atomic_write(state_path(state_dir, state.agent_id), json.dumps(asdict(state), sort_keys=True, indent=1).encode())


def atomic_write(path: Path, data: bytes, mode: int = 0o600) -> None:
    """Replace `path` whole: 1. temp in the same dir; 2. fsync it; 3. rename over; 4. fsync the dir.

    A reader sees the old content or the new, never half; a crash leaves one of the two.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.fchmod(fd, mode)
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(path.parent)


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)  # makes the rename itself durable
    finally:
        os.close(fd)


def mark_run_started(state_dir: Path, state: AgentState, *, run_id: str, at: str) -> AgentState:
    """Record, before acting, that a run began: a crash from here on shows as needs_recovery."""
    new = AgentState(agent_id=state.agent_id, last_run_id=run_id, last_run_finished=False, started_at=at,
                     extra=dict(state.extra))
    save_state(state_dir, new)
    return new


def mark_run_finished(state_dir: Path, state: AgentState, *, outcome: str, at: str) -> AgentState:
    new = AgentState(agent_id=state.agent_id, last_run_id=state.last_run_id, last_run_finished=True,
                     last_outcome=outcome, started_at=state.started_at, ended_at=at, extra=dict(state.extra))
    save_state(state_dir, new)
    return new
