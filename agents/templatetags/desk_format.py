"""Money on the desk: decimals with two places, a thousands separator, a sign where it matters, units."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal

from django import template

register = template.Library()
CENT = Decimal("0.01")


@register.filter
def usdc(value: Decimal | None) -> str:
    """1234.5 -> "1,234.50 USDC"; None (unknown) -> "—"."""
    return "—" if value is None else f"{_cents(value):,} USDC"


@register.filter
def signed_usdc(value: Decimal | None) -> str:
    """P&L: "+12.30 USDC", "−4.00 USDC" (a real minus sign), "0.00 USDC"; None -> "—"."""
    if value is None:
        return "—"
    cents = _cents(value)
    sign = "+" if cents > 0 else "−" if cents < 0 else ""
    return f"{sign}{abs(cents):,} USDC"


@register.filter
def pnl_tone(value: Decimal | None) -> str:
    """The CSS class of a P&L figure: gain, loss or flat (unknown is flat)."""
    if value is None:
        return "flat"
    cents = _cents(value)
    return "gain" if cents > 0 else "loss" if cents < 0 else "flat"


@register.filter
def shares(value: Decimal | None) -> str:
    return "—" if value is None else f"{value.normalize():,f}"


@register.filter
def pct(value: Decimal | None) -> str:
    return "—" if value is None else f"{Decimal(value).quantize(Decimal('0.1'), ROUND_HALF_EVEN)}%"


def _cents(value: Decimal) -> Decimal:
    return Decimal(value).quantize(CENT, ROUND_HALF_EVEN)
