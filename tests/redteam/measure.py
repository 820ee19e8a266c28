"""Layer 1 against the corpora: detection by family, alone and embedded, and false positives.

Shared by the regression test (tests/redteam/test_detection.py) and `bench/injection_corpus.py`,
which prints the table quoted in docs/security.md."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from agents.core.sanitise import WITHHELD, sanitise
from tests.redteam.corpus import Payload, build_corpus, embed

CACHE = Path(__file__).resolve().parents[2] / ".cache" / "redteam"
HOST = ("Resolves YES if the spot price of BTC on Coinbase is above $100,000 at 23:59 UTC on 31 December 2026, "
        "per the Coinbase BTC-USD candle. Otherwise resolves NO.")


def flagged(text: str, field_name: str = "description") -> bool:
    clean, findings = sanitise({"slug": "m", field_name: text})
    return findings.suspicious and clean[field_name] == WITHHELD and findings.markets == ["m"]


@dataclass
class Table:
    total: Counter[str] = field(default_factory=Counter)
    alone: Counter[str] = field(default_factory=Counter)
    embedded: Counter[str] = field(default_factory=Counter)
    missed: list[Payload] = field(default_factory=list)

    def rate(self, which: Counter[str], family: str | None = None) -> float:
        if family is None:
            return sum(which.values()) / max(1, sum(self.total.values()))
        return which[family] / max(1, self.total[family])

    def rows(self) -> list[tuple[str, int, float, float]]:
        return [(f, self.total[f], self.rate(self.alone, f), self.rate(self.embedded, f)) for f in self.total]


def detection(payloads: Iterable[Payload]) -> Table:
    t = Table()
    for p in payloads:
        t.total[p.family] += 1
        alone, inside = flagged(p.text), flagged(embed(p.text, HOST))
        t.alone[p.family] += alone
        t.embedded[p.family] += inside
        if not (alone and inside):
            t.missed.append(p)
    return t


def false_positives(texts: Iterable[str]) -> list[tuple[str, list[str]]]:
    out = []
    for text in texts:
        clean, findings = sanitise({"slug": "m", "description": text})
        if findings.suspicious:
            out.append((text, findings.items))
    return out


def corpus() -> list[Payload]:
    return build_corpus(CACHE)
