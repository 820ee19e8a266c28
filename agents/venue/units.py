"""Integer units used inside the engine, and their conversion to and from `Decimal`.

The engine never does money arithmetic on `Decimal` or float: prices are integer ticks
(1 tick = 0.001, so 1..999), sizes are integer milli-shares (0.001 share) and USDC is
integer micro-USDC (1e-6). A price in ticks times a size in milli-shares is exactly
micro-USDC, so cost, payout and locks are exact integer products with no rounding step.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

TICKS_PER_UNIT = 1000  # price ticks in 1 USDC
MILLI_PER_SHARE = 1000
MICRO_PER_USDC = 1_000_000
MAX_SIZE_MILLI = 10_000_000 * MILLI_PER_SHARE  # 10 M shares per order: far above any sane order
MAX_USDC_MICRO = 10**15 * MICRO_PER_USDC


class InvalidInput(ValueError):
    """A request value the venue refuses; `field` names it for the 400 message."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _scaled_int(value: Decimal, scale: int, field: str, step_text: str) -> int:
    """Return value*scale as an int, refusing non-finite, huge or off-step values."""
    try:
        if not value.is_finite():
            raise InvalidInput(field, "must be a finite number")
        if abs(value) > Decimal(10) ** 18:
            raise InvalidInput(field, "is out of range")
        scaled = value * scale
        if scaled != scaled.to_integral_value():
            raise InvalidInput(field, f"must be a multiple of {step_text}")
        return int(scaled)
    except InvalidOperation as exc:  # e.g. exponent overflow on absurd input
        raise InvalidInput(field, "is not a valid number") from exc


def price_to_ticks(value: Decimal, field: str = "price") -> int:
    ticks = _scaled_int(value, TICKS_PER_UNIT, field, "0.001")
    if not 0 < ticks < TICKS_PER_UNIT:
        raise InvalidInput(field, "must be strictly between 0 and 1")
    return ticks


def size_to_milli(value: Decimal, field: str = "size") -> int:
    milli = _scaled_int(value, MILLI_PER_SHARE, field, "0.001")
    if milli <= 0:
        raise InvalidInput(field, "must be greater than 0")
    if milli > MAX_SIZE_MILLI:
        raise InvalidInput(field, "is too large (max 10000000 shares)")
    return milli


def signed_milli(value: Decimal, field: str) -> int:
    """Return a signed share amount (for drift faults) in milli-shares."""
    milli = _scaled_int(value, MILLI_PER_SHARE, field, "0.001")
    if abs(milli) > MAX_SIZE_MILLI:
        raise InvalidInput(field, "is out of range")
    return milli


def usdc_to_micro(value: Decimal, field: str = "usdc") -> int:
    micro = _scaled_int(value, MICRO_PER_USDC, field, "0.000001")
    if abs(micro) > MAX_USDC_MICRO:
        raise InvalidInput(field, "is out of range")
    return micro


def ticks_dec(ticks: int) -> Decimal:
    return Decimal(ticks).scaleb(-3)


def milli_dec(milli: int) -> Decimal:
    return Decimal(milli).scaleb(-3)


def micro_dec(micro: int) -> Decimal:
    return Decimal(micro).scaleb(-6)
