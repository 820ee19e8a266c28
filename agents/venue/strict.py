"""Strict parsing of untrusted input: plain ASCII numbers, identifiers from a strict alphabet,
and JSON with a size cap and a depth cap. Pure Python plus pydantic, no Django.

Shared by every place input arrives: the paper venue (REST bodies, query strings, path
parameters, websocket frames), the agent's tool arguments and the Django views. Python's own
parsers are too kind for that job: `int("1_0")`, `Decimal("١٠")` and `float(" 10\n")` are all
10, and `json.loads` recurses once per nesting level. Every refusal is an `InvalidInput` naming
the field, which the callers turn into a 400 (or a tool error), never a 500.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from typing import Annotated, Any

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

# One plain decimal: an optional minus, ASCII digits, an optional fraction. No '+', no exponent,
# no '_' separators, no whitespace, no Unicode digits (re's \d would match '١'; [0-9] does not).
DECIMAL_RE = re.compile(r"-?[0-9]+(?:\.[0-9]+)?")
INT_RE = re.compile(r"-?[0-9]+")
PLAIN_DECIMAL = "must be a plain decimal in ASCII digits, like 0.5 or -12 (no exponent, '+', separators or spaces)"
MAX_NUMBER_CHARS = 64  # far more digits than any price, size or amount has; keeps Decimal() cheap
# Identifiers (client order ids, order ids, session ids, account names): printable ASCII from a
# small alphabet, so no NUL, no bidi override (U+202E), no zero-width space, no lookalikes.
IDENTIFIER_RE = re.compile(r"[A-Za-z0-9_.:-]+")
SLUG_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")  # market slugs and ids; a subset of the identifiers
# What a *model* may name as a market (agents/core/tools.py): slugs as Limitless and the paper venue
# issue them, lowercase words and digits joined by hyphens ("btc-above-100k-2026-12-31"). The venue
# side keeps SLUG_RE: the halt path must be able to flatten whatever slug a venue returns.
AGENT_SLUG_RE = re.compile(r"[a-z0-9][a-z0-9-]*")
# Order ids the venues issue: Limitless's UUIDs and the paper venue's ord_<n>.
ORDER_ID_RE = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|ord_[0-9]{1,20}")
MAX_ID_CHARS = 128
MAX_SLUG_CHARS = 200
# A model that knows a key could send it out as an id ("get_market sk-..."): in tool arguments a
# secret-shaped id is refused, without echoing it (venue data is never refused for its shape).
# Shapes as agents/core/redact.py knows them, plus what a venue never issues: a long run with no
# separator (a slug's longest word is far shorter; our own client ids carry 32 hex), mixed-case
# runs (base64), 0x + hex (keys, addresses).
MAX_SLUG_RUN = 24
MAX_ID_RUN = 40
_SECRET_SHAPES = re.compile(
    r"(?<![A-Za-z0-9])(?:(?i:sk-[a-z0-9_-]{16,})|(?:AKIA|ASIA)[0-9A-Z]{16}|eyJ[A-Za-z0-9_-]{4,}\.|(?i:0x[0-9a-f]{16,}))"
)
_ID_RUN = re.compile(r"[A-Za-z0-9]+")
_MIXED_CASE_RUN = re.compile(r"(?=[A-Za-z0-9]*[a-z])(?=[A-Za-z0-9]*[A-Z])[A-Za-z0-9]{20,}")
SECRET_SHAPED = "looks like a key or another secret, not an id: refused (the value is not repeated here)"
MAX_JSON_DEPTH = 32
MAX_INT_DIGITS = 40  # a JSON integer literal longer than this is refused before int() sees it
_JSON_SPECIAL = re.compile(r'[\[\]{}"\\]')
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
# C0 and C1 controls but tab and newline, and the bidi controls that reorder what a reader sees
# (U+202E turns "evil.exe" around): none belongs in a reason or a note.
_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]")


class InvalidInput(ValueError):
    """A request value we refuse; `field` names it for the 400 message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class TooLarge(InvalidInput):
    """The document is over its byte cap (the venue answers 413)."""


class ExponentNumber(Decimal):
    """A JSON number literal written with an exponent (`1e3`): kept apart so the field refuses it by name."""


# ------------------------------------------------------------------------------------ numbers


def parse_decimal(value: Any, field: str) -> Decimal:
    """Return value as a Decimal: a plain ASCII decimal string, an int, a finite float or Decimal.

    Refused: bool (a JSON `true` is not 1), NaN and infinities, exponent forms (`1e3`, as a string
    or as a JSON number), '+', '_', whitespace, Unicode digits, over-long strings.
    """
    if isinstance(value, bool):
        raise InvalidInput(field, "must be a number, not a boolean")
    if isinstance(value, ExponentNumber):
        raise InvalidInput(field, "must be a plain decimal (no exponent): write 1000, not 1e3")
    if isinstance(value, int):
        return _int_decimal(value, field)
    if isinstance(value, Decimal | float):
        return _finite_decimal(value, field)
    if not isinstance(value, str):
        raise InvalidInput(field, "must be a decimal number")
    if len(value) > MAX_NUMBER_CHARS:
        raise InvalidInput(field, f"is too long (at most {MAX_NUMBER_CHARS} characters)")
    if not DECIMAL_RE.fullmatch(value):
        raise InvalidInput(field, PLAIN_DECIMAL)
    return Decimal(value)


def _int_decimal(value: int, field: str) -> Decimal:
    if abs(value) >= 10**MAX_INT_DIGITS:
        raise InvalidInput(field, "is out of range")
    return Decimal(value)


def _finite_decimal(value: Decimal | float, field: str) -> Decimal:
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidInput(field, "must be a finite number")
        return Decimal(repr(value))  # the shortest text of the float: 0.1 stays 0.1
    if not value.is_finite():
        raise InvalidInput(field, "must be a finite number")
    return value


def parse_int(value: Any, field: str, *, low: int, high: int) -> int:
    """Return value as an int in [low, high]: an int (not bool) or a string of ASCII digits."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise InvalidInput(field, f"must be an integer from {low} to {high}")
    if isinstance(value, str) and (len(value) > MAX_INT_DIGITS or not INT_RE.fullmatch(value)):
        raise InvalidInput(field, f"must be an integer from {low} to {high} in ASCII digits")
    number = int(value)
    if not low <= number <= high:
        raise InvalidInput(field, f"must be an integer from {low} to {high}")
    return number


def parse_float(value: Any, field: str) -> float:
    """A duration or a rate: the same plain decimal as parse_decimal, then a finite float."""
    return float(parse_decimal(value, field))


# ------------------------------------------------------------------------------------ identifiers


def parse_identifier(value: Any, field: str, *, max_chars: int = MAX_ID_CHARS) -> str:
    """An id from [A-Za-z0-9_.:-], 1..max_chars long."""
    return _match(value, field, IDENTIFIER_RE, max_chars, "letters, digits and _ . : -")


def parse_agent_identifier(value: Any, field: str, *, max_chars: int = MAX_ID_CHARS) -> str:
    """An id a model wrote: an identifier that is not shaped like a secret."""
    value = parse_identifier(value, field, max_chars=max_chars)
    if _SECRET_SHAPES.search(value) or _MIXED_CASE_RUN.search(value) or _longest_run(value) > MAX_ID_RUN:
        raise InvalidInput(field, SECRET_SHAPED)
    return value


def parse_slug(value: Any, field: str, *, max_chars: int = MAX_SLUG_CHARS) -> str:
    """A market slug or id: starts with a letter or digit, then letters, digits and _ . -"""
    return _match(value, field, SLUG_RE, max_chars, "letters, digits and _ . - (starting with a letter or digit)")


def parse_agent_slug(value: Any, field: str, *, max_chars: int = MAX_SLUG_CHARS) -> str:
    """A market slug a model wrote: lowercase letters, digits and hyphens, starting with a letter or
    digit, with no word longer than MAX_SLUG_RUN and nothing shaped like a secret."""
    value = _match(value, field, AGENT_SLUG_RE, max_chars,
                   "lowercase letters, digits and - (starting with a letter or digit)")
    if _SECRET_SHAPES.search(value) or _longest_run(value) > MAX_SLUG_RUN:
        raise InvalidInput(field, SECRET_SHAPED)
    return value


def parse_order_id(value: Any, field: str) -> str:
    """An order id as a venue issues it: a lowercase UUID (Limitless) or ord_<digits> (the paper venue)."""
    value = _match(value, field, IDENTIFIER_RE, MAX_ID_CHARS, "letters, digits and _ . : -")
    if not ORDER_ID_RE.fullmatch(value):
        raise InvalidInput(field, "must be an order id the venue issued: a lowercase UUID or ord_<digits>")
    return value


def _longest_run(value: str) -> int:
    """The longest stretch of letters and digits between separators."""
    return max((len(run) for run in _ID_RUN.findall(value)), default=0)


def _match(value: Any, field: str, pattern: re.Pattern[str], max_chars: int, alphabet: str) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidInput(field, "must be a non-empty string")
    if len(value) > max_chars:
        raise InvalidInput(field, f"is too long (at most {max_chars} characters)")
    if not pattern.fullmatch(value):
        raise InvalidInput(field, f"may only contain ASCII {alphabet}")
    return value


def clean_text(value: str, *, max_chars: int) -> str:
    """Free text (a reason, a note): drop control characters such as NUL (PostgreSQL refuses
    them in text and they hide in logs), keep tabs and newlines, cap the length."""
    return _CONTROL.sub("", value)[:max_chars]


# ------------------------------------------------------------------------------------ JSON


def load_json(raw: bytes | str, *, max_bytes: int, max_depth: int = MAX_JSON_DEPTH, field: str = "body") -> Any:
    """Parse one JSON document strictly, or raise InvalidInput (TooLarge over the byte cap).

    1. size: at most max_bytes of UTF-8 (other encodings and a BOM are refused);
    2. depth: counted by a linear scan before parsing, so the recursive parser never goes deeper
       than max_depth (a 100,000-level document costs one pass, not a RecursionError);
    3. parse: numbers become int or Decimal (never float; exponent forms are marked so the field
       refuses them), NaN/Infinity and integers of more than 40 digits are refused;
    4. strings: an escaped lone surrogate (\\ud800) is refused: it cannot be stored or sent;
    5. objects: a key given twice is refused (the last one would silently win).
    """
    text = _utf8(raw, max_bytes, field)
    if _depth(text) > max_depth:
        raise InvalidInput(field, f"is nested deeper than {max_depth} levels")
    try:
        data = json.loads(text, parse_float=_json_decimal, parse_int=_json_int, parse_constant=_json_constant,
                          object_pairs_hook=_no_repeated_keys)
    except _Refused as exc:
        raise InvalidInput(field, str(exc)) from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(field, f"is not valid JSON ({exc.msg} at position {exc.pos})") from None
    except (ValueError, RecursionError) as exc:  # a backstop: the depth scan should make these impossible
        raise InvalidInput(field, "is not valid JSON") from exc
    where = _unencodable(data, field) if _SURROGATE_ESCAPE.search(text) else None
    if where is not None:
        raise InvalidInput(where, "contains an unpaired surrogate escape (\\ud800-\\udfff)")
    return data


def _no_repeated_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """{"price": "0.1", "price": "0.2"}: which one was meant? Refuse, never pick the last."""
    out: dict[str, Any] = {}
    for key, value in pairs:
        if key in out:
            raise _Refused(f"has the key {key!r} twice")
        out[key] = value
    return out


def _utf8(raw: bytes | str, max_bytes: int, field: str) -> str:
    if isinstance(raw, str):
        if len(raw) > max_bytes or len(raw.encode("utf-8", "surrogatepass")) > max_bytes:
            raise TooLarge(field, f"is too large (at most {max_bytes} bytes)")
        return raw
    if len(raw) > max_bytes:
        raise TooLarge(field, f"is too large (at most {max_bytes} bytes)")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise InvalidInput(field, "is not UTF-8") from None


def _depth(text: str) -> int:
    """The deepest nesting of [ and { outside strings, in one pass over the special characters."""
    depth = deepest = 0
    in_string = False
    skip = -1  # the index of a character escaped by a backslash
    for match in _JSON_SPECIAL.finditer(text):
        char, at = match.group(), match.start()
        if at == skip:
            continue
        if in_string:
            if char == "\\":
                skip = at + 1
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            deepest = max(deepest, depth)
        elif char in "]}":
            depth -= 1
    return deepest


def _json_decimal(literal: str) -> Decimal:
    return Decimal(literal) if DECIMAL_RE.fullmatch(literal) else ExponentNumber(literal)


class _Refused(ValueError):
    """Raised by the parser hooks; load_json names the field."""


def _json_int(literal: str) -> int:
    if len(literal.lstrip("-")) > MAX_INT_DIGITS:
        raise _Refused(f"has an integer of more than {MAX_INT_DIGITS} digits")
    return int(literal)


def _json_constant(name: str) -> Any:
    raise _Refused(f"has {name}, which is not a JSON number")


def _unencodable(data: Any, field: str) -> str | None:
    """Where the first string (or key) that cannot be UTF-8 is, as 'a.b.0'; iterative, depth is capped."""
    stack: list[tuple[Any, str]] = [(data, "")]
    while stack:
        item, where = stack.pop()
        if isinstance(item, str) and not _utf8_ok(item):
            return where or field
        if isinstance(item, dict):
            for key, value in item.items():
                path = f"{where}.{key}" if where else str(key)
                stack.append((value, path) if _utf8_ok(key) else (key, where or field))
        elif isinstance(item, list):
            stack.extend((value, f"{where}.{i}" if where else str(i)) for i, value in enumerate(item))
    return None


def _utf8_ok(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


# ------------------------------------------------------------------------------------ pydantic types


def _pydantic(parse: Any, kind: str, *, nullable: bool = False) -> BeforeValidator:
    """Wrap a parser so pydantic reports its message as is, under the field's own name."""

    def validate(value: Any) -> Any:
        if value is None and nullable:
            return None
        try:
            return parse(value, "")
        except InvalidInput as exc:
            raise PydanticCustomError(kind, exc.message) from None

    return BeforeValidator(validate)


def _int64(value: Any, field: str) -> int:
    return parse_int(value, field, low=-(2**63), high=2**63 - 1)  # the field's own ge/le narrow it


StrictDecimal = Annotated[Decimal, _pydantic(parse_decimal, "plain_decimal")]
StrictFloat = Annotated[float, _pydantic(parse_float, "plain_decimal")]
StrictInt = Annotated[int, _pydantic(_int64, "plain_int")]
Identifier = Annotated[str, _pydantic(parse_identifier, "identifier")]
Slug = Annotated[str, _pydantic(parse_slug, "slug")]
AgentSlug = Annotated[str, _pydantic(parse_agent_slug, "slug")]
AgentIdentifier = Annotated[str, _pydantic(parse_agent_identifier, "identifier")]
OrderId = Annotated[str, _pydantic(parse_order_id, "order_id")]
# Optional fields: null means "not given"; anything else must pass the parser.
OptionalFloat = Annotated[float | None, _pydantic(parse_float, "plain_decimal", nullable=True)]
OptionalInt = Annotated[int | None, _pydantic(_int64, "plain_int", nullable=True)]
OptionalSlug = Annotated[str | None, _pydantic(parse_slug, "slug", nullable=True)]
