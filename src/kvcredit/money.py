"""Money helpers: Decimal in code, integer fen at rest, one rounding rule.

Money is never a float. Amounts enter as strings, ints or Decimals, are quantised to the fen
with ROUND_HALF_UP at named points only, and are stored as integer fen.

The one rounding rule is half up, in two forms that agree: ``quantize`` for a Decimal amount
(to the fen) and ``div_half_up`` / ``round_half_up`` for exact integer arithmetic (a quotient of
whole fen, a ``Fraction``), which the schedules, the accrual and the fund's shares use; on a
NumPy integer array ``div_half_up`` works element-wise.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TYPE_CHECKING, Any, overload

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

FEN = Decimal("0.01")
FEN_PER_YUAN = 100
ZERO = Decimal("0.00")

__all__ = [
    "FEN",
    "FEN_PER_YUAN",
    "ZERO",
    "div_half_up",
    "fen_to_yuan",
    "parse_yuan",
    "quantize",
    "round_half_up",
    "yuan_to_fen",
]


def quantize(amount: Decimal, exponent: Decimal = FEN) -> Decimal:
    """Round an amount to the fen (or to ``exponent``), half up: the project's rounding rule."""
    return amount.quantize(exponent, rounding=ROUND_HALF_UP)


@overload
def div_half_up(num: int, den: int) -> int: ...
@overload
def div_half_up(num: npt.NDArray[np.int64], den: int) -> npt.NDArray[np.int64]: ...
def div_half_up(num: Any, den: int) -> Any:
    """``num / den`` rounded half up, exactly, for a non-negative integer ``num`` (or a NumPy
    array of them) and a positive integer ``den``."""
    return (2 * num + den) // (2 * den)


def round_half_up(exact: Fraction | int) -> int:
    """The whole number nearest a non-negative exact value, a half rounded up."""
    value = Fraction(exact)
    return div_half_up(value.numerator, value.denominator)


def yuan_to_fen(amount: Decimal | int | str) -> int:
    """Exact yuan -> integer fen. Refuses amounts with more than two decimal places."""
    value = Decimal(amount) if not isinstance(amount, Decimal) else amount
    fen = value * FEN_PER_YUAN
    if fen != fen.to_integral_value():
        raise ValueError(f"{amount} has more than two decimal places")
    return int(fen)


def fen_to_yuan(fen: int) -> Decimal:
    """Integer fen -> Decimal yuan with two decimal places."""
    return (Decimal(fen) / FEN_PER_YUAN).quantize(FEN)


def format_yuan(fen: int) -> str:
    """Integer fen as yuan the way people read money: 500000000 -> "5,000,000.00" (thousands
    separated, two decimals, exact); for messages, pages and the export's text."""
    return f"{fen_to_yuan(int(fen)):,.2f}"


def parse_yuan(text: str) -> Decimal:
    """Parse a yuan amount written by a person: '1,234.50', ' 12 ', '3e6' are accepted."""
    cleaned = text.strip().replace(",", "").replace("，", "")
    try:
        value = Decimal(cleaned)
    except InvalidOperation as exc:
        raise ValueError(f"not a number: {text!r}") from exc
    if not value.is_finite():
        raise ValueError(f"not a finite number: {text!r}")
    return value
