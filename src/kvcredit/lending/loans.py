"""Applications and loans: apply, approve, reject, withdraw, disburse, renew.

The credit line is the enterprise's one limit shared by all banks. An application holds its
requested amount in ``reserved_fen`` from the moment it is submitted (so two applications in
flight can never together exceed the limit: both lock the credit line row), approval keeps the
approved amount and releases the rest, disbursement moves it to ``used_fen``, and rejection,
withdrawal or expiry release it. Repaid principal returns to the available limit.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import connection, transaction
from django.db.models import Max, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises import selectors as ent_selectors
from kvcredit.enterprises import services as credit
from kvcredit.enterprises.models import Bank, BankAdmission, Enterprise
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.lending import dates, selectors
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.domain.aging import penalty_rate_units
from kvcredit.lending.domain.rates import (
    RateBasis,
    RateNotFound,
    RatePoint,
    RateTable,
    benchmark_type_for_term,
    loan_rate,
    percent_to_units,
    ppm_to_percent,
    units_to_percent,
)
from kvcredit.lending.domain.schedule import MAX_PRINCIPAL_FEN, build_schedule
from kvcredit.lending.domain.schedule import Method as DMethod
from kvcredit.lending.models import (
    Application,
    ApplicationStatus,
    BankSuspension,
    EodRun,
    Instalment,
    Loan,
    LoanStatus,
    Product,
    Rate,
)
from kvcredit.money import fen_to_yuan
from kvcredit.roles import Role
from kvcredit.rulebook.domain import RateBound, Rulebook
from kvcredit.rulebook.services import rules_on
from kvcredit.statemachine import Machine, StepRefused

S = ApplicationStatus
HOLDING = lc.HOLDING  # states that hold a reservation

_THINGS = {"application": gettext_noop("application"), "loan": gettext_noop("loan")}


def take_step(
    machine: Machine[Any],
    status: str | None,
    step: str,
    role: str,
    *,
    why: str,
    field: str = "status",
    target: str | None = None,
) -> str:
    """The status after ``step`` by ``role`` from ``status`` (the lifecycle table's answer),
    or a translated Conflict: ``why``, naming the current status in words."""
    try:
        return machine.step(status, step, role, target=target).value
    except StepRefused:
        label = machine.labels[machine.states(status)] if status else ""
        msg = _("%(why)s (the %(thing)s is %(status)s)") % {
            "why": why,
            "thing": _(_THINGS.get(machine.name, machine.name)),
            "status": _(label),
        }
        raise Conflict(msg, field=field) from None


def _now(now: dt.datetime | None) -> dt.datetime:
    return now or timezone.now()


def last_eod_date() -> dt.date | None:
    """The last day the end of day has aged the book to (None before the first run)."""
    return EodRun.objects.aggregate(d=Max("run_date"))["d"]


def require_open_day(day: dt.date, field: str) -> None:
    """Refuse a value date the end of day has already closed."""
    last = last_eod_date()
    if last is not None and day <= last:
        msg = _("the end of day for %(day)s has run; use a later date") % {"day": last}
        raise InvalidInput([(field, msg)])


def wait_for_end_of_day() -> None:
    """First thing in a transaction that creates a loan: on PostgreSQL, wait for a running end
    of day to commit (it holds the loan table, ``endofday.hold_the_book``) before taking any
    lock. The loan's INSERT would wait for it anyway, but only after the application and credit
    line are locked, which the end of day locks too when approvals lapse: a deadlock. ROW
    EXCLUSIVE is the lock the INSERT takes; it does not hold off other postings."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cur:
            cur.execute("LOCK TABLE lending_loan IN ROW EXCLUSIVE MODE")


def suspended(bank: Bank, district_id: int, on: dt.date) -> bool:
    return (
        BankSuspension.objects.filter(bank=bank, district_id=district_id, from_date__lte=on)
        .filter(Q(to_date__isnull=True) | Q(to_date__gt=on))
        .exists()
    )


def _app_state(app: Application) -> dict[str, Any]:
    return {
        "status": app.status,
        "amount_fen": app.amount_fen,
        "approved_amount_fen": app.approved_amount_fen,
        "reserved_fen": app.reserved_fen,
        "reject_reason": app.reject_reason,
    }


def apply(
    actor: User,
    *,
    bank_id: int,
    product_id: int,
    amount_fen: int,
    term_months: int,
    method: str,
    purpose: str,
    first_time_borrower: bool,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Application:
    """An enterprise applies to a bank; the request is reserved on its credit line."""
    require(actor, OrgKind.ENTERPRISE, action=gettext_noop("apply for loans"))
    now = _now(now)
    ent = Enterprise.objects.filter(organisation_id=actor.organisation_id).first()
    if ent is None:
        raise NotFound(_("no enterprise for this user"))
    product = Product.objects.filter(pk=product_id, active=True).first()
    if product is None:
        raise NotFound(_("no such product"), field="product_id")
    bank = Bank.objects.filter(pk=bank_id).first()
    if bank is None:
        raise NotFound(_("no such bank"), field="bank_id")
    _check_terms(product, amount_fen, term_months, method)
    check_loan_rules(rules_on(today), amount_fen=amount_fen, term_months=term_months)
    if not BankAdmission.objects.filter(bank=bank, district_id=ent.district_id).exists():
        raise InvalidInput([("bank_id", _("this bank is not admitted in your district"))])
    if suspended(bank, ent.district_id, today):
        raise Conflict(_("this bank takes no new applications in your district"), field="bank_id")
    with transaction.atomic():
        status = take_step(lc.APPLICATION, None, "apply", Role.ENTERPRISE, why="")
        credit.reserve_credit(
            actor, enterprise_id=ent.pk, amount_fen=amount_fen, today=today, now=now
        )
        app = Application.objects.create(
            enterprise=ent,
            bank=bank,
            product=product,
            amount_fen=amount_fen,
            term_months=term_months,
            method=method,
            purpose=purpose,
            first_time_borrower=first_time_borrower,
            status=status,
            reserved_fen=amount_fen,
            submitted_at=now,
        )
        audit.record(actor, "LOAN_APPLY", "application", app.pk, after=_app_state(app), now=now)
    return app


def _check_terms(product: Product, amount_fen: int, term_months: int, method: str) -> None:
    problems = []
    if not 0 < amount_fen <= MAX_PRINCIPAL_FEN:
        problems.append(("amount", _("the amount must be positive and at most 100,000,000 yuan")))
    if not 1 <= term_months <= product.max_term_months:
        msg = _("the term must be 1 to %(n)s months") % {"n": product.max_term_months}
        problems.append(("term_months", msg))
    if method not in product.methods:
        problems.append(("method", _("this product does not offer this repayment method")))
    if problems:
        raise InvalidInput(problems)


def check_loan_rules(rb: Rulebook, *, amount_fen: int, term_months: int) -> None:
    """The rulebook's loan rules on the amount and the term (``loan.max_amount_yuan``,
    ``loan.max_term_months``); a refusal names the field and the rule."""
    rules, problems = rb.loan, []
    if rules.max_amount_fen is not None and amount_fen > rules.max_amount_fen:
        msg = _("the rulebook %(rb)s allows loans of at most %(yuan)s yuan (loan.max_amount_yuan)")
        problems.append(("amount", msg % {"rb": rb.id, "yuan": fen_to_yuan(rules.max_amount_fen)}))
    if term_months > rules.max_term_months:
        msg = _("the rulebook %(rb)s allows terms of at most %(n)s months (loan.max_term_months)")
        problems.append(("term_months", msg % {"rb": rb.id, "n": rules.max_term_months}))
    if problems:
        raise InvalidInput(problems)


def _locked_app(actor: User, application_id: int, *kinds: OrgKind, action: str) -> Application:
    require(actor, *kinds, action=action)
    visible = selectors.applications(actor).filter(pk=application_id)
    if not visible.exists():
        raise NotFound(_("no such application"), field="application_id")
    return Application.objects.select_for_update().select_related("product").get(pk=application_id)


def _release(actor: User, app: Application, keep: int, now: dt.datetime) -> None:
    """Free what ``app`` holds on its credit line beyond ``keep`` (refused below zero)."""
    credit.release_credit(
        actor, enterprise_id=app.enterprise_id, amount_fen=app.reserved_fen - keep, now=now
    )
    app.reserved_fen = keep


def approve(
    actor: User,
    *,
    application_id: int,
    amount_fen: int,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Application:
    """The bank approves an amount up to the request; the rest of the reservation is freed."""
    now = _now(now)
    with transaction.atomic():
        app = _locked_app(
            actor, application_id, OrgKind.BANK, action=gettext_noop("approve applications")
        )
        status = take_step(
            lc.APPLICATION,
            app.status,
            "approve",
            Role.BANK,
            why=_("only a submitted application can be approved"),
        )
        if not 0 < amount_fen <= app.amount_fen:
            raise InvalidInput([("amount", _("the approved amount must be 1 fen to the request"))])
        before = _app_state(app)
        _release(actor, app, amount_fen, now)
        app.status = status
        app.approved_amount_fen = amount_fen
        app.decided_at = now
        app.approved_on = today
        app.expires_on = today + dt.timedelta(days=app.product.approval_valid_days)
        app.save()
        audit.record(
            actor, "LOAN_APPROVE", "application", app.pk, before=before, after=_app_state(app)
        )
    return app


def reject(
    actor: User, *, application_id: int, reason: str, now: dt.datetime | None = None
) -> Application:
    """The bank rejects a submitted or approved application, with a reason; releases it."""
    return _end(actor, application_id, "reject", reason, OrgKind.BANK, _now(now))


def withdraw(actor: User, *, application_id: int, now: dt.datetime | None = None) -> Application:
    """The enterprise withdraws its application before disbursement; releases it."""
    return _end(actor, application_id, "withdraw", "", OrgKind.ENTERPRISE, _now(now))


def _end(
    actor: User, application_id: int, step: str, reason: str, kind: OrgKind, now: dt.datetime
) -> Application:
    if step == "reject" and not reason.strip():
        raise InvalidInput([("reason", _("a rejection needs a reason"))])
    with transaction.atomic():
        app = _locked_app(actor, application_id, kind, action=gettext_noop("end applications"))
        status = take_step(
            lc.APPLICATION, app.status, step, kind, why=_("this application is no longer open")
        )
        before = _app_state(app)
        _release(actor, app, 0, now)
        app.status = status
        app.reject_reason = reason
        app.decided_at = now
        app.save()
        action = "LOAN_REJECT" if status == S.REJECTED else "LOAN_WITHDRAW"
        audit.record(actor, action, "application", app.pk, before=before, after=_app_state(app))
    return app


def expire_approvals(actor: User, *, on: dt.date, now: dt.datetime | None = None) -> int:
    """Approvals not disbursed by their expiry date lapse and release their reservation."""
    now = _now(now)
    n = 0
    ids = Application.objects.filter(
        status__in=lc.APPLICATION.sources("expire"), expires_on__lte=on
    ).values_list("id", flat=True)
    for app_id in list(ids):
        app = Application.objects.select_for_update().get(pk=app_id)
        if not lc.APPLICATION.may(app.status, "expire", Role.SYSTEM):
            continue  # ended (withdrawn, rejected, disbursed) since the list was read
        before = _app_state(app)
        _release(actor, app, 0, now)
        app.status = lc.APPLICATION.step(app.status, "expire", Role.SYSTEM).value
        app.save()
        audit.record(
            actor, "LOAN_EXPIRE", "application", app.pk, before=before, after=_app_state(app)
        )
        n += 1
    return n


def _basis_rate(basis: RateBasis, term_months: int, signing_date: dt.date) -> tuple[str, Decimal]:
    """(rate type, annual percent) of the basis rate in force on the signing date."""
    rate_type = (
        benchmark_type_for_term(term_months) if basis is RateBasis.PBOC_BENCHMARK else "LPR_1Y"
    )
    points = [
        RatePoint(r.rate_type, r.effective_date, ppm_to_percent(r.annual_rate_ppm))
        for r in Rate.objects.filter(rate_type=rate_type)
    ]
    try:
        pct = loan_rate(
            RateTable(points),
            basis=basis,
            spread_bp=0,
            term_months=term_months,
            signing_date=signing_date,
        )
    except RateNotFound:
        msg = _("no %(type)s rate is in force on %(day)s") % {
            "type": rate_type,
            "day": signing_date,
        }
        raise InvalidInput([("signing_date", msg)]) from None
    return rate_type, pct


def rate_for(product: Product, term_months: int, signing_date: dt.date) -> tuple[str, int]:
    """(rate type, annual rate in 1e-8 units) of a loan signed on ``signing_date``."""
    rate_type, base = _basis_rate(RateBasis(product.rate_basis), term_months, signing_date)
    pct = base + Decimal(product.spread_bp) / 100
    if pct < 0:
        raise InvalidInput([("signing_date", _("the spread makes the rate negative"))])
    return rate_type, percent_to_units(pct)


_BASES = {"pboc_benchmark": RateBasis.PBOC_BENCHMARK, "lpr_1y": RateBasis.LPR_1Y}


def rate_bound_percent(bound: RateBound, term_months: int, signing_date: dt.date) -> Decimal:
    """A rulebook rate bound on the signing date: basis x multiple + spread, in percent."""
    _type, base = _basis_rate(_BASES[bound.basis], term_months, signing_date)
    return base * bound.multiple + Decimal(bound.spread_bp) / 100


def check_rate(rb: Rulebook, units: int, term_months: int, signing_date: dt.date) -> None:
    """The rulebook's rate ceiling and floor (``loan.ceiling``, ``loan.floor``) on a loan's
    rate; a refusal names the rate, the bound and the rule."""
    pct = units_to_percent(units)
    for key, bound, bad in (
        ("loan.ceiling", rb.loan.ceiling, lambda limit: pct > limit),
        ("loan.floor", rb.loan.floor, lambda limit: pct < limit),
    ):
        if bound is None:
            continue
        limit = rate_bound_percent(bound, term_months, signing_date)
        if bad(limit):
            msg = _(
                "the rate %(rate)s%% is outside the rulebook %(rb)s's bound of %(limit)s%% "
                "on %(day)s (%(key)s)"
            ) % {
                "rate": pct,
                "rb": rb.id,
                "limit": limit.normalize(),
                "day": signing_date,
                "key": key,
            }
            raise InvalidInput([("rate", msg)])


def _create_loan(
    *,
    enterprise: Enterprise,
    bank: Bank,
    product: Product,
    amount_fen: int,
    term_months: int,
    method: str,
    signing_date: dt.date,
    disbursed_on: dt.date,
    first_time_borrower: bool,
    now: dt.datetime,
    application: Application | None = None,
    renewal_of: Loan | None = None,
    status: str = LoanStatus.ACTIVE,
) -> Loan:
    rb = rules_on(signing_date)
    check_loan_rules(rb, amount_fen=amount_fen, term_months=term_months)
    rate_type, units = rate_for(product, term_months, signing_date)
    check_rate(rb, units, term_months, signing_date)
    # the programme's grace and penalty uplift bound the product's (at most the rulebook's)
    grace_days = min(product.grace_days, rb.loan.grace_days)
    uplift = min(product.penalty_uplift_percent, int(rb.loan.penalty_uplift * 100))
    rows = build_schedule(
        principal_fen=amount_fen,
        annual_rate_percent=Decimal(units) / 10**6,
        start=disbursed_on,
        term_months=term_months,
        method=DMethod(method),
    )
    loan = Loan.objects.create(
        application=application,
        renewal_of=renewal_of,
        enterprise=enterprise,
        bank=bank,
        district_id=enterprise.district_id,
        product=product,
        amount_fen=amount_fen,
        term_months=term_months,
        method=method,
        signing_date=signing_date,
        disbursed_on=disbursed_on,
        maturity_date=rows[-1].due_date,
        rate_type=rate_type,
        rate_units=units,
        penalty_rate_units=penalty_rate_units(units, uplift),
        grace_days=grace_days,
        rulebook_hash=rb.content_hash,
        first_time_borrower=first_time_borrower,
        instalment_count=len(rows),
        status=status,
        outstanding_principal_fen=amount_fen,
        next_due_date=rows[0].due_date,
        next_principal_fen=rows[0].principal_fen,
        last_eod_date=disbursed_on - dt.timedelta(days=1),
        created_at=now,
    )
    Instalment.objects.bulk_create(
        Instalment(
            loan=loan,
            seq=r.seq,
            due_date=r.due_date,
            principal_fen=r.principal_fen,
            interest_fen=r.interest_fen,
        )
        for r in rows
    )
    return loan


def loan_state(loan: Loan) -> dict[str, Any]:
    return {
        "status": loan.status,
        "amount_fen": loan.amount_fen,
        "rate_units": loan.rate_units,
        "outstanding_principal_fen": loan.outstanding_principal_fen,
        "due_principal_fen": loan.due_principal_fen,
        "due_interest_fen": loan.due_interest_fen,
        "penalty_fen": loan.penalty_fen,
    }


def disburse(
    actor: User,
    *,
    application_id: int,
    disbursed_on: dt.date,
    today: dt.date,
    signing_date: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Loan:
    """The bank disburses an approved application: the loan, its rate and its schedule."""
    now = _now(now)
    signing_date = signing_date or disbursed_on
    if disbursed_on > today:
        raise InvalidInput([("disbursed_on", _("a disbursement cannot be dated in the future"))])
    require_open_day(disbursed_on, "disbursed_on")
    with transaction.atomic():
        wait_for_end_of_day()
        app = _locked_app(
            actor, application_id, OrgKind.BANK, action=gettext_noop("disburse loans")
        )
        require_open_day(disbursed_on, "disbursed_on")  # again: a day run while we waited
        app_status = take_step(
            lc.APPLICATION,
            app.status,
            "disburse",
            Role.BANK,
            why=_("only an approved application can be disbursed"),
        )
        loan_status = take_step(lc.LOAN, None, "disburse", Role.BANK, why="")
        dates.check_disbursement(
            approved_on=app.approved_on,
            signing_date=signing_date,
            disbursed_on=disbursed_on,
            today=today,
            district=app.enterprise.district,
        )
        if app.expires_on is not None and disbursed_on >= app.expires_on:
            raise Conflict(_("the approval has expired"), field="disbursed_on")
        amount = app.approved_amount_fen or app.amount_fen
        credit.consume_credit(
            actor,
            enterprise_id=app.enterprise_id,
            amount_fen=amount,
            held_fen=app.reserved_fen,
            now=now,
            audit_as="CREDIT_USE",
        )
        app.reserved_fen = 0
        loan = _create_loan(
            enterprise=app.enterprise,
            bank=app.bank,
            product=app.product,
            amount_fen=amount,
            term_months=app.term_months,
            method=app.method,
            signing_date=signing_date,
            disbursed_on=disbursed_on,
            first_time_borrower=app.first_time_borrower,
            now=now,
            application=app,
            status=loan_status,
        )
        app.status = app_status
        app.save()
        audit.record(actor, "LOAN_DISBURSE", "loan", loan.pk, after=loan_state(loan), now=now)
    return loan


def renew(actor: User, *, loan_id: int, today: dt.date, now: dt.datetime | None = None) -> Loan:
    """续贷: at maturity, roll a loan's principal into a new loan of the same product and term,
    if the enterprise still holds a valid evaluation and owes no interest or penalty."""
    from kvcredit.lending.repayments import accrued_fen, record_renewal_payoff

    require(actor, OrgKind.BANK, action=gettext_noop("renew loans"))
    now = _now(now)
    require_open_day(today, "today")
    with transaction.atomic():
        if not selectors.loans(actor).filter(pk=loan_id).exists():
            raise NotFound(_("no such loan"), field="loan_id")
        old = (
            Loan.objects.select_for_update().select_related("product", "enterprise").get(pk=loan_id)
        )
        require_open_day(today, "today")  # again: the lock waits for a running end of day
        why = _("only an active loan at maturity can be renewed")
        old_status = take_step(lc.LOAN, old.status, "renew", Role.BANK, why=why, field="loan_id")
        new_status = take_step(lc.LOAN, None, "renew", Role.BANK, why=why, field="loan_id")
        if not (old.matured or old.maturity_date <= today):
            raise Conflict(why, field="loan_id")
        if old.penalty_fen or old.due_interest_fen or accrued_fen(old):
            raise Conflict(_("repay the interest and penalty before renewing"), field="loan_id")
        line = credit.lock_credit_line(old.enterprise_id)
        ev = (
            ent_selectors.credit_lines(actor)
            .filter(pk=line.pk)
            .values_list("evaluation__eligible", flat=True)
            .first()
        )
        if not ev or line.valid_until is None or line.valid_until <= today or line.limit_fen <= 0:
            raise Conflict(_("the enterprise holds no valid evaluation"), field="loan_id")
        if suspended(old.bank, old.district_id, today):
            raise Conflict(_("this bank takes no new loans in this district"), field="loan_id")
        _check_renewal(rules_on(today), old)
        amount = old.outstanding_principal_fen
        if amount <= 0 or amount > line.limit_fen:
            raise Conflict(_("the amount to renew does not fit the limit"), field="loan_id")
        record_renewal_payoff(actor, old, today=today, now=now)
        new = _create_loan(
            enterprise=old.enterprise,
            bank=old.bank,
            product=old.product,
            amount_fen=amount,
            term_months=old.term_months,
            method=old.method,
            signing_date=today,
            disbursed_on=today,
            first_time_borrower=False,
            now=now,
            renewal_of=old,
            status=new_status,
        )
        old.status = old_status
        old.closed_on = today
        old.save(update_fields=["status", "closed_on"])
        audit.record(
            actor, "LOAN_RENEW", "loan", new.pk, after=loan_state(new) | {"renewal_of": old.pk}
        )
    return new


def _check_renewal(rb: Rulebook, old: Loan) -> None:
    """The rulebook's renewal conditions (``loan.renewal``)."""
    r = rb.loan.renewal
    if not r.allowed:
        msg = _("the rulebook %(rb)s allows no renewals (loan.renewal.allowed)")
        raise Conflict(msg % {"rb": rb.id}, field="loan_id")
    if r.requires_no_overdue and old.days_past_due > 0:
        msg = _("the rulebook %(rb)s renews only a loan not overdue (loan.renewal)")
        raise Conflict(msg % {"rb": rb.id}, field="loan_id")
    if r.max_renewals is not None:
        n, loan = 0, old
        while loan.renewal_of_id is not None:
            n += 1
            loan = Loan.objects.only("id", "renewal_of_id").get(pk=loan.renewal_of_id)
        if n >= r.max_renewals:
            msg = _("the rulebook %(rb)s allows at most %(n)s renewals (loan.renewal)")
            raise Conflict(msg % {"rb": rb.id, "n": r.max_renewals}, field="loan_id")


# -- the fund's marks on a loan: lending writes them, the fund asks ----------------------------


def loan_for_update(loan_id: int) -> Loan:
    """A loan locked for the caller's transaction (the fund's claim steps), or NotFound."""
    loan = Loan.objects.select_for_update().filter(pk=loan_id).first()
    if loan is None:
        raise NotFound(_("no such loan"), field="loan_id")
    return loan


def mark_compensated(
    actor: User, *, loan_id: int, on: dt.date, claim_id: int | None = None
) -> Loan:
    """The fund has paid a claim on the loan: it is COMPENSATED (it stays on the bank's book and
    keeps ageing). Only a loan the table lets the fund compensate (ACTIVE) is marked; a loan
    repaid and closed, renewed, written off or already compensated is refused (Conflict), so
    the claim's payment is refused with it. Audited (LOAN_COMPENSATE)."""
    loan = loan_for_update(loan_id)
    status = take_step(
        lc.LOAN,
        loan.status,
        "compensate",
        Role.TRUSTEE,
        why=_("only an active loan can be compensated"),
        field="loan_id",
    )
    before = loan.status
    loan.status = status
    loan.save(update_fields=["status"])
    audit.record(
        actor,
        "LOAN_COMPENSATE",
        "loan",
        loan.pk,
        before={"status": before},
        after={"status": loan.status, "on": on, "claim_id": claim_id},
    )
    return loan


def write_off(
    actor: User, *, loan_id: int, on: dt.date, claim_id: int | None = None, reason: str = ""
) -> str:
    """The bank writes the loan off (核销) as the fund's claim on it ends, closed after recovery
    or written off: the loan leaves the bank's live book (WRITTEN_OFF, ``closed_on`` = ``on``),
    so the end of day no longer ages it and no exposure counts its outstanding principal. Its
    figures stay as they stood, the record of what was written off.

    Only a loan the table lets the fund write off (ACTIVE or COMPENSATED) is written off; a
    loan that has already left the book (CLOSED as fully repaid, RENEWED, WRITTEN_OFF) stays as
    it is: the claim still ends. Returns the loan's status afterwards. Audited
    (LOAN_WRITE_OFF)."""
    loan = loan_for_update(loan_id)
    if not lc.LOAN.may(loan.status, "write_off", Role.TRUSTEE):
        return str(loan.status)
    before = loan.status
    loan.status = lc.LOAN.step(loan.status, "write_off", Role.TRUSTEE).value
    loan.closed_on = on
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


def lock_loans(**filters: Any) -> QuerySet[Loan]:
    """The loans matching ``filters``, each locked (only the loan rows) for the caller's
    transaction, ordered by id (the fund's service fees)."""
    return (
        Loan.objects.select_for_update(of=("self",))
        .filter(**filters)
        .select_related("district")
        .order_by("id")
    )
