"""The fund's one door into the lending app: every call delegates to lending's services and
selectors, which own the loan table (the locks, the COMPENSATED and WRITTEN_OFF marks, each
audited and checked against the loan's lifecycle) and the suspensions."""

from __future__ import annotations

import datetime as dt
from typing import Any

from kvcredit.lending import selectors, services


def loan_for_update(loan_id: int) -> Any:
    return services.loan_for_update(loan_id)


def mark_compensated(loan: Any, *, on: dt.date, actor: Any, claim_id: int | None = None) -> None:
    """The loan is compensated by the fund (lending's ``mark_compensated``: refused, with the
    claim's payment, unless the loan is ACTIVE)."""
    services.mark_compensated(actor, loan_id=loan.pk, on=on, claim_id=claim_id)


def write_off(loan: Any, *, on: dt.date, actor: Any, claim_id: int, reason: str) -> str:
    """The bank writes the loan off as the fund's claim on it ends (lending's ``write_off``);
    returns the loan's status afterwards."""
    return services.write_off(actor, loan_id=loan.pk, on=on, claim_id=claim_id, reason=reason)


def suspend(*, bank_id: int, district_id: int, on: dt.date, reason: str, actor: Any) -> None:
    """Open a suspension of new applications for the bank in the district (lending's
    ``suspend_bank``), unless one is open already."""
    if not selectors.open_suspensions(bank_id=bank_id, district_id=district_id):
        services.suspend_bank(
            actor, bank_id=bank_id, district_id=district_id, from_date=on, reason=reason[:300]
        )


def lift(*, bank_id: int, district_id: int, on: dt.date, reason: str, actor: Any) -> None:
    """End the open suspension of the bank in the district (lending's ``lift_suspension``);
    it ends on ``on``, or the day after it began when it began that day."""
    for pk, from_date in selectors.open_suspensions(bank_id=bank_id, district_id=district_id):
        end = max(on, from_date + dt.timedelta(days=1))
        services.lift_suspension(actor, suspension_id=pk, to_date=end)


def pair_suspended_on(*, bank_id: int, district_id: int, day: dt.date) -> bool:
    return selectors.pair_suspended_on(bank_id=bank_id, district_id=district_id, day=day)


def bank_book(*, bank_id: int, on: dt.date, since: dt.date | None = None) -> tuple[list[int], int]:
    return selectors.bank_book(bank_id=bank_id, on=on, since=since)


def basis_rate_ppm(rate_type: str, on: dt.date) -> int | None:
    return selectors.basis_rate_ppm(rate_type, on)
