"""manage.py reconcile_chain --user NAME --note "...": record a chain reconciliation by hand.

Refused while the venue's REST view still differs from the chain ledger by more than dust.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from agents.services import venue_client
from monitoring.halt import ResumeRefused, reconcile_chain
from monitoring.health import SettlementPending, chain_drift_amount


class Command(BaseCommand):
    help = "After a chain-drift halt: check REST against the chain again and record the reconciliation."

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--user", required=True)
        parser.add_argument("--note", required=True, help="what you checked and fixed")

    def handle(self, *args: Any, user: str, note: str, **options: Any) -> None:
        actor = get_user_model().objects.filter(username=user, is_active=True).first()
        if actor is None:
            raise CommandError(f"no active user {user!r}")
        try:
            drift = chain_drift_amount(venue_client())
        except SettlementPending as exc:
            raise CommandError(f"settlement still pending, try again in a few seconds ({exc})") from None
        try:
            reconcile_chain(actor=actor, note=note, drift=drift, dust=settings.CHAIN_DUST)
        except (PermissionDenied, ResumeRefused, ValueError) as exc:
            raise CommandError(str(exc)) from None
        from monitoring.halt import kill_switch_state

        after = "`manage.py resume` may now lift the halt" if kill_switch_state()["halted"] else "trading is not halted"
        self.stdout.write(self.style.SUCCESS(f"Reconciliation recorded (drift {drift}); {after}."))

