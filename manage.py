#!/usr/bin/env python
"""Django's command-line utility for administrative tasks."""

from __future__ import annotations

import os
import sys
from pathlib import Path


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "academy.settings")
    _read_dotenv(Path(__file__).resolve().parent / ".env")
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


def _read_dotenv(path: Path) -> None:
    """Load KEY=value lines written by `make run` (the local demo's DEBUG and data dir), so an
    operator's `manage.py halt` in a plain shell finds the same database; real env vars win."""
    if not path.exists():
        return
    for line in path.read_text().splitlines():
        key, sep, value = line.strip().partition("=")
        if sep and key and not key.startswith("#"):
            os.environ.setdefault(key.strip(), value.strip())


if __name__ == "__main__":
    main()
