"""The loan's lifecycle is lending's: the fund asks lending to mark a loan compensated or
written off, each step checked against the table and audited; a reversed repayment reopens a
closed loan to the state the fund left it in (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.audit.models import AuditRecord
from kvcredit.enterprises import services as credit
from kvcredit.enterprises.models import CreditLine
from kvcredit.errors import Conflict
from kvcredit.fund import claims, services
from kvcredit.fund.models import ClaimStatus
from kvcredit.lending import repayments
from kvcredit.lending import services as lending
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Instalment, Loan, LoanStatus
from support.fund import make_loan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.date(2025, 6, 30)
YUAN = 100


def _checked_claim(world, trustees, **loan):
    """A funded pool and an overdue loan whose claim the trustee has checked."""
    t1, _t2 = trustees
    d, bank = world.district["a"], world.users["bank_a"]
    for who, amount in (("CITY", 4_000_000), ("DISTRICT", 6_000_000)):
        services.record_contribution(
            t1, district_id=d.pk, contributor=who, amount_fen=amount * YUAN, paid_date=DAY
        )
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=1_000_000 * YUAN,
        due_principal_fen=1_000_000 * YUAN,
        days_past_due=95,
        **loan,
    )
    # its one instalment fell due in full; the loan uses its enterprise's credit line, as a
    # disbursement does
    Instalment.objects.create(
        loan=loan,
        seq=1,
        due_date=loan.disbursed_on,
        principal_fen=loan.amount_fen,
        interest_fen=0,
        principal_due_fen=loan.amount_fen,
        interest_due_fen=0,
    )
    credit.consume_credit(t1, enterprise_id=loan.enterprise_id, amount_fen=loan.amount_fen)
    c = claims.register(bank, loan_id=loan.pk, on=DAY)
    claims.file(bank, claim_id=c.pk, on=DAY)
    claims.check(t1, claim_id=c.pk, on=DAY)
    return loan, c


def test_paying_a_claim_marks_the_loan_compensated_with_an_audit_record(world, trustees):
    loan, c = _checked_claim(world, trustees)
    claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.COMPENSATED
    (rec,) = AuditRecord.objects.filter(action="LOAN_COMPENSATE", object_id=str(loan.pk))
    assert (rec.before, rec.after["status"], rec.after["claim_id"]) == (
        {"status": "ACTIVE"},
        "COMPENSATED",
        c.pk,
    )


def test_a_claim_on_a_loan_repaid_and_closed_is_not_paid_and_the_loan_stays_closed(world, trustees):
    loan, c = _checked_claim(world, trustees)
    # the borrower repaid in full and the end of day closed the loan before the fund paid
    Loan.objects.filter(pk=loan.pk).update(status=LoanStatus.CLOSED, closed_on=DAY)
    with pytest.raises(Conflict, match=r"this claim cannot be paid: the loan is closed"):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    loan.refresh_from_db()
    c.refresh_from_db()
    assert (loan.status, c.status, c.payment_entry_id) == ("CLOSED", ClaimStatus.CHECKED, None)
    assert not AuditRecord.objects.filter(action="LOAN_COMPENSATE").exists()


@pytest.mark.parametrize("status", ["CLOSED", "RENEWED", "WRITTEN_OFF", "COMPENSATED"])
def test_lending_refuses_to_compensate_a_loan_that_is_not_active(world, status):
    loan = make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"])
    Loan.objects.filter(pk=loan.pk).update(status=status)
    with pytest.raises(Conflict):
        lending.mark_compensated(world.users["trustee"], loan_id=loan.pk, on=DAY, claim_id=1)
    loan.refresh_from_db()
    assert loan.status == status


def test_a_reversal_on_a_compensated_then_closed_loan_reopens_it_compensated(world, trustees):
    """The fund paid a claim, the borrower then repaid everything and the end of day closed
    the loan; the repayment was a mistake: reversed, the loan owes again, as the COMPENSATED
    loan it was (it used to come back ACTIVE, as if the fund had never paid)."""
    start = DAY - dt.timedelta(days=2)
    loan, c = _checked_claim(world, trustees, disbursed_on=start)
    claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    bank = world.users["bank_a"]
    r = repayments.repay(bank, loan_id=loan.pk, amount_fen=loan.amount_fen, paid_on=DAY, today=DAY)
    run_eod(as_of=DAY, catch_up=True)
    loan.refresh_from_db()
    assert (loan.status, loan.outstanding_principal_fen) == ("CLOSED", 0)
    line = CreditLine.objects.get(enterprise_id=loan.enterprise_id)
    assert line.used_fen == 0
    after = DAY + dt.timedelta(days=1)
    repayments.reverse(bank, repayment_id=r.pk, today=after)
    loan.refresh_from_db()
    line.refresh_from_db()
    assert (loan.status, loan.closed_on) == ("COMPENSATED", None)
    assert line.used_fen == loan.amount_fen


def test_a_reversal_on_a_loan_closed_without_the_fund_reopens_it_active(world):
    loan = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=DAY - dt.timedelta(1)
    )
    credit.consume_credit(
        world.users["admin"], enterprise_id=loan.enterprise_id, amount_fen=loan.amount_fen
    )
    bank = world.users["bank_a"]
    r = repayments.repay(bank, loan_id=loan.pk, amount_fen=loan.amount_fen, paid_on=DAY, today=DAY)
    run_eod(as_of=DAY, catch_up=True)
    loan.refresh_from_db()
    assert loan.status == "CLOSED"
    repayments.reverse(bank, repayment_id=r.pk, today=DAY + dt.timedelta(days=1))
    loan.refresh_from_db()
    assert loan.status == "ACTIVE"


def test_a_repayment_beyond_what_the_credit_line_holds_is_refused_not_clamped(world):
    """The line holds none of this loan (it was never disbursed against it): returning its
    principal would take ``used`` below zero, which the credit line refuses."""
    loan = make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=DAY)
    with pytest.raises(Conflict, match="below zero"):
        repayments.repay(
            world.users["bank_a"], loan_id=loan.pk, amount_fen=1_000, paid_on=DAY, today=DAY
        )
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == loan.amount_fen
    assert CreditLine.objects.get(enterprise_id=loan.enterprise_id).used_fen == 0
