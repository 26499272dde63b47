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
from dataclasses import dataclass
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of, not_permitted, require
from kvcredit.audit import services as audit
from kvcredit.enterprises.models import Bank
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.fund import applied, books, breakers, config, lending_port, selectors
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain import compensation as dcomp
from kvcredit.fund.domain import entries as de
from kvcredit.fund.domain import rules as dr
from kvcredit.fund.domain.sharing import BANK, FUND, split
from kvcredit.fund.models import (
    Claim,
    ClaimEvent,
    ClaimStage,
    ClaimStatus,
    EntryKind,
    LossShare,
    Recovery,
)
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
    if why is dc.Unmet.DENIED:
        return _("the rulebook denies compensation on this loan: %(why)s") % {
            "why": "; ".join(denial_text(d) for d in facts.denials)
        }
    if why is dc.Unmet.STAGE_LOCKED_IN:
        return _("the next stage of this claim's payment is not due yet (its lock-in)")
    if why is dc.Unmet.STAGE_AWAITS_RECOVERY:
        return _(
            "the next stage of this claim's payment waits for the recovery proceedings to conclude"
        )
    if why is dc.Unmet.RECOVERY_CONCLUDED:
        return _("the recovery proceedings of this claim were recorded as concluded already")
    return _("the user who checked a claim may not approve it (maker-checker)")


DENIAL_TEXTS = {
    dcomp.Denial.ABOVE_LIMIT: gettext_noop(
        "the loan is above the credit limit the programme evaluated when it was signed"
    ),
    dcomp.Denial.RATE_ABOVE_CEILING: gettext_noop(
        "the loan's rate is above the rulebook's rate ceiling on its signing date"
    ),
    dcomp.Denial.SIGNED_WHILE_SUSPENDED: gettext_noop(
        "the loan was signed while the bank was suspended in the district"
    ),
    dcomp.Denial.NO_PROGRAMME_EVALUATION: gettext_noop(
        "the bank did not use the programme's evaluation (none in force when it was signed)"
    ),
}


def denial_text(code: str) -> str:
    """A denial condition in the active language."""
    return _(DENIAL_TEXTS[dcomp.Denial(code)])


LIMIT_TEXTS = {
    dcomp.Limit.PER_LOAN: gettext_noop("the cap per loan"),
    dcomp.Limit.BANK_YEAR: gettext_noop("the bank's cap for the year"),
    dcomp.Limit.ALLOWANCE: gettext_noop("the bank's compensation allowance"),
}


def limit_text(code: str) -> str:
    return _(LIMIT_TEXTS[dcomp.Limit(code)])


def _not_suspended(bank_id: int, district_id: int, on: dt.date) -> None:
    """A suspended pair files no claims where the rulebook in force says a suspension stops
    claims (``fund.breaker.stops``: claims or both)."""
    if not config.rules(on).breaker_stops_claims:
        return
    if breakers.is_suspended(bank_id=bank_id, district_id=district_id):
        raise Conflict(
            _(
                "the bank is suspended in this district (circuit breaker); "
                "it files no new claims until the trustee lifts the suspension"
            )
        )


def claim_rules(c: Claim) -> dr.FundRules:
    """The rules a claim was filed under (its recorded rulebook): its payment and its
    recoveries apply them, whatever was published since."""
    return config.by_hash(c.rulebook_hash, c.filed_on or c.registered_on)


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
            _not_suspended(loan.bank_id, loan.district_id, on)
            to = _take(actor, None, Step.REGISTER, action)
            if Claim.objects.filter(loan=loan, status__in=dc.HOLDING).exists():
                raise IntegrityError("claim_one_per_loan")
            facts = selectors.claim_facts(actor, None, loan, on=on)
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
        _not_suspended(c.bank_id, loan.district_id, on)
        rules = config.rules(on)
        facts = selectors.claim_facts(actor, c, loan, on=on)
        why = dc.unmet(Step.FILE, facts)
        if why is not None:
            raise InvalidInput([("claim_id", unmet_reason(why, facts))])
        amount = dr.claim_amount(
            overdue_principal_fen=loan.due_principal_fen,
            days_overdue=loan.days_past_due,
            rules=rules,
        )
        c.filed_on = on
        c.rulebook_hash = rules.rulebook_hash
        c.days_overdue = loan.days_past_due
        c.overdue_principal_fen = loan.due_principal_fen
        c.amount_fen = c.filed_amount_fen = amount
        _move(
            actor,
            c,
            to,
            on,
            amount_fen=amount,
            overdue_fen=loan.due_principal_fen,
            rulebook=rules.rulebook_hash,
        )
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


@dataclass(frozen=True)
class PaymentPlan:
    """What paying a checked claim does (``pay``, and the console's confirmation before it):
    the rulebook it was filed under, the state after, the loss and its parts, the fund's share
    after the caps, and the stage amounts (the first is paid now)."""

    rulebook: Any
    stages: Any
    to: dc.ClaimStatus
    loan: Any
    basis: int
    parties: Any
    parts: dict[str, int]
    share: int
    capped: Any
    amounts: list[int]


def plan_payment(actor: Any, c: Claim, on: dt.date, action: str, *, lock: bool) -> PaymentPlan:
    """The payment of claim ``c`` on ``on`` by ``actor``, refused as ``pay`` refuses it. With
    ``lock`` (inside ``pay``'s transaction) the loan and the bank's row are locked first: the
    caps and the allowance are read and spent under that lock."""
    # the rules the claim was filed under (``claim_rules``), whatever was published since
    rb = applied.rulebook_of(c.rulebook_hash, c.filed_on or c.registered_on)
    stages = applied.stages(rb)
    to = _take(actor, c.status, Step.PAY, action, dc.pay_target(stages=len(stages), paid_stages=0))
    if c.checked_by_id == actor.pk:
        raise NotPermitted(_("the user who checked a claim may not approve it (maker-checker)"))
    loan = lending_port.loan_for_update(c.loan_id) if lock else c.loan
    rules = claim_rules(c)
    facts = selectors.claim_facts(actor, c, loan, on=on, rules=rules)
    why = dc.unmet(Step.PAY, facts)
    if why is not None:
        raise Conflict(
            _("this claim cannot be paid: %(why)s; the trustee can reject it")
            % {"why": unmet_reason(why, facts)},
            field="claim_id",
        )
    basis = min(c.overdue_principal_fen, max(loan.due_principal_fen, 0))
    parties = applied.losses(rb)
    parts = split(basis, [(p.id, p.compensation) for p in parties])
    share = min(parts.get(FUND, 0), c.filed_amount_fen)
    if lock:  # the bank's row: its caps and allowance are read and spent under its lock
        Bank.objects.select_for_update().filter(pk=c.bank_id).first()
    allowance = applied.allowance_of(c.bank_id, on, rb)
    capd = dcomp.capped(
        share,
        per_loan_cap_fen=rb.fund.cap_per_loan_fen,
        bank_year_cap_fen=rb.fund.cap_per_bank_per_year_fen,
        bank_year_paid_fen=applied.bank_year_paid(c.bank_id, on),
        allowance_left_fen=None if allowance is None else allowance.available_fen,
    )
    if capd.amount_fen == 0 and share > 0:
        raise Conflict(
            _("nothing can be paid on this claim: %(limits)s is used up")
            % {"limits": ", ".join(limit_text(x) for x in capd.limited_by)},
            field="claim_id",
        )
    amounts = dcomp.stage_amounts(capd.amount_fen, stages)
    return PaymentPlan(rb, stages, to, loan, basis, parties, parts, share, capd, list(amounts))


def pay(actor: Any, *, claim_id: int, on: dt.date) -> Claim:
    """A second trustee user approves and pays. When the pool cannot cover the claim it waits
    (``waiting_since``) and can be paid later, once contributions have come in.

    Under the loan's lock, the loan must still be live, not compensated and overdue as the
    rules the claim was filed under require, and no denial condition of that rulebook may hold
    (``fund.domain.claim.unmet``); a loan repaid or closed since the claim was checked is
    refused (409, with the reason; the claim can be rejected). The loss (the loan's overdue
    principal now, never more than filed) is split among the rulebook's parties
    (``fund.domain.sharing.split``: the parts add up to it); the fund's part is capped per loan,
    per bank and year and by the bank's allowance (``fund.domain.compensation.capped``) and
    paid in the rulebook's stages: the first now, a later one by a later ``pay`` once its
    lock-in has passed (PARTLY_PAID until the last). The partners' parts are posted to their
    accounts. The claim records the share, the caps that bound it, each stage and part with
    the rulebook's hash; a later rule change leaves them as they are."""
    action = gettext_noop("approve claims")
    require(actor, OrgKind.TRUSTEE, action=action)
    with transaction.atomic():
        c = _claim(claim_id)
        if c.status == S.PARTLY_PAID:
            return _pay_stage(actor, c, on, action)
        plan = plan_payment(actor, c, on, action, lock=True)
        rb, stages, to, loan = plan.rulebook, plan.stages, plan.to, plan.loan
        basis, parties, parts, share = plan.basis, plan.parties, plan.parts, plan.share
        capd, amounts = plan.capped, plan.amounts
        pool = books.pool_of(c.pool.district, lock=True)
        entry = None
        if amounts[0]:
            try:
                entry = de.compensation(
                    pool.district.code,
                    amounts[0],
                    on=on,
                    ref=f"claim {c.pk} loan {loan.pk}",
                    cash_fen=books.spendable(pool, on=on),
                )
            except de.InsufficientFunds as exc:
                _wait(actor, c, on, exc)
                return c
        if entry is not None:
            c.payment_entry = books.book(pool, entry, kind=EntryKind.COMPENSATION, actor=actor)
        c.approved_by = actor
        c.paid_on = on
        c.overdue_principal_fen, c.amount_fen = basis, capd.amount_fen
        c.share_fen = share
        c.limited_by = ",".join(x.value for x in capd.limited_by)
        c.stages_total, c.stages_paid, c.paid_fen = len(stages), 1, amounts[0]
        c.waiting_since = None
        _record_stages(actor, c, stages, amounts, on, rb.content_hash)
        _share_loss(actor, c, pool, parties, parts, on, rb.content_hash)
        lending_port.mark_compensated(loan, on=on, actor=actor, claim_id=c.pk)
        _move(
            actor,
            c,
            to,
            on,
            amount_fen=capd.amount_fen,
            share_fen=share,
            limited_by=c.limited_by,
            stage_fen=amounts[0],
            stages=len(stages),
            filed_amount_fen=c.filed_amount_fen,
            overdue_fen=basis,
            loan_overdue_fen=loan.due_principal_fen,
            days_past_due=loan.days_past_due,
            entry=None if c.payment_entry is None else c.payment_entry.pk,
            rulebook=rb.content_hash,
        )
    return c


def _wait(actor: Any, c: Claim, on: dt.date, exc: de.InsufficientFunds) -> None:
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


def _record_stages(
    actor: Any,
    c: Claim,
    stages: tuple[dcomp.Stage, ...],
    amounts: list[int],
    on: dt.date,
    rulebook_hash: str,
) -> None:
    due = dcomp.stage_due_dates(stages, on)
    for i, (stage, amount) in enumerate(zip(stages, amounts, strict=True)):
        ClaimStage.objects.create(
            claim=c,
            seq=i,
            share=str(stage.share),
            amount_fen=amount,
            due_on=due[i],
            not_before=stage.not_before,
            after_recovery_concluded=stage.after_recovery_concluded,
            paid_on=on if i == 0 else None,
            entry=c.payment_entry if i == 0 else None,
            paid_by=actor if i == 0 else None,
            rulebook_hash=rulebook_hash,
        )


def _share_loss(
    actor: Any,
    c: Claim,
    pool: Any,
    parties: list[applied.Part],
    parts: dict[str, int],
    on: dt.date,
    rulebook_hash: str,
) -> None:
    """The loss's parts, one row each; the partners' parts posted to their accounts."""
    partners = {p.id: parts[p.id] for p in parties if p.id not in (FUND, BANK)}
    entry = de.partner_shares(pool.district.code, partners, on=on, ref=f"claim {c.pk}")
    row = None
    if entry is not None:
        row = books.book(pool, entry, kind=EntryKind.COMPENSATION, actor=actor)
    for p in parties:
        LossShare.objects.create(
            claim=c,
            party=p.id,
            name=p.name,
            name_zh=p.name_zh,
            share=str(p.compensation),
            amount_fen=parts[p.id],
            entry=row if p.id in partners else c.payment_entry if p.id == FUND else None,
            rulebook_hash=rulebook_hash,
        )


def stage_amount(c: Claim, stage: ClaimStage) -> int:
    """What a later stage pays when paid now: the part fixed at the first payment, or, for a
    last stage that waited for the recovery proceedings, the settlement on the loss left after
    the recoveries (``fund.domain.compensation.final_stage_fen``). The payment and the
    console's confirmation both ask this."""
    if not stage.after_recovery_concluded:
        return stage.amount_fen
    return dcomp.final_stage_fen(
        amount_fen=c.amount_fen,
        loss_fen=c.overdue_principal_fen,
        recovered_fen=c.recovered_fen,
        pool_recovered_fen=c.pool_recovered_fen,
        paid_fen=c.paid_fen,
    )


def conclude_recovery(actor: Any, *, claim_id: int, on: dt.date, note: str = "") -> Claim:
    """The trustee records that the recovery proceedings on a partly paid claim concluded
    (once): a last stage waiting for them is payable from ``on``, its amount settled on the
    recoveries received by then."""
    action = gettext_noop("record the end of recovery proceedings")
    require(actor, OrgKind.TRUSTEE, action=action)
    with transaction.atomic():
        c = _claim(claim_id)
        to = _take(actor, c.status, Step.CONCLUDE_RECOVERY, action)
        facts = selectors.claim_facts(actor, c, c.loan)
        why = dc.unmet(Step.CONCLUDE_RECOVERY, facts)
        if why is not None:
            raise Conflict(unmet_reason(why, facts), field="claim_id")
        if c.paid_on is not None and on < c.paid_on:
            msg = _("the recovery proceedings cannot end before the claim was paid on %(day)s")
            raise InvalidInput([("on", msg % {"day": c.paid_on})])
        c.recovery_concluded_on = on
        c.status = to
        c.save(update_fields=["recovery_concluded_on", "status"])
        ClaimEvent.objects.create(
            claim=c,
            from_status=to,
            to_status=to,
            on_date=on,
            note=(note or "recovery proceedings concluded")[:500],
            actor=actor,
            at=timezone.now(),
        )
        audit.record(
            actor,
            "FUND_CLAIM_RECOVERY_CONCLUDED",
            "claim",
            c.pk,
            before={"recovery_concluded_on": None},
            after={"on": on, "recovered_fen": c.recovered_fen, "rulebook": c.rulebook_hash},
        )
    return c


@dataclass(frozen=True)
class StagePlan:
    """What paying the next stage of a partly paid claim does (``pay``, and the console's
    confirmation before it): the state after, the stage's row, its planned part and what it
    pays now (``stage_amount``)."""

    to: dc.ClaimStatus
    stage: Any
    planned_fen: int
    amount_fen: int


def plan_stage(actor: Any, c: Claim, on: dt.date, action: str, *, lock: bool) -> StagePlan:
    """The next stage of claim ``c`` paid on ``on`` by ``actor``, refused as ``pay`` refuses
    it (its lock-in or date not come, the recovery proceedings it waits for not concluded, a
    denial condition, maker-checker). With ``lock`` the loan and the stage's row are locked."""
    to = _take(
        actor,
        c.status,
        Step.PAY,
        action,
        dc.pay_target(stages=c.stages_total, paid_stages=c.stages_paid),
    )
    if c.checked_by_id == actor.pk:
        raise NotPermitted(_("the user who checked a claim may not approve it (maker-checker)"))
    loan = lending_port.loan_for_update(c.loan_id) if lock else c.loan
    facts = selectors.claim_facts(actor, c, loan, on=on)
    why = dc.unmet(Step.PAY, facts)
    if why is not None:
        raise Conflict(
            _("this claim cannot be paid: %(why)s; the trustee can reject it")
            % {"why": unmet_reason(why, facts)},
            field="claim_id",
        )
    rows = ClaimStage.objects.select_for_update() if lock else ClaimStage.objects
    stage = rows.get(claim=c, seq=c.stages_paid)
    return StagePlan(to, stage, stage.amount_fen, stage_amount(c, stage))


def _pay_stage(actor: Any, c: Claim, on: dt.date, action: str) -> Claim:
    """The next stage of a partly paid claim, as ``plan_stage`` plans it: fixed when its first
    stage was paid, or settled on the recoveries for a last stage that waited for the recovery
    proceedings; the denial conditions are asked again."""
    plan = plan_stage(actor, c, on, action, lock=True)
    to, stage, planned_fen = plan.to, plan.stage, plan.planned_fen
    stage.amount_fen = plan.amount_fen
    pool = books.pool_of(c.pool.district, lock=True)
    row = None
    if stage.amount_fen:
        try:
            entry = de.compensation(
                pool.district.code,
                stage.amount_fen,
                on=on,
                ref=f"claim {c.pk} loan {c.loan_id} stage {stage.seq + 1}",
                cash_fen=books.spendable(pool, on=on),
            )
        except de.InsufficientFunds as exc:
            _wait(actor, c, on, exc)
            return c
        row = books.book(pool, entry, kind=EntryKind.COMPENSATION, actor=actor)
    ClaimStage.objects.filter(pk=stage.pk).update(
        paid_on=on, entry=row, paid_by=actor, amount_fen=stage.amount_fen
    )
    c.stages_paid += 1
    c.paid_fen += stage.amount_fen
    c.waiting_since = None
    _move(
        actor,
        c,
        to,
        on,
        stage=stage.seq + 1,
        stage_fen=stage.amount_fen,
        planned_fen=planned_fen,
        recovered_fen=c.recovered_fen,
        pool_recovered_fen=c.pool_recovered_fen,
        paid_fen=c.paid_fen,
        entry=None if row is None else row.pk,
        rulebook=stage.rulebook_hash,
    )
    return c


def recover(actor: Any, *, claim_id: int, amount_fen: int, on: dt.date) -> Recovery:
    """An amount recovered from the borrower, shared among the loss-sharing parties in their
    recovery shares (``fund.domain.sharing.split``; fund : bank 80 : 20 by default) under the
    rulebook the claim was paid under; the partners' parts reduce what they owe the bank."""
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
        # shared as the rulebook the claim was filed under says (its recorded hash)
        rb = applied.rulebook_of(c.rulebook_hash, c.filed_on or c.registered_on)
        parties = applied.losses(rb)
        parts = split(amount_fen, [(p.id, p.recoveries) for p in parties])
        pool_part, bank_part = parts.get(FUND, 0), parts.get(BANK, 0)
        partners = {p.id: parts[p.id] for p in parties if p.id not in (FUND, BANK)}
        pool = books.pool_of(c.pool.district, lock=True)
        row = None
        if pool_part:
            entry = de.recovery(pool.district.code, pool_part, on=on, ref=f"claim {c.pk}")
            row = books.book(pool, entry, kind=EntryKind.RECOVERY, actor=actor)
        partner_row = None
        shared = de.partner_recoveries(pool.district.code, partners, on=on, ref=f"claim {c.pk}")
        if shared is not None:
            partner_row = books.book(pool, shared, kind=EntryKind.RECOVERY, actor=actor)
        r = Recovery.objects.create(
            claim=c,
            amount_fen=amount_fen,
            pool_share_fen=pool_part,
            bank_share_fen=bank_part,
            partner_share_fen=sum(partners.values()),
            recovered_on=on,
            entry=row,
            partner_entry=partner_row,
            recorded_by=actor,
            recorded_at=timezone.now(),
        )
        for p in parties:
            LossShare.objects.create(
                claim=c,
                recovery=r,
                party=p.id,
                name=p.name,
                name_zh=p.name_zh,
                share=str(p.recoveries),
                amount_fen=parts[p.id],
                entry=row if p.id == FUND else partner_row if p.id in partners else None,
                rulebook_hash=rb.content_hash,
            )
        c.partner_recovered_fen += sum(partners.values())
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
