"""Server-side SVG line charts for the agent page: no chart library, no JavaScript, no CDN.

The output is markup built only from numbers we format and text we escape, so the template may
mark it safe.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

WIDTH, HEIGHT = 600, 180
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 56, 12, 24, 28


@dataclass(frozen=True)
class Point:
    ts: datetime
    value: Decimal


def line_chart(points: Sequence[Point], *, title: str, threshold: Decimal | None = None) -> SafeString:
    """Draw `points` (any order) as an SVG line with min/max labels and an optional threshold line."""
    pts = sorted(points, key=lambda p: p.ts)
    if not pts:
        return mark_safe(_frame(title, _label(WIDTH / 2, HEIGHT / 2, "no samples yet", "middle")))
    values = [float(p.value) for p in pts] + ([float(threshold)] if threshold is not None else [])
    lo, hi = min(values), max(values)
    if hi == lo:  # a flat series still needs a visible band
        lo, hi = lo - 1, hi + 1
    t0, t1 = pts[0].ts.timestamp(), pts[-1].ts.timestamp()
    span = (t1 - t0) or 1.0

    def xy(ts: datetime, value: float) -> tuple[float, float]:
        x = PAD_LEFT + (ts.timestamp() - t0) / span * (WIDTH - PAD_LEFT - PAD_RIGHT)
        y = PAD_TOP + (hi - value) / (hi - lo) * (HEIGHT - PAD_TOP - PAD_BOTTOM)
        return round(x, 1), round(y, 1)

    coords = [xy(p.ts, float(p.value)) for p in pts]
    body = [_axes(lo, hi, pts[0].ts, pts[-1].ts), _polyline(coords)]
    if threshold is not None:
        body.append(_threshold(xy(pts[0].ts, float(threshold))[1], threshold))
    last_x, last_y = coords[-1]
    body.append(f'<circle cx="{last_x}" cy="{last_y}" r="3" fill="#174ea6"><title>{escape(_num(pts[-1].value))}'
                f' at {pts[-1].ts:%Y-%m-%d %H:%M:%S}</title></circle>')
    return mark_safe(_frame(title, "".join(body)))


def _frame(title: str, body: str) -> str:
    t = escape(title)
    return (f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{t}">'
            f'<rect width="{WIDTH}" height="{HEIGHT}" fill="#fff"/>'
            f'<text x="{PAD_LEFT}" y="16" font-size="13" font-weight="600" fill="#1b1f24">{t}</text>{body}</svg>')


def _axes(lo: float, hi: float, start: datetime, end: datetime) -> str:
    bottom, right = HEIGHT - PAD_BOTTOM, WIDTH - PAD_RIGHT
    return (f'<line x1="{PAD_LEFT}" y1="{PAD_TOP}" x2="{PAD_LEFT}" y2="{bottom}" stroke="#d9dde3"/>'
            f'<line x1="{PAD_LEFT}" y1="{bottom}" x2="{right}" y2="{bottom}" stroke="#d9dde3"/>'
            + _label(PAD_LEFT - 4, PAD_TOP + 4, _num(hi), "end") + _label(PAD_LEFT - 4, bottom, _num(lo), "end")
            + _label(PAD_LEFT, HEIGHT - 8, f"{start:%m-%d %H:%M}", "start")
            + _label(right, HEIGHT - 8, f"{end:%m-%d %H:%M}", "end"))


def _label(x: float, y: float, text: str, anchor: str) -> str:
    return f'<text x="{x}" y="{y}" font-size="11" text-anchor="{anchor}" fill="#5b6470">{escape(text)}</text>'


def _polyline(coords: list[tuple[float, float]]) -> str:
    pairs = " ".join(f"{x},{y}" for x, y in coords)
    return f'<polyline points="{pairs}" fill="none" stroke="#174ea6" stroke-width="2"/>'


def _threshold(y: float, threshold: Decimal) -> str:
    right = WIDTH - PAD_RIGHT
    return (f'<line x1="{PAD_LEFT}" y1="{y}" x2="{right}" y2="{y}" stroke="#b3261e" stroke-dasharray="5 4"/>'
            f'<text x="{right}" y="{y - 4}" font-size="11" text-anchor="end" fill="#b3261e">threshold '
            f'{escape(_num(threshold))}</text>')


def _num(value: float | Decimal) -> str:
    """Short, plain number: 0.0123, 12.5, 1200 (no exponent)."""
    d = Decimal(str(value))
    text = format(d.quantize(Decimal("0.0001")) if abs(d) < 1000 else d.quantize(Decimal("1")), "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
