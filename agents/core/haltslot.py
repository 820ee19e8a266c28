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

import hashlib
import json
import os
from dataclasses import asdict, dataclass, field, fields, replace
from datetime import datetime
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
    # "sweeping" while its halter is still at the venue (landers leave it alone for SWEEP_GRACE_S:
    # the halter lands it with the sweep's results), "waiting" once only the database is missing.
    state: str = "waiting"


SWEEP_GRACE_S = 10.0


def slot_path(data_dir: Path) -> Path:
    return Path(data_dir) / SLOT_NAME


def encode(request: HaltRequest) -> bytes:
    """One record: compact UTF-8 JSON, blank-padded to RECORD_SIZE; shortened (never split) to fit.
    Never raises: the last resort keeps only what the halt needs (id, time, source, the hold)."""
    for attempt in _shrinking(request):
        try:
            raw = json.dumps(asdict(attempt), separators=(",", ":"), ensure_ascii=False, default=str).encode()
        except (TypeError, ValueError, UnicodeError):
            continue
        if len(raw) < RECORD_SIZE:
            return raw + b" " * (RECORD_SIZE - len(raw))
    return _bare(request)


def _shrinking(request: HaltRequest) -> list[HaltRequest]:
    capped = replace(request, reason=request.reason[:_TEXT_CAP], errors=[e[:_TEXT_CAP] for e in request.errors[:3]])
    bare = replace(capped, figures={}, errors=[], actor=request.actor[:40])
    return [request, capped, replace(capped, figures={}, errors=capped.errors[:1]),
            *(replace(bare, reason=request.reason[:n]) for n in (80, 40, 16))]


def _bare(request: HaltRequest) -> bytes:
    keep = {"id": str(request.id)[:64], "ts": str(request.ts)[:40], "source": str(request.source)[:32],
            "reason": "(reason too long for the halt slot)", "hold_until": str(request.hold_until)[:40],
            "needs_reconciliation": bool(request.needs_reconciliation), "flatten": bool(request.flatten),
            "state": str(request.state)[:10]}
    raw = json.dumps(keep, separators=(",", ":"), ensure_ascii=True).encode()[:RECORD_SIZE - 1]
    return raw + b" " * (RECORD_SIZE - len(raw))


def decode(record: bytes) -> HaltRequest | None:
    """None for a free record; a record that cannot be read counts as a request (fail closed), with an
    id of its own (the bytes' hash), so that it lands as a halt of its own and is never taken for an
    earlier damaged record that landed already."""
    if not record.strip(b" \x00"):
        return None
    try:
        raw = json.loads(record.decode("utf-8"))
    except ValueError:
        raw = None
    return from_dict(raw, fallback_id=f"unreadable-{hashlib.sha256(record).hexdigest()[:24]}")


def from_dict(raw: Any, *, fallback_id: str) -> HaltRequest:
    """A request from its JSON form, keeping only the fields this version knows (a newer host's record
    still halts); one that cannot be read at all is a halt of its own (fail closed), never skipped."""
    known = {f.name for f in fields(HaltRequest)}
    try:
        return HaltRequest(**{k: v for k, v in raw.items() if k in known})
    except (AttributeError, TypeError):
        rid = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else fallback_id
        return HaltRequest(id=rid, ts="", source="command",
                           reason="a halt record could not be read (torn, damaged or from another version): "
                                  "halted to be safe")


def later(a: str, b: str) -> str:
    """The later of two ISO times ("" is none); one that does not parse wins (the stricter reading)."""
    if not a or not b:
        return a or b
    if not _parses(a) or not _parses(b):
        return a if not _parses(a) else b
    return a if datetime.fromisoformat(a) >= datetime.fromisoformat(b) else b


def _parses(value: str) -> bool:
    """An aware ISO time (a naive one cannot be compared with the others: it does not count)."""
    try:
        return datetime.fromisoformat(value).tzinfo is not None
    except (ValueError, TypeError):
        return False


def merge(older: HaltRequest, newer: HaltRequest, new_id: str) -> HaltRequest:
    """One record for two requests (the slot is full): the strictest of both, under a new id."""
    return replace(newer, id=new_id, reason=f"{newer.reason} | {older.reason}"[:_TEXT_CAP],
                   hold_until=later(older.hold_until, newer.hold_until), flatten=older.flatten or newer.flatten,
                   needs_reconciliation=older.needs_reconciliation or newer.needs_reconciliation,
                   errors=[*newer.errors, *older.errors][:3], state="waiting")


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
