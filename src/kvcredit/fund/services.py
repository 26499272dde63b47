"""Writes on the fund's books: pools, contributions, reversals, service fees, bridge loans.

Each use case takes the acting user, checks the role, runs in one transaction, writes its
entries through ``books.book`` and appends an audit record. Claims are in ``claims``, the
circuit breaker in ``breakers``. Money is integer fen; dates are arguments ("today" is computed
at the entry point).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises.models import Bank, District, Enterprise
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.fund import applied, books, config
from kvcredit.fund.domain import entries as de
from kvcredit.fund.domain import fees as dfee
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import (
    BridgeLoan,
    BridgeRepayment,
    Contribution,
    Contributor,
    EntryKind,
    FeeReduction,
    JournalEntry,
    Pool,
    ServiceFee,
)
from kvcredit.lending import services as lending
from kvcredit.money import format_yuan

TRUSTEE = OrgKind.TRUSTEE


def _district(district_id: int) -> District:
    d = District.objects.filter(pk=district_id).first()
    if d is None:
        raise NotFound(_("no such district"), field="district_id")
    return d


def _positive(amount_fen: int, field: str = "amount") -> None:
    if amount_fen <= 0:
        raise InvalidInput([(field, _("must be more than zero"))])


def short_of_funds(exc: de.InsufficientFunds) -> Conflict:
    return Conflict(
        _("the pool can spend %(available)s yuan; %(needed)s are needed")
        % {"available": format_yuan(exc.available_fen), "needed": format_yuan(exc.needed_fen)},
        field="amount",
    )


def set_pool_target(actor: Any, *, district_id: int, target_fen: int) -> Pool:
    """The size the city and the district are to pay into the district's pool."""
    require(actor, OrgKind.ADMINISTRATOR, TRUSTEE, action=gettext_noop("set a pool's target"))
    if target_fen < 0:
        raise InvalidInput([("target", _("must not be negative"))])
    with transaction.atomic():
        pool = books.pool_of(_district(district_id), lock=True)
        before = pool.target_fen
        pool.target_fen = target_fen
        pool.save(update_fields=["target_fen"])
        audit.record(
            actor,
            "FUND_POOL_TARGET",
            "pool",
            pool.pk,
            before={"target_fen": before},
            after={"target_fen": target_fen},
        )
    return pool


def record_contribution(
    actor: Any,
    *,
    district_id: int,
    contributor: str,
    amount_fen: int,
    paid_date: dt.date,
    reference: str = "",
) -> Contribution:
    """A payment by the city or the district into the district's pool."""
    require(actor, TRUSTEE, action=gettext_noop("record contributions"))
    _positive(amount_fen)
    if contributor not in Contributor.values:
        raise InvalidInput([("contributor", _("CITY or DISTRICT"))])
    horizon = clock.today() + dt.timedelta(days=settings.KVCREDIT_CONTRIBUTION_HORIZON_DAYS)
    if paid_date > horizon:
        msg = _("a contribution cannot be dated after %(day)s (KVCREDIT_CONTRIBUTION_HORIZON_DAYS)")
        raise InvalidInput([("paid_date", msg % {"day": horizon})])
    with transaction.atomic():
        pool = books.pool_of(_district(district_id), lock=True)
        entry = de.contribution(
            pool.district.code,
            de.Contributor(contributor),
            amount_fen,
            on=paid_date,
            ref=reference or "-",
        )
        row = books.book(pool, entry, kind=EntryKind.CONTRIBUTION, actor=actor)
        c = Contribution.objects.create(
            pool=pool,
            contributor=contributor,
            amount_fen=amount_fen,
            paid_date=paid_date,
            reference=reference,
            entry=row,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        audit.record(
            actor,
            "FUND_CONTRIBUTION",
            "contribution",
            c.pk,
            after={
                "pool": pool.district.code,
                "who": contributor,
                "amount_fen": amount_fen,
                "paid_date": paid_date,
                "entry": row.pk,
            },
        )
    return c


REVERSIBLE = {EntryKind.CONTRIBUTION, EntryKind.SERVICE_FEE}


def reverse_entry(actor: Any, *, entry_id: int, on: dt.date, reason: str) -> JournalEntry:
    """Correct an entry by a reversing one (entries are never edited). Contributions and
    service fees can be reversed; other events have their own use cases."""
    require(actor, TRUSTEE, action=gettext_noop("reverse journal entries"))
    if len(reason.strip()) < 5:
        raise InvalidInput([("reason", _("write why the entry is reversed"))])
    with transaction.atomic():
        original = JournalEntry.objects.filter(pk=entry_id).select_related("pool").first()
        if original is None:
            raise NotFound(_("no such journal entry"), field="entry_id")
        if original.kind not in REVERSIBLE:
            raise Conflict(_("only contributions and service fees are corrected by reversal"))
        if on < original.entry_date:
            raise InvalidInput([("on", _("a reversal cannot be dated before the entry"))])
        # the pool's lock first: a reversal made meanwhile is seen by the check after it
        pool = books.pool_of(original.pool.district, lock=True)
        if JournalEntry.objects.filter(reverses=original).exists():
            raise Conflict(_("this entry has already been reversed"))
        back = books.to_domain(original).reversal(
            entry_date=on, reference=str(original.pk), why=reason.strip()
        )
        cash_code = dl.account(pool.district.code, dl.PoolAccount.BANK)
        out = -sum(p.amount_fen for p in back.postings if p.account == cash_code)
        if out > 0:
            try:
                de.require_cover(out, books.spendable(pool, on=on))
            except de.InsufficientFunds as exc:
                raise short_of_funds(exc) from None
        row = books.book(pool, back, kind=EntryKind.REVERSAL, actor=actor, reverses=original)
        audit.record(
            actor,
            "FUND_REVERSAL",
            "journal_entry",
            row.pk,
            after={"reverses": original.pk, "reason": reason.strip(), "on": on},
        )
    return row


def add_fee_reduction(
    actor: Any,
    *,
    valid_from: dt.date,
    valid_to: dt.date | None,
    percent_off: Decimal,
    reason: str,
) -> FeeReduction:
    """A dated cut of the service fee, e.g. 20 % off in [2020-01-01, 2023-01-01)."""
    require(actor, TRUSTEE, action=gettext_noop("set service-fee reductions"))
    bp = percent_off * 100
    if not 0 < bp <= 10_000 or bp != bp.to_integral_value():
        raise InvalidInput([("percent_off", _("between 0 and 100, at most two decimals"))])
    if valid_to is not None and valid_to <= valid_from:
        raise InvalidInput([("valid_to", _("must be after valid_from"))])
    if not reason.strip():
        raise InvalidInput([("reason", _("say why fees are cut"))])
    with transaction.atomic():
        for r in FeeReduction.objects.select_for_update():
            if (r.valid_to is None or valid_from < r.valid_to) and (
                valid_to is None or r.valid_from < valid_to
            ):
                raise Conflict(
                    _("another reduction is in force in this period"), field="valid_from"
                )
        r = FeeReduction.objects.create(
            valid_from=valid_from,
            valid_to=valid_to,
            percent_off_bp=int(bp),
            reason=reason.strip(),
            created_by=actor,
            created_at=timezone.now(),
        )
        audit.record(
            actor,
            "FUND_FEE_REDUCTION",
            "fee_reduction",
            r.pk,
            after={"from": valid_from, "to": valid_to, "bp": int(bp), "reason": r.reason},
        )
    return r


def _reductions() -> list[tuple[FeeReduction, dr.FeeReduction]]:
    return [
        (r, dr.FeeReduction(r.valid_from, r.valid_to, Decimal(r.percent_off_bp) / 100, r.reason))
        for r in FeeReduction.objects.order_by("valid_from", "id")
    ]


def _charge(actor: Any, loan: Any, on: dt.date, rules: dr.FundRules) -> ServiceFee:
    """The fee at the rulebook's rate in force on ``on`` (``fund.fees.rate``): an operator's
    reduction in force applies first, else the rulebook's dated waiver or reduction covering
    ``on`` (``fund.domain.fees``). The fee records the rulebook's hash, the cut applied and its
    reason, whether it was waived, and who pays."""
    rb = applied.rules_on(on)
    trustees = next((r for r, d in _reductions() if d.covers(on)), None)
    cuts = applied.fee_cuts(rb)
    if trustees is not None:
        cuts = [
            dfee.Cut(
                trustees.valid_from,
                _last_day(trustees.valid_to),
                Decimal(trustees.percent_off_bp) / 10_000,
                trustees.reason,
            )
        ]
    fee = dfee.service_fee(
        amount_fen=loan.amount_fen,
        term_months=loan.term_months,
        charged_on=on,
        rate=rules.service_fee_rate,
        cuts=cuts,
        payer=dfee.Payer(rb.fund.fees.payer.upper()),
    )
    pool = books.pool_of(loan.district)
    row = None
    if fee.amount_fen:
        entry = de.fee(pool.district.code, fee.amount_fen, on=on, ref=f"loan {loan.pk}")
        row = books.book(pool, entry, kind=EntryKind.SERVICE_FEE, actor=actor)
    charged = ServiceFee.objects.create(
        loan=loan,
        pool=pool,
        charged_on=on,
        base_fen=loan.amount_fen,
        rate=str(fee.rate),
        reduction=trustees,
        cut="" if fee.cut is None else str(fee.cut.cut),
        cut_reason="" if fee.cut is None else fee.cut.reason[:200],
        waived=fee.waived,
        payer=fee.payer.value,
        amount_fen=fee.amount_fen,
        entry=row,
        created_by=actor,
        rulebook_hash=rules.rulebook_hash,
    )
    audit.record(
        actor,
        "FUND_SERVICE_FEE",
        "service_fee",
        charged.pk,
        after={
            "loan": loan.pk,
            "amount_fen": fee.amount_fen,
            "on": on,
            "reduction": charged.reduction_id,
            "cut": charged.cut,
            "waived": fee.waived,
            "payer": fee.payer.value,
            "rulebook": rules.rulebook_hash,
        },
    )
    return charged


def _last_day(valid_to: dt.date | None) -> dt.date:
    """The last day of a [from, to) window (an open one: far ahead)."""
    return dt.date.max if valid_to is None else valid_to - dt.timedelta(days=1)


def charge_service_fee(actor: Any, *, loan_id: int, on: dt.date) -> ServiceFee:
    """Charge a loan's service fee once, at the rate and reduction in force on ``on``."""
    require(actor, TRUSTEE, action=gettext_noop("charge service fees"))
    with transaction.atomic():
        loan = lending.loan_for_update(loan_id)
        if ServiceFee.objects.filter(loan=loan).exists():
            raise Conflict(_("this loan's service fee has already been charged"), field="loan_id")
        if loan.disbursed_on > on:
            raise InvalidInput([("on", _("the loan is not disbursed yet on this date"))])
        return _charge(actor, loan, on, config.rules(on))


def charge_service_fees(actor: Any, *, on: dt.date) -> list[ServiceFee]:
    """Charge every loan disbursed on or before ``on`` that has no fee yet."""
    require(actor, TRUSTEE, action=gettext_noop("charge service fees"))
    rules = config.rules(on)
    with transaction.atomic():
        # lock the loans only: PostgreSQL cannot lock the nullable side of the fee's outer join
        locked = list(lending.lock_loans(disbursed_on__lte=on, fund_fee__isnull=True))
        # a concurrent run may have charged some while this one waited for their locks: the
        # lock does not re-check the fee's outer join, this fresh query does
        charged = set(ServiceFee.objects.filter(loan__in=locked).values_list("loan_id", flat=True))
        return [_charge(actor, loan, on, rules) for loan in locked if loan.pk not in charged]


def lend_bridge(
    actor: Any,
    *,
    enterprise_id: int,
    principal_fen: int,
    term_days: int,
    on: dt.date,
    bank_id: int | None = None,
    purpose: str = "",
) -> BridgeLoan:
    """An emergency bridge loan from the enterprise's district pool."""
    require(actor, TRUSTEE, action=gettext_noop("make bridge loans"))
    _positive(principal_fen, "principal")
    if not 1 <= term_days <= 366:
        raise InvalidInput([("term_days", _("between 1 and 366 days"))])
    ent = Enterprise.objects.filter(pk=enterprise_id).select_related("district").first()
    if ent is None:
        raise NotFound(_("no such enterprise"), field="enterprise_id")
    if bank_id is not None and not Bank.objects.filter(pk=bank_id).exists():
        raise NotFound(_("no such bank"), field="bank_id")
    rules = config.rules(on)
    if term_days > rules.bridge_max_days:
        msg = _("the rulebook allows bridge loans of at most %(n)s days") % {
            "n": rules.bridge_max_days
        }
        raise InvalidInput([("term_days", msg)])
    if rules.bridge_max_amount_fen is not None and principal_fen > rules.bridge_max_amount_fen:
        msg = _("the rulebook allows bridge loans of at most %(yuan)s yuan") % {
            "yuan": format_yuan(rules.bridge_max_amount_fen)
        }
        raise InvalidInput([("principal", msg)])
    fee_fen = dr.bridge_fee(principal_fen=principal_fen, term_days=term_days, rules=rules)
    with transaction.atomic():
        pool = books.pool_of(ent.district, lock=True)
        try:
            entry = de.bridge_loan_out(
                pool.district.code,
                principal_fen,
                on=on,
                ref=ent.uscc,
                cash_fen=books.spendable(pool, on=on),
            )
        except de.InsufficientFunds as exc:
            raise short_of_funds(exc) from None
        row = books.book(pool, entry, kind=EntryKind.BRIDGE_LOAN, actor=actor)
        b = BridgeLoan.objects.create(
            pool=pool,
            enterprise=ent,
            bank_id=bank_id,
            purpose=purpose,
            principal_fen=principal_fen,
            fee_fen=fee_fen,
            term_days=term_days,
            lent_on=on,
            due_on=on + dt.timedelta(days=term_days),
            entry=row,
            created_by=actor,
            rulebook_hash=rules.rulebook_hash,
        )
        audit.record(
            actor,
            "FUND_BRIDGE_LOAN",
            "bridge_loan",
            b.pk,
            after={
                "enterprise": ent.pk,
                "principal_fen": principal_fen,
                "fee_fen": fee_fen,
                "term_days": term_days,
                "on": on,
            },
        )
    return b


def repay_bridge(actor: Any, *, bridge_id: int, amount_fen: int, on: dt.date) -> BridgeRepayment:
    """A repayment into the pool: the fee first, then principal."""
    require(actor, TRUSTEE, action=gettext_noop("record bridge-loan repayments"))
    _positive(amount_fen)
    with transaction.atomic():
        b = BridgeLoan.objects.select_for_update().filter(pk=bridge_id).first()
        if b is None:
            raise NotFound(_("no such bridge loan"), field="bridge_id")
        if on < b.lent_on:
            raise InvalidInput([("on", _("before the bridge loan was made"))])
        try:
            fee_part, principal_part = dr.bridge_repayment_split(
                amount_fen=amount_fen,
                fee_due_fen=b.fee_due_fen,
                principal_due_fen=b.outstanding_fen,
            )
        except ValueError:
            # the pure split refuses a repayment above what is owed (a positive amount is
            # checked above); its text is English only, so the refusal is named here
            raise InvalidInput(
                [("amount", _("the repayment is more than the bridge loan owes"))]
            ) from None
        pool = books.pool_of(b.pool.district, lock=True)
        entry = de.bridge_loan_repaid(
            pool.district.code, principal_part, fee_part, on=on, ref=f"bridge {b.pk}"
        )
        row = books.book(pool, entry, kind=EntryKind.BRIDGE_REPAYMENT, actor=actor)
        b.repaid_fee_fen += fee_part
        b.repaid_principal_fen += principal_part
        b.save(update_fields=["repaid_fee_fen", "repaid_principal_fen"])
        rep = BridgeRepayment.objects.create(
            bridge=b,
            amount_fen=amount_fen,
            fee_part_fen=fee_part,
            principal_part_fen=principal_part,
            repaid_on=on,
            entry=row,
            recorded_by=actor,
        )
        audit.record(
            actor,
            "FUND_BRIDGE_REPAYMENT",
            "bridge_loan",
            b.pk,
            after={
                "amount_fen": amount_fen,
                "fee": fee_part,
                "principal": principal_part,
                "on": on,
            },
        )
    return rep
