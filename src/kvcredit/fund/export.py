"""The fund's books written out for an accountant (beancount)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from kvcredit.fund import books
from kvcredit.fund.domain.beancount import NumberedEntry, render
from kvcredit.fund.models import JournalEntry


def beancount_text(*, as_of: dt.date | None = None) -> str:
    qs = JournalEntry.objects.prefetch_related("postings__account").order_by("entry_date", "id")
    if as_of is not None:
        qs = qs.filter(entry_date__lte=as_of)
    numbered = [NumberedEntry(row.pk, books.to_domain(row)) for row in qs]
    return render(numbered, title="kvcredit risk compensation fund")


def write_beancount(path: Path, *, as_of: dt.date | None = None) -> int:
    """Write the books to ``path``; returns the number of entries written."""
    text = beancount_text(as_of=as_of)
    path.write_text(text, encoding="utf-8")
    return text.count("\n  entry: ")
