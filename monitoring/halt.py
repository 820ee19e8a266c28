"""The one halt path. Every kill-switch shape ends in `halt()`; `resume()` is the one way back.

Nothing else writes the kill-switch state (the flag file or the KillSwitch row): a test
checks that no other module does.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, DataError, IntegrityError, connection, transaction
from django.utils import timezone

from academy.dbwait import bounded_wait
from agents.core import haltslot
from agents.core.haltslot import HaltRequest
from agents.venue.strict import clean_text
from monitoring.alerts import alert_fire, alert_resolve
from monitoring.models import HaltEvent, HaltSource, KillSwitch
from monitoring.outbox import outbox_publish

log = logging.getLogger("academy.halt")

FLATTEN_PRICE = Decimal("0.001")  # a SELL at the lowest tick crosses every bid: a market sell
ALERT_KEY = "kill_switch"


def _writing() -> Any:
    """Open the runtime gate of the KillSwitch manager (monitoring.models): only this module does."""
    from monitoring.models import kill_switch_writer

    return kill_switch_writer()


class ResumeRefused(Exception):
    """resume() said no: the reason is the message, and the refusal is recorded."""


def flag_path() -> Path:
    return settings.DATA_DIR / "kill_switch.flag"


def flag_present() -> bool:
    """The same test the loops use (agents/core/guards.py): only "not there" is absent; any other
    error (permission, I/O) raises, and callers count it as halted."""
    from agents.core.guards import flag_present as present

    return present(flag_path())


# --- reading the state (anyone may) --------------------------------------------------------


def kill_switch_state() -> dict[str, Any]:
    """Describe the kill switch for pages and panels; unreadable counts as halted, never as running.
    A halt whose record waits (this host's slot, or parked by any host) is halted, with the strictest
    hold and reconciliation any waiting request asks for (so a shape does not trip again and again)."""
    try:
        flag = flag_present()
        waiting = [r for _, r in haltslot.pending(slot_file())]
    except OSError as exc:
        return {"state": "unknown", "halted": True, "flag_file": True,
                "detail": f"flag file or halt slot unreadable: {exc}"}
    try:
        row = KillSwitch.objects.filter(pk=1).first()
        waiting += _shared_pending()
    except DatabaseError as exc:
        if waiting:
            return _waiting_state(waiting, None, flag)
        return {"state": "unknown", "halted": True, "flag_file": flag, "detail": f"database unreadable: {exc}"}
    if waiting:
        return _waiting_state(waiting, row, flag)
    if row is None:
        return {"state": "unknown", "halted": True, "flag_file": flag, "detail": "no kill-switch row (run migrate)"}
    halted = row.active or flag
    detail = "" if row.active or not flag else "flag file present; the watcher will complete the halt"
    return {"state": "halted" if halted else "running", "halted": halted, "flag_file": flag, "row": row,
            "reason": row.reason, "source": row.source, "since": row.since, "hold_until": row.hold_until,
            "needs_reconciliation": row.needs_reconciliation, "detail": detail}


def _waiting_state(waiting: list[HaltRequest], row: KillSwitch | None, flag: bool) -> dict[str, Any]:
    hold = ""
    for request in waiting:
        hold = haltslot.later(hold, request.hold_until)
    if row is not None and row.hold_until:
        hold = haltslot.later(hold, row.hold_until.isoformat())
    first = waiting[0]
    why = f"halt requested at {first.ts} ({first.source}: {first.reason}), not yet recorded in the database"
    return {"state": "halted", "halted": True, "flag_file": flag, "row": row, "reason": why, "source": first.source,
            "since": _ts(first), "hold_until": _parse_or_none(hold),
            "needs_reconciliation": any(r.needs_reconciliation for r in waiting)
            or bool(row and row.needs_reconciliation),
            "detail": f"{why}; the monitor lands the record once the database takes writes"}


def _parse_or_none(value: str) -> datetime | None:
    if not value:
        return None
    if _bad_time(value):  # a hold we cannot read (or a naive one) holds: the stricter reading
        return timezone.now() + timedelta(hours=24)
    return datetime.fromisoformat(value)


# --- halt ------------------------------------------------------------------------------------


def halt(*, reason: str, source: str, actor: Any = None, flatten: bool = False, hold_until: datetime | None = None,
         needs_reconciliation: bool = False, figures: dict[str, Any] | None = None, venue: Any = None,
         actor_name: str = "") -> HaltEvent:
    """Stop all trading now. Idempotent: a repeat while halted records a no-op and re-sweeps the venue.

    Local and durable first, the database last, so that no fault of this host loses or delays it:
    1. write the request into the halt slot (no free disk space, no database needed) and the flag
       file, so nothing new is sent from this host;
    2. cancel every resting order at the venue (account-wide), before any database wait;
    3. flatten positions when asked (market sells);
    4. land the record with bounded lock waits: the KillSwitch row, a HaltEvent (who or what, why,
       the figures) and the panel's outbox row in one transaction. When that fails, park the request
       in the database where every host's stop check sees it (HaltPending, when inserts still work),
       keep it in the slot, and retry from a thread of this process and from every monitor;
    5. alert (straight to the sinks when the database cannot take the alert row).
    Returns the HaltEvent; unsaved (pk None) when the database could not record it yet. Never raises
    once its arguments are valid: `actor_name` names the actor when the caller could not look it up.
    """
    if source not in HaltSource.values:
        raise ValueError(f"unknown halt source {source!r}")
    reason = _text(reason or "")
    if not reason.strip():
        raise ValueError("a halt needs a reason")
    now = timezone.now()
    errors: list[str] = []
    request = HaltRequest(id=uuid.uuid4().hex, ts=now.isoformat(), source=source, reason=reason,
                          actor=_username(actor) or _text(actor_name)[:150], flatten=flatten,
                          hold_until=hold_until.isoformat() if hold_until else "",
                          needs_reconciliation=needs_reconciliation, figures=_clean(dict(figures or {})),
                          state="sweeping")
    local = _LocalWrites(request, now).start()  # slot and flag: on a healthy disk done in milliseconds
    venue = venue if venue is not None else _venue_or_error(errors)
    # A venue that cancels market by market (Limitless, 0.3 s a market) first clears the markets where our
    # orders are known; the record lands then (it stops every other host), and the rest is swept after it.
    per_market = callable(getattr(type(venue), "cancel_known", None))
    cancelled = _cancel_resting(venue, errors, known_only=per_market)
    flattened = _flatten(venue, now, errors) if flatten else {}
    if local.done:  # the usual case: the slot record is there, with this request in it
        index = local.finish(errors)
        event = _land(_swept(request, cancelled, flattened, errors), index, actor=actor, cancelled_ids=cancelled)
        if per_market:
            _sweep_after(venue)
        return event
    return _halt_past_a_stalled_disk(request, local, venue, cancelled, flattened, errors, actor)


def _sweep_after(venue: Any) -> None:
    """Every other market, once the halt is recorded; a failure pages (halt_sweep), never undoes the halt."""
    try:
        sweep_resting(venue)
    except Exception as exc:
        log.critical("halt: the sweep of every market after the record failed (%s); the monitor sweeps again", exc)


def _swept(request: HaltRequest, cancelled: list[str], flattened: dict[str, str], errors: list[str]) -> HaltRequest:
    return replace(request, cancelled=len(cancelled), errors=_clean(list(errors)), state="waiting",
                   figures={**request.figures, **({"flattened": flattened} if flattened else {})})


def _halt_past_a_stalled_disk(request: HaltRequest, local: _LocalWrites, venue: Any, cancelled: list[str],
                              flattened: dict[str, str], errors: list[str], actor: Any) -> HaltEvent:
    """The slot and flag were not written when the sweep began (a stalled disk): the database record goes
    first (the other hosts' loops read it), then the local writes are waited for, and the venue is swept
    once more, since nothing on this host stopped an order between the sweep and the flag."""
    event = _land(_swept(request, cancelled, flattened, errors), None, actor=actor, cancelled_ids=cancelled)
    index = local.finish(errors)
    _cancel_resting(venue, errors)
    if index is not None and event.pk is not None:
        _slot_clear(index, request.id)
    elif index is not None:  # parked: the slot record gets what the sweep did
        _slot_write(_swept(request, cancelled, flattened, errors), [], index)
    return event


class _LocalWrites:
    """The slot and flag writes of a halt, given LOCAL_FIRST_S to finish before the venue sweep starts.

    On a healthy (or full) disk they are done in milliseconds, before any order can be sent past
    them. On a stalled one (hung NFS, a suspended device) the sweep must not wait: it goes ahead,
    and the writes finish on their thread; the record waits for them at most LOCAL_WAIT_S more."""

    LOCAL_FIRST_S = 0.25
    LOCAL_WAIT_S = 5.0

    def __init__(self, request: HaltRequest, now: datetime) -> None:
        self.request, self.now = request, now
        self.errors: list[str] = []
        self.index: int | None = None
        self.done = False
        self._thread = threading.Thread(target=self._write, name="halt-local-writes", daemon=True)

    def start(self) -> _LocalWrites:
        self._thread.start()
        self._thread.join(self.LOCAL_FIRST_S)
        self.done = not self._thread.is_alive()
        return self

    def _write(self) -> None:
        self.index = _slot_write(self.request, self.errors)
        _write_flag(self.request.reason, self.request.source, self.now, self.errors)

    def finish(self, errors: list[str]) -> int | None:
        self._thread.join(self.LOCAL_WAIT_S)
        if self._thread.is_alive():
            errors.append(f"halt slot and flag file still not written after {self.LOCAL_WAIT_S:.0f} s "
                          f"(a stalled disk?)")
            return None
        errors[:0] = self.errors
        return self.index


def _username(actor: Any) -> str:
    return actor.get_username() if _is_user(actor) else ""


def _clean(value: Any) -> Any:
    """NUL and control characters out of every text the record carries (PostgreSQL refuses NUL in text;
    a record that can never land would hold the desk for good)."""
    if isinstance(value, str):
        return _text(value)
    if isinstance(value, dict):
        return {_text(str(k)): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    return value


def _text(value: str) -> str:
    return clean_text(value, max_chars=10_000).encode("utf-8", "replace").decode("utf-8")


def _land(request: HaltRequest, index: int | None, *, actor: Any = None, cancelled_ids: list[str] | None = None,
          late: bool = False) -> HaltEvent:
    """Write the halt's database record (row, event, outbox) with bounded waits, clear its slot record,
    alert. On a database fault: park it (slot and HaltPending), alert straight to the sinks, start this
    process's lander, and return the event unsaved."""
    try:
        event, changed, escalated = _land_once(request, actor, cancelled_ids, late=late)
    except PERMANENT as exc:  # this record can never land as it is: land the halt itself, plainly
        log.critical("halt: record %s refused (%s: %s); landing a plain one", request.id, type(exc).__name__, exc)
        try:
            event, changed, escalated = _land_once(_plain(request, exc), actor, cancelled_ids, late=late)
        except Exception as again:
            return _parked(request, index, actor, again, late=late)
    except Exception as exc:  # locked, full, gone: the slot holds the halt, the landers retry
        return _parked(request, index, actor, exc, late=late)
    if index is not None:
        _slot_clear(index, request.id)
    _alert_halt(event, changed, escalated=escalated)
    return event


def _land_once(request: HaltRequest, actor: Any, cancelled_ids: list[str] | None, *,
               late: bool) -> tuple[HaltEvent, bool, bool]:
    with bounded_wait(settings.HALT_DB_WAIT_MS), _writing():
        landed = _record_request(request, actor, late=late)
        if cancelled_ids:
            _orders_cancelled(cancelled_ids)
    return landed


def _plain(request: HaltRequest, exc: BaseException) -> HaltRequest:
    """The same halt with nothing that could be refused: ASCII text, no figures, a hold that does not
    parse read as 24 h (the stricter reading)."""
    hold = request.hold_until
    if _bad_time(hold):
        hold = (timezone.now() + timedelta(hours=24)).isoformat()
    ascii_text = _text(request.reason).encode("ascii", "replace").decode()[:500]
    return replace(request, reason=ascii_text, actor="", figures={"record_damaged": type(exc).__name__},
                   errors=[_text(str(e)).encode("ascii", "replace").decode()[:200] for e in request.errors[:5]],
                   hold_until=hold,
                   ts=request.ts if not _bad_time(request.ts) else timezone.now().isoformat())


def _bad_time(value: str) -> bool:
    if not value:
        return False
    try:
        return datetime.fromisoformat(value).tzinfo is None
    except ValueError:
        return True


def _parked(request: HaltRequest, index: int | None, actor: Any, exc: BaseException, *, late: bool) -> HaltEvent:
    why = f"halt not recorded in the database yet ({type(exc).__name__}: {exc})"
    log.critical("halt: %s; the halt slot holds it", why)
    if late:
        return _unsaved_event(request, actor, why)
    if connection.vendor == "sqlite":  # one host: the slot is all the parking it needs (inserts wait too)
        why += "; the halt slot holds it"
    elif _park_shared(request):
        why += "; parked in the database: every host stops"
    else:
        why += "; NOT parked in the database either: only this host's loops stop until it lands"
    event = _unsaved_event(request, actor, why)
    if index is not None:  # what the venue sweep did, for the record that lands later
        _slot_write(request, [], index)
    _alert_direct(event, why, request.id)
    _lander_start()
    return event


def _park_shared(request: HaltRequest) -> bool:
    """Insert the request where every host's stop check reads it; an insert does not wait on the row
    lock that may have refused the record. False when the database takes no write at all."""
    from dataclasses import asdict

    from monitoring.models import HaltPending

    try:
        with bounded_wait(settings.HALT_DB_WAIT_MS):
            HaltPending.objects.get_or_create(request_id=request.id,
                                              defaults={"ts": _ts(request), "request": asdict(request)})
        return True
    except Exception as exc:
        log.critical("halt: request %s not parked in the database either: %s", request.id, exc)
        return False


PERMANENT: tuple[type[BaseException], ...] = (DataError, IntegrityError, ValueError, TypeError)


def _record_request(request: HaltRequest, actor: Any, *, late: bool) -> tuple[HaltEvent, bool, bool]:
    """Inside the caller's transaction: lock the row (landers queue here: one lands, the next finds it
    landed), row compare-and-set, then the event, once per request id; its parked copy goes."""
    from monitoring.models import HaltPending

    hold = _parse_or_none(request.hold_until)
    list(KillSwitch.objects.select_for_update().filter(pk=1).values_list("pk", flat=True))
    landed = HaltEvent.objects.filter(figures__request_id=request.id).first()
    HaltPending.objects.filter(request_id=request.id).delete()
    if landed is not None:  # an earlier attempt committed, then died before clearing the slot
        return landed, False, False
    changed, tightened = _set_row(reason=request.reason, source=request.source, now=_ts(request), hold_until=hold,
                                  needs_reconciliation=request.needs_reconciliation)
    person = actor if _is_user(actor) else _actor_named(request.actor)
    figures = {**request.figures, "request_id": request.id, **({"tightened": tightened} if tightened else {}),
               **({"recorded_late": timezone.now().isoformat()} if late else {}),
               **({"actor_name": request.actor} if person is None and request.actor else {})}
    event = _record(action=HaltEvent.Action.HALT if changed else HaltEvent.Action.NOOP, source=request.source,
                    actor=person, reason=request.reason,
                    now=_ts(request), hold_until=hold, cancelled=request.cancelled,
                    flattened=request.figures.get("flattened", {}), errors=request.errors, figures=figures)
    return event, changed, bool(tightened or request.figures.get("flattened"))


def _ts(request: HaltRequest) -> datetime:
    try:
        when = datetime.fromisoformat(request.ts) if request.ts else None
    except ValueError:
        when = None
    return when if when is not None and when.tzinfo is not None else timezone.now()


def _actor_named(username: str) -> Any:
    """The active Academy user of that name, or None: the name is then kept as text (figures.actor_name)."""
    if not username:
        return None
    from django.contrib.auth import get_user_model

    return get_user_model().objects.filter(username=username, is_active=True).first()


def _unsaved_event(request: HaltRequest, actor: Any, why: str) -> HaltEvent:
    return HaltEvent(ts=_ts(request), action=HaltEvent.Action.HALT, source=request.source,
                     actor=actor if _is_user(actor) else None, reason=request.reason, figures=request.figures,
                     orders_cancelled=request.cancelled, flattened=bool(request.figures.get("flattened")),
                     errors=[*request.errors, why])


def _orders_cancelled(venue_ids: list[str]) -> None:
    from agents.models import Order, OrderStatus

    Order.objects.filter(venue_order_id__in=venue_ids).update(status=OrderStatus.CANCELED)


def halt_waiting() -> bool:
    """A halt was asked for and its database record has not landed yet (unreadable counts as yes)."""
    try:
        return bool(haltslot.pending(slot_file()))
    except OSError:
        return True


def halt_requests_land() -> list[HaltEvent]:
    """Land every halt request still waiting: this host's slot, then what any host parked in the database
    (the monitor calls this on every flag tick). The halt was done at the venue when asked; this writes
    its row, event and alert once the database takes them. A record whose halter is still at the venue
    (state "sweeping", younger than SWEEP_GRACE_S) is left to that halter, which lands it with the
    sweep's results."""
    landed = []
    for index, request in _slot_pending():
        if request.state == "sweeping" and _age_s(request) < haltslot.SWEEP_GRACE_S:
            continue
        event = _land(request, index, actor=None, late=True)
        if event.pk is not None:
            landed.append(event)
    for request in _shared_pending():
        event = _land(request, None, actor=None, late=True)
        if event.pk is not None:
            landed.append(event)
    return landed


def _age_s(request: HaltRequest) -> float:
    try:
        return (timezone.now() - datetime.fromisoformat(request.ts)).total_seconds()
    except (ValueError, TypeError):
        return haltslot.SWEEP_GRACE_S  # no usable time: not a live halter's


def _shared_pending() -> list[HaltRequest]:
    from monitoring.models import HaltPending

    try:
        rows = list(HaltPending.objects.order_by("ts").values_list("request_id", "request")[:50])
    except Exception:
        return []  # the database is down: nothing to land in anyway
    # The row's own id wins: landing deletes the row by it, whatever its JSON holds.
    return [replace(haltslot.from_dict(raw, fallback_id=rid), id=rid) for rid, raw in rows]


_LANDER: list[threading.Thread] = []


def _lander_start() -> None:
    """Retry the parked records from this process (a web host may run no monitor) until none waits."""
    if not settings.HALT_LANDER_S or any(t.is_alive() for t in _LANDER):
        return
    thread = threading.Thread(target=_lander, name="halt-lander", daemon=True)
    _LANDER[:] = [thread]
    thread.start()


def _lander() -> None:
    from django.db import connection

    while True:
        time.sleep(float(settings.HALT_LANDER_S))
        try:
            halt_requests_land()
            if not halt_waiting():
                return
        except Exception:
            log.exception("halt lander: landing failed; retrying")
        finally:
            connection.close()


# --- the halt slot (agents/core/haltslot.py is the format; this is its one writer) -----------------


def slot_file() -> Path:
    return haltslot.slot_path(settings.DATA_DIR)


def halt_slot_allocate() -> None:
    """At start-up: the slot must exist, blocks and all, before the disk can fill up."""
    try:
        haltslot.allocate(slot_file())
    except OSError as exc:
        log.critical("halt slot %s could not be allocated (%s): a halt on a full disk then relies on the "
                     "flag file and the database alone", slot_file(), exc)


def _slot_pending() -> list[tuple[int, HaltRequest]]:
    try:
        return haltslot.pending(slot_file())
    except OSError as exc:
        log.critical("halt slot unreadable: %s", exc)
        return []


@contextmanager
def _slot_locked() -> Iterator[int]:
    """The slot file open and flocked (two halts at once must not pick the same record). flock needs no
    disk space; past 1 s without it we go on unlocked, and _slot_write checks what it wrote."""
    if not slot_file().exists():  # not allocated at start-up (a data dir set later): allocate it now
        haltslot.allocate(slot_file())
    fd = os.open(slot_file(), os.O_RDWR | os.O_CLOEXEC)
    try:
        deadline = time.monotonic() + 1.0
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    break
                time.sleep(0.005)
        yield fd
    finally:
        os.close(fd)  # also drops the flock


def _records(fd: int) -> list[HaltRequest | None]:
    data = os.pread(fd, haltslot.SIZE, 0)
    return [haltslot.decode(data[i * haltslot.RECORD_SIZE:(i + 1) * haltslot.RECORD_SIZE])
            for i in range(len(data) // haltslot.RECORD_SIZE)]


def _slot_write(request: HaltRequest, errors: list[str], index: int | None = None) -> int | None:
    """Write the request in place; return its index (None when it could not).

    With `index`: update that record, only if it still holds this request (it may have landed and been
    reused). Without: a free record; when none is free, merge into the last one (the strictest of
    both, under a new id) so that no hold or reconciliation is ever overwritten. Read back to check."""
    try:
        for _ in range(3):
            with _slot_locked() as fd:
                records = _records(fd)
                if not records:
                    raise OSError("halt slot not allocated")
                index, record = _place(records, request, index)
                if index is None:
                    return None
                os.pwrite(fd, haltslot.encode(record), index * haltslot.RECORD_SIZE)
                os.fdatasync(fd)
                again = haltslot.decode(os.pread(fd, haltslot.RECORD_SIZE, index * haltslot.RECORD_SIZE))
            if again is not None and again.id == record.id:
                return index
            index = None  # another writer took it between our write and read-back: once more
        raise OSError("halt slot record kept being overwritten")
    except Exception as exc:  # never let the slot stop a halt: the flag, the venue and the row follow
        errors.append(f"halt slot not written: {type(exc).__name__}: {exc}")
        log.critical("halt: halt slot not written (%s); the flag file and the database hold the halt", exc)
        return None


def _place(records: list[HaltRequest | None], request: HaltRequest,
           index: int | None) -> tuple[int | None, HaltRequest]:
    if index is not None:
        current = records[index] if index < len(records) else None
        return (index if current is not None and current.id == request.id else None), request
    free = next((i for i, r in enumerate(records) if r is None), None)
    if free is not None:
        return free, request
    last = len(records) - 1
    log.critical("halt slot full: merging halt %s into record %s", request.id, last)
    return last, haltslot.merge(records[last], request, uuid.uuid4().hex)  # type: ignore[arg-type]


def _slot_clear(index: int, request_id: str) -> None:
    """Free the record once its halt is in the database (only if it still holds that request)."""
    try:
        with _slot_locked() as fd:
            current = haltslot.decode(os.pread(fd, haltslot.RECORD_SIZE, index * haltslot.RECORD_SIZE))
            if current is not None and current.id == request_id:
                os.pwrite(fd, haltslot.BLANK, index * haltslot.RECORD_SIZE)
                os.fdatasync(fd)
    except OSError as exc:  # the request lands again later; its event is written once (request id)
        log.error("halt slot record %s not cleared: %s", index, exc)


def _write_flag(reason: str, source: str, now: datetime, errors: list[str]) -> None:
    """Write the flag atomically (a unique temp file: two halts at once must not collide); a disk
    that refuses the write must not stop the rest of the halt (the row and the venue sweep)."""
    from agents.core.state import atomic_write

    try:  # the loops see the flag whole or not at all; a unique temp file per writer
        atomic_write(flag_path(), f"{now.isoformat()} {source}: {reason}\n".encode(), mode=0o644)
        return
    except OSError as exc:
        errors.append(f"flag file not written: {exc}")
        log.critical("halt: flag file not written (%s); the halt slot and the kill-switch row hold the halt", exc)
    try:  # a full disk still takes an empty file (an inode, no blocks), and its presence is the flag
        os.close(os.open(flag_path(), os.O_WRONLY | os.O_CREAT | os.O_CLOEXEC, 0o644))
    except OSError as exc:
        errors.append(f"empty flag file not created either: {exc}")


def _set_row(*, reason: str, source: str, now: datetime, hold_until: datetime | None,
             needs_reconciliation: bool) -> tuple[bool, list[str]]:
    """Compare-and-set the row to active: (this call made the transition, what a repeat tightened).
    Runs inside _land's transaction; a database error propagates (the slot keeps the request)."""
    changed = KillSwitch.objects.filter(pk=1, active=False).update(
        active=True, reason=reason, source=source, since=now, hold_until=hold_until,
        needs_reconciliation=needs_reconciliation,
    )
    if changed:
        return True, []
    row, created = KillSwitch.objects.get_or_create(
        pk=1, defaults={"active": True, "reason": reason, "source": source, "since": now,
                        "hold_until": hold_until, "needs_reconciliation": needs_reconciliation})
    return created, ([] if created else _tighten(row, hold_until, needs_reconciliation))


def _tighten(row: KillSwitch, hold_until: datetime | None, needs_reconciliation: bool) -> list[str]:
    """A repeat halt may only lengthen a hold or add the reconciliation requirement; say which."""
    updates: dict[str, Any] = {}
    if hold_until and (row.hold_until is None or hold_until > row.hold_until):
        updates["hold_until"] = hold_until
    if needs_reconciliation and not row.needs_reconciliation:
        updates["needs_reconciliation"] = True
    if updates:
        KillSwitch.objects.filter(pk=1).update(**updates)
    return sorted(updates)


def _venue() -> Any:
    from agents.services import venue_client

    return venue_client()


class _NoVenue:
    """What a halt sweeps when no venue client could be built: every call fails, so the halt is recorded
    with the error, pages as incomplete, and the monitor's sweeps while halted keep trying."""

    def __init__(self, why: str) -> None:
        self.why = why

    def __getattr__(self, name: str) -> Any:
        def refuse(*args: Any, **kwargs: Any) -> Any:
            raise RuntimeError(f"no venue client: {self.why}")

        return refuse


def _venue_or_error(errors: list[str]) -> Any:
    """The venue client; a failure to build one must never stop the halt (it is recorded, and paged)."""
    try:
        return _venue()
    except Exception as exc:
        log.critical("halt: no venue client (%s); the halt is recorded, the sweep retried", type(exc).__name__)
        return _NoVenue(f"{type(exc).__name__}: {exc}")


def _cancel_resting(venue: Any, errors: list[str], *, known_only: bool = False) -> list[str]:
    """Cancel everything resting, account-wide; return the venue ids cancelled. The venue alone: our
    Order rows follow in the database step, never before (a locked database must not delay this)."""
    _hint_markets(venue)
    try:
        result = venue.cancel_known() if known_only else venue.cancel_all()
    except Exception as exc:
        errors.append(f"cancel-all failed, orders may still rest at the venue: {type(exc).__name__}: {exc}")
        log.critical("halt: cancel-all failed: %s", exc)
        return []
    errors.extend(f"order {f.get('orderId', '?')} not cancelled: {f.get('message', f)}" for f in result.failed)
    return list(result.canceled)


def _hint_markets(venue: Any) -> None:
    """Tell a venue that cancels market by market (Limitless) where our orders may rest, so they go first.
    Our Order rows name them; read with a 100 ms lock wait at most, and skipped on any failure: the
    venue's own sweep of every market follows anyway."""
    note = getattr(venue, "note_markets", None)
    if note is None:
        return
    from agents.models import Order, OrderStatus

    try:
        with bounded_wait(100):
            markets = set(Order.objects.filter(status__in=[OrderStatus.SENT, OrderStatus.LIVE])
                          .values_list("market", flat=True).distinct()[:1000])
        note(markets)
    except Exception as exc:
        log.warning("halt: could not read which markets hold our orders (%s); sweeping every market", exc)


def _flatten(venue: Any, now: datetime, errors: list[str]) -> dict[str, str]:
    """Sell every position into the book (FAK at the lowest tick); return market:outcome -> what happened."""
    from agents.venue.schemas import OrderRequest, OrderType, Side

    try:
        positions = [p for p in venue.positions() if p.shares > 0]
    except Exception as exc:
        errors.append(f"flatten: positions unreadable: {type(exc).__name__}: {exc}")
        return {}
    done: dict[str, str] = {}
    stamp = now.strftime("%Y%m%d%H%M%S")
    for p in positions:
        key = f"{p.market}:{p.outcome.value}"
        digest = hashlib.sha256(key.encode()).hexdigest()[:24]  # unique per position, whatever the slug's length
        try:
            req = OrderRequest(market=p.market, side=Side.SELL, outcome=p.outcome, price=FLATTEN_PRICE,
                               size=p.shares, order_type=OrderType.FAK, client_order_id=f"flat-{stamp}-{digest}")
            order = venue.place(req)
        except Exception as exc:
            errors.append(f"flatten {key} failed: {type(exc).__name__}: {exc}")
            done[key] = "failed"
            continue
        done[key] = f"sold {order.filled} of {p.shares}"
        if order.filled < p.shares:
            errors.append(f"flatten {key}: only {order.filled} of {p.shares} sold (book too thin)")
    return done


def _record(*, action: str, source: str, actor: Any, reason: str, now: datetime, hold_until: datetime | None,
            cancelled: int, flattened: dict[str, str], errors: list[str], figures: dict[str, Any]) -> HaltEvent:
    with transaction.atomic():
        event = HaltEvent.objects.create(
            ts=now, action=action, source=source, actor=actor if _is_user(actor) else None, reason=reason,
            figures={**figures, **({"flattened": flattened} if flattened else {})}, hold_until=hold_until,
            orders_cancelled=cancelled, flattened=bool(flattened), errors=errors,
        )
        outbox_publish("halt", _panel_event(event))
    return event


def _alert_halt(event: HaltEvent, changed: bool, *, escalated: bool) -> None:
    """Page a new halt; a repeat while halted only bumps the firing alert's count (its HaltEvent is the
    record), so the page is delivered once per halt, not once per `manage.py halt`."""
    details = {"reason": event.reason, **_source_facts(event), "orders_cancelled": event.orders_cancelled,
               "errors": event.errors, "figures": event.figures}
    try:
        if changed and _stale_halt_alert():  # a new halt always pages: an alert left firing since before the
            # last resume (its resolve failed) must not turn this page into a silent bump
            alert_resolve(key=ALERT_KEY, details={"superseded_by": str(event.figures.get("request_id", event.pk))})
        alert_fire(key=ALERT_KEY, title=f"Trading HALTED ({event.get_source_display()}): {event.reason}",
                   details=details)
        if escalated and not changed:  # e.g. a daily loss on top of a manual halt: flatten + hold, page it
            alert_fire(key=f"{ALERT_KEY}:{event.source}", title=f"While halted: {event.get_source_display()} "
                       f"tripped too ({event.reason})", details=details)
        if event.errors:
            alert_fire(key=f"halt_errors:{event.pk}", title="Halt completed with errors: check the venue by hand",
                       details=details)
    except Exception as exc:  # the halt itself is done; the page must still go out
        log.critical("halt: alert not recorded (database); halt itself is done: %s", details)
        _alert_direct(event, f"alert row not written: {type(exc).__name__}: {exc}",
                      str(event.figures.get("request_id", event.pk)))


def _stale_halt_alert() -> bool:
    """Is the firing kill_switch alert older than the last resume (so about a halt that is over)? The
    monitor resolves such an alert at its next pass too (health.Monitor._page_rates)."""
    from monitoring.models import Alert, AlertState

    alert = Alert.objects.filter(key=ALERT_KEY, state=AlertState.FIRING).only("first_fired_at").first()
    resumed = (HaltEvent.objects.filter(action=HaltEvent.Action.RESUME).order_by("-ts")
               .values_list("ts", flat=True).first())
    return alert is not None and resumed is not None and alert.first_fired_at < resumed


def _source_facts(event: HaltEvent) -> dict[str, str]:
    """The source as stored ("command") and as people read it ("Command line"), never `HaltSource.COMMAND`."""
    return {"source": str(event.source), "source_label": str(event.get_source_display())}


def _alert_direct(event: HaltEvent, why: str, request_id: str) -> None:
    """Page the halt straight to every sink, without the database (it could not take the alert row);
    one page per halt request (a second, different halt during the outage pages too)."""
    from monitoring.alerts import alert_deliver_direct

    alert_deliver_direct(key=f"{ALERT_KEY}:{request_id}",
                         title=f"Trading HALTED ({event.get_source_display()}): {event.reason}",
                         details={"reason": event.reason, **_source_facts(event), "errors": event.errors,
                                  "orders_cancelled": event.orders_cancelled, "database": why})


def sweep_resting(venue: Any = None) -> HaltEvent | None:
    """While halted, cancel whatever still rests (an order in flight during the halt, or a cancel-all
    that failed); page when the sweep fails, resolve the halt-error alerts when it comes back clean."""
    errors: list[str] = []
    cancelled_ids = _cancel_resting(venue if venue is not None else _venue_or_error(errors), errors)
    cancelled = len(cancelled_ids)
    if cancelled_ids:
        _orders_cancelled(cancelled_ids)
    if errors:
        alert_fire(key="halt_sweep", title="Halted, but resting orders could not be cancelled: check the venue",
                   details={"errors": errors})
        return None
    alert_resolve(key="halt_sweep")
    _resolve_halt_errors("a later sweep found the venue clean")
    if not cancelled:
        return None
    return _record(action=HaltEvent.Action.NOOP, source=HaltSource.COMMAND, actor=None, now=timezone.now(),
                   reason=f"sweep while halted: {cancelled} resting order(s) found and cancelled", hold_until=None,
                   cancelled=cancelled, flattened={}, errors=[], figures={})


def _resolve_halt_errors(why: str) -> None:
    from monitoring.models import Alert, AlertState

    for key in Alert.objects.filter(state=AlertState.FIRING, key__startswith="halt_errors:").values_list("key",
                                                                                                      flat=True):
        alert_resolve(key=key, details={"resolved": why})


# --- resume ----------------------------------------------------------------------------------


def resume(*, actor: Any, reason: str, source: str = HaltSource.COMMAND) -> HaltEvent:
    """Lift the halt: a person with the permission, a reason, no hold, no pending reconciliation."""
    if not _is_user(actor) or not actor.has_perm("monitoring.toggle_kill_switch"):
        raise PermissionDenied("resuming trading needs the toggle_kill_switch permission")
    reason = _text(reason or "")  # a NUL from any form would fail the row on PostgreSQL
    if not reason.strip():
        raise ValueError("a resume needs a reason")
    now = timezone.now()
    halt_requests_land()  # a halt the database missed lands first, and then decides like any other
    row = KillSwitch.objects.get(pk=1)
    refusal = _resume_refusal(row, now)
    if refusal:
        _record_plain(HaltEvent.Action.REFUSED, source, actor, f"{reason} (refused: {refusal})", now)
        raise ResumeRefused(refusal)
    # The flag goes first: while the row is still active the loops stay stopped, and the flag
    # watcher (which halts on "flag present, row inactive") never sees a half-resumed state.
    flag_text = _read_flag()
    flag_path().unlink(missing_ok=True)
    try:
        with transaction.atomic(), _writing():
            # Compare-and-set on everything the refusal check saw: a daily-loss hold or a drift
            # reconciliation that landed since then must win over this resume.
            changed = KillSwitch.objects.filter(
                pk=1, active=row.active, since=row.since, hold_until=row.hold_until,
                needs_reconciliation=row.needs_reconciliation,
            ).update(active=False, reason="", source="", since=None, hold_until=None, needs_reconciliation=False)
            if changed:
                event = _record_plain(HaltEvent.Action.RESUME, source, actor, reason, now)
    except BaseException:  # the resume did not happen: the halt stays whole, flag included
        _restore_flag(flag_text)
        raise
    if not changed:
        _restore_flag(flag_text)
        raise ResumeRefused("the kill switch changed meanwhile (another halt landed); look again")
    alert_resolve(key=ALERT_KEY, details={"resumed_by": actor.get_username(), "reason": reason})
    for key in [k for k in HaltSource.values]:
        alert_resolve(key=f"{ALERT_KEY}:{key}")
    _resolve_halt_errors(f"resumed by {actor.get_username()}")
    return event


def _read_flag() -> str:
    try:
        return flag_path().read_text()
    except OSError:
        return ""


def _restore_flag(text: str) -> None:
    """Put the flag back after a resume that lost its race (the halt stays whole)."""
    if text:
        _write_flag(text.strip(), "restored", timezone.now(), [])


def _resume_refusal(row: KillSwitch, now: datetime) -> str:
    from monitoring.models import HaltPending

    waiting = haltslot.requested(slot_file())
    if waiting:
        return f"{waiting}: the database must take it before trading can resume"
    if HaltPending.objects.exists():
        return "a halt parked by another host has not landed yet (its monitor lands it): look again in a moment"
    if not row.active and not flag_present():
        return "trading is not halted"
    if row.hold_until and now < row.hold_until:
        return f"a hold is in force until {row.hold_until:%Y-%m-%d %H:%M:%S} UTC ({row.reason})"
    if row.needs_reconciliation:
        return "chain drift: reconcile the venue with the chain by hand first (manage.py reconcile_chain)"
    return ""


def reconcile_chain(*, actor: Any, note: str, drift: Decimal, dust: Decimal) -> HaltEvent:
    """Record that a person reconciled REST with the chain; refused while the drift is still above dust."""
    if not _is_user(actor) or not actor.has_perm("monitoring.toggle_kill_switch"):
        raise PermissionDenied("reconciling needs the toggle_kill_switch permission")
    if not note or not note.strip():
        raise ValueError("a reconciliation needs a note saying what was checked")
    now = timezone.now()
    if drift > dust:
        _record_plain(HaltEvent.Action.REFUSED, HaltSource.CHAIN_DRIFT, actor,
                      f"reconciliation refused: drift {drift} still above dust {dust}", now)
        raise ResumeRefused(f"REST and chain still differ by {drift} (dust is {dust})")
    with transaction.atomic(), _writing():
        KillSwitch.objects.filter(pk=1).update(needs_reconciliation=False)
        return _record_plain(HaltEvent.Action.RECONCILE, HaltSource.CHAIN_DRIFT, actor, note, now,
                             figures={"drift": str(drift), "dust": str(dust)})


def _record_plain(action: str, source: str, actor: Any, reason: str, now: datetime,
                  figures: dict[str, Any] | None = None) -> HaltEvent:
    with transaction.atomic():
        event = HaltEvent.objects.create(ts=now, action=action, source=source, actor=actor, reason=reason,
                                         figures=figures or {})
        outbox_publish(action if action in ("resume", "halt") else "kill_switch", _panel_event(event))
    return event


def _panel_event(event: HaltEvent) -> dict[str, Any]:
    return {"id": event.pk, "action": event.action, "source": event.source, "reason": event.reason,
            "actor": halt_actor(event) or None, "ts": event.ts.isoformat(),
            "hold_until": event.hold_until.isoformat() if event.hold_until else None,
            "orders_cancelled": event.orders_cancelled, "errors": event.errors}


def halt_actor(event: HaltEvent) -> str:
    """Who acted, for pages and panels: the Academy user, else the name a shell gave with no account
    behind it (kept as text), else "" (a shape or the monitor)."""
    if event.actor_id is not None:
        return event.actor.get_username()
    return str(event.figures.get("actor_name", ""))


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)
