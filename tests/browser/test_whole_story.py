"""The whole story of one loan, through the console pages as its users see them (Debian's
chromium, headless): the trustee funds the district's pool; the enterprise sees its grade and
applies; the bank approves and disburses; the operator runs the end of day (the real
``kvcredit eod`` command, in-process); the bank uploads the first instalment from an Excel
file; the loan then defaults, the bank files a claim, one trustee checks it, the same trustee
is not offered the payment (maker-checker, the page says why) and a second one pays it; the
statistics move by the loan and by exactly 80% of its overdue principal.

The business date is ``kvcredit.clock.today``; the live server runs in this process,
so the test moves it the way the operator's calendar would.
"""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from typing import Any

import pytest

from browser.support import log_in, shot

DISBURSED = dt.date(2025, 3, 14)
FIRST_DUE = dt.date(2025, 4, 14)  # equal principal, 12 months: the 14th of each month
SECOND_DUE = dt.date(2025, 5, 14)
ENTERPRISE = "企业a科技有限公司"
MAKER_CHECKER = "the user who checked a claim may not approve it (maker-checker)"


def fen(text: str) -> int:
    """'1,234.56' (yuan, as the console shows it) in fen."""
    return int(Decimal(text.strip().replace(",", "")) * 100)


def yuan(amount_fen: int) -> str:
    return f"{Decimal(amount_fen) / 100:,.2f}"


def fact(page: Any, term: str, scope: str = "") -> str:
    """The value of a term in a definition list (<dt>term</dt><dd>value</dd>)."""
    return page.locator(f"{scope} dt:text-is('{term}') + dd".strip()).inner_text().strip()


def as_user(page: Any, who: str) -> None:
    logout = page.get_by_role("button", name="退出")
    if logout.count():
        logout.click()
        page.wait_for_load_state()
    log_in(page, who)


def nav(page: Any, name: str) -> None:
    link = page.get_by_role("navigation", name="主导航").get_by_role("link", name=name, exact=True)
    with page.expect_navigation():
        link.click()


def field(page: Any, label: str) -> Any:
    """The form control labelled exactly ``label`` (Django adds a colon to the label)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}[:：]?$"))


def said(page: Any) -> str:
    """The message the last action left (role=status)."""
    return page.get_by_role("status").first.inner_text().strip()


def end_of_day(through: dt.date) -> str:
    """The operator: ``kvcredit eod --date D --catch-up`` (every day not run yet, up to D)."""
    from typer.testing import CliRunner

    from kvcredit.cli import app

    result = CliRunner().invoke(app, ["eod", "--date", through.isoformat(), "--catch-up"])
    assert result.exit_code == 0, result.output
    return result.output


def repayments_xlsx(rows: list[tuple[int, str, dt.date, str]]) -> bytes:
    """The bank's file, Chinese headers as its core system exports them."""
    import openpyxl

    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(["贷款编号", "还款金额", "还款日期", "流水号", "备注"])
    for loan_id, amount, paid_on, reference in rows:
        ws.append([loan_id, amount, paid_on.isoformat(), reference, "第1期"])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def statistics(page: Any) -> dict[str, int]:
    """The administrator's headline lending figures (all time)."""
    as_user(page, "admin")
    nav(page, "统计")
    page.get_by_role("heading", name="贷款与代偿").wait_for()
    return {
        "times": int(fact(page, "企业户次", "#headline")),
        "lent": fen(fact(page, "贷款金额（元）", "#headline")),
        "first_time": int(fact(page, "首贷户", "#headline")),
        "compensation": fen(fact(page, "代偿金额（元）", "#headline")),
    }


def pool_row(page: Any, district: str) -> dict[str, int]:
    cells = page.get_by_role("row").filter(has=page.get_by_role("rowheader", name=district))
    values = [c.inner_text() for c in cells.get_by_role("cell").all()]
    return {
        "cash": fen(values[0]),
        "city": fen(values[1]),
        "district": fen(values[2]),
        "paid": fen(values[5]),
    }


@pytest.fixture
def business_day(monkeypatch: pytest.MonkeyPatch) -> dict[str, dt.date]:
    state = {"day": DISBURSED}
    monkeypatch.setattr("kvcredit.clock.today", lambda: state["day"])
    return state


def test_a_loan_from_application_to_compensation(page, live_world, business_day) -> None:  # type: ignore[no-untyped-def]
    from django.utils import translation
    from django.utils.translation import gettext

    from kvcredit.lending.services import create_product

    w = live_world
    # The administrator's loan product (set up outside the console: the CLI / API task).
    create_product(
        w.system,
        code="KVC",
        name="知识价值信用贷款",
        methods=["EQUAL_PRINCIPAL", "EQUAL_INSTALMENT"],
    )
    district = w.district["a"].name

    before = statistics(page)
    shot(page, "story", "00-statistics-before")

    # 1. The trustee records the city's and the district's contributions to the pool.
    as_user(page, "trustee")
    nav(page, "资金池")
    for who, amount, ref in (("市级", "400000", "SZ-2025-031"), ("区县", "600000", "QX-2025-031")):
        field(page, "区县").select_option(label=str(w.district["a"]))
        field(page, "缴款方").select_option(label=who)
        field(page, "金额（元）").fill(amount)
        field(page, "流水号").fill(ref)
        page.get_by_role("button", name="登记").click()
        page.wait_for_load_state()
        assert said(page) == "缴款已登记。"
    pool = pool_row(page, district)
    assert pool == {"cash": 1_000_000_00, "city": 400_000_00, "district": 600_000_00, "paid": 0}
    shot(page, "story", "01-pool-funded")

    # 2. The enterprise sees its grade and limit, and applies.
    as_user(page, "enterprise_a")
    assert page.get_by_test_id("grade").inner_text().strip() == "A"
    assert fact(page, "授信额度（元）") == "5,000,000.00"
    nav(page, "申请贷款")
    assert "5,000,000.00" in page.locator("main p.help").first.inner_text()
    field(page, "银行").select_option(label="银行a")
    field(page, "贷款产品").select_option(label="知识价值信用贷款")
    field(page, "金额（元）").fill("150000")
    field(page, "期限（月）").select_option("12")
    field(page, "还款方式").select_option(label="等额本金")
    field(page, "贷款用途").fill("研发投入与知识产权转化")
    field(page, "这是本企业首次获得银行贷款（首贷户）").check()
    shot(page, "story", "02-application")
    page.get_by_role("button", name="提交申请").click()
    page.wait_for_url(re.compile(r"/loans/$"))
    assert said(page) == "申请已提交给银行。"
    assert "150,000.00" in page.get_by_role("row").filter(has_text="银行a").inner_text()

    # 3. The bank approves a smaller amount, then disburses.
    as_user(page, "bank_a")
    nav(page, "贷款申请")
    row = page.get_by_role("row").filter(has_text=ENTERPRISE)
    assert "150,000.00" in row.inner_text()
    field(row, "批准金额（元）").fill("120000")
    row.get_by_role("button", name="批准").click()
    page.wait_for_load_state()
    assert re.fullmatch(r"申请 \d+ 已审批通过。", said(page))
    approved = [c.inner_text() for c in row.get_by_role("cell").all()]
    assert approved[8:10] == ["150,000.00", "120,000.00"]  # asked for, approved (after the
    # application date, grade, limit, available credit, evaluation and method)
    assert approved[13] == "已批准"
    shot(page, "story", "03-approved")
    page.get_by_role("row").filter(has_text=ENTERPRISE).get_by_role("button", name="放款").click()
    page.get_by_test_id("confirm").wait_for()  # what will happen, before it happens
    assert "120,000.00" in page.get_by_test_id("confirm-facts").inner_text()
    shot(page, "story", "03-disburse-confirm")
    page.get_by_role("button", name="确认放款").click()
    page.wait_for_load_state()
    loan_id = int(re.fullmatch(r"贷款 (\d+) 已放款。", said(page)).group(1))  # type: ignore[union-attr]
    shot(page, "story", "03-disbursed")

    # 4. The end of day runs every day up to the first due date: the instalment falls due.
    business_day["day"] = FIRST_DUE + dt.timedelta(days=1)  # the night after the due date
    ran = end_of_day(FIRST_DUE)
    assert DISBURSED.isoformat() in ran and FIRST_DUE.isoformat() in ran
    nav(page, "贷款")
    with page.expect_navigation():
        page.get_by_role("link", name=str(loan_id), exact=True).click()
    assert fact(page, "贷款余额（元）") == "120,000.00"
    first = page.get_by_role("row").filter(has=page.get_by_role("cell", name="2025-04-14"))
    cells = [c.inner_text() for c in first.get_by_role("cell").all()]
    principal, interest = fen(cells[2]), fen(cells[3])
    assert principal == 10_000_00  # 120,000 over 12 months
    assert interest == 310_00  # 120,000 x 3.10% (the 1-year LPR of 2025-03-14) / 12
    assert fact(page, "当前应还（元）") == yuan(principal + interest)
    assert fact(page, "逾期天数") == "0"
    shot(page, "story", "04-first-instalment-due")

    # 5. The bank uploads the first instalment from its Excel file.
    nav(page, "还款")
    field(page, "还款文件（XLSX或CSV）").set_input_files(
        {
            "name": "还款明细.xlsx",
            "mimeType": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            "buffer": repayments_xlsx(
                [(loan_id, yuan(principal + interest), business_day["day"], "HK-0415-001")]
            ),
        }
    )
    page.get_by_role("button", name="上传").click()
    page.get_by_role("heading", name="处理结果").wait_for()
    assert said(page) == "已入账 1 行，发现 0 个问题。"
    shot(page, "story", "05-repayment-uploaded")
    # ... and the enterprise sees it in its loan's history.
    as_user(page, "enterprise_a")
    nav(page, "我的申请")  # every application, with its loan's number
    application = [
        c.inner_text()
        for c in page.get_by_role("row").filter(has_text="银行a").first.get_by_role("cell").all()
    ]
    assert application[5:7] == ["150,000.00", "120,000.00"]
    assert application[9] == "已放款"
    page.get_by_role("link", name=str(loan_id), exact=True).click()
    page.wait_for_url(re.compile(rf"/loans/{loan_id}/$"))
    history = page.get_by_role("row").filter(has_text="HK-0415-001")
    history.wait_for()
    paid = [c.inner_text() for c in history.get_by_role("cell").all()]
    assert paid[0] == "2025-04-15"
    assert fen(paid[1]) == principal + interest
    assert (fen(paid[3]), fen(paid[4])) == (interest, principal)
    assert fact(page, "贷款余额（元）") == "110,000.00"
    assert fact(page, "当前应还（元）") == "0.00"
    shot(page, "story", "05-enterprise-history")

    # 6. No more payments: the end of day runs on until the loan is 90 days past due.
    defaulted = SECOND_DUE + dt.timedelta(days=90)
    business_day["day"] = defaulted + dt.timedelta(days=1)
    assert defaulted.isoformat() in end_of_day(defaulted)
    page.reload()
    assert fact(page, "逾期天数") == "90"
    assert fact(page, "五级分类") == "关注"
    # the 2nd, 3rd and 4th instalments have fallen due and are unpaid
    overdue_principal = 3 * principal
    shot(page, "story", "06-loan-overdue")

    # 7. The bank files a claim for it.
    as_user(page, "bank_a")
    nav(page, "代偿")
    assert f"{loan_id} (90)" in page.locator("main p.help").first.inner_text()
    field(page, "贷款编号").fill(str(loan_id))
    page.get_by_role("button", name="提交代偿申请").click()
    page.wait_for_load_state()
    claim_id = int(re.fullmatch(r"代偿申请 (\d+) 已提交。", said(page)).group(1))  # type: ignore[union-attr]
    claim_row = page.get_by_role("row").filter(has=page.get_by_role("link", name=str(claim_id)))
    assert yuan(overdue_principal * 8 // 10) in claim_row.inner_text()
    assert "已申请代偿" in claim_row.inner_text()
    shot(page, "story", "07-claim-filed")

    # 8. Trustee A checks it and is not offered the approval; trustee B approves and pays.
    as_user(page, "trustee")
    nav(page, "代偿")
    page.locator(f'a[href="/fund/claims/{claim_id}/"]').click()
    assert fact(page, "逾期本金（元）") == yuan(overdue_principal)
    assert fact(page, "申请代偿金额（元）") == yuan(overdue_principal * 8 // 10)
    field(page, "备注").fill("借款合同、逾期记录齐全")
    with translation.override("zh-hans"):  # the refusal as the catalogue words it
        maker_checker_zh = gettext(MAKER_CHECKER)
    assert maker_checker_zh != MAKER_CHECKER, "the maker-checker refusal is not translated"
    page.get_by_role("button", name="复核代偿申请").click()
    page.wait_for_load_state()
    assert said(page) == "代偿申请已复核，待另一名受托管理人审批。"
    assert fact(page, "状态") == "已审核"
    steps = page.get_by_role("heading", name="历史记录").locator("+ ol")
    assert "已申请代偿 → 已审核 · 借款合同、逾期记录齐全" in steps.inner_text()
    # the checker is not offered the payment: the page says why (maker-checker)
    assert page.get_by_role("button", name="审批并支付").count() == 0
    assert f"暂不能办理：{maker_checker_zh}" in page.locator("main").inner_text()
    assert fact(page, "状态") == "已审核"
    shot(page, "story", "08-maker-checker-refused")
    as_user(page, "trustee_b")
    nav(page, "代偿")
    page.locator(f'a[href="/fund/claims/{claim_id}/"]').click()
    page.get_by_role("button", name="审批并支付").click()
    facts = page.get_by_test_id("confirm-facts").inner_text()
    assert yuan(overdue_principal * 8 // 10) in facts  # the amount, the pool after
    assert yuan(pool["cash"] - overdue_principal * 8 // 10) in facts
    shot(page, "story", "08-pay-confirm")
    page.get_by_role("button", name="确认支付").click()
    page.wait_for_load_state()
    assert said(page) == "代偿申请已审批并支付。"
    assert fact(page, "状态") == "已支付"
    shot(page, "story", "08-claim-paid")
    nav(page, "资金池")
    after_pool = pool_row(page, district)
    assert after_pool["paid"] == overdue_principal * 8 // 10
    assert after_pool["cash"] == pool["cash"] - overdue_principal * 8 // 10

    # 9. The statistics moved by the loan and by the compensation, to the fen.
    after = statistics(page)
    shot(page, "story", "09-statistics-after")
    assert after["times"] - before["times"] == 1
    assert after["lent"] - before["lent"] == 120_000_00
    assert after["first_time"] - before["first_time"] == 1
    assert after["compensation"] - before["compensation"] == 24_000_00
    assert overdue_principal * 8 // 10 == 24_000_00
