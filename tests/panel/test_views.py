"""Panel and operator pages: who may see and do what, halt/resume through the views, the editors."""

from __future__ import annotations

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse
from django.utils import timezone

from agents.models import AgentConfig, AgentSchedule, DeskOverride
from agents.overrides import desk_override_text, override_write
from agents.schedules import schedules_sync
from monitoring import panel
from monitoring.halt import halt, kill_switch_state
from monitoring.models import HaltEvent, KillSwitch, OutboxEvent
from tests.factories import AgentConfigFactory, MetricSampleFactory, RunFactory, TraceEventFactory

pytestmark = pytest.mark.django_db
FETCH = {"HTTP_X_PANEL_FETCH": "1"}


def _grant(user, *codenames: str):
    for codename in codenames:
        user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)  # a fresh object: the permission cache is per instance


@pytest.mark.parametrize("name,args", [("monitoring:panel", []), ("monitoring:panel_state", []),
                                       ("agents:run", [1]), ("agents:agent", ["a"]), ("agents:override", [])])
def test_it_sends_anonymous_users_to_the_login_page(client, name, args):
    response = client.get(reverse(name, args=args))
    assert response.status_code == 302
    assert response["Location"].startswith("/accounts/login/")


def test_it_shows_the_panel_read_only_without_the_permission(client, nobody):
    client.force_login(nobody)
    response = client.get(reverse("monitoring:panel"))
    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="read-only"' in html
    assert 'id="halt-form"' not in html and 'id="resume-form"' not in html
    assert 'data-can-toggle="0"' in html


def test_it_shows_the_buttons_to_an_operator(client, operator):
    AgentConfigFactory(name="alpha")
    client.force_login(operator)
    html = client.get(reverse("monitoring:panel")).content.decode()
    assert 'id="halt-form"' in html and 'id="resume-form"' in html
    assert 'id="panel-snapshot"' in html and '"name": "alpha"' in html


@pytest.mark.parametrize("url", ["monitoring:panel_halt", "monitoring:panel_resume"])
def test_it_refuses_halt_and_resume_without_the_permission(client, approver, url):
    client.force_login(approver)
    response = client.post(reverse(url), {"reason": "let me"}, **FETCH)
    assert response.status_code == 403
    assert kill_switch_state()["state"] == "running"
    assert not HaltEvent.objects.exists()


def test_it_needs_a_reason_to_halt(client, operator):
    client.force_login(operator)
    response = client.post(reverse("monitoring:panel_halt"), {"reason": "  "}, **FETCH)
    assert response.status_code == 400
    assert response.json() == {"ok": False, "message": "A halt needs a reason."}
    assert kill_switch_state()["state"] == "running"


def test_it_halts_from_the_panel(client, operator, panel_venue):
    client.force_login(operator)
    response = client.post(reverse("monitoring:panel_halt"), {"reason": "odd fills"}, **FETCH)
    assert response.status_code == 200, response.content
    assert response.json()["ok"] is True
    row = KillSwitch.objects.get(pk=1)
    assert (row.active, row.reason, row.source) == (True, "odd fills", "panel")
    event = HaltEvent.objects.get()
    assert (event.action, event.source, event.actor, event.errors) == ("halt", "panel", operator, [])
    assert OutboxEvent.objects.filter(kind="halt", payload__reason="odd fills").exists()


def test_it_halts_without_javascript_and_redirects_back(client, operator, panel_venue):
    client.force_login(operator)
    response = client.post(reverse("monitoring:panel_halt"), {"reason": "no js"}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("monitoring:panel")
    assert "Trading HALTED." in response.content.decode()


def test_it_resumes_with_a_reason(client, operator, make_trader):
    halt(reason="test", source="command", venue=make_trader())
    client.force_login(operator)
    assert client.post(reverse("monitoring:panel_resume"), {"reason": ""}, **FETCH).status_code == 400
    response = client.post(reverse("monitoring:panel_resume"), {"reason": "fills explained"}, **FETCH)
    assert response.status_code == 200, response.content
    assert kill_switch_state()["state"] == "running"
    resumed = HaltEvent.objects.filter(action="resume").get()
    assert (resumed.source, resumed.actor, resumed.reason) == ("panel", operator, "fills explained")


def test_it_shows_why_a_resume_is_refused_while_a_hold_is_in_force(client, operator, make_trader):
    halt(reason="daily loss", source="daily_loss", venue=make_trader(), hold_until=timezone.now() + timedelta(hours=2))
    client.force_login(operator)
    response = client.post(reverse("monitoring:panel_resume"), {"reason": "try"}, **FETCH)
    assert response.status_code == 409
    assert response.json()["message"].startswith("Resume refused: a hold is in force until")
    assert kill_switch_state()["state"] == "halted"
    assert HaltEvent.objects.filter(action="refused").exists()


def test_it_serves_the_snapshot_as_json(client, nobody, make_trader):
    agent = AgentConfigFactory(name="beta")
    RunFactory(agent=agent, status="budget_tokens", ended_at=timezone.now())
    client.force_login(nobody)
    data = client.get(reverse("monitoring:panel_state")).json()
    assert data["can_toggle"] is False
    assert data["snapshot"]["agents"][0]["status"] == "budget-stopped"
    halt(reason="x", source="command", venue=make_trader())
    data = client.get(reverse("monitoring:panel_state")).json()
    assert data["snapshot"]["agents"][0]["status"] == "halted"
    assert [e["kind"] for e in data["snapshot"]["feed"] if e["kind"] != "alert"][-1] == "halt"  # and its page


@pytest.mark.parametrize("halted,last,expected", [
    (False, None, "idle"), (False, "completed", "idle"), (False, "running", "running"),
    (False, "budget_cost", "budget-stopped"), (False, "max_steps", "budget-stopped"), (True, "running", "halted"),
])
def test_it_derives_the_agent_status(halted, last, expected):
    assert panel.agent_status(halted=halted, last_status=last) == expected


# --- run viewer ---------------------------------------------------------------------------------


def _trace(run):
    events = [
        ("run_start", -1, "", {"agent": run.agent.name, "policy": "rules", "model": "rules-v1", "spec": {}}),
        ("model_response", 0, "", {"text": "I should check the book first.", "tool_calls": [
            {"id": "c1", "name": "get_orderbook", "arguments": {"market": "btc-100k"}}], "usage": {}}),
        ("tool_call", 0, "get_orderbook", {"name": "get_orderbook", "arguments": {"market": "btc-100k"}}),
        ("tool_result", 0, "get_orderbook", {"tool": "get_orderbook", "ok": True,
                                             "result": {"bids": [["0.41", "10"]]}}),
        ("refusal", 1, "", {"what": "order", "reason": "over max_order_notional", "client_order_id": "ac-1"}),
        ("approval_requested", 1, "", {"approval_id": 9, "reasons": ["oversize"], "request": {"size": "50"}}),
        ("order_placed", 1, "", {"dry_run": False, "order": {"side": "BUY", "size": "5", "market": "btc-100k",
                                                           "price": "0.41"}}),
        ("budget_stop", 2, "", {"reason": "tokens budget exhausted: 51000 of 50000"}),
        ("run_end", 2, "", {"outcome": "budget_tokens", "steps": 3}),
    ]
    for seq, (kind, step, tool, data) in enumerate(events):
        TraceEventFactory(run=run, seq=seq, kind=kind, step=step, tool=tool, data=data)


def test_it_shows_a_run_as_a_timeline_to_someone_who_did_not_write_the_agent(client, django_user_model):
    author = django_user_model.objects.create_user("author", password="x")
    run = RunFactory(agent=AgentConfigFactory(owner=author), status="budget_tokens")
    _trace(run)
    reader = _grant(django_user_model.objects.create_user("reader", password="x"), "view_run")
    client.force_login(reader)
    html = client.get(reverse("agents:run", args=[run.pk])).content.decode()
    assert "<summary>Reasoning (the model&#x27;s text)</summary><pre>I should check the book first.</pre>" in html
    for text in ("Tool call: get_orderbook", "&quot;market&quot;: &quot;btc-100k&quot;", "Result of get_orderbook: ok",
                 "Order refused: over max_order_notional", "Sent for human approval (#9): oversize",
                 "Order placed: BUY 5", "Budget stop: tokens budget exhausted", "Run ended: budget_tokens"):
        assert text in html, text


def test_it_hides_runs_from_users_without_the_view_permission(client, nobody):
    client.force_login(nobody)
    assert client.get(reverse("agents:run", args=[RunFactory().pk])).status_code == 403


# --- agent page, override editor, enable/disable ------------------------------------------------


def test_it_shows_the_agent_page_with_charts(client, operator):
    agent = AgentConfigFactory(name="gamma")
    now = timezone.now()
    for i in range(5):
        MetricSampleFactory(agent=agent, name="cost_per_run", value=Decimal("0.01") * i, ts=now - timedelta(hours=i))
    RunFactory(agent=agent)
    client.force_login(operator)
    html = client.get(reverse("agents:agent", args=["gamma"])).content.decode()
    # Drawn in the browser from metrics.json (tests/panel/test_charts_data.py, test_charts_browser.py).
    assert 'data-charts="agent" data-url="/agents/gamma/metrics.json?hours=24"' in html
    assert [c["samples"] for c in client.get("/agents/gamma/metrics.json").json()["charts"]] == [5, 0, 0, 0, 0]
    assert 'id="override-form"' in html and 'id="toggle-enabled"' in html


def test_it_refuses_a_bad_override_and_leaves_the_desk_override_untouched(client, operator):
    override_write(text='{"pause": false}\n', actor=operator)
    client.force_login(operator)
    response = client.post(reverse("agents:override"), {"document": '{"pause": "yes", "limits": {}}'})
    assert response.status_code == 400
    assert "pause: Input should be a valid boolean" in response.content.decode()
    assert desk_override_text() == '{"pause": false}\n'
    response = client.post(reverse("agents:override"), {"document": '{"pause": false, "colour": "red"}'})
    assert response.status_code == 400 and "colour: Extra inputs are not permitted" in response.content.decode()
    assert client.post(reverse("agents:override"), {"document": "{nope"}).status_code == 400
    assert DeskOverride.objects.count() == 1 and desk_override_text() == '{"pause": false}\n'


def test_it_saves_a_valid_override_as_the_desks_new_one_and_keeps_the_old(client, operator, data_dir):
    client.force_login(operator)
    doc = {"pause": True, "limits": {"max_order_notional": "5"}, "note": "fomc"}
    response = client.post(reverse("agents:override"), {"document": json.dumps(doc), "next": "/agents/gamma/",
                                                         "based_on": ""})
    assert response.status_code == 302 and response["Location"] == "/agents/gamma/"
    assert json.loads(desk_override_text()) == doc
    assert list(data_dir.iterdir()) == []  # the app never writes this host's override.json
    assert OutboxEvent.objects.filter(kind="override", payload__pause=True).exists()
    assert panel.override_snapshot() == {"pause": True, "note": "fomc", "error": ""}
    client.post(reverse("agents:override"), {"document": '{"pause": false}',
                                             "based_on": str(DeskOverride.objects.latest("pk").pk)})
    history = list(DeskOverride.objects.order_by("id").values_list("pause", "actor_name"))
    assert history == [(True, operator.username), (False, operator.username)]  # the audit trail
    html = client.get(reverse("agents:override")).content.decode()
    assert f"saved by {operator.username}" in html


def test_it_shows_this_hosts_override_file_beside_the_desks(client, operator, data_dir):
    (data_dir / "override.json").write_text('{"limits": {"max_order_notional": "2"}, "note": "host b"}')
    client.force_login(operator)
    html = client.get(reverse("agents:override")).content.decode()
    assert 'id="local-override"' in html and "host b" in html
    assert panel.override_snapshot() == {"pause": False, "note": "host b", "error": ""}


def test_it_refuses_an_override_from_a_user_without_the_kill_switch_permission(client, django_user_model, data_dir):
    viewer = _grant(django_user_model.objects.create_user("viewer", password="x"), "view_agentconfig")
    client.force_login(viewer)
    assert client.get(reverse("agents:override")).status_code == 200
    assert client.post(reverse("agents:override"), {"document": '{"pause": true}'}).status_code == 403
    assert not DeskOverride.objects.exists()


def test_it_disables_and_enables_an_agent_and_its_schedule(client, operator):
    agent = AgentConfigFactory(name="delta", enabled=True)
    schedules_sync()
    assert AgentSchedule.objects.filter(agent=agent).exists()
    client.force_login(operator)
    url = reverse("agents:agent_enabled", args=["delta"])
    assert client.post(url, {"enabled": "0"}).status_code == 302
    assert AgentConfig.objects.get(pk=agent.pk).enabled is False
    assert not AgentSchedule.objects.filter(agent=agent).exists()
    client.post(url, {"enabled": "1"})
    assert AgentConfig.objects.get(pk=agent.pk).enabled is True
    assert AgentSchedule.objects.filter(agent=agent).exists()


def test_it_refuses_enable_disable_without_the_change_permission(client, approver):
    AgentConfigFactory(name="epsilon", enabled=True)
    client.force_login(approver)
    assert client.post(reverse("agents:agent_enabled", args=["epsilon"]), {"enabled": "0"}).status_code == 403
    assert AgentConfig.objects.get(name="epsilon").enabled is True
