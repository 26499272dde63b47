"""Forbearance: an enterprise asks its bank to defer a loan; the bank grants or refuses.

A deferral applies a ``[[deferral]]`` rule of the rulebook in force on the request's business
date (``kvcredit.relief.rules_on``), whose terms the ``Deferral`` row copies with the rulebook's
hash. Granting it is the loan's ``defer`` step (``lifecycle.LOAN``): under the loan's lock, on a
business date the end of day has not closed, the instalments not yet fallen due are re-cut
(``lending.domain.deferral.recut``: exact to the fen), the loan's next instalment, count and
maturity follow the new plan, and the loan carries the pause (no accrual where interest does
not accrue, no penalty where it is waived, days past due paused, from the grant to the deferral
date) and the watch period that the end of day honours. Every step is audited.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit import relief
from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import kind_of, require
from kvcredit.audit import services as audit
from kvcredit.errors import Conflict, InvalidInput, NotFound
from kvcredit.lending import selectors
from kvcredit.lending.domain import deferral as dd
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.lending.loans import require_open_day, take_step
from kvcredit.lending.models import Deferral, Instalment, Loan
from kvcredit.roles import Role

ROLE_OF = {OrgKind.BANK: Role.BANK, OrgKind.ENTERPRISE: Role.ENTERPRISE}


def _role(actor: User) -> Role:
    return ROLE_OF[kind_of(actor)]  # type: ignore[index]


def _locked(actor: User, loan_id: int) -> Loan:
    if not selectors.loans(actor).filter(pk=loan_id).exists():
        raise NotFound(_("no such loan"), field="loan_id")
    loan = Loan.objects.select_for_update().select_related("district").get(pk=loan_id)
    return loan


def _rows(loan: Loan, qs: Any = None) -> list[dd.PlanRow]:
    qs = qs if qs is not None else loan.instalments.filter(seq__gte=loan.next_instalment)
    return [
        dd.PlanRow(r.seq, r.due_date, r.principal_fen, r.interest_fen) for r in qs.order_by("seq")
    ]


def _plan(rows: list[dd.PlanRow]) -> list[list[Any]]:
    return [[r.seq, r.due_date.isoformat(), r.principal_fen, r.interest_fen] for r in rows]


def _unpaid_due_dates(loan: Loan) -> list[dt.date]:
    """Due dates of the loan's instalments not yet fully paid (fallen due or not)."""
    out = []
    for r in loan.instalments.order_by("seq"):
        fallen = r.principal_due_fen is not None
        met = fallen and (
            r.principal_paid_fen >= (r.principal_due_fen or 0)
            and r.interest_paid_fen >= (r.interest_due_fen or 0)
        )
        if not met:
            out.append(r.due_date)
    return out


def rule_from(d: Deferral) -> dd.DeferralRule:
    """The rule as the deferral copied it."""
    return dd.DeferralRule(
        key=d.rule_key,
        window_from=d.window_from,
        window_to=d.window_to,
        defer_to=d.defer_to,
        defers=dd.Defers(d.defers),
        interest_accrues=d.interest_accrues,
        penalty_waived=d.penalty_waived,
        dpd_paused=d.dpd_paused,
        watch_days=d.watch_days,
    )


def _require_qualifies(loan: Loan, rule: dd.DeferralRule, on: dt.date) -> None:
    ok = dd.qualifies(
        rule,
        live=lc.may_defer(loan.status),
        district=loan.district.code,
        unpaid_due_dates=_unpaid_due_dates(loan),
        granted_on=on,
    )
    if not ok:
        raise Conflict(_("this loan does not qualify for this deferral on this date"), field="rule")


def eligible_rules(loan: Loan, on: dt.date) -> list[dd.DeferralRule]:
    """The deferral rules in force on ``on`` that the loan qualifies for (the pages offer
    them)."""
    unpaid = _unpaid_due_dates(loan)
    return [
        r
        for r in relief.rules_on(on).deferrals
        if dd.qualifies(
            r,
            live=lc.may_defer(loan.status),
            district=loan.district.code,
            unpaid_due_dates=unpaid,
            granted_on=on,
        )
    ]


def _state(d: Deferral) -> dict[str, Any]:
    return {
        "loan_id": d.loan_id,
        "status": d.status,
        "rule": d.rule_key,
        "rulebook": d.rulebook,
        "defer_to": d.defer_to,
    }


def request(
    actor: User,
    *,
    loan_id: int,
    rule: str,
    reason: str,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Deferral:
    """The enterprise (or its bank, for a request made on paper) asks to defer the loan under
    the deferral rule ``rule`` of the rulebook in force on ``today``."""
    require(actor, OrgKind.ENTERPRISE, OrgKind.BANK, action=gettext_noop("request deferrals"))
    if not reason.strip():
        raise InvalidInput([("reason", _("say why the loan should be deferred"))])
    rules = relief.rules_on(today)
    found = rules.deferral(rule)
    if found is None:
        raise NotFound(_("no such deferral rule in force on this date"), field="rule")
    now = now or timezone.now()
    with transaction.atomic():
        loan = _locked(actor, loan_id)
        status = take_step(
            lc.DEFERRAL,
            None,
            "request",
            _role(actor),
            why=_("a deferral cannot be requested"),
            field="rule",
        )
        _require_qualifies(loan, found, today)
        if Deferral.objects.filter(
            loan=loan, rule_key=found.key, status__in=lc.DEFERRAL_HOLDING
        ).exists():
            raise Conflict(_("this loan already has this deferral"), field="rule")
        try:
            with transaction.atomic():
                d = Deferral.objects.create(
                    loan=loan,
                    status=status,
                    rule_key=found.key,
                    rulebook=rules.source,
                    rulebook_hash=rules.content_hash,
                    window_from=found.window_from,
                    window_to=found.window_to,
                    defer_to=found.defer_to,
                    defers=found.defers.value,
                    interest_accrues=found.interest_accrues,
                    penalty_waived=found.penalty_waived,
                    dpd_paused=found.dpd_paused,
                    watch_days=found.watch_days,
                    reason=reason.strip()[:300],
                    requested_on=today,
                    requested_by=actor,
                    requested_at=now,
                    plan_before=_plan(_rows(loan)),
                )
        except IntegrityError:
            raise Conflict(_("this loan already has this deferral"), field="rule") from None
        audit.record(actor, "DEFERRAL_REQUEST", "deferral", d.pk, after=_state(d), now=now)
    return d


def _locked_deferral(actor: User, deferral_id: int) -> tuple[Deferral, Loan]:
    d = Deferral.objects.filter(pk=deferral_id, loan__in=selectors.loans(actor)).first()
    if d is None:
        raise NotFound(_("no such deferral"), field="deferral_id")
    loan = _locked(actor, d.loan_id)
    return Deferral.objects.select_for_update().get(pk=d.pk), loan


def grant(
    actor: User, *, deferral_id: int, today: dt.date, now: dt.datetime | None = None
) -> Deferral:
    """The bank grants the request: the loan's plan is re-cut and the pause and watch set."""
    require(actor, OrgKind.BANK, action=gettext_noop("grant deferrals"))
    require_open_day(today, "today")
    now = now or timezone.now()
    with transaction.atomic():
        d, loan = _locked_deferral(actor, deferral_id)
        require_open_day(today, "today")  # again: the lock waits for a running end of day
        status = take_step(
            lc.DEFERRAL,
            d.status,
            "grant",
            Role.BANK,
            why=_("this deferral cannot be granted"),
            field="deferral_id",
        )
        loan.status = take_step(
            lc.LOAN,
            loan.status,
            "defer",
            Role.BANK,
            why=_("this loan cannot be deferred"),
            field="deferral_id",
        )
        rule = rule_from(d)
        _require_qualifies(loan, rule, today)
        before = _rows(loan)
        previous = loan.instalments.filter(seq=loan.next_instalment - 1).first()
        try:
            after = dd.recut(
                rule,
                before,
                balance_not_due=loan.outstanding_principal_fen - loan.due_principal_fen,
                period_from=previous.due_date if previous else loan.disbursed_on,
                rate_units=loan.rate_units,
                granted_on=today,
            )
        except dd.CannotRecut:
            raise Conflict(
                _("interest alone cannot be deferred on an instalment of principal"),
                field="deferral_id",
            ) from None
        _replace_plan(loan, after)
        loan.restructured = True
        loan.pause_from = today
        loan.pause_to = rule.defer_to
        loan.pause_accrual = not rule.interest_accrues
        loan.waive_penalty = rule.penalty_waived
        loan.pause_dpd = rule.dpd_paused
        loan.watch_days = rule.watch_days
        loan.watch_until = rule.defer_to + dt.timedelta(days=rule.watch_days)
        loan.save()
        d.status = status
        d.decided_on = today
        d.decided_by = actor
        d.decided_at = now
        d.plan_after = _plan(after)
        d.save()
        audit.record(
            actor,
            "DEFERRAL_GRANT",
            "deferral",
            d.pk,
            before={"plan": d.plan_before},
            after=_state(d) | {"plan": d.plan_after, "watch_until": loan.watch_until},
            now=now,
        )
    return d


def _replace_plan(loan: Loan, rows: list[dd.PlanRow]) -> None:
    """The instalments not yet fallen due become ``rows``; the loan's next instalment, count
    and maturity follow them."""
    loan.instalments.filter(seq__gte=loan.next_instalment).delete()
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
    if rows:
        loan.instalment_count = rows[-1].seq
        loan.maturity_date = rows[-1].due_date
        loan.next_due_date = rows[0].due_date
        loan.next_principal_fen = rows[0].principal_fen


def refuse(
    actor: User,
    *,
    deferral_id: int,
    reason: str,
    today: dt.date,
    now: dt.datetime | None = None,
) -> Deferral:
    require(actor, OrgKind.BANK, action=gettext_noop("refuse deferrals"))
    if not reason.strip():
        raise InvalidInput([("reason", _("say why the deferral is refused"))])
    now = now or timezone.now()
    with transaction.atomic():
        d, _loan = _locked_deferral(actor, deferral_id)
        d.status = take_step(
            lc.DEFERRAL,
            d.status,
            "refuse",
            Role.BANK,
            why=_("this deferral cannot be refused"),
            field="deferral_id",
        )
        d.decided_on, d.decided_by, d.decided_at = today, actor, now
        d.refuse_reason = reason.strip()[:300]
        d.save()
        audit.record(actor, "DEFERRAL_REFUSE", "deferral", d.pk, after=_state(d), now=now)
    return d


def withdraw(actor: User, *, deferral_id: int, now: dt.datetime | None = None) -> Deferral:
    require(actor, OrgKind.ENTERPRISE, action=gettext_noop("withdraw deferral requests"))
    now = now or timezone.now()
    with transaction.atomic():
        d, _loan = _locked_deferral(actor, deferral_id)
        d.status = take_step(
            lc.DEFERRAL,
            d.status,
            "withdraw",
            Role.ENTERPRISE,
            why=_("this deferral cannot be withdrawn"),
            field="deferral_id",
        )
        d.decided_at = now
        d.save()
        audit.record(actor, "DEFERRAL_WITHDRAW", "deferral", d.pk, after=_state(d), now=now)
    return d
