"""override.json: the operator's run-time override (pause, tighter limits, a note to the model).

`override_write()` is the one way the app changes it: validate with the agents' own schema
first (a file the guards would read as malformed stops every run), then replace it whole.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

from django.conf import settings
from pydantic import ValidationError

from agents.core.guards import OverrideFile, OverrideLimits
from agents.core.state import atomic_write
from agents.venue.strict import InvalidInput, load_json, parse_decimal

log = logging.getLogger("academy.override")
MAX_OVERRIDE_BYTES = 64 * 1024  # a pause flag, five limits and a 2,000-character note fit many times over
MAX_OVERRIDE_DEPTH = 8  # the schema nests two levels ({"limits": {...}}): anything deeper is wrong


class OverrideInvalid(ValueError):
    """The document is not a valid override; the message says where."""


def override_path() -> Path:
    return settings.DATA_DIR / "override.json"


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
    """1. validate; 2. write a temp file in the same directory, fsync, os.replace; 3. tell the panels.

    The agents read the file at every check: they see the old document or the new one, never half.
    """
    from monitoring.outbox import outbox_publish

    doc = override_parse(text)
    atomic_write(override_path(), (text if text.endswith("\n") else text + "\n").encode(), mode=0o644)
    who = actor.get_username()
    log.warning("operator: %s wrote override.json (pause=%s): %s", who, doc.pause, doc.note)
    outbox_publish("override", {"actor": who, "source": "override.json", "pause": doc.pause,
                                "reason": f"override.json saved (pause={'yes' if doc.pause else 'no'}) {doc.note}"})
    return doc
