"""The day's tasks in a real browser, each irreversible step through its confirmation page:
the bank enters a repayment and reverses it, the second trustee pays a claim, the
administrator deactivates a user who then cannot sign in."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from browser.support import log_in, shot

DAY = dt.date(2025, 3, 14)


@pytest.fixture
def business_day(monkeypatch: pytest.MonkeyPatch) -> dt.date:
    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)
    return DAY


def field(page: Any, label: str) -> Any:
    return page.get_by_label(re.compile(rf"^{re.escape(label)}[:：]?$"))


def said(page: Any) -> str:
    return page.get_by_role("status").first.inner_text().strip()


def _loan(w: Any) -> Any:
    from kvcredit.lending import loans
    from kvcredit.lending.services import create_product

    p = create_product(w.system, code="KVC", name="知识价值贷", methods=["QUARTERLY_INTEREST"])
    app = loans.apply(
        w.users["enterprise_a"],
        bank_id=w.bank["a"].pk,
        product_id=p.pk,
        amount_fen=100_000_00,
        term_months=12,
        method="QUARTERLY_INTEREST",
        purpose="研发",
        first_time_borrower=True,
        today=DAY,
    )
    loans.approve(w.users["bank_a"], application_id=app.pk, amount_fen=100_000_00, today=DAY)
    return loans.disburse(w.users["bank_a"], application_id=app.pk, disbursed_on=DAY, today=DAY)


def test_bank_enters_and_reverses_a_repayment_with_confirmation(  # type: ignore[no-untyped-def]
    page, live_world, business_day
) -> None:
    from kvcredit.lending.models import Repayment

    loan = _loan(live_world)
    log_in(page, "bank_a")
    page.goto(f"/loans/{loan.pk}/")
    field(page, "金额（元）").fill("30000")
    field(page, "还款日期").fill(DAY.isoformat())
    field(page, "银行流水号").fill("LS-001")
    page.get_by_role("button", name="继续").click()
    confirm = page.get_by_test_id("confirm")
    confirm.wait_for()
    facts = page.get_by_test_id("confirm-facts").inner_text()
    assert "30,000.00" in facts and "70,000.00" in facts  # the amount, outstanding after
    assert not Repayment.objects.exists()
    shot(page, "tasks", "repay-confirm")
    page.get_by_role("button", name="确认录入还款").click()
    page.wait_for_url(re.compile(rf"/loans/{loan.pk}/$"))
    assert said(page) == "还款已录入。"
    assert Repayment.objects.filter(loan=loan).count() == 1
    # the reversal: a danger confirmation, then the loan owes again
    row = page.get_by_test_id("repayments").get_by_role("row").filter(has_text="LS-001")
    row.get_by_label("冲正原因").fill("录入错误，冲正")
    row.get_by_role("button", name="冲正…").click()
    page.locator("section.confirm.danger").wait_for()
    shot(page, "tasks", "reverse-confirm")
    page.get_by_role("button", name="确认冲正还款").click()
    page.wait_for_url(re.compile(rf"/loans/{loan.pk}/$"))
    assert said(page) == "还款已冲正。"
    loan.refresh_from_db()
    assert loan.outstanding_principal_fen == 100_000_00
    assert "REPAYMENT_REVERSE" in page.get_by_test_id("audit-trail").inner_text()


def test_second_trustee_pays_a_claim_after_seeing_the_pool_after(  # type: ignore[no-untyped-def]
    page, live_world, business_day
) -> None:
    from kvcredit.fund import claims, services
    from support.fund import make_loan

    w = live_world
    loan = make_loan(
        enterprise=w.enterprise["a"],
        bank=w.bank["a"],
        due_principal_fen=50_000_00,
        days_past_due=120,
    )
    services.record_contribution(
        w.users["trustee"],
        district_id=w.district["a"].pk,
        contributor="CITY",
        amount_fen=1_000_000_00,
        paid_date=DAY,
    )
    c = claims.register(w.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(w.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(w.users["trustee"], claim_id=c.pk, on=DAY)
    log_in(page, "trustee_b")
    page.goto(f"/fund/claims/{c.pk}/")
    page.get_by_role("button", name="审批并支付").click()
    facts = page.get_by_test_id("confirm-facts").inner_text()
    assert "40,000.00" in facts and "960,000.00" in facts
    shot(page, "tasks", "pay-confirm")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_url(re.compile(rf"/fund/claims/{c.pk}/$"))
    assert said(page) == "代偿申请已审批并支付。"
    c.refresh_from_db()
    assert c.status == "PAID"


def test_administrator_deactivates_a_user_who_then_cannot_log_in(page, live_world) -> None:  # type: ignore[no-untyped-def]
    target = live_world.users["bank_b"]
    log_in(page, "admin")
    page.goto(f"/setup/users/{target.pk}/")
    page.get_by_role("button", name="停用…").click()
    page.locator("section.confirm.danger").wait_for()
    assert "接口令牌" in page.get_by_test_id("confirm-facts").inner_text()
    shot(page, "tasks", "deactivate-confirm")
    page.get_by_role("button", name="停用该用户").click()
    page.wait_for_url(re.compile(rf"/setup/users/{target.pk}/$"))
    assert page.get_by_test_id("user-active").inner_text().strip() == "否"
    page.get_by_role("button", name="退出").click()
    page.wait_for_load_state()
    log_in(page, "bank_b")
    assert "/accounts/login/" in page.url  # refused: still the login page
    page.get_by_role("alert").wait_for()
    shot(page, "tasks", "deactivated-login-refused")
