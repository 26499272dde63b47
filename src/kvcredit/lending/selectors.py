"""Every read of lending data, scoped to what the acting user may see (404 outside it).

Rates and products are programme set-up: every signed-in user reads them."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q, QuerySet

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.lending.models import (
    Application,
    BankSuspension,
    CommercialLoan,
    EodRun,
    Instalment,
    Loan,
    Product,
    Rate,
    Repayment,
)


def rates(user: Any) -> QuerySet[Rate]:
    qs = Rate.objects.all().order_by("rate_type", "effective_date", "id")
    return qs if kind_of(user) is not None else qs.none()


def rate_in_force(user: Any, rate_type: str, on: dt.date) -> Rate | None:
    """The row of ``rate_type`` in force on ``on``: the latest with effective_date <= on."""
    return (
        rates(user)
        .filter(rate_type=rate_type, effective_date__lte=on)
        .order_by("-effective_date")
        .first()
    )


# -- products, suspensions, applications, loans, repayments: scoped by role -----------------
#    administrator, trustee   everything
#    district                 what concerns the enterprises in its district
#    bank                     its own applications, loans, repayments and commercial loans
#    enterprise               its own


def _scope(user: Any, ent: str, bank: str) -> Q | None:
    """A filter through the enterprise (``ent``) and bank (``bank``) paths; None for nothing."""
    kind = kind_of(user)
    if kind in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE):
        return Q()
    org = user.organisation_id
    if kind == OrgKind.DISTRICT:
        return Q(**{f"{ent}district__organisation_id": org})
    if kind == OrgKind.BANK:
        return Q(**{f"{bank}organisation_id": org})
    if kind == OrgKind.ENTERPRISE:
        return Q(**{f"{ent}organisation_id": org})
    return None


def _scoped(qs: QuerySet[Any], user: Any, ent: str, bank: str) -> QuerySet[Any]:
    scope = _scope(user, ent, bank)
    return qs.none() if scope is None else qs.filter(scope)


def products(user: Any) -> QuerySet[Product]:
    qs = Product.objects.all().order_by("code", "id")
    return qs if kind_of(user) is not None else qs.none()


def suspensions(user: Any) -> QuerySet[BankSuspension]:
    kind = kind_of(user)
    qs = BankSuspension.objects.all().order_by("id")
    if kind in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE):
        return qs
    if kind == OrgKind.BANK:
        return qs.filter(bank__organisation_id=user.organisation_id)
    if kind == OrgKind.DISTRICT:
        return qs.filter(district__organisation_id=user.organisation_id)
    return qs.none()


def applications(user: Any) -> QuerySet[Application]:
    qs = Application.objects.select_related("enterprise", "bank", "product")
    return _scoped(qs, user, "enterprise__", "bank__").order_by("id")


def loans(user: Any) -> QuerySet[Loan]:
    qs = Loan.objects.select_related("enterprise", "bank", "product")
    return _scoped(qs, user, "enterprise__", "bank__").order_by("id")


def instalments(user: Any, loan_id: int) -> QuerySet[Instalment]:
    return Instalment.objects.filter(loan__in=loans(user).filter(pk=loan_id)).order_by("seq")


def repayments(user: Any) -> QuerySet[Repayment]:
    qs = Repayment.objects.select_related("loan")
    return _scoped(qs, user, "loan__enterprise__", "loan__bank__").order_by("id")


def commercial_loans(user: Any) -> QuerySet[CommercialLoan]:
    qs = CommercialLoan.objects.select_related("enterprise", "bank")
    return _scoped(qs, user, "enterprise__", "bank__").order_by("id")


def eod_runs(user: Any) -> QuerySet[EodRun]:
    qs = EodRun.objects.all().order_by("-run_date")
    return qs if kind_of(user) in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE) else qs.none()
