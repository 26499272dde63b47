"""The demo generator on a small programme: the fund's books balance, the figures move, and the
claims are at every step, from registered to closed."""

from __future__ import annotations

import datetime as dt

import pytest

pytestmark = pytest.mark.django_db


def test_a_small_demo_balances_its_books_and_shows_claims_at_every_step() -> None:
    from django.db.models import Sum

    from kvcredit import demo
    from kvcredit.accounts.models import User
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.audit.services import verify
    from kvcredit.fund import books, breakers
    from kvcredit.fund.domain.rules import FundRules, claim_amount, recovery_split
    from kvcredit.fund.models import (
        Claim,
        ClaimEvent,
        ClaimStatus,
        Contribution,
        FeeReduction,
        Pool,
        Recovery,
        ServiceFee,
    )
    from kvcredit.lending.models import LIVE_STATUSES, EodRun, Loan, LoanStatus, Repayment
    from kvcredit.reporting import programme

    until = dt.date(2023, 12, 31)
    # a small book defaults more often than the demo's 4 %, so that it has claims to follow
    report = demo.load(seed=11, enterprises=300, until=until, default_rate=0.15)
    assert report.start == demo.DEMO_START == dt.date(2021, 1, 1)
    assert demo.books_balance()
    assert verify().ok
    _the_rulebooks_windows(report)
    assert report.loans > 0 and report.repayments > 0
    assert Loan.objects.count() == report.loans
    assert Repayment.objects.count() == report.repayments
    assert EodRun.objects.latest("run_date").run_date == until
    first_loan = Loan.objects.order_by("disbursed_on").first()
    assert first_loan is not None
    assert EodRun.objects.count() == (until - first_loan.disbursed_on).days + 1  # no day skipped
    assert Contribution.objects.exists() and ServiceFee.objects.exists()
    assert not FeeReduction.objects.exists()  # the fees' cuts are the rulebooks'
    roles = {c.role for c in report.credentials}
    assert roles == {"administrator", "bank", "district", "trustee", "enterprise"}
    assert User.objects.get(username="trustee2").check_password(demo.DEMO_PASSWORD)

    # claims at every step: the last defaults are in process, the older ones paid and followed
    statuses = set(Claim.objects.values_list("status", flat=True))
    in_process = {ClaimStatus.REGISTERED, ClaimStatus.FILED, ClaimStatus.CHECKED}
    assert in_process <= statuses
    assert {ClaimStatus.PAID, ClaimStatus.RECOVERING} & statuses
    assert {ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF} & statuses
    assert len(statuses) >= 6
    assert (
        report.claims == {s: Claim.objects.filter(status=s).count() for s in statuses}
        and sum(report.claims.values()) == Claim.objects.count()
    )
    rules = FundRules()
    trustee, trustee2 = User.objects.get(username="trustee"), User.objects.get(username="trustee2")
    paid = Claim.objects.filter(paid_on__isnull=False)
    assert paid.count() == report.claims_paid > 0
    for c in paid:
        # filed at 90 days, 80 % of the overdue principal; checked by one trustee, paid by the other
        assert c.days_overdue >= 90 and c.overdue_principal_fen > 0
        assert c.amount_fen == claim_amount(
            overdue_principal_fen=c.overdue_principal_fen, days_overdue=c.days_overdue, rules=rules
        )
        assert (c.checked_by, c.approved_by) == (trustee, trustee2)
        assert c.registered_on < c.filed_on < c.paid_on
        if c.status in (ClaimStatus.PAID, ClaimStatus.RECOVERING):
            assert c.loan.status == LoanStatus.COMPENSATED  # still on the bank's book
    ended = Claim.objects.filter(status__in=[ClaimStatus.CLOSED, ClaimStatus.WRITTEN_OFF])
    assert ended.exists()
    for c in ended:
        assert c.closed_on is not None and c.closed_on > c.paid_on and c.note
        # the claim has run its course: the bank wrote the loan off, it left the live book
        assert (c.loan.status, c.loan.closed_on) == (LoanStatus.WRITTEN_OFF, c.closed_on)
    written_off = Loan.objects.filter(status=LoanStatus.WRITTEN_OFF)
    assert written_off.count() == ended.count()
    # no longer aged by the end of day, and counted in no breaker's exposure
    assert all(x.last_eod_date is not None and x.last_eod_date < x.closed_on for x in written_off)
    exposure = breakers.exposures_from_loans()
    for (bank_id, district_id), (outstanding, _npl) in exposure.items():
        live = Loan.objects.filter(
            bank_id=bank_id, district_id=district_id, status__in=LIVE_STATUSES
        ).aggregate(s=Sum("outstanding_principal_fen"))["s"]
        assert outstanding == (live or 0)
    events = ClaimEvent.objects.values_list("to_status", flat=True)
    assert ClaimStatus.PAID in set(events)
    # recoveries are shared pool : bank 80 : 20 and add up on their claims
    recoveries = list(Recovery.objects.select_related("claim"))
    assert recoveries and len(recoveries) == report.recoveries
    for r in recoveries:
        assert (r.pool_share_fen, r.bank_share_fen) == recovery_split(r.amount_fen, rules)
        assert r.recovered_on > r.claim.paid_on
    for c in Claim.objects.filter(recovered_fen__gt=0):
        total = c.recoveries.aggregate(s=Sum("amount_fen"))["s"]
        assert c.recovered_fen == total <= c.overdue_principal_fen
        assert c.pool_recovered_fen + c.bank_recovered_fen == total

    # the ledger agrees with the claims, and the statistics with both
    bal = books.balances()

    def account(kind: str) -> int:
        return sum(v for code, v in bal.items() if code.endswith(f":{kind}"))

    paid_fen = paid.aggregate(s=Sum("amount_fen"))["s"]
    assert account("COMPENSATION_PAID") == paid_fen
    assert -account("RECOVERIES") == sum(r.pool_share_fen for r in recoveries)
    pools = Pool.objects.all()
    assert all(p.target_fen > 0 for p in pools)
    system = ensure_system_user()
    stats = programme.statistics(system, by="district")
    total = stats["total"]
    # written-off loans still count in what the programme lent
    assert total.enterprise_times == report.loans == Loan.objects.count()
    assert total.amount_lent_fen == Loan.objects.aggregate(s=Sum("amount_fen"))["s"]
    assert total.compensation_paid_fen == paid_fen
    assert total.recovered_fen == sum(r.amount_fen for r in recoveries)
    assert sum(fen for _d, fen in stats["pools"]) == account("BANK")
    assert any(fen > 0 for _d, fen in stats["pools"])


def test_the_demo_tells_the_programmes_story() -> None:
    """Renewals at maturity (some through a bridge loan), commercial loans drawn in at about
    0.7 of the amount lent, first-time borrowers near the published 17 % of enterprise-times,
    loans of about 1.7 M yuan, and a breaker tripped in a real book, not a book of one loan."""
    from django.db.models import Sum

    from kvcredit import demo
    from kvcredit.accounts.models import User
    from kvcredit.fund.models import Breaker, BreakerLevel, BridgeLoan
    from kvcredit.lending.models import CommercialLoan, Loan

    report = demo.load(seed=2017, enterprises=3000, until=dt.date(2023, 12, 31))
    loans = Loan.objects.count()
    assert loans == report.loans > 100
    renewed = Loan.objects.filter(renewal_of__isnull=False)
    assert renewed.count() == report.renewals > 0
    assert all(r.renewal_of.status == "RENEWED" for r in renewed.select_related("renewal_of"))
    bridges = BridgeLoan.objects.all()
    assert bridges.count() == report.bridges > 0
    assert all(
        b.outstanding_fen == 0 and b.fee_due_fen == 0 for b in bridges if b.due_on < report.end
    )
    lent = Loan.objects.aggregate(s=Sum("amount_fen"))["s"]
    commercial = CommercialLoan.objects.aggregate(s=Sum("amount_fen"))["s"]
    assert 0.55 <= commercial / lent <= 0.85
    first = Loan.objects.filter(first_time_borrower=True).count()
    assert 0.12 <= first / loans <= 0.22
    assert 1_400_000_00 <= lent / loans <= 2_000_000_00
    # a few percent (3 % at the demo's 5,000); a small book's planned defaults weigh more
    assert 0.01 <= report.defaulted / loans <= 0.12
    # the focus pair (the demo's bank in its district user's district) holds a real book, and
    # its non-performing share trips its breaker
    district = User.objects.get(username="district").organisation.district
    focus = Breaker.objects.get(bank__code=demo.BANKS[0][0], district=district)
    book = Loan.objects.filter(bank_id=focus.bank_id, district_id=focus.district_id).count()
    assert book >= 20
    assert focus.state in (BreakerLevel.WARNING, BreakerLevel.SUSPENDED)


def _the_rulebooks_windows(report: object) -> None:
    """chongqing-2017 from the start, chongqing-2022 published through the service on
    2021-12-31: 2021's fees waived, 2022's cut by 20 %, the full fee from 2023; subsidies for the
    instalments inside the subsidy window only; a 2022 Q4 deferral whose loan follows the
    deferred plan."""
    from django.db.models import Q

    from kvcredit.fund.models import ServiceFee, Subsidy
    from kvcredit.lending.models import Deferral, Instalment
    from kvcredit.rulebook.models import PublishedRulebook
    from kvcredit.rulebook.services import rules_on

    published = list(PublishedRulebook.objects.order_by("id"))
    assert [p.rulebook_id for p in published] == ["chongqing-2017", "chongqing-2022"]
    assert [p.effective for p in published] == [dt.date(2017, 1, 1), dt.date(2022, 1, 1)]
    assert published[1].published_at.date() == dt.date(2021, 12, 31)
    assert rules_on(dt.date(2021, 12, 31)).id == "chongqing-2017"
    assert rules_on(dt.date(2022, 1, 1)).id == "chongqing-2022"

    def fees(year: int) -> list[ServiceFee]:
        rows = ServiceFee.objects.filter(charged_on__year=year).select_related("loan")
        return list(rows)

    full = lambda f: f.base_fen * f.loan.term_months // 12 // 100  # noqa: E731  1 % a year
    y2021, y2022, y2023 = fees(2021), fees(2022), fees(2023)
    assert y2021 and y2022 and y2023
    assert all(f.amount_fen == 0 and f.waived for f in y2021)
    assert {f.rulebook_hash for f in y2021} == {published[0].content_hash}
    for f in y2022:  # 20 % off the full rate
        assert f.cut == "0.20" and not f.waived and f.rulebook_hash == published[1].content_hash
        assert abs(f.amount_fen - full(f) * 8 // 10) <= 1 and f.amount_fen < full(f)
    assert all(f.cut == "" and abs(f.amount_fen - full(f)) <= 1 for f in y2023)

    subsidies = Subsidy.objects.all()
    assert subsidies.count() == report.subsidies > 0  # type: ignore[attr-defined]
    window_from, window_to = dt.date(2020, 1, 1), dt.date(2022, 12, 31)
    assert not subsidies.filter(Q(due_date__lt=window_from) | Q(period_from__gt=window_to))
    assert not subsidies.filter(paid_on__lt=dt.date(2022, 1, 1))  # none under chongqing-2017
    assert subsidies.filter(due_date__year=2021).exists()  # 2021's paid under chongqing-2022
    assert subsidies.filter(due_date__year=2022).exists()
    for s in subsidies.filter(due_date__gt=window_to):  # across the edge: pro rata
        assert s.days_in_window < s.days_in_period
    assert all(s.rulebook_hash == published[1].content_hash for s in subsidies)
    deferral = Deferral.objects.get()
    # instalments (of at most a quarter) paid for periods after the window have none
    later = Instalment.objects.filter(
        due_date__gt=dt.date(2023, 4, 14), interest_paid_fen__gt=0
    ).exclude(loan=deferral.loan)
    assert later.exists() and not subsidies.filter(instalment__in=later).exists()
    assert report.deferrals == 1 and deferral.status == "GRANTED"  # type: ignore[attr-defined]
    assert dt.date(2022, 10, 1) <= deferral.decided_on <= dt.date(2022, 12, 31)
    assert deferral.rule_key == "q4_2022" and deferral.defer_to == dt.date(2023, 6, 30)
    plan = [
        [r.seq, r.due_date.isoformat(), r.principal_fen, r.interest_fen]
        for r in deferral.loan.instalments.filter(seq__in=[row[0] for row in deferral.plan_after])
    ]
    assert plan == deferral.plan_after and plan != deferral.plan_before
    assert all(row[1] <= "2023-06-30" for row in plan) and plan[-1][1] == "2023-06-30"
    deferred = deferral.loan.instalments.get(seq=plan[-1][0])
    assert deferred.due_date == dt.date(2023, 6, 30)
    # paid the day after the deferral date, nothing left owing
    deferral.loan.refresh_from_db()
    assert deferral.loan.status != "ACTIVE" or deferral.loan.due_principal_fen == 0
