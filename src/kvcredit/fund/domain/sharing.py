"""Loss sharing: a whole amount split among parties by weights, exact to the fen.

``split`` is the one place an amount is divided among several parties (the bank, the fund, a
guarantee company, an insurer, an appraiser; a claim's payment stages; contributors): the
largest-remainder method (Hamilton). Every party first gets the floor of its exact share; the
fen left over go one each to the parties with the largest fractional remainders, ties to the
party listed first. The parts are never negative and always add up to the whole.

Pure (no Django); mypy strict.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from fractions import Fraction

Weight = int | Decimal | Fraction


# The two parties every loss sharing names (``rulebook`` ``fund.loss_sharing``); the others
# (a guarantee company, an insurer, an appraiser ...) are the rulebook's own ids.
FUND = "fund"
BANK = "bank"


def split(total_fen: int, weights: Sequence[tuple[str, Weight]]) -> dict[str, int]:
    """``total_fen`` divided among the named parties in proportion to their weights.

    ``weights`` is ordered (ties in the remainders go to the party listed first); names are
    unique, weights are non-negative and not all zero. The result has every name, in order;
    its values sum to ``total_fen`` exactly."""
    if total_fen < 0:
        raise ValueError("the amount to split must not be negative")
    names = [n for n, _w in weights]
    if len(set(names)) != len(names):
        raise ValueError("each party may appear once")
    ws = [Fraction(w) for _n, w in weights]
    if any(w < 0 for w in ws):
        raise ValueError("a weight must not be negative")
    whole = sum(ws, Fraction(0))
    if whole == 0:
        raise ValueError("the weights must not all be zero")
    exact = [total_fen * w / whole for w in ws]
    floors = [int(x // 1) for x in exact]
    left = total_fen - sum(floors)
    order = sorted(range(len(ws)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return dict(zip(names, floors, strict=True))
