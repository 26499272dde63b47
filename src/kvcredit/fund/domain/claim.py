"""A compensation claim's lifecycle: its states, the transition table, the questions readers ask.

Pure (no Django). ``fund.claims`` applies each step through ``CLAIM.step`` and ``unmet``; the
console, the API, the selectors and the demonstration ask ``allowed_steps``, ``is_waiting``,
``holds_loan`` and ``unmet`` instead of re-deriving a rule. The Django choices
(``fund.models.ClaimStatus``), the API's status type and the templates' labels are built from
``ClaimStatus`` and ``CLAIM_LABELS`` here, so each code is defined once::

    (new) ─register─▶ REGISTERED ─file─▶ FILED ─check─▶ CHECKED ─pay─▶ PAID ─recover─▶ RECOVERING
                          │                 │               │            │ └─close/write_off─┐ │
                          └─────reject──────┴─────reject────┘            └───────────────────┴─┴─▶
                                   ▼                                            CLOSED / WRITTEN_OFF
                                REJECTED

A staged payment (``fund.domain.compensation.Stage``) goes CHECKED ─pay─▶ PARTLY_PAID ─pay─▶
… ─pay─▶ PAID (``pay_target`` says which); a partly paid claim can take recoveries and be
closed or written off (the stages left are then not paid). A last stage may wait for the
recovery proceedings: the trustee records their conclusion (``conclude_recovery``, once; the
claim stays PARTLY_PAID) and the stage becomes payable.

The bank registers and files; the trustee checks and pays with maker-checker (the user who
checked a claim may not pay it); a checked claim the pool cannot cover yet *waits for funds*
(``waiting_since``) and is paid by a later ``pay``. Paying requires, at the moment of payment,
that the loan is still on the bank's book, not compensated, and overdue as the fund's rules
require, with overdue principal left (``lending.domain.lifecycle.may_compensate``): a loan
repaid or closed since the claim was checked is not paid; the claim can then be rejected.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from kvcredit.fund.domain import rules as dr
from kvcredit.lending.domain import lifecycle as ll
from kvcredit.roles import Role, gettext_noop
from kvcredit.statemachine import Machine, t

BANK, TRUSTEE = Role.BANK, Role.TRUSTEE


class ClaimStatus(StrEnum):
    REGISTERED = "REGISTERED"
    FILED = "FILED"
    CHECKED = "CHECKED"
    PARTLY_PAID = "PARTLY_PAID"  # a staged payment: a stage paid, a later one still to come
    PAID = "PAID"
    RECOVERING = "RECOVERING"
    CLOSED = "CLOSED"
    WRITTEN_OFF = "WRITTEN_OFF"
    REJECTED = "REJECTED"


C = ClaimStatus

CLAIM_LABELS: dict[ClaimStatus, str] = {
    C.REGISTERED: gettext_noop("registered (overdue reported)"),
    C.FILED: gettext_noop("claim filed"),
    C.CHECKED: gettext_noop("checked"),
    C.PARTLY_PAID: gettext_noop("partly paid (a stage to come)"),
    C.PAID: gettext_noop("paid"),
    C.RECOVERING: gettext_noop("recovering"),
    C.CLOSED: gettext_noop("closed"),
    C.WRITTEN_OFF: gettext_noop("written off"),
    C.REJECTED: gettext_noop("rejected"),
}


class Step(StrEnum):
    REGISTER = "register"
    FILE = "file"
    CHECK = "check"
    PAY = "pay"
    RECOVER = "recover"
    CLOSE = "close"
    WRITE_OFF = "write_off"
    REJECT = "reject"
    CONCLUDE_RECOVERY = "conclude_recovery"


CLAIM = Machine(
    "claim",
    ClaimStatus,
    CLAIM_LABELS,
    [
        t(None, Step.REGISTER, C.REGISTERED, BANK),
        t(C.REGISTERED, Step.FILE, C.FILED, BANK),
        t(C.FILED, Step.CHECK, C.CHECKED, TRUSTEE),
        t(C.CHECKED, Step.PAY, C.PAID, TRUSTEE),  # or it waits for funds, still CHECKED
        t(C.CHECKED, Step.PAY, C.PARTLY_PAID, TRUSTEE),  # the first of several stages
        t(C.PARTLY_PAID, Step.PAY, C.PARTLY_PAID, TRUSTEE),  # a middle stage
        t(C.PARTLY_PAID, Step.PAY, C.PAID, TRUSTEE),  # the last stage
        t(C.PARTLY_PAID, Step.RECOVER, C.PARTLY_PAID, BANK, TRUSTEE),
        # the recovery proceedings concluded: a last stage waiting for them becomes payable
        t(C.PARTLY_PAID, Step.CONCLUDE_RECOVERY, C.PARTLY_PAID, TRUSTEE),
        t(C.PAID, Step.RECOVER, C.RECOVERING, BANK, TRUSTEE),
        t(C.RECOVERING, Step.RECOVER, C.RECOVERING, BANK, TRUSTEE),
        t(C.PAID, Step.CLOSE, C.CLOSED, TRUSTEE),
        t(C.RECOVERING, Step.CLOSE, C.CLOSED, TRUSTEE),
        t(C.PAID, Step.WRITE_OFF, C.WRITTEN_OFF, TRUSTEE),
        t(C.PARTLY_PAID, Step.CLOSE, C.CLOSED, TRUSTEE),  # the stages left are not paid
        t(C.PARTLY_PAID, Step.WRITE_OFF, C.WRITTEN_OFF, TRUSTEE),
        t(C.RECOVERING, Step.WRITE_OFF, C.WRITTEN_OFF, TRUSTEE),
        t(C.REGISTERED, Step.REJECT, C.REJECTED, TRUSTEE),
        t(C.FILED, Step.REJECT, C.REJECTED, TRUSTEE),
        t(C.CHECKED, Step.REJECT, C.REJECTED, TRUSTEE),
    ],
    final=(C.CLOSED, C.WRITTEN_OFF, C.REJECTED),
)

# A claim in these states holds its loan: no other claim on the loan may be registered (a
# rejected claim lets the loan be claimed again). The database's unique constraint says so too.
HOLDING: tuple[ClaimStatus, ...] = tuple(s for s in ClaimStatus if s is not C.REJECTED)

# A claim waits for funds in these states once a payment found the pool short.
WAITING: tuple[ClaimStatus, ...] = (C.CHECKED, C.PARTLY_PAID)

# Paid: the fund's money went out (recoveries may come back); a staged claim once its first
# stage is paid.
PAID: tuple[ClaimStatus, ...] = (C.PARTLY_PAID, C.PAID, C.RECOVERING, C.CLOSED, C.WRITTEN_OFF)


def pay_target(*, stages: int, paid_stages: int) -> ClaimStatus:
    """The state after paying stage number ``paid_stages`` (0-based) of ``stages``: PAID once
    the last is paid, PARTLY_PAID before."""
    if not 0 <= paid_stages < stages:
        raise ValueError("no stage left to pay")
    return C.PAID if paid_stages + 1 == stages else C.PARTLY_PAID


def holds_loan(status: str) -> bool:
    """Does a claim in ``status`` hold its loan (no second claim may be registered)?"""
    return C(status) in HOLDING


def is_waiting(status: str, waiting_since: dt.date | None) -> bool:
    """Waiting for funds: checked, and a payment found the pool unable to cover it."""
    return C(status) in WAITING and waiting_since is not None


class Unmet(StrEnum):
    """Why a step open in the table cannot be taken with these facts."""

    LOAN_NOT_CLAIMABLE = "LOAN_NOT_CLAIMABLE"  # the loan is not live, or already compensated
    LOAN_NOT_OVERDUE = "LOAN_NOT_OVERDUE"  # (registering) no day past due
    TOO_FEW_DAYS = "TOO_FEW_DAYS"  # fewer days overdue than the rules require
    NO_OVERDUE_PRINCIPAL = "NO_OVERDUE_PRINCIPAL"
    CHECKER_MAY_NOT_PAY = "CHECKER_MAY_NOT_PAY"  # maker-checker
    DENIED = "DENIED"  # a condition of the rulebook denies compensation (``denials`` say which)
    STAGE_LOCKED_IN = "STAGE_LOCKED_IN"  # the next stage's lock-in (or date) has not come
    STAGE_AWAITS_RECOVERY = "STAGE_AWAITS_RECOVERY"  # it waits for the recovery proceedings
    RECOVERY_CONCLUDED = "RECOVERY_CONCLUDED"  # (concluding) recorded already


@dataclass(frozen=True)
class ClaimFacts:
    """What the lifecycle needs to know about a claim (``status`` None: not registered yet),
    who acts (``actor_id``), and its loan as it stands now (``loan_status`` None: not asked)."""

    status: ClaimStatus | None
    waiting_since: dt.date | None = None
    checked_by_id: int | None = None
    actor_id: int | None = None
    loan_status: str | None = None
    days_past_due: int = 0
    overdue_principal_fen: int = 0
    min_days_overdue: int = dr.FundRules().min_days_overdue
    denials: tuple[str, ...] = ()  # the rulebook's denial conditions the loan meets
    stage_wait: str | None = None  # why the next stage of a staged payment waits (a StageWait)
    recovery_concluded_on: dt.date | None = None  # the trustee recorded the proceedings' end


def _loan_unmet(f: ClaimFacts, *, registering: bool) -> Unmet | None:
    if f.loan_status is None:
        return None
    if registering:
        if not ll.LOAN.may(f.loan_status, "compensate"):
            return Unmet.LOAN_NOT_CLAIMABLE
        if not ll.claimable(status=f.loan_status, days_past_due=f.days_past_due):
            return Unmet.LOAN_NOT_OVERDUE
        return None
    if not ll.LOAN.may(f.loan_status, "compensate"):
        return Unmet.LOAN_NOT_CLAIMABLE
    if not ll.may_compensate(
        status=f.loan_status, days_past_due=f.days_past_due, min_days_overdue=f.min_days_overdue
    ):
        return Unmet.TOO_FEW_DAYS
    if f.overdue_principal_fen <= 0:
        return Unmet.NO_OVERDUE_PRINCIPAL
    return None


def unmet(step: str, f: ClaimFacts) -> Unmet | None:
    """What ``step`` requires beyond the table, and is missing (None: nothing).

    register  the loan is claimable now (live, not compensated, overdue);
    file      the loan is live, not compensated, overdue by the rules, with overdue principal;
    pay       the same again, at the moment of payment, and the payer is not the checker; a
              later stage of a staged payment: its lock-in passed (the loan is compensated
              already, so it is not asked again), its date came, and a stage that waits for
              the recovery proceedings finds them concluded;
    conclude_recovery  not recorded before (once per claim).
    Registering, filing and paying are refused (DENIED) while a denial condition holds."""
    s = Step(step)
    if s is Step.REGISTER:
        return _loan_unmet(f, registering=True) or _denied(f)
    if s is Step.FILE:
        return _loan_unmet(f, registering=False) or _denied(f)
    if s is Step.PAY:
        if f.actor_id is not None and f.actor_id == f.checked_by_id:
            return Unmet.CHECKER_MAY_NOT_PAY
        if f.status is C.PARTLY_PAID:  # a later stage: the loan is compensated already
            if f.stage_wait == "LOCK_IN":
                return Unmet.STAGE_LOCKED_IN
            if f.stage_wait == "RECOVERY":
                return Unmet.STAGE_AWAITS_RECOVERY
            return _denied(f)
        return _loan_unmet(f, registering=False) or _denied(f)
    if s is Step.CONCLUDE_RECOVERY and f.recovery_concluded_on is not None:
        return Unmet.RECOVERY_CONCLUDED
    return None


def _denied(f: ClaimFacts) -> Unmet | None:
    return Unmet.DENIED if f.denials else None


def allowed_steps(role: Role | str | None, f: ClaimFacts) -> list[str]:
    """The steps ``role`` (and the acting user) may take on the claim now: open in the table
    from its state, for the role, and not refused by maker-checker (the checker may not pay).
    A claim waiting for funds may be paid again. Requirements on the loan are ``unmet``'s."""
    if role is None or role not in set(Role):
        return []
    return [
        s
        for s in CLAIM.allowed_steps(f.status, role)
        if not (s == Step.PAY and unmet(s, _no_loan(f)) is Unmet.CHECKER_MAY_NOT_PAY)
    ]


def _no_loan(f: ClaimFacts) -> ClaimFacts:
    return ClaimFacts(f.status, f.waiting_since, f.checked_by_id, f.actor_id)


def payment(
    *,
    filed_fen: int,
    filed_overdue_principal_fen: int,
    overdue_principal_fen: int,
    rules: dr.FundRules,
) -> tuple[int, int]:
    """(the overdue principal compensated, the amount paid) when a claim is paid.

    The fund compensates the loan's overdue principal at the moment of payment, but never more
    than the claim was filed for: a borrower who repaid part of it since leaves the fund less
    to pay; one who fell further behind does not raise the claim (a new claim is not possible
    either: one claim per loan). The amount is the share of that principal, at most the amount
    filed."""
    basis = min(filed_overdue_principal_fen, max(overdue_principal_fen, 0))
    return basis, min(filed_fen, dr.share_of(basis, rules.compensation_share))
