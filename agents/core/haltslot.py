"""The halt slot: where a halt request is made durable before anything else, on any fault of the host.

A halt must outlive a full disk and a dead or locked database. Creating a file needs free blocks
(and the flag file's atomic write creates one); overwriting bytes of a file whose blocks already
exist does not, on ext4, xfs and tmpfs alike (not on copy-on-write file systems such as btrfs or
zfs: keep ACADEMY_DATA_DIR off those). So every process allocates `$ACADEMY_DATA_DIR/halt.slot`
at start-up, RECORDS fixed-size records of blanks, and `halt()` writes its request into a free
record in place (pwrite + fdatasync) before it does anything else. The record is cleared once the
KillSwitch row and the HaltEvent have landed in the database; until then the loops read it as
"halted" and the monitor keeps retrying the database record.

This module is the format and the reader (pure Python, no Django); the one writer is
monitoring/halt.py.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

SLOT_NAME = "halt.slot"
RECORDS = 8
RECORD_SIZE = 512
SIZE = RECORDS * RECORD_SIZE
BLANK = b" " * RECORD_SIZE
_TEXT_CAP = 200  # reason and each error, so that a record always fits


@dataclass(frozen=True)
class HaltRequest:
    """What a halt asked for and what it did at the venue: enough to write the HaltEvent later."""

    id: str
    ts: str
    source: str
    reason: str
    actor: str = ""
    flatten: bool = False
    hold_until: str = ""
    needs_reconciliation: bool = False
    cancelled: int = 0
    errors: list[str] = field(default_factory=list)
    figures: dict[str, Any] = field(default_factory=dict)


def slot_path(data_dir: Path) -> Path:
    return Path(data_dir) / SLOT_NAME


def encode(request: HaltRequest) -> bytes:
    """One record: compact JSON, blank-padded to RECORD_SIZE; shortened (never split) to fit."""
    for attempt in _shrinking(request):
        raw = json.dumps(asdict(attempt), separators=(",", ":"), ensure_ascii=True, default=str).encode()
        if len(raw) < RECORD_SIZE:
            return raw + b" " * (RECORD_SIZE - len(raw))
    raise ValueError("halt request cannot fit a slot record")  # unreachable: the last attempt is tiny


def _shrinking(request: HaltRequest) -> list[HaltRequest]:
    capped = replace(request, reason=request.reason[:_TEXT_CAP], errors=[e[:_TEXT_CAP] for e in request.errors[:3]])
    return [request, capped, replace(capped, figures={}, errors=capped.errors[:1]),
            replace(capped, figures={}, errors=[], reason=request.reason[:80], actor=request.actor[:40])]


def decode(record: bytes) -> HaltRequest | None:
    """None for a free record; a record that cannot be read counts as a request (fail closed)."""
    if not record.strip(b" \x00"):
        return None
    try:
        raw = json.loads(record.decode("ascii"))
        return HaltRequest(**raw)
    except (ValueError, TypeError):
        return HaltRequest(id="unreadable", ts="", source="command",
                           reason="a halt slot record could not be read (torn or damaged): halted to be safe")


def read_all(path: Path) -> list[HaltRequest | None]:
    """Every record of the slot, index by index; [] when the slot was never allocated."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return []
    return [decode(data[i * RECORD_SIZE:(i + 1) * RECORD_SIZE]) for i in range(len(data) // RECORD_SIZE)]


def pending(path: Path) -> list[tuple[int, HaltRequest]]:
    """(index, request) for each halt asked for and not yet recorded in the database."""
    return [(i, r) for i, r in enumerate(read_all(path)) if r is not None]


def requested(path: Path) -> str | None:
    """For the stop check: why to stop, when a halt request waits in the slot. Errors propagate (trip)."""
    waiting = pending(path)
    if not waiting:
        return None
    first = waiting[0][1]
    return f"halt requested at {first.ts} ({first.source}: {first.reason}), not yet recorded in the database"


def allocate(path: Path) -> bool:
    """Make sure the slot exists at full size with its blocks on disk; True when it already did.

    Existing records are kept (a request written before a crash must survive the restart).
    """
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    try:
        size = os.fstat(fd).st_size
        if size >= SIZE:
            return True
        os.pwrite(fd, b" " * (SIZE - size), size)  # real bytes, not a sparse hole: blocks get allocated
        os.fsync(fd)
    finally:
        os.close(fd)
    _fsync_dir(path.parent)
    return False


def _fsync_dir(d: Path) -> None:
    fd = os.open(d, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
