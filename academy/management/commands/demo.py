"""Load the demo: one enabled agent on the offline policy and an operator account.

Idempotent: a second call changes nothing and says so. The operator's password is
printed once, when the account is created; it is never stored in clear anywhere.
"""

from __future__ import annotations

import secrets
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand
from django.db import transaction

from agents.models import AgentConfig, PolicyKind

DEMO_AGENT = "demo-rules"
OPERATOR = "operator"


class Command(BaseCommand):
    help = "Create the demo agent (offline rules policy) and the operator account, if missing."

    def handle(self, *args: Any, **options: Any) -> None:
        with transaction.atomic():
            self._agent()
            password = self._operator()
        if password:
            self.stdout.write(self.style.WARNING(f"Operator account created: {OPERATOR} / {password}"))
            self.stdout.write("This password is shown once. Change it with: manage.py changepassword operator")

    def _agent(self) -> None:
        agent, created = AgentConfig.objects.get_or_create(
            name=DEMO_AGENT,
            defaults={
                "policy_kind": PolicyKind.RULES,
                "model_version": "rules-v1",
                "known_market_types": ["crypto-hourly", "sports", "politics"],
                "interval_s": 60,
                "enabled": True,
            },
        )
        verb = "created" if created else "already present"
        self.stdout.write(f"Demo agent {agent.name!r} {verb}.")

    def _operator(self) -> str | None:
        User = get_user_model()
        if User.objects.filter(username=OPERATOR).exists():
            self.stdout.write(f"Operator account {OPERATOR!r} already present (password not shown again).")
            return None
        password = secrets.token_urlsafe(12)
        User.objects.create_superuser(username=OPERATOR, email="", password=password)
        return password
