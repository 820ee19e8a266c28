"""System checks that catch a production misconfiguration at start-up."""

from __future__ import annotations

import os
from typing import Any

from django.conf import settings
from django.core.checks import Error, Warning, register

LOOPBACK = {"127.0.0.1", "localhost", "::1", "[::1]"}


@register()
def check_data_dir(app_configs: Any, **kwargs: Any) -> list[Error]:
    """The data dir holds the flag file, state and traces: it must be writable."""
    if not os.access(settings.DATA_DIR, os.W_OK):
        return [Error(f"ACADEMY_DATA_DIR {settings.DATA_DIR} is not writable", id="academy.E001")]
    return []


@register(deploy=True)
def check_debug_exposed(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """DEBUG on a host that is reachable from outside leaks settings and tracebacks."""
    exposed = set(settings.ALLOWED_HOSTS) - LOOPBACK
    if settings.DEBUG and exposed:
        return [Warning(f"DEBUG is on while ALLOWED_HOSTS admits {sorted(exposed)}", id="academy.W001")]
    return []


@register(deploy=True)
def check_wildcard_hosts(app_configs: Any, **kwargs: Any) -> list[Warning]:
    """A wildcard host accepts any Host header (cache poisoning, password-reset links to elsewhere)."""
    if not settings.DEBUG and "*" in settings.ALLOWED_HOSTS:
        return [Warning("ALLOWED_HOSTS contains '*' with DEBUG off: name the hosts", id="academy.W002")]
    return []
