"""Every read of lending data, scoped to what the acting user may see (404 outside it).

Rates and products are programme set-up: every signed-in user reads them."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

from django.db.models import Case, Count, F, Q, QuerySet, Sum, When

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.lending.domain import lifecycle as lc
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


# -- programme-wide figures of the live book (the end of day, the fund's breakers) -----------


@dataclass(frozen=True)
class Exposure:
    """A bank's live loans in one district (fen)."""

    bank_id: int
    district_id: int
    loans: int
    outstanding_fen: int
    non_performing_fen: int  # outstanding principal of substandard, doubtful and loss loans


def exposures(*, as_of: dt.date | None = None) -> list[Exposure]:
    """Outstanding and non-performing principal of the live book (``lifecycle.LIVE``) per bank
    and district, ordered by (bank, district): the one definition of exposure, read by the end
    of day (after it has aged the book; loans disbursed by ``as_of``) and by the fund's circuit
    breakers. Programme-wide: no user scope (the callers are the system and the trustee)."""
    live = Loan.objects.filter(status__in=lc.LIVE)
    if as_of is not None:
        live = live.filter(disbursed_on__lte=as_of)
    npl = Case(
        When(category__in=lc.NON_PERFORMING_CODES, then=F("outstanding_principal_fen")),
        default=0,
    )
    rows = (
        live.values("bank_id", "district_id")
        .annotate(n=Count("id"), out=Sum("outstanding_principal_fen"), npl=Sum(npl))
        .order_by("bank_id", "district_id")
    )
    return [
        Exposure(r["bank_id"], r["district_id"], r["n"], int(r["out"]), int(r["npl"])) for r in rows
    ]


def lending_per_pair(
    *, after: dt.date | None = None, until: dt.date | None = None
) -> dict[tuple[int, int], tuple[int, int]]:
    """(loans, principal lent in fen) per (bank, district) of the loans disbursed in
    (``after``, ``until``] (None: no bound), whatever their status now."""
    qs = Loan.objects.all()
    if after is not None:
        qs = qs.filter(disbursed_on__gt=after)
    if until is not None:
        qs = qs.filter(disbursed_on__lte=until)
    rows = qs.values("bank_id", "district_id").annotate(n=Count("id"), total=Sum("amount_fen"))
    return {
        (r["bank_id"], r["district_id"]): (int(r["n"]), int(r["total"])) for r in rows.order_by()
    }


def open_suspensions(*, bank_id: int, district_id: int) -> list[tuple[int, dt.date]]:
    """(id, from_date) of the bank's open suspensions in the district (programme-wide: the
    fund's circuit breaker opens and ends them)."""
    qs = BankSuspension.objects.filter(bank_id=bank_id, district_id=district_id)
    return list(qs.filter(to_date__isnull=True).order_by("id").values_list("id", "from_date"))


@dataclass(frozen=True)
class OverdueRow:
    """Overdue and non-performing figures of the live book for one group (a bank, a district)."""

    key: Any
    name: str
    loans: int
    outstanding_fen: int
    overdue_loans: int
    overdue_principal_fen: int  # principal fallen due and unpaid
    overdue_outstanding_fen: int  # all principal still owed on overdue loans
    non_performing_fen: int  # outstanding principal of substandard, doubtful and loss loans
    by_category: dict[str, int]  # category code -> outstanding principal

    @property
    def npl_ratio(self) -> Fraction:
        if not self.outstanding_fen:
            return Fraction(0)
        return Fraction(self.non_performing_fen, self.outstanding_fen)

    @property
    def overdue_ratio(self) -> Fraction:
        if not self.outstanding_fen:
            return Fraction(0)
        return Fraction(self.overdue_outstanding_fen, self.outstanding_fen)


def overdue_by(user: Any, group: str) -> list[OverdueRow]:
    """The user's live book (scoped as ``loans``) grouped by ``group`` ("bank" or "district"):
    the overdue and non-performing dashboard. Non-performing is ``lifecycle``'s definition."""
    if group not in ("bank", "district"):
        raise ValueError(group)
    live = loans(user).filter(status__in=lc.LIVE)
    npl = Case(
        When(category__in=lc.NON_PERFORMING_CODES, then=F("outstanding_principal_fen")),
        default=0,
    )
    overdue = Q(days_past_due__gt=0)
    per_category = {
        code: Sum(Case(When(category=code, then=F("outstanding_principal_fen")), default=0))
        for code in lc.CATEGORY_CODES
    }
    rows = (
        live.values(f"{group}_id", f"{group}__name")
        .annotate(
            n=Count("id"),
            out=Sum("outstanding_principal_fen"),
            od_n=Count("id", filter=overdue),
            od_due=Sum("due_principal_fen", filter=overdue),
            od_out=Sum("outstanding_principal_fen", filter=overdue),
            npl=Sum(npl),
            **{f"c_{code}": agg for code, agg in per_category.items()},
        )
        .order_by(f"{group}__name")
    )
    return [
        OverdueRow(
            key=r[f"{group}_id"],
            name=r[f"{group}__name"],
            loans=r["n"],
            outstanding_fen=int(r["out"] or 0),
            overdue_loans=r["od_n"],
            overdue_principal_fen=int(r["od_due"] or 0),
            overdue_outstanding_fen=int(r["od_out"] or 0),
            non_performing_fen=int(r["npl"] or 0),
            by_category={code: int(r[f"c_{code}"] or 0) for code in lc.CATEGORY_CODES},
        )
        for r in rows
    ]


# -- interest paid, for the fund's interest subsidies ----------------------------------------
@dataclass(frozen=True)
class PaidInterest:
    """An instalment whose interest fell due and is paid in full, with its loan's terms."""

    instalment_id: int
    loan_id: int
    seq: int
    period_from: dt.date  # the previous instalment's due date, or the disbursement
    due_date: dt.date
    interest_paid_fen: int
    rate_units: int
    term_months: int
    signing_date: dt.date
    amount_fen: int
    first_time_borrower: bool
    district_id: int
    district_code: str
    enterprise_id: int
    bank_id: int


def interest_unpaid(instalment_ids: list[int]) -> set[int]:
    """Of ``instalment_ids``, those whose interest is no longer met in full (a repayment was
    reversed)."""
    return set(
        Instalment.objects.filter(pk__in=instalment_ids)
        .exclude(interest_paid_fen=F("interest_due_fen"))
        .values_list("pk", flat=True)
    )


def paid_interest(
    *, on: dt.date, due_after: dt.date, due_before: dt.date | None = None
) -> list[PaidInterest]:
    """Instalments due after ``due_after``, on or before ``on`` (and before ``due_before``)
    whose interest (more than zero) is met in full and that no interest subsidy has been paid
    on yet (or only one clawed back since: the interest was paid again)."""
    from django.db.models import Exists, OuterRef, Subquery
    from django.db.models.functions import Coalesce

    previous = Instalment.objects.filter(loan_id=OuterRef("loan_id"), seq=OuterRef("seq") - 1)
    rows = (
        Instalment.objects.filter(
            due_date__gt=due_after,
            due_date__lte=on,
            interest_due_fen__gt=0,
            interest_paid_fen=F("interest_due_fen"),
        )
        # no live subsidy (one clawed back since lets the interest paid again earn it again)
        .exclude(
            Exists(
                Instalment.subsidies.rel.related_model.objects.filter(
                    instalment_id=OuterRef("pk"), clawed_back_on__isnull=True
                )
            )
        )
        .filter(Q() if due_before is None else Q(due_date__lt=due_before))
        .annotate(
            period_from=Coalesce(Subquery(previous.values("due_date")[:1]), "loan__disbursed_on")
        )
        .order_by("loan_id", "seq")
        .values_list(
            "id",
            "loan_id",
            "seq",
            "period_from",
            "due_date",
            "interest_paid_fen",
            "loan__rate_units",
            "loan__term_months",
            "loan__signing_date",
            "loan__amount_fen",
            "loan__first_time_borrower",
            "loan__district_id",
            "loan__district__code",
            "loan__enterprise_id",
            "loan__bank_id",
        )
    )
    return [PaidInterest(*r) for r in rows]


def benchmark_units(basis: str, *, term_months: int, on: dt.date) -> int | None:
    """The benchmark rate (1e-8 units) of ``basis`` (PBOC_BENCHMARK: the central bank's rate
    for the term; else a rate type such as LPR_1Y) in force on ``on``; None when none is."""
    from kvcredit.lending.domain.rates import benchmark_type_for_term

    rate_type = benchmark_type_for_term(term_months) if basis == "PBOC_BENCHMARK" else basis
    row = (
        Rate.objects.filter(rate_type=rate_type, effective_date__lte=on)
        .order_by("-effective_date")
        .first()
    )
    return None if row is None else row.annual_rate_ppm * 100


def pair_suspended_on(*, bank_id: int, district_id: int, day: dt.date) -> bool:
    """Was the bank suspended in the district on ``day`` (a suspension from on or before it,
    not ended by then)? Programme-wide: the fund's denial conditions ask it of a loan's
    signing date."""
    qs = BankSuspension.objects.filter(bank_id=bank_id, district_id=district_id, from_date__lte=day)
    return qs.filter(Q(to_date__isnull=True) | Q(to_date__gt=day)).exists()


def bank_book(*, bank_id: int, on: dt.date, since: dt.date | None = None) -> tuple[list[int], int]:
    """(the amount of each loan the bank disbursed by ``on``, from ``since`` when given; the
    principal outstanding on its live book now), programme-wide: the fund's per-bank allowance
    reads it."""
    lent = Loan.objects.filter(bank_id=bank_id, disbursed_on__lte=on)
    if since is not None:
        lent = lent.filter(disbursed_on__gte=since)
    balance = Loan.objects.filter(bank_id=bank_id, status__in=lc.LIVE).aggregate(
        s=Sum("outstanding_principal_fen")
    )["s"]
    return list(lent.order_by("id").values_list("amount_fen", flat=True)), int(balance or 0)


def basis_rate_ppm(rate_type: str, on: dt.date) -> int | None:
    """The yearly rate of ``rate_type`` in force on ``on`` (ppm), programme-wide; None when the
    table has no row in force then."""
    row = Rate.objects.filter(rate_type=rate_type, effective_date__lte=on)
    found = row.order_by("-effective_date").first()
    return None if found is None else int(found.annual_rate_ppm)
