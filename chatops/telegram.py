"""Telegram's Bot API over httpx: long polling for commands, and a push of halts and pages.

Two loops in one process (`manage.py chatbot`), sharing one client:
- the poller asks getUpdates (long polling), hands each update to chatops.core.handle() and sends the
  replies; the offset moves past an update once it is handled (an update acted on is never lost;
  one redelivered after a crash is recognised by its audit row and not acted on twice);
- the pusher tails the panel's outbox (halts, resumes, alerts firing and resolved) from a cursor kept
  in the database and sends each event to every operator who takes pushes (push_once says how a gap
  and a chat that refuses for good are handled). A halt that happened while the bot or the API was
  down is delivered when they are back (at least once).

Neither loop is on a halt's path: halt() never waits on a chat. A failing API is retried with
backoff (to CHATOPS_BACKOFF_MAX_S, or the retry_after Telegram asks for) and shows as degraded on the
panel (ChatState.failing_since). The token is in every URL the Bot API takes: it is scrubbed from
every error kept or logged, and httpx's request log (which prints URLs) is kept quiet.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
from django.conf import settings
from django.db import close_old_connections
from django.db.models import Max
from django.utils import timezone
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from chatops.core import Incoming, Reply, handle
from chatops.models import ChatOperator, ChatState, Platform

log = logging.getLogger("academy.chatops")

PLATFORM = Platform.TELEGRAM
PUSH_BATCH = 200
PUSH_GAP_WAIT_S = 5.0  # how long an id missing below a newer event may still commit (PostgreSQL)
TEXT_LIMIT = 4096


class ChatApiError(Exception):
    """A call to the chat API failed; the message holds no token."""

    def __init__(self, message: str, retry_after: float = 0.0, status: int = 0) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.status = status  # the HTTP status the API answered (0: no answer)

    @property
    def refused_for_good(self) -> bool:
        """Telegram's "chat not found", "bot was blocked", "group upgraded" (400/403): retrying never helps."""
        return self.status in (400, 403)


# --- the wire: Telegram's JSON, validated at the edge ------------------------------------------


class _Edge(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


class TgUser(_Edge):
    id: int
    username: str = ""
    first_name: str = ""


class TgChat(_Edge):
    id: int


class TgMessage(_Edge):
    message_id: int
    sender: TgUser | None = Field(default=None, alias="from")
    chat: TgChat
    text: str = ""


class TgCallback(_Edge):
    id: str
    sender: TgUser = Field(alias="from")
    message: TgMessage | None = None
    data: str = ""


class TgUpdate(_Edge):
    update_id: int
    message: TgMessage | None = None
    callback_query: TgCallback | None = None

    def incoming(self, username: str = "") -> Incoming | None:
        """The update as the bot's core sees it; None for what the bot does not act on (a command
        addressed to another bot, "/resume@StagingBot" in a group both are in, included)."""
        if self.callback_query is not None:
            cb = self.callback_query
            chat = cb.message.chat.id if cb.message is not None else cb.sender.id
            return Incoming(PLATFORM, self.update_id, str(cb.sender.id), cb.sender.username, str(chat),
                            callback_id=cb.id, data=cb.data)
        m = self.message
        if m is None or m.sender is None or not m.text:
            return None
        head = m.text.split(maxsplit=1)[0] if m.text.strip() else ""
        if head.startswith("/") and "@" in head and head.split("@", 1)[1].lower() != username.lower():
            return None
        return Incoming(PLATFORM, self.update_id, str(m.sender.id), m.sender.username, str(m.chat.id), text=m.text)


class TelegramApi:
    """The three methods the bot uses. `transport` lets a unit test swap the wire."""

    def __init__(self, token: str, base: str, *, timeout_s: float = 10.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        if not token:
            raise ValueError("no TELEGRAM_BOT_TOKEN")
        self._token = token
        self._base = base.rstrip("/")
        self._timeout = timeout_s
        self._client = httpx.Client(timeout=timeout_s, transport=transport)

    def __repr__(self) -> str:
        return f"TelegramApi({self._base!r})"  # never the token

    def close(self) -> None:
        self._client.close()

    def scrub(self, text: str) -> str:
        return text.replace(self._token, "<token>")

    def call(self, method: str, payload: dict[str, Any], *, timeout_s: float | None = None) -> Any:
        url = f"{self._base}/bot{self._token}/{method}"
        try:
            response = self._client.post(url, json=payload, timeout=timeout_s or self._timeout)
        except httpx.HTTPError as exc:
            raise ChatApiError(self.scrub(f"{method}: {type(exc).__name__}: {exc}")) from None
        try:
            body = response.json()
        except ValueError:
            raise ChatApiError(f"{method}: HTTP {response.status_code}, not JSON") from None
        if not isinstance(body, dict) or body.get("ok") is not True:
            body = body if isinstance(body, dict) else {}
            retry = (body.get("parameters") or {}).get("retry_after", 0)
            description = self.scrub(str(body.get("description", "")))[:200]
            raise ChatApiError(f"{method}: HTTP {response.status_code} {body.get('error_code', '')} {description}",
                               retry_after=float(retry) if isinstance(retry, int | float) else 0.0,
                               status=response.status_code)
        return body.get("result")

    def me(self) -> str:
        """The bot's own @username (getMe)."""
        result = self.call("getMe", {})
        username = result.get("username") if isinstance(result, dict) else None
        if not isinstance(username, str) or not username:
            raise ChatApiError("getMe: no username in the answer")
        return username

    def updates(self, offset: int, timeout_s: int) -> list[dict[str, Any]]:
        result = self.call("getUpdates", {"offset": offset, "timeout": timeout_s,
                                          "allowed_updates": ["message", "callback_query"]},
                           timeout_s=timeout_s + self._timeout)
        if not isinstance(result, list):
            raise ChatApiError("getUpdates: the result is not a list")
        return result

    def send(self, chat_id: str, reply: Reply) -> None:
        payload: dict[str, Any] = {"chat_id": chat_id, "text": _cut(reply.text), "disable_web_page_preview": True}
        if reply.buttons:
            payload["reply_markup"] = {"inline_keyboard": [
                [{"text": label, "callback_data": data} for label, data in row] for row in reply.buttons]}
        self.call("sendMessage", payload)

    def answer(self, callback_id: str, text: str) -> None:
        self.call("answerCallbackQuery", {"callback_query_id": callback_id, "text": text[:200]})


def _cut(text: str) -> str:
    return text if len(text) <= TEXT_LIMIT else text[:TEXT_LIMIT - 2] + " …"


# --- the bot ------------------------------------------------------------------------------------


def chat_state() -> ChatState:
    """This platform's row; made on the first start with the push cursor at the newest event (a new bot
    does not replay the desk's whole history)."""
    from monitoring.models import OutboxEvent

    state = ChatState.objects.filter(platform=PLATFORM).first()
    if state is None:
        newest = OutboxEvent.objects.aggregate(m=Max("id"))["m"] or 0
        state, _ = ChatState.objects.get_or_create(platform=PLATFORM, defaults={"push_cursor": newest})
    return state


class TelegramBot:
    def __init__(self, api: TelegramApi, *, poll_timeout_s: int | None = None,
                 sleep: Callable[[float], Any] = time.sleep) -> None:
        self.api = api
        self.poll_timeout_s = settings.TELEGRAM_POLL_TIMEOUT_S if poll_timeout_s is None else poll_timeout_s
        self.sleep = sleep
        self.stopping = threading.Event()
        self._failures = {"poll": 0, "push": 0}
        self._lock = threading.Lock()
        self._pushed: set[tuple[int, str]] = set()  # (event id, chat) sent: a retried event skips them
        self.username = ""  # the bot's own @name (getMe): a command addressed to another bot is not ours

    # one round each; the loops below repeat them

    def poll_once(self) -> int:
        """Ask for updates, act on each, move the offset past it; return how many came."""
        if not self.username:
            self.username = self.api.me()
        state = chat_state()
        raw = self.api.updates(state.update_offset, self.poll_timeout_s)
        self._poll_ok()
        for item in raw:
            update_id = item.get("update_id") if isinstance(item, dict) else None
            if not isinstance(update_id, int):
                raise ChatApiError("getUpdates: an update without an update_id")
            try:
                incoming = TgUpdate.model_validate(item).incoming(self.username)
            except ValidationError as exc:
                log.warning("telegram update %s not understood, skipped: %s", update_id, exc.errors()[:2])
                incoming = None
            if incoming is not None:
                self._reply(incoming, handle(incoming))
            ChatState.objects.filter(platform=PLATFORM).update(update_offset=update_id + 1)
        return len(raw)

    def _reply(self, incoming: Incoming, replies: list[Reply]) -> None:
        for reply in replies:
            if incoming.callback_id:
                try:
                    self.api.answer(incoming.callback_id, reply.notice or "OK")
                except ChatApiError as exc:  # the toast is a courtesy: the message below says it all
                    log.info("answerCallbackQuery failed: %s", exc)
            self.api.send(incoming.chat_id, reply)

    def push_once(self) -> int:
        """Send the halts, resumes and pages after the cursor to every push chat; return how many events
        the cursor passed.

        - Events are read in id order, every kind, so a gap shows: on PostgreSQL ids commit out of order,
          and an id missing below a newer event may still commit (a halt whose record waited on a lock).
          The cursor stops at such a gap until the event after it is PUSH_GAP_WAIT_S old.
        - Each chat is sent on its own: a chat that refuses for good (blocked the bot, left the group, a
          changed group id) is marked on its operator row and skipped, never holding up the others; a
          failure that may pass (no answer, 5xx, 429) stops here and the event is tried again, without
          sending it twice to the chats that already have it (in this process).
        """
        from monitoring.models import OutboxEvent

        state = chat_state()
        cursor, now = state.push_cursor, timezone.now()
        events = list(OutboxEvent.objects.filter(pk__gt=cursor).order_by("pk")[:PUSH_BATCH])
        operators = list(ChatOperator.objects.filter(platform=PLATFORM, enabled=True, push=True,
                                                     user__is_active=True, push_error=""))
        passed = 0
        for event in events:
            if event.pk != cursor + 1 and (now - event.ts).total_seconds() < PUSH_GAP_WAIT_S:
                break  # an older id may still commit: wait for it (or for this gap to be old enough)
            text = push_text(event.kind, event.payload)
            if text:
                self._push(event.pk, text, operators)
            cursor = event.pk
            ChatState.objects.filter(platform=PLATFORM).update(push_cursor=cursor)
            passed += 1
        self._push_ok()
        return passed

    def _push(self, event_id: int, text: str, operators: list[ChatOperator]) -> None:
        for chat in sorted({op.push_chat for op in operators}):
            if (event_id, chat) in self._pushed:
                continue
            try:
                self.api.send(chat, Reply(text))
            except ChatApiError as exc:
                if not exc.refused_for_good:
                    raise
                why = self.api.scrub(str(exc))[:300]
                log.error("chat %s refuses the bot's pushes for good, skipped until its operator row is fixed: %s",
                          chat, why)
                ChatOperator.objects.filter(platform=PLATFORM, pk__in=[o.pk for o in operators
                                                                       if o.push_chat == chat]).update(push_error=why)
                continue
            self._pushed.add((event_id, chat))

    # the loops

    def run(self) -> None:
        """Both loops until stop(): the pusher in a thread, the poller here."""
        pusher = threading.Thread(target=self._loop, args=("push", self.push_once, settings.CHATOPS_PUSH_S),
                                  name="chat-push", daemon=True)
        pusher.start()
        try:
            self._loop("poll", self.poll_once, 0)
        finally:
            self.stopping.set()
            pusher.join(timeout=5)

    def stop(self) -> None:
        self.stopping.set()

    def _loop(self, which: str, once: Callable[[], int], pause_s: float) -> None:
        while not self.stopping.is_set():
            close_old_connections()
            try:
                once()
                ChatState.objects.filter(platform=PLATFORM).update(heartbeat_at=timezone.now())
                if pause_s:
                    self.stopping.wait(pause_s)
            except ChatApiError as exc:
                self.stopping.wait(self._failed(which, exc))
            except Exception as exc:  # a database hiccup: keep the loop alive, say so, back off
                log.exception("chat bot %s loop failed", which)
                self.stopping.wait(self._failed(which, ChatApiError(self.api.scrub(f"{type(exc).__name__}: {exc}"))))

    # Each loop keeps its own health: a poll that works must not hide pushes that fail (halts waiting).

    def _poll_ok(self) -> None:
        with self._lock:
            self._failures["poll"] = 0
        ChatState.objects.filter(platform=PLATFORM).update(last_ok_at=timezone.now(), failing_since=None,
                                                           last_error="")

    def _push_ok(self) -> None:
        with self._lock:
            self._failures["push"] = 0
        ChatState.objects.filter(platform=PLATFORM).exclude(push_failing_since=None, push_error="").update(
            push_failing_since=None, push_error="")

    def _failed(self, which: str, exc: ChatApiError) -> float:
        """Record the failure (degraded) and return how long to wait before the next try."""
        with self._lock:
            self._failures[which] += 1
            delay = min(float(settings.CHATOPS_BACKOFF_MAX_S), 2.0 ** min(self._failures[which] - 1, 16))
        delay = max(delay, exc.retry_after)
        message = self.api.scrub(str(exc))[:500]
        log.warning("chat API (%s): %s (retry in %.0f s)", which, message, delay)
        since, error = ("failing_since", "last_error") if which == "poll" else ("push_failing_since", "push_error")
        ChatState.objects.filter(platform=PLATFORM, **{f"{since}__isnull": True}).update(**{since: timezone.now()})
        ChatState.objects.filter(platform=PLATFORM).update(**{error: message})
        return delay


def push_text(kind: str, payload: dict[str, Any]) -> str:
    """The message for one outbox event; "" for one not worth a push (an alert's repeat firing)."""
    if kind in ("halt", "resume"):
        action = str(payload.get("action", "")).upper()
        who = payload.get("actor") or payload.get("source") or "?"
        text = f"{action}: {payload.get('reason', '')}\nby {who} ({payload.get('source', '')}) at {payload.get('ts')}"
        if payload.get("hold_until"):
            text += f"\nheld until {payload['hold_until']}"
        cancelled = payload.get("orders_cancelled") or 0
        if cancelled:
            text += f"\n{cancelled} resting orders cancelled"  # a count, as HaltEvent.orders_cancelled
        if payload.get("errors"):
            text += "\nerrors: " + "; ".join(map(str, payload["errors"]))[:500]
        return text + "\n/status"
    if kind == "alert":
        state = payload.get("state")
        if payload.get("key") == "kill_switch":
            return ""  # the halt's own event says it, with who and why
        if state == "firing" and int(payload.get("count") or 1) > 1:
            return ""  # the same page again: it was pushed when it first fired
        return f"[{str(state).upper()}] [{payload.get('severity', '')}] {payload.get('title', '')}"
    return ""


def scrubbed_logging() -> None:
    """httpx logs each request's URL (with the token in it) at INFO: keep both libraries at WARNING."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)
