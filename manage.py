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
    """Load .env under the real environment (a real variable wins). `make run` rewrites it each time with the
    settings it ran with (academy/runenv.py, which parses it), so an operator's `manage.py halt` in a plain
    shell acts on the same database and flag file as the running system."""
    from academy.runenv import dotenv_load

    dotenv_load(path)


if __name__ == "__main__":
    main()
