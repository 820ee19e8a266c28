"""Strict readers for settings that come from the environment.

Each refuses nonsense with `ImproperlyConfigured` naming the variable, so a bad value
stops start-up instead of running with a surprise. URLs are parsed by django-environ
(a well-kept parser) rather than by hand.
"""

from __future__ import annotations

import base64
import os
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import environ
from django.core.exceptions import ImproperlyConfigured

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_str(name: str, default: str) -> str:
    """Return the variable's value, or the default when it is unset."""
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    """Parse a boolean; anything but the usual spellings is an error."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use true/false, 1/0, yes/no, on/off)")


def env_int(name: str, default: int, *, minimum: int | None = None, maximum: int | None = None) -> int:
    """Parse an integer within optional bounds."""
    raw = os.environ.get(name)
    if raw is None:
        return default
    try:
        value = int(raw.strip())
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={value} is below the minimum {minimum}")
    if maximum is not None and value > maximum:
        raise ImproperlyConfigured(f"{name}={value} is above the maximum {maximum}")
    return value


def env_port(name: str, default: int) -> int:
    """A TCP port number (1-65535)."""
    return env_int(name, default, minimum=1, maximum=65535)


def env_decimal(name: str, default: str, *, minimum: str = "0") -> Decimal:
    """Parse a non-negative decimal (money, ratios, seconds): never a float."""
    raw = os.environ.get(name, default)
    try:
        value = Decimal(raw.strip())
    except InvalidOperation:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a number") from None
    if not value.is_finite() or value < Decimal(minimum):
        raise ImproperlyConfigured(f"{name}={raw!r} must be a finite number >= {minimum}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    """Parse a comma-separated list; empty items are an error (a stray comma is a typo)."""
    raw = os.environ.get(name)
    if raw is None:
        return list(default)
    items = [item.strip() for item in raw.split(",")]
    if not raw.strip() or any(not item for item in items):
        raise ImproperlyConfigured(f"{name}={raw!r} has an empty item")
    return items


def env_secret(name: str, *, required: bool, dev_default: str, min_length: int = 32) -> str:
    """Return a secret; when required it must be set and long enough to be one."""
    raw = os.environ.get(name)
    if raw is None:
        if required:
            raise ImproperlyConfigured(f"{name} must be set when DEBUG is off")
        return dev_default
    if len(raw) < min_length:
        raise ImproperlyConfigured(f"{name} is too short ({len(raw)} chars, need at least {min_length})")
    return raw


def env_path(name: str, default: Path) -> Path:
    """Return an absolute directory path, created if missing."""
    raw = os.environ.get(name)
    path = Path(raw).expanduser() if raw else default
    if raw is not None and not raw.strip():
        raise ImproperlyConfigured(f"{name} is set but empty")
    path = path.resolve()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}={str(path)!r} cannot be created: {exc}") from None
    return path


def env_database(name: str, default_sqlite: Path) -> dict[str, Any]:
    """Parse DATABASE_URL (sqlite or postgres); SQLite gets WAL mode and a lock timeout."""
    raw = os.environ.get(name)
    if raw is None:
        config: dict[str, Any] = {"ENGINE": "django.db.backends.sqlite3", "NAME": str(default_sqlite)}
    else:
        try:
            config = environ.Env.db_url_config(raw)
        except Exception as exc:  # django-environ raises several types for junk URLs
            raise ImproperlyConfigured(f"{name} is not a database URL: {exc}") from None
        if not config.get("ENGINE"):
            raise ImproperlyConfigured(f"{name} has an unsupported scheme: {raw.split(':', 1)[0]!r}")
        if config["ENGINE"] not in _SUPPORTED_ENGINES:
            raise ImproperlyConfigured(f"{name} uses {config['ENGINE']}; use sqlite:// or postgres://")
    if config["ENGINE"] == "django.db.backends.sqlite3":
        config.setdefault("OPTIONS", {}).update(_SQLITE_OPTIONS)
    else:  # a blackholed server must not hang a connect (a halt's record, a stop check) for minutes
        config.setdefault("OPTIONS", {}).setdefault("connect_timeout", 5)
    return config


_SUPPORTED_ENGINES = {"django.db.backends.sqlite3", "django.db.backends.postgresql"}

# WAL lets the web process read while a worker writes; IMMEDIATE takes the write lock at
# BEGIN so two writers queue on `timeout` instead of failing mid-transaction.
_SQLITE_OPTIONS = {
    "timeout": 20,
    "transaction_mode": "IMMEDIATE",
    "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=20000;",
}


_LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}


def env_url(name: str, default: str, *, secure_unless_loopback: bool = False) -> str:
    """An http(s) URL with a host; with secure_unless_loopback, plain http only to this machine
    (an API key must not cross a network in clear)."""
    raw = os.environ.get(name, default).strip()
    parts = urlsplit(raw)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an http(s) URL with a host")
    if secure_unless_loopback and parts.scheme == "http" and parts.hostname not in _LOOPBACK_HOSTS:
        raise ImproperlyConfigured(f"{name}={raw!r} sends an API key in clear: use https (http only to loopback)")
    return raw.rstrip("/")


def env_redis_url(name: str) -> str | None:
    """Return a redis:// or rediss:// URL, or None when unset."""
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return None
    if not raw.startswith(("redis://", "rediss://", "unix://")):
        raise ImproperlyConfigured(f"{name} is not a redis://, rediss:// or unix:// URL (its value is not shown: "
                                   "it may hold a password)")
    return raw


def env_choice(name: str, default: str, choices: tuple[str, ...]) -> str:
    """One of a fixed set of words (lower case)."""
    raw = os.environ.get(name, default).strip().lower()
    if raw not in choices:
        raise ImproperlyConfigured(f"{name}={raw!r} must be one of {', '.join(choices)}")
    return raw


def env_hex_key(name: str, *, required: bool) -> str:
    """A 32-byte private key as 0x + 64 hex digits (a wallet's signing key); "" when unset and not required.
    The message never repeats the value."""
    raw = os.environ.get(name, "").strip()
    if not raw:
        if required:
            raise ImproperlyConfigured(f"{name} is required (the trading wallet's private key, 0x + 64 hex digits)")
        return ""
    digits = raw.removeprefix("0x")
    if len(digits) != 64 or any(c not in "0123456789abcdefABCDEF" for c in digits) or int(digits, 16) == 0:
        raise ImproperlyConfigured(f"{name} is malformed: expected 0x followed by 64 hex digits (value not shown)")
    return "0x" + digits.lower()


def env_base64(name: str) -> str:
    """A base64 secret (an HMAC key); "" when unset. The message never repeats the value."""
    raw = os.environ.get(name, "").strip()
    if raw:
        try:
            if not base64.b64decode(raw, validate=True):
                raise ValueError("empty")
        except ValueError:
            raise ImproperlyConfigured(f"{name} is malformed: expected standard base64 (value not shown)") from None
    return raw


def env_one_credential(*groups: tuple[str, ...]) -> None:
    """Exactly one group of variables is set in full (e.g. an HMAC token id and secret, or an API key)."""
    full = [g for g in groups if all(os.environ.get(n, "").strip() for n in g)]
    partial = [g for g in groups if g not in full and any(os.environ.get(n, "").strip() for n in g)]
    if partial:
        missing = [n for n in partial[0] if not os.environ.get(n, "").strip()]
        raise ImproperlyConfigured(f"{', '.join(missing)} is required with {', '.join(partial[0])}")
    if not full:
        options = " or ".join("+".join(g) for g in groups)
        raise ImproperlyConfigured(f"venue credentials are required: set {options}")


def env_optional_url(name: str, *, required: bool, what: str) -> str:
    """An http(s) URL (https unless loopback), "" when unset and not required."""
    if not os.environ.get(name, "").strip():
        if required:
            raise ImproperlyConfigured(f"{name} is required ({what})")
        return ""
    return env_url(name, "", secure_unless_loopback=True)
