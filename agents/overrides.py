"""The operator's run-time override (pause, tighter limits, a note to the model).

The desk's override lives in the database (`DeskOverride`, append-only: the newest row is in force,
the rows are its history), so a pause saved on one host's panel stops the agents run by every
worker on every host. `override_write()` is the one way the app changes it: validate with the
agents' own schema first (a document the guards would read as malformed stops every run), then
append the row. Each host's own $ACADEMY_DATA_DIR/override.json still applies on that host, and
can only tighten (agents/core/guards.py `combine`); the app never writes it.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from pydantic import ValidationError

from agents.core.guards import NO_OVERRIDE, Override, OverrideFile, OverrideLimits, override_from_text
from agents.models import DeskOverride
from agents.venue.strict import InvalidInput, load_json, parse_decimal

log = logging.getLogger("academy.override")
MAX_OVERRIDE_BYTES = 64 * 1024  # a pause flag, five limits and a 2,000-character note fit many times over
MAX_OVERRIDE_DEPTH = 8  # the schema nests two levels ({"limits": {...}}): anything deeper is wrong


class OverrideInvalid(ValueError):
    """The document is not a valid override; the message says where."""


def override_path() -> Path:
    """This host's override file (hand-written, can only tighten)."""
    return settings.DATA_DIR / "override.json"


def desk_override_row() -> DeskOverride | None:
    return DeskOverride.objects.order_by("-id").first()


def desk_override_current() -> Override:
    """The desk's override in force (every host reads this). A database error raises: the stop check
    then trips (fail closed)."""
    row = desk_override_row()
    return NO_OVERRIDE if row is None else override_from_text(row.text, "desk override")


def desk_override_text() -> str:
    """The document in force, as saved ("{}" with none), for the editor."""
    row = desk_override_row()
    return "{}\n" if row is None else row.text


def override_parse(text: str) -> OverrideFile:
    """Parse with the guards' schema; raise OverrideInvalid naming the first problem."""
    if not text.strip():
        raise OverrideInvalid('The document is empty; write {} for "no override".')
    try:
        data = load_json(text, max_bytes=MAX_OVERRIDE_BYTES, max_depth=MAX_OVERRIDE_DEPTH, field="document")
        _check_limit_numbers(data)
        return OverrideFile.model_validate(data)
    except InvalidInput as exc:
        raise OverrideInvalid(str(exc)) from None
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "document"
        more = f" ({len(exc.errors())} errors in all)" if len(exc.errors()) > 1 else ""
        raise OverrideInvalid(f"{where}: {first['msg']}{more}") from None


def _check_limit_numbers(data: object) -> None:
    """Each limit a plain ASCII decimal: the schema's own Decimal would read "1_0" or "١٠" as 10."""
    limits = data.get("limits") if isinstance(data, dict) else None
    if not isinstance(limits, dict):
        return  # not an object: the schema says so, naming the field
    for name, value in limits.items():
        if name in OverrideLimits.model_fields and value is not None:
            parse_decimal(value, f"limits.{name}")


class OverrideChanged(RuntimeError):
    """Someone saved another override between our read and our write: nothing was written."""


class OverrideLiftsPause(OverrideInvalid):
    """override_write(keep_pauses=True): the document would lift a pause in force; nothing was written."""


ANY_ROW = -1  # override_write(based_on=ANY_ROW): append whatever the newest row is (the editor's save)


def override_write(*, text: str, actor: Any, reason: str = "", based_on: int | None = ANY_ROW,
                   keep_pauses: bool = False) -> OverrideFile:
    """1. validate; 2. append the desk's new override row and tell the panels, in one transaction.

    The agents read the newest row at every check, on every host: they see the old document or the
    new one, never half. With `based_on` (the id of the row the new text was derived from, None for
    "no row yet") the write is compare-and-set: OverrideChanged when another row landed meanwhile.
    With `keep_pauses` a document that would lift a pause in force (the desk's, or an agent's) is
    refused (OverrideLiftsPause): a whole document sent unseen, from a phone, must not undo a pause.
    """
    from monitoring.outbox import outbox_publish

    doc = override_parse(text)
    who = actor.get_username()
    why = f" ({reason})" if reason else ""
    with transaction.atomic():
        _writers_in_turn()
        if based_on != ANY_ROW and not _still_newest(based_on):
            raise OverrideChanged("the desk override changed while this was saved: nothing written, try again")
        if keep_pauses and (lifted := pauses_lifted(desk_override_current(), doc)):
            raise OverrideLiftsPause(f"it would lift the pause on {', '.join(lifted)}")
        DeskOverride.objects.create(text=text if text.endswith("\n") else text + "\n", pause=doc.pause,
                                    actor=actor if getattr(actor, "pk", None) else None, actor_name=who[:150])
        outbox_publish("override", {"actor": who, "source": "desk override", "pause": doc.pause,
                                    "reason": f"desk override saved (pause={'yes' if doc.pause else 'no'}"
                                              f"{_paused_agents(doc)}){why} {doc.note}"})
    log.warning("operator: %s saved the desk override (pause=%s%s)%s: %s", who, doc.pause, _paused_agents(doc),
                why, doc.note)
    return doc


def pauses_lifted(current: Any, new: Any) -> list[str]:
    """What `new` would unpause of `current`: "the desk", then each agent paused in one and not the other."""
    return (["the desk"] if current.pause and not new.pause else []) + [
        a for a in current.pause_agents if a not in new.pause_agents]


OVERRIDE_LOCK = 0x6F76_7264  # "ovrd": the advisory lock every desk-override write takes on PostgreSQL


def _writers_in_turn() -> None:
    """One override write at a time: two writers both based on "no row yet" lock no row, and the later
    insert would drop the other's pause. SQLite's IMMEDIATE transactions already serialise writers."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [OVERRIDE_LOCK])


def _still_newest(row_id: int | None) -> bool:
    """Is `row_id` still the newest row? Its row is locked first (PostgreSQL), so a concurrent writer
    based on it waits for this transaction, then sees the new row and is refused."""
    if row_id is not None:
        list(DeskOverride.objects.select_for_update().filter(pk=row_id).values_list("id", flat=True))
    return DeskOverride.objects.order_by("-id").values_list("id", flat=True).first() == row_id


def _paused_agents(doc: OverrideFile) -> str:
    return f"; paused agents: {', '.join(doc.pause_agents)}" if doc.pause_agents else ""


MAX_REASON = 500


def override_pause_set(*, actor: Any, pause: bool, reason: str, agent: str = "") -> bool:
    """Pause or resume one agent (`agent`) or the whole desk (no agent) through override_write, keeping
    every other field of the document in force. Return False when it was already so (nothing written).

    1. read the newest row; 2. change only `pause` or the agent's place in `pause_agents`;
    3. write compare-and-set on that row (a concurrent save makes this one fail, never lose the other).
    """
    reason = " ".join(reason.split())
    if not reason:
        raise OverrideInvalid("Give a reason: it is recorded with the change.")
    if len(reason) > MAX_REASON:
        raise OverrideInvalid(f"The reason is {len(reason)} characters long; at most {MAX_REASON}.")
    row = desk_override_row()
    data = override_parse("{}" if row is None else row.text).model_dump(mode="json", exclude_defaults=True)
    changed = _set_pause(data, pause=pause, agent=agent)
    if not changed:
        return False
    override_write(text=json.dumps(data, indent=2) + "\n", actor=actor, reason=reason,
                   based_on=None if row is None else row.pk)
    return True


def _set_pause(data: dict[str, Any], *, pause: bool, agent: str) -> bool:
    """Change the document in place; True when that changed anything."""
    if not agent:
        before, data["pause"] = bool(data.get("pause")), pause
        return before != pause
    names = list(data.get("pause_agents") or [])
    if (agent in names) == pause:
        return False
    data["pause_agents"] = sorted({*names, agent}) if pause else [n for n in names if n != agent]
    return True


LIMIT_UNITS = {"max_open_positions": "positions"}


def override_ignored(doc: OverrideFile, agents: list[Any]) -> list[str]:
    """What the guards will ignore in `doc`, one sentence each: a limit that is not stricter than an
    agent's own limit (an override can only tighten), and a paused name that is no agent."""
    notes = []
    for name in OverrideLimits.model_fields:
        value = getattr(doc.limits, name)
        if value is None:
            continue
        looser = [a for a in agents if value >= getattr(a, name)]
        if looser:
            notes.append(_ignored_limit(name, value, looser, every=len(looser) == len(agents)))
    known = {a.name for a in agents}
    for missing in [n for n in doc.pause_agents if n not in known]:
        notes.append(f"pause_agents: no agent is named {missing!r}; that entry pauses nothing.")
    return notes


def _ignored_limit(name: str, value: Any, looser: list[Any], *, every: bool) -> str:
    unit = LIMIT_UNITS.get(name, "USDC")
    own = ", ".join(f"{a.name} {getattr(a, name)}" for a in looser[:5]) + (" ..." if len(looser) > 5 else "")
    who = "every agent" if every else f"{len(looser)} agent(s)"
    return (f"limits.{name} = {value} {unit} is ignored for {who} ({own} {unit}): it is not stricter than "
            f"the agent's own limit, and an override can only tighten.")
