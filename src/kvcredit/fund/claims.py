"""A bank's compensation claim, from registration to closing.

    REGISTERED ─file─▶ FILED ─check─▶ CHECKED ─pay─▶ PAID ─recover─▶ RECOVERING
        │                 │               │ (waits while the pool      │      │
        └──────reject─────┴──────reject───┘  cannot cover it)          ▼      ▼
                                                               CLOSED / WRITTEN_OFF

Ending a claim (closed or written off) takes the loan off the bank's live book: the loan is
written off (WRITTEN_OFF) in the same transaction, unless it was already repaid (CLOSED).

The bank registers and files; the trustee checks and pays with maker-checker: the user who
approves the payment is not the one who checked it (refused here and by a database check).
A loan is compensated at most once: one claim per loan that is not rejected (a unique
constraint), and the loan row is locked while a claim on it is written.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.fund import books, breakers, config, lending_port
from kvcredit.fund.domain import entries as de
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.models import Claim, ClaimEvent, ClaimStatus, EntryKind, Recovery

S = ClaimStatus


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


def _expect(c: Claim, *allowed: str) -> None:
    if c.status not in allowed:
        labels = [str(S(s).label) for s in allowed]
        needed = labels[0]
        for more in labels[1:]:
            needed = _("%(first)s or %(second)s") % {"first": needed, "second": more}
        raise Conflict(
            _("the claim is %(status)s; this step needs %(needed)s")
            % {"status": S(c.status).label, "needed": needed}
        )


def _not_suspended(bank_id: int, district_id: int) -> None:
    if breakers.is_suspended(bank_id=bank_id, district_id=district_id):
        raise Conflict(
            _(
                "the bank is suspended in this district (circuit breaker); "
                "it files no new claims until the trustee lifts the suspension"
            )
        )


def _refusal(days_overdue: int, overdue_principal_fen: int, rules: dr.FundRules) -> str:
    """Why ``dr.claim_amount`` refused (``ClaimRefused``), in the active language: the pure
    rules speak English only, so the service names the rule that failed."""
    if days_overdue < rules.min_days_overdue:
        return _("the loan is %(days)s days overdue; a claim needs %(needed)s") % {
            "days": days_overdue,
            "needed": rules.min_days_overdue,
        }
    return _("the loan has no overdue principal")


def register(actor: Any, *, loan_id: int, on: dt.date) -> Claim:
    """The bank reports an overdue loan; the claim is registered."""
    require(actor, OrgKind.BANK, action=gettext_noop("register compensation claims"))
    try:
        with transaction.atomic():
            loan = lending_port.loan_for_update(loan_id)
            if loan.bank.organisation_id != actor.organisation_id:
                raise NotFound(_("no such loan"), field="loan_id")
            _not_suspended(loan.bank_id, loan.district_id)
            if loan.days_past_due <= 0:
                raise InvalidInput([("loan_id", _("the loan is not overdue"))])
            c = Claim.objects.create(
                loan=loan,
                bank=loan.bank,
                pool=books.pool_of(loan.district),
                status=S.REGISTERED,
                registered_on=on,
                registered_by=actor,
            )
            c.status = ""
            _move(actor, c, S.REGISTERED, on, loan=loan.pk, days_past_due=loan.days_past_due)
            return c
    except IntegrityError:
        raise Conflict(_("this loan already has a claim"), field="loan_id") from None


def file(actor: Any, *, claim_id: int, on: dt.date) -> Claim:
    """The bank files the claim: the fund's share of the overdue principal, fixed now."""
    require(actor, OrgKind.BANK, action=gettext_noop("file compensation claims"))
    with transaction.atomic():
        c = _claim(claim_id, bank_org=actor.organisation_id)
        _expect(c, S.REGISTERED)
        loan = lending_port.loan_for_update(c.loan_id)
        _not_suspended(c.bank_id, loan.district_id)
        rules = config.rules()
        try:
            amount = dr.claim_amount(
                overdue_principal_fen=loan.due_principal_fen,
                days_overdue=loan.days_past_due,
                rules=rules,
            )
        except dr.ClaimRefused:
            why = _refusal(loan.days_past_due, loan.due_principal_fen, rules)
            raise InvalidInput([("claim_id", why)]) from None
        c.filed_on = on
        c.days_overdue = loan.days_past_due
        c.overdue_principal_fen = loan.due_principal_fen
        c.amount_fen = amount
        _move(actor, c, S.FILED, on, amount_fen=amount, overdue_fen=loan.due_principal_fen)
    return c


def check(actor: Any, *, claim_id: int, on: dt.date, note: str = "") -> Claim:
    """The trustee checks the claim (the maker of the payment)."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("check claims"))
    with transaction.atomic():
        c = _claim(claim_id)
        _expect(c, S.FILED)
        c.checked_by = actor
        _move(actor, c, S.CHECKED, on, note)
    return c


def pay(actor: Any, *, claim_id: int, on: dt.date) -> Claim:
    """A second trustee user approves and pays. When the pool cannot cover the claim it waits
    (``waiting_since``) and can be paid later, once contributions have come in."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("approve claims"))
    with transaction.atomic():
        c = _claim(claim_id)
        _expect(c, S.CHECKED)
        if c.checked_by_id == actor.pk:
            raise NotPermitted(_("the user who checked a claim may not approve it (maker-checker)"))
        loan = lending_port.loan_for_update(c.loan_id)
        pool = books.pool_of(c.pool.district, lock=True)
        try:
            entry = de.compensation(
                pool.district.code,
                c.amount_fen,
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
        lending_port.mark_compensated(loan, on=on, actor=actor, claim_id=c.pk)
        _move(actor, c, S.PAID, on, amount_fen=c.amount_fen, entry=c.payment_entry.pk)
    return c


def recover(actor: Any, *, claim_id: int, amount_fen: int, on: dt.date) -> Recovery:
    """An amount recovered from the borrower, shared pool : bank in the compensation ratio."""
    kind = require(actor, OrgKind.BANK, OrgKind.TRUSTEE, action=gettext_noop("report recoveries"))
    if amount_fen <= 0:
        raise InvalidInput([("amount", _("must be more than zero"))])
    with transaction.atomic():
        c = _claim(claim_id, bank_org=actor.organisation_id if kind == OrgKind.BANK else None)
        _expect(c, S.PAID, S.RECOVERING)
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
        if c.status == S.PAID:
            _move(actor, c, S.RECOVERING, on, recovered_fen=amount_fen)
        else:
            c.save()
            audit.record(actor, "FUND_RECOVERY", "claim", c.pk, after={"amount_fen": amount_fen})
    return r


def close(actor: Any, *, claim_id: int, on: dt.date, written_off: bool, reason: str) -> Claim:
    """The trustee ends a paid claim: closed (recovery done) or written off. Either way the
    claim has run its course and the bank writes the loan off its book in the same
    transaction (``lending_port.write_off``; a loan already fully repaid stays CLOSED)."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("close claims"))
    if len(reason.strip()) < 5:
        raise InvalidInput([("reason", _("write why the claim ends"))])
    with transaction.atomic():
        c = _claim(claim_id)
        _expect(c, S.PAID, S.RECOVERING)
        loan = lending_port.loan_for_update(c.loan_id)
        c.closed_on = on
        c.note = reason.strip()[:500]
        to = S.WRITTEN_OFF if written_off else S.CLOSED
        loan_status = lending_port.write_off(
            loan, on=on, actor=actor, claim_id=c.pk, reason=reason.strip()
        )
        _move(actor, c, to, on, reason.strip(), loan_status=loan_status)
    return c


def reject(actor: Any, *, claim_id: int, on: dt.date, reason: str) -> Claim:
    """The trustee refuses a claim before payment; the loan may be claimed again later."""
    require(actor, OrgKind.TRUSTEE, action=gettext_noop("reject claims"))
    if len(reason.strip()) < 5:
        raise InvalidInput([("reason", _("write why the claim is rejected"))])
    with transaction.atomic():
        c = _claim(claim_id)
        _expect(c, S.REGISTERED, S.FILED, S.CHECKED)
        c.closed_on = on
        c.note = reason.strip()[:500]
        _move(actor, c, S.REJECTED, on, reason.strip())
    return c
