"""The journal entries of each fund event, built from the rules. Pure: no storage."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from kvcredit.errors import InsufficientFunds as InsufficientFunds
from kvcredit.fund.domain.ledger import JournalEntry, PoolAccount, Posting, account, transfer


class Contributor(StrEnum):
    CITY = "CITY"
    DISTRICT = "DISTRICT"


def contribution(
    district: str, who: Contributor, amount_fen: int, *, on: dt.date, ref: str
) -> JournalEntry:
    equity = (
        PoolAccount.CITY_CONTRIBUTIONS
        if who is Contributor.CITY
        else PoolAccount.DISTRICT_CONTRIBUTIONS
    )
    return transfer(
        on,
        f"{who.value.lower()} contribution {ref}",
        debit=account(district, PoolAccount.BANK),
        credit=account(district, equity),
        amount_fen=amount_fen,
    )


def require_cover(amount_fen: int, cash_fen: int) -> None:
    """Refuse a payment of ``amount_fen`` from a pool that can spend ``cash_fen``."""
    if amount_fen > cash_fen:
        raise InsufficientFunds(amount_fen, cash_fen)


def _pay(district: str, amount_fen: int, cash_fen: int) -> None:
    require_cover(amount_fen, cash_fen)


def compensation(
    district: str, amount_fen: int, *, on: dt.date, ref: str, cash_fen: int
) -> JournalEntry:
    """Pay a bank's claim from the pool; refused when the pool's cash cannot cover it."""
    _pay(district, amount_fen, cash_fen)
    return transfer(
        on,
        f"compensation {ref}",
        debit=account(district, PoolAccount.COMPENSATION_PAID),
        credit=account(district, PoolAccount.BANK),
        amount_fen=amount_fen,
    )


def recovery(district: str, pool_share_fen: int, *, on: dt.date, ref: str) -> JournalEntry:
    """The pool's share of an amount recovered from a borrower."""
    return transfer(
        on,
        f"recovery {ref}",
        debit=account(district, PoolAccount.BANK),
        credit=account(district, PoolAccount.RECOVERIES),
        amount_fen=pool_share_fen,
    )


def fee(district: str, amount_fen: int, *, on: dt.date, ref: str) -> JournalEntry:
    return transfer(
        on,
        f"service fee {ref}",
        debit=account(district, PoolAccount.BANK),
        credit=account(district, PoolAccount.SERVICE_FEES),
        amount_fen=amount_fen,
    )


def bridge_loan_out(
    district: str, amount_fen: int, *, on: dt.date, ref: str, cash_fen: int
) -> JournalEntry:
    _pay(district, amount_fen, cash_fen)
    return transfer(
        on,
        f"bridge loan {ref}",
        debit=account(district, PoolAccount.BRIDGE_LOANS),
        credit=account(district, PoolAccount.BANK),
        amount_fen=amount_fen,
    )


def bridge_loan_repaid(
    district: str, principal_fen: int, fee_fen: int, *, on: dt.date, ref: str
) -> JournalEntry:
    """A repayment of a bridge loan: principal back into the pool's cash, the fee as income."""
    if principal_fen < 0 or fee_fen < 0 or principal_fen + fee_fen == 0:
        raise ValueError("a repayment needs a positive amount")
    postings = [Posting(account(district, PoolAccount.BANK), principal_fen + fee_fen)]
    if principal_fen:
        postings.append(Posting(account(district, PoolAccount.BRIDGE_LOANS), -principal_fen))
    if fee_fen:
        postings.append(Posting(account(district, PoolAccount.SERVICE_FEES), -fee_fen))
    return JournalEntry(on, f"bridge loan repaid {ref}", tuple(postings))


def subsidy(
    district: str, amount_fen: int, *, on: dt.date, ref: str, from_pool: bool, cash_fen: int = 0
) -> JournalEntry:
    """An interest subsidy paid. From the pool (``from_pool``): out of its cash, refused when
    the cash cannot cover it. Else the district's budget pays it: the pool's books record the
    expense against the budget's funding, and the pool's cash does not move."""
    if from_pool:
        _pay(district, amount_fen, cash_fen)
    credit = PoolAccount.BANK if from_pool else PoolAccount.SUBSIDY_BUDGET
    return transfer(
        on,
        f"interest subsidy {ref}",
        debit=account(district, PoolAccount.SUBSIDIES_PAID),
        credit=account(district, credit),
        amount_fen=amount_fen,
    )


def subsidy_clawback(
    district: str, amount_fen: int, *, on: dt.date, ref: str, from_pool: bool
) -> JournalEntry:
    """An interest subsidy taken back because the repayment that paid its interest was
    reversed: the subsidy's entry reversed on ``on`` (SUBSIDIES_PAID credited; the pool's cash
    debited when the pool paid it, the lending bank returning it with the reversal, else the
    district's budget)."""
    debit = PoolAccount.BANK if from_pool else PoolAccount.SUBSIDY_BUDGET
    return transfer(
        on,
        f"interest subsidy clawed back {ref}",
        debit=account(district, debit),
        credit=account(district, PoolAccount.SUBSIDIES_PAID),
        amount_fen=amount_fen,
    )


def partner_shares(
    district: str, parts_fen: dict[str, int], *, on: dt.date, ref: str
) -> JournalEntry | None:
    """The partners' parts of a loss (a guarantee company, an insurer ...): each owes the bank
    its part, through the trustee (``DUE_FROM_PARTNER:<party>`` against the banks' claim on the
    partners). None when no partner bears anything."""
    return _partners(district, parts_fen, on=on, why=f"loss shared {ref}", sign=1)


def partner_recoveries(
    district: str, parts_fen: dict[str, int], *, on: dt.date, ref: str
) -> JournalEntry | None:
    """The partners' parts of an amount recovered: the bank keeps them in place of what the
    partners owe it, so each partner owes that much less."""
    return _partners(district, parts_fen, on=on, why=f"recovery shared {ref}", sign=-1)


def _partners(
    district: str, parts_fen: dict[str, int], *, on: dt.date, why: str, sign: int
) -> JournalEntry | None:
    if any(v < 0 for v in parts_fen.values()):
        raise ValueError("a partner's part must not be negative")
    postings = [
        Posting(account(district, PoolAccount.DUE_FROM_PARTNER, party), sign * fen)
        for party, fen in parts_fen.items()
        if fen
    ]
    total = sum(parts_fen.values())
    if not total:
        return None
    postings.append(Posting(account(district, PoolAccount.PARTNER_SHARES_PAYABLE), -sign * total))
    return JournalEntry(on, why, tuple(postings))
