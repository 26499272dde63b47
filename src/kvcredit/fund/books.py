"""Writing and reading the books: pools, their accounts, journal entries and postings.

Every write goes through ``book``, which takes an entry that the pure domain has already
balanced (``domain.ledger.JournalEntry`` refuses one that does not) and stores it with its
postings. On PostgreSQL the deferred constraint trigger checks the balance again; ``book``
fires it at once (``SET CONSTRAINTS … IMMEDIATE``) so an unbalanced entry fails where it is
made, not at commit. Callers run inside their service's transaction.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable

from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from kvcredit.enterprises.models import District
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import EntryKind, JournalEntry, LedgerAccount, Pool, Posting

BALANCE_TRIGGERS = "fund_posting_balances, fund_entry_balances"


def pool_of(district: District, *, lock: bool = False) -> Pool:
    """The district's pool, opened (target 0) on first use; locked when money is spent."""
    pool, _ = Pool.objects.get_or_create(district=district, defaults={"opened_at": timezone.now()})
    if lock:
        pool = Pool.objects.select_for_update().get(pk=pool.pk)
    return pool


def _account(pool: Pool, code: str) -> LedgerAccount:
    district, kind = dl.parse_account(code)
    if district != pool.district.code:
        raise ValueError(f"{code} is not an account of pool {pool.district.code}")
    acc, _ = LedgerAccount.objects.get_or_create(
        pool=pool, code=code, defaults={"kind": kind.value}
    )
    return acc


def book(
    pool: Pool,
    entry: dl.JournalEntry,
    *,
    kind: EntryKind,
    actor: object,
    reverses: JournalEntry | None = None,
) -> JournalEntry:
    """Store a balanced entry of ``pool`` with its postings."""
    row = JournalEntry.objects.create(
        pool=pool,
        entry_date=entry.entry_date,
        kind=kind,
        description=entry.description[:300],
        reverses=reverses,
        created_at=timezone.now(),
        created_by=actor,
    )
    Posting.objects.bulk_create(
        Posting(entry=row, account=_account(pool, p.account), amount_fen=p.amount_fen)
        for p in entry.postings
    )
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute(f"SET CONSTRAINTS {BALANCE_TRIGGERS} IMMEDIATE")
            cur.execute(f"SET CONSTRAINTS {BALANCE_TRIGGERS} DEFERRED")
    return row


def to_domain(row: JournalEntry) -> dl.JournalEntry:
    postings = tuple(
        dl.Posting(p.account.code, p.amount_fen)
        for p in row.postings.select_related("account").order_by("id")
    )
    reverses = str(row.reverses_id) if row.reverses_id else None
    return dl.JournalEntry(row.entry_date, row.description, postings, reverses=reverses)


def balances(
    pools: Iterable[Pool] | None = None, *, as_of: dt.date | None = None
) -> dict[str, int]:
    """Debit-positive balance of every account (of ``pools``), counting entries up to ``as_of``."""
    qs = Posting.objects.all()
    if pools is not None:
        qs = qs.filter(account__pool__in=list(pools))
    if as_of is not None:
        qs = qs.filter(entry__entry_date__lte=as_of)
    rows = qs.values("account__code").annotate(total=Sum("amount_fen")).order_by("account__code")
    return {r["account__code"]: int(r["total"]) for r in rows}


def cash(pool: Pool, *, as_of: dt.date | None = None) -> int:
    code = dl.account(pool.district.code, dl.PoolAccount.BANK)
    return balances([pool], as_of=as_of).get(code, 0)


def spendable(pool: Pool, *, on: dt.date) -> int:
    """What the pool can pay on ``on`` without its cash going below zero on any later date:
    the lowest cash balance from ``on`` onwards (entries may be dated ahead)."""
    code = dl.account(pool.district.code, dl.PoolAccount.BANK)
    moves: dict[dt.date, int] = defaultdict(int)
    rows = (
        Posting.objects.filter(account__pool=pool, account__code=code, entry__entry_date__gt=on)
        .values("entry__entry_date")
        .annotate(total=Sum("amount_fen"))
    )
    for r in rows:
        moves[r["entry__entry_date"]] += int(r["total"])
    running = lowest = cash(pool, as_of=on)
    for day in sorted(moves):
        running += moves[day]
        lowest = min(lowest, running)
    return max(lowest, 0)
