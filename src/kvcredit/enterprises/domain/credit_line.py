"""The enterprise's credit line as a value: its one home for the arithmetic.

Pure (no Django). ``limit`` is what the last evaluation granted, ``reserved`` what open
applications hold, ``used`` the principal of disbursed loans not yet repaid (fen)::

    reserve(a)            reserved += a      an application is submitted (a <= available)
    release(a)            reserved -= a      approval keeps less, rejection, withdrawal, expiry
    consume(a, held=h)    reserved -= h      a disbursement uses what its application held
                          used     += a      (h = 0: a reversed repayment owes the principal again)
    restore(a)            used     -= a      repaid principal returns to the available limit

Each operation returns a new line and refuses (``CreditLineError``) an amount that would make
``reserved`` or ``used`` negative, or a reservation beyond what is available, instead of
clamping: a refused operation changes nothing. ``available`` is what is left of the limit; a
line whose limit a re-evaluation lowered below what it holds has nothing available (it is over
its limit by ``over``) until repayments bring it back.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from kvcredit.errors import DomainError


class CreditLineError(DomainError):
    """An operation would take a credit line's reserved or used amount below zero, or reserve
    more than is available. ``op`` names the operation, ``amount`` and ``room`` the figures."""

    def __init__(self, op: str, amount: int, room: int) -> None:
        self.op, self.amount, self.room = op, amount, room
        super().__init__(f"credit line: {op} of {amount} fen refused ({room} fen room)")


@dataclass(frozen=True)
class CreditLine:
    limit: int
    reserved: int = 0
    used: int = 0
    valid_until: dt.date | None = None

    def __post_init__(self) -> None:
        if self.limit < 0 or self.reserved < 0 or self.used < 0:
            raise CreditLineError("state", min(self.limit, self.reserved, self.used), 0)

    @property
    def available(self) -> int:
        return max(self.limit - self.reserved - self.used, 0)

    @property
    def over(self) -> int:
        """How far what the line holds exceeds its limit (0 on a line within its limit)."""
        return max(self.reserved + self.used - self.limit, 0)

    def available_on(self, today: dt.date) -> int:
        """What may be reserved on ``today``: nothing once the evaluation has lapsed."""
        if self.valid_until is None or self.valid_until <= today:
            return 0
        return self.available

    @staticmethod
    def _amount(op: str, amount: int, room: int) -> None:
        if amount < 0 or amount > room:
            raise CreditLineError(op, amount, room)

    def reserve(self, amount: int, *, today: dt.date | None = None) -> CreditLine:
        room = self.available if today is None else self.available_on(today)
        self._amount("reserve", amount, room)
        return replace(self, reserved=self.reserved + amount)

    def release(self, amount: int) -> CreditLine:
        self._amount("release", amount, self.reserved)
        return replace(self, reserved=self.reserved - amount)

    def consume(self, amount: int, *, held: int = 0) -> CreditLine:
        self._amount("consume", held, self.reserved)
        if amount < 0:
            raise CreditLineError("consume", amount, 0)
        return replace(self, reserved=self.reserved - held, used=self.used + amount)

    def restore(self, amount: int) -> CreditLine:
        self._amount("restore", amount, self.used)
        return replace(self, used=self.used - amount)

    def with_limit(self, limit: int, valid_until: dt.date | None) -> CreditLine:
        """The line after an evaluation sets its limit (what it holds is unchanged)."""
        return replace(self, limit=limit, valid_until=valid_until)
