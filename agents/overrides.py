"""The operator's run-time override (pause, tighter limits, a note to the model).

The desk's override lives in the database (`DeskOverride`, append-only: the newest row is in force,
the rows are its history), so a pause saved on one host's panel stops the agents run by every
worker on every host. `override_write()` is the one way the app changes it: validate with the
agents' own schema first (a document the guards would read as malformed stops every run), then
append the row. Each host's own $ACADEMY_DATA_DIR/override.json still applies on that host, and
can only tighten (agents/core/guards.py `combine`); the app never writes it.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
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


def override_write(*, text: str, actor: Any) -> OverrideFile:
    """1. validate; 2. append the desk's new override row and tell the panels, in one transaction.

    The agents read the newest row at every check, on every host: they see the old document or the
    new one, never half.
    """
    from monitoring.outbox import outbox_publish

    doc = override_parse(text)
    who = actor.get_username()
    with transaction.atomic():
        DeskOverride.objects.create(text=text if text.endswith("\n") else text + "\n", pause=doc.pause,
                                    actor=actor if getattr(actor, "pk", None) else None, actor_name=who[:150])
        outbox_publish("override", {"actor": who, "source": "desk override", "pause": doc.pause,
                                    "reason": f"desk override saved (pause={'yes' if doc.pause else 'no'}) {doc.note}"})
    log.warning("operator: %s saved the desk override (pause=%s): %s", who, doc.pause, doc.note)
    return doc
