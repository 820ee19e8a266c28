"""Redact secrets from any JSON-able value before it is written anywhere (file or DB row).

Redaction happens before the write, never after: a secret that reached disk has leaked
(backups, log shippers). We redact pattern-shaped keys and the literal values of configured
secret environment variables, in dict keys as well as values, at any depth.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from pydantic import BaseModel

MIN_SECRET_LEN = 6  # shorter env values ("1", "true", "dev") would redact half the trace

# Order matters: the Anthropic shape must win over the generic OpenAI `sk-` shape.
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("anthropic_key", re.compile(r"sk-ant-[A-Za-z0-9_\-]{8,}")),
    ("openai_key", re.compile(r"sk-[A-Za-z0-9_\-]{16,}")),
    ("aws_key", re.compile(r"(?<![A-Z0-9])(AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}")),
    ("bearer", re.compile(r"\b(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")),
    # 0x + 64 hex is a private key shape (tx hashes share it; redacting them is the safe error).
    ("private_key", re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{64}(?![0-9A-Za-z])")),
)
# One pass to find out whether any shape occurs at all: most strings in a trace hold none.
_ANY_SHAPE = re.compile("|".join(f"(?:{p.pattern})" for _, p in PATTERNS))
# Whatever the value looks like, these keys hold secrets.
SECRET_KEY_NAMES = re.compile(
    r"(?i)^(x-)?(api[_-]?key|authorization|password|passwd|secret|client[_-]?secret|private[_-]?key|"
    r"token|auth[_-]?token|bearer|access[_-]?token|refresh[_-]?token|session[_-]?token|routing[_-]?key)$"
)


def mask(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Redacts known key shapes and the current values of `secret_env_vars`."""

    def __init__(self, secret_env_vars: Sequence[str] = (), *, environ: Mapping[str, str] | None = None) -> None:
        self.secret_env_vars = tuple(secret_env_vars)
        self._environ = environ
        self._cache_key: tuple[str, ...] | None = None
        self._env_re: re.Pattern[str] | None = None

    def redact(self, value: Any) -> Any:
        """Return a JSON-able copy of `value` with every secret replaced by a mask."""
        env_re = self._env_pattern()  # env read once per event: a rotated key is caught at once
        return self._walk(to_jsonable(value), env_re)

    def text(self, s: str) -> str:
        return self._text(s, self._env_pattern())

    def _env_pattern(self) -> re.Pattern[str] | None:
        env = self._environ if self._environ is not None else os.environ
        values = tuple(sorted({v for n in self.secret_env_vars if len(v := env.get(n, "")) >= MIN_SECRET_LEN},
                              key=len, reverse=True))  # longest first so a prefix secret can't split one
        if values != self._cache_key:
            self._cache_key = values
            self._env_re = re.compile("|".join(re.escape(v) for v in values)) if values else None
        return self._env_re

    def _walk(self, v: Any, env_re: re.Pattern[str] | None) -> Any:
        if isinstance(v, str):
            return self._text(v, env_re)
        if isinstance(v, dict):
            return {self._text(str(k), env_re): self._value_for(str(k), x, env_re) for k, x in v.items()}
        if isinstance(v, list):
            return [self._walk(x, env_re) for x in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and env_re is not None:
            # a numeric secret (a PIN-like token) serialised as a number still leaks
            return mask("env") if env_re.search(str(v)) else v
        return v

    def _value_for(self, key: str, v: Any, env_re: re.Pattern[str] | None) -> Any:
        if SECRET_KEY_NAMES.match(key) and v not in (None, "", [], {}):
            return mask("key_name")
        return self._walk(v, env_re)

    def _text(self, s: str, env_re: re.Pattern[str] | None) -> str:
        if len(s) < MIN_SECRET_LEN:
            return s  # shorter than any shape or any env value we redact
        if env_re is not None:
            s = env_re.sub(mask("env"), s)
        if _ANY_SHAPE.search(s):
            for kind, pattern in PATTERNS:
                s = pattern.sub(mask(kind), s)
        return s


def to_jsonable(value: Any) -> Any:
    """Turn models, dataclasses, Decimals and datetimes into plain JSON types (money as strings)."""
    if value is None or isinstance(value, (str, bool, int, float)):
        return value
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [to_jsonable(v) for v in value]
    return _scalar(value)


def _scalar(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, Enum):
        return to_jsonable(value.value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_jsonable({f.name: getattr(value, f.name) for f in dataclasses.fields(value)})
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return repr(value)
