"""Interest subsidies (贴息): paid once per instalment and rule, in the pool's books.

Which rules: the ``[[subsidy]]`` rules of the rulebook in force on the day the subsidy is paid
(``kvcredit.relief.rules_on``). Which instalments: those whose interest fell due and has been
paid in full (``lending.selectors.paid_interest``), never interest not paid. How much: the pure
``lending.domain.subsidy.instalment_subsidy`` (pro rata by days across a window edge, exact,
rounded once half up). How it is paid: a journal entry of the loan's district pool, debiting
SUBSIDIES_PAID and crediting the pool's cash (paid by the pool: refused while the pool cannot
cover it; the instalment waits for a later run) or SUBSIDY_BUDGET (paid by the district's
budget: recorded, the pool's cash untouched). The ``Subsidy`` row (unique per instalment and
rule) makes it idempotent: a second run, or a run retried after a failure, pays nothing twice.

When: the business day (``kvcredit.day.run_day``) pays the subsidies due after lending's end of
day, in the day's transaction; ``kvcredit subsidy run --date D`` pays them for one day by hand
(the same function: anything already paid is skipped).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Count, Sum
from django.utils import timezone
from django.utils.translation import gettext_noop

from kvcredit import relief
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises.models import District
from kvcredit.errors import InsufficientFunds
from kvcredit.fund import books, lending_port
from kvcredit.fund.domain import entries as de
from kvcredit.fund.models import EntryKind, Pool, Subsidy
from kvcredit.lending import selectors as lending
from kvcredit.lending.domain import subsidy as ds


@dataclass
class SubsidyRun:
    day: dt.date
    rulebook: str
    rulebook_hash: str = ""
    paid: list[Subsidy] = field(default_factory=list)
    waiting: int = 0  # instalments a pool could not cover yet
    clawed_back: list[Subsidy] = field(default_factory=list)

    @property
    def total_fen(self) -> int:
        return sum(s.amount_fen for s in self.paid)


def pay_subsidies(
    actor: Any, *, on: dt.date, rules: relief.ReliefRules | None = None
) -> SubsidyRun:
    """Pay every interest subsidy due on ``on`` that has not been paid yet."""
    require(
        actor, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE, action=gettext_noop("pay interest subsidies")
    )
    found = rules or relief.rules_on(on)
    run = SubsidyRun(on, found.source, found.content_hash)
    if not found.subsidies:
        return run
    due_after = min(r.window_from for r in found.subsidies) - dt.timedelta(days=1)
    ends = [r.window_to for r in found.subsidies]
    # an instalment's period is far shorter than a year, a deferred one included (ours)
    due_before = None if None in ends else max(e for e in ends if e) + dt.timedelta(days=366)
    with transaction.atomic():
        pools: dict[int, Pool] = {}
        run.clawed_back = claw_back(actor, on=on)
        for row in lending.paid_interest(on=on, due_after=due_after, due_before=due_before):
            for rule in ds.rules_touching(found.subsidies, row.period_from, row.due_date):
                ok = rule.applies_to(
                    district=row.district_code,
                    first_time_borrower=row.first_time_borrower,
                    signing_date=row.signing_date,
                    amount_fen=row.amount_fen,
                )
                if not ok:
                    continue
                if row.district_id not in pools:  # lock the pool: runs of the day serialise
                    district = District.objects.get(pk=row.district_id)
                    pools[row.district_id] = books.pool_of(district, lock=True)
                paid = _pay_one(actor, pools[row.district_id], row, rule, on, found)
                if paid is None:
                    run.waiting += 1
                elif paid is not False:
                    run.paid.append(paid)
    return run


def _pay_one(
    actor: Any,
    pool: Pool,
    row: lending.PaidInterest,
    rule: ds.SubsidyRule,
    on: dt.date,
    rules: relief.ReliefRules,
) -> Subsidy | bool | None:
    """The subsidy row, None when the pool cannot cover it yet, False when nothing is due
    (zero, or paid already)."""
    live = Subsidy.objects.filter(clawed_back_on__isnull=True)
    if live.filter(instalment_id=row.instalment_id, rule_key=rule.key).exists():
        return False  # re-checked under the pool's lock
    bench = None
    if rule.basis is ds.Basis.RATE:
        bench = lending.benchmark_units(
            rule.benchmark, term_months=row.term_months, on=row.signing_date
        )
    calc = ds.instalment_subsidy(
        rule,
        ds.PaidInstalment(
            row.seq, row.period_from, row.due_date, row.interest_paid_fen, row.rate_units
        ),
        benchmark_units=bench,
    )
    if calc.amount_fen <= 0:
        return False
    from_pool = rule.payer is ds.Payer.POOL
    try:
        entry = de.subsidy(
            pool.district.code,
            calc.amount_fen,
            on=on,
            ref=f"loan {row.loan_id} #{row.seq} {rule.key}",
            from_pool=from_pool,
            cash_fen=books.spendable(pool, on=on) if from_pool else 0,
        )
    except InsufficientFunds:
        return None
    try:
        with transaction.atomic():  # the unique key: paid once, even by a concurrent run
            sub = Subsidy.objects.create(
                instalment_id=row.instalment_id,
                loan_id=row.loan_id,
                enterprise_id=row.enterprise_id,
                bank_id=row.bank_id,
                pool=pool,
                rule_key=rule.key,
                rulebook=rules.source,
                rulebook_hash=rules.content_hash,
                payer=rule.payer.value,
                payee=rule.payee.value,
                period_from=row.period_from,
                due_date=row.due_date,
                days_in_period=calc.days_in_period,
                days_in_window=calc.days_in_window,
                interest_paid_fen=row.interest_paid_fen,
                ratio=f"{calc.ratio.numerator}/{calc.ratio.denominator}",
                amount_fen=calc.amount_fen,
                paid_on=on,
                created_by=actor,
                created_at=timezone.now(),
            )
    except IntegrityError:
        return False
    sub.entry = books.book(pool, entry, kind=EntryKind.SUBSIDY, actor=actor)
    sub.save(update_fields=["entry"])
    audit.record(
        actor,
        "FUND_SUBSIDY",
        "subsidy",
        sub.pk,
        after={
            "loan": row.loan_id,
            "seq": row.seq,
            "rule": rule.key,
            "rulebook": rules.content_hash or rules.source,
            "amount_fen": calc.amount_fen,
            "on": on,
        },
    )
    return sub


def claw_back(actor: Any, *, on: dt.date) -> list[Subsidy]:
    """Take back every subsidy whose instalment's interest is no longer paid in full (the
    repayment that paid it was reversed): its entry reversed on ``on`` (``entries.
    subsidy_clawback``: exactly its amount), the row marked ``clawed_back_on``, audited with
    the rulebook's hash it was paid under. Idempotent: a clawed-back subsidy is not live; the
    interest paid again later earns the subsidy again, once (a new row)."""
    live = Subsidy.objects.filter(clawed_back_on__isnull=True)
    ids = list(live.values_list("instalment_id", flat=True).distinct())
    unpaid = lending.interest_unpaid(ids) if ids else set()
    out: list[Subsidy] = []
    if not unpaid:
        return out
    rows = (
        Subsidy.objects.select_for_update()
        .select_related("pool__district")
        .filter(clawed_back_on__isnull=True, instalment_id__in=unpaid)
        .order_by("id")
    )
    for sub in rows:
        # the loan's lock is the one its repayments take: under it, the interest is still unpaid
        lending_port.loan_for_update(sub.loan_id)
        if sub.instalment_id not in lending.interest_unpaid([sub.instalment_id]):
            continue  # paid again meanwhile: the subsidy stands
        pool = books.pool_of(sub.pool.district, lock=True)
        entry = de.subsidy_clawback(
            pool.district.code,
            sub.amount_fen,
            on=on,
            ref=f"loan {sub.loan_id} subsidy {sub.pk} {sub.rule_key}",
            from_pool=sub.payer == ds.Payer.POOL.value,
        )
        sub.clawback_entry = books.book(pool, entry, kind=EntryKind.SUBSIDY, actor=actor)
        sub.clawed_back_on = on
        sub.save(update_fields=["clawback_entry", "clawed_back_on"])
        audit.record(
            actor,
            "FUND_SUBSIDY_CLAWED_BACK",
            "subsidy",
            sub.pk,
            before={"amount_fen": sub.amount_fen, "paid_on": sub.paid_on},
            after={
                "loan": sub.loan_id,
                "rule": sub.rule_key,
                "rulebook": sub.rulebook_hash or sub.rulebook,
                "amount_fen": sub.amount_fen,
                "on": on,
            },
        )
        out.append(sub)
    return out


# -- reads -------------------------------------------------------------------------------------
def subsidies(user: Any) -> Any:
    """The subsidies ``user`` may see: the programme for the administrator and the trustee, a
    district's for its district, a bank's or an enterprise's own."""
    from kvcredit.accounts.permissions import kind_of

    qs = Subsidy.objects.select_related("loan", "enterprise", "bank", "pool__district")
    kind = kind_of(user)
    org = getattr(user, "organisation_id", None)
    if kind in (OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE):
        return qs
    if kind == OrgKind.DISTRICT:
        return qs.filter(pool__district__organisation_id=org)
    if kind == OrgKind.BANK:
        return qs.filter(bank__organisation_id=org)
    if kind == OrgKind.ENTERPRISE:
        return qs.filter(enterprise__organisation_id=org)
    return qs.none()


def totals(
    user: Any, *, start: dt.date | None = None, end: dt.date | None = None
) -> dict[str, int]:
    """Count and amount of the subsidies ``user`` sees, paid in [start, end]."""
    qs = subsidies(user).filter(clawed_back_on__isnull=True)  # a clawed-back one is not paid
    if start:
        qs = qs.filter(paid_on__gte=start)
    if end:
        qs = qs.filter(paid_on__lte=end)
    agg = qs.aggregate(n=Count("id"), fen=Sum("amount_fen"))
    return {"count": agg["n"] or 0, "amount_fen": int(agg["fen"] or 0)}
