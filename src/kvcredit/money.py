"""Money helpers: Decimal in code, integer fen at rest, one rounding rule.

Money is never a float. Amounts enter as strings, ints or Decimals, are quantised to the fen
with ROUND_HALF_UP at named points only, and are stored as integer fen.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

FEN = Decimal("0.01")
FEN_PER_YUAN = 100
ZERO = Decimal("0.00")

__all__ = ["FEN", "FEN_PER_YUAN", "ZERO", "fen_to_yuan", "parse_yuan", "quantize", "yuan_to_fen"]


def quantize(amount: Decimal) -> Decimal:
    """Round an amount to the fen, half up (the project's single rounding rule)."""
    return amount.quantize(FEN, rounding=ROUND_HALF_UP)


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
