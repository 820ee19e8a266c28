"""Per-step overhead of the agent loop itself, with the rules policy (no model, no network).

Each run is a full bounded loop (guards, budgets, allowlist, validation, worker-thread tool calls,
sanitising, place_order_safe, redacted NDJSON trace). Per-step time = the run's wall time minus
the time spent inside the policy, divided by its steps. Target: under 5 ms per step.

    .venv/bin/python bench/loop_overhead.py [--runs 300] [--recorder file|memory]

By default the venue is the real paper venue process on loopback (started here, one fresh
account per run) reached through HttpVenue; `--venue fake` uses the in-memory fake from
tests/core/fakes.py to isolate the loop from HTTP. Two figures are printed: per step excluding
the policy (loop + venue round trips), and per step excluding the policy and the tools' own
time (the loop's overhead alone: guards, validation, threads, sanitising, limits, tracing).
"""

from __future__ import annotations

import argparse
import contextlib
import importlib.util
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.core.guards import guards_for_data_dir  # noqa: E402
from agents.core.loop import run_loop  # noqa: E402
from agents.core.orders import ApprovalDraft, OrderDesk  # noqa: E402
from agents.core.policies import RulesPolicy  # noqa: E402
from agents.core.ports import SystemClock, no_alert  # noqa: E402
from agents.core.redact import Redactor  # noqa: E402
from agents.core.risk import venue_exposure  # noqa: E402
from agents.core.spec import AgentSpec, HardLimits, SoftLimits  # noqa: E402
from agents.core.tools import build_toolbox  # noqa: E402
from agents.core.tracing import FileRecorder, MemoryRecorder, TraceWriter  # noqa: E402


def _load_fakes() -> Any:
    spec = importlib.util.spec_from_file_location("core_fakes", ROOT / "tests" / "core" / "fakes.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_fake_venue() -> Any:
    """A fresh in-memory venue per run (built outside the timing)."""
    fakes = _load_fakes()

    def for_run(i: int) -> Any:
        venue = fakes.FakeVenue(fakes.FakeClock())
        for m in range(8):
            venue.add_market(*fakes.make_market(f"mkt-{m}", bid="0.400", ask=f"0.4{5 + m % 4}0"))
        return venue

    return for_run


def make_paper_venue(running: Any) -> Any:
    """A fresh funded account per run on the real venue, so every run starts flat."""
    from agents.venue.client import HttpVenue
    from paper_venue.faults import Faults

    faults = Faults(running.url, running.faults_token)

    def for_run(i: int) -> Any:
        key = f"bench-key-{i}-0123456789"
        faults.account(f"bench-{i}", key, "100000")
        return HttpVenue(running.url, key)

    return for_run


def one_run(i: int, venue: Any, data_dir: Path, spec: AgentSpec, recorder_kind: str) -> tuple[float, int]:
    clock = SystemClock()
    redactor = Redactor(["OPENAI_API_KEY", "ANTHROPIC_API_KEY"])
    run_id = f"bench-{i}"
    writer = None
    if recorder_kind == "file":
        writer = TraceWriter(traces_dir=data_dir / "state" / "traces", run_id=run_id, clock=clock, redactor=redactor)
        recorder: Any = FileRecorder(writer)
    else:
        recorder = MemoryRecorder(redactor)
    guards = guards_for_data_dir(data_dir)
    desk = OrderDesk(
        spec=spec,
        run_id=run_id,
        venue=venue,
        stop_check=guards,
        exposure=lambda: venue_exposure(venue, clock),
        approvals=_approve,
        recorder=recorder,
        clock=clock,
    )
    t0 = time.perf_counter()
    result = run_loop(
        run_id=run_id,
        spec=spec,
        policy=RulesPolicy(seed=i),
        toolbox=build_toolbox(spec=spec, desk=desk),
        stop_check=guards,
        recorder=recorder,
        clock=clock,
        alert=no_alert,
        redactor=redactor,
    )
    wall_ms = (time.perf_counter() - t0) * 1000
    venue.cancel_all()  # untimed: leave the book as we found it, so the next run has a spread to quote
    if writer is not None:
        writer.close()
    assert result.outcome == "completed", (result.outcome, result.halt_reason)
    assert result.orders.get("placed", 0) > 0, (result.orders, result.final_message, result.errors)
    tools_ms = sum(sum(v) for v in result.tool_latencies_ms.values())
    without_policy = wall_ms - sum(result.model_latencies_ms)
    return without_policy / result.steps, (without_policy - tools_ms) / result.steps


def _approve(draft: ApprovalDraft) -> str:
    return "bench-approval"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=300)
    parser.add_argument("--recorder", choices=["file", "memory"], default="file")
    parser.add_argument("--venue", choices=["paper", "fake"], default="paper")
    args = parser.parse_args()
    spec = AgentSpec(
        name="bench",
        hard=HardLimits(
            max_order_notional="10", max_daily_notional="1000000", max_open_positions=100, max_market_exposure="1000000"
        ),
        soft=SoftLimits(approval_notional="100", known_market_types=("crypto-hourly", "sports", "politics")),
    )
    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as stack:
        if args.venue == "paper":
            from paper_venue.testing import running_venue

            venue_for = make_paper_venue(stack.enter_context(running_venue(Path(tmp) / "venue")))
        else:
            venue_for = make_fake_venue()
        for i in range(20):  # warm-up: imports, regex compilation, first file creation
            one_run(100000 + i, venue_for(100000 + i), Path(tmp), spec, args.recorder)
        samples = [one_run(i, venue_for(i), Path(tmp), spec, args.recorder) for i in range(args.runs)]
    label = f"rules policy, {args.venue} venue, {args.recorder} recorder, {args.runs} runs"
    report(f"per step, excluding the policy ({label})", [s[0] for s in samples])
    report("per step, excluding the policy and the tools (loop overhead alone)", [s[1] for s in samples])


def report(label: str, values: list[float]) -> None:
    values = sorted(values)
    p95 = values[min(len(values) - 1, int(len(values) * 0.95))]
    print(f"{label}: median {statistics.median(values):.3f} ms, p95 {p95:.3f} ms, max {values[-1]:.3f} ms")


if __name__ == "__main__":
    main()
