"""Loans from application to closure, through the services, on SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.enterprises.models import CreditLine
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.lending import loans, repayments, services
from kvcredit.lending.endofday import run_eod
from kvcredit.lending.models import (
    Application,
    EodRun,
    Instalment,
    Loan,
    Repayment,
)
from kvcredit.lending.selectors import exposures

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
TODAY = dt.date(2026, 11, 29)
START = dt.date(2024, 5, 15)  # the loans of these tests are disbursed on this day
YUAN = 100


@pytest.fixture
def product(world):
    return services.create_product(
        world.users["admin"],
        code="KVC",
        name="知识价值信用贷款",
        rate_basis="PBOC_BENCHMARK",
        grace_days=3,
    )


def _today(world) -> dt.date:
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    return line.valid_until - dt.timedelta(days=1)


def _line(world, side="a") -> CreditLine:
    return CreditLine.objects.get(enterprise=world.enterprise[side])


def _apply(world, product, amount_yuan=3_000_000, method="MONTHLY_INTEREST", side="a", term=12):
    return loans.apply(
        world.users[f"enterprise_{side}"],
        bank_id=world.bank[side].pk,
        product_id=product.pk,
        amount_fen=amount_yuan * YUAN,
        term_months=term,
        method=method,
        purpose="研发投入",
        first_time_borrower=True,
        today=_today(world),
    )


def _loan(world, product, amount_yuan=3_000_000, method="MONTHLY_INTEREST", on=START) -> Loan:
    app = _apply(world, product, amount_yuan, method)
    bank = world.users["bank_a"]
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=on)
    return loans.disburse(bank, application_id=app.pk, disbursed_on=on, today=TODAY)


def _eod_to(day: dt.date) -> None:
    run_eod(as_of=day, catch_up=True)


def test_a_loan_is_priced_at_the_benchmark_in_force_and_scheduled_to_the_fen(world, product):
    loan = _loan(world, product)
    assert loan.rate_units == 4_350_000 and loan.rate_type == "PBOC_BENCHMARK_1Y"
    assert loan.penalty_rate_units == 6_525_000  # +50 %
    rows = list(
        Instalment.objects.filter(loan=loan).values_list(
            "due_date", "principal_fen", "interest_fen"
        )
    )
    # 3,000,000 yuan, 4.35 %, monthly interest, actual/360: 30 days = 10,875.00 yuan
    assert rows[:3] == [
        (dt.date(2024, 6, 15), 0, 1_123_750),  # 31 days
        (dt.date(2024, 7, 15), 0, 1_087_500),  # 30 days
        (dt.date(2024, 8, 15), 0, 1_123_750),
    ]
    assert rows[-1] == (dt.date(2025, 5, 15), 300_000_000, 1_087_500)  # 30 days
    assert loan.maturity_date == dt.date(2025, 5, 15)


def test_approval_reserves_and_disbursement_uses_the_limit(world, product):
    line0 = _line(world)
    app = _apply(world, product, 1_000_000)
    assert _line(world).reserved_fen == line0.reserved_fen + 100_000_000
    loans.approve(world.users["bank_a"], application_id=app.pk, amount_fen=80_000_000, today=START)
    assert _line(world).reserved_fen == line0.reserved_fen + 80_000_000
    loan = loans.disburse(
        world.users["bank_a"], application_id=app.pk, disbursed_on=START, today=TODAY
    )
    line = _line(world)
    assert (line.reserved_fen, line.used_fen) == (line0.reserved_fen, line0.used_fen + 80_000_000)
    assert loan.amount_fen == 80_000_000


def test_rejection_releases_the_reservation_and_needs_a_reason(world, product):
    app = _apply(world, product, 1_000_000)
    with pytest.raises(InvalidInput):
        loans.reject(world.users["bank_a"], application_id=app.pk, reason=" ")
    loans.reject(world.users["bank_a"], application_id=app.pk, reason="资料不全")
    assert _line(world).reserved_fen == 0
    assert Application.objects.get(pk=app.pk).status == "REJECTED"


def test_an_application_beyond_the_available_limit_is_refused(world, product):
    limit = _line(world).limit_fen // YUAN
    _apply(world, product, limit - 100)
    with pytest.raises(InvalidInput, match=r"available limit of 100\.00"):
        _apply(world, product, 101)


def test_a_suspended_bank_takes_no_new_applications(world, product):
    services.suspend_bank(
        world.users["trustee"],
        bank_id=world.bank["a"].pk,
        district_id=world.district["a"].pk,
        from_date=START,
        reason="不良率超过8%",
    )
    with pytest.raises(Conflict, match="no new applications"):
        _apply(world, product)


def test_a_bank_cannot_approve_another_banks_application(world, product):
    app = _apply(world, product, 1_000)
    with pytest.raises(NotFound):
        loans.approve(world.users["bank_b"], application_id=app.pk, amount_fen=100, today=START)
    with pytest.raises(NotPermitted):
        loans.approve(world.users["enterprise_a"], application_id=app.pk, amount_fen=1, today=START)


def test_an_approval_lapses_at_the_end_of_day_and_releases_the_limit(world, product):
    app = _apply(world, product, 1_000)
    loans.approve(world.users["bank_a"], application_id=app.pk, amount_fen=100_000, today=START)
    run_eod(as_of=START)
    _eod_to(START + dt.timedelta(days=30))
    assert Application.objects.get(pk=app.pk).status == "EXPIRED"
    assert _line(world).reserved_fen == 0


def test_end_of_day_charges_the_schedule_and_ages_an_unpaid_loan(world, product):
    loan = _loan(world, product)
    _eod_to(dt.date(2024, 6, 14))
    loan.refresh_from_db()
    assert loan.due_interest_fen == 0 and loan.accrued_interest_fen > 0
    run_eod(as_of=dt.date(2024, 6, 15))
    loan.refresh_from_db()
    assert (loan.due_interest_fen, loan.next_instalment) == (1_123_750, 2)
    assert loan.next_due_date == dt.date(2024, 7, 15)
    assert loan.oldest_unpaid_due_date == dt.date(2024, 6, 15)
    assert Instalment.objects.get(loan=loan, seq=1).interest_due_fen == 1_123_750
    _eod_to(dt.date(2024, 6, 19))  # grace 3 days: the 4th day past due counts
    loan.refresh_from_db()
    assert (loan.days_past_due, loan.category) == (4, "SPECIAL_MENTION")


def test_a_day_already_run_changes_nothing_and_a_skipped_day_is_refused(world, product):
    _loan(world, product)
    first = run_eod(as_of=START)
    assert not first[0].already_run
    again = run_eod(as_of=START)
    assert again[0].already_run and EodRun.objects.count() == 1
    with pytest.raises(Conflict, match="has not run"):
        run_eod(as_of=START + dt.timedelta(days=2))
    days = run_eod(as_of=START + dt.timedelta(days=2), catch_up=True)
    assert [d.day for d in days] == [START + dt.timedelta(days=1), START + dt.timedelta(days=2)]


def test_repayments_pay_the_due_interest_and_clear_the_arrears(world, product):
    loan = _loan(world, product)
    _eod_to(dt.date(2024, 6, 20))
    loan.refresh_from_db()
    assert loan.penalty_fen == 0  # only principal past due bears penalty
    bank = world.users["bank_a"]
    r = repayments.repay(
        bank, loan_id=loan.pk, amount_fen=1_123_750, paid_on=dt.date(2024, 6, 21), today=TODAY
    )
    assert (r.interest_due_fen, r.principal_due_fen) == (1_123_750, 0)
    loan.refresh_from_db()
    assert loan.due_interest_fen == 0 and loan.oldest_unpaid_due_date is None
    run_eod(as_of=dt.date(2024, 6, 21))
    loan.refresh_from_db()
    assert (loan.days_past_due, loan.category) == (0, "NORMAL")


def test_an_overpayment_is_refused_naming_the_amount_owed(world, product):
    loan = _loan(world, product, 1_000)
    with pytest.raises(InvalidInput, match=r"exceeds the 1,000\.00 yuan owed"):
        repayments.repay(
            world.users["bank_a"], loan_id=loan.pk, amount_fen=100_001, paid_on=START, today=TODAY
        )


def test_early_full_repayment_pays_interest_to_date_and_the_loan_closes(world, product):
    loan = _loan(world, product, 360_000)
    _eod_to(START + dt.timedelta(days=9))  # 10 days accrued: 360,000 x 4.35 % x 10 / 360
    loan.refresh_from_db()
    assert loan.accrued_interest_fen == 43_500
    line_before = _line(world).used_fen
    r = repayments.repay(
        world.users["bank_a"],
        loan_id=loan.pk,
        amount_fen=36_000_000 + 43_500,
        paid_on=START + dt.timedelta(days=10),
        today=TODAY,
    )
    assert (r.interest_accrued_fen, r.principal_prepaid_fen) == (43_500, 36_000_000)
    assert _line(world).used_fen == line_before - 36_000_000
    run_eod(as_of=START + dt.timedelta(days=10))
    loan.refresh_from_db()
    assert (loan.status, loan.closed_on) == ("CLOSED", START + dt.timedelta(days=10))


def test_a_mistaken_repayment_is_undone_by_a_reversing_record(world, product):
    loan = _loan(world, product, 360_000)
    bank = world.users["bank_a"]
    r = repayments.repay(bank, loan_id=loan.pk, amount_fen=10_000_000, paid_on=START, today=TODAY)
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 26_000_000
    rev = repayments.reverse(bank, repayment_id=r.pk, today=START)
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 36_000_000
    assert (rev.kind, rev.reverses_id, rev.amount_fen) == ("REVERSAL", r.pk, 10_000_000)
    assert Repayment.objects.get(pk=r.pk).amount_fen == 10_000_000  # never edited
    with pytest.raises(Conflict, match="already been reversed"):
        repayments.reverse(bank, repayment_id=r.pk, today=START)


def test_a_matured_loan_is_renewed_into_a_new_loan_linked_to_the_old(world, product):
    loan = _loan(world, product, 100_000)
    bank = world.users["bank_a"]
    for due in Instalment.objects.filter(loan=loan).values_list("due_date", flat=True)[:11]:
        _eod_to(due)  # the borrower pays each month's interest the day after it falls due
        loan.refresh_from_db()
        day = due + dt.timedelta(days=1)
        repayments.repay(
            bank, loan_id=loan.pk, amount_fen=loan.due_interest_fen, paid_on=day, today=TODAY
        )
    _eod_to(loan.maturity_date)
    loan.refresh_from_db()
    assert loan.matured and loan.due_principal_fen == 10_000_000
    day = loan.maturity_date + dt.timedelta(days=1)
    with pytest.raises(Conflict, match="interest"):
        loans.renew(bank, loan_id=loan.pk, today=day)
    owed = loan.due_interest_fen + loan.penalty_fen
    repayments.repay(bank, loan_id=loan.pk, amount_fen=owed, paid_on=day, today=TODAY)
    new = loans.renew(bank, loan_id=loan.pk, today=day)
    loan.refresh_from_db()
    assert (new.renewal_of_id, new.amount_fen, loan.status) == (loan.pk, 10_000_000, "RENEWED")
    assert not new.first_time_borrower


def test_the_end_of_day_reports_the_exposure_per_bank_and_district(world, product):
    loan = _loan(world, product, 1_000)
    (report,) = run_eod(as_of=START)
    (e,) = report.exposures
    assert (report.day, e.bank_id, e.district_id) == (START, loan.bank_id, loan.district_id)
    assert (e.loans, e.outstanding_fen, e.non_performing_fen) == (1, 100_000, 0)
    assert report.exposures == exposures(as_of=START)  # one definition of exposure


def test_the_business_day_runs_lending_then_the_breakers_in_one_transaction(world, product):
    from kvcredit.day import run_day
    from kvcredit.fund.models import Breaker

    loan = _loan(world, product, 1_000)
    (report,) = run_day(as_of=START)
    b = Breaker.objects.get(bank_id=loan.bank_id, district_id=loan.district_id)
    assert (b.as_of_date, b.outstanding_fen, b.non_performing_fen) == (START, 100_000, 0)
    assert report.exposures[0].outstanding_fen == 100_000
    assert run_day(as_of=START)[0].already_run  # a day already run changes nothing


def test_lending_alone_moves_no_breaker(world, product):
    from kvcredit.fund.models import Breaker

    _loan(world, product, 1_000)
    run_eod(as_of=START)
    assert not Breaker.objects.exists()


def test_a_bank_records_commercial_loans_for_enterprises_it_lends_to(world):
    c = services.record_commercial_loan(
        world.users["bank_a"],
        enterprise_id=world.enterprise["a"].pk,
        amount_fen=50_000_000,
        loan_date=START,
        term_months=12,
        today=TODAY,
    )
    assert c.bank_id == world.bank["a"].pk
    with pytest.raises(NotFound):
        services.record_commercial_loan(
            world.users["bank_a"],
            enterprise_id=world.enterprise["b"].pk,
            amount_fen=1,
            loan_date=START,
            term_months=12,
            today=TODAY,
        )


def test_a_repayment_file_applies_every_valid_row_and_reports_each_bad_row(
    world, product, api_client, tmp_path
):
    from django.core.files.uploadedfile import SimpleUploadedFile

    loan = _loan(world, product)
    other = _loan_of_bank_b(world, product)
    _eod_to(dt.date(2024, 6, 20))
    csv = tmp_path / "repayments.csv"
    csv.write_text(
        "\ufeff贷款编号,还款金额,还款日期,流水号\n"
        f"{loan.pk},11237.50,2024-06-21,R1\n"  # row 2: the interest due — applied
        "abc,100,2024-06-21,R2\n"  # row 3: not a loan id
        f"{loan.pk},12.345,2024-06-21,R3\n"  # row 4: three decimals
        f"{loan.pk},100,21/06/2024,R4\n"  # row 5: not a date
        f"{loan.pk},99999999.00,2024-06-21,R5\n"  # row 6: more than is owed
        f"{other.pk},100.00,2024-06-21,R6\n",  # row 7: another bank's loan
        encoding="utf-8",
    )
    upload = SimpleUploadedFile("repayments.csv", csv.read_bytes(), content_type="text/csv")
    response = api_client.post(
        "/api/v1/repayments/import", {"file": upload}, headers=world.auth("bank_a")
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["applied"] == 1
    assert Repayment.objects.filter(loan=loan).count() == 1
    rows = {(e["row"], e["field"]) for e in body["errors"]}
    assert {(3, "loan_id"), (4, "amount"), (5, "paid_on")} <= rows
    assert {e["row"] for e in body["errors"]} == {3, 4, 5, 6, 7}
    overpaid = next(e for e in body["errors"] if e["row"] == 6)
    assert "owed" in overpaid["message_en"] and overpaid["message_zh"] != overpaid["message_en"]
    assert not Repayment.objects.filter(loan=other).exists()


def _loan_of_bank_b(world, product) -> Loan:
    app = _apply(world, product, side="b")
    bank = world.users["bank_b"]
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=START)
    return loans.disburse(bank, application_id=app.pk, disbursed_on=START, today=TODAY)
