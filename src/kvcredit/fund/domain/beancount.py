"""The fund's books as a beancount ledger (plain text an accountant's tools read).

Each pool account ``POOL:<district>:<KIND>`` becomes ``<Type>:Pool:D<district>:<Kind>``, for
example ``Assets:Pool:D500101:Bank`` (a partner's sub-account adds its id:
``Assets:Pool:D500101:DueFromPartner:Pinsurer``); amounts are yuan with two decimals in
``CNY``. Accounts are opened on the date of their first entry. Pure: entries in, text out.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from kvcredit.fund.domain.ledger import (
    ACCOUNT_TYPES,
    AccountType,
    JournalEntry,
    parse_account,
    party_of,
)
from kvcredit.money import fen_to_yuan

CURRENCY = "CNY"
ROOTS = {
    AccountType.ASSET: "Assets",
    AccountType.LIABILITY: "Liabilities",
    AccountType.EQUITY: "Equity",
    AccountType.INCOME: "Income",
    AccountType.EXPENSE: "Expenses",
}


@dataclass(frozen=True)
class NumberedEntry:
    """A stored entry with its number (the journal's reference for it)."""

    number: int
    entry: JournalEntry


def bean_account(code: str) -> str:
    district, kind = parse_account(code)
    words = "".join(w.capitalize() for w in kind.value.split("_"))
    safe = "".join(c if c.isalnum() else "-" for c in district)
    out = f"{ROOTS[ACCOUNT_TYPES[kind]]}:Pool:D{safe}:{words}"
    party = party_of(code)
    if party is not None:  # a partner's sub-account: ``...:DueFromPartner:PInsurer``
        out += ":P" + "".join(c if c.isascii() and c.isalnum() else "-" for c in party)
    return out


def _yuan(fen: int) -> str:
    return str(fen_to_yuan(fen))


def _text(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render(entries: Sequence[NumberedEntry], *, title: str = "kvcredit fund") -> str:
    """The whole ledger: options, one ``open`` per account, one transaction per entry."""
    ordered = sorted(entries, key=lambda n: (n.entry.entry_date, n.number))
    opened: dict[str, dt.date] = {}
    for n in ordered:
        for p in n.entry.postings:
            opened.setdefault(p.account, n.entry.entry_date)
    out = [f'option "title" "{_text(title)}"', f'option "operating_currency" "{CURRENCY}"', ""]
    for code, day in sorted(opened.items(), key=lambda kv: (kv[1], kv[0])):
        out.append(f"{day.isoformat()} open {bean_account(code)} {CURRENCY}")
    out.append("")
    for n in ordered:
        out.extend(_transaction(n))
    return "\n".join(out) + "\n"


def _transaction(n: NumberedEntry) -> Iterable[str]:
    e = n.entry
    yield f'{e.entry_date.isoformat()} * "{_text(e.description)}"'
    yield f'  entry: "{n.number}"'
    if e.reverses is not None:
        yield f'  reverses: "{_text(e.reverses)}"'
    for p in e.postings:
        yield f"  {bean_account(p.account)}  {_yuan(p.amount_fen)} {CURRENCY}"
    yield ""
