"""Double-entry books of the risk compensation fund, one set of accounts per district pool.

A ``JournalEntry`` balances by construction (its constructor refuses one that does not), is
immutable, and is corrected only by a reversing entry. Amounts are integer fen; a posting's
amount is positive for a debit and negative for a credit.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from kvcredit.errors import UnbalancedEntry as UnbalancedEntry


class AccountType(StrEnum):
    ASSET = "ASSET"
    LIABILITY = "LIABILITY"
    EQUITY = "EQUITY"
    INCOME = "INCOME"
    EXPENSE = "EXPENSE"


class PoolAccount(StrEnum):
    """The chart of accounts of one district pool (the code after ``POOL:<district>:``)."""

    BANK = "BANK"  # the pool's money at its bank
    BRIDGE_LOANS = "BRIDGE_LOANS"  # emergency bridge loans outstanding
    CITY_CONTRIBUTIONS = "CITY_CONTRIBUTIONS"
    DISTRICT_CONTRIBUTIONS = "DISTRICT_CONTRIBUTIONS"
    COMPENSATION_PAID = "COMPENSATION_PAID"
    RECOVERIES = "RECOVERIES"  # the pool's share of amounts recovered
    SERVICE_FEES = "SERVICE_FEES"  # service and bridge-loan fees received
    BANK_SHARE_PAYABLE = "BANK_SHARE_PAYABLE"  # recovered money owed to the bank
    SUBSIDIES_PAID = "SUBSIDIES_PAID"  # interest subsidies (贴息) paid
    SUBSIDY_BUDGET = "SUBSIDY_BUDGET"  # the district budget's funding of subsidies it pays
    # Loss sharing among several parties (``sharing``): what each partner (a guarantee company,
    # an insurer, an appraiser ...) owes the banks for its part of each loss, one sub-account per
    # partner (``POOL:<district>:DUE_FROM_PARTNER:<party>``), and the banks' claim on it.
    DUE_FROM_PARTNER = "DUE_FROM_PARTNER"
    PARTNER_SHARES_PAYABLE = "PARTNER_SHARES_PAYABLE"


ACCOUNT_TYPES: Mapping[PoolAccount, AccountType] = {
    PoolAccount.BANK: AccountType.ASSET,
    PoolAccount.BRIDGE_LOANS: AccountType.ASSET,
    PoolAccount.CITY_CONTRIBUTIONS: AccountType.EQUITY,
    PoolAccount.DISTRICT_CONTRIBUTIONS: AccountType.EQUITY,
    PoolAccount.COMPENSATION_PAID: AccountType.EXPENSE,
    PoolAccount.RECOVERIES: AccountType.INCOME,
    PoolAccount.SERVICE_FEES: AccountType.INCOME,
    PoolAccount.BANK_SHARE_PAYABLE: AccountType.LIABILITY,
    PoolAccount.SUBSIDIES_PAID: AccountType.EXPENSE,
    PoolAccount.SUBSIDY_BUDGET: AccountType.EQUITY,
    PoolAccount.DUE_FROM_PARTNER: AccountType.ASSET,
    PoolAccount.PARTNER_SHARES_PAYABLE: AccountType.LIABILITY,
}

# The kinds kept per party: their codes carry the party's id as a fourth part.
PER_PARTY: frozenset[PoolAccount] = frozenset({PoolAccount.DUE_FROM_PARTNER})


def account(district: str, kind: PoolAccount, party: str | None = None) -> str:
    """The code of a pool's account; ``party`` names the sub-account of a per-party kind."""
    if (party is not None) != (kind in PER_PARTY):
        raise ValueError(f"{kind.value} {'needs' if kind in PER_PARTY else 'takes no'} party")
    if party is not None:
        if not party or ":" in party:
            raise ValueError(f"not a party id: {party!r}")
        return f"POOL:{district}:{kind.value}:{party}"
    return f"POOL:{district}:{kind.value}"


def _parts(code: str) -> tuple[str, PoolAccount, str | None]:
    parts = code.split(":")
    if len(parts) not in (3, 4) or parts[0] != "POOL":
        raise ValueError(f"not a pool account: {code}")
    kind = PoolAccount(parts[2])
    party = parts[3] if len(parts) == 4 else None
    if (party is not None) != (kind in PER_PARTY) or party == "":
        raise ValueError(f"not a pool account: {code}")
    return parts[1], kind, party


def parse_account(code: str) -> tuple[str, PoolAccount]:
    district, kind, _party = _parts(code)
    return district, kind


def party_of(code: str) -> str | None:
    """The party of a per-party account (None for the others)."""
    return _parts(code)[2]


@dataclass(frozen=True)
class Posting:
    account: str
    amount_fen: int  # debit > 0, credit < 0


@dataclass(frozen=True)
class JournalEntry:
    entry_date: dt.date
    description: str
    postings: tuple[Posting, ...]
    reverses: str | None = None  # reference of the entry this one reverses

    def __post_init__(self) -> None:
        if len(self.postings) < 2:
            raise UnbalancedEntry("a journal entry needs at least two postings")
        if any(p.amount_fen == 0 for p in self.postings):
            raise UnbalancedEntry("a posting of zero is not allowed")
        total = sum(p.amount_fen for p in self.postings)
        if total != 0:
            raise UnbalancedEntry(f"debits and credits differ by {total} fen")
        for p in self.postings:
            parse_account(p.account)

    def reversal(self, *, entry_date: dt.date, reference: str, why: str) -> JournalEntry:
        """The entry that cancels this one (a correction never edits the original)."""
        return JournalEntry(
            entry_date,
            f"Reversal of {reference}: {why}",
            tuple(Posting(p.account, -p.amount_fen) for p in self.postings),
            reverses=reference,
        )


def transfer(
    entry_date: dt.date, description: str, *, debit: str, credit: str, amount_fen: int
) -> JournalEntry:
    if amount_fen <= 0:
        raise ValueError("an amount must be positive")
    return JournalEntry(
        entry_date, description, (Posting(debit, amount_fen), Posting(credit, -amount_fen))
    )


def balances(entries: Iterable[JournalEntry], *, as_of: dt.date | None = None) -> dict[str, int]:
    """Debit-positive balance of every account, counting entries dated on or before ``as_of``."""
    out: dict[str, int] = defaultdict(int)
    for e in entries:
        if as_of is None or e.entry_date <= as_of:
            for p in e.postings:
                out[p.account] += p.amount_fen
    return dict(out)


@dataclass(frozen=True)
class TrialBalanceLine:
    account: str
    type: AccountType
    debit_fen: int
    credit_fen: int


def trial_balance(
    entries: Iterable[JournalEntry], *, as_of: dt.date | None = None
) -> list[TrialBalanceLine]:
    lines = []
    for code, bal in sorted(balances(entries, as_of=as_of).items()):
        _, kind = parse_account(code)
        lines.append(TrialBalanceLine(code, ACCOUNT_TYPES[kind], max(bal, 0), max(-bal, 0)))
    return lines


def pool_cash(
    entries: Iterable[JournalEntry], district: str, *, as_of: dt.date | None = None
) -> int:
    """Money the pool holds at its bank."""
    return balances(entries, as_of=as_of).get(account(district, PoolAccount.BANK), 0)
