"""Redact secrets from any JSON-able value before it is written anywhere (file or DB row).

Redaction happens before the write, never after: a secret that reached disk has leaked
(backups, log shippers). We redact pattern-shaped keys and the values of configured secret
environment variables, in dict keys as well as values, at any depth. A configured value is
masked in every form the egress filter looks for (agents/core/egress.py: plain, base64, base32,
hex, URL-encoded, reversed, split by spaces or invisible characters), with the same needles; both
also search the text as a reader would decode it (`unescaped`: percent and backslash escapes decoded,
full-width characters folded) and mask the characters it came from.
"""

from __future__ import annotations

import bisect
import codecs
import dataclasses
import os
import re
import unicodedata
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from functools import lru_cache
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
# Each shape above holds one of these literals (or "bearer" in any case): looking for them is ten times
# quicker than the search, and a text with none of them holds no shape. Add a new shape's literal here.
_SHAPE_LITERALS = ("sk-", "AKIA", "ASIA", "eyJ", "0x", "-----BEGIN")
# Whatever the value looks like, these keys hold secrets.
SECRET_KEY_NAMES = re.compile(
    r"(?i)^(x-)?(api[_-]?key|authorization|password|passwd|secret|client[_-]?secret|private[_-]?key|"
    r"token|auth[_-]?token|bearer|access[_-]?token|refresh[_-]?token|session[_-]?token|routing[_-]?key)$"
)


def mask(kind: str) -> str:
    return f"[REDACTED:{kind}]"


# What a reader (or a tool) decodes: %XX and \xHH are bytes (read as UTF-8), \uHHHH a code point.
_ESCAPE = re.compile(r"%([0-9A-Fa-f]{2})|\\x([0-9A-Fa-f]{2})|\\u([0-9A-Fa-f]{4})")


@dataclasses.dataclass(frozen=True)
class Unescaped:
    """A text as it reads once decoded, and which characters of the original each part came from."""

    text: str
    # (start in text, start in the original, end in the original, copied one for one)
    pieces: tuple[tuple[int, int, int, bool], ...]

    def source(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original that text[start:end] was decoded from."""
        return self._origin(start)[0], self._origin(end - 1)[1]

    def _origin(self, i: int) -> tuple[int, int]:
        out, start, end, copied = self.pieces[bisect.bisect_right([p[0] for p in self.pieces], i) - 1]
        return (start + i - out, start + i - out + 1) if copied else (start, end)


def unescaped(text: str) -> Unescaped | None:
    """`text` with its percent, \\x and \\u escapes decoded and NFKC applied (full-width letters become
    ASCII); None when that changes nothing. The egress filter and the redactor both search this reading,
    so a key written partly escaped is found, and masked where it was written."""
    if text.isascii() and "%" not in text and "\\" not in text:
        return None
    decoded = _Decoding(text).run()
    return decoded if decoded.text != text else None


class _Decoding:
    def __init__(self, text: str) -> None:
        self.source, self.out, self.pieces, self.n = text, [], [], 0
        self.utf8 = codecs.getincrementaldecoder("utf-8")("replace")
        self.first = -1  # where the bytes not decoded yet began

    def run(self) -> Unescaped:
        pos = 0
        for m in _ESCAPE.finditer(self.source):
            if m.start() > pos:
                self._flush(pos)
                self._plain(pos, m.start())
            if m.group(3) is None:
                self._byte(int(m.group(1) or m.group(2), 16), m.start(), m.end())
            else:
                self._flush(m.start())
                self._add(_nfkc(chr(int(m.group(3), 16))), m.start(), m.end(), copied=False)
            pos = m.end()
        self._flush(pos)
        self._plain(pos, len(self.source))
        return Unescaped("".join(self.out), tuple(self.pieces))

    def _add(self, chars: str, start: int, end: int, *, copied: bool) -> None:
        if chars:
            self.pieces.append((self.n, start, end, copied and len(chars) == end - start))
            self.out.append(chars)
            self.n += len(chars)

    def _plain(self, start: int, end: int) -> None:
        seg = self.source[start:end]
        if seg.isascii() or unicodedata.is_normalized("NFKC", seg):
            self._add(seg, start, end, copied=True)
            return
        for i, ch in enumerate(seg, start):
            self._add(_nfkc(ch), i, i + 1, copied=True)

    def _byte(self, value: int, start: int, end: int) -> None:
        if self.first < 0:
            self.first = start
        chars = self.utf8.decode(bytes([value]))
        if chars:
            self._add(_nfkc(chars), self.first, end, copied=False)
            self.first = start if self.utf8.getstate()[0] else -1

    def _flush(self, at: int) -> None:
        """End a run of byte escapes: an unfinished UTF-8 sequence reads as U+FFFD."""
        if self.first >= 0:
            self._add(self.utf8.decode(b"", final=True), self.first, at, copied=False)
            self.utf8.reset()
            self.first = -1


def _nfkc(chars: str) -> str:
    return chars if chars.isascii() else unicodedata.normalize("NFKC", chars)


def replace_spans(text: str, spans: list[tuple[int, int, str]]) -> str:
    """text with each (start, end, replacement) span replaced; overlapping spans are replaced as one."""
    out, pos = [], 0
    for start, end, replacement in sorted(spans):
        if start < pos:  # overlaps the span before: widen that one
            pos = max(pos, end)
            continue
        out += [text[pos:start], replacement]
        pos = end
    return "".join(out) + text[pos:]


class Redactor:
    """Redacts known key shapes and the current values of `secret_env_vars`, plain and encoded."""

    def __init__(self, secret_env_vars: Sequence[str] = (), *, environ: Mapping[str, str] | None = None) -> None:
        self.secret_env_vars = tuple(secret_env_vars)
        self._environ = environ
        self._keys = tuple(os.fsencode(n) for n in self.secret_env_vars)
        self._decoded: tuple[tuple[bytes | None, ...], tuple[tuple[str, str], ...]] = ((), ())  # raw -> values
        self._last: tuple[tuple[tuple[str, str], ...], NeedleSet | None] = ((), None)  # values -> needles

    def redact(self, value: Any) -> Any:
        """Return a JSON-able copy of `value` with every secret replaced by a mask.

        1. copy it JSON-able, noting its strings, numbers and keys (one walk);
        2. look for a configured value, a key shape and a secret key name in all of them at once;
        3. only where one may be, mask string by string: most events hold no secret at all.
        """
        texts: list[str] = []
        keys: list[str] = []
        data = _scan(value, texts, keys)
        joined = "\0".join(texts)  # no shape matches across a \0: what is in a string is found here
        needles = self._needles()  # env read once per event: a rotated key is caught at once
        if needles is not None and not needles.maybe(joined):
            needles = None
        if needles is None and not _may_hold_shape(texts, joined) and not any(map(_secret_key_name, keys)):
            return data  # a copy already: nothing of the caller's is shared
        return self._walk(data, needles)

    def text(self, s: str) -> str:
        return self._text(s, self._needles())

    def _needles(self) -> NeedleSet | None:
        values = self._values(self._raw())
        last = self._last
        if values == last[0]:
            return last[1]  # the values of the event before: most events
        from agents.core.egress import needle_set  # egress builds on this module's shapes

        needles = needle_set(tuple(sorted(set(values)))) if values else None  # cached per set of values
        self._last = (values, needles)  # one assignment: another thread sees the old pair or the new
        return needles

    def _raw(self) -> dict[bytes, bytes] | None:
        """os.environ's own store (bytes), where there is one and no other environ was given."""
        raw = getattr(os.environ, "_data", None) if self._environ is None and os.name == "posix" else None
        return raw if isinstance(raw, dict) else None

    def _values(self, raw: dict[bytes, bytes] | None) -> tuple[tuple[str, str], ...]:
        """(name, value) of each configured variable set to a value long enough to look for, read now."""
        if raw is not None:
            # os.environ's own store (bytes): the same values, read without an encode per name and a
            # KeyError per unset one (most are), which cost more than all the rest of a redaction;
            # decoded only when one changed since the event before (a rotated key is still seen at once)
            seen = tuple(map(raw.get, self._keys))
            last = self._decoded
            if seen == last[0]:
                return last[1]
            found = zip(self.secret_env_vars, seen, strict=True)
            values = tuple((n, s) for n, v in found if v is not None and len(s := os.fsdecode(v)) >= MIN_SECRET_LEN)
            self._decoded = (seen, values)  # one assignment, as _last
            return values
        env = self._environ if self._environ is not None else os.environ
        return tuple((n, v) for n in self.secret_env_vars if len(v := env.get(n, "")) >= MIN_SECRET_LEN)

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
        if _has_shape(s):
            for kind, pattern in PATTERNS:
                s = pattern.sub(mask(kind), s)
        return _mask_escaped_shapes(s)


def _mask_escaped_shapes(s: str) -> str:
    """Mask a key shape that shows only once the text is decoded (`unescaped`), where it was written."""
    decoded = unescaped(s)
    if decoded is None or not _has_shape(decoded.text):
        return s
    text, spans = decoded.text, []
    for kind, pattern in PATTERNS:
        for m in pattern.finditer(text):
            spans.append((*decoded.source(*m.span()), mask(kind)))
        text = pattern.sub(lambda m: "\0" * len(m.group()), text)  # an sk-ant- key is not also an sk- key
    return replace_spans(s, spans)


@lru_cache(maxsize=4096)
def _secret_key_name(key: str) -> bool:
    """SECRET_KEY_NAMES.match, remembered: an event's keys are mostly the same few dozen names."""
    return SECRET_KEY_NAMES.match(key) is not None


def _env_mask(form: str) -> str:
    return mask("env") if form == "plain" else mask(f"env:{form}")


def _scan(value: Any, texts: list[str], keys: list[str]) -> Any:
    """A JSON-able copy of `value` (as to_jsonable makes it); each string and number of it goes to
    `texts`, each dict key to `keys` and `texts`. Plain JSON types are looked at by exact type (quick)."""
    kind = type(value)
    if kind is dict:
        out = {}
        for k, v in value.items():
            k = k if type(k) is str else str(k)
            keys.append(k)
            texts.append(k)
            if type(v) is str:  # most values: no call
                texts.append(v)
                out[k] = v
            else:
                out[k] = _scan(v, texts, keys)
        return out
    if kind is str:
        texts.append(value)
        return value
    if kind is list:
        return [_scan(v, texts, keys) for v in value]
    if value is None or kind is bool:
        return value
    if kind is int or kind is float:
        texts.append(str(value))
        return value
    return _scan_other(value, texts, keys)


def _scan_other(value: Any, texts: list[str], keys: list[str]) -> Any:
    if isinstance(value, str):  # a StrEnum: to_jsonable keeps it as it is
        texts.append(value)
        return value
    if isinstance(value, int | float):  # an IntEnum, likewise (bool is no base class)
        texts.append(str(value))
        return value
    return _scan(to_jsonable(value), texts, keys)  # a model, tuple, Decimal, datetime, dict subclass...


def _has_shape(text: str) -> bool:
    """Whether a key shape is in text (_ANY_SHAPE.search, after the quick look for their literals)."""
    if not any(lit in text for lit in _SHAPE_LITERALS) and "bearer" not in text.lower():
        return False
    return _ANY_SHAPE.search(text) is not None


def _may_hold_shape(texts: list[str], joined: str) -> bool:
    """Whether a key shape may be in one of `texts` (joined by \0), as written or as a reader decodes
    it (`unescaped`). Only texts with something to decode are decoded, each on its own, as _text does."""
    if _has_shape(joined):
        return True
    if joined.isascii() and "%" not in joined and "\\" not in joined:
        return False
    return any((d := unescaped(t)) is not None and _has_shape(d.text) for t in texts)


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
