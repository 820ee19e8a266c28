"""Redact secrets from any JSON-able value before it is written anywhere (file or DB row).

Redaction happens before the write, never after: a secret that reached disk has leaked
(backups, log shippers). We redact pattern-shaped keys and the values of configured secret
environment variables, in dict keys as well as values, at any depth. A configured value is
masked in every form the egress filter looks for (agents/core/egress.py: plain, base64, base32,
hex, URL-encoded, reversed, split by spaces or invisible characters), with the same needles.
"""

from __future__ import annotations

import dataclasses
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

if TYPE_CHECKING:
    from agents.core.egress import NeedleSet

MIN_SECRET_LEN = 6  # shorter env values ("1", "true", "dev") would redact half the trace

# Order matters: the Anthropic shape must win over the generic OpenAI `sk-` shape.
# `sk-` starts a word ("musk-", "risk-", "task-" don't), or follows an escaped newline or tab.
# (Checked behind the literal `sk-`, which keeps the combined search below as fast as without it.)
_WORD_START = r"(?:(?<![A-Za-z0-9]sk-)|(?<=\\[nrt]sk-))"
PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    # The whole block, or to the end of the text when its END line is missing (cut or truncated).
    ("pem_private_key",
     re.compile(r"-----BEGIN[A-Z0-9 ]*PRIVATE ?KEY-----[\s\S]*?(?:-----END[A-Z0-9 ]*PRIVATE ?KEY-----|\Z)")),
    ("anthropic_key", re.compile(r"sk-" + _WORD_START + r"ant-[A-Za-z0-9_\-]{8,}")),
    ("openai_key", re.compile(r"sk-" + _WORD_START + r"[A-Za-z0-9_\-]{16,}")),
    ("aws_key", re.compile(r"(?<![A-Z0-9])(?:AKIA|ASIA)[0-9A-Z]{16}(?![A-Z0-9])")),
    ("jwt", re.compile(r"eyJ[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}\.[A-Za-z0-9_\-]{4,}")),
    ("bearer", re.compile(r"\b(?i:bearer)\s+[A-Za-z0-9._~+/=\-]{8,}")),
    # 0x + 64 hex is a private key shape (tx hashes share it; redacting them is the safe error).
    ("private_key", re.compile(r"(?<![0-9A-Za-z])0x[0-9a-fA-F]{64}(?![0-9A-Za-z])")),
)
# One pass to find out whether any shape occurs at all: most strings in a trace hold none.
# (No pattern has a capturing group, so _ANY_SHAPE.findall returns the matched texts.)
_ANY_SHAPE = re.compile("|".join(f"(?:{p.pattern})" for _, p in PATTERNS))
# Whatever the value looks like, these keys hold secrets.
SECRET_KEY_NAMES = re.compile(
    r"(?i)^(x-)?(api[_-]?key|authorization|password|passwd|secret|client[_-]?secret|private[_-]?key|"
    r"token|auth[_-]?token|bearer|access[_-]?token|refresh[_-]?token|session[_-]?token|routing[_-]?key)$"
)


def mask(kind: str) -> str:
    return f"[REDACTED:{kind}]"


class Redactor:
    """Redacts known key shapes and the current values of `secret_env_vars`, plain and encoded."""

    def __init__(self, secret_env_vars: Sequence[str] = (), *, environ: Mapping[str, str] | None = None) -> None:
        self.secret_env_vars = tuple(secret_env_vars)
        self._environ = environ

    def redact(self, value: Any) -> Any:
        """Return a JSON-able copy of `value` with every secret replaced by a mask."""
        data = to_jsonable(value)
        needles = self._needles()  # env read once per event: a rotated key is caught at once
        if needles is not None and not needles.maybe("\0".join(_texts(data))):
            needles = None  # one search over the whole event; most events hold no secret at all
        return self._walk(data, needles)

    def text(self, s: str) -> str:
        return self._text(s, self._needles())

    def _needles(self) -> NeedleSet | None:
        from agents.core.egress import needle_set  # egress builds on this module's shapes

        env = self._environ if self._environ is not None else os.environ
        values = tuple(sorted({(n, v) for n in self.secret_env_vars if len(v := env.get(n, "")) >= MIN_SECRET_LEN}))
        return needle_set(values) if values else None  # cached per set of values

    def _walk(self, v: Any, needles: NeedleSet | None) -> Any:
        if isinstance(v, str):
            return self._text(v, needles)
        if isinstance(v, dict):
            return {self._text(str(k), needles): self._value_for(str(k), x, needles) for k, x in v.items()}
        if isinstance(v, list):
            return [self._walk(x, needles) for x in v]
        if isinstance(v, (int, float)) and not isinstance(v, bool) and needles is not None:
            # a numeric secret (a PIN-like token) serialised as a number still leaks
            return mask("env") if needles.hits(str(v)) else v
        return v

    def _value_for(self, key: str, v: Any, needles: NeedleSet | None) -> Any:
        if SECRET_KEY_NAMES.match(key) and v not in (None, "", [], {}):
            return mask("key_name")
        return self._walk(v, needles)

    def _text(self, s: str, needles: NeedleSet | None) -> str:
        if len(s) < MIN_SECRET_LEN:
            return s  # shorter than any shape or any env value we redact
        if needles is not None:
            s = needles.mask(s, _env_mask)
        if _ANY_SHAPE.search(s):
            for kind, pattern in PATTERNS:
                s = pattern.sub(mask(kind), s)
        return s


def _env_mask(form: str) -> str:
    return mask("env") if form == "plain" else mask(f"env:{form}")


def _texts(data: Any) -> Iterator[str]:
    """Every string, key and number in a JSON-able value."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for k, v in data.items():
            yield str(k)
            yield from _texts(v)
    elif isinstance(data, list):
        for v in data:
            yield from _texts(v)
    elif isinstance(data, int | float) and not isinstance(data, bool):
        yield str(data)


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
