"""Defense layer 1: clean tool output before the model reads it.

Market descriptions, order-book notes and resolution text are written by strangers; they may
carry terminal escapes, HTML/script payloads or text addressed to the model ("ignore previous
instructions..."). We normalise, strip, neutralise and cap, and report what we found so the
loop can trace `suspicious_output` and alert.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

MAX_STR = 2000
MAX_ITEMS = 100
MAX_DEPTH = 8
NEUTRALISED = "[removed: instruction-like text]"

_ANSI = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"  # CSI ... final byte (colours, cursor moves)
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"  # OSC ... BEL/ST (window titles, hyperlinks)
    r"|\x1b[PX^_][^\x1b]*(?:\x1b\\)?"  # DCS/SOS/PM/APC strings
    r"|\x1b[@-Z\\-_]"  # two-byte escapes
    r"|\x9b[0-?]*[ -/]*[@-~]"  # 8-bit CSI
)
# C0/C1 controls except tab and newline; zero-width and bidi-override characters hide text.
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_INVISIBLE = re.compile(r"[\u200b-\u200f\u2028\u2029\u202a-\u202e\u2060-\u2064\u2066-\u2069\ufeff]")
_SCRIPT = re.compile(r"<\s*(script|style|iframe|object|embed)\b[^>]*>.*?(<\s*/\s*\1\s*>|$)", re.I | re.S)
_TAG = re.compile(r"<\s*/?\s*[a-zA-Z!][^>]*>")
_HTML_ATTACK = re.compile(r"(javascript\s*:|on(error|load|click|mouseover)\s*=)", re.I)

_W = r"[\s\W_]+"  # words may be separated by any run of spaces/punctuation ("ignore...previous")
_INJECTION_PATTERNS: tuple[str, ...] = (
    rf"(ignore|disregard|forget|override|bypass|skip){_W}(all{_W})?(of{_W})?(the{_W}|your{_W}|any{_W}|my{_W})?"
    rf"(previous|prior|above|earlier|preceding|existing|system|original){_W}"
    r"(instructions?|prompts?|messages?|rules?|directions?|context|guidelines?|limits?)",
    rf"(ignore|disregard|forget){_W}(everything|all){_W}(you|above|before)",
    rf"(ignore|disregard|forget|override|bypass){_W}(all{_W})?(your|the|these|those|any){_W}"
    r"(instructions?|prompts?|rules?|guidelines?|directives?)",
    rf"you{_W}are{_W}now{_W}",
    rf"new{_W}(system{_W})?instructions?\s*:",  # "New instructions:" (found by the red-team tests)
    rf"(withdraw|transfer|send|move){_W}(all{_W})?(of{_W})?(your{_W}|the{_W}|my{_W})?"
    r"(funds|usdc|balance|money|collateral)",
    rf"(reveal|print|show|output|repeat){_W}(your{_W}|the{_W})?(system{_W}prompt|api{_W}keys?|secrets?|instructions)",
    rf"system{_W}prompt",
    rf"developer{_W}mode",
    rf"do{_W}anything{_W}now",
    r"jailbreak",
    r"<\|?(im_start|im_end|endoftext|system|assistant)\|?>",
    r"\[/?(inst|sys)\]",
    r"(^|\n)\s*(system|assistant)\s*:",
    rf"(place|submit|send){_W}(a{_W}|an{_W})?(max(imum)?|huge|large|all[- ]in){_W}(size{_W})?(order|bet|position)",
    rf"(raise|increase|remove|lift){_W}(your{_W}|the{_W})?(risk{_W})?(limits?|caps?)",
)
_INJECTION = [re.compile(p, re.I) for p in _INJECTION_PATTERNS]


@dataclass
class Findings:
    """What the sanitiser removed; `suspicious` is what warrants an alert."""

    items: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        if what not in self.items:
            self.items.append(what)

    @property
    def suspicious(self) -> bool:
        return any(i.split(":")[0] in {"ansi", "control", "invisible", "script", "injection"} for i in self.items)


def sanitise(value: Any) -> tuple[Any, Findings]:
    """Return a cleaned copy of a JSON-able value and the findings."""
    findings = Findings()
    return _clean(value, findings, 0), findings


def _clean(value: Any, f: Findings, depth: int) -> Any:
    if depth > MAX_DEPTH:
        f.add("truncated:depth")
        return "[truncated: too deep]"
    if isinstance(value, str):
        return clean_text(value, f)
    if isinstance(value, dict):
        return _clean_dict(value, f, depth)
    if isinstance(value, (list, tuple)):
        if len(value) > MAX_ITEMS:
            f.add("truncated:items")
        return [_clean(v, f, depth + 1) for v in list(value)[:MAX_ITEMS]]
    return value


def _clean_dict(value: dict[Any, Any], f: Findings, depth: int) -> dict[str, Any]:
    if len(value) > MAX_ITEMS:
        f.add("truncated:items")
    items = list(value.items())[:MAX_ITEMS]
    return {clean_text(str(k), f, MAX_STR // 10): _clean(v, f, depth + 1) for k, v in items}


def clean_text(text: str, f: Findings, cap: int = MAX_STR) -> str:
    """1. normalise (NFKC folds full-width and compatibility look-alikes);
    2. strip escapes, controls and invisible characters; 3. strip scripts and tags;
    4. neutralise instruction-like phrases; 5. cap the length."""
    s = unicodedata.normalize("NFKC", text)
    s = _sub(_ANSI, "", s, f, "ansi")
    s = _sub(_INVISIBLE, "", s, f, "invisible")
    s = _sub(_CONTROL, "", s, f, "control")
    s = _sub(_SCRIPT, "", s, f, "script")
    s = _sub(_HTML_ATTACK, "", s, f, "script")
    s = _sub(_TAG, "", s, f, "html")
    for pattern in _INJECTION:
        s = _sub(pattern, NEUTRALISED, s, f, "injection")
    if len(s) > cap:
        f.add("truncated:length")
        s = s[:cap] + "…[truncated]"
    return s


def _sub(pattern: re.Pattern[str], repl: str, s: str, f: Findings, what: str) -> str:
    out, n = pattern.subn(repl, s)
    if n:
        f.add(what if what != "injection" else f"injection:{pattern.pattern[:40]}")
    return out
