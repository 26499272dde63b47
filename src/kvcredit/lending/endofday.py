"""The end of day over the whole live book: load as arrays, age with the pure domain, save in bulk.

    run_eod(as_of=D)                 age the book to D (refuses to skip days)
    run_eod(as_of=D, catch_up=True)  run every missing day up to D, in order
    kvcredit eod --date D [--catch-up]

A day already run changes nothing and says so (``DayReport.already_run``). Each day is one
transaction: the loans' new state, the instalments that fell due, lapsed approvals, the
``EodRun`` row and an audit record; the report carries the day's exposure per bank and
district (``lending.selectors.exposures``). This module is lending's part of the day only: the
programme's business day (this, then the fund's circuit breakers, in one transaction per day)
is ``kvcredit.day.run_day``, which the CLI and the demo call.

Loans keep only their next instalment on the row (``next_due_date``, ``next_principal_fen``),
so the book is read as (N, 1) windows: no schedule table is scanned. On PostgreSQL the book is
read with ``COPY ... TO STDOUT`` and written back with ``COPY ... FROM STDIN`` into a temporary
table and one ``UPDATE ... FROM``; on SQLite with plain queries and ``executemany``.
"""

from __future__ import annotations

import datetime as dt
import io
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import polars as pl
from django.db import connection, transaction
from django.db.models import Max, Min
from django.utils import timezone
from django.utils.translation import gettext as _

from kvcredit.audit import services as audit
from kvcredit.errors import Conflict
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.domain.aging import ClassificationRules
from kvcredit.lending.domain.eod import Book, run_day, watched_category
from kvcredit.lending.loans import expire_approvals
from kvcredit.lending.models import (
    CATEGORY_CODES,
    LIVE_STATUSES,
    EodRun,
    Instalment,
    Loan,
    Method,
    Product,
)
from kvcredit.lending.selectors import Exposure, exposures

I64 = npt.NDArray[np.int64]
AMORTISING = (Method.EQUAL_INSTALMENT.value, Method.EQUAL_PRINCIPAL.value)
# The end of day closes a live loan repaid in full: the table's ``close`` step (by the system).
CLOSED = lc.LOAN.targets(lc.LoanStatus.ACTIVE, "close")[0].value
assert set(lc.LIVE) <= set(lc.LOAN.sources("close"))  # every loan it ages may close

# (column, polars type) read for each live loan, in this order.
READ = [
    ("id", pl.Int64),
    ("product_id", pl.Int64),
    ("bank_id", pl.Int64),
    ("district_id", pl.Int64),
    ("status", pl.Utf8),
    ("method", pl.Utf8),
    ("rate_units", pl.Int64),
    ("penalty_rate_units", pl.Int64),
    ("grace_days", pl.Int64),
    ("instalment_count", pl.Int64),
    ("next_instalment", pl.Int64),
    ("next_due_date", pl.Date),
    ("next_principal_fen", pl.Int64),
    ("outstanding_principal_fen", pl.Int64),
    ("due_principal_fen", pl.Int64),
    ("due_interest_fen", pl.Int64),
    ("penalty_fen", pl.Int64),
    ("accrued_interest_fen", pl.Int64),
    ("accrued_remainder", pl.Int64),
    ("accrued_paid_fen", pl.Int64),
    ("oldest_unpaid_due_date", pl.Date),
    ("matured", pl.Boolean),
    # forbearance (``lending.deferrals``): the pause and the watch period
    ("restructured", pl.Boolean),
    ("pause_from", pl.Date),
    ("pause_to", pl.Date),
    ("pause_accrual", pl.Boolean),
    ("waive_penalty", pl.Boolean),
    ("pause_dpd", pl.Boolean),
    ("watch_until", pl.Date),
    ("watch_days", pl.Int64),
]
BOOLS = [c for c, t in READ if t == pl.Boolean]
# (column, SQL type) written back for each live loan.
WRITE = [
    ("id", "bigint"),
    ("next_instalment", "integer"),
    ("due_principal_fen", "bigint"),
    ("due_interest_fen", "bigint"),
    ("penalty_fen", "bigint"),
    ("accrued_interest_fen", "bigint"),
    ("accrued_remainder", "bigint"),
    ("accrued_paid_fen", "bigint"),
    ("oldest_unpaid_due_date", "date"),
    ("days_past_due", "integer"),
    ("category", "varchar(16)"),
    ("matured", "boolean"),
    ("status", "varchar(12)"),
    ("closed_on", "date"),
    ("last_eod_date", "date"),
    ("watch_until", "date"),
]
DUE = [("loan_id", "bigint"), ("seq", "integer"), ("p", "bigint"), ("i", "bigint")]


@dataclass(frozen=True)
class DayReport:
    day: dt.date
    already_run: bool = False
    loans: int = 0
    fell_due: int = 0
    matured: int = 0
    closed: int = 0
    expired_applications: int = 0
    categories: dict[str, int] = field(default_factory=dict)
    exposures: list[Exposure] = field(default_factory=list)


def next_day_to_run() -> dt.date | None:
    """The day after the last run; before any run, the first disbursement of a live loan."""
    last = EodRun.objects.aggregate(d=Max("run_date"))["d"]
    if last is not None:
        return last + dt.timedelta(days=1)  # type: ignore[no-any-return]
    first = Loan.objects.filter(status__in=LIVE_STATUSES).aggregate(d=Min("disbursed_on"))["d"]
    return first  # type: ignore[no-any-return]


def days_to_run(as_of: dt.date, *, catch_up: bool) -> list[dt.date]:
    """The days to run to reach ``as_of`` (none when it has run); without ``catch_up`` a
    missing day before it is refused."""
    first = next_day_to_run() or as_of
    if as_of < first:
        return []
    if as_of > first and not catch_up:
        msg = _("the end of day for %(day)s has not run: run it first, or catch up") % {
            "day": first
        }
        raise Conflict(msg, field="date")
    return [first + dt.timedelta(days=k) for k in range((as_of - first).days + 1)]


def system_actor(actor: Any) -> Any:
    if actor is None:
        from kvcredit.accounts.services import ensure_system_user

        return ensure_system_user()
    return actor


def run_eod(
    *,
    as_of: dt.date,
    catch_up: bool = False,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> list[DayReport]:
    """Lending's end of day alone: age the book to ``as_of``; with ``catch_up`` run every
    missing day first, in order. (The programme's day, breakers included: ``kvcredit.day``.)"""
    actor = system_actor(actor)
    days = days_to_run(as_of, catch_up=catch_up)
    if not days:
        return [DayReport(as_of, already_run=True)]
    return [run_one_day(day, actor, now or timezone.now()) for day in days]


def run_one_day(day: dt.date, actor: Any, now: dt.datetime) -> DayReport:
    """Age the book by ``day``, in one transaction (a savepoint within the caller's)."""
    started = timezone.now()
    with transaction.atomic():
        hold_the_book()
        if EodRun.objects.filter(run_date=day).exists():  # a run that held the book before us
            return DayReport(day, already_run=True)
        frame = load_book(day)
        result, extra = age(frame, day)
        write_back(frame, result, extra, day)
        expired = expire_approvals(actor, on=day, now=now)
        report = DayReport(
            day,
            loans=frame.height,
            fell_due=int(extra["fell_due"].sum()),
            matured=int(extra["matured_today"].sum()),
            closed=int(extra["closed_today"].sum()),
            expired_applications=expired,
            categories=extra["counts"],
            exposures=exposures(as_of=day),  # the book as just written back
        )
        run = EodRun.objects.create(
            run_date=day,
            started_at=started,
            finished_at=timezone.now(),
            loans=report.loans,
            closed=report.closed,
            matured=report.matured,
            fell_due=report.fell_due,
            expired_applications=expired,
            categories=report.categories,
        )
        after = {
            "run_date": day,
            "loans": report.loans,
            "fell_due": report.fell_due,
            "matured": report.matured,
            "closed": report.closed,
            "categories": report.categories,
        }
        audit.record(actor, "EOD_RUN", "eod_run", run.pk, after=after, now=now)
    return report


# -- the day's hold on the book --------------------------------------------------------------
def hold_the_book() -> None:
    """Make every write to the loan book wait until the day's transaction ends; reads go on.

    The day reads the whole live book, ages it in memory and writes every loan's state back:
    a repayment, reversal, renewal, disbursement, compensation or write-off committed between
    that read and that write would be overwritten (a lost update). On PostgreSQL the loan table
    is locked in EXCLUSIVE mode, before the book is read: it waits for postings already under
    way to commit, then holds off every INSERT, UPDATE and ``SELECT ... FOR UPDATE`` of a loan
    until the day commits, while plain reads (the console, the API's GETs) go on. Every writer
    of instalments writes or row-locks its loan first, so this one lock covers them too. On
    SQLite every transaction already begins with ``BEGIN IMMEDIATE``, which serialises writers.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("LOCK TABLE lending_loan IN EXCLUSIVE MODE")


# -- reading ---------------------------------------------------------------------------------
def load_book(day: dt.date) -> pl.DataFrame:
    """Every live loan disbursed on or before ``day``, one row each, ordered by id."""
    names = [c for c, _t in READ]
    schema = dict(READ)
    if connection.vendor == "postgresql":
        statuses = ",".join(f"'{s}'" for s in LIVE_STATUSES)
        cols = ", ".join(f"{c}::int" if c in BOOLS else c for c in names)
        sql = (
            f"COPY (SELECT {cols} FROM lending_loan WHERE status IN ({statuses}) "
            f"AND disbursed_on <= '{day.isoformat()}' ORDER BY id) TO STDOUT WITH (FORMAT csv)"
        )
        buf = io.BytesIO()
        with connection.cursor() as cur, cur.cursor.copy(sql) as copy:
            for chunk in copy:
                buf.write(chunk)
        if buf.tell() == 0:
            return pl.DataFrame(schema=schema)
        buf.seek(0)
        read_as = schema | dict.fromkeys(BOOLS, pl.Int8)
        frame = pl.read_csv(buf, has_header=False, new_columns=names, schema=read_as)
        return frame.with_columns(pl.col(c).cast(pl.Boolean) for c in BOOLS)
    rows = (
        Loan.objects.filter(status__in=LIVE_STATUSES, disbursed_on__lte=day)
        .order_by("id")
        .values_list(*names)
    )
    return pl.DataFrame(list(rows), schema=schema, orient="row")


def _i64(frame: pl.DataFrame, name: str) -> I64:
    return frame[name].to_numpy().astype(np.int64)


def _dates(frame: pl.DataFrame, name: str) -> npt.NDArray[np.datetime64]:
    return frame[name].cast(pl.Date).to_numpy().astype("datetime64[D]")


def as_book(frame: pl.DataFrame, day: dt.date) -> Book:
    """The loans as a domain ``Book`` of (N, 1) windows: the next instalment of each."""
    n = frame.height
    zeros = np.zeros(n, dtype=np.int64)
    return Book(
        due_dates=_dates(frame, "next_due_date")[:, None],
        sched_principal=_i64(frame, "next_principal_fen")[:, None],
        n_periods=_i64(frame, "instalment_count") - _i64(frame, "next_instalment") + 1,
        # a restructured loan's periods are no longer months: interest on actual days
        monthly_rate_interest=(
            frame["method"].is_in(AMORTISING).to_numpy() & ~frame["restructured"].to_numpy()
        ),
        rate=_i64(frame, "rate_units"),
        penalty_rate=_i64(frame, "penalty_rate_units"),
        grace_days=_i64(frame, "grace_days"),
        outstanding=_i64(frame, "outstanding_principal_fen"),
        next_k=zeros,
        due_principal=_i64(frame, "due_principal_fen"),
        due_interest=_i64(frame, "due_interest_fen"),
        penalty=_i64(frame, "penalty_fen"),
        acc_whole=_i64(frame, "accrued_interest_fen"),
        acc_rem=_i64(frame, "accrued_remainder"),
        acc_paid=_i64(frame, "accrued_paid_fen"),
        oldest_due=_dates(frame, "oldest_unpaid_due_date"),
        closed=np.zeros(n, dtype=bool),
        last_eod=day - dt.timedelta(days=1),
        in_grace_principal=in_grace_principal(frame, day),
        pause_from=_dates(frame, "pause_from"),
        pause_to=_dates(frame, "pause_to"),
        pause_accrual=frame["pause_accrual"].to_numpy(),
        waive_penalty=frame["waive_penalty"].to_numpy(),
        pause_dpd=frame["pause_dpd"].to_numpy(),
        watch_until=_dates(frame, "watch_until"),
        watch_days=_i64(frame, "watch_days"),
    )


def in_grace_principal(frame: pl.DataFrame, day: dt.date) -> I64:
    """Per loan of the book: the principal charged by instalments that fell due before ``day``
    but no more than the loan's grace days before it (not yet past due beyond grace). Only
    loans with principal due and grace days are read, from their own instalments."""
    out = np.zeros(frame.height, dtype=np.int64)
    if frame.height == 0:
        return out
    grace = _i64(frame, "grace_days")
    owing = (_i64(frame, "due_principal_fen") > 0) & (grace > 0)
    if not owing.any():
        return out
    since = day - dt.timedelta(days=int(grace[owing].max()))
    rows = Instalment.objects.filter(
        loan__status__in=LIVE_STATUSES,
        loan__due_principal_fen__gt=0,
        loan__grace_days__gt=0,
        due_date__gte=since,
        due_date__lt=day,
        principal_due_fen__gt=0,
    ).values_list("loan_id", "due_date", "principal_due_fen")
    index = {int(loan_id): k for k, loan_id in enumerate(frame["id"].to_list())}
    for loan_id, due_date, principal in rows:
        k = index.get(loan_id)
        if k is not None and (day - due_date).days <= grace[k]:
            out[k] += principal
    return out


# -- ageing ----------------------------------------------------------------------------------
def _rules_by_product() -> dict[int, ClassificationRules]:
    return {
        pid: ClassificationRules(tuple(bounds))  # type: ignore[arg-type]
        for pid, bounds in Product.objects.values_list("id", "classification_bounds")
    }


def age(frame: pl.DataFrame, day: dt.date) -> tuple[Any, dict[str, Any]]:
    """Run the domain's day over the book; classify with each product's bounds."""
    book = as_book(frame, day)
    default = ClassificationRules()
    result = run_day(book, as_of=day, rules=default)
    category = result.category.copy()
    products = _i64(frame, "product_id")
    for pid, rules in _rules_by_product().items():
        if rules != default:
            mask = products == pid
            category[mask] = rules.classify(result.dpd[mask])
    if result.watch_until is not None:  # a restructured loan under watch (lifecycle's floor)
        category = watched_category(
            category, watch_until=result.watch_until, day=np.datetime64(day, "D")
        )
    counts = {code: int((category == k).sum()) for k, code in enumerate(CATEGORY_CODES)}
    extra = {
        "category": category,
        "counts": counts,
        "fell_due": result.fell_due,
        "matured_today": result.matured,
        "closed_today": result.newly_closed,
        "live": ~result.newly_closed,
    }
    return result, extra


# -- writing ---------------------------------------------------------------------------------
def write_back(frame: pl.DataFrame, result: Any, extra: dict[str, Any], day: dt.date) -> None:
    if frame.height == 0:
        return
    b = result.book
    base = frame["next_instalment"].to_numpy()
    closed = extra["closed_today"]
    codes = np.array(CATEGORY_CODES)
    state = pl.DataFrame(
        {
            "id": frame["id"],
            "next_instalment": base + b.next_k,
            "due_principal_fen": b.due_principal,
            "due_interest_fen": b.due_interest,
            "penalty_fen": b.penalty,
            "accrued_interest_fen": b.acc_whole,
            "accrued_remainder": b.acc_rem,
            "accrued_paid_fen": b.acc_paid,
            "oldest_unpaid_due_date": pl.Series(b.oldest_due).cast(pl.Date),
            "days_past_due": result.dpd,
            "category": codes[extra["category"]],
            "matured": frame["matured"].to_numpy() | result.matured,
            "status": np.where(closed, CLOSED, frame["status"].to_numpy()),
            "closed_on": pl.Series(np.where(closed, np.datetime64(day), np.datetime64("NaT"))).cast(
                pl.Date
            ),
            "last_eod_date": pl.Series([day] * frame.height),
            "watch_until": pl.Series(
                b.watch_until if b.watch_until is not None else _dates(frame, "watch_until")
            ).cast(pl.Date),
        }
    )
    fell = result.fell_due
    due = pl.DataFrame(
        {
            "loan_id": frame["id"].filter(pl.Series(fell)),
            "seq": base[fell],
            "p": result.charged_principal[fell],
            "i": result.charged_interest[fell],
        }
    )
    loan_cols = [c for c, _t in WRITE if c != "id"]
    with connection.cursor() as cur:
        _temp_table(cur, "eod_state", WRITE, state)
        sets = ", ".join(f"{c} = t.{c}" for c in loan_cols)
        cur.execute(f"UPDATE lending_loan SET {sets} FROM eod_state t WHERE lending_loan.id = t.id")
        if due.height:
            _temp_table(cur, "eod_due", DUE, due)
            cur.execute(
                "UPDATE lending_instalment SET principal_due_fen = t.p, interest_due_fen = t.i "
                "FROM eod_due t WHERE lending_instalment.loan_id = t.loan_id "
                "AND lending_instalment.seq = t.seq"
            )
            cur.execute(
                "UPDATE lending_loan SET next_due_date = i.due_date, "
                "next_principal_fen = i.principal_fen FROM eod_due t, lending_instalment i "
                "WHERE lending_loan.id = t.loan_id AND i.loan_id = t.loan_id AND i.seq = t.seq + 1"
            )
            cur.execute(
                "UPDATE lending_loan SET next_due_date = NULL, next_principal_fen = 0 "
                "FROM eod_due t WHERE lending_loan.id = t.loan_id "
                "AND lending_loan.next_instalment > lending_loan.instalment_count"
            )
        cur.execute("DROP TABLE IF EXISTS eod_state")
        cur.execute("DROP TABLE IF EXISTS eod_due")


def _temp_table(cur: Any, name: str, columns: list[tuple[str, str]], frame: pl.DataFrame) -> None:
    """A temporary table ``name`` holding ``frame`` (COPY on PostgreSQL, executemany else)."""
    cur.execute(f"DROP TABLE IF EXISTS {name}")
    cols = ", ".join(f"{c} {t}" for c, t in columns)
    cur.execute(f"CREATE TEMPORARY TABLE {name} ({cols})")
    names = [c for c, _t in columns]
    if connection.vendor == "postgresql":
        data = frame.select(names).write_csv(include_header=False, null_value="")
        with cur.cursor.copy(
            f"COPY {name} ({', '.join(names)}) FROM STDIN WITH (FORMAT csv)"
        ) as cp:
            cp.write(data.encode())
        cur.execute(f"ANALYZE {name}")
        return
    marks = ", ".join("%s" for _c in names)
    cur.executemany(f"INSERT INTO {name} VALUES ({marks})", frame.select(names).rows())
