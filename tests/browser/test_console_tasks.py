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
    assert "API 令牌" in page.get_by_test_id("confirm-facts").inner_text()
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


def test_trustee_lends_a_bridge_loan_then_finds_it_in_the_audit_log(  # type: ignore[no-untyped-def]
    page, live_world, business_day
) -> None:
    from kvcredit.fund import services
    from kvcredit.fund.models import BridgeLoan

    w = live_world
    services.record_contribution(
        w.users["trustee"],
        district_id=w.district["a"].pk,
        contributor="CITY",
        amount_fen=1_000_000_00,
        paid_date=DAY,
    )
    log_in(page, "trustee")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="过桥贷款").click()
    field(page, "企业（统一社会信用代码）").fill(w.enterprise["a"].uscc)
    field(page, "本金（元）").fill("200000")
    field(page, "期限（天）").fill("30")
    page.get_by_role("button", name="继续").click()
    facts = page.get_by_test_id("confirm-facts").inner_text()
    assert "200,000.00" in facts and "800,000.00" in facts
    shot(page, "tasks", "bridge-confirm")
    page.get_by_role("button", name="确认发放过桥贷款").click()
    page.get_by_test_id("bridge-loans").wait_for()
    assert BridgeLoan.objects.count() == 1
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="审计日志").click()
    field(page, "操作").fill("FUND_BRIDGE_LOAN")
    page.get_by_role("form", name="筛选").get_by_role("button", name="搜索").click()
    rows = page.get_by_test_id("audit-log").locator("tbody tr")
    assert rows.count() == 1 and "trustee" in rows.first.inner_text()
    shot(page, "tasks", "audit-log")


def test_administrator_imports_enterprises_and_reads_the_row_report(page, live_world) -> None:  # type: ignore[no-untyped-def]
    import csv
    import io

    from conftest import strong_values
    from kvcredit.scoring.fields import BY_NAME, uscc_check_char

    def row(n: int, **over: object) -> dict[str, object]:
        first = f"91500000MA5U{n:05d}"
        vals = {BY_NAME[k].zh: v for k, v in {**strong_values(), **over}.items()}
        return vals | {
            "统一社会信用代码": first + uscc_check_char(first),
            "企业名称": f"导入企业{n}",
            "所属区县": "500101",
        }

    rows = [row(1), row(2, tech_staff=1000)]
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(rows[0]))
    w.writeheader()
    w.writerows(rows)
    log_in(page, "admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="导入企业").click()
    field(page, "企业数据文件（XLSX 或 CSV）").set_input_files(
        {"name": "e.csv", "mimeType": "text/csv", "buffer": buf.getvalue().encode()}
    )
    field(page, "数据所属年度").fill("2024")
    page.get_by_role("button", name="导入").click()
    page.get_by_test_id("import-report").wait_for()
    assert page.get_by_test_id("accepted").inner_text().strip() == "1"
    assert page.get_by_test_id("rejected").inner_text().strip() == "1"
    bad = page.get_by_test_id("import-errors").locator("tbody tr").first.inner_text()
    assert bad.startswith("3") and "tech_staff" in bad
    with page.expect_download() as got:
        page.get_by_role("link", name="下载错误报告（CSV，中英文）").click()
    from pathlib import Path

    assert "tech_staff" in Path(got.value.path()).read_text(encoding="utf-8-sig")
    shot(page, "tasks", "import-report")
