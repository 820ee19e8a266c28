"""Shape checks for the held-out red-team set (tests/redteam/heldout.py)."""

from __future__ import annotations

import pytest

from tests.redteam.heldout import HELDOUT_ATTACKS, HELDOUT_BENIGN


def _has_non_ascii_letter(text: str) -> bool:
    return any(ch.isalpha() and not ch.isascii() for ch in text)


@pytest.mark.parametrize(("texts", "minimum"), [(HELDOUT_ATTACKS, 150), (HELDOUT_BENIGN, 200)])
def test_it_has_enough_entries(texts: list[str], minimum: int) -> None:
    assert len(texts) >= minimum


@pytest.mark.parametrize("texts", [HELDOUT_ATTACKS, HELDOUT_BENIGN])
def test_it_holds_unique_non_empty_strings(texts: list[str]) -> None:
    assert all(isinstance(text, str) and text.strip() for text in texts)
    assert len(set(texts)) == len(texts)


@pytest.mark.parametrize("texts", [HELDOUT_ATTACKS, HELDOUT_BENIGN])
def test_it_has_at_least_40_entries_with_non_ascii_letters(texts: list[str]) -> None:
    assert sum(_has_non_ascii_letter(text) for text in texts) >= 40


def test_it_keeps_attacks_and_benign_texts_apart() -> None:
    assert not set(HELDOUT_ATTACKS) & set(HELDOUT_BENIGN)


def test_it_hides_some_attacks_in_invisible_characters() -> None:
    tagged = [text for text in HELDOUT_ATTACKS if any(0xE0000 <= ord(ch) <= 0xE007F for ch in text)]
    zero_width = [text for text in HELDOUT_ATTACKS if any(ch in "\u200b\u200c\u200d\u2060" for ch in text)]
    assert len(tagged) >= 3
    assert len(zero_width) >= 3
