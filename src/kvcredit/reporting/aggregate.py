"""Pure aggregations behind the statistics page (no Django, no database).

Input rows are plain values; outputs are ordered lists of (label, value) pairs, ready for a
table or a chart. Money is integer fen throughout.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from kvcredit.money import div_half_up

NOT_RATED = "NOT_RATED"


@dataclass(frozen=True)
class EnterpriseRow:
    """One registered enterprise as the statistics see it."""

    district: str
    grade: str | None  # None: not rated (no evaluation yet, or not eligible)
    limit_fen: int


@dataclass(frozen=True)
class ProgrammeFigures:
    enterprises: int
    rated: int
    total_limit_fen: int
    by_district: list[tuple[str, int]] = field(default_factory=list)
    limit_by_district_fen: list[tuple[str, int]] = field(default_factory=list)
    grade_mix: list[tuple[str, int]] = field(default_factory=list)


def count_by(values: Iterable[str], order: Sequence[str] = ()) -> list[tuple[str, int]]:
    """Counts per label: labels of ``order`` first (zeros kept), then the rest by name."""
    counts = Counter(values)
    known = [(label, counts.pop(label, 0)) for label in order]
    return known + sorted(counts.items())


def sum_by(pairs: Iterable[tuple[str, int]], order: Sequence[str] = ()) -> list[tuple[str, int]]:
    """Sums of integer amounts per label, ordered like ``count_by``."""
    totals: Counter[str] = Counter()
    for label, amount in pairs:
        totals[label] += amount
    known = [(label, totals.pop(label, 0)) for label in order]
    return known + sorted(totals.items())


def programme_figures(
    rows: Iterable[EnterpriseRow],
    *,
    districts: Sequence[str] = (),
    grades: Sequence[str] = (),
) -> ProgrammeFigures:
    """Headline figures of the registry: enterprises by district, grade mix, total credit.

    ``districts`` and ``grades`` fix the order (and keep zero rows) of the breakdowns; grades
    are best first and ``NOT_RATED`` comes last.
    """
    rows = list(rows)
    rated = [r for r in rows if r.grade is not None]
    return ProgrammeFigures(
        enterprises=len(rows),
        rated=len(rated),
        total_limit_fen=sum(r.limit_fen for r in rows),
        by_district=count_by((r.district for r in rows), districts),
        limit_by_district_fen=sum_by(((r.district, r.limit_fen) for r in rows), districts),
        grade_mix=count_by((r.grade or NOT_RATED for r in rows), [*grades, NOT_RATED]),
    )


# -- lending and the fund: the headline figures the programme publishes ----------------------
DIMENSIONS = ("district", "bank", "grade", "industry", "month")


@dataclass(frozen=True)
class LoanRow:
    """One disbursed programme loan (an "enterprise-time", 企业户次)."""

    enterprise_id: int
    disbursed_on: str  # YYYY-MM-DD
    district: str
    bank: str
    grade: str
    industry: str
    amount_fen: int
    first_time: bool


@dataclass(frozen=True)
class MoneyRow:
    """An amount on a date, attributed like a loan: compensation paid, recovered, commercial
    loans drawn in alongside."""

    on: str  # YYYY-MM-DD
    district: str
    bank: str
    grade: str
    industry: str
    amount_fen: int
    enterprise_id: int = 0


@dataclass(frozen=True)
class Headline:
    """The published figures of one group (or of the whole window)."""

    label: str
    enterprise_times: int = 0
    amount_lent_fen: int = 0
    enterprises: int = 0
    first_time_borrowers: int = 0
    commercial_loans: int = 0
    commercial_amount_fen: int = 0
    compensation_paid_fen: int = 0
    recovered_fen: int = 0

    @property
    def average_loan_fen(self) -> int:
        """Amount lent / enterprise-times, rounded half up to the fen (0 without loans)."""
        if not self.enterprise_times:
            return 0
        return div_half_up(self.amount_lent_fen, self.enterprise_times)


HEADLINE_FIELDS = (
    "enterprise_times",
    "amount_lent_fen",
    "enterprises",
    "first_time_borrowers",
    "average_loan_fen",
    "commercial_loans",
    "commercial_amount_fen",
    "compensation_paid_fen",
    "recovered_fen",
)


def _key(row: LoanRow | MoneyRow, by: str) -> str:
    if by == "month":
        return (row.disbursed_on if isinstance(row, LoanRow) else row.on)[:7]
    return str(getattr(row, by))


def _in(day: str, date_from: str | None, date_to: str | None) -> bool:
    return (date_from is None or day >= date_from) and (date_to is None or day <= date_to)


def headline(
    loans: Iterable[LoanRow],
    *,
    paid: Iterable[MoneyRow] = (),
    recovered: Iterable[MoneyRow] = (),
    commercial: Iterable[MoneyRow] = (),
    label: str = "",
) -> Headline:
    """The figures of a set of rows. A first-time borrower is counted once per enterprise."""
    loans = list(loans)
    commercial = list(commercial)
    return Headline(
        label=label,
        enterprise_times=len(loans),
        amount_lent_fen=sum(r.amount_fen for r in loans),
        enterprises=len({r.enterprise_id for r in loans}),
        first_time_borrowers=len({r.enterprise_id for r in loans if r.first_time}),
        commercial_loans=len(commercial),
        commercial_amount_fen=sum(r.amount_fen for r in commercial),
        compensation_paid_fen=sum(r.amount_fen for r in paid),
        recovered_fen=sum(r.amount_fen for r in recovered),
    )


def breakdown(
    loans: Iterable[LoanRow],
    *,
    by: str,
    paid: Iterable[MoneyRow] = (),
    recovered: Iterable[MoneyRow] = (),
    commercial: Iterable[MoneyRow] = (),
    date_from: str | None = None,
    date_to: str | None = None,
    order: Sequence[str] = (),
) -> tuple[Headline, list[Headline]]:
    """The window's total and one ``Headline`` per value of ``by`` (district, bank, grade,
    industry or month). Rows outside [date_from, date_to] (ISO dates, inclusive) are left out;
    groups of ``order`` come first (kept when empty), then the others sorted."""
    if by not in DIMENSIONS:
        raise ValueError(f"by must be one of {', '.join(DIMENSIONS)}")
    loans = [r for r in loans if _in(r.disbursed_on, date_from, date_to)]
    money = {
        "paid": [r for r in paid if _in(r.on, date_from, date_to)],
        "recovered": [r for r in recovered if _in(r.on, date_from, date_to)],
        "commercial": [r for r in commercial if _in(r.on, date_from, date_to)],
    }
    total = headline(loans, **money, label="")
    keys = {_key(r, by) for r in loans} | {_key(r, by) for rs in money.values() for r in rs}
    labels = [*order, *sorted(keys - set(order))]
    groups = [
        headline(
            [r for r in loans if _key(r, by) == k],
            **{name: [r for r in rs if _key(r, by) == k] for name, rs in money.items()},
            label=k,
        )
        for k in labels
    ]
    return total, groups
