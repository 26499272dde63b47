"""The application and loan tables, step by step, and the credit line's arithmetic: what each
table allows (by state and by role), what it refuses, and that no sequence of steps or of
credit-line operations reaches what the rules forbid."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from kvcredit.enterprises.domain.credit_line import CreditLine, CreditLineError
from kvcredit.lending.domain import lifecycle as lc
from kvcredit.roles import Role
from kvcredit.statemachine import StepRefused

A, L = lc.ApplicationStatus, lc.LoanStatus

APPLICATION_ALLOWED = {
    (None, "apply"): (A.SUBMITTED, {Role.ENTERPRISE}),
    (A.SUBMITTED, "approve"): (A.APPROVED, {Role.BANK}),
    (A.SUBMITTED, "reject"): (A.REJECTED, {Role.BANK}),
    (A.APPROVED, "reject"): (A.REJECTED, {Role.BANK}),
    (A.SUBMITTED, "withdraw"): (A.WITHDRAWN, {Role.ENTERPRISE}),
    (A.APPROVED, "withdraw"): (A.WITHDRAWN, {Role.ENTERPRISE}),
    (A.APPROVED, "expire"): (A.EXPIRED, {Role.SYSTEM}),
    (A.APPROVED, "disburse"): (A.DISBURSED, {Role.BANK}),
}
LOAN_ALLOWED = {
    (None, "disburse"): ({L.ACTIVE}, {Role.BANK}),
    (None, "renew"): ({L.ACTIVE}, {Role.BANK}),
    (L.ACTIVE, "renew"): ({L.RENEWED}, {Role.BANK}),
    (L.ACTIVE, "defer"): ({L.ACTIVE}, {Role.BANK}),  # forbearance re-cuts the plan
    (L.ACTIVE, "compensate"): ({L.COMPENSATED}, {Role.TRUSTEE}),
    (L.ACTIVE, "close"): ({L.CLOSED}, {Role.BANK, Role.SYSTEM}),
    (L.COMPENSATED, "close"): ({L.CLOSED}, {Role.BANK, Role.SYSTEM}),
    (L.CLOSED, "reopen"): ({L.ACTIVE, L.COMPENSATED}, {Role.BANK}),
    (L.ACTIVE, "write_off"): ({L.WRITTEN_OFF}, {Role.TRUSTEE}),
    (L.COMPENSATED, "write_off"): ({L.WRITTEN_OFF}, {Role.TRUSTEE}),
}


def _cases(machine, allowed):
    for source in (None, *machine.states):
        for step in machine.steps:
            for role in Role:
                yield source, step, role, allowed.get((source, step))


@pytest.mark.parametrize(
    ("source", "step", "role", "rule"), list(_cases(lc.APPLICATION, APPLICATION_ALLOWED))
)
def test_the_application_table_allows_exactly_its_steps(source, step, role, rule):
    if rule is not None and role in rule[1]:
        assert lc.APPLICATION.step(source, step, role) is rule[0]
        assert step in lc.APPLICATION.allowed_steps(source, role)
    else:
        with pytest.raises(StepRefused) as refused:
            lc.APPLICATION.step(source, step, role)
        assert refused.value.reason == ("state" if rule is None else "role")
        assert not lc.APPLICATION.may(source, step, role)


@pytest.mark.parametrize(("source", "step", "role", "rule"), list(_cases(lc.LOAN, LOAN_ALLOWED)))
def test_the_loan_table_allows_exactly_its_steps(source, step, role, rule):
    if rule is not None and role in rule[1]:
        for target in rule[0]:
            assert lc.LOAN.step(source, step, role, target=target) is target
    else:
        with pytest.raises(StepRefused) as refused:
            lc.LOAN.step(source, step, role, target=next(iter(L)))
        assert refused.value.reason in ("state", "role")
        assert not lc.LOAN.may(source, step, role)


def test_a_reopened_loan_returns_to_what_the_fund_left_it():
    assert lc.reopened_status(compensated=True) is L.COMPENSATED
    assert lc.reopened_status(compensated=False) is L.ACTIVE
    for compensated in (True, False):
        back = lc.reopened_status(compensated=compensated)
        assert lc.LOAN.step(L.CLOSED, "reopen", Role.BANK, target=back) is back


def test_only_a_live_loan_is_repaid_and_only_an_active_one_compensated():
    assert {s for s in L if lc.may_repay(s)} == {L.ACTIVE, L.COMPENSATED}
    assert {s for s in L if lc.may_reverse_repayment(s)} == {L.ACTIVE, L.COMPENSATED, L.CLOSED}
    assert {s for s in L if lc.claimable(status=s, days_past_due=1)} == {L.ACTIVE}
    assert not lc.claimable(status=L.ACTIVE, days_past_due=0)
    assert lc.may_compensate(status=L.ACTIVE, days_past_due=90, min_days_overdue=90)
    assert not lc.may_compensate(status=L.ACTIVE, days_past_due=89, min_days_overdue=90)
    assert not lc.may_compensate(status=L.CLOSED, days_past_due=120, min_days_overdue=90)


def _walk(machine, data):
    """Random steps by random roles from creation; refused steps change nothing."""
    state = None
    for _ in range(data.draw(st.integers(0, 12))):
        step = data.draw(st.sampled_from(machine.steps))
        role = data.draw(st.sampled_from(list(Role)))
        targets = machine.targets(state, step)
        target = data.draw(st.sampled_from(targets)) if targets else None
        before = state
        try:
            state = machine.step(state, step, role, target=target)
        except StepRefused:
            assert state == before
            continue
        assert any(
            x.source == before and x.step == step and x.target == state and role in x.who
            for x in machine.transitions
        )
        assert before not in machine.final
    return state


@given(st.data())
def test_no_sequence_of_application_steps_leaves_the_table(data):
    _walk(lc.APPLICATION, data)


@given(st.data())
def test_no_sequence_of_loan_steps_leaves_the_table(data):
    _walk(lc.LOAN, data)


# -- the credit line ---------------------------------------------------------------------------

TODAY = dt.date(2025, 6, 30)
amounts = st.integers(-10, 2_000)
ops = st.lists(
    st.tuples(st.sampled_from(["reserve", "release", "consume", "restore"]), amounts, amounts),
    max_size=30,
)


@given(st.integers(0, 1_000), ops)
def test_no_sequence_of_operations_makes_a_credit_line_negative(limit, sequence):
    line = CreditLine(limit, valid_until=TODAY + dt.timedelta(days=1))
    for op, amount, held in sequence:
        before = line
        try:
            if op == "reserve":
                line = line.reserve(amount, today=TODAY)
            elif op == "release":
                line = line.release(amount)
            elif op == "consume":
                line = line.consume(amount, held=held)
            else:
                line = line.restore(amount)
        except CreditLineError:
            assert line == before  # a refused operation changes nothing
            continue
        assert line.reserved >= 0 and line.used >= 0 and line.available >= 0
        if op == "reserve":
            assert line.reserved + line.used <= max(line.limit, before.reserved + before.used)


def test_the_credit_line_refuses_instead_of_clamping():
    line = CreditLine(1_000, reserved=300, used=200, valid_until=TODAY + dt.timedelta(days=1))
    assert line.available == 500
    with pytest.raises(CreditLineError):
        line.reserve(501, today=TODAY)
    with pytest.raises(CreditLineError):
        line.release(301)
    with pytest.raises(CreditLineError):
        line.restore(201)
    with pytest.raises(CreditLineError):
        line.consume(100, held=301)
    assert line.reserve(500, today=TODAY).available == 0
    assert line.consume(300, held=300) == CreditLine(1_000, 0, 500, line.valid_until)
    assert line.restore(200).used == 0


def test_a_lapsed_or_lowered_line_has_nothing_available():
    lapsed = CreditLine(1_000, valid_until=TODAY)
    assert lapsed.available_on(TODAY) == 0
    with pytest.raises(CreditLineError):
        lapsed.reserve(1, today=TODAY)
    lowered = CreditLine(1_000, used=800).with_limit(500, TODAY + dt.timedelta(days=1))
    assert (lowered.available, lowered.over, lowered.used) == (0, 300, 800)
