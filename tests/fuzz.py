"""Seeded random JSON for the fuzz tests of the strict parser (tests/venue, tests/panel)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from typing import Any


def random_document(rng: random.Random, keys: Sequence[str], leaves: Sequence[Any], *, max_depth: int = 12) -> str:
    """A JSON object of the given keys, nested lists and objects, odd leaf values; sometimes cut
    short (not JSON at all) and sometimes nested thousands of levels deep."""
    text = json.dumps({rng.choice(keys): _value(rng, keys, leaves, 0, max_depth) for _ in range(rng.randrange(1, 6))})
    roll = rng.random()
    if roll < 0.1:  # deeply nested: json.loads alone recursed into a RecursionError
        depth = rng.randrange(1000, 8000)
        return f'{{"{rng.choice(keys)}": ' * depth + "{}" + "}" * depth if roll < 0.05 else "[" * depth + "]" * depth
    return text if roll < 0.8 else text[: rng.randrange(len(text) + 1)]


def _value(rng: random.Random, keys: Sequence[str], leaves: Sequence[Any], depth: int, max_depth: int) -> Any:
    roll = rng.random()
    if depth >= max_depth or roll < 0.55:
        return rng.choice(leaves)
    if roll < 0.75:
        return [_value(rng, keys, leaves, depth + 1, max_depth) for _ in range(rng.randrange(3))]
    return {rng.choice(keys): _value(rng, keys, leaves, depth + 1, max_depth) for _ in range(rng.randrange(4))}
