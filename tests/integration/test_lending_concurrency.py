"""Postings racing each other, or the end of day, never lose or overrun anything.

Two applications fired at once can never together exceed the enterprise's limit: the credit
line row lock (``select_for_update``) serialises them, so exactly one is refused. A repayment
posted while the end of day is between reading the book and writing it back waits for the day
to commit (the day's EXCLUSIVE lock on the loan table), so the day cannot overwrite it.

PostgreSQL only: each thread has its own connection. (SQLite's ``BEGIN IMMEDIATE`` serialises
every writer.)
"""

from __future__ import annotations

import datetime as dt
import os
import threading

import pytest
from django.db import connection, transaction

from kvcredit.enterprises.models import CreditLine
from kvcredit.errors import InvalidInput
from kvcredit.lending import endofday, loans, repayments, services
from kvcredit.lending.models import EodRun, Instalment, Loan, Repayment
from races import joined, start_waiting

pytestmark = pytest.mark.skipif(
    os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql",
    reason="row locks between connections are tested on PostgreSQL",
)


def test_two_concurrent_applications_never_exceed_the_limit(committed_world):
    world = committed_world
    product = services.create_product(world.users["admin"], code="KVC", name="kvc")
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    today = line.valid_until - dt.timedelta(days=1)
    share = line.limit_fen * 6 // 10  # each fits alone, the two together do not
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def apply() -> None:
        try:
            start.wait()
            loans.apply(
                world.users["enterprise_a"],
                bank_id=world.bank["a"].pk,
                product_id=product.pk,
                amount_fen=share,
                term_months=12,
                method="MONTHLY_INTEREST",
                purpose="研发",
                first_time_borrower=False,
                today=today,
            )
            outcomes.append("accepted")
        except InvalidInput as exc:
            outcomes.append(f"refused: {exc.problems[0][0]}")
        finally:
            connection.close()

    threads = [threading.Thread(target=apply) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["accepted", "refused: amount"]
    line.refresh_from_db()
    assert line.reserved_fen == share <= line.limit_fen


TODAY = dt.date(2026, 11, 29)
START = dt.date(2024, 5, 15)
DUE = dt.date(2024, 6, 15)  # the first instalment's due date of a loan disbursed on START


def _approved(world, product, amount_fen: int, on: dt.date):  # type: ignore[no-untyped-def]
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=product.pk,
        amount_fen=amount_fen,
        term_months=12,
        method="MONTHLY_INTEREST",
        purpose="研发",
        first_time_borrower=True,
        today=line.valid_until - dt.timedelta(days=1),
    )
    return loans.approve(
        world.users["bank_a"], application_id=app.pk, amount_fen=amount_fen, today=on
    )


def _a_loan(world):  # type: ignore[no-untyped-def]
    """The product and a 3,000,000 yuan loan disbursed on START."""
    product = services.create_product(
        world.users["admin"], code="KVC", name="kvc", rate_basis="PBOC_BENCHMARK", grace_days=3
    )
    app = _approved(world, product, 300_000_000, START)
    loan = loans.disburse(
        world.users["bank_a"], application_id=app.pk, disbursed_on=START, today=TODAY
    )
    return product, loan


def _waiting_for_the_loan_table() -> int:
    """Lock requests on the loan table not granted yet (other connections waiting on it)."""
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE d.datname = current_database() "
            "AND l.relation = 'lending_loan'::regclass AND NOT l.granted"
        )
        return int(cur.fetchone()[0])


def _during_the_end_of_day(monkeypatch, posting) -> tuple[bool, int]:  # type: ignore[no-untyped-def]
    """Run the end of day for DUE in one thread, held between reading the book and ageing it,
    and ``posting`` in another meanwhile; release the day after a second and let both finish.
    Returns (whether the posting finished while the day was held, how many lock requests on
    the loan table were waiting then). Fails on any error (a deadlock included) or a hang."""
    read, release, posted = threading.Event(), threading.Event(), threading.Event()
    errors: list[BaseException] = []
    age = endofday.age

    def paused_age(frame, day):  # type: ignore[no-untyped-def]
        read.set()  # the book is read: hold the day between its read and its write
        assert release.wait(30), "the test never released the end of day"
        return age(frame, day)

    monkeypatch.setattr(endofday, "age", paused_age)

    def in_thread(work, done=None):  # type: ignore[no-untyped-def]
        def run() -> None:
            try:
                work()
                if done is not None:
                    done.set()
            except BaseException as exc:  # reported by the main thread
                errors.append(exc)
            finally:
                connection.close()

        return threading.Thread(target=run)

    a = in_thread(lambda: endofday.run_eod(as_of=DUE))
    b = in_thread(posting, posted)
    a.start()
    try:
        assert read.wait(30), "the end of day never read the book"
        b.start()
        finished_during_the_day = posted.wait(1.0)
        waiting = _waiting_for_the_loan_table()
    finally:
        release.set()
        a.join(30)
        if b.ident is not None:  # started
            b.join(30)
    assert not a.is_alive() and not b.is_alive(), "a thread never finished"
    assert errors == []
    return finished_during_the_day, waiting


def test_a_repayment_posted_during_the_end_of_day_waits_and_is_not_lost(
    committed_world, monkeypatch
):
    world = committed_world
    _product, loan = _a_loan(world)
    endofday.run_eod(as_of=DUE - dt.timedelta(days=1), catch_up=True)
    interest = Instalment.objects.get(loan=loan, seq=1).interest_fen  # falls due on DUE
    assert interest == 1_123_750  # as in test_lending: the first month's interest

    def repay() -> None:  # the next day's repayment of what falls due on DUE
        repayments.repay(
            world.users["bank_a"],
            loan_id=loan.pk,
            amount_fen=interest,
            paid_on=DUE + dt.timedelta(days=1),
            today=TODAY,
        )

    finished_during_the_day, waiting = _during_the_end_of_day(monkeypatch, repay)
    # both the day and the repayment are in the loan: the interest fell due and was paid
    loan.refresh_from_db()
    assert loan.last_eod_date == DUE and loan.next_instalment == 2
    assert (loan.due_interest_fen, loan.oldest_unpaid_due_date) == (0, None)
    first = Instalment.objects.get(loan=loan, seq=1)
    assert (first.interest_due_fen, first.interest_paid_fen) == (interest, interest)
    [r] = Repayment.objects.filter(loan=loan)
    split = (
        r.interest_due_fen,
        r.interest_accrued_fen,
        r.principal_due_fen,
        r.principal_prepaid_fen,
    )
    assert split == (interest, 0, 0, 0)
    assert loan.outstanding_principal_fen == 300_000_000
    # and the repayment waited for the day: it was applied to the book the day wrote
    assert not finished_during_the_day, "the repayment went through during the end of day"
    assert waiting >= 1, "the repayment was not waiting on the loan table"


def test_a_disbursement_during_the_end_of_day_waits_without_deadlock(committed_world, monkeypatch):
    """The day locks the loan table, then the credit line of an approval that lapses; the
    disbursement of another approval of the same enterprise must not hold that credit line
    while it waits for the loan table."""
    world = committed_world
    product, _loan = _a_loan(world)
    lapsing = _approved(world, product, 100_000, DUE - dt.timedelta(days=30))  # lapses on DUE
    assert lapsing.expires_on == DUE
    other = _approved(world, product, 200_000, DUE)
    endofday.run_eod(as_of=DUE - dt.timedelta(days=1), catch_up=True)

    def disburse() -> None:
        loans.disburse(
            world.users["bank_a"],
            application_id=other.pk,
            disbursed_on=DUE + dt.timedelta(days=1),
            today=TODAY,
        )

    finished_during_the_day, waiting = _during_the_end_of_day(monkeypatch, disburse)
    lapsing.refresh_from_db()
    other.refresh_from_db()
    assert (lapsing.status, other.status) == ("EXPIRED", "DISBURSED")
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    assert (line.reserved_fen, line.used_fen) == (0, 300_000_000 + 200_000)
    new = Loan.objects.get(application=other)
    assert new.last_eod_date == DUE  # the day before its disbursement: aged from there
    assert not finished_during_the_day, "the disbursement went through during the end of day"
    assert waiting >= 1, "the disbursement was not waiting on the loan table"


def test_a_second_end_of_day_for_the_same_day_waits_and_changes_nothing(
    committed_world, monkeypatch
):
    world = committed_world
    _product, loan = _a_loan(world)
    endofday.run_eod(as_of=DUE - dt.timedelta(days=1), catch_up=True)
    reports: list[endofday.DayReport] = []

    def second_run() -> None:
        reports.extend(endofday.run_eod(as_of=DUE))

    finished_during_the_day, _waiting = _during_the_end_of_day(monkeypatch, second_run)
    assert not finished_during_the_day
    assert [(r.day, r.already_run) for r in reports] == [(DUE, True)]
    loan.refresh_from_db()
    assert (loan.due_interest_fen, loan.next_instalment) == (1_123_750, 2)  # charged once
    assert EodRun.objects.filter(run_date=DUE).count() == 1


def test_a_repayment_dated_the_day_being_run_is_refused_once_the_day_has_run(
    committed_world, monkeypatch
):
    world = committed_world
    _product, loan = _a_loan(world)
    endofday.run_eod(as_of=DUE - dt.timedelta(days=1), catch_up=True)
    refusals: list[InvalidInput] = []

    def repay_on_due() -> None:  # the day was open when the posting began
        try:
            repayments.repay(
                world.users["bank_a"], loan_id=loan.pk, amount_fen=100, paid_on=DUE, today=TODAY
            )
        except InvalidInput as exc:
            refusals.append(exc)

    _during_the_end_of_day(monkeypatch, repay_on_due)
    assert [r.problems[0][0] for r in refusals] == ["paid_on"]
    assert not Repayment.objects.filter(loan=loan).exists()


def test_one_repayment_reversed_twice_at_once_is_reversed_once(committed_world):
    from kvcredit.errors import Conflict

    world = committed_world
    product = services.create_product(world.users["admin"], code="KVC", name="kvc")
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    today = line.valid_until - dt.timedelta(days=1)
    start = dt.date(2024, 5, 15)
    bank = world.users["bank_a"]
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=product.pk,
        amount_fen=36_000_000,
        term_months=12,
        method="MONTHLY_INTEREST",
        purpose="研发",
        first_time_borrower=False,
        today=today,
    )
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=start)
    loan = loans.disburse(bank, application_id=app.pk, disbursed_on=start, today=today)
    r = repayments.repay(bank, loan_id=loan.pk, amount_fen=10_000_000, paid_on=start, today=today)
    calls = [lambda: repayments.reverse(bank, repayment_id=r.pk, today=start)] * 2
    with transaction.atomic():  # both requests read the repayment, then wait for the loan
        Loan.objects.select_for_update().get(pk=loan.pk)
        started = start_waiting(calls)
    outcomes = joined(*started)
    assert sorted(type(o).__name__ for o in outcomes) == ["Conflict", "Repayment"], outcomes
    assert isinstance(next(o for o in outcomes if not isinstance(o, Repayment)), Conflict)
    assert Repayment.objects.filter(reverses=r).count() == 1
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 36_000_000


def test_one_bank_reference_posted_at_once_on_two_loans_is_recorded_once(committed_world):
    """The bank's reference (流水号) is unique per bank: two loans' row locks do not serialise
    the two postings, the database's unique constraint does; the loser is a 409, not a 500."""
    from kvcredit.errors import Conflict

    world = committed_world
    product, first = _a_loan(world)
    app = _approved(world, product, 200_000, START)
    second = loans.disburse(
        world.users["bank_a"], application_id=app.pk, disbursed_on=START, today=TODAY
    )
    start = threading.Barrier(2)
    outcomes: list[str] = []

    def pay(loan_id: int) -> None:
        try:
            start.wait()
            repayments.repay(
                world.users["bank_a"],
                loan_id=loan_id,
                amount_fen=10_000,
                paid_on=START,
                today=TODAY,
                reference="BANK-A-0001",
            )
            outcomes.append("recorded")
        except Conflict as exc:
            outcomes.append(f"refused: {exc.field}")
        finally:
            connection.close()

    threads = [threading.Thread(target=pay, args=(pk,)) for pk in (first.pk, second.pk)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["recorded", "refused: reference"]
    assert Repayment.objects.filter(reference="BANK-A-0001").count() == 1
