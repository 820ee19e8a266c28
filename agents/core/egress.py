"""Egress filter: find secrets in what is about to leave (tool arguments, the model's text).

Two kinds of finding, each a `Leak` that names the secret's variable (or its shape), where it
was and in which form, never the value itself:

1. a configured secret value (the current value of a named environment variable), plain or
   encoded: base64 (standard and urlsafe, padded or not, at every byte alignment, so a secret
   inside a longer blob is found), base32, hex, URL-encoded (every byte, or only the reserved
   ones) and reversed; encodings whose alphabet ignores case are matched ignoring case; a value
   split by whitespace, invisible characters or punctuation is still found;
2. a secret shape with no configured value (redact.PATTERNS: sk-..., sk-ant-..., AKIA...,
   JWTs, bearer tokens, 0x + 64 hex, PEM private keys), plain or inside a base64 or hex blob.

Both are also looked for in the text as a reader would decode it (redact.unescaped: percent and
backslash escapes decoded, full-width characters folded), found there in the form "escaped".

The encoded forms ("needles") are built once per set of values and cached, so a check is a
few substring searches per string. The Redactor masks the same needles in traces.
"""

from __future__ import annotations

import base64
import binascii
import bisect
import itertools
import os
import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from typing import Any
from urllib.parse import quote, quote_plus

from agents.core.redact import _ANY_SHAPE, MIN_SECRET_LEN, PATTERNS, replace_spans, unescaped

ESCAPED = "escaped"  # found only once the text is decoded (redact.unescaped)
FORMS = ("plain", "base64", "base32", "hex", "url", "reversed", ESCAPED)
# Haystacks a needle is searched in: "c" the string without whitespace and invisible characters,
# "a" only its ASCII letters and digits (so punctuation cannot split a needle made of them);
# "l" appended: lower-cased, for encodings that ignore case (hex, base32, percent escapes).
_ALNUM_BYTES = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
_NOT_ALNUM = bytes(b for b in range(256) if b not in _ALNUM_BYTES)


def _alnum_only(text: str) -> str:
    """The ASCII letters and digits of `text`, in order. As bytes: every other character, non-ASCII
    ones included (their UTF-8 bytes are all >= 0x80), is deleted in one pass, about 20 times faster
    than a regex substitution (this runs on every string of every trace event)."""
    return text.encode("utf-8", "surrogatepass").translate(None, _NOT_ALNUM).decode("ascii")


_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
_HEX_VALUE = re.compile(r"(?:0[xX])?([0-9a-fA-F]+)")
# Blobs worth decoding to look for an unconfigured key shape inside them.
_B64_RUN = re.compile(r"[A-Za-z0-9+/_-]{24,}")
_HEX_RUN = re.compile(r"[0-9a-fA-F]{32,}")
_ALNUM_RUN = re.compile(r"[A-Za-z0-9]{12,}")
_LOOSE_KINDS = frozenset({"openai_key", "anthropic_key", "bearer"})  # shapes prose can take ("sk-hynix-...")


@dataclass(frozen=True)
class Leak:
    """A secret found: `name` is the variable (or the shape kind), `where` a JSON path, `form` the encoding.

    `texts`, for a shape, are the strings it matched (never traced: the loop only compares them with
    what it showed the model)."""

    name: str
    where: str
    form: str
    texts: tuple[str, ...] = field(default=(), compare=False, repr=False)


@dataclass(frozen=True)
class Needle:
    form: str
    text: str  # as it appears in its haystack (compacted, and lower-cased when `hay` ends in "l")
    hay: str  # "c", "cl", "a" or "al" (see above)


# ------------------------------------------------------------------------------------ public


def secret_values(names: Iterable[str], environ: Mapping[str, str] | None = None) -> dict[str, str]:
    """The current value of each named variable that is set and long enough to look for."""
    env = os.environ if environ is None else environ
    return {n: v for n in names if len(v := env.get(n, "")) >= MIN_SECRET_LEN}


def find_leaks(value: Any, secrets: Mapping[str, str], *, root: str | None = None) -> list[Leak]:
    """Every configured secret (by name) and every secret shape (by kind) in `value`, once per place.

    `value` is JSON-able: a tool's arguments (paths start at "args") or a model's text ("text").
    """
    where = root if root is not None else ("text" if isinstance(value, str) else "args")
    needles = needle_set(tuple(sorted(secrets.items())))
    found: dict[tuple[str, str, str], list[str]] = {}
    for path, text in _strings(value, where, needles):
        if hits := needles.find(text):
            for name, form in hits:
                found.setdefault((name, path, form), [])
            text = needles.mask(text, lambda form: "\0")  # a configured key is not reported again as a shape
        for kind, form, matched in shape_matches(text):
            found.setdefault((kind, path, form), []).append(matched)
    return [Leak(name, path, form, tuple(texts)) for (name, path, form), texts in found.items()]


def find_shapes(text: str) -> list[tuple[str, str]]:
    """(kind, form) of each secret shape in text (see shape_matches)."""
    return list(dict.fromkeys((kind, form) for kind, form, _ in shape_matches(text)))


def shape_matches(text: str) -> list[tuple[str, str, str]]:
    """(kind, form, matched text) of each secret shape in text: as written, split by whitespace or
    invisible characters, escaped (redact.unescaped), or inside a base64/hex blob; each match once."""
    found: dict[tuple[str, str], str] = {}
    decoded = unescaped(text)
    for view, form in [(text, "plain"), *([(decoded.text, ESCAPED)] if decoded is not None else [])]:
        compact = _compact(view)
        words = " ".join(_compact(word) for word in view.split())  # zero-width characters gone, spaces kept
        for candidate in dict.fromkeys((view, words, compact)):
            for kind, matched in _shapes_in(candidate):
                found.setdefault((kind, matched), form)
        for blob, plain in _decoded_blobs(compact):
            for kind, matched in _shapes_in(plain):
                found.setdefault((kind, matched), blob)
    return [(kind, form, matched) for (kind, matched), form in found.items()]


# ------------------------------------------------------------------------------------ needles


class NeedleSet:
    """The encoded forms of a set of secret values, ready for substring search."""

    def __init__(self, secrets: tuple[tuple[str, str], ...]) -> None:
        by_hay: dict[str, list[tuple[str, str, str]]] = {"c": [], "cl": [], "a": [], "al": []}
        seen: set[tuple[str, str]] = set()
        for name, value in secrets:
            if len(value) < MIN_SECRET_LEN:
                continue
            for n in needles_for(value):
                if (n.text, n.hay) not in seen:
                    seen.add((n.text, n.hay))
                    by_hay[n.hay].append((n.text, name, n.form))
        # longest first: a secret that contains another is masked whole
        self.by_hay = {hay: tuple(sorted(v, key=lambda t: -len(t[0]))) for hay, v in by_hay.items() if v}
        self.shortest = min((len(t[0]) for v in self.by_hay.values() for t in v), default=0)
        self._coarse = _coarse(self.by_hay)

    def __bool__(self) -> bool:
        return bool(self.by_hay)

    def find(self, text: str) -> list[tuple[str, str]]:
        """(name, form) of each configured secret found in text, in needle order, once each; a secret
        found only once the text is decoded (redact.unescaped) is named once, in the form "escaped"
        when its needle is the plain value."""
        found = dict.fromkeys((name, form) for _, name, form in self.hits(text))
        decoded = unescaped(text)
        if decoded is not None:
            named = {name for name, _ in found}
            for _, name, form in self.hits(decoded.text):
                if name not in named:
                    found.setdefault((name, ESCAPED if form == "plain" else form))
        return list(found)

    def maybe(self, text: str) -> bool:
        """False when no needle can be in text, as written or decoded (redact.unescaped): one cheap pass
        over a long text, or a whole event at once. True means: look closer with find()."""
        if self._maybe(text):
            return True
        decoded = unescaped(text) if self.by_hay else None
        return decoded is not None and self._maybe(decoded.text)

    def _maybe(self, text: str) -> bool:
        """Every needle stripped to its letters and digits, looked for in text so stripped: fewer
        needles and two haystacks instead of four."""
        if not self.by_hay or len(text) < self.shortest:
            return False
        if self._coarse is None:
            return True
        alnum = _alnum_only(text)
        lower = alnum.translate(_ASCII_LOWER)
        return any(n in alnum for n in self._coarse[0]) or any(n in lower for n in self._coarse[1])

    def hits(self, text: str) -> list[tuple[Needle, str, str]]:
        """Each needle found in text as written, with the secret's name and form."""
        if not self._maybe(text):
            return []
        stacks = _haystacks(text)
        return [(Needle(form, needle, hay), name, form) for hay, entries in self.by_hay.items()
                for needle, name, form in entries if needle in stacks[hay]]

    def mask(self, text: str, replacement: Any) -> str:
        """text with every needle found replaced by replacement(form) (spaces or punctuation in it included).

        A base64 or base32 needle leaves out the characters it shares with its neighbours, so the
        whole blob around it is masked: a few bits of the key must not stay beside the mask.
        """
        for needle, _, form in self.hits(text):
            spans = [m.span() for m in _needle_regex(needle.text, needle.hay).finditer(text)]
            blob = _BLOB_CHARS.get(form)
            for start, end in reversed(spans):
                if blob is not None:
                    start, end = _widen(text, start, end, blob)
                text = text[:start] + replacement(form) + text[end:]
        return self._mask_escaped(text, replacement)

    def _mask_escaped(self, text: str, replacement: Any) -> str:
        """Mask a needle found only once the text is decoded (redact.unescaped), where it was written."""
        decoded = unescaped(text)
        if decoded is None:
            return text
        spans = []
        for needle, _, form in self.hits(decoded.text):
            blob = _BLOB_CHARS.get(form)
            for m in _needle_regex(needle.text, needle.hay).finditer(decoded.text):
                start, end = decoded.source(*m.span())
                if blob is not None:
                    start, end = _widen(text, start, end, blob)
                spans.append((start, end, replacement(ESCAPED if form == "plain" else form)))
        return replace_spans(text, spans)


def _coarse(by_hay: dict[str, tuple[tuple[str, str, str], ...]]) -> tuple[tuple[str, ...], tuple[str, ...]] | None:
    """(case-sensitive, lower-cased) needles of letters and digits only; None if one would be too short to trust."""
    exact: set[str] = set()
    folded: set[str] = set()
    for hay, entries in by_hay.items():
        for text, _, _ in entries:
            stripped = _alnum_only(text)
            if len(stripped) < MIN_SECRET_LEN:
                return None  # a value made mostly of punctuation: always look closer
            (folded if hay.endswith("l") else exact).add(stripped)
    return tuple(exact), tuple(folded)


_BLOB_CHARS = {"base64": frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/-_="),
               "base32": frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz234567=")}


def _widen(text: str, start: int, end: int, chars: frozenset[str]) -> tuple[int, int]:
    while start > 0 and text[start - 1] in chars:
        start -= 1
    while end < len(text) and text[end] in chars:
        end += 1
    return start, end


@lru_cache(maxsize=32)
def needle_set(secrets: tuple[tuple[str, str], ...]) -> NeedleSet:
    """The NeedleSet of ((name, value), ...), built once per set of values."""
    return NeedleSet(secrets)


def needles_for(value: str) -> list[Needle]:
    """Every form of one secret value we look for."""
    compact = _compact(value)
    raw = value.encode("utf-8")
    out = [*_text_needles("plain", compact), *_text_needles("reversed", compact[::-1])]
    if (bare := _HEX_VALUE.fullmatch(compact)) is not None:
        out.append(_needle("plain", bare.group(1), fold=True))  # a hex key without its 0x, any case
    out.append(_needle("hex", raw.hex(), fold=True))
    out += [_needle("base64", f) for f in _aligned(raw, base64.b64encode, 3, 6)]
    out += [_needle("base64", f) for f in _aligned(raw, base64.urlsafe_b64encode, 3, 6)]
    out += [_needle("base32", f, fold=True) for f in _aligned(raw, base64.b32encode, 5, 5)]
    out.append(_needle("url", "".join(f"%{b:02x}" for b in raw), fold=True))  # every byte escaped
    out += [_needle("url", u) for u in _url_reserved(value) if u != value]
    return [n for n in out if len(n.text) >= MIN_SECRET_LEN]


def _text_needles(form: str, text: str) -> list[Needle]:
    """The text as is, and its letters and digits alone (so 'sk-ant-…' split at any punctuation is found)."""
    alnum = _alnum_only(text)
    return [_needle(form, text), _needle(form, alnum)] if alnum != text else [_needle(form, text)]


def _needle(form: str, text: str, *, fold: bool = False) -> Needle:
    hay = "a" if text.isascii() and text.isalnum() else "c"  # a letters-and-digits needle survives any split
    return Needle(form, text.translate(_ASCII_LOWER) if fold else text, hay + ("l" if fold else ""))


def _aligned(raw: bytes, encode: Any, group: int, bits: int) -> list[str]:
    """The characters of raw's encoding that do not depend on its neighbours, at every byte offset.

    Inside a longer blob, raw may start at any byte of an encoding group; the characters that
    straddle raw's first or last byte mix in unknown bits, so they are left out.
    """
    out = []
    for offset in range(group):
        encoded = encode(b"\0" * offset + raw).decode("ascii").rstrip("=")
        start, end = -(-8 * offset // bits), 8 * (offset + len(raw)) // bits
        out.append(encoded[start:end])
    return out


def _url_reserved(value: str) -> set[str]:
    """Percent-encodings that escape only some characters, as the common encoders do (upper and lower case)."""
    forms = {quote(value, safe=""), quote(value), quote(value, safe="!*'()~"), quote_plus(value)}
    return forms | {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in forms}


# ------------------------------------------------------------------------------------ haystacks


@cache
def _invisible_class() -> str:
    """Whitespace, format characters (Unicode Cf: zero-width, bidi, tags), variation selectors, CGJ.

    A character class built from unicodedata on first use; Cf lives only in planes 0, 1 and 14.
    """
    import unicodedata

    planes = (*range(0x20000), *range(0xE0000, 0xE1000))
    points = [c for c in planes if unicodedata.category(chr(c)) in ("Cf", "Zs", "Zl", "Zp")]
    points += [0x034F, *range(0xFE00, 0xFE10), *range(0xE0100, 0xE01F0)]
    return "[\\s" + "".join(_char_range(a, b) for a, b in _ranges(sorted(set(points)))) + "]"


def _ranges(points: list[int]) -> Iterator[tuple[int, int]]:
    start = prev = points[0]
    for p in points[1:]:
        if p != prev + 1:
            yield start, prev
            start = p
        prev = p
    yield start, prev


def _char_range(a: int, b: int) -> str:
    return re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}"


@cache
def _invisible() -> re.Pattern[str]:
    return re.compile(_invisible_class() + "+")


def _compact(text: str) -> str:
    if text.isascii():
        return "".join(text.split()) if not text.isalnum() else text
    return _invisible().sub("", text)


def _haystacks(text: str) -> dict[str, str]:
    compact = _compact(text)
    alnum = _alnum_only(compact)
    return {"c": compact, "cl": compact.translate(_ASCII_LOWER), "a": alnum, "al": alnum.lower()}


@lru_cache(maxsize=512)
def _needle_regex(text: str, hay: str) -> re.Pattern[str]:
    """The needle as a pattern in the original text: its haystack's dropped characters may sit between any two."""
    gap = "[^0-9A-Za-z]*" if hay.startswith("a") else _invisible_class() + "*"
    flags = re.IGNORECASE | re.ASCII if hay.endswith("l") else 0
    return re.compile(gap.join(re.escape(ch) for ch in text), flags)


# ------------------------------------------------------------------------------------ shapes


def _shapes_in(text: str) -> Iterator[tuple[str, str]]:
    """(kind, matched text) of each shape in text."""
    for kind, start, end in _shape_spans(text, lambda start, end: _random_looking(text[start:end])):
        yield kind, text[start:end]


def _shape_spans(text: str, looks_random: Any) -> Iterator[tuple[str, int, int]]:
    """(kind, start, end) of each shape in text; a kind prose can take counts when looks_random(start, end)."""
    if len(text) < MIN_SECRET_LEN or not _ANY_SHAPE.search(text):
        return
    for kind, pattern in PATTERNS:
        hits = [m for m in pattern.finditer(text) if kind not in _LOOSE_KINDS or looks_random(*m.span())]
        for m in hits:
            yield kind, m.start(), m.end()
        for m in reversed(hits):  # blanked with as many characters, as the Redactor masks it: an sk-ant- key
            text = text[: m.start()] + "\0" * (m.end() - m.start()) + text[m.end():]  # is not also an sk- key


# Where a key shape starts ("bearer" needs its space: the words and compacted views cover it).
_HEAD = re.compile(r"sk-|AKIA|ASIA|eyJ|0x|-----BEGIN")
_ASCII_ALNUM = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
_BOUNDED = tuple((kind, pattern) for kind, pattern in PATTERNS if kind in ("aws_key", "private_key"))
_BOUNDED_LEN = 80  # the longest of them (0x + 64 hex) and then some


def rejoined_shapes(text: str) -> list[tuple[str, str]]:
    """(kind, matched text) of each key shape a reader could make of text by taking the spaces out of
    consecutive words and quoting the result alone ("sk-ant-api03 Zx9Qw7..." quoted as one token):
    what the compacted view of shape_matches misses when the words around it glue on. A kind prose can
    take counts only when one of its words looks random by itself ("sk-" + ordinary words does not)."""
    words = _Words(text)
    if not _HEAD.search(words.joined):
        return []
    found: dict[tuple[str, str], None] = {}
    for head in _HEAD.finditer(words.joined):
        p = head.start()
        first = bisect.bisect_right(words.ends, p)  # the word holding p
        if p != (words.ends[first - 1] if first else 0) and words.joined[p - 1] in _ASCII_ALNUM:
            continue  # inside a word ("risk-", "tx0x"): no quote of a key starts there
        for view, kinds in _views_from(words.joined, p, words.ends[first:]):
            if shape := _shape_at_start(view, kinds, lambda end, p=p: words.random_in(p, p + end)):
                found.setdefault(shape)
    return list(found)


class _Words:
    """A text's words joined without their spaces, where each ends, and which look random by themselves."""

    def __init__(self, text: str) -> None:
        words = [w for w in map(_compact, text.split()) if w]
        self.joined = "".join(words)
        self.ends = list(itertools.accumulate(map(len, words)))
        self.randoms = list(itertools.accumulate((_random_looking(w) for w in words), initial=0))

    def random_in(self, start: int, end: int) -> bool:
        """Whether joined[start:end] holds a random-looking run inside one word (see _random_looking)."""
        i, j = bisect.bisect_right(self.ends, start), bisect.bisect_left(self.ends, end)  # first and last word
        if i == j:
            return _random_looking(self.joined[start:end])
        return (_random_looking(self.joined[start:self.ends[i]]) or _random_looking(self.joined[self.ends[j - 1]:end])
                or self.randoms[j] > self.randoms[i + 1])


def _shape_at_start(view: str, kinds: tuple[tuple[str, re.Pattern[str]], ...],
                    looks_random: Any) -> tuple[str, str] | None:
    """(kind, matched text) of the shape of `kinds` view starts with, if any."""
    for kind, pattern in kinds:
        m = pattern.match(view)
        if m and (kind not in _LOOSE_KINDS or looks_random(m.end())):
            return kind, m.group()
    return None


def _views_from(joined: str, p: int, ends: list[int]) -> Iterator[tuple[str, tuple[tuple[str, re.Pattern[str]], ...]]]:
    """(view, kinds to try in it): joined from p to its end for every kind, and to each word end near p for
    the kinds bounded on the right (0x + 64 hex, AKIA + 16), which may end at any of them."""
    yield joined[p:p + 4096], PATTERNS
    for end in ends:
        if end - p > _BOUNDED_LEN:
            return
        yield joined[p:end], _BOUNDED


def _random_looking(token: str) -> bool:
    """A key has a long run of letters and digits with a digit in it; prose has not ('bearer bonds')."""
    return any(any(ch.isdigit() for ch in run.group()) for run in _ALNUM_RUN.finditer(token))


def _decoded_blobs(text: str) -> Iterator[tuple[str, str]]:
    """What each base64 or hex run in text decodes to, at every alignment, as latin-1 text."""
    for run in _B64_RUN.findall(text):
        std = run.replace("-", "+").replace("_", "/")
        for start in range(4):
            chunk = std[start:]
            rest = len(chunk) % 4  # a last partial group is padded, so a key at the very end is whole
            chunk = chunk[:-1] if rest == 1 else chunk + "=" * (-rest % 4)
            yield "base64", base64.b64decode(chunk).decode("latin-1")
    for run in _HEX_RUN.findall(text):
        for start in range(2):
            chunk = run[start:][: (len(run) - start) // 2 * 2]
            try:
                yield "hex", binascii.unhexlify(chunk).decode("latin-1")
            except binascii.Error:  # pragma: no cover - the run is hex and even by construction
                continue


# ------------------------------------------------------------------------------------ walking


def _strings(value: Any, where: str, needles: NeedleSet) -> Iterator[tuple[str, str]]:
    """(path, text) of every string, dict key and number in value; a key that holds a secret is not named."""
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, path = stack.pop()
        if isinstance(item, str):
            yield path, item
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int | float):
            yield path, str(item)
        elif isinstance(item, Mapping):
            subs = []
            for i, (key, sub) in enumerate(item.items()):
                key = str(key)
                named = _nameable(key, needles)
                if not named:
                    yield f"{path}.<key {i}>", key
                subs.append((sub, f"{path}.{key}" if named else f"{path}.<key {i}>"))
            stack.extend(reversed(subs))
        elif isinstance(item, list | tuple):
            stack.extend(reversed([(sub, f"{path}.{i}") for i, sub in enumerate(item)]))
        else:
            yield path, str(item)


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]{0,63}")


def _nameable(key: str, needles: NeedleSet) -> bool:
    """A key short and plain enough to print in a path, and holding no secret."""
    return bool(_PLAIN_KEY.fullmatch(key)) and not needles.find(key) and not find_shapes(key)
