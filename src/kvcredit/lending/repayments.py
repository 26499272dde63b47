"""Repayments recorded by the bank: one by one, a file of many, and reversals.

A repayment is applied to the loan's buckets as they stand after the last end of day
(``lending.domain.repay``), in the product's allocation order; its value date must be a day
the end of day has not closed yet. A repayment larger than everything owed is refused with
the amount owed. A mistaken repayment is undone by a REVERSAL row carrying the same split;
neither row is ever edited. Principal repaid returns to the enterprise's available limit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises import services as credit
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.lending import selectors
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.domain.aging import Bucket, Overpayment
from kvcredit.lending.domain.repay import (
    LoanState,
    NextDue,
    Split,
    fifo,
    oldest_unpaid_due,
    payoff_fen,
    repay_on,
    reverse_repayment,
)
from kvcredit.lending.loans import loan_state, require_open_day, take_step
from kvcredit.lending.models import Loan, Method, Repayment, RepaymentKind
from kvcredit.money import format_yuan
from kvcredit.roles import Role

AMORTISING = (Method.EQUAL_INSTALMENT, Method.EQUAL_PRINCIPAL)


def state_of(loan: Loan) -> LoanState:
    return LoanState(
        outstanding=loan.outstanding_principal_fen,
        due_principal=loan.due_principal_fen,
        due_interest=loan.due_interest_fen,
        penalty=loan.penalty_fen,
        acc_whole=loan.accrued_interest_fen,
        acc_rem=loan.accrued_remainder,
        acc_paid=loan.accrued_paid_fen,
    )


def next_due(loan: Loan) -> NextDue | None:
    """The loan's next instalment not yet fallen due (None once the last has)."""
    if loan.next_due_date is None or loan.next_instalment > loan.instalment_count:
        return None
    return NextDue(
        due_date=loan.next_due_date,
        scheduled_principal=loan.next_principal_fen,
        is_last=loan.next_instalment == loan.instalment_count,
        monthly_rate_interest=loan.method in AMORTISING,
        rate=loan.rate_units,
    )


def value_date(loan: Loan) -> dt.date:
    """The first day a repayment on the loan can be dated: the day after its last end of day."""
    if loan.last_eod_date is None:
        return loan.disbursed_on
    return max(loan.last_eod_date + dt.timedelta(days=1), loan.disbursed_on)


def accrued_fen(loan: Loan) -> int:
    """Interest accrued and not yet due: the exact accrual rounded half up once."""
    return state_of(loan).accrued


def payoff(loan: Loan, day: dt.date | None = None) -> int:
    """The amount that closes the loan when paid on ``day`` (default: its next value date);
    the same figure a repayment of it is split against. 0 for a loan off the book."""
    if not lc.may_repay(loan.status):
        return 0
    return payoff_fen(state_of(loan), day or value_date(loan), next_due(loan))


def _fell_due(loan: Loan, principal: int, interest: int) -> None:
    """A repayment dated the next instalment's due date charged it: record it as the end of
    day would, and move the loan on to the instalment after it."""
    seq = loan.next_instalment
    loan.instalments.filter(seq=seq).update(principal_due_fen=principal, interest_due_fen=interest)
    after = loan.instalments.filter(seq=seq + 1).first()
    loan.next_instalment = seq + 1
    loan.next_due_date = after.due_date if after else None
    loan.next_principal_fen = after.principal_fen if after else 0
    loan.matured = loan.matured or after is None


def _store(loan: Loan, s: LoanState) -> None:
    loan.outstanding_principal_fen = s.outstanding
    loan.due_principal_fen = s.due_principal
    loan.due_interest_fen = s.due_interest
    loan.penalty_fen = s.penalty
    loan.accrued_interest_fen = s.acc_whole
    loan.accrued_remainder = s.acc_rem
    loan.accrued_paid_fen = s.acc_paid


def _split_of(r: Repayment) -> Split:
    return Split(
        penalty=r.penalty_fen,
        interest_due=r.interest_due_fen,
        interest_accrued=r.interest_accrued_fen,
        principal_due=r.principal_due_fen,
        principal_prepaid=r.principal_prepaid_fen,
    )


def _meet_instalments(loan: Loan, principal_delta: int, interest_delta: int) -> None:
    """Re-spread what has been paid of due principal and interest over the instalments already
    due, oldest first, and set the loan's oldest unpaid due date."""
    rows = list(loan.instalments.filter(principal_due_fen__isnull=False).order_by("seq"))
    p_due = [r.principal_due_fen or 0 for r in rows]
    i_due = [r.interest_due_fen or 0 for r in rows]
    p_paid = sum(r.principal_paid_fen for r in rows) + principal_delta
    i_paid = sum(r.interest_paid_fen for r in rows) + interest_delta
    for r, pm, im in zip(rows, fifo(p_due, p_paid), fifo(i_due, i_paid), strict=True):
        if (r.principal_paid_fen, r.interest_paid_fen) != (pm, im):
            r.principal_paid_fen, r.interest_paid_fen = pm, im
            r.save(update_fields=["principal_paid_fen", "interest_paid_fen"])
    loan.oldest_unpaid_due_date = oldest_unpaid_due(
        [r.due_date for r in rows], p_due, i_due, principal_paid=p_paid, interest_paid=i_paid
    )


def _locked_loan(actor: User, loan_id: int) -> Loan:
    if not selectors.loans(actor).filter(pk=loan_id).exists():
        raise NotFound(_("no such loan"), field="loan_id")
    return Loan.objects.select_for_update().select_related("product").get(pk=loan_id)


def repay(
    actor: User,
    *,
    loan_id: int,
    amount_fen: int,
    paid_on: dt.date,
    today: dt.date,
    reference: str = "",
    note: str = "",
    now: dt.datetime | None = None,
) -> Repayment:
    """Record a full, partial or early repayment and apply it to the loan."""
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    now = now or timezone.now()
    if paid_on > today:
        raise InvalidInput([("paid_on", _("a repayment cannot be dated in the future"))])
    require_open_day(paid_on, "paid_on")
    if amount_fen <= 0:
        raise InvalidInput([("amount", _("a repayment must be a positive amount"))])
    with transaction.atomic():
        loan = _locked_loan(actor, loan_id)
        require_open_day(paid_on, "paid_on")  # again: the lock waits for a running end of day
        _require_repayable(loan)
        _require_new_reference(loan, reference)
        before = loan_state(loan)
        new, split, charged = _apply(loan, amount_fen, paid_on)
        if charged is not None:
            _fell_due(loan, *charged)
        _store(loan, new)
        _meet_instalments(loan, split.principal_due, split.interest_due)
        loan.save()
        if split.principal:
            credit.restore_credit(
                actor, enterprise_id=loan.enterprise_id, amount_fen=split.principal, now=now
            )
        r = _create_once(
            loan=loan,
            bank_id=loan.bank_id,
            kind=RepaymentKind.REPAYMENT,
            paid_on=paid_on,
            amount_fen=amount_fen,
            penalty_fen=split.penalty,
            interest_due_fen=split.interest_due,
            interest_accrued_fen=split.interest_accrued,
            principal_due_fen=split.principal_due,
            principal_prepaid_fen=split.principal_prepaid,
            reference=reference,
            note=note,
            recorded_by=actor,
            recorded_at=now,
        )
        audit.record(actor, "REPAYMENT", "repayment", r.pk, before=before, after=_rep(r, loan))
    return r


def _require_repayable(loan: Loan) -> None:
    if not lc.may_repay(loan.status):
        label = _(lc.LOAN_LABELS[lc.LoanStatus(loan.status)])
        msg = _("%(why)s (the %(thing)s is %(status)s)") % {
            "why": _("this loan takes no repayments"),
            "thing": _("loan"),
            "status": label,
        }
        raise Conflict(msg, field="loan_id")


def _apply(loan: Loan, amount_fen: int, paid_on: dt.date) -> tuple[LoanState, Split, Any]:
    """The loan's state after the repayment, its split, and the instalment it charged (the
    pure ``repay_on``, in the product's allocation order); an overpayment is refused."""
    if paid_on < loan.disbursed_on:
        raise InvalidInput([("paid_on", _("a repayment cannot precede the disbursement"))])
    order = [Bucket(b) for b in loan.product.allocation_order]
    try:
        return repay_on(state_of(loan), amount_fen, paid_on, next_due(loan), order=order)
    except Overpayment as exc:
        msg = _("repayment of %(amount)s yuan exceeds the %(owed)s yuan owed") % {
            "amount": format_yuan(exc.amount_fen),
            "owed": format_yuan(exc.owed_fen),
        }
        raise InvalidInput([("amount", msg)]) from None


def _already_recorded() -> Conflict:
    return Conflict(_("this bank reference has already been recorded"), field="reference")


def _require_new_reference(loan: Loan, reference: str) -> None:
    """A bank's reference (流水号) names one repayment of that bank, on any of its loans."""
    if (
        reference
        and Repayment.objects.filter(
            bank_id=loan.bank_id, reference=reference, kind=RepaymentKind.REPAYMENT
        ).exists()
    ):
        raise _already_recorded()


def _create_once(**values: Any) -> Repayment:
    """The row, or the refusal when a concurrent repayment took the same reference first (the
    unique constraint ``repayment_reference_unique_per_bank``; a savepoint keeps the outer
    transaction usable, and the caller's transaction rolls back the rest)."""
    try:
        with transaction.atomic():
            return Repayment.objects.create(**values)
    except IntegrityError:
        if (
            values.get("reference")
            and Repayment.objects.filter(
                bank_id=values["bank_id"], reference=values["reference"], kind=values["kind"]
            ).exists()
        ):
            raise _already_recorded() from None
        raise


def reverse(
    actor: User,
    *,
    repayment_id: int,
    today: dt.date,
    note: str = "",
    now: dt.datetime | None = None,
) -> Repayment:
    """Undo a mistaken repayment with a reversing record; a closed loan opens again."""
    require(actor, OrgKind.BANK, action=gettext_noop("reverse repayments"))
    now = now or timezone.now()
    require_open_day(today, "today")
    with transaction.atomic():
        original = selectors.repayments(actor).filter(pk=repayment_id).first()
        if original is None:
            raise NotFound(_("no such repayment"), field="repayment_id")
        loan = _locked_loan(actor, original.loan_id)
        require_open_day(today, "today")  # again: the lock waits for a running end of day
        _require_reversible(original, loan)
        before = loan_state(loan)
        split = _split_of(original)
        _store(loan, reverse_repayment(state_of(loan), split))
        _meet_instalments(loan, -split.principal_due, -split.interest_due)
        if lc.LOAN.may(loan.status, "reopen"):
            # a closed loan owes again: back to what it was before it closed (the table's
            # reopen), COMPENSATED when the fund paid a claim on it
            back = lc.reopened_status(compensated=_compensated(loan))
            loan.status = take_step(
                lc.LOAN,
                loan.status,
                "reopen",
                Role.BANK,
                why=_("this loan can no longer change"),
                field="repayment_id",
                target=back,
            )
            loan.closed_on = None
        loan.save()
        credit.consume_credit(
            actor, enterprise_id=loan.enterprise_id, amount_fen=split.principal, now=now
        )
        r = Repayment.objects.create(
            loan=loan,
            bank_id=loan.bank_id,
            kind=RepaymentKind.REVERSAL,
            reverses=original,
            paid_on=today,
            amount_fen=original.amount_fen,
            penalty_fen=split.penalty,
            interest_due_fen=split.interest_due,
            interest_accrued_fen=split.interest_accrued,
            principal_due_fen=split.principal_due,
            principal_prepaid_fen=split.principal_prepaid,
            reference=original.reference,
            note=note,
            recorded_by=actor,
            recorded_at=now,
        )
        audit.record(
            actor, "REPAYMENT_REVERSE", "repayment", r.pk, before=before, after=_rep(r, loan)
        )
    return r


def _require_reversible(original: Repayment, loan: Loan) -> None:
    if original.kind != RepaymentKind.REPAYMENT:
        raise Conflict(_("only a repayment can be reversed"), field="repayment_id")
    if Repayment.objects.filter(reverses=original).exists():
        raise Conflict(_("this repayment has already been reversed"), field="repayment_id")
    if not lc.may_reverse_repayment(loan.status):
        raise Conflict(_("this loan can no longer change"), field="repayment_id")


def _compensated(loan: Loan) -> bool:
    """Was the loan compensated by the fund before it closed? Its compensation is audited
    (LOAN_COMPENSATE, lending's ``mark_compensated``): the loan's own record says so."""
    return audit.recorded("LOAN_COMPENSATE", "loan", loan.pk)


def record_renewal_payoff(
    actor: User, loan: Loan, *, today: dt.date, now: dt.datetime
) -> Repayment:
    """The renewal loan repays the old loan's principal (inside ``loans.renew``'s transaction;
    the credit line is unchanged: the old principal is released and the new one used)."""
    principal_due = loan.due_principal_fen
    prepaid = loan.outstanding_principal_fen - principal_due
    _meet_instalments(loan, principal_due, 0)
    loan.outstanding_principal_fen = 0
    loan.due_principal_fen = 0
    loan.save()
    return Repayment.objects.create(
        loan=loan,
        bank_id=loan.bank_id,
        kind=RepaymentKind.RENEWAL,
        paid_on=today,
        amount_fen=principal_due + prepaid,
        principal_due_fen=principal_due,
        principal_prepaid_fen=prepaid,
        recorded_by=actor,
        recorded_at=now,
    )


def _rep(r: Repayment, loan: Loan) -> dict[str, Any]:
    return {
        "loan_id": r.loan_id,
        "kind": r.kind,
        "paid_on": r.paid_on,
        "amount_fen": r.amount_fen,
        "split": [
            r.penalty_fen,
            r.interest_due_fen,
            r.interest_accrued_fen,
            r.principal_due_fen,
            r.principal_prepaid_fen,
        ],
        "loan": loan_state(loan),
    }
