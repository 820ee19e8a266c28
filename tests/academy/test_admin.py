"""Admin pages: staff get them, others don't; trace data is read-only."""

from __future__ import annotations

import pytest
from django.urls import reverse

from tests.factories import (
    ApprovalRequestFactory,
    HaltEventFactory,
    MetricSampleFactory,
    OrderFactory,
    TraceEventFactory,
)

pytestmark = pytest.mark.django_db

MODELS = [
    "agents_agentconfig", "agents_run", "agents_traceevent", "agents_order",
    "monitoring_metricsample", "monitoring_haltevent", "monitoring_killswitch", "approvals_approvalrequest",
]


@pytest.fixture
def rows():
    event = TraceEventFactory(data={"api": "result", "nested": {"price": "0.55"}})
    OrderFactory(agent=event.agent)
    ApprovalRequestFactory(run=event.run, agent=event.agent)
    MetricSampleFactory(agent=event.agent)
    HaltEventFactory()
    return event


@pytest.mark.parametrize("model", MODELS)
def test_it_serves_every_changelist_to_staff(client, operator, rows, model):
    client.force_login(operator)
    assert client.get(reverse(f"admin:{model}_changelist")).status_code == 200


@pytest.mark.parametrize("model", MODELS)
def test_it_keeps_non_staff_out(client, nobody, rows, model):
    client.force_login(nobody)
    response = client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_it_keeps_anonymous_users_out(client, rows):
    response = client.get(reverse("admin:agents_traceevent_changelist"))
    assert response.status_code == 302


def test_it_shows_trace_json_readably_and_links_the_run(client, operator, rows):
    client.force_login(operator)
    page = client.get(reverse("admin:agents_traceevent_change", args=[rows.pk])).content.decode()
    assert "&quot;price&quot;: &quot;0.55&quot;" in page  # indented, escaped JSON
    assert reverse("admin:agents_run_change", args=[rows.run_id]) in page
    assert 'name="_save"' not in page  # read-only: no save button


def test_it_links_a_run_to_its_events(client, operator, rows):
    client.force_login(operator)
    page = client.get(reverse("admin:agents_run_change", args=[rows.run_id])).content.decode()
    assert f"run__id__exact={rows.run_id}" in page


def test_it_filters_events_by_run_agent_and_kind(client, operator, rows):
    other = TraceEventFactory(kind="decision")
    client.force_login(operator)
    url = reverse("admin:agents_traceevent_changelist")
    page = client.get(url, {"agent__id__exact": rows.agent_id, "kind": "tool_call"}).content.decode()
    assert f"run {rows.run_id}<" in page and f"run {other.run_id}<" not in page


def test_it_refuses_to_edit_trace_events(client, operator, rows):
    client.force_login(operator)
    url = reverse("admin:agents_traceevent_change", args=[rows.pk])
    assert client.post(url, {"kind": "decision"}).status_code == 403
    assert client.post(reverse("admin:agents_traceevent_delete", args=[rows.pk])).status_code == 403


def test_it_counts_a_large_changelist_only_up_to_the_cap(client, operator, rows, django_assert_max_num_queries):
    from academy.admin_tools import CappedCountPaginator

    TraceEventFactory.create_batch(5, run=rows.run, agent=rows.agent)
    client.force_login(operator)
    CappedCountPaginator.cap = 3
    try:
        page = client.get(reverse("admin:agents_traceevent_changelist")).content.decode()
    finally:
        CappedCountPaginator.cap = 10_000
    assert "more than 3 trace events" in page


def test_it_searches_a_run_id_exactly(client, operator, rows):
    other = TraceEventFactory()
    client.force_login(operator)
    page = client.get(reverse("admin:agents_traceevent_changelist"), {"q": str(rows.run_id)}).content.decode()
    assert f"run {rows.run_id}<" in page and f"run {other.run_id}<" not in page


def test_it_searches_a_tool_name_prefix(client, operator, rows):
    other = TraceEventFactory(tool="cancel_all")
    client.force_login(operator)
    page = client.get(reverse("admin:agents_traceevent_changelist"), {"q": "cancel"}).content.decode()
    assert f"run {other.run_id}<" in page and f"run {rows.run_id}<" not in page
