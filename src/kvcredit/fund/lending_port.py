"""The fund's one door into the lending app: the loans it reads and locks, the COMPENSATED and
WRITTEN_OFF marks it writes, and the suspensions it opens and ends through lending's services."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext as _

from kvcredit.audit import services as audit
from kvcredit.errors import NotFound
from kvcredit.lending import models as lm


def loan_for_update(loan_id: int) -> lm.Loan:
    loan = lm.Loan.objects.select_for_update().filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("no such loan"), field="loan_id")
    return loan


def mark_compensated(loan: lm.Loan, *, on: dt.date, actor: Any) -> None:
    """The loan is compensated by the fund (it stays on the bank's book and keeps ageing).

    The lending app has no service for this mark; the status is written here, in the fund's
    transaction that pays the claim."""
    lm.Loan.objects.filter(pk=loan.pk).update(status=lm.LoanStatus.COMPENSATED)


def write_off(loan: lm.Loan, *, on: dt.date, actor: Any, claim_id: int, reason: str) -> str:
    """The bank writes the loan off (核销) as the fund's claim on it ends, closed after recovery
    or written off: the loan leaves the bank's live book (WRITTEN_OFF, ``closed_on`` = ``on``),
    so the end of day no longer ages it and no exposure counts its outstanding principal. Its
    figures stay as they stood, the record of what was written off.

    Only a live loan (ACTIVE or COMPENSATED) is written off; a loan that has already left the
    book (CLOSED as fully repaid, RENEWED, WRITTEN_OFF) stays as it is. ``loan`` must be locked
    (``loan_for_update``) in the caller's transaction, the one that ends the claim. Returns the
    loan's status afterwards."""
    if loan.status not in lm.LIVE_STATUSES:
        return str(loan.status)
    before = loan.status
    loan.status, loan.closed_on = lm.LoanStatus.WRITTEN_OFF, on
    loan.save(update_fields=["status", "closed_on"])
    audit.record(
        actor,
        "LOAN_WRITE_OFF",
        "loan",
        loan.pk,
        before={"status": before},
        after={
            "status": loan.status,
            "on": on,
            "claim_id": claim_id,
            "outstanding_principal_fen": loan.outstanding_principal_fen,
            "reason": reason,
        },
    )
    return str(loan.status)


def suspend(*, bank_id: int, district_id: int, on: dt.date, reason: str, actor: Any) -> None:
    """Open a suspension of new applications for the bank in the district (lending's
    ``suspend_bank``), unless one is open already."""
    from kvcredit.lending import services

    if not lm.BankSuspension.objects.filter(
        bank_id=bank_id, district_id=district_id, to_date__isnull=True
    ).exists():
        services.suspend_bank(
            actor, bank_id=bank_id, district_id=district_id, from_date=on, reason=reason[:300]
        )


def lift(*, bank_id: int, district_id: int, on: dt.date, reason: str, actor: Any) -> None:
    """End the open suspension of the bank in the district (lending's ``lift_suspension``);
    it ends on ``on``, or the day after it began when it began that day."""
    from kvcredit.lending import services

    for s in lm.BankSuspension.objects.filter(
        bank_id=bank_id, district_id=district_id, to_date__isnull=True
    ):
        end = max(on, s.from_date + dt.timedelta(days=1))
        services.lift_suspension(actor, suspension_id=s.pk, to_date=end)
