"""A bank's compensation claim, from registration to closing: the services that run the claim
lifecycle (``fund.domain.claim``: its states, its transition table and what each step
requires). Each step is applied through ``CLAIM.step``, which refuses a step the table does not
allow from the claim's state (409, naming the states) or for the role; ``unmet`` says what else a
step requires of its loan and its actor, translated here.

Ending a claim (closed or written off) takes the loan off the bank's live book: the loan is
written off (WRITTEN_OFF) in the same transaction, unless it was already repaid (CLOSED).

The bank registers and files; the trustee checks and pays with maker-checker: the user who
approves the payment is not the one who checked it (refused here and by a database check).
Paying re-checks, under the loan's lock, that the loan is still live, not compensated and overdue
as the rules require, and pays the share of its overdue principal then (never more than filed):
a loan repaid or closed since the claim was checked is not paid, and compensation never reopens
a closed loan. A loan is compensated at most once: one claim per loan that is not rejected (a
unique constraint), and the loan row is locked while a claim on it is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of, not_permitted, require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.fund import books, breakers, config, lending_port, selectors
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import entries as de
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import Claim, ClaimEvent, ClaimStatus, EntryKind, Recovery
from kvcredit.lending.domain.lifecycle import LOAN_LABELS, LoanStatus
from kvcredit.statemachine import StepRefused

S = ClaimStatus
Step = dc.Step


def _claim(claim_id: int, *, bank_org: int | None = None) -> Claim:
    qs = Claim.objects.select_for_update().filter(pk=claim_id)
    if bank_org is not None:
        qs = qs.filter(bank__organisation_id=bank_org)
    c = qs.first()
    if c is None:
        raise NotFound(_("no such claim"), field="claim_id")
    return c


def _move(actor: Any, c: Claim, to: str, on: dt.date, note: str = "", **after: Any) -> None:
    before = c.status
    c.status = to
    c.save()
    ClaimEvent.objects.create(
        claim=c,
        from_status=before,
        to_status=to,
        on_date=on,
        note=note[:500],
        actor=actor,
        at=timezone.now(),
    )
    audit.record(
        actor,
        f"FUND_CLAIM_{to}",
        "claim",
        c.pk,
        before={"status": before},
        after={"status": to, "on": on, **after},
    )


def _take(
    actor: Any,
    status: str | None,
    step: dc.Step,
    action: str,
    target: dc.ClaimStatus | None = None,
) -> dc.ClaimStatus:
    """The claim's state after ``step`` by the actor, as the lifecycle table says (``target``
    chooses where a step has several, as paying a stage does); a step the table does not allow
    from ``status`` is refused naming the states it needs."""
    try:
        return dc.CLAIM.step(status, step, kind_of(actor) or "", target=target)
    except (StepRefused, ValueError) as exc:
        if not isinstance(exc, StepRefused) or exc.reason == "role":
            raise not_permitted(action) from None
    labels = [str(S(s).label) for s in dc.CLAIM.sources(step)]
    needed = labels[0]
    for more in labels[1:]:
        needed = _("%(first)s or %(second)s") % {"first": needed, "second": more}
    raise Conflict(
        _("the claim is %(status)s; this step needs %(needed)s")
        % {"status": S(status).label, "needed": needed}
    )


def unmet_reason(why: dc.Unmet, facts: dc.ClaimFacts) -> str:
    """What a step needs and the claim or its loan lacks, in the active language (the pure
    lifecycle names the rule; the words are here)."""
    if why is dc.Unmet.LOAN_NOT_CLAIMABLE:
        return _(
            "the loan is %(status)s; the fund compensates only a loan still on the bank's "
            "book and not compensated yet"
        ) % {"status": _(LOAN_LABELS[LoanStatus(facts.loan_status)])}
    if why is dc.Unmet.LOAN_NOT_OVERDUE:
        return _("the loan is not overdue")
    if why is dc.Unmet.TOO_FEW_DAYS:
        return _("the loan is %(days)s days overdue; a claim needs %(needed)s") % {
            "days": facts.days_past_due,
            "needed": max(facts.min_days_overdue, 1),
        }
    if why is dc.Unmet.NO_OVERDUE_PRINCIPAL:
        return _("the loan has no overdue principal")
    return _("the user who checked a claim may not approve it (maker-checker)")


def _not_suspended(bank_id: int, district_id: int) -> None:
    if breakers.is_suspended(bank_id=bank_id, district_id=district_id):
        raise Conflict(
            _(
                "the bank is suspended in this district (circuit breaker); "
                "it files no new claims until the trustee lifts the suspension"
            )
        )


def register(actor: Any, *, loan_id: int, on: dt.date) -> Claim:
    """The bank reports an overdue loan; the claim is registered. The loan must be claimable
    (``lending.domain.lifecycle.claimable``: live, not compensated, overdue) and held by no
    other claim (``fund.domain.claim.holds_loan``)."""
    action = gettext_noop("register compensation claims")
    require(actor, OrgKind.BANK, action=action)
    try:
        with transaction.atomic():
            loan = lending_port.loan_for_update(loan_id)
            if loan.bank.organisation_id != actor.organisation_id:
                raise NotFound(_("no such loan"), field="loan_id")
            _not_suspended(loan.bank_id, loan.district_id)
            to = _take(actor, None, Step.REGISTER, action)
            if Claim.objects.filter(loan=loan, status__in=dc.HOLDING).exists():
                raise IntegrityError("claim_one_per_loan")
            facts = selectors.claim_facts(actor, None, loan)
            why = dc.unmet(Step.REGISTER, facts)
            if why is not None:
                raise InvalidInput([("loan_id", unmet_reason(why, facts))])
            if on < loan.disbursed_on:
                msg = _("a claim cannot be dated before the loan's disbursement on %(day)s")
                raise InvalidInput([("on", msg % {"day": loan.disbursed_on})])
            c = Claim.objects.create(
                loan=loan,
                bank=loan.bank,
                pool=books.pool_of(loan.district),
                status=to,
                registered_on=on,
                registered_by=actor,
            )
            c.status = ""
            _move(actor, c, to, on, loan=loan.pk, days_past_due=loan.days_past_due)
            return c
    except IntegrityError:
        raise Conflict(_("this loan already has a claim"), field="loan_id") from None


def file(actor: Any, *, claim_id: int, on: dt.date) -> Claim:
    """The bank files the claim: the fund's share of the overdue principal, fixed now. The
    loan must still be live, not compensated, and overdue by the rules."""
    action = gettext_noop("file compensation claims")
    require(actor, OrgKind.BANK, action=action)
    with transaction.atomic():
        c = _claim(claim_id, bank_org=actor.organisation_id)
        to = _take(actor, c.status, Step.FILE, action)
        loan = lending_port.loan_for_update(c.loan_id)
        _not_suspended(c.bank_id, loan.district_id)
        rules = config.rules()
        facts = selectors.claim_facts(actor, c, loan)
        why = dc.unmet(Step.FILE, facts)
        if why is not None:
            raise InvalidInput([("claim_id", unmet_reason(why, facts))])
        amount = dr.claim_amount(
            overdue_principal_fen=loan.due_principal_fen,
            days_overdue=loan.days_past_due,
            rules=rules,
        )
        c.filed_on = on
        c.days_overdue = loan.days_past_due
        c.overdue_principal_fen = loan.due_principal_fen
        c.amount_fen = c.filed_amount_fen = amount
        _move(actor, c, to, on, amount_fen=amount, overdue_fen=loan.due_principal_fen)
    return c


def check(actor: Any, *, claim_id: int, on: dt.date, note: str = "") -> Claim:
    """The trustee checks the claim (the maker of the payment)."""
    action = gettext_noop("check claims")
    require(actor, OrgKind.TRUSTEE, action=action)
    with transaction.atomic():
        c = _claim(claim_id)
        to = _take(actor, c.status, Step.CHECK, action)
        c.checked_by = actor
        _move(actor, c, to, on, note)
    return c


def pay(actor: Any, *, claim_id: int, on: dt.date) -> Claim:
    """A second trustee user approves and pays. When the pool cannot cover the claim it waits
    (``waiting_since``) and can be paid later, once contributions have come in.

    Under the loan's lock, the loan must still be live, not compensated and overdue as the
    rules require (``fund.domain.claim.unmet``); a loan repaid or closed since the claim was
    checked is refused (409, with the reason; the claim can be rejected). The fund pays the
    share of the loan's overdue principal now, never more than filed
    (``fund.domain.claim.payment``); the claim records both."""
    action = gettext_noop("approve claims")
    require(actor, OrgKind.TRUSTEE, action=action)
    with transaction.atomic():
        c = _claim(claim_id)
        to = _take(actor, c.status, Step.PAY, action, dc.pay_target(stages=1, paid_stages=0))
        if c.checked_by_id == actor.pk:
            raise NotPermitted(_("the user who checked a claim may not approve it (maker-checker)"))
        loan = lending_port.loan_for_update(c.loan_id)
        rules = config.rules()
        facts = selectors.claim_facts(actor, c, loan)
        why = dc.unmet(Step.PAY, facts)
        if why is not None:
            raise Conflict(
                _("this claim cannot be paid: %(why)s; the trustee can reject it")
                % {"why": unmet_reason(why, facts)},
                field="claim_id",
            )
        basis, amount = dc.payment(
            filed_fen=c.filed_amount_fen,
            filed_overdue_principal_fen=c.overdue_principal_fen,
            overdue_principal_fen=loan.due_principal_fen,
            rules=rules,
        )
        pool = books.pool_of(c.pool.district, lock=True)
        try:
            entry = de.compensation(
                pool.district.code,
                amount,
                on=on,
                ref=f"claim {c.pk} loan {loan.pk}",
                cash_fen=books.spendable(pool, on=on),
            )
        except de.InsufficientFunds as exc:
            if c.waiting_since is None:
                c.waiting_since = on
                c.save(update_fields=["waiting_since"])
                audit.record(
                    actor,
                    "FUND_CLAIM_WAITING",
                    "claim",
                    c.pk,
                    after={"needed_fen": exc.needed_fen, "available_fen": exc.available_fen},
                )
            return c
        c.payment_entry = books.book(pool, entry, kind=EntryKind.COMPENSATION, actor=actor)
        c.approved_by = actor
        c.paid_on = on
        c.overdue_principal_fen, c.amount_fen = basis, amount
        lending_port.mark_compensated(loan, on=on, actor=actor, claim_id=c.pk)
        _move(
            actor,
            c,
            to,
            on,
            amount_fen=amount,
            filed_amount_fen=c.filed_amount_fen,
            overdue_fen=basis,
            loan_overdue_fen=loan.due_principal_fen,
            days_past_due=loan.days_past_due,
            entry=c.payment_entry.pk,
        )
    return c


def recover(actor: Any, *, claim_id: int, amount_fen: int, on: dt.date) -> Recovery:
    """An amount recovered from the borrower, shared pool : bank in the compensation ratio."""
    action = gettext_noop("report recoveries")
    kind = require(actor, OrgKind.BANK, OrgKind.TRUSTEE, action=action)
    if amount_fen <= 0:
        raise InvalidInput([("amount", _("must be more than zero"))])
    with transaction.atomic():
        c = _claim(claim_id, bank_org=actor.organisation_id if kind == OrgKind.BANK else None)
        to = _take(actor, c.status, Step.RECOVER, action)
        if c.paid_on is not None and on < c.paid_on:
            msg = _("a recovery cannot be dated before the claim was paid on %(day)s")
            raise InvalidInput([("on", msg % {"day": c.paid_on})])
        if c.recovered_fen + amount_fen > c.overdue_principal_fen:
            raise InvalidInput([("amount", _("more than the overdue principal left to recover"))])
        pool_part, bank_part = dr.recovery_split(amount_fen, config.rules())
        row = None
        if pool_part:
            pool = books.pool_of(c.pool.district, lock=True)
            entry = de.recovery(pool.district.code, pool_part, on=on, ref=f"claim {c.pk}")
            row = books.book(pool, entry, kind=EntryKind.RECOVERY, actor=actor)
        r = Recovery.objects.create(
            claim=c,
            amount_fen=amount_fen,
            pool_share_fen=pool_part,
            bank_share_fen=bank_part,
            recovered_on=on,
            entry=row,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        c.recovered_fen += amount_fen
        c.pool_recovered_fen += pool_part
        c.bank_recovered_fen += bank_part
        if c.status != to:
            _move(actor, c, to, on, recovered_fen=amount_fen)
        else:
            c.save()
            audit.record(actor, "FUND_RECOVERY", "claim", c.pk, after={"amount_fen": amount_fen})
    return r


def close(actor: Any, *, claim_id: int, on: dt.date, written_off: bool, reason: str) -> Claim:
    """The trustee ends a paid claim: closed (recovery done) or written off. Either way the
    claim has run its course and the bank writes the loan off its book in the same
    transaction (``lending_port.write_off``; a loan already fully repaid stays CLOSED)."""
    action = gettext_noop("close claims")
    require(actor, OrgKind.TRUSTEE, action=action)
    if len(reason.strip()) < 5:
        raise InvalidInput([("reason", _("write why the claim ends"))])
    with transaction.atomic():
        c = _claim(claim_id)
        to = _take(actor, c.status, Step.WRITE_OFF if written_off else Step.CLOSE, action)
        loan = lending_port.loan_for_update(c.loan_id)
        c.closed_on = on
        c.note = reason.strip()[:500]
        loan_status = lending_port.write_off(
            loan, on=on, actor=actor, claim_id=c.pk, reason=reason.strip()
        )
        _move(actor, c, to, on, reason.strip(), loan_status=loan_status)
    return c


def reject(actor: Any, *, claim_id: int, on: dt.date, reason: str) -> Claim:
    """The trustee refuses a claim before payment (a claim whose loan was repaid or closed
    since it was checked, for one); the loan may be claimed again later."""
    action = gettext_noop("reject claims")
    require(actor, OrgKind.TRUSTEE, action=action)
    if len(reason.strip()) < 5:
        raise InvalidInput([("reason", _("write why the claim is rejected"))])
    with transaction.atomic():
        c = _claim(claim_id)
        to = _take(actor, c.status, Step.REJECT, action)
        c.closed_on = on
        c.note = reason.strip()[:500]
        _move(actor, c, to, on, reason.strip())
    return c
