"""The chat bot's records: who may use it (the allowlist), what was asked of it (the audit), where it is.

An admin keeps the allowlist (ChatOperator): each chat account acts as one Academy user, with that
user's permissions. Every update the bot receives gets one ChatAudit row before anything is done (its
unique update id is also how a redelivered update is acted on once), refusals included.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Platform(models.TextChoices):
    TELEGRAM = "telegram", "Telegram"


class ChatOperator(models.Model):
    """A chat account allowed to talk to the bot, and the Academy user it acts as."""

    platform = models.CharField(max_length=16, choices=Platform.choices, default=Platform.TELEGRAM)
    external_id = models.CharField(max_length=64, help_text="The chat account's numeric id (Telegram: the "
                                   "user id the bot's refusal message shows).")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="chat_accounts",
                             help_text="Acts as this user: the same permissions apply as in the web UI.")
    chat_id = models.CharField(max_length=64, blank=True, help_text="Where halts and pages are pushed (blank: "
                               "the private chat with this account, which has the account's id).")
    push = models.BooleanField(default=True, help_text="Receive halt events and pages.")
    enabled = models.BooleanField(default=True)
    note = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    push_error = models.CharField(max_length=300, blank=True, help_text="Why the last push to this chat was "
                                  "refused for good (blocked the bot, removed from the group, a changed group "
                                  "id): pushes to it are skipped until this is cleared.")

    class Meta:
        verbose_name = "chat operator"
        constraints = [models.UniqueConstraint(fields=["platform", "external_id"], name="chat_operator_unique")]

    def __str__(self) -> str:
        return f"{self.get_platform_display()} {self.external_id} as {self.user}"

    @property
    def push_chat(self) -> str:
        return self.chat_id or self.external_id


class Outcome(models.TextChoices):
    RECEIVED = "received", "Received"
    DONE = "done", "Done"
    ASKED = "asked", "Asked to confirm"
    REFUSED = "refused", "Refused"
    FAILED = "failed", "Failed"


class ChatAudit(models.Model):
    """One update the bot received and what came of it."""

    ts = models.DateTimeField(db_index=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    update_id = models.BigIntegerField(help_text="The platform's id of the update (acted on once).")
    external_id = models.CharField(max_length=64, help_text="The chat account that sent it.")
    handle = models.CharField(max_length=64, blank=True, help_text="Its @name, as the platform gave it.")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                             related_name="+", help_text="The Academy user it acted as (none when refused).")
    command = models.CharField(max_length=64)
    text = models.TextField(blank=True, help_text="What was sent (redacted, cut at 2,000 characters).")
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RECEIVED)
    detail = models.TextField(blank=True)

    class Meta:
        ordering = ["-ts", "-id"]
        verbose_name = "chat audit entry"
        verbose_name_plural = "chat audit entries"
        constraints = [models.UniqueConstraint(fields=["platform", "update_id"], name="chat_audit_update_once")]

    def __str__(self) -> str:
        return f"{self.ts:%Y-%m-%d %H:%M:%S} {self.external_id} {self.command}: {self.outcome}"


class ChatConfirm(models.Model):
    """A /kill waiting for its sender's confirm button (used once, until it expires)."""

    nonce = models.CharField(max_length=32, unique=True)
    platform = models.CharField(max_length=16, choices=Platform.choices)
    external_id = models.CharField(max_length=64)
    reason = models.CharField(max_length=500)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"/kill by {self.external_id}: {self.reason}"


class ChatState(models.Model):
    """Where the bot is: the next update to ask for, the last event pushed, and its health."""

    platform = models.CharField(max_length=16, choices=Platform.choices, unique=True)
    update_offset = models.BigIntegerField(default=0)
    push_cursor = models.BigIntegerField(default=0, help_text="The last panel outbox event pushed (or skipped).")
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="The bot's loop was alive at this time.")
    last_ok_at = models.DateTimeField(null=True, blank=True, help_text="The last call to the chat API that worked.")
    failing_since = models.DateTimeField(null=True, blank=True, help_text="Polling for commands failing since "
                                         "(degraded).")
    last_error = models.CharField(max_length=500, blank=True)
    push_failing_since = models.DateTimeField(null=True, blank=True, help_text="Pushing halts and pages failing "
                                              "since (degraded: they wait).")
    push_error = models.CharField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.platform} bot"
