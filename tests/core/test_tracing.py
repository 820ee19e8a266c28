"""Trace files: layout, permissions, event shape, and no secret ever reaches the disk."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from agents.core.policies import PolicyStep, ScriptedPolicy
from agents.core.redact import Redactor
from agents.core.tracing import EventKind, FileRecorder, TraceWriter

from .conftest import Harness, demo_spec
from .fakes import FakeClock, make_market

FAKE_KEY = "sk-test-FAKEFAKEFAKE0123456789abcdef"
ENV_SECRET = "venue-session-7f3a9c2e"  # no known key shape: only the env list catches it


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_it_writes_one_line_per_event_in_a_dated_private_file(tmp_path: Path) -> None:
    old = os.umask(0o000)  # a permissive umask must not widen the permissions
    try:
        with TraceWriter(traces_dir=tmp_path / "traces", run_id="r-1", clock=FakeClock(),
                         redactor=Redactor()) as w:
            w.write(EventKind.RUN_START, -1, {"a": 1})
            w.write(EventKind.DECISION, 0, {"action": "final"})
    finally:
        os.umask(old)
    path = tmp_path / "traces" / "2025-01-15" / "r-1.ndjson"
    assert w.path == path
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE((tmp_path / "traces").stat().st_mode) == 0o700
    events = lines(path)
    assert [(e["seq"], e["kind"], e["step"]) for e in events] == [(0, "run_start", -1), (1, "decision", 0)]
    assert set(events[0]) == {"ts", "run_id", "seq", "kind", "step", "data"}
    assert events[0]["ts"] == "2025-01-15T12:00:00+00:00" and events[0]["run_id"] == "r-1"


def test_it_tightens_an_existing_trace_file_to_0600(tmp_path: Path) -> None:
    day = tmp_path / "2025-01-15"
    day.mkdir()
    (day / "r-2.ndjson").write_text("")
    os.chmod(day / "r-2.ndjson", 0o644)
    TraceWriter(traces_dir=tmp_path, run_id="r-2", clock=FakeClock(), redactor=Redactor()).close()
    assert stat.S_IMODE((day / "r-2.ndjson").stat().st_mode) == 0o600


@pytest.mark.parametrize("bad", ["../escape", "a/b", "", ".hidden"])
def test_it_refuses_run_ids_that_are_not_file_names(tmp_path: Path, bad: str) -> None:
    with pytest.raises(ValueError):
        TraceWriter(traces_dir=tmp_path, run_id=bad, clock=FakeClock(), redactor=Redactor())


def test_it_never_writes_a_secret_from_the_env_or_tool_output(h: Harness, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ACADEMY_TEST_API_KEY", FAKE_KEY)
    monkeypatch.setenv("ACADEMY_VENUE_SESSION", ENV_SECRET)
    redactor = Redactor(["ACADEMY_TEST_API_KEY", "ACADEMY_VENUE_SESSION"])
    writer = TraceWriter(traces_dir=h.tmp / "traces", run_id="leak", clock=h.clock, redactor=redactor)
    rows: list[dict] = []
    h.recorder = FileRecorder(writer, also=rows.append)  # "also" stands for the DB row insert
    leaky = f"debug: key={FAKE_KEY} session={ENV_SECRET} Bearer {ENV_SECRET}"
    h.venue.add_market(*make_market("leaky", description=leaky))
    seen = []
    policy = ScriptedPolicy([[("get_market", {"slug": "leaky"})],
                             lambda ctx: seen.append(ctx) or PolicyStep(final=f"I saw {FAKE_KEY}")])
    result = h.run(demo_spec(), policy, run_id="leak", redactor=redactor)
    writer.close()
    text = writer.path.read_text()
    assert "[REDACTED:env]" in text
    # A model that writes a configured secret is suspicious output: the desk halts, naming the variable.
    assert result.outcome == "kill_switch" and "ACADEMY_TEST_API_KEY" in result.halt_reason
    for secret in (FAKE_KEY, ENV_SECRET, "FAKEFAKEFAKE"):
        assert secret not in text and secret not in json.dumps(rows)
        assert secret not in seen[0].messages[-1].content  # nor was it shown to the model
    assert [e["kind"] for e in lines(writer.path)] == [r["kind"] for r in rows]


def test_it_sets_an_older_file_of_the_same_run_id_aside_instead_of_mixing_runs(tmp_path):
    from agents.core.ports import SystemClock
    from agents.core.redact import Redactor
    from agents.core.tracing import TraceWriter

    first = TraceWriter(traces_dir=tmp_path, run_id="7", clock=SystemClock(), redactor=Redactor())
    first.write("run_start", -1, {"n": 1})
    first.close()
    second = TraceWriter(traces_dir=tmp_path, run_id="7", clock=SystemClock(), redactor=Redactor())
    second.write("run_start", -1, {"n": 2})
    second.close()
    assert second.path.read_text().count("\n") == 1 and '"n":2' in second.path.read_text()
    kept = list(second.path.parent.glob("7.superseded-*.ndjson"))
    assert len(kept) == 1 and '"n":1' in kept[0].read_text()


def test_a_trace_line_holding_unicode_line_separators_reads_back_as_one_event(tmp_path):
    import json

    from agents.core.replay import load_events, trace_lines

    text = "odd model text\u2028with\u0085separators\u2029inside"
    lines = [json.dumps({"seq": 0, "data": {"text": text}}, ensure_ascii=False),
             json.dumps({"seq": 1, "data": {}}, ensure_ascii=False)]
    written = "\n".join(lines) + "\n"
    events = load_events(trace_lines(written))
    assert [e["seq"] for e in events] == [0, 1] and events[0]["data"]["text"] == text


def test_a_line_is_compact_utf8_json_even_for_what_orjson_refuses(tmp_path: Path) -> None:
    """Lines are encoded by orjson; an int beyond 64 bits goes through json.dumps instead, and a NaN is
    written null (valid JSON, which PostgreSQL's jsonb takes): the line and the row's JSON agree."""
    with TraceWriter(traces_dir=tmp_path, run_id="r-3", clock=FakeClock(), redactor=Redactor()) as writer:
        _, plain = writer.write_encoded(EventKind.DECISION, 0, {"text": "prix 0.42 €\u2028fin", "n": 7})
        _, big = writer.write_encoded(EventKind.DECISION, 1, {"big": 2**70})
        _, nan = writer.write_encoded(EventKind.DECISION, 2, {"x": float("nan"), "y": 1.5})
    raw = writer.path.read_bytes()
    assert raw.count(b"\n") == 3 and "€\u2028".encode() in raw  # raw UTF-8, no \\u escapes
    assert b", " not in raw and b": " not in raw  # compact
    events = [json.loads(line) for line in raw.split(b"\n")[:-1]]
    expected = [{"text": "prix 0.42 €\u2028fin", "n": 7}, {"big": 2**70}, {"x": None, "y": 1.5}]
    assert [e["data"] for e in events] == expected
    assert [json.loads(j) for j in (plain, big, nan)] == [e["data"] for e in events]
