"""Who runs an operator command from a shell: the OS user, the default actor of `halt` and `resume`."""

from __future__ import annotations

import getpass
import os


def os_user() -> str:
    """The OS account's name; never fails (a container's uid may have no name): then "uid N"."""
    try:
        return getpass.getuser()
    except (OSError, KeyError):  # OSError from Python 3.13, KeyError before: no LOGNAME/USER, no passwd entry
        return f"uid {os.getuid()}"
