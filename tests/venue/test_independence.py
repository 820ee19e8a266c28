"""The venue stands for an outside system: nothing in agents/venue may import Django."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import agents.venue

VENUE_DIR = Path(agents.venue.__file__).parent


def test_it_imports_no_django() -> None:
    code = (
        "import sys, agents.venue.service, agents.venue.client, agents.venue.testing, agents.venue.faults;"
        "sys.exit(1 if any(m == 'django' or m.startswith('django.') for m in sys.modules) else 0)"
    )
    assert subprocess.run([sys.executable, "-c", code], cwd=VENUE_DIR.parents[1]).returncode == 0
    for source in VENUE_DIR.glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+django", source.read_text(), re.M), source
