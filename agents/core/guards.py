"""The stop check: kill switch (flag file or DB state) and the operator override file.

Fail closed: a guard that cannot be computed (unreadable flag path, DB error, malformed
override) counts as tripped, because "we could not tell" must never mean "go ahead".
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Literal, Protocol, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, field_validator

from agents.core import haltslot
from agents.core.spec import HardLimits, SoftLimits
from agents.venue.strict import clean_text

StopKind = Literal["kill_switch", "paused"]
_N = TypeVar("_N", int, Decimal)


@dataclass(frozen=True)
class StopReason:
    kind: StopKind
    reason: str


class OverrideLimits(BaseModel):
    """Tighter limits an operator can impose at run time (never looser: see tighten())."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_order_notional: Decimal | None = Field(default=None, ge=0)
    max_daily_notional: Decimal | None = Field(default=None, ge=0)
    max_open_positions: int | None = Field(default=None, ge=0)
    max_market_exposure: Decimal | None = Field(default=None, ge=0)
    approval_notional: Decimal | None = Field(default=None, ge=0)


AgentName = Annotated[str, StringConstraints(pattern=r"^[-a-zA-Z0-9_]+$", max_length=100)]


class OverrideFile(BaseModel):
    """`override.json`: {"pause": bool, "limits": {...}, "note": "..."}; unknown keys are an error."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    pause: StrictBool = False  # "yes" is not a boolean: strict, so a typo fails closed
    limits: OverrideLimits = OverrideLimits()
    note: str = Field(default="", max_length=2000)
    # agent names paused one by one: slugs, as agent names are (no newline or control character can ride
    # a name into the log line and the panel's reason)
    pause_agents: tuple[AgentName, ...] = Field(default=(), max_length=1000)

    @field_validator("note")
    @classmethod
    def _clean_note(cls, value: str) -> str:
        """Control and bidi characters dropped, not refused: a stray NUL in a hand-edited file must not
        trip every agent (a malformed override does), nor fail the database rows the note reaches."""
        return clean_text(value, max_chars=2000)


@dataclass(frozen=True)
class Override:
    pause: bool = False
    limits: OverrideLimits = field(default_factory=OverrideLimits)
    note: str = ""
    pause_agents: tuple[str, ...] = ()

    def tighten(self, hard: HardLimits) -> HardLimits:
        """Return `hard` with each override applied only where it is stricter (min of the two)."""
        o = self.limits
        return HardLimits(
            max_order_notional=_min(hard.max_order_notional, o.max_order_notional),
            max_daily_notional=_min(hard.max_daily_notional, o.max_daily_notional),
            max_open_positions=_min(hard.max_open_positions, o.max_open_positions),
            max_market_exposure=_min(hard.max_market_exposure, o.max_market_exposure),
        )

    def tighten_soft(self, soft: SoftLimits) -> SoftLimits:
        tighter = _min(soft.approval_notional, self.limits.approval_notional)
        return soft.model_copy(update={"approval_notional": tighter})


def _min(base: _N, override: _N | None) -> _N:
    return base if override is None else min(base, override)


NO_OVERRIDE = Override()


def combine(desk: Override, local: Override) -> Override:
    """The desk's override (the database, every host) with this host's override.json on top: either
    pauses, each limit is the tighter of the two, both notes are kept. The local file can only tighten."""
    if local == NO_OVERRIDE:
        return desk
    fields = OverrideLimits.model_fields
    limits = OverrideLimits(**{name: _min_opt(getattr(desk.limits, name), getattr(local.limits, name))
                               for name in fields})
    note = "\n".join(n for n in (desk.note, local.note) if n)
    return Override(pause=desk.pause or local.pause, limits=limits, note=note,
                    pause_agents=tuple(sorted({*desk.pause_agents, *local.pause_agents})))


def _min_opt(a: _N | None, b: _N | None) -> _N | None:
    return b if a is None else a if b is None else min(a, b)


@dataclass(frozen=True)
class GuardReading:
    """One consistent read of every guard: why to stop (if at all) and the override in force."""

    stop: StopReason | None
    override: Override = NO_OVERRIDE


class StopCheck(Protocol):
    def __call__(self) -> GuardReading: ...


class OverrideError(ValueError):
    pass


def load_override(path: Path) -> Override:
    """Read the override file; absent = no override; malformed raises OverrideError."""
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return NO_OVERRIDE
    except OSError as exc:
        raise OverrideError(f"override file unreadable: {exc}") from exc
    return override_from_text(raw, "override file")


def override_from_text(raw: str, where: str = "override") -> Override:
    """Parse one override document (the file's or the desk's); malformed raises OverrideError."""
    try:
        parsed = OverrideFile.model_validate(json.loads(raw))
    except (json.JSONDecodeError, ValidationError, TypeError) as exc:
        raise OverrideError(f"{where} malformed: {_first_line(exc)}") from exc
    return Override(pause=parsed.pause, limits=parsed.limits, note=parsed.note, pause_agents=parsed.pause_agents)


def _first_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


# db_state(): None when not halted, else the halt reason. Supplied by the Django side.
DbState = Callable[[], str | None]
# desk_override(): the override every host reads (the database's), NO_OVERRIDE when none. Raising trips.
DeskOverride = Callable[[], Override]


class Guards:
    """The stop check the loop and place_order_safe call (a StopCheck).

    The order of checks is the order of severity: kill switch file, a halt request still waiting
    in the halt slot (agents/core/haltslot.py: a halt the database could not record yet), DB halt
    state, then the override: the desk's (every host reads it from the database) combined with this
    host's override file, which can only tighten (malformed or unreadable = tripped, pause = paused).
    """

    def __init__(
        self, *, flag_path: Path | None, override_path: Path | None = None, db_state: DbState | None = None,
        slot_path: Path | None = None, desk_override: DeskOverride | None = None, agent: str = "",
    ) -> None:
        self.flag_path = flag_path
        self.override_path = override_path
        self.db_state = db_state
        self.slot_path = slot_path
        self.desk_override = desk_override
        self.agent = agent  # the agent this check guards ("" = none: only a desk-wide pause applies)

    def __call__(self) -> GuardReading:
        try:
            return self._read()
        except Exception as exc:  # any guard failure trips: fail closed
            return GuardReading(StopReason("kill_switch", f"guard could not be computed: {_first_line(exc)}"))

    def _read(self) -> GuardReading:
        if self.flag_path is not None and flag_present(self.flag_path):
            return GuardReading(StopReason("kill_switch", f"kill switch flag present: {self.flag_path}"))
        waiting = haltslot.requested(self.slot_path) if self.slot_path is not None else None
        if waiting:
            return GuardReading(StopReason("kill_switch", waiting))
        if self.db_state is not None:
            halted = self.db_state()
            if halted:
                return GuardReading(StopReason("kill_switch", halted))  # says itself what stopped it
        try:
            desk = self.desk_override() if self.desk_override is not None else NO_OVERRIDE
            local = load_override(self.override_path) if self.override_path is not None else NO_OVERRIDE
        except OverrideError as exc:
            return GuardReading(StopReason("kill_switch", str(exc)))
        override = combine(desk, local)
        if override.pause:
            by = "the desk override" if desk.pause else "override file"
            return GuardReading(StopReason("paused", f"paused by {by}{_note(override)}"), override)
        if self.agent and self.agent in override.pause_agents:
            by = "the desk override" if self.agent in desk.pause_agents else "override file"
            return GuardReading(StopReason("paused", f"{self.agent} paused by {by}{_note(override)}"), override)
        return GuardReading(None, override)


def flag_present(path: Path) -> bool:
    """lstat, not exists(): a dangling symlink still counts as "someone touched the flag", and
    os.path.(l)exists answers False on *any* error (permission, I/O, stale NFS handle). Only
    "not there" means absent; every other error propagates and trips the guard."""
    try:
        os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return False
    return True


def _note(o: Override) -> str:
    return f": {o.note}" if o.note else ""


def guards_for_data_dir(data_dir: Path, *, db_state: DbState | None = None,
                        desk_override: DeskOverride | None = None, agent: str = "") -> Guards:
    """Standard layout: $ACADEMY_DATA_DIR/kill_switch.flag, halt.slot and override.json."""
    return Guards(flag_path=data_dir / "kill_switch.flag", override_path=data_dir / "override.json", db_state=db_state,
                  slot_path=haltslot.slot_path(data_dir), desk_override=desk_override, agent=agent)


def never_stop() -> GuardReading:
    """A stop check that never trips (tests and benchmarks only)."""
    return GuardReading(None)
