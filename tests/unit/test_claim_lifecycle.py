"""The claim lifecycle (fund.domain.claim): each step the table allows, each it refuses by state
and by role, maker-checker, what paying requires of the loan, and random step sequences."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcredit.fund.domain import claim as dc
from kvcredit.fund.domain.rules import FundRules
from kvcredit.roles import Role
from kvcredit.statemachine import StepRefused

C, S = dc.ClaimStatus, dc.Step
B, T = Role.BANK, Role.TRUSTEE

# (from, step, to, who): the whole table, written out as the rules read.
ALLOWED = [
    (None, S.REGISTER, C.REGISTERED, {B}),
    (C.REGISTERED, S.FILE, C.FILED, {B}),
    (C.FILED, S.CHECK, C.CHECKED, {T}),
    (C.CHECKED, S.PAY, C.PAID, {T}),
    (C.CHECKED, S.PAY, C.PARTLY_PAID, {T}),  # a staged payment's first stage
    (C.PARTLY_PAID, S.PAY, C.PARTLY_PAID, {T}),
    (C.PARTLY_PAID, S.PAY, C.PAID, {T}),
    (C.PARTLY_PAID, S.RECOVER, C.PARTLY_PAID, {B, T}),
    (C.PARTLY_PAID, S.CONCLUDE_RECOVERY, C.PARTLY_PAID, {T}),  # the recovery proceedings ended
    (C.PAID, S.RECOVER, C.RECOVERING, {B, T}),
    (C.RECOVERING, S.RECOVER, C.RECOVERING, {B, T}),
    (C.PAID, S.CLOSE, C.CLOSED, {T}),
    (C.RECOVERING, S.CLOSE, C.CLOSED, {T}),
    (C.PAID, S.WRITE_OFF, C.WRITTEN_OFF, {T}),
    (C.RECOVERING, S.WRITE_OFF, C.WRITTEN_OFF, {T}),
    (C.PARTLY_PAID, S.CLOSE, C.CLOSED, {T}),
    (C.PARTLY_PAID, S.WRITE_OFF, C.WRITTEN_OFF, {T}),
    (C.REGISTERED, S.REJECT, C.REJECTED, {T}),
    (C.FILED, S.REJECT, C.REJECTED, {T}),
    (C.CHECKED, S.REJECT, C.REJECTED, {T}),
]
OPEN = {(src, step): (to, who) for src, step, to, who in ALLOWED}
SEVERAL = {k for k in OPEN if sum(1 for a in ALLOWED if (a[0], a[1]) == k) > 1}
SOURCES: list[C | None] = [None, *C]


@pytest.mark.parametrize(("source", "step", "target", "who"), ALLOWED)
def test_each_allowed_step_leads_where_the_table_says_for_whom_it_says(source, step, target, who):
    chosen = target if (source, step) in SEVERAL else None
    for role in who:
        assert dc.CLAIM.step(source, step, role, target=chosen) is target
    for role in set(Role) - who:
        with pytest.raises(StepRefused) as refused:
            dc.CLAIM.step(source, step, role, target=chosen)
        assert refused.value.reason == "role"


@pytest.mark.parametrize("step", list(S))
@pytest.mark.parametrize("source", SOURCES)
def test_every_other_step_is_refused_by_state(source, step):
    if (source, step) in OPEN:
        return
    for role in Role:
        with pytest.raises(StepRefused) as refused:
            dc.CLAIM.step(source, step, role)
        assert refused.value.reason == "state"


def test_ended_claims_take_no_step_at_all():
    for end in (C.CLOSED, C.WRITTEN_OFF, C.REJECTED):
        assert end in dc.CLAIM.final
        assert [dc.CLAIM.allowed_steps(end, r) for r in Role] == [[]] * len(Role)


def test_the_checker_may_not_pay_another_trustee_may():
    checked = dc.ClaimFacts(C.CHECKED, checked_by_id=7, actor_id=7)
    assert S.PAY not in dc.allowed_steps(T, checked)
    assert dc.allowed_steps(T, checked) == [S.REJECT]
    assert dc.unmet(S.PAY, checked) is dc.Unmet.CHECKER_MAY_NOT_PAY
    other = dc.ClaimFacts(C.CHECKED, checked_by_id=7, actor_id=8)
    assert dc.allowed_steps(T, other) == [S.PAY, S.REJECT]
    assert dc.unmet(S.PAY, other) is None


def test_a_claim_waiting_for_funds_may_be_paid_again_and_rejected():
    waiting = dc.ClaimFacts(C.CHECKED, waiting_since=dt.date(2025, 6, 1), checked_by_id=1)
    assert dc.is_waiting(waiting.status, waiting.waiting_since)
    assert dc.allowed_steps(T, dc.ClaimFacts(C.CHECKED, checked_by_id=1, actor_id=2)) == [
        S.PAY,
        S.REJECT,
    ]


@pytest.mark.parametrize("status", list(C))
def test_only_a_checked_or_partly_paid_claim_with_a_date_waits_for_funds(status):
    day = dt.date(2025, 6, 1)
    assert dc.is_waiting(status, day) is (status in (C.CHECKED, C.PARTLY_PAID))
    assert dc.is_waiting(status, None) is False


def test_the_bank_files_and_recovers_the_trustee_does_the_rest():
    assert dc.allowed_steps(B, dc.ClaimFacts(C.REGISTERED)) == [S.FILE]
    assert dc.allowed_steps(T, dc.ClaimFacts(C.REGISTERED)) == [S.REJECT]
    assert dc.allowed_steps(B, dc.ClaimFacts(C.FILED)) == []
    assert dc.allowed_steps(B, dc.ClaimFacts(C.PAID)) == [S.RECOVER]
    assert dc.allowed_steps(T, dc.ClaimFacts(C.RECOVERING)) == [S.RECOVER, S.CLOSE, S.WRITE_OFF]
    for role in (Role.DISTRICT, Role.ADMINISTRATOR, Role.ENTERPRISE, None, "NOBODY"):
        assert all(dc.allowed_steps(role, dc.ClaimFacts(s)) == [] for s in C)


def test_every_claim_but_a_rejected_one_holds_its_loan():
    assert [s for s in C if not dc.holds_loan(s)] == [C.REJECTED]


def _loan(status="ACTIVE", dpd=120, overdue=10**6, **kw):  # type: ignore[no-untyped-def]
    return dc.ClaimFacts(
        kw.pop("claim", C.CHECKED),
        checked_by_id=1,
        actor_id=2,
        loan_status=status,
        days_past_due=dpd,
        overdue_principal_fen=overdue,
        min_days_overdue=90,
    )


def test_paying_needs_the_loan_still_live_uncompensated_and_overdue_by_the_rules():
    assert dc.unmet(S.PAY, _loan()) is None
    assert dc.unmet(S.PAY, _loan(dpd=90)) is None
    assert dc.unmet(S.PAY, _loan(dpd=89)) is dc.Unmet.TOO_FEW_DAYS
    assert dc.unmet(S.PAY, _loan(overdue=0)) is dc.Unmet.NO_OVERDUE_PRINCIPAL  # repaid since
    for status in ("CLOSED", "COMPENSATED", "WRITTEN_OFF", "RENEWED"):
        assert dc.unmet(S.PAY, _loan(status=status)) is dc.Unmet.LOAN_NOT_CLAIMABLE
    assert dc.unmet(S.FILE, _loan(status="CLOSED", claim=C.REGISTERED)) is (
        dc.Unmet.LOAN_NOT_CLAIMABLE
    )


def test_registering_needs_a_claimable_loan_any_day_past_due():
    assert dc.unmet(S.REGISTER, _loan(dpd=1, claim=None)) is None
    assert dc.unmet(S.REGISTER, _loan(dpd=0, claim=None)) is dc.Unmet.LOAN_NOT_OVERDUE
    assert dc.unmet(S.REGISTER, _loan(status="CLOSED", claim=None)) is (dc.Unmet.LOAN_NOT_CLAIMABLE)


def test_the_fund_pays_the_share_of_the_overdue_principal_at_payment_never_more_than_filed():
    rules = FundRules()  # 80 %

    def paid(now: int) -> tuple[int, int]:
        return dc.payment(
            filed_fen=800, filed_overdue_principal_fen=1_000, overdue_principal_fen=now, rules=rules
        )

    assert paid(1_000) == (1_000, 800)
    assert paid(500) == (500, 400)  # part repaid since filing
    assert paid(5_000) == (1_000, 800)  # further behind: the claim is as filed
    assert paid(0) == (0, 0)


def test_the_labels_are_the_catalogue_msgids():
    assert dc.CLAIM.choices() == [
        ("REGISTERED", "registered (overdue reported)"),
        ("FILED", "claim filed"),
        ("CHECKED", "checked"),
        ("PARTLY_PAID", "partly paid (a stage to come)"),
        ("PAID", "paid"),
        ("RECOVERING", "recovering"),
        ("CLOSED", "closed"),
        ("WRITTEN_OFF", "written off"),
        ("REJECTED", "rejected"),
    ]


# A claim is never paid without being filed and checked, never recovered or ended without being
# paid, never moves again once ended: whatever steps are tried, by whoever, in whatever order.
REACHABLE_BEFORE = {
    C.REGISTERED: set(),
    C.FILED: {C.REGISTERED},
    C.CHECKED: {C.REGISTERED, C.FILED},
    C.PAID: {C.REGISTERED, C.FILED, C.CHECKED},
    C.RECOVERING: {C.REGISTERED, C.FILED, C.CHECKED, C.PAID},
    C.CLOSED: {C.REGISTERED, C.FILED, C.CHECKED, C.PAID},
    C.WRITTEN_OFF: {C.REGISTERED, C.FILED, C.CHECKED, C.PAID},
    C.REJECTED: {C.REGISTERED},
}


@settings(max_examples=400, deadline=None)
@given(
    st.lists(
        st.tuples(st.sampled_from(list(S)), st.sampled_from(list(Role)), st.integers(1, 3)),
        max_size=30,
    )
)
def test_no_sequence_of_steps_reaches_a_state_the_table_forbids(tries):
    status: C | None = None
    seen: list[C] = []
    checker: int | None = None
    for step, role, user in tries:
        facts = dc.ClaimFacts(status, checked_by_id=checker, actor_id=user)
        try:
            to = dc.CLAIM.step(status, step, role)
        except StepRefused:
            assert step not in dc.allowed_steps(role, facts)
            continue
        assert (status, step) in OPEN and role in OPEN[(status, step)][1]
        if step is S.PAY and facts.actor_id == checker:
            assert step not in dc.allowed_steps(role, facts)  # maker-checker: not offered
            continue
        assert step in dc.allowed_steps(role, facts) or status is None
        if step is S.CHECK:
            checker = user
        status = to
        if not seen or seen[-1] is not to:
            seen.append(to)
    for i, state in enumerate(seen):
        assert set(seen[:i]) >= REACHABLE_BEFORE[state]
        if state in dc.CLAIM.final:
            assert i == len(seen) - 1  # nothing after an end
    if C.PAID in seen:
        assert C.REJECTED not in seen and checker is not None


def test_a_staged_payment_goes_partly_paid_until_its_last_stage():
    assert dc.pay_target(stages=1, paid_stages=0) is C.PAID
    assert dc.pay_target(stages=2, paid_stages=0) is C.PARTLY_PAID
    assert dc.pay_target(stages=3, paid_stages=1) is C.PARTLY_PAID
    assert dc.pay_target(stages=2, paid_stages=1) is C.PAID
    with pytest.raises(ValueError):
        dc.pay_target(stages=2, paid_stages=2)
    assert C.PARTLY_PAID in dc.PAID and dc.holds_loan(C.PARTLY_PAID)


def test_a_later_stage_waits_for_its_lock_in_not_for_the_loan():
    later = dc.ClaimFacts(C.PARTLY_PAID, checked_by_id=1, actor_id=2, loan_status="COMPENSATED")
    assert dc.unmet(S.PAY, later) is None
    locked = dc.ClaimFacts(C.PARTLY_PAID, checked_by_id=1, actor_id=2, stage_wait="LOCK_IN")
    assert dc.unmet(S.PAY, locked) is dc.Unmet.STAGE_LOCKED_IN
    assert dc.allowed_steps(B, later) == [S.RECOVER]
    assert dc.allowed_steps(T, later) == [
        S.PAY,
        S.RECOVER,
        S.CONCLUDE_RECOVERY,
        S.CLOSE,
        S.WRITE_OFF,
    ]
    waiting = dc.ClaimFacts(C.PARTLY_PAID, checked_by_id=1, actor_id=2, stage_wait="RECOVERY")
    assert dc.unmet(S.PAY, waiting) is dc.Unmet.STAGE_AWAITS_RECOVERY


def test_a_denial_condition_refuses_registering_filing_and_paying():
    denied = dc.ClaimFacts(
        C.CHECKED,
        checked_by_id=1,
        actor_id=2,
        loan_status="ACTIVE",
        days_past_due=120,
        overdue_principal_fen=10,
        denials=("ABOVE_LIMIT",),
    )
    assert dc.unmet(S.PAY, denied) is dc.Unmet.DENIED
    assert dc.unmet(S.FILE, denied) is dc.Unmet.DENIED
    assert dc.unmet(S.REGISTER, denied) is dc.Unmet.DENIED
