"""What the bot does with one update, whatever chat it came from (Telegram first; Slack can follow).

A transport turns its platform's update into an `Incoming` and sends back the `Reply`s that
`handle()` returns. Everything the bot does goes through the service the web UI uses, as the
Academy user the chat account is mapped to, with that user's permissions:

    /status                      kill switch, each agent's last run, firing alerts, pending approvals
    /kill <reason>               asks to confirm (a button, for CHATOPS_CONFIRM_S), then halt()
    /resume <reason>             resume()
    /pause <agent>, /unpause <agent>, /pause all, /unpause all    the override service
    /override <json>             override_write(), validated as the panel's editor does
    /approvals                   pending requests with approve/reject buttons
    /approve <id> [note], /reject <id> [note]    approval_decide(): four-eyes, two approvers, expiry

Each update is recorded (ChatAudit) before anything is done, under its unique update id: an update
the platform delivers twice is acted on once.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone

from chatops.models import ChatAudit, ChatConfirm, ChatOperator, Outcome

log = logging.getLogger("academy.chatops")

KILL_PERMISSION = "monitoring.toggle_kill_switch"
APPROVE_PERMISSION = "approvals.approve_trade"
CHAT_SOURCE = "chat"  # HaltSource.CHAT (monitoring imports nothing of this app)
TEXT_MAX = 3500  # under Telegram's 4,096 per message, with room for the headline
REASON_MAX = 500


@dataclass(frozen=True)
class Incoming:
    """One update: a command typed, or a button pressed (callback_id and data set)."""

    platform: str
    update_id: int
    user_id: str
    handle: str
    chat_id: str
    text: str = ""
    callback_id: str = ""
    data: str = ""


@dataclass
class Reply:
    """A message to the chat the update came from; `buttons` rows of (label, data); `notice` answers a
    pressed button (the small toast the platform shows)."""

    text: str
    buttons: list[list[tuple[str, str]]] = field(default_factory=list)
    notice: str = ""


class Refused(Exception):
    """A request the bot will not carry out; the message is for the person."""


def handle(incoming: Incoming) -> list[Reply]:
    """Record the update, then act on it once; return what to send back (nothing for a repeat)."""
    command, args = _parse(incoming)
    audit = _audit_open(incoming, command)
    if audit is None:
        log.info("%s update %s seen before: not acted on again", incoming.platform, incoming.update_id)
        return []
    try:
        return _act(incoming, command, args, audit)
    except Exception as exc:  # e.g. the database, before the command ran: say so; the update can be sent again
        log.exception("chat %s: update %s not handled", incoming.platform, incoming.update_id)
        try:
            _audit_close(audit, Outcome.FAILED, f"{type(exc).__name__}: {exc}")
        except Exception:
            log.exception("chat %s: audit of update %s not closed", incoming.platform, incoming.update_id)
        return [Reply(f"Failed: {type(exc).__name__}. Nothing was confirmed: send it again, or check the panel.",
                      notice="Failed")]


def _act(incoming: Incoming, command: str, args: str, audit: ChatAudit) -> list[Reply]:
    operator = ChatOperator.objects.filter(platform=incoming.platform, external_id=incoming.user_id,
                                           enabled=True).select_related("user").first()
    if operator is None or not operator.user.is_active:
        _audit_close(audit, Outcome.REFUSED, "not on the allowlist")
        log.warning("chat %s: refused %s from %s (@%s): not on the allowlist", incoming.platform, command,
                    incoming.user_id, incoming.handle)
        return [Reply(f"You are not on this desk's allowlist (your {incoming.platform} id is {incoming.user_id}). "
                      "Ask an Academy admin to add you under Chat operators.", notice="Refused")]
    audit.user = operator.user
    handler = COMMANDS.get(command)
    if handler is None:
        _audit_close(audit, Outcome.REFUSED, "unknown command")
        return [Reply(f"Unknown command {command!r}.\n\n{HELP}", notice="Unknown")]
    try:
        reply, outcome = handler(operator.user, args, incoming)
    except (Refused, PermissionDenied) as exc:
        _audit_close(audit, Outcome.REFUSED, str(exc))
        return [Reply(f"Refused: {exc}", notice="Refused")]
    except Exception as exc:  # the bot stays up; the person sees that it failed, the log has why
        log.exception("chat %s: %s failed", incoming.platform, command)
        _audit_close(audit, Outcome.FAILED, f"{type(exc).__name__}: {exc}")
        return [Reply(f"Failed: {type(exc).__name__}. Nothing was confirmed; check the panel.", notice="Failed")]
    _audit_close(audit, outcome, reply.text)
    return [reply]


# --- parsing and the audit ----------------------------------------------------------------------


def _parse(incoming: Incoming) -> tuple[str, str]:
    """(command, the rest): "/kill@AcademyBot  venue down" -> ("kill", "venue down"); a button's data
    "kill:<nonce>" -> ("kill:confirm", "<nonce>")."""
    if incoming.callback_id:
        kind, _, rest = incoming.data.partition(":")
        return f"{kind}:button", rest
    text = incoming.text.strip()
    if not text.startswith("/"):
        return "text", text
    head, *rest = text.split(maxsplit=1)  # any whitespace: "/kill\nreason" is /kill with a reason
    return head[1:].split("@", 1)[0].lower()[:48], rest[0].strip() if rest else ""


def _audit_open(incoming: Incoming, command: str) -> ChatAudit | None:
    from agents.services import redactor

    shown = incoming.data if incoming.callback_id else incoming.text
    try:
        with transaction.atomic():
            return ChatAudit.objects.create(
                ts=timezone.now(), platform=incoming.platform, update_id=incoming.update_id,
                external_id=incoming.user_id, handle=incoming.handle[:64], command=command[:64],
                text=redactor().text(shown)[:2000])
    except IntegrityError:
        # Seen before. Still "received": the process died before acting or answering, so act now (the
        # confirm button's single use and one vote per approver keep a second action from happening).
        return ChatAudit.objects.filter(platform=incoming.platform, update_id=incoming.update_id,
                                        outcome=Outcome.RECEIVED).first()


def _audit_close(audit: ChatAudit, outcome: str, detail: str) -> None:
    from agents.services import redactor

    audit.outcome = outcome
    audit.detail = redactor().text(detail)[:4000]
    audit.save(update_fields=["user", "outcome", "detail"])


def _require(user: Any, permission: str, what: str) -> None:
    if not user.has_perm(permission):
        raise Refused(f"{what} needs the {permission.split('.')[1]} permission, which {user.get_username()} "
                      "does not have.")


def _reason(args: str, usage: str) -> str:
    reason = " ".join(args.split())[:REASON_MAX]
    if not reason:
        raise Refused(f"say why: {usage}")
    return reason


# --- the commands -------------------------------------------------------------------------------

Handler = Callable[[Any, str, Incoming], tuple[Reply, str]]


def cmd_help(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    return Reply(f"Academy desk bot, acting as {user.get_username()}.\n\n{HELP}"), Outcome.DONE


def cmd_status(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    from chatops.status import status_text

    return Reply(status_text(user)), Outcome.DONE


def cmd_kill(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    _require(user, KILL_PERMISSION, "Halting")
    reason = _reason(args, "/kill <reason>")
    nonce = secrets.token_urlsafe(12)
    ChatConfirm.objects.create(nonce=nonce, platform=incoming.platform, external_id=incoming.user_id,
                               reason=reason, expires_at=timezone.now() + timedelta(seconds=settings.CHATOPS_CONFIRM_S))
    text = (f"Halt ALL trading?\nReason: {reason}\n\nEvery agent stops and every resting order is cancelled at "
            f"the venue. Confirm within {settings.CHATOPS_CONFIRM_S} s.")
    return Reply(text, buttons=[[("HALT NOW", f"kill:{nonce}"), ("Cancel", f"nokill:{nonce}")]]), Outcome.ASKED


def cmd_kill_confirm(user: Any, nonce: str, incoming: Incoming) -> tuple[Reply, str]:
    from monitoring.halt import halt

    _require(user, KILL_PERMISSION, "Halting")
    now = timezone.now()
    confirm = ChatConfirm.objects.filter(nonce=nonce, platform=incoming.platform).first()
    if confirm is None or confirm.external_id != incoming.user_id:
        raise Refused("this button is not yours to press: send /kill <reason> yourself")
    if confirm.expires_at <= now:
        raise Refused("this confirmation has expired: send /kill <reason> again")
    # Used once: of two presses (a double tap, a redelivery), only the one that sets used_at halts.
    if not ChatConfirm.objects.filter(pk=confirm.pk, used_at__isnull=True).update(used_at=now):
        raise Refused("already confirmed: see /status")
    event = halt(reason=confirm.reason, source=CHAT_SOURCE, actor=user)
    cancelled = int(event.orders_cancelled or 0)  # a count (HaltEvent.orders_cancelled)
    text = f"HALTED by {user.get_username()}: {confirm.reason}\n{cancelled} resting orders cancelled."
    if event.errors:
        text += "\nErrors: " + "; ".join(str(e) for e in event.errors)[:800]
    return Reply(text, notice="Halted"), Outcome.DONE


def cmd_kill_cancel(user: Any, nonce: str, incoming: Incoming) -> tuple[Reply, str]:
    ChatConfirm.objects.filter(nonce=nonce, external_id=incoming.user_id, used_at__isnull=True).update(
        used_at=timezone.now())
    return Reply("Halt cancelled: nothing was done.", notice="Cancelled"), Outcome.DONE


def cmd_resume(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    from monitoring.halt import ResumeRefused, resume

    _require(user, KILL_PERMISSION, "Resuming")
    reason = _reason(args, "/resume <reason>")
    try:
        resume(actor=user, reason=reason, source=CHAT_SOURCE)
    except ResumeRefused as exc:
        raise Refused(str(exc)) from None
    return Reply(f"Resumed by {user.get_username()}: {reason}"), Outcome.DONE


def _pause(user: Any, args: str, *, pause: bool) -> tuple[Reply, str]:
    from agents.models import AgentConfig
    from agents.overrides import OverrideInvalid, override_pause_set

    verb = "pause" if pause else "unpause"
    _require(user, KILL_PERMISSION, "Pausing" if pause else "Unpausing")
    name, _, reason = args.partition(" ")
    if not name:
        raise Refused(f"name an agent, or all: /{verb} <agent> [reason]")
    agent = "" if name == "all" else name
    if agent and not AgentConfig.objects.filter(name=agent).exists():
        raise Refused(f"there is no agent {agent!r}")
    try:
        changed = override_pause_set(actor=user, pause=pause, reason=reason.strip() or f"/{verb} from chat",
                                     agent=agent)
    except OverrideInvalid as exc:
        raise Refused(str(exc)) from None
    who = "the whole desk" if not agent else f"agent {agent}"
    done = ("paused" if pause else "unpaused") if changed else ("already paused" if pause else "not paused")
    return Reply(f"{who}: {done}."), Outcome.DONE


def cmd_pause(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    return _pause(user, args, pause=True)


def cmd_unpause(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    return _pause(user, args, pause=False)


def cmd_override(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    from agents.overrides import OverrideChanged, OverrideInvalid, OverrideLiftsPause, desk_override_row, override_write

    _require(user, KILL_PERMISSION, "Changing the desk override")
    if not args:
        raise Refused("send the whole override as JSON: /override {\"pause\": false, ...}")
    try:
        row = desk_override_row()
        # The whole document is replaced, unseen on a phone: it must not lift a pause someone set.
        override_write(text=args, actor=user, reason="/override from chat", based_on=row.pk if row else None,
                       keep_pauses=True)
    except OverrideLiftsPause as exc:
        raise Refused(f"override not saved: {exc}. Keep them in it (\"pause\": true / \"pause_agents\"), or "
                      "/unpause first.") from None
    except OverrideInvalid as exc:
        raise Refused(f"override not saved: {exc}") from None
    except OverrideChanged:
        raise Refused("override not saved: the desk override changed meanwhile; /status, then try again") from None
    return Reply("Override saved; every host's next stop check reads it."), Outcome.DONE


def cmd_approvals(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    from approvals.access import may_view_approvals
    from approvals.models import ApprovalRequest, ApprovalStatus

    if not may_view_approvals(user):
        raise Refused("seeing approval requests needs the approve_trade or view_approvalrequest permission")
    pending = list(ApprovalRequest.objects.filter(status=ApprovalStatus.PENDING).select_related("agent")
                   .order_by("expires_at")[:10])
    if not pending:
        return Reply("No approval requests pending."), Outcome.DONE
    lines, buttons = [f"{len(pending)} pending (soonest to expire first):"], []
    for r in pending:
        lines.append(f"#{r.pk} {r.agent.name}: {_describe(r)}, expires {r.expires_at:%H:%M:%S} UTC")
        if user.has_perm(APPROVE_PERMISSION):
            buttons.append([(f"Approve #{r.pk}", f"ap:{r.pk}:approve"), (f"Reject #{r.pk}", f"ap:{r.pk}:reject")])
    return Reply("\n".join(lines), buttons=buttons), Outcome.DONE


def _describe(request: Any) -> str:
    fields = ("side", "size", "price", "market")
    parts = [str(getattr(request, f)) for f in fields if getattr(request, f, None) not in (None, "")]
    return " ".join(parts) or "order"


def _decide(user: Any, request_id: str, decision: str, note: str) -> tuple[Reply, str]:
    from approvals.services import DecisionRefused, approval_decide

    if not request_id.lstrip("#").isdigit():
        raise Refused(f"give the request's number: /{decision} <id> [note]")
    try:
        request = approval_decide(request_id=int(request_id.lstrip("#")), actor=user, decision=decision,
                                  note=note or f"{decision} from chat")
    except DecisionRefused as exc:
        raise Refused(str(exc)) from None
    status = request.get_status_display().lower()
    text = f"Request #{request.pk}: your {decision} is recorded; it is now {status}."
    return Reply(text, notice="Recorded"), Outcome.DONE


def cmd_approve(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    request_id, _, note = args.partition(" ")
    return _decide(user, request_id, "approve", note.strip())


def cmd_reject(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    request_id, _, note = args.partition(" ")
    return _decide(user, request_id, "reject", note.strip())


def cmd_approval_button(user: Any, data: str, incoming: Incoming) -> tuple[Reply, str]:
    request_id, _, decision = data.partition(":")
    if decision not in ("approve", "reject"):
        raise Refused("unknown button")
    return _decide(user, request_id, decision, "")


def cmd_text(user: Any, args: str, incoming: Incoming) -> tuple[Reply, str]:
    return Reply(HELP), Outcome.DONE


COMMANDS: dict[str, Handler] = {
    "start": cmd_help, "help": cmd_help, "status": cmd_status, "kill": cmd_kill, "resume": cmd_resume,
    "pause": cmd_pause, "unpause": cmd_unpause, "override": cmd_override, "approvals": cmd_approvals,
    "approve": cmd_approve, "reject": cmd_reject, "text": cmd_text,
    "kill:button": cmd_kill_confirm, "nokill:button": cmd_kill_cancel, "ap:button": cmd_approval_button,
}

HELP = """Commands:
/status - kill switch, agents, alerts, approvals
/kill <reason> - halt all trading (asks to confirm)
/resume <reason> - resume trading
/pause <agent|all> [reason], /unpause <agent|all>
/override <json> - replace the desk override
/approvals - pending trades, with buttons
/approve <id> [note], /reject <id> [note]"""
