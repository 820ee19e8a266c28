"""The one halt path. Every kill-switch shape ends in `halt()`; `resume()` is the one way back.

Nothing else writes the kill-switch state (the flag file or the KillSwitch row): a test
checks that no other module does.
"""

from __future__ import annotations

import logging
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, transaction
from django.utils import timezone

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
    """Describe the kill switch for pages and panels; unreadable counts as halted, never as running."""
    try:
        flag = flag_present()
    except OSError as exc:
        return {"state": "unknown", "halted": True, "flag_file": True, "detail": f"flag file unreadable: {exc}"}
    try:
        row = KillSwitch.objects.filter(pk=1).first()
    except DatabaseError as exc:
        return {"state": "unknown", "halted": True, "flag_file": flag, "detail": f"database unreadable: {exc}"}
    if row is None:
        return {"state": "unknown", "halted": True, "flag_file": flag, "detail": "no kill-switch row (run migrate)"}
    halted = row.active or flag
    detail = "" if row.active or not flag else "flag file present; the watcher will complete the halt"
    return {"state": "halted" if halted else "running", "halted": halted, "flag_file": flag, "row": row,
            "reason": row.reason, "source": row.source, "since": row.since, "hold_until": row.hold_until,
            "needs_reconciliation": row.needs_reconciliation, "detail": detail}


# --- halt ------------------------------------------------------------------------------------


def halt(*, reason: str, source: str, actor: Any = None, flatten: bool = False, hold_until: datetime | None = None,
         needs_reconciliation: bool = False, figures: dict[str, Any] | None = None, venue: Any = None) -> HaltEvent:
    """Stop all trading now. Idempotent: a repeat while halted records a no-op and re-sweeps the venue.

    1. set the flag file (works with the database down) and the KillSwitch row;
    2. cancel every resting order at the venue (account-wide);
    3. flatten positions when asked (market sells);
    4. record a HaltEvent (who or what, why, the figures);
    5. alert; 6. tell the panels (outbox row in the same transaction as the event).
    """
    if source not in HaltSource.values:
        raise ValueError(f"unknown halt source {source!r}")
    if not reason or not reason.strip():
        raise ValueError("a halt needs a reason")
    now = timezone.now()
    errors: list[str] = []
    _write_flag(reason, source, now, errors)
    changed, tightened = _set_row(reason=reason, source=source, now=now, hold_until=hold_until,
                                  needs_reconciliation=needs_reconciliation, errors=errors)
    venue = venue if venue is not None else _venue()
    cancelled = _cancel_resting(venue, errors)
    flattened = _flatten(venue, now, errors) if flatten else {}
    event = _record(action=HaltEvent.Action.HALT if changed else HaltEvent.Action.NOOP, source=source, actor=actor,
                    reason=reason, now=now, hold_until=hold_until, cancelled=cancelled, flattened=flattened,
                    errors=errors, figures={**(figures or {}), **({"tightened": tightened} if tightened else {})})
    _alert_halt(event, changed, escalated=bool(tightened or flattened))
    return event


def _write_flag(reason: str, source: str, now: datetime, errors: list[str]) -> None:
    """Write the flag atomically (a unique temp file: two halts at once must not collide); a disk
    that refuses the write must not stop the rest of the halt (the row and the venue sweep)."""
    from agents.core.state import atomic_write

    try:  # the loops see the flag whole or not at all; a unique temp file per writer
        atomic_write(flag_path(), f"{now.isoformat()} {source}: {reason}\n".encode(), mode=0o644)
    except OSError as exc:
        errors.append(f"flag file not written: {exc}")
        log.critical("halt: flag file not written (%s); the kill-switch row holds the halt", exc)


def _set_row(*, reason: str, source: str, now: datetime, hold_until: datetime | None, needs_reconciliation: bool,
             errors: list[str]) -> tuple[bool, list[str]]:
    """Compare-and-set the row to active: (this call made the transition, what a repeat tightened)."""
    try:
        with transaction.atomic(), _writing():
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
    except DatabaseError as exc:  # the flag file already stops every loop; keep halting
        errors.append(f"kill-switch row not written: {exc}")
        log.critical("halt: kill-switch row not written (%s); the flag file holds the halt", exc)
        return True, []


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


def _cancel_resting(venue: Any, errors: list[str]) -> int:
    from agents.journal import JournaledVenue

    try:
        result = JournaledVenue(venue, agent=None, run=None).cancel_all()
    except Exception as exc:
        errors.append(f"cancel-all failed, orders may still rest at the venue: {type(exc).__name__}: {exc}")
        log.critical("halt: cancel-all failed: %s", exc)
        return 0
    errors.extend(f"order {f.get('orderId', '?')} not cancelled: {f.get('message', f)}" for f in result.failed)
    return len(result.canceled)


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
        req = OrderRequest(market=p.market, side=Side.SELL, outcome=p.outcome, price=FLATTEN_PRICE, size=p.shares,
                           order_type=OrderType.FAK, client_order_id=f"flat-{stamp}-{p.market}-{p.outcome.value}"[:128])
        try:
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
    details = {"reason": event.reason, "source": event.source, "orders_cancelled": event.orders_cancelled,
               "errors": event.errors, "figures": event.figures}
    try:
        alert_fire(key=ALERT_KEY, title=f"Trading HALTED ({event.get_source_display()}): {event.reason}",
                   details=details)
        if escalated and not changed:  # e.g. a daily loss on top of a manual halt: flatten + hold, page it
            alert_fire(key=f"{ALERT_KEY}:{event.source}", title=f"While halted: {event.get_source_display()} "
                       f"tripped too ({event.reason})", details=details)
        if event.errors:
            alert_fire(key=f"halt_errors:{event.pk}", title="Halt completed with errors: check the venue by hand",
                       details=details)
    except DatabaseError:
        log.critical("halt: alert not recorded (database); halt itself is done: %s", details)


def sweep_resting(venue: Any = None) -> HaltEvent | None:
    """While halted, cancel whatever still rests (an order in flight during the halt, or a cancel-all
    that failed); page when the sweep fails, resolve the halt-error alerts when it comes back clean."""
    errors: list[str] = []
    cancelled = _cancel_resting(venue if venue is not None else _venue(), errors)
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
    if not reason or not reason.strip():
        raise ValueError("a resume needs a reason")
    now = timezone.now()
    row = KillSwitch.objects.get(pk=1)
    refusal = _resume_refusal(row, now)
    if refusal:
        _record_plain(HaltEvent.Action.REFUSED, source, actor, f"{reason} (refused: {refusal})", now)
        raise ResumeRefused(refusal)
    # The flag goes first: while the row is still active the loops stay stopped, and the flag
    # watcher (which halts on "flag present, row inactive") never sees a half-resumed state.
    flag_text = _read_flag()
    flag_path().unlink(missing_ok=True)
    with transaction.atomic(), _writing():
        # Compare-and-set on everything the refusal check saw: a daily-loss hold or a drift
        # reconciliation that landed since then must win over this resume.
        changed = KillSwitch.objects.filter(
            pk=1, active=row.active, since=row.since, hold_until=row.hold_until,
            needs_reconciliation=row.needs_reconciliation,
        ).update(active=False, reason="", source="", since=None, hold_until=None, needs_reconciliation=False)
        if changed:
            event = _record_plain(HaltEvent.Action.RESUME, source, actor, reason, now)
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
            "actor": event.actor.get_username() if event.actor else None, "ts": event.ts.isoformat(),
            "hold_until": event.hold_until.isoformat() if event.hold_until else None,
            "orders_cancelled": event.orders_cancelled, "errors": event.errors}


def _is_user(actor: Any) -> bool:
    return actor is not None and getattr(actor, "is_authenticated", False)
