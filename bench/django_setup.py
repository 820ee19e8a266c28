"""Shared by the benchmarks that need Django: a fresh data dir and SQLite database, migrated."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def setup_django(prefix: str, **env: str) -> Path:
    """Point Django at a new data dir (the embedded default: SQLite WAL), migrate, return the dir."""
    sys.path.insert(0, str(ROOT))
    data_dir = Path(tempfile.mkdtemp(prefix=prefix))
    os.environ.update({"ACADEMY_DATA_DIR": str(data_dir), "DEBUG": "true",
                       "DJANGO_SETTINGS_MODULE": "academy.settings", **env})
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return data_dir
