"""The daily trace-replay audit: same model, mocked tools, decisions compared, replay-report.md."""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from agents.core.policies import RulesPolicy, ScriptedPolicy
from agents.core.policies.rules import RulesParams
from agents.core.replay import NotReplayable, load_events, replay_run
from agents.replay import replay_audit
from agents.services import run_agent
from monitoring.models import Alert
from tests.factories import AgentConfigFactory, RunFactory

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def own_data_dir(settings, tmp_path):
    """The audit reads a whole day of traces: give each test a day of its own."""
    settings.DATA_DIR = tmp_path


@pytest.fixture
def traded(make_trader):
    """One real rules-policy run against the paper venue, traced today."""
    agent = AgentConfigFactory(known_market_types=["crypto-hourly", "sports", "politics"])
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=RulesPolicy())
    assert run.status == "completed" and run.tool_calls > 0
    return run


def test_it_replays_a_day_with_no_drift_when_nothing_changed(traded):
    report = replay_audit(day=timezone.now().date())
    [result] = [r for r in report.results if r.run_id == str(traded.pk)]
    assert result.steps == traded.steps and result.matched == result.steps and result.drift == 0
    text = report.path.read_text()
    assert report.path.name == "replay-report.md" and f"| {traded.pk} |" in text and "drifted decisions: **0**" in text


def test_it_catches_a_silent_strategy_change(traded):
    changed = lambda spec: RulesPolicy(RulesParams(max_markets=1))  # noqa: E731  (looks at fewer markets)
    report = replay_audit(day=timezone.now().date(), make_policy=changed)
    [result] = [r for r in report.results if r.run_id == str(traded.pk)]
    assert result.drift >= 1 and result.diffs[0].recorded["action"] == "tool_calls"
    assert f"## Run {traded.pk}" in report.path.read_text()
    assert Alert.objects.filter(key=f"replay_drift:{timezone.now().date()}", state="firing").exists()


def test_it_fails_the_command_on_drift_and_names_the_report(traded, monkeypatch):
    monkeypatch.setattr("agents.replay.default_policy", lambda spec: RulesPolicy(RulesParams(max_markets=1)))
    with pytest.raises(CommandError, match="drift"):
        call_command("replay_audit", date=timezone.now().date().isoformat(), stdout=StringIO())


def test_it_passes_the_command_when_decisions_match(traded):
    out = StringIO()
    call_command("replay_audit", date=timezone.now().date().isoformat(), stdout=out)
    assert "0 drifted decisions" in out.getvalue() and "replay-report.md" in out.getvalue()


def test_it_refuses_a_bad_date():
    with pytest.raises(CommandError, match="--date"):
        call_command("replay_audit", date="yesterday-ish", stdout=StringIO())


def test_it_does_not_replay_a_scripted_run_and_says_why(make_trader, market):
    agent = AgentConfigFactory(known_market_types=["test"], policy_kind="scripted", model_version="scripted-v1")
    run = run_agent(agent_id=agent.pk, venue=make_trader(), policy=ScriptedPolicy([[("get_balance", {})], "done"]))
    with open(run.trace_path) as f:
        events = load_events(f)
    with pytest.raises(NotReplayable, match="scripted"):
        replay_run(events, lambda spec: RulesPolicy())
    report = replay_audit(day=timezone.now().date())
    assert any("scripted" in why for why in report.skipped.values())


def test_it_treats_a_corrupt_trace_line_as_unreplayable():
    with pytest.raises(NotReplayable, match="line 2"):
        load_events(['{"kind": "run_start"}', "{not json"])


def test_it_lists_runs_in_numeric_order_not_as_text(traded, settings):
    from datetime import date

    from agents.core.replay import run_order
    from agents.services import traces_dir

    day = traces_dir() / "2020-01-02"
    day.mkdir(parents=True)
    events = load_events(open(traded.trace_path).read().split("\n"))
    for run_id in (2, 10, 1, 11):  # the same run filed under four ids
        (day / f"{run_id}.ndjson").write_text("\n".join(json.dumps({**e, "run_id": run_id}) for e in events) + "\n")
    report = replay_audit(day=date(2020, 1, 2))
    assert [r.run_id for r in report.results] == ["1", "2", "10", "11"]
    text = report.path.read_text()
    assert text.index("| 1 |") < text.index("| 2 |") < text.index("| 10 |") < text.index("| 11 |")
    assert sorted(["10.ndjson", "9.superseded-5.ndjson", "9.ndjson"], key=run_order) == [
        "9.ndjson", "9.superseded-5.ndjson", "10.ndjson"]


def test_it_says_which_day_it_read_and_that_no_run_was_ever_recorded():
    out = StringIO()
    call_command("replay_audit", stdout=out)
    yesterday = (timezone.now() - timedelta(days=1)).date().isoformat()
    assert f"Replay audit of {yesterday} (UTC; yesterday, the default; another day: --date YYYY-MM-DD)" \
        in out.getvalue()
    assert "no run has been recorded on this system yet" in out.getvalue()


def test_it_says_when_the_newest_run_was_and_how_to_replay_its_day():
    run = RunFactory(started_at=timezone.now())
    out = StringIO()
    call_command("replay_audit", stdout=out)
    today = timezone.now().date().isoformat()
    assert f"no run started on {(timezone.now() - timedelta(days=1)).date().isoformat()} (UTC)" in out.getvalue()
    assert f"The newest run, {run.pk}, started {today}" in out.getvalue()
    assert f"--date {today}" in out.getvalue()


def test_it_says_when_runs_of_that_day_have_no_trace_file():
    RunFactory(started_at=timezone.now())
    out = StringIO()
    call_command("replay_audit", date=timezone.now().date().isoformat(), stdout=out)
    assert "1 run started on" in out.getvalue() and "no trace file of theirs" in out.getvalue()
