"""Check the shape of the second held-out set; never what the detector makes of it."""

from __future__ import annotations

import base64
import binascii
import codecs
import re
import unicodedata
from pathlib import Path

from tests.redteam import heldout_v2
from tests.redteam.heldout_v2 import (
    HELDOUT2_ATTACKS,
    HELDOUT2_ATTACKS_BY_FAMILY,
    HELDOUT2_BENIGN,
    HELDOUT2_BENIGN_BY_FAMILY,
    HELDOUT2_OBFUSCATED,
)

_BASE64_RUN = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_TAG_BLOCK = range(0xE0000, 0xE0080)
_ZERO_WIDTH = {"\u200b", "\u200c", "\u200d", "\u2060", "\ufeff"}


def _non_ascii(texts: list[str]) -> int:
    return sum(any(ord(ch) > 127 for ch in text) for text in texts)


def _key(text: str) -> str:
    return " ".join(text.casefold().split())


def _base64_decodings(text: str, rounds: int) -> list[str]:
    """Decode every base64-looking run in text, up to `rounds` times over."""
    found, frontier = [], [text]
    for _ in range(rounds):
        step = []
        for item in frontier:
            for run in _BASE64_RUN.findall(item):
                try:
                    step.append(base64.b64decode(run, validate=True).decode())
                except (binascii.Error, UnicodeDecodeError):
                    continue
        found += step
        frontier = step
    return found


def _decodings(technique: str, text: str) -> list[str]:
    if technique == "base64":
        return _base64_decodings(text, 1)
    if technique == "double_base64":
        return _base64_decodings(text, 2)
    if technique == "rot13":
        return [codecs.decode(text, "rot13")]
    if technique == "reversed":
        return [text[::-1], " ".join(reversed(text.split()))]
    if technique == "tag_characters":
        return ["".join(chr(ord(ch) - 0xE0000) for ch in text if ord(ch) in _TAG_BLOCK)]
    raise AssertionError(technique)


def test_it_has_enough_attacks_and_benign_texts() -> None:
    assert len(HELDOUT2_ATTACKS) >= 200
    assert len(HELDOUT2_BENIGN) >= 250


def test_it_has_enough_of_each_family() -> None:
    assert len(HELDOUT2_ATTACKS_BY_FAMILY["multilingual"]) >= 60
    assert len(HELDOUT2_ATTACKS_BY_FAMILY["obfuscated"]) >= 40
    assert len(HELDOUT2_BENIGN_BY_FAMILY["hard_negative"]) >= 100
    assert len(HELDOUT2_BENIGN_BY_FAMILY["multilingual"]) >= 60


def test_it_builds_the_lists_from_the_families() -> None:
    assert HELDOUT2_ATTACKS == [t for family in HELDOUT2_ATTACKS_BY_FAMILY.values() for t in family]
    assert HELDOUT2_BENIGN == [t for family in HELDOUT2_BENIGN_BY_FAMILY.values() for t in family]


def test_it_holds_only_non_empty_strings() -> None:
    for text in HELDOUT2_ATTACKS + HELDOUT2_BENIGN:
        assert isinstance(text, str)
        assert text.strip(), repr(text)


def test_it_has_no_duplicates_within_a_list() -> None:
    for texts in (HELDOUT2_ATTACKS, HELDOUT2_BENIGN):
        keys = [_key(text) for text in texts]
        assert len(set(keys)) == len(keys)


def test_it_keeps_attacks_and_benign_apart() -> None:
    assert not {_key(t) for t in HELDOUT2_ATTACKS} & {_key(t) for t in HELDOUT2_BENIGN}


def test_it_has_at_least_50_non_ascii_entries_in_each_list() -> None:
    assert _non_ascii(HELDOUT2_ATTACKS) >= 50
    assert _non_ascii(HELDOUT2_BENIGN) >= 50


def test_it_hides_every_obfuscated_payload() -> None:
    for technique, payload, text in HELDOUT2_OBFUSCATED:
        assert _key(payload) not in _key(text), technique


def test_it_can_decode_the_reversible_obfuscations_back_to_their_payload() -> None:
    checked = 0
    for technique, payload, text in HELDOUT2_OBFUSCATED:
        if technique in {"base64", "double_base64", "rot13", "reversed", "tag_characters"}:
            assert any(payload in decoded for decoded in _decodings(technique, text)), (technique, payload)
            checked += 1
    assert checked >= 15


def test_it_plants_invisible_characters_only_in_the_invisible_families() -> None:
    for technique, _, text in HELDOUT2_OBFUSCATED:
        if technique == "tag_characters":
            assert any(ord(ch) in _TAG_BLOCK for ch in text)
        if technique == "zero_width":
            assert _ZERO_WIDTH & set(text)


def test_it_keeps_the_source_file_free_of_hidden_characters() -> None:
    source = Path(heldout_v2.__file__).read_text(encoding="utf-8")
    for lineno, line in enumerate(source.splitlines(), start=1):
        for ch in line:
            hidden = unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cn", "Cs"} or 0xFE00 <= ord(ch) <= 0xFE0F
            assert not hidden, (lineno, hex(ord(ch)))
