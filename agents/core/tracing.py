"""Trace events: one JSON line per event, redacted before the write, files 0600 in dirs 0700.

`Recorder` is the single function the loop writes through. The Django side builds one
recorder that appends to the NDJSON file (TraceWriter) and then writes the TraceEvent row (in
batches) from the *same redacted dict*, so file and row can never disagree or leak differently.
"""

from __future__ import annotations

import json
import os
import re
import threading
import time
from collections.abc import Callable
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol

import orjson

from agents.core.ports import Clock
from agents.core.redact import Redactor


class EventKind(StrEnum):
    RUN_START = "run_start"
    MODEL_REQUEST = "model_request"
    MODEL_RESPONSE = "model_response"
    TOOL_CALL = "tool_call"
    TOOL_RESULT = "tool_result"
    DECISION = "decision"
    REFUSAL = "refusal"
    APPROVAL_REQUESTED = "approval_requested"
    APPROVAL_DECIDED = "approval_decided"  # a human's decision, appended when the approved order is placed
    ORDER_PLACED = "order_placed"
    BUDGET_STOP = "budget_stop"
    KILL_SWITCH_STOP = "kill_switch_stop"
    MAX_STEPS = "max_steps"
    TOOL_TIMEOUT = "tool_timeout"
    SUSPICIOUS_OUTPUT = "suspicious_output"
    RECOVERY = "recovery"  # written by the Django side when a run recovers from a crashed one
    ERROR = "error"
    RUN_END = "run_end"


class Recorder(Protocol):
    """Append one trace event. Raising means "could not record": the loop then stops (fail closed)."""

    def append(self, kind: str, step: int, data: dict[str, Any]) -> None: ...


_RUN_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_\-]{0,127}$")
DIR_MODE = 0o700
FILE_MODE = 0o600


def check_run_id(run_id: str) -> str:
    """Run ids become file names: refuse anything that could walk out of the traces dir."""
    if not _RUN_ID.match(run_id):
        raise ValueError(f"run id {run_id!r} must match {_RUN_ID.pattern}")
    return run_id


def trace_path(traces_dir: Path, run_id: str, day: str) -> Path:
    return traces_dir / day / f"{check_run_id(run_id)}.ndjson"


class TraceWriter:
    """Append-only NDJSON writer for one run.

    All events of a run go to the file of the day the run *started* (a run crossing midnight
    stays in one file, which is what replay wants).
    """

    def __init__(self, *, traces_dir: Path, run_id: str, clock: Clock, redactor: Redactor,
                 reopen: Path | None = None, start_seq: int = 0) -> None:
        """Open a run's trace; `reopen` + `start_seq` append to an existing run's file (e.g. an
        approved order placed after the run ended) without reusing a sequence number."""
        self.run_id = check_run_id(run_id)
        self.clock = clock
        self.redactor = redactor
        self.path = reopen or trace_path(Path(traces_dir), run_id, clock.now().strftime("%Y-%m-%d"))
        self._seq = start_seq
        self._lock = threading.Lock()  # a timed-out tool thread must not interleave a line
        _make_private_dirs(self.path.parent)
        if reopen is None:
            _set_aside(self.path)
        self._fd = _open_private(self.path)
        if reopen is not None:
            _end_torn_line(self._fd, self.path)

    def write(self, kind: str, step: int, data: dict[str, Any]) -> dict[str, Any]:
        """1. build the event; 2. redact it whole; 3. append one line. Return the redacted event."""
        return self.write_encoded(kind, step, data)[0]

    def write_encoded(self, kind: str, step: int, data: dict[str, Any]) -> tuple[dict[str, Any], str]:
        """write(), also returning the JSON of the redacted event's `data` as its line holds it (for a
        row that stores the same: encoded once)."""
        with self._lock:
            event = {"ts": self.clock.now().isoformat(), "run_id": self.run_id, "seq": self._seq,
                     "kind": str(kind), "step": step, "data": data}
            clean = self.redactor.redact(event)
            data_json = _json(clean["data"])
            head = _json({k: v for k, v in clean.items() if k != "data"})
            _write_all(self._fd, b"".join((head[:-1], b',"data":', data_json, b"}\n")))  # the same as _json(clean)
            self._seq += 1
            return clean, data_json.decode()

    def close(self) -> None:
        with self._lock:
            if self._fd >= 0:
                os.fsync(self._fd)  # the trace is the replay source: make it durable at run end
                os.close(self._fd)
                self._fd = -1

    def __enter__(self) -> TraceWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _json(value: Any) -> bytes:
    """Compact JSON in UTF-8, non-ASCII as it is. orjson takes a tenth of json.dumps' time, and this
    runs twice on every trace event; what orjson refuses (an int beyond 64 bits, a lone surrogate) goes
    through json.dumps as before. A NaN or infinity is written null, valid JSON that PostgreSQL takes."""
    try:
        return orjson.dumps(value)
    except TypeError:  # orjson.JSONEncodeError is one
        return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


def _make_private_dirs(path: Path) -> None:
    # makedirs' mode is filtered by the umask, so chmod each dir we created explicitly.
    missing: list[Path] = []
    p = path
    while not p.exists():
        missing.append(p)
        p = p.parent
    for d in reversed(missing):
        try:
            d.mkdir(mode=DIR_MODE)
        except FileExistsError:
            pass  # a concurrent run created it
        os.chmod(d, DIR_MODE)


def _set_aside(path: Path) -> None:
    """A new run must not append to an older run's file (run ids restart when a database is
    recreated): keep the old file under another name rather than mixing two runs in one."""
    if path.exists():
        path.rename(path.with_name(f"{path.stem}.superseded-{time.time_ns()}.ndjson"))


def _open_private(path: Path) -> int:
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    fd = os.open(path, flags, FILE_MODE)
    os.fchmod(fd, FILE_MODE)  # umask-proof, and fixes a pre-existing file with wider permissions
    return fd


def _end_torn_line(fd: int, path: Path) -> None:
    """A line cut short by a crash (or a full disk) is ended, so the next event starts a line of its own."""
    with open(path, "rb") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(max(0, size - 1))
        if size and f.read(1) != b"\n":
            _write_all(fd, b"\n")


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        n = os.write(fd, view)
        view = view[n:]


class FileRecorder:
    """Recorder over a TraceWriter; `also(event)` receives the redacted event (e.g. the DB row insert)."""

    def __init__(self, writer: TraceWriter, also: Callable[[dict[str, Any]], None] | None = None) -> None:
        self.writer = writer
        self.also = also

    def append(self, kind: str, step: int, data: dict[str, Any]) -> None:
        event = self.writer.write(kind, step, data)
        if self.also is not None:
            self.also(event)

    def close(self) -> None:
        self.writer.close()


class MemoryRecorder:
    """Keeps events in a list (tests, benchmarks); redacts like the file writer when given a redactor."""

    def __init__(self, redactor: Redactor | None = None) -> None:
        self.redactor = redactor or Redactor()
        self.events: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def append(self, kind: str, step: int, data: dict[str, Any]) -> None:
        with self._lock:
            event = {"seq": len(self.events), "kind": str(kind), "step": step, "data": data}
            self.events.append(self.redactor.redact(event))

    def kinds(self) -> list[str]:
        return [e["kind"] for e in self.events]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [e for e in self.events if e["kind"] == kind]
