"""The snapshot and who sees what in it: a feed consistent with last_id, approvals only for the queue's users."""

from __future__ import annotations

import json

import pytest
from django.contrib.auth.models import Permission
from django.urls import reverse

from monitoring import panel
from monitoring.outbox import outbox_publish
from tests.factories import ApprovalRequestFactory

pytestmark = pytest.mark.django_db


def test_it_caps_the_feed_at_the_last_id_it_reports(monkeypatch):
    """An event committed between the snapshot's two reads must be either in the feed or above last_id,
    else the next ?last_id catch-up skips it and the panel never shows it."""
    first = outbox_publish("halt", {"reason": "before"})
    committed: list[int] = []

    def commit_once_after(fn):
        def wrapped(*args, **kwargs):
            result = fn(*args, **kwargs)
            if not committed:  # right after the snapshot's FIRST read, whichever that is
                committed.append(outbox_publish("resume", {"reason": "in between"}).pk)
            return result
        return wrapped

    monkeypatch.setattr(panel, "last_event_id", commit_once_after(panel.last_event_id))
    monkeypatch.setattr(panel, "event_json", commit_once_after(panel.event_json))
    snap = panel.snapshot()
    feed_ids = [e["id"] for e in snap["feed"]]
    assert committed, "the hook did not run"
    assert snap["last_id"] >= first.pk
    assert all(i <= snap["last_id"] for i in feed_ids)
    # Complete up to last_id: every feed event at or below it is in the feed; the one in between is not lost.
    assert (committed[0] in feed_ids) == (committed[0] <= snap["last_id"])
    assert first.pk in feed_ids


@pytest.fixture
def pending():
    return ApprovalRequestFactory(market="secret-market")


def _grant(user, codename: str):
    user.user_permissions.add(Permission.objects.get(codename=codename))
    return type(user).objects.get(pk=user.pk)


def test_it_strips_approvals_from_state_json_without_queue_access(client, nobody, pending):
    client.force_login(nobody)
    assert client.get(reverse("approvals:queue")).status_code == 403  # the queue refuses them...
    response = client.get(reverse("monitoring:panel_state"))
    assert response.status_code == 200
    assert "approvals" not in response.json()["snapshot"]  # ...so the panel must not show it either
    assert "secret-market" not in response.content.decode()


@pytest.mark.parametrize("codename", ["approve_trade", "view_approvalrequest"])
def test_it_shows_approvals_in_state_json_to_queue_users(client, nobody, pending, codename):
    client.force_login(_grant(nobody, codename))
    snap = client.get(reverse("monitoring:panel_state")).json()["snapshot"]
    assert [a["market"] for a in snap["approvals"]] == ["secret-market"]


def test_it_strips_approvals_from_the_page_without_queue_access(client, nobody, pending):
    client.force_login(nobody)
    html = client.get(reverse("monitoring:panel")).content.decode()
    assert "secret-market" not in html
    assert 'id="approvals"' not in html and "Pending approvals" not in html
    embedded = json.loads(html.split('id="panel-snapshot" type="application/json">')[1].split("</script>")[0])
    assert "approvals" not in embedded


def test_it_shows_approvals_on_the_page_to_an_approver(client, approver, pending):
    client.force_login(approver)
    html = client.get(reverse("monitoring:panel")).content.decode()
    assert 'id="approvals"' in html and "secret-market" in html
