"""Forbearance on a real book: a deferral granted at the enterprise's request re-cuts the plan
exact to the fen, and every day after it the end of day honours it (no penalty while waived,
days past due paused, interest as usual), with the watch period after; checked day by day
against a Fraction reference."""

from __future__ import annotations

import datetime as dt
from fractions import Fraction

import pytest

from kvcredit import relief
from kvcredit.audit.models import AuditRecord
from kvcredit.errors import Conflict, NotFound
from kvcredit.lending import deferrals, repayments
from kvcredit.lending.domain import deferral as dd
from kvcredit.lending.domain.schedule import DAILY
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import Deferral, Instalment
from kvcredit.money import round_half_up
from support.relief import P, make_loan, pay_instalment_on_due_date

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.timedelta(days=1)


def test_a_deferral_with_penalty_waived_day_by_day(world):
    """Under the shipped chongqing-2022 rule q4_2022: loans falling due in 2022 Q4 defer
    principal and interest to 2023-06-30, interest as usual, penalty waived, dpd paused."""
    loan = make_loan(world)
    for month in (7, 8, 9):
        pay_instalment_on_due_date(world, loan, dt.date(2022, month, 15))
    oct15 = dt.date(2022, 10, 15)
    run_eod(as_of=dt.date(2022, 10, 19), catch_up=True)  # October's instalment unpaid
    loan.refresh_from_db()
    assert loan.days_past_due == 4
    pen_day = round_half_up(Fraction(P // 6 * loan.penalty_rate_units, DAILY))
    assert loan.penalty_fen == 4 * pen_day
    oct_interest = Instalment.objects.get(loan=loan, seq=4).interest_due_fen

    # the enterprise asks, another bank cannot see it, the bank grants
    grant_day = dt.date(2022, 10, 20)
    d = deferrals.request(
        world.users["enterprise_a"], loan_id=loan.pk, rule="q4_2022", reason="疫情", today=grant_day
    )
    assert d.rulebook.startswith("chongqing-2022@")
    with pytest.raises(NotFound):
        deferrals.grant(world.users["bank_b"], deferral_id=d.pk, today=grant_day)
    d = deferrals.grant(world.users["bank_a"], deferral_id=d.pk, today=grant_day)
    assert d.status == "GRANTED"
    assert AuditRecord.objects.filter(action="DEFERRAL_GRANT", object_id=str(d.pk)).exists()
    with pytest.raises(Conflict):  # once per loan and rule
        deferrals.request(
            world.users["enterprise_a"],
            loan_id=loan.pk,
            rule="q4_2022",
            reason="x",
            today=grant_day,
        )

    # the plan: November's and December's instalments merge on 2023-06-30, exact to the fen
    not_due = 2 * P // 6
    jun30 = dt.date(2023, 6, 30)
    plan = list(Instalment.objects.filter(loan=loan, seq__gte=5).order_by("seq"))
    assert [(i.seq, i.due_date, i.principal_fen) for i in plan] == [(5, jun30, not_due)]
    period = (jun30 - oct15).days
    assert plan[0].interest_fen == round_half_up(
        Fraction(not_due * loan.rate_units * period, DAILY)
    )
    loan.refresh_from_db()
    assert (loan.instalment_count, loan.maturity_date, loan.next_due_date) == (5, jun30, jun30)

    # every day after it
    day = grant_day
    penalty = 4 * pen_day
    dpd = 4
    while day <= dt.date(2023, 7, 5):
        run_eod(as_of=day)
        loan.refresh_from_db()
        if day < jun30:
            accrued = round_half_up(
                Fraction(not_due * loan.rate_units * ((day - oct15).days + 1), DAILY)
            )
            assert repayments.accrued_fen(loan) == accrued, day
            assert loan.due_principal_fen == P // 6 and loan.due_interest_fen == oct_interest
            assert loan.penalty_fen == 4 * pen_day, day  # waived
            assert loan.days_past_due == 4, day  # paused
        else:
            if day == jun30:
                charged = Instalment.objects.get(loan=loan, seq=5).interest_due_fen
                assert charged == plan[0].interest_fen  # the plan was exact
                penalty += pen_day  # October's principal only: the new one is due today
            else:
                penalty += round_half_up(Fraction(3 * P // 6 * loan.penalty_rate_units, DAILY))
            dpd += 1
            assert loan.due_principal_fen == 3 * P // 6
            assert loan.penalty_fen == penalty, day
            assert loan.days_past_due == dpd, day
        assert loan.outstanding_principal_fen == 3 * P // 6
        assert loan.category != "NORMAL"  # under watch (and overdue)
        assert loan.status == "ACTIVE"
        day += DAY
    # overdue during the watch: it restarts from the last overdue day
    assert loan.watch_until == dt.date(2023, 7, 5) + 180 * DAY


SHORT = dd.DeferralRule(
    key="short_watch",
    window_from=dt.date(2022, 10, 1),
    window_to=dt.date(2023, 1, 1),
    defer_to=dt.date(2023, 1, 31),
    watch_days=10,
)


def test_the_watch_period_keeps_a_restructured_loan_special_mention_until_it_passes(world):
    loan = make_loan(world, method="MONTHLY_INTEREST", term=12)  # matures 2023-06-15
    day = dt.date(2022, 10, 10)
    with relief.using(relief.ReliefRules("test-rules@2#0", [], [SHORT])):
        for month in (7, 8, 9):
            pay_instalment_on_due_date(world, loan, dt.date(2022, month, 15))
        run_eod(as_of=day - DAY, catch_up=True)
        d = deferrals.request(
            world.users["bank_a"],
            loan_id=loan.pk,
            rule="short_watch",
            reason="on paper",
            today=day,
        )
        deferrals.grant(world.users["bank_a"], deferral_id=d.pk, today=day)
    loan.refresh_from_db()
    jan31 = dt.date(2023, 1, 31)
    dates = [(i.due_date, i.principal_fen) for i in loan.instalments.filter(seq__gte=4)]
    assert dates == [(jan31, 0)] + [(dt.date(2023, m, 15), 0) for m in (2, 3, 4, 5)] + [
        (dt.date(2023, 6, 15), P)
    ]
    run_eod(as_of=day, catch_up=True)
    loan.refresh_from_db()
    assert loan.category == "SPECIAL_MENTION" and loan.days_past_due == 0
    pay_instalment_on_due_date(world, loan, jan31)
    seen = {}
    d2 = jan31
    while d2 <= dt.date(2023, 2, 14):
        run_eod(as_of=d2, catch_up=True)
        loan.refresh_from_db()
        seen[d2] = loan.category
        assert loan.days_past_due == 0
        d2 += DAY
    assert seen[dt.date(2023, 2, 10)] == "SPECIAL_MENTION"  # the last day of the watch
    assert seen[dt.date(2023, 2, 11)] == "NORMAL"  # normal again: no day overdue
    assert loan.watch_until == jan31 + 10 * DAY


def test_a_loan_without_an_instalment_in_the_window_does_not_qualify(world):
    loan = make_loan(world, method="MONTHLY_INTEREST", term=3)  # matures 2022-09-15
    run_eod(as_of=dt.date(2022, 10, 1), catch_up=True)
    with pytest.raises(Conflict):
        deferrals.request(
            world.users["enterprise_a"],
            loan_id=loan.pk,
            rule="q4_2022",
            reason="x",
            today=dt.date(2022, 10, 2),
        )
    assert not Deferral.objects.exists()
