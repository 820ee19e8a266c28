"""Integer units used inside the engine, and their conversion to and from `Decimal`.

The engine never does money arithmetic on `Decimal` or float: prices are integer ticks
(1 tick = 0.001, so 1..999), sizes are integer milli-shares (0.001 share) and USDC is
integer micro-USDC (1e-6). A price in ticks times a size in milli-shares is exactly
micro-USDC, so cost, payout and locks are exact integer products with no rounding step.
"""

from __future__ import annotations

from decimal import Decimal

# Re-exported: the one refusal class lives in strict.py, shared by the venue, its client and the views.
from agents.venue.strict import InvalidInput as InvalidInput

TICKS_PER_UNIT = 1000  # price ticks in 1 USDC
MILLI_PER_SHARE = 1000
MICRO_PER_USDC = 1_000_000
MAX_SIZE_MILLI = 10_000_000 * MILLI_PER_SHARE  # 10 M shares per order: far above any sane order
MAX_USDC_MICRO = 10**15 * MICRO_PER_USDC
MAX_MAGNITUDE_DIGITS = 18  # refuse any |value| >= 1e19 before looking at its digits


def _scaled_int(value: Decimal, scale: int, field: str, step_text: str) -> int:
    """Return value*scale as an int, refusing non-finite, huge or off-step values.

    Works on the digits and exponent with Python ints, never with Decimal arithmetic: the
    default context rounds to 28 digits (so '0.5000…0001' would pass as 0.5) and raises
    Overflow on exponents like 1e999999999. Any arithmetic or conversion failure is still
    turned into InvalidInput, so client input can only ever produce a 400 naming the field.
    """
    try:
        return _exact_scaled(value, scale, field, step_text)
    except InvalidInput:
        raise
    except (ArithmeticError, ValueError, TypeError) as exc:  # InvalidOperation and Overflow are ArithmeticError
        raise InvalidInput(field, "is not a valid number") from exc


def _exact_scaled(value: Decimal, scale: int, field: str, step_text: str) -> int:
    if not isinstance(value, Decimal) or not value.is_finite():
        raise InvalidInput(field, "must be a finite number")
    if value.is_zero():  # also "-0" and "0E-999999999"
        return 0
    if value.adjusted() > MAX_MAGNITUDE_DIGITS:  # adjusted() is exact: no context, no overflow
        raise InvalidInput(field, "is out of range")
    sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)  # finite, checked above
    while digits[-1] == 0:  # drop trailing zeros so the last digit decides the step
        digits, exponent = digits[:-1], exponent + 1
    exponent += _decimal_places(scale)
    if exponent < 0:  # a non-zero digit below the step: e.g. 0.0005 at a 0.001 step, or 1e-30
        raise InvalidInput(field, f"must be a multiple of {step_text}")
    # Bounded: adjusted() <= 18 keeps len(digits) and exponent small, so this int is small too.
    magnitude = int("".join(map(str, digits))) * 10**exponent
    return -magnitude if sign else magnitude


def _decimal_places(scale: int) -> int:
    """3 for 1000, 6 for 1_000_000: every scale here is a power of ten."""
    places = len(str(scale)) - 1
    if scale != 10**places:
        raise ValueError(f"scale {scale} is not a power of ten")
    return places


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
