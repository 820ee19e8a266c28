"""The Telegram bot against a local Bot API peer (real HTTP, Telegram's JSON): every command, the
allowlist and permissions, the confirm step, a double tap, a redelivered update, an API outage."""

from __future__ import annotations

import logging

import httpx
import pytest

from agents.models import DeskOverride
from agents.overrides import desk_override_current
from approvals.models import ApprovalDecision
from chatops.models import ChatAudit, ChatOperator, ChatState, Outcome
from chatops.telegram import ChatApiError, TelegramApi, TelegramBot, chat_state
from monitoring.alerts import alert_fire
from monitoring.halt import halt, kill_switch_state
from monitoring.models import HaltEvent
from tests.factories import AgentConfigFactory, ApprovalRequestFactory

from .conftest import APPROVER, NOBODY, OPERATOR, SECOND, STRANGER, TOKEN
from .fakebot import FakeBotApi


def said(fake: FakeBotApi, chat: int) -> str:
    return fake.texts(chat)[-1]


@pytest.mark.django_db
def test_a_stranger_is_refused_and_the_refusal_is_audited(fake, bot, desk) -> None:
    fake.message(STRANGER, "/kill I am not on the list", username="mallory")
    bot.poll_once()
    assert "not on this desk's allowlist" in said(fake, STRANGER) and str(STRANGER) in said(fake, STRANGER)
    assert not kill_switch_state()["halted"]
    audit = ChatAudit.objects.get(external_id=str(STRANGER))
    assert (audit.command, audit.outcome, audit.handle, audit.user) == ("kill", Outcome.REFUSED, "mallory", None)


@pytest.mark.django_db
def test_a_user_without_the_permission_cannot_halt_and_is_audited(fake, bot, desk) -> None:
    fake.message(APPROVER, "/kill looks wrong")
    bot.poll_once()
    assert "needs the toggle_kill_switch permission" in said(fake, APPROVER)
    assert fake.buttons(APPROVER) == []  # no confirm button offered either
    assert not kill_switch_state()["halted"]
    audit = ChatAudit.objects.get(external_id=str(APPROVER))
    assert (audit.outcome, audit.user) == (Outcome.REFUSED, desk[APPROVER])


@pytest.mark.django_db
def test_kill_asks_to_confirm_then_halts_once_through_the_one_halt_path(fake, bot, desk) -> None:
    fake.message(OPERATOR, "/kill@AcademyBot venue is quoting garbage")
    bot.poll_once()
    assert "Halt ALL trading?" in said(fake, OPERATOR) and not kill_switch_state()["halted"]
    confirm, cancel = fake.buttons(OPERATOR)
    assert confirm.startswith("kill:") and cancel.startswith("nokill:")
    fake.press(OPERATOR, confirm)
    fake.press(OPERATOR, confirm)  # a double tap
    bot.poll_once()
    state = kill_switch_state()
    assert state["halted"] and state["reason"] == "venue is quoting garbage" and state["source"] == "chat"
    event = HaltEvent.objects.get(action=HaltEvent.Action.HALT)  # exactly one halt
    assert event.actor == desk[OPERATOR] and event.source == "chat"
    texts = fake.texts(OPERATOR)
    assert texts[-2].startswith("HALTED by operator") and "already confirmed" in texts[-1]
    assert [a["text"] for a in fake.answered] == ["Halted", "Refused"]


@pytest.mark.django_db
def test_a_confirm_button_works_only_for_who_asked_and_cancel_does_nothing(fake, bot, desk, django_user_model) -> None:
    other = django_user_model.objects.create_superuser(username="other", password="pw")
    ChatOperator.objects.create(external_id="555", user=other)
    fake.message(OPERATOR, "/kill spread blew out")
    bot.poll_once()
    confirm, cancel = fake.buttons(OPERATOR)
    fake.press(555, confirm, chat_id=OPERATOR)
    bot.poll_once()
    assert "not yours to press" in said(fake, OPERATOR) and not kill_switch_state()["halted"]
    fake.press(OPERATOR, cancel)
    fake.press(OPERATOR, confirm)  # after a cancel the confirm is spent
    bot.poll_once()
    assert not kill_switch_state()["halted"]
    assert fake.texts(OPERATOR)[-2] == "Halt cancelled: nothing was done."


@pytest.mark.django_db
def test_kill_without_a_reason_is_refused(fake, bot, desk) -> None:
    fake.message(OPERATOR, "/kill")
    bot.poll_once()
    assert "say why: /kill <reason>" in said(fake, OPERATOR) and fake.buttons(OPERATOR) == []


@pytest.mark.django_db
def test_resume_goes_through_resume_and_says_why_when_refused(fake, bot, desk) -> None:
    halt(reason="drill", source="command", actor=desk[OPERATOR])
    fake.message(OPERATOR, "/resume")
    bot.poll_once()
    assert "say why" in said(fake, OPERATOR) and kill_switch_state()["halted"]
    fake.message(OPERATOR, "/resume drill over")
    bot.poll_once()
    assert said(fake, OPERATOR) == "Resumed by operator: drill over" and not kill_switch_state()["halted"]
    assert HaltEvent.objects.filter(action=HaltEvent.Action.RESUME, source="chat", actor=desk[OPERATOR]).exists()


@pytest.mark.django_db
def test_pause_and_unpause_an_agent_and_the_desk_through_the_override_service(fake, bot, desk) -> None:
    AgentConfigFactory(name="alpha")
    fake.message(OPERATOR, "/pause alpha odd fills")
    fake.message(OPERATOR, "/pause ghost")
    bot.poll_once()
    assert list(desk_override_current().pause_agents) == ["alpha"]
    assert fake.texts(OPERATOR)[-2] == "agent alpha: paused." and "no agent 'ghost'" in said(fake, OPERATOR)
    fake.message(OPERATOR, "/unpause alpha")
    fake.message(OPERATOR, "/pause all")
    bot.poll_once()
    current = desk_override_current()
    assert list(current.pause_agents) == [] and current.pause is True
    assert DeskOverride.objects.latest("pk").actor == desk[OPERATOR]
    fake.message(APPROVER, "/unpause all")
    bot.poll_once()
    assert "toggle_kill_switch" in said(fake, APPROVER) and desk_override_current().pause is True


@pytest.mark.django_db
def test_a_malformed_override_is_refused_and_nothing_is_saved(fake, bot, desk) -> None:
    fake.message(OPERATOR, '/override {"pause": tru')
    fake.message(OPERATOR, '/override {"pause": true, "max_daily_notional": "lots"}')
    bot.poll_once()
    first, second = fake.texts(OPERATOR)
    assert first.startswith("Refused: override not saved:") and second.startswith("Refused: override not saved:")
    assert not DeskOverride.objects.exists()
    fake.message(OPERATOR, '/override {"pause": true}')
    bot.poll_once()
    assert said(fake, OPERATOR).startswith("Override saved") and desk_override_current().pause is True


@pytest.mark.django_db
def test_an_override_that_would_lift_a_pause_in_force_is_refused_and_one_that_keeps_it_is_saved(
        fake, bot, desk) -> None:
    AgentConfigFactory(name="alpha")
    fake.message(OPERATOR, "/pause alpha checking")
    bot.poll_once()
    rows = DeskOverride.objects.count()
    fake.message(OPERATOR, '/override {"pause": false, "note": "tighter limits"}')
    bot.poll_once()
    assert said(fake, OPERATOR) == ('Refused: override not saved: it would lift the pause on alpha. Keep them in it '
                                    '("pause": true / "pause_agents"), or /unpause first.')
    assert DeskOverride.objects.count() == rows and desk_override_current().pause_agents == ("alpha",)
    fake.message(OPERATOR, '/override {"pause_agents": ["alpha"], "note": "tighter limits"}')
    bot.poll_once()
    assert said(fake, OPERATOR).startswith("Override saved") and desk_override_current().note == "tighter limits"


@pytest.mark.django_db
def test_approvals_list_and_a_double_tapped_approve_records_one_decision(fake, bot, desk) -> None:
    request = ApprovalRequestFactory(required_approvals=2)
    fake.message(APPROVER, "/approvals")
    bot.poll_once()
    assert f"#{request.pk} {request.agent.name}: BUY 50.000 0.550" in said(fake, APPROVER)
    approve = f"ap:{request.pk}:approve"
    assert approve in fake.buttons(APPROVER)
    fake.press(APPROVER, approve)
    fake.press(APPROVER, approve)  # the double tap
    bot.poll_once()
    assert ApprovalDecision.objects.filter(request=request).count() == 1
    texts = fake.texts(APPROVER)
    assert "your approve is recorded; it is now pending" in texts[-2] and "already voted" in texts[-1]
    fake.message(SECOND, f"/approve {request.pk} fine by me")
    bot.poll_once()
    request.refresh_from_db()
    assert request.status == "approved" and ApprovalDecision.objects.filter(request=request).count() == 2
    fake.message(NOBODY, "/approvals")
    fake.message(NOBODY, f"/reject {request.pk}")
    bot.poll_once()
    assert all(t.startswith("Refused:") for t in fake.texts(NOBODY))


@pytest.mark.django_db
def test_an_update_delivered_twice_is_acted_on_once(fake, bot, desk) -> None:
    request = ApprovalRequestFactory()
    update = fake.message(APPROVER, f"/reject {request.pk} too big")
    bot.poll_once()
    ChatState.objects.update(update_offset=0)  # as after a crash before the offset was saved
    fake.redeliver(update)
    bot.poll_once()
    assert ApprovalDecision.objects.filter(request=request).count() == 1
    assert len(fake.texts(APPROVER)) == 1 and ChatAudit.objects.filter(update_id=update).count() == 1


@pytest.mark.django_db
def test_status_shows_the_kill_switch_agents_alerts_and_approvals(fake, bot, desk, settings) -> None:
    settings.VENUE_URL = "http://127.0.0.1:9"  # nothing listens: the money is unknown, and said so
    AgentConfigFactory(name="alpha")
    ApprovalRequestFactory()
    alert_fire(key="latency", title="latency_p95 high on alpha")
    halt(reason="drill", source="command", actor=desk[OPERATOR])
    fake.message(OPERATOR, "/status")
    bot.poll_once()
    text = said(fake, OPERATOR)
    assert text.startswith("Trading: HALTED (command): drill")
    assert "- alpha (enabled): no run yet" in text and "latency_p95 high on alpha" in text
    assert "Approvals pending: 1" in text
    assert "Venue unreachable since " in text and "NAV" not in text  # never a zero NAV


@pytest.mark.django_db
def test_status_shows_the_nav_and_pnl_read_through_the_venue(fake, bot, desk, settings, venue, make_trader) -> None:
    trader = make_trader(usdc="2500")
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key
    fake.message(OPERATOR, "/status")
    bot.poll_once()
    text = said(fake, OPERATOR)
    assert "NAV 2,500.00 USDC; today's P&L n/a (no opening NAV today)" in text and "unreachable" not in text


@pytest.mark.django_db
def test_halts_and_pages_are_pushed_and_one_made_while_the_api_was_down_arrives_when_it_is_back(
        fake, bot, desk) -> None:
    chat_state()  # the bot has run before: its cursor is at the newest event
    fake.down = True
    halt(reason="while the chat API was down", source="command", actor=desk[OPERATOR])
    with pytest.raises(ChatApiError, match="HTTP 502"):
        bot.push_once()
    assert fake.sent == []
    fake.down = False
    bot.push_once()
    for chat in (OPERATOR, APPROVER, SECOND, NOBODY):
        assert fake.texts(chat)[0].startswith("HALT: while the chat API was down\nby operator")
    alert_fire(key="cost", title="cost cap near")
    bot.push_once()
    bot.push_once()
    texts = fake.texts(OPERATOR)
    assert said(fake, OPERATOR) == "[FIRING] [critical] cost cap near"
    assert [t.split(":")[0] for t in texts].count("HALT") == 1 and texts.count(said(fake, OPERATOR)) == 1
    assert not any("Trading HALTED" in t for t in texts)  # the kill_switch page is the halt event, not twice


@pytest.mark.django_db
def test_a_failing_api_is_retried_with_backoff_shown_degraded_and_the_token_never_leaks(
        fake, bot, desk, caplog, monkeypatch) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr("chatops.telegram.close_old_connections", lambda: None)  # the test's transaction
    fake.down = True
    chat_state()
    waits = []
    bot.stopping.wait = lambda s: (waits.append(s), bot.stop() if len(waits) >= 4 else None)  # type: ignore
    bot._loop("poll", bot.poll_once, 0)
    assert waits == [1.0, 2.0, 4.0, 8.0]
    state = ChatState.objects.get()
    assert state.failing_since is not None and "HTTP 502" in state.last_error
    def refuse(request: httpx.Request) -> httpx.Response:  # an error that names the URL, as some of httpx's do
        raise httpx.ConnectError(f"cannot reach {request.url}", request=request)

    bad = TelegramBot(TelegramApi(TOKEN, fake.url, transport=httpx.MockTransport(refuse)), poll_timeout_s=0)
    with pytest.raises(ChatApiError) as raised:
        bad.poll_once()
    assert TOKEN not in str(raised.value) and "/bot<token>/getMe" in str(raised.value)
    fake.down = False
    fake.message(OPERATOR, f"/override {TOKEN}")  # a pasted secret
    bot.poll_once()
    assert ChatState.objects.get().failing_since is None
    audit = ChatAudit.objects.get(external_id=str(OPERATOR))
    for text in (audit.text, audit.detail, state.last_error, caplog.text, repr(bot.api)):
        assert TOKEN not in text


@pytest.mark.django_db
def test_a_halt_that_cancels_resting_orders_is_confirmed_and_pushed_with_their_count(
        fake, bot, desk, settings, venue, make_trader) -> None:
    from tests.monitoring.conftest import rest

    trader = make_trader()
    settings.VENUE_URL, settings.VENUE_API_KEY = venue.url, trader.api_key
    market = trader.markets()[0].slug
    rest(trader, market, 2, prefix="chat")
    chat_state()
    fake.message(OPERATOR, "/kill two orders resting")
    bot.poll_once()
    fake.press(OPERATOR, fake.buttons(OPERATOR)[0])
    bot.poll_once()
    assert said(fake, OPERATOR).startswith("HALTED by operator: two orders resting\n2 resting orders cancelled")
    bot.push_once()
    pushed = [t for t in fake.texts(SECOND) if t.startswith("HALT: two orders resting")]
    assert len(pushed) == 1 and "2 resting orders cancelled" in pushed[0]
    assert ChatState.objects.get().failing_since is None
