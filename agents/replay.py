"""The daily trace-replay audit (reference card 04): yesterday's traces, replayed, into replay-report.md.

1. read $ACADEMY_DATA_DIR/state/traces/<day>/*.ndjson;
2. for each run: replay against the same model (frozen version, temperature, seed) with the tools
   mocked by the recorded results, and compare every decision;
3. write $ACADEMY_DATA_DIR/state/replay/<day>/replay-report.md; any drift pages.
Catches model-version drift, prompt regressions and silent strategy breakage.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

from django.utils import timezone

from agents.core.policies.base import Policy
from agents.core.replay import (
    NotReplayable,
    PolicyFactory,
    ReplayResult,
    load_events,
    replay_run,
    run_order,
    trace_lines,
)
from agents.core.spec import AgentSpec

log = logging.getLogger("academy.replay")


@dataclass
class AuditReport:
    day: date
    path: Path
    results: list[ReplayResult]
    skipped: dict[str, str]

    @property
    def drift(self) -> int:
        return sum(r.drift for r in self.results)


def default_policy(spec: AgentSpec) -> Policy:
    from agents.services import policy_for

    return policy_for(spec)


def replay_audit(*, day: date | None = None, make_policy: PolicyFactory | None = None) -> AuditReport:
    """Replay every run traced on `day` (default: yesterday, UTC) and write the report; page on drift."""
    from agents.services import state_dir, traces_dir

    day = day or (timezone.now().date() - timedelta(days=1))
    results, skipped = [], {}
    for trace in sorted((traces_dir() / day.isoformat()).glob("*.ndjson"), key=lambda t: run_order(t.name)):
        try:
            results.append(replay_run(load_events(trace_lines(trace.read_text())), make_policy or default_policy))
        except (NotReplayable, ValueError, KeyError) as exc:
            skipped[trace.name] = str(exc)
    out = state_dir() / "replay" / day.isoformat() / "replay-report.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    report = AuditReport(day=day, path=out, results=results, skipped=skipped)
    out.write_text(render(report))
    _page(report)
    return report


def _page(report: AuditReport) -> None:
    from monitoring.alerts import alert_fire, alert_resolve

    key = f"replay_drift:{report.day.isoformat()}"
    if report.drift:
        runs = [r.run_id for r in report.results if r.drift]
        alert_fire(key=key, title=f"Replay audit {report.day}: {report.drift} drifted decision(s) in runs {runs}",
                   severity="error", details={"report": str(report.path), "runs": runs})
    else:
        alert_resolve(key=key)


def render(report: AuditReport) -> str:
    """The report: a summary line, one row per run, then each drifted step in full."""
    lines = [f"# Replay audit {report.day.isoformat()}", "",
             f"Runs replayed: {len(report.results)}; skipped: {len(report.skipped)}; "
             f"drifted decisions: **{report.drift}**", "",
             "| run | agent | policy | model | steps | matched | drift |", "|---|---|---|---|---|---|---|"]
    lines += [f"| {r.run_id} | {r.agent} | {r.policy} | {r.model} | {r.steps} | {r.matched} | {r.drift} |"
              for r in report.results]
    for r in (r for r in report.results if r.drift):
        lines += ["", f"## Run {r.run_id} ({r.agent})"]
        lines += [f"- replay failed: {r.error}"] if r.error else []
        lines += [f"- step {d.step}: recorded `{d.recorded}`, now `{d.replayed}`" for d in r.diffs]
    if report.skipped:
        lines += ["", "## Not replayed", *[f"- {name}: {why}" for name, why in report.skipped.items()]]
    return "\n".join(lines) + "\n"
