"""What a step on a loan or an application will do, computed before it is confirmed.

Each preview runs the same checks and the same pure arithmetic as the service it previews
(``repayments.repay``, ``repayments.reverse``, ``loans.disburse``, ``loans.reject``), reads
only, and answers a frozen value the console's confirmation page shows: the amount, the
split, the loan's state after. The service itself re-checks everything under its lock.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.enterprises.domain.credit_line import CreditLineError
from kvcredit.errors import InvalidInput, NotFound
from kvcredit.lending import repayments as rp
from kvcredit.lending import selectors
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.domain.repay import reverse_repayment
from kvcredit.lending.loans import require_open_day
from kvcredit.lending.models import Application, Loan


@dataclass(frozen=True)
class LoanChange:
    """A repayment or its reversal: the amount and its split, the loan before and after."""

    loan: Loan
    amount_fen: int
    penalty_fen: int
    interest_fen: int
    principal_fen: int
    outstanding_after_fen: int
    owed_after_fen: int  # due now after the step: principal, interest and penalty
    status_after: str
    paid_off: bool  # nothing left: the end of day closes the loan


def _loan(actor: User, loan_id: int) -> Loan:
    loan = selectors.loans(actor).select_related("product").filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("no such loan"), field="loan_id")
    return loan


def preview_repay(
    actor: User,
    *,
    loan_id: int,
    amount_fen: int,
    paid_on: dt.date,
    today: dt.date,
    reference: str = "",
) -> LoanChange:
    """What ``repayments.repay`` with these values will do."""
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    if paid_on > today:
        raise InvalidInput([("paid_on", _("a repayment cannot be dated in the future"))])
    require_open_day(paid_on, "paid_on")
    if amount_fen <= 0:
        raise InvalidInput([("amount", _("a repayment must be a positive amount"))])
    loan = _loan(actor, loan_id)
    rp._require_repayable(loan)
    rp._require_new_reference(loan, reference)
    new, split, _charged = rp._apply(loan, amount_fen, paid_on)
    owed = new.due_principal + new.due_interest + new.penalty
    return LoanChange(
        loan=loan,
        amount_fen=amount_fen,
        penalty_fen=split.penalty,
        interest_fen=split.interest_due + split.interest_accrued,
        principal_fen=split.principal_due + split.principal_prepaid,
        outstanding_after_fen=new.outstanding,
        owed_after_fen=owed,
        status_after=loan.status,
        paid_off=new.outstanding == 0 and owed == 0,
    )


def preview_reverse(actor: User, *, repayment_id: int, today: dt.date) -> LoanChange:
    """What ``repayments.reverse`` of this repayment will do: the loan owes the split again;
    a loan closed by repayment opens again (the lifecycle's ``reopened_status``)."""
    require(actor, OrgKind.BANK, action=gettext_noop("reverse repayments"))
    require_open_day(today, "today")
    original = selectors.repayments(actor).filter(pk=repayment_id).first()
    if original is None:
        raise NotFound(_("no such repayment"), field="repayment_id")
    loan = _loan(actor, original.loan_id)
    rp._require_reversible(original, loan)
    split = rp._split_of(original)
    new = reverse_repayment(rp.state_of(loan), split)
    status = loan.status
    if lc.LOAN.may(loan.status, "reopen"):
        status = lc.reopened_status(compensated=rp._compensated(loan))
    return LoanChange(
        loan=loan,
        amount_fen=original.amount_fen,
        penalty_fen=split.penalty,
        interest_fen=split.interest_due + split.interest_accrued,
        principal_fen=split.principal_due + split.principal_prepaid,
        outstanding_after_fen=new.outstanding,
        owed_after_fen=new.due_principal + new.due_interest + new.penalty,
        status_after=str(status),
        paid_off=False,
    )


@dataclass(frozen=True)
class ApplicationChange:
    """Disbursing or rejecting an application: the amount, the state after, and what is
    left of the enterprise's credit line."""

    application: Application
    amount_fen: int
    status_after: str
    available_after_fen: int | None  # None: the enterprise has no credit line


def _application(actor: User, application_id: int) -> Application:
    app = (
        selectors.applications(actor)
        .select_related("enterprise__credit_line")
        .filter(pk=application_id)
        .first()
    )
    if app is None:
        raise NotFound(_("no such application"), field="application_id")
    return app


def _available(app: Application) -> int | None:
    line = getattr(app.enterprise, "credit_line", None)
    return None if line is None else line.value.available


def preview_decision(actor: User, *, application_id: int, step: str) -> ApplicationChange:
    """What the bank's ``disburse`` or ``reject`` of the application will do; a step the
    application's lifecycle does not allow now is refused as the service would."""
    from kvcredit.lending.loans import take_step
    from kvcredit.roles import Role

    require(actor, OrgKind.BANK, action=gettext_noop("decide on applications"))
    app = _application(actor, application_id)
    to = take_step(lc.APPLICATION, app.status, step, Role.BANK, why=_("not allowed now"))
    amount = app.approved_amount_fen or app.amount_fen
    available = _available(app)
    if available is not None:  # the line after: the reservation released, or used
        line = app.enterprise.credit_line.value
        try:
            if step == "reject":
                available = line.release(app.reserved_fen).available
            else:
                available = line.consume(amount, held=app.reserved_fen).available
        except CreditLineError:
            available = None  # the service refuses it, naming the figures
    return ApplicationChange(app, amount, str(to), available)
