"""Every read of the fund, scoped to what the acting user may see.

    administrator, trustee   the whole fund
    district                 its own pool: the pool, its entries, contributions, claims on it,
                             breakers of the banks in it, fees and bridge loans drawn on it
    bank                     its own claims, breakers and the service fees on its loans
    enterprise               its own bridge loans

Fee reductions are programme set-up, readable by every signed-in user. Objects outside the
scope are absent (the API answers 404).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, Q, QuerySet, Sum

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.enterprises.models import Bank
from kvcredit.fund import applied, books, config
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import compensation as dcomp
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import (
    Breaker,
    BreakerChange,
    BridgeLoan,
    Claim,
    Contribution,
    FeeReduction,
    JournalEntry,
    Pool,
    ServiceFee,
)
from kvcredit.lending.domain import lifecycle as ll

WIDE = (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE)


def _scope(
    user: Any, *, district: str | None, bank: str | None, ent: str | None = None
) -> Q | None:
    """Q() for everything, a filter, or None for nothing; the arguments name the lookups."""
    kind = kind_of(user)
    if kind in WIDE:
        return Q()
    org = getattr(user, "organisation_id", None)
    paths = {OrgKind.DISTRICT: district, OrgKind.BANK: bank, OrgKind.ENTERPRISE: ent}
    path = paths.get(kind) if kind is not None else None  # type: ignore[call-overload]
    return Q(**{path: org}) if path else None


def _scoped(qs: QuerySet[Any], user: Any, **paths: str | None) -> QuerySet[Any]:
    q = _scope(user, district=paths.get("district"), bank=paths.get("bank"), ent=paths.get("ent"))
    return qs.none() if q is None else qs.filter(q)


def pools(user: Any) -> QuerySet[Pool]:
    qs = Pool.objects.select_related("district").order_by("district__code", "id")
    return _scoped(qs, user, district="district__organisation_id")


def entries(user: Any) -> QuerySet[JournalEntry]:
    qs = JournalEntry.objects.select_related("pool__district").prefetch_related("postings__account")
    return _scoped(qs, user, district="pool__district__organisation_id").order_by(
        "entry_date", "id"
    )


def contributions(user: Any) -> QuerySet[Contribution]:
    qs = Contribution.objects.select_related("pool__district")
    return _scoped(qs, user, district="pool__district__organisation_id").order_by("id")


def claims(user: Any) -> QuerySet[Claim]:
    qs = Claim.objects.select_related("pool__district", "bank", "loan")
    return _scoped(
        qs, user, district="pool__district__organisation_id", bank="bank__organisation_id"
    ).order_by("id")


def waiting_for_funds(prefix: str = "") -> Q:
    """Claims waiting for funds (``fund.domain.claim.is_waiting``), as a filter; ``prefix``
    leads to the claim from another model ("fund_claims__")."""
    return Q(**{f"{prefix}status__in": dc.WAITING, f"{prefix}waiting_since__isnull": False})


def stage_payable(on: dt.date) -> Q:
    """Partly paid claims whose next stage is payable on ``on`` (``fund.domain.compensation.
    stage_wait`` is None: its lock-in or date has come, and a stage waiting for the recovery
    proceedings finds them concluded), as a filter."""
    from kvcredit.fund.models import ClaimStage

    nxt = ClaimStage.objects.filter(
        claim_id=OuterRef("pk"), seq=OuterRef("stages_paid"), due_on__lte=on
    ).filter(
        Q(after_recovery_concluded=False)
        | Q(claim__recovery_concluded_on__isnull=False, claim__recovery_concluded_on__lte=on)
    )
    return (
        Q(status=dc.ClaimStatus.PARTLY_PAID) & Q(Exists(nxt)) & Q(stages_paid__lt=F("stages_total"))
    )


def claimable_loans(loans: QuerySet[Any]) -> QuerySet[Any]:
    """The loans of ``loans`` a bank may register a claim on now: claimable by the loan's
    lifecycle (``lending.domain.lifecycle.claimable``: live, not compensated, overdue) and held
    by no claim (``fund.domain.claim.holds_loan``: a rejected claim lets a loan be claimed
    again)."""
    return loans.filter(status__in=ll.LOAN.sources("compensate"), days_past_due__gt=0).exclude(
        fund_claims__status__in=dc.HOLDING
    )


def claim_facts(
    user: Any,
    c: Claim | None,
    loan: Any,
    *,
    on: dt.date | None = None,
    rules: dr.FundRules | None = None,
) -> dc.ClaimFacts:
    """What the claim lifecycle asks of a claim (None: one not registered yet), the acting
    user, and the loan as it stands now, under ``rules`` (default: the rules in force on
    ``on``, itself by default today). With ``on``, also the rulebook's denial conditions the loan
    meets (``fund.applied.denials``, under the rulebook in force on ``on``) and what the next
    stage of a staged payment waits for (its lock-in or date, the recovery proceedings)."""
    rules = rules or config.rules(on)
    denials: tuple[str, ...] = ()
    stage_wait = None
    if on is not None:  # the rulebook's denial conditions, and a staged payment's lock-in
        # a filed claim is judged by the rulebook it was filed under, a new one by today's
        rb = applied.rulebook_of(getattr(c, "rulebook_hash", "") or "", on)
        denials = tuple(d.value for d in applied.denials(loan, rb))
        if c is not None and c.status == dc.ClaimStatus.PARTLY_PAID:
            nxt = c.stages.filter(seq=c.stages_paid).first()
            if nxt is not None:
                wait = dcomp.stage_wait(
                    due_on=nxt.due_on,
                    after_recovery_concluded=nxt.after_recovery_concluded,
                    recovery_concluded_on=c.recovery_concluded_on,
                    on=on,
                )
                stage_wait = None if wait is None else wait.value
    return dc.ClaimFacts(
        status=None if c is None else dc.ClaimStatus(c.status),
        waiting_since=None if c is None else c.waiting_since,
        checked_by_id=None if c is None else c.checked_by_id,
        actor_id=getattr(user, "pk", None),
        loan_status=loan.status,
        days_past_due=loan.days_past_due,
        overdue_principal_fen=loan.due_principal_fen,
        min_days_overdue=rules.min_days_overdue,
        denials=denials,
        stage_wait=stage_wait,
        recovery_concluded_on=None if c is None else c.recovery_concluded_on,
    )


def breakers(user: Any) -> QuerySet[Breaker]:
    qs = Breaker.objects.select_related("bank", "district")
    return _scoped(
        qs, user, district="district__organisation_id", bank="bank__organisation_id"
    ).order_by("bank__code", "district__code", "id")


def breaker_changes(user: Any) -> QuerySet[BreakerChange]:
    return BreakerChange.objects.filter(breaker__in=breakers(user)).order_by("id")


def fees(user: Any) -> QuerySet[ServiceFee]:
    qs = ServiceFee.objects.select_related("pool__district", "loan")
    return _scoped(
        qs, user, district="pool__district__organisation_id", bank="loan__bank__organisation_id"
    ).order_by("id")


def bridge_loans(user: Any) -> QuerySet[BridgeLoan]:
    qs = BridgeLoan.objects.select_related("pool__district", "enterprise")
    return _scoped(
        qs, user, district="pool__district__organisation_id", ent="enterprise__organisation_id"
    ).order_by("id")


def fee_reductions(user: Any) -> QuerySet[FeeReduction]:
    qs = FeeReduction.objects.order_by("valid_from", "id")
    return qs if kind_of(user) is not None else qs.none()


@dataclass(frozen=True)
class PoolSummary:
    pool: Pool
    balances: dict[str, int]
    city_owed_fen: int
    district_owed_fen: int
    waiting_claims: int
    waiting_fen: int

    def balance(self, kind: dl.PoolAccount) -> int:
        """Normal-sign balance: debit for assets and expenses, credit for the others."""
        bal = self.balances.get(dl.account(self.pool.district.code, kind), 0)
        debit = dl.ACCOUNT_TYPES[kind] in (dl.AccountType.ASSET, dl.AccountType.EXPENSE)
        return bal if debit else -bal


def pool_summary(pool: Pool, *, as_of: dt.date | None = None) -> PoolSummary:
    return pool_summaries([pool], as_of=as_of)[0]


def pool_summaries(pools: list[Pool], *, as_of: dt.date | None = None) -> list[PoolSummary]:
    """``pool_summary`` of many pools in two queries, whatever their number (the pools page
    and the statistics list every district's pool)."""
    balances = books.balances(pools, as_of=as_of) if pools else {}
    waiting = {
        r["pool_id"]: (int(r["n"]), int(r["total"] or 0))
        for r in Claim.objects.filter(waiting_for_funds(), pool__in=pools)
        .values("pool_id")
        .annotate(n=Count("id"), total=Sum("amount_fen"))
        .order_by()
    }
    rules = config.rules()
    out = []
    for pool in pools:
        city, district = dr.contributions_owed(target_fen=pool.target_fen, rules=rules)
        n, total = waiting.get(pool.pk, (0, 0))
        out.append(PoolSummary(pool, balances, city, district, n, total))
    return out


def trial_balance(
    user: Any, *, as_of: dt.date | None, district_id: int | None = None
) -> list[dl.TrialBalanceLine]:
    """The trial balance of the pools the user sees (or one of them)."""
    visible = pools(user)
    if district_id is not None:
        visible = visible.filter(district_id=district_id)
    bal = books.balances(list(visible), as_of=as_of)
    out = []
    for code, amount in sorted(bal.items()):
        _, kind = dl.parse_account(code)
        out.append(
            dl.TrialBalanceLine(code, dl.ACCOUNT_TYPES[kind], max(amount, 0), max(-amount, 0))
        )
    return out


def banks(user: Any) -> QuerySet[Bank]:
    """The banks whose fund figures (allowance, caps) the user may see: every bank for the
    administrator and the trustee, its own for a bank, none for the others."""
    return _scoped(Bank.objects.all(), user, bank="organisation_id").order_by("code", "id")


@dataclass(frozen=True)
class BankLimits:
    """A bank's compensation limits on a date, under the rulebook in force then."""

    bank: Any
    on: dt.date
    rulebook_hash: str
    allowance: dcomp.Allowance | None  # None: the rulebook has no allowance
    pct_of_loan: Any
    cap_pct_of_balance: Any
    carry_forward: bool
    cap_per_loan_fen: int | None
    cap_per_bank_per_year_fen: int | None
    year_paid_fen: int

    @property
    def year_left_fen(self) -> int | None:
        cap = self.cap_per_bank_per_year_fen
        return None if cap is None else max(cap - self.year_paid_fen, 0)


def bank_limits(bank: Any, on: dt.date) -> BankLimits:
    rb = applied.rules_on(on)
    rule = rb.fund.allowance
    return BankLimits(
        bank=bank,
        on=on,
        rulebook_hash=rb.content_hash,
        allowance=applied.allowance_of(bank.pk, on, rb),
        pct_of_loan=None if rule is None else rule.pct_of_loan,
        cap_pct_of_balance=None if rule is None else rule.cap_pct_of_balance,
        carry_forward=bool(rule and rule.carry_forward),
        cap_per_loan_fen=rb.fund.cap_per_loan_fen,
        cap_per_bank_per_year_fen=rb.fund.cap_per_bank_per_year_fen,
        year_paid_fen=applied.bank_year_paid(bank.pk, on),
    )
