"""`manage.py deploy_gate`: the card's seven-item deploy gate, one line per item.

The checks live in academy/deploy_gate.py; this command prints them and exits non-zero when any fails.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from academy.deploy_gate import FAIL, PASS, GateResult, run_gate


class Command(BaseCommand):
    help = "Check the deploy gate (reference card): PASS / FAIL / NOT CHECKED per item; exit 1 on any FAIL."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--run-tests", action="store_true",
                            help="also run `pytest -q -x tests/core tests/agents` (item 1; takes minutes)")

    def handle(self, *args: Any, **options: Any) -> None:
        results = run_gate(run_tests=options["run_tests"])
        for result in results:
            self.stdout.write(self._line(result))
        failed = [r.item for r in results if r.failed]
        if failed:
            raise CommandError(f"deploy gate FAILED: {', '.join(failed)}")
        self.stdout.write(self.style.SUCCESS("deploy gate: no item failed (check every NOT CHECKED item by hand)"))

    def _line(self, r: GateResult) -> str:
        style = {PASS: self.style.SUCCESS, FAIL: self.style.ERROR}.get(r.status, self.style.WARNING)
        return f"{r.item:<28} {style(f'{r.status:<11}')} {r.detail}"
