"""The end-of-day run over a whole loan book, vectorised: one array operation per step.

For the day ``as_of`` and every active loan: accrue a day of interest on the outstanding
principal (exactly: whole fen plus a remainder below one fen, so a period's interest and the
accrued interest shown are the exact figure rounded half up once), move the instalment falling
due into the due buckets, accrue a day of penalty interest on principal past due beyond the
grace days (an instalment's principal bears penalty only once it is itself more than the grace
days past its due date, however old an earlier arrear is), compute days past due and the
five-category class, close loans with nothing left, and flag maturities. The caller persists
the new state; running the same day twice is refused by ``last_eod_date``.

Prepayments shorten the schedule from its end: an instalment falls due with the smaller of its
scheduled principal and the principal not yet due, and the last one with all that is left. An
amortising loan's period interest is rate / 12 on the balance not yet due, unless interest was
paid early during the period (``acc_paid``): then the period charges the actual days accrued.

The schedule arrays may be a window: a caller that keeps only each loan's next instalment
passes them as (N, 1) with ``next_k`` 0 and ``n_periods`` the instalments still to fall due.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import numpy.typing as npt

from kvcredit.errors import DayAlreadyRun as DayAlreadyRun
from kvcredit.errors import DaySkipped as DaySkipped
from kvcredit.lending.domain.aging import ClassificationRules, daily_penalty, days_past_due
from kvcredit.lending.domain.lifecycle import RESTRUCTURED_FLOOR
from kvcredit.lending.domain.schedule import DAILY, MONTHLY, div_half_up

I64 = npt.NDArray[np.int64]
Dates = npt.NDArray[np.datetime64]


@dataclass(frozen=True)
class Book:
    """State of N loans. Schedules are (N, P) arrays padded with NaT / 0 past each loan's end."""

    due_dates: Dates  # (N, P)
    sched_principal: I64  # (N, P)
    n_periods: I64  # instalments of each loan (<= P)
    monthly_rate_interest: npt.NDArray[np.bool_]  # amortising methods: interest = bal * r / 12
    rate: I64  # 1e-8 units
    penalty_rate: I64
    grace_days: I64
    outstanding: I64  # principal not yet repaid (due or not)
    next_k: I64  # index of the next instalment to fall due
    due_principal: I64  # principal due and unpaid
    due_interest: I64  # interest due and unpaid
    penalty: I64  # penalty interest accrued and unpaid
    acc_whole: I64  # interest accrued this period: whole fen ...
    acc_rem: I64  # ... and the remainder in 1/(360e8) fen (below one fen once a day has run)
    acc_paid: I64  # accrued interest paid early this period
    oldest_due: Dates  # oldest unpaid due date (NaT when nothing is due)
    closed: npt.NDArray[np.bool_]
    last_eod: dt.date
    # principal charged by instalments that fell due on one of the grace days before the day
    # being run (their due date + grace >= that day), not yet past due beyond the grace days:
    # given by a caller that keeps only windows of the schedule, for one day ...
    in_grace_principal: I64 | None = None
    # ... or, over the whole schedule, the principal each instalment charged (0 until due)
    charged: I64 | None = None
    # forbearance (``deferral``): on days in [pause_from, pause_to) a deferred loan accrues no
    # interest where ``pause_accrual``, bears no penalty where ``waive_penalty`` and does not
    # count days past due where ``pause_dpd`` (NaT: no deferral) ...
    pause_from: Dates | None = None
    pause_to: Dates | None = None
    pause_accrual: npt.NDArray[np.bool_] | None = None
    waive_penalty: npt.NDArray[np.bool_] | None = None
    pause_dpd: npt.NDArray[np.bool_] | None = None
    # ... and a restructured loan is at least special mention up to ``watch_until`` (inclusive),
    # which an overdue day pushes to that day + ``watch_days``
    watch_until: Dates | None = None
    watch_days: I64 | None = None

    @property
    def size(self) -> int:
        return len(self.outstanding)


@dataclass(frozen=True)
class DayResult:
    book: Book
    dpd: I64
    category: I64
    matured: npt.NDArray[np.bool_]  # the last instalment fell due today
    newly_closed: npt.NDArray[np.bool_]
    fell_due: npt.NDArray[np.bool_]  # an instalment fell due today ...
    charged_principal: I64  # ... with this principal
    charged_interest: I64  # ... and this interest
    watch_until: Dates | None = None  # the watch periods after the day (None: no watch)


def accrued_interest(acc_whole: I64, acc_rem: I64) -> I64:
    """Interest accrued and not yet due, in whole fen: the exact accrual
    ``acc_whole + acc_rem / DAILY`` rounded half up once."""
    return np.asarray(acc_whole + div_half_up(acc_rem, DAILY), dtype=np.int64)


def period_charge(
    *,
    not_due: I64,
    scheduled_principal: I64,
    is_last: npt.NDArray[np.bool_],
    monthly_rate_interest: npt.NDArray[np.bool_],
    rate: I64,
    acc_whole: I64,
    acc_rem: I64,
    acc_paid: I64,
) -> tuple[I64, I64]:
    """(principal, interest) an instalment charges when it falls due: the smaller of its
    scheduled principal and the principal not yet due (the last one: all of it); interest
    rate / 12 on the principal not yet due for the amortising methods unless interest was paid
    early this period, else the interest accrued (actual days / 360, rounded once). The end of
    day and a repayment on a due date both charge an instalment with this one rule."""
    not_due = np.asarray(not_due, dtype=np.int64)
    interest = np.where(
        np.asarray(monthly_rate_interest) & (np.asarray(acc_paid) == 0),
        div_half_up(not_due * np.asarray(rate, dtype=np.int64), MONTHLY),
        accrued_interest(np.asarray(acc_whole), np.asarray(acc_rem)),
    )
    principal = np.where(is_last, not_due, np.minimum(scheduled_principal, not_due))
    return np.asarray(principal, dtype=np.int64), np.asarray(interest, dtype=np.int64)


def run_day(book: Book, *, as_of: dt.date, rules: ClassificationRules) -> DayResult:
    """Age the book by one day. Refuses a day already run, or one that skips a day."""
    if as_of <= book.last_eod:
        raise DayAlreadyRun(f"end of day {as_of.isoformat()} has already run")
    if as_of != book.last_eod + dt.timedelta(days=1):
        raise DaySkipped(f"run {book.last_eod + dt.timedelta(days=1)} first")
    day = np.datetime64(as_of.isoformat(), "D")
    live = ~book.closed
    rows = np.arange(book.size)
    periods = book.due_dates.shape[1]
    k = np.minimum(book.next_k, periods - 1)

    # 1. the instalment falling due today takes the interest accrued up to yesterday
    #    (the disbursement day counts, the due date belongs to the next period)
    falls_due = live & (book.next_k < book.n_periods) & (book.due_dates[rows, k] == day)
    principal_now, period_interest = period_charge(
        not_due=book.outstanding - book.due_principal,
        scheduled_principal=book.sched_principal[rows, k],
        is_last=book.next_k >= book.n_periods - 1,
        monthly_rate_interest=book.monthly_rate_interest,
        rate=book.rate,
        acc_whole=book.acc_whole,
        acc_rem=book.acc_rem,
        acc_paid=book.acc_paid,
    )
    charged_interest = np.where(falls_due, period_interest, 0)
    charged_principal = np.where(falls_due, principal_now, 0)
    due_interest = book.due_interest + charged_interest
    due_principal = book.due_principal + charged_principal

    # 2. a day of interest on the outstanding principal that is not yet due, kept exact:
    #    whole fen and a remainder below one fen (in 1/DAILY fen)
    paused = _in_pause(book, day)
    accrues = live
    if book.pause_accrual is not None:
        accrues = live & ~(paused & book.pause_accrual)
    q, r = np.divmod((book.outstanding - due_principal) * book.rate * accrues, DAILY)
    carry, acc_rem = np.divmod(np.where(falls_due, 0, book.acc_rem) + r, DAILY)
    acc_whole = np.where(falls_due, 0, book.acc_whole) + q + carry
    acc_paid = np.where(falls_due, 0, book.acc_paid)
    next_k = book.next_k + falls_due
    has_due = (due_principal + due_interest) > 0
    oldest = np.where(np.isnat(book.oldest_due) & falls_due & has_due, day, book.oldest_due)

    # 3. penalty on principal past due beyond the grace days: payments meet instalments oldest
    #    first, so the unpaid principal of the instalments still within their grace days (today's
    #    included) is the smaller of what they charged and all the principal due
    dpd = days_past_due(oldest, as_of=as_of, grace_days=0)
    if book.pause_dpd is not None and book.pause_from is not None and book.pause_to is not None:
        dpd = dpd - np.where(book.pause_dpd, _paused_days(oldest, day, book), 0)
    past_grace = dpd > book.grace_days
    in_grace = charged_principal + (
        0 if book.in_grace_principal is None else book.in_grace_principal
    )
    charged = book.charged
    if charged is not None:
        cols = np.arange(periods)[None, :]
        recent = book.due_dates >= (day - book.grace_days.astype("timedelta64[D]"))[:, None]
        in_grace = in_grace + (charged * ((cols < book.next_k[:, None]) & recent)).sum(axis=1)
        charged = charged.copy()
        charged[rows[falls_due], k[falls_due]] = charged_principal[falls_due]
    beyond_grace = due_principal - np.minimum(due_principal, in_grace)
    day_penalty = daily_penalty(beyond_grace, book.penalty_rate)
    bears = past_grace & live
    if book.waive_penalty is not None:
        bears = bears & ~(paused & book.waive_penalty)
    penalty = book.penalty + np.where(bears, day_penalty, 0)
    dpd = np.where(past_grace, dpd, 0)
    watch = book.watch_until
    if watch is not None and book.watch_days is not None:
        watching = ~np.isnat(watch) & (watch >= day)
        pushed = day + book.watch_days.astype("timedelta64[D]")
        watch = np.where(watching & (dpd > 0), np.maximum(watch, pushed), watch)
    category = rules.classify(dpd)
    if watch is not None:
        category = watched_category(category, watch_until=watch, day=day)

    matured = falls_due & (next_k >= book.n_periods)
    owes_nothing = (
        (due_interest == 0) & (penalty == 0) & (accrued_interest(acc_whole, acc_rem) == 0)
    )
    newly_closed = live & (book.outstanding == 0) & owes_nothing
    new = replace(
        book,
        next_k=next_k,
        due_principal=due_principal,
        due_interest=due_interest,
        penalty=penalty,
        acc_whole=acc_whole,
        acc_rem=acc_rem,
        acc_paid=acc_paid,
        oldest_due=oldest,
        closed=book.closed | newly_closed,
        last_eod=as_of,
        in_grace_principal=None,
        charged=charged,
        watch_until=watch,
    )
    return DayResult(
        new,
        dpd,
        category,
        matured,
        newly_closed,
        falls_due,
        charged_principal,
        charged_interest,
        watch,
    )


def _in_pause(book: Book, day: np.datetime64) -> npt.NDArray[np.bool_]:
    """Loans whose deferral pauses the day ``day``: pause_from <= day < pause_to."""
    if book.pause_from is None or book.pause_to is None:
        return np.zeros(book.size, dtype=bool)
    return (book.pause_from <= day) & (day < book.pause_to)


def _paused_days(oldest: Dates, day: np.datetime64, book: Book) -> I64:
    """Days past due that a deferral paused: the days in (oldest, day] that lie in
    [pause_from, pause_to) (0 where either is NaT)."""
    assert book.pause_from is not None and book.pause_to is not None
    one = np.timedelta64(1, "D")
    start = np.maximum(oldest + one, book.pause_from)
    end = np.minimum(day + one, book.pause_to)
    n = (end - start).astype(np.int64)
    ok = ~np.isnat(oldest) & ~np.isnat(book.pause_from) & ~np.isnat(book.pause_to)
    return np.where(ok, np.maximum(n, 0), 0).astype(np.int64)


def watched_category(category: I64, *, watch_until: Dates, day: np.datetime64) -> I64:
    """A restructured loan under watch (``day <= watch_until``) is at least the lifecycle's
    ``RESTRUCTURED_FLOOR`` category."""
    watching = ~np.isnat(watch_until) & (watch_until >= day)
    floor = int(RESTRUCTURED_FLOOR)
    return np.asarray(np.where(watching, np.maximum(category, floor), category), dtype=np.int64)


def new_book(
    *,
    due_dates: Dates,
    sched_principal: I64,
    rate: I64,
    monthly_rate_interest: npt.NDArray[np.bool_],
    grace_days: I64,
    penalty_rate: I64,
    start: dt.date,
) -> Book:
    """A book of freshly disbursed loans whose last end of day is the day before ``start``."""
    n = len(rate)
    zeros = np.zeros(n, dtype=np.int64)
    return Book(
        due_dates=due_dates,
        sched_principal=sched_principal,
        n_periods=(~np.isnat(due_dates)).sum(axis=1).astype(np.int64),
        monthly_rate_interest=monthly_rate_interest,
        rate=rate,
        penalty_rate=penalty_rate,
        grace_days=grace_days,
        outstanding=sched_principal.sum(axis=1),
        next_k=zeros.copy(),
        due_principal=zeros.copy(),
        due_interest=zeros.copy(),
        penalty=zeros.copy(),
        acc_whole=zeros.copy(),
        acc_rem=zeros.copy(),
        acc_paid=zeros.copy(),
        oldest_due=np.full(n, np.datetime64("NaT"), dtype="datetime64[D]"),
        closed=np.zeros(n, dtype=bool),
        last_eod=start - dt.timedelta(days=1),
        charged=np.zeros_like(sched_principal),
    )
