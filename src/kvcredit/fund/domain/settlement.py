"""Settling the loss-sharing partners' parts (a guarantee company, an insurer, an appraiser...).

When a claim is paid under a rulebook's loss sharing, each partner's part of the loss is owed
through the trustee: ``DUE_FROM_PARTNER:<party>`` (what the partner owes) against
``PARTNER_SHARES_PAYABLE`` (what the partners' money owes the banks); a recovery's partner part
lowers both. A settlement closes them with cash:

    RECEIVED   the partner paid its part     Dr BANK                    Cr DUE_FROM_PARTNER:<party>
    PAID_OUT   the fund paid that part on    Dr PARTNER_SHARES_PAYABLE  Cr BANK
    REFUNDED   the fund paid the partner     Dr DUE_FROM_PARTNER:<party> Cr BANK
               back its part of a recovery made after it had paid in

``refusal`` is the one rule of a settlement: a positive amount, never more than is open for
the party (what it still owes, what of its part is still payable and has come in, or what it
is owed back), and a payment out never more than the pool's cash. Pure: the service computes
the figures under the pool's lock and asks this module.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kvcredit.fund.domain.ledger import JournalEntry, PoolAccount, Posting, account


class Direction(StrEnum):
    RECEIVED = "RECEIVED"  # the partner paid its part into the pool
    PAID_OUT = "PAID_OUT"  # the pool paid the partner's part on
    REFUNDED = "REFUNDED"  # the pool paid the partner back its part of a later recovery


class Refusal(StrEnum):
    NOT_POSITIVE = "NOT_POSITIVE"
    MORE_THAN_OPEN = "MORE_THAN_OPEN"
    NO_CASH = "NO_CASH"
    BEFORE_HISTORY = "BEFORE_HISTORY"
    AFTER_TODAY = "AFTER_TODAY"


@dataclass(frozen=True)
class PartnerPosition:
    """One partner's figures in one pool (fen): its parts of paid losses, its parts of
    recoveries, what it has paid in and what of it the pool has paid on."""

    party: str
    shares_fen: int = 0
    recovered_fen: int = 0
    received_fen: int = 0
    paid_out_fen: int = 0
    refunded_fen: int = 0

    @property
    def due_fen(self) -> int:
        """Its DUE_FROM_PARTNER balance: negative when a recovery came after it paid in."""
        return self.shares_fen - self.recovered_fen - self.received_fen + self.refunded_fen

    @property
    def owed_fen(self) -> int:
        """What the partner still owes the pool."""
        return max(self.due_fen, 0)

    @property
    def refundable_fen(self) -> int:
        """What the pool owes the partner back (its part of recoveries beyond what it owes)."""
        return max(-self.due_fen, 0)

    @property
    def payable_fen(self) -> int:
        """What of the partner's part the pool may pay on now: what came in (less refunds) and
        is still payable (its part of PARTNER_SHARES_PAYABLE)."""
        still_payable = self.shares_fen - self.recovered_fen - self.paid_out_fen
        came_in = self.received_fen - self.refunded_fen - self.paid_out_fen
        return max(min(came_in, still_payable), 0)

    def open_fen(self, direction: Direction) -> int:
        if direction is Direction.RECEIVED:
            return self.owed_fen
        if direction is Direction.REFUNDED:
            return self.refundable_fen
        return self.payable_fen


def refusal(
    position: PartnerPosition,
    direction: Direction,
    amount_fen: int,
    *,
    on: dt.date,
    today: dt.date,
    last_event: dt.date | None,
    cash_fen: int,
) -> Refusal | None:
    """Why the settlement cannot be recorded (None: it can). ``last_event`` is the date of the
    last loss or recovery the partner's figures come from: a settlement is not dated before it,
    nor after the business date ``today``."""
    if amount_fen <= 0:
        return Refusal.NOT_POSITIVE
    if on > today:
        return Refusal.AFTER_TODAY
    if last_event is not None and on < last_event:
        return Refusal.BEFORE_HISTORY
    if amount_fen > position.open_fen(direction):
        return Refusal.MORE_THAN_OPEN
    if direction is not Direction.RECEIVED and amount_fen > cash_fen:
        return Refusal.NO_CASH
    return None


def entry(
    district: str, party: str, direction: Direction, amount_fen: int, *, on: dt.date, ref: str
) -> JournalEntry:
    """The settlement's balanced entry."""
    if amount_fen <= 0:
        raise ValueError("a settlement needs a positive amount")
    cash = account(district, PoolAccount.BANK)
    if direction is Direction.RECEIVED:
        due = account(district, PoolAccount.DUE_FROM_PARTNER, party)
        postings = (Posting(cash, amount_fen), Posting(due, -amount_fen))
        why = f"partner {party} paid its part {ref}"
    elif direction is Direction.REFUNDED:
        due = account(district, PoolAccount.DUE_FROM_PARTNER, party)
        postings = (Posting(due, amount_fen), Posting(cash, -amount_fen))
        why = f"partner {party} paid back its part of a recovery {ref}"
    else:
        payable = account(district, PoolAccount.PARTNER_SHARES_PAYABLE)
        postings = (Posting(payable, amount_fen), Posting(cash, -amount_fen))
        why = f"partner {party}'s part paid on {ref}"
    return JournalEntry(on, why, postings)
