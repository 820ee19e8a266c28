"""A run's worth of wiring with fakes: venue, clock, recorder, alerts, approvals."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from agents.core.guards import Guards
from agents.core.loop import RunResult, run_loop
from agents.core.orders import ApprovalDraft, OrderDesk
from agents.core.policies.base import Policy
from agents.core.risk import venue_exposure
from agents.core.spec import AgentSpec, HardLimits, SoftLimits
from agents.core.tools import Toolbox, build_toolbox
from agents.core.tracing import MemoryRecorder, Recorder

from .fakes import FakeClock, FakeVenue, make_market


def demo_spec(**overrides: Any) -> AgentSpec:
    """Limits wide enough that a small order passes, with crypto-hourly as a known market type."""
    base: dict[str, Any] = {
        "name": "demo",
        "hard": HardLimits(max_order_notional="10", max_daily_notional="50", max_open_positions=3,
                           max_market_exposure="20"),
        "soft": SoftLimits(approval_notional="5", known_market_types=("crypto-hourly",)),
    }
    return AgentSpec(**(base | overrides))


@dataclass
class Harness:
    tmp: Path
    clock: FakeClock = field(default_factory=FakeClock)
    venue: FakeVenue = field(init=False)
    recorder: Recorder = field(default_factory=MemoryRecorder)
    alerts: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    approvals: list[ApprovalDraft] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.venue = FakeVenue(self.clock)
        for slug in ("btc-up", "eth-up"):
            self.venue.add_market(*make_market(slug))
        self.guards = Guards(flag_path=self.tmp / "kill_switch.flag", override_path=self.tmp / "override.json")

    @property
    def flag(self) -> Path:
        return self.tmp / "kill_switch.flag"

    def alert(self, message: str, details: Any) -> None:
        self.alerts.append((message, dict(details)))

    def approve_sink(self, draft: ApprovalDraft) -> str:
        self.approvals.append(draft)
        return f"apr-{len(self.approvals)}"

    def desk(self, spec: AgentSpec, run_id: str = "run-1") -> OrderDesk:
        return OrderDesk(spec=spec, run_id=run_id, venue=self.venue, stop_check=self.guards,
                         exposure=lambda: venue_exposure(self.venue, self.clock), approvals=self.approve_sink,
                         recorder=self.recorder, clock=self.clock)

    def toolbox(self, spec: AgentSpec, run_id: str = "run-1") -> Toolbox:
        return build_toolbox(spec=spec, desk=self.desk(spec, run_id))

    def run(self, spec: AgentSpec, policy: Policy, run_id: str = "run-1", **kw: Any) -> RunResult:
        return run_loop(run_id=run_id, spec=spec, policy=policy, toolbox=kw.pop("toolbox", None)
                        or self.toolbox(spec, run_id), stop_check=self.guards, recorder=self.recorder,
                        clock=self.clock, alert=self.alert, **kw)

    @property
    def kinds(self) -> list[str]:
        assert isinstance(self.recorder, MemoryRecorder)
        return self.recorder.kinds()

    def events(self, kind: str) -> list[dict[str, Any]]:
        assert isinstance(self.recorder, MemoryRecorder)
        return self.recorder.of(kind)


@pytest.fixture
def h(tmp_path: Path) -> Harness:
    return Harness(tmp=tmp_path)
