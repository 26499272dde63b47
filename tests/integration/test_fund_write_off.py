"""A claim that ends takes its loan off the bank's book (核销): the loan is WRITTEN_OFF, the end
of day ages it no more, no exposure counts it, so a lifted suspension sticks; the statistics
still count it as lent (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.audit.models import AuditRecord
from kvcredit.errors import Conflict
from kvcredit.fund import breakers, claims, lending_port, services
from kvcredit.fund.models import Breaker, BreakerLevel, ClaimStatus
from kvcredit.lending import repayments
from kvcredit.lending.endofday import load_book
from kvcredit.lending.models import LIVE_STATUSES, BankSuspension, Loan, LoanStatus
from support.fund import make_loan
from support.rulebook import any_book_breaker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def _breaker_on_any_book(world):
    """These tests trip the breaker on a book of two loans."""
    any_book_breaker(world)


DAY = dt.date(2025, 6, 30)
YUAN = 100


def _paid_claim(world, trustees, side="a", *, due_yuan=1_000_000):
    """A funded pool and a loan 95 days overdue (substandard) whose claim the fund has paid."""
    t1, t2 = trustees
    d, bank = world.district[side], world.users[f"bank_{side}"]
    for who, amount in (("CITY", 4_000_000), ("DISTRICT", 6_000_000)):
        services.record_contribution(
            t1, district_id=d.pk, contributor=who, amount_fen=amount * YUAN, paid_date=DAY
        )
    loan = make_loan(
        enterprise=world.enterprise[side],
        bank=world.bank[side],
        amount_fen=due_yuan * YUAN,
        due_principal_fen=due_yuan * YUAN,
        days_past_due=95,
    )
    c = claims.register(bank, loan_id=loan.pk, on=DAY)
    claims.file(bank, claim_id=c.pk, on=DAY)
    claims.check(t1, claim_id=c.pk, on=DAY)
    c = claims.pay(t2, claim_id=c.pk, on=DAY)
    assert c.status == ClaimStatus.PAID
    loan.refresh_from_db()
    assert loan.status == LoanStatus.COMPENSATED
    return loan, c


def _breaker(world, side="a") -> Breaker:
    return Breaker.objects.get(bank=world.bank[side], district=world.district[side])


def _open_suspensions(world, side="a") -> int:
    return BankSuspension.objects.filter(
        bank=world.bank[side], district=world.district[side], to_date__isnull=True
    ).count()


@pytest.mark.parametrize("outcome", ["WRITTEN_OFF", "CLOSED"])
def test_an_ended_claim_takes_the_loan_off_the_exposure_so_a_lift_sticks(world, trustees, outcome):
    t1, _t2 = trustees
    key = (world.bank["a"].pk, world.district["a"].pk)
    # the bank's performing book in the district: 10,000,000 yuan
    performing = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=10_000_000 * YUAN
    )
    loan, c = _paid_claim(world, trustees)
    # 1,000,000 of 11,000,000 non-performing: 9.09 %, above the 8 % suspension threshold;
    # compensation 800,000 of 11,000,000 lent: 7.27 %, a warning only
    assert breakers.exposures_from_loans()[key] == (11_000_000 * YUAN, 1_000_000 * YUAN)
    breakers.recompute(t1, as_of=DAY)
    b = _breaker(world)
    assert (b.state, _open_suspensions(world)) == (BreakerLevel.SUSPENDED, 1)

    # while the loan is on the book, a lift does not stick: the next run trips it again
    breakers.lift(t1, breaker_id=b.pk, on=DAY, reason="repayment plan agreed with the bank")
    breakers.recompute(t1, as_of=DAY + dt.timedelta(days=1))
    assert _breaker(world).state == BreakerLevel.SUSPENDED

    # the claim ends: closed after a recovery, or written off
    if outcome == "CLOSED":
        claims.recover(world.users["bank_a"], claim_id=c.pk, amount_fen=300_000 * YUAN, on=DAY)
    on = DAY + dt.timedelta(days=2)
    c = claims.close(
        t1,
        claim_id=c.pk,
        on=on,
        written_off=outcome == "WRITTEN_OFF",
        reason="recovery proceedings ended",
    )
    assert c.status == outcome
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on) == (LoanStatus.WRITTEN_OFF, on)
    assert loan.status not in LIVE_STATUSES
    # its figures stay as the record of what was written off; they count as nothing live
    assert loan.outstanding_principal_fen == 1_000_000 * YUAN
    assert breakers.exposures_from_loans()[key] == (10_000_000 * YUAN, 0)
    assert loan.pk not in load_book(on)["id"].to_list()
    assert performing.pk in load_book(on)["id"].to_list()
    # the write-off is audited, naming the claim
    rec = AuditRecord.objects.get(action="LOAN_WRITE_OFF", object_id=str(loan.pk))
    assert rec.before == {"status": "COMPENSATED"}
    assert (rec.after["status"], rec.after["claim_id"]) == ("WRITTEN_OFF", c.pk)
    assert c.events.order_by("id").last().to_status == outcome

    # suspension is sticky, so the breaker stays suspended until the trustee lifts it ...
    breakers.recompute(t1, as_of=on)
    b = _breaker(world)
    assert (b.state, b.outstanding_fen, b.non_performing_fen) == (
        BreakerLevel.SUSPENDED,
        10_000_000 * YUAN,
        0,
    )
    breakers.lift(t1, breaker_id=b.pk, on=on, reason="bad loan written off by the bank")
    # ... and now the lift sticks: non-performing 0 %, compensation 7.27 % (a warning)
    changes = breakers.recompute(t1, as_of=on + dt.timedelta(days=1))
    b = _breaker(world)
    assert (b.state, _open_suspensions(world)) == (BreakerLevel.WARNING, 0)
    assert [ch for ch in changes if ch.breaker_id == b.pk] == []
    assert not breakers.is_suspended(bank_id=key[0], district_id=key[1])


def test_a_written_off_loan_takes_no_repayment_and_cannot_be_claimed_again(world, trustees):
    loan, c = _paid_claim(world, trustees)
    claims.close(trustees[0], claim_id=c.pk, on=DAY, written_off=True, reason="borrower gone")
    with pytest.raises(Conflict, match="takes no repayments"):
        repayments.repay(
            world.users["bank_a"], loan_id=loan.pk, amount_fen=100, paid_on=DAY, today=DAY
        )
    with pytest.raises(Conflict, match="already has a claim"):
        claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)


def test_a_loan_already_repaid_stays_closed_when_its_claim_ends(world, trustees):
    loan, c = _paid_claim(world, trustees)
    # the borrower repaid everything after the claim was paid; the end of day closed the loan
    Loan.objects.filter(pk=loan.pk).update(
        status=LoanStatus.CLOSED, outstanding_principal_fen=0, due_principal_fen=0, closed_on=DAY
    )
    claims.close(
        trustees[0],
        claim_id=c.pk,
        on=DAY + dt.timedelta(days=5),
        written_off=False,
        reason="borrower repaid the bank in full",
    )
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on) == (LoanStatus.CLOSED, DAY)
    assert not AuditRecord.objects.filter(action="LOAN_WRITE_OFF").exists()
    last = AuditRecord.objects.filter(action="FUND_CLAIM_CLOSED").get()
    assert last.after["loan_status"] == "CLOSED"


def test_a_claim_that_cannot_end_leaves_the_loan_on_the_book(world, trustees):
    _loan, c = _paid_claim(world, trustees)
    claims.close(trustees[0], claim_id=c.pk, on=DAY, written_off=True, reason="borrower gone")
    with pytest.raises(Conflict):  # ended once: the second close changes nothing
        claims.close(trustees[0], claim_id=c.pk, on=DAY, written_off=False, reason="again, no")
    assert AuditRecord.objects.filter(action="LOAN_WRITE_OFF").count() == 1
    # a claim not yet paid cannot be closed, and its loan stays live
    other = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=100_000_000,
        days_past_due=95,
    )
    c2 = claims.register(world.users["bank_a"], loan_id=other.pk, on=DAY)
    with pytest.raises(Conflict):
        claims.close(trustees[0], claim_id=c2.pk, on=DAY, written_off=True, reason="too early")
    other.refresh_from_db()
    assert other.status == LoanStatus.ACTIVE


def test_a_breaker_whose_bank_has_no_live_loan_left_shows_nothing_outstanding(world, trustees):
    """Bank b's only loan in district b is written off: its pair drops out of the live book,
    and the breaker's figures come down to nothing instead of keeping the written-off loan."""
    t1, _t2 = trustees
    _loan, c = _paid_claim(world, trustees, "b")
    key = (world.bank["b"].pk, world.district["b"].pk)
    breakers.recompute(t1, as_of=DAY)
    b = _breaker(world, "b")
    assert (b.outstanding_fen, b.non_performing_fen) == (1_000_000 * YUAN, 1_000_000 * YUAN)
    claims.close(t1, claim_id=c.pk, on=DAY, written_off=True, reason="borrower liquidated")
    assert breakers.exposures_from_loans()[key] == (0, 0)
    # the end-of-day hook, given the live book (no row for the pair), does the same
    breakers.on_end_of_day(DAY + dt.timedelta(days=1), [])
    b = _breaker(world, "b")
    assert (b.outstanding_fen, b.non_performing_fen, b.as_of_date) == (
        0,
        0,
        DAY + dt.timedelta(days=1),
    )
    assert b.compensated_fen == 800_000 * YUAN  # compensation paid stays on the record


def test_write_off_leaves_a_loan_off_the_book_unchanged(world):
    loan = make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"])
    for status in (LoanStatus.CLOSED, LoanStatus.RENEWED, LoanStatus.WRITTEN_OFF):
        Loan.objects.filter(pk=loan.pk).update(status=status)
        locked = lending_port.loan_for_update(loan.pk)
        assert lending_port.write_off(
            locked, on=DAY, actor=world.users["trustee"], claim_id=0, reason="test"
        ) == str(status)
    assert not AuditRecord.objects.filter(action="LOAN_WRITE_OFF").exists()


def test_the_end_of_day_no_longer_ages_a_written_off_loan(world):
    """A real loan, aged by the end of day, then written off: the next day leaves it alone and
    hands no exposure for it; the programme's statistics still count it as lent."""
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises.models import CreditLine
    from kvcredit.lending import loans
    from kvcredit.lending import services as lending
    from kvcredit.lending.endofday import run_eod
    from kvcredit.reporting import programme

    start = dt.date(2024, 5, 15)
    product = lending.create_product(
        world.users["admin"], code="KVC", name="知识价值信用贷款", rate_basis="PBOC_BENCHMARK"
    )
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    app = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=product.pk,
        amount_fen=1_000_000 * YUAN,
        term_months=12,
        method="MONTHLY_INTEREST",
        purpose="研发投入",
        first_time_borrower=True,
        today=line.valid_until - dt.timedelta(days=1),
    )
    bank = world.users["bank_a"]
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=start)
    loan = loans.disburse(bank, application_id=app.pk, disbursed_on=start, today=start)
    (first,) = run_eod(as_of=start)
    assert first.loans == 1 and len(first.exposures) == 1
    loan.refresh_from_db()
    aged = (loan.last_eod_date, loan.accrued_interest_fen, loan.accrued_remainder)
    assert aged[0] == start and aged[1] > 0

    lending_port.write_off(
        lending_port.loan_for_update(loan.pk),
        on=start + dt.timedelta(days=1),
        actor=world.users["trustee"],
        claim_id=0,
        reason="test",
    )
    (day,) = run_eod(as_of=start + dt.timedelta(days=1))
    assert (day.loans, day.exposures) == (0, [])
    loan.refresh_from_db()
    assert (loan.last_eod_date, loan.accrued_interest_fen, loan.accrued_remainder) == aged
    assert loan.status == LoanStatus.WRITTEN_OFF
    total = programme.statistics(ensure_system_user(), by="district")["total"]
    assert (total.enterprise_times, total.amount_lent_fen) == (1, 1_000_000 * YUAN)


@pytest.mark.parametrize(
    ("language", "words"),
    [
        ("zh-hans", ["已核销", "核销本金（元）", "1,000,000.00", "核销日期", "2025-07-02"]),
        ("en", ["written off", "Principal written off (yuan)", "Written off on", "2025-07-02"]),
    ],
)
def test_the_console_shows_a_written_off_loan_with_its_status(world, trustees, language, words):
    from django.test import Client
    from django.urls import reverse

    loan, c = _paid_claim(world, trustees)
    on = DAY + dt.timedelta(days=2)
    claims.close(trustees[0], claim_id=c.pk, on=on, written_off=True, reason="borrower gone")
    client = Client(HTTP_ACCEPT_LANGUAGE=language)
    client.force_login(world.users["bank_a"])
    detail = client.get(reverse("console:loan", args=[loan.pk])).content.decode()
    for word in words:
        assert word in detail, word
    assert ("贷款余额" if language == "zh-hans" else "Outstanding (yuan)") not in detail
    listing = client.get(reverse("console:loans")).content.decode()
    assert ("已核销" if language == "zh-hans" else "written off") in listing


def test_the_api_loan_filter_takes_every_loan_status_and_no_other():
    from pydantic import ValidationError

    from kvcredit.lending.schemas import LoanFilter

    for status in LoanStatus.values:
        assert LoanFilter(status=status).status == status
    with pytest.raises(ValidationError):
        LoanFilter(status="GONE")
