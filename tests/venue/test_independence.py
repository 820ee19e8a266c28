"""The venue clients and the simulator are apart: the runtime never imports the simulator, and
neither imports Django (the simulator stands for an outside system)."""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import agents.venue
import paper_venue

VENUE_DIR = Path(agents.venue.__file__).parent
SIMULATOR_DIR = Path(paper_venue.__file__).parent
REPO = VENUE_DIR.parents[1]
# What may start or sandbox the simulator: its launcher (`python -m agents.venue`) and the deploy gate,
# which proves the caps and the kill switch on an in-process engine, never on the configured venue.
MAY_IMPORT_SIMULATOR = {"agents/venue/__main__.py", "academy/deploy_gate.py"}


def test_it_imports_no_django() -> None:
    code = (
        "import sys, paper_venue.service, agents.venue.client, agents.venue.limitless_client, paper_venue.testing;"
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=REPO).returncode == 0
    for source in [*VENUE_DIR.glob("*.py"), *SIMULATOR_DIR.glob("*.py")]:
        assert not re.search(r"^\s*(import|from)\s+django", source.read_text(), re.M), source


def test_it_keeps_the_simulator_out_of_the_runtime() -> None:
    offenders = []
    for app in ("academy", "agents", "monitoring", "approvals"):
        for source in (REPO / app).rglob("*.py"):
            name = str(source.relative_to(REPO))
            if name in MAY_IMPORT_SIMULATOR or "migrations" in source.parts:
                continue
            for node in ast.walk(ast.parse(source.read_text())):
                modules = (
                    [a.name for a in node.names]
                    if isinstance(node, ast.Import)
                    else ([node.module or ""] if isinstance(node, ast.ImportFrom) else [])
                )
                offenders += [f"{name}: {m}" for m in modules if m == "paper_venue" or m.startswith("paper_venue.")]
    assert offenders == []


def test_it_starts_the_simulator_as_make_run_does() -> None:
    """`python -m agents.venue --help` (the Procfile's command) reaches the simulator's own entry point."""
    done = subprocess.run([sys.executable, "-m", "agents.venue", "--help"], cwd=REPO, capture_output=True, text=True)
    assert done.returncode == 0 and "paper venue" in done.stdout.lower()
