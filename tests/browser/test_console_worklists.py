"""The to-do list, the breaker chart over time and the overdue dashboard in a real browser,
and an out-of-role page answered in Chinese with a way back."""

from __future__ import annotations

import datetime as dt
from typing import Any

from browser.support import log_in, shot
from support.fund import make_loan


def _book(world: Any) -> None:
    from kvcredit.day import run_day

    make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=300_000_00)
    run_day(as_of=dt.date(2025, 3, 12), catch_up=True)
    run_day(as_of=dt.date(2025, 3, 13))
    # after the days: a loan put straight into an overdue state (the day would age it anew)
    make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=100_000_00,
        due_principal_fen=20_000_00,
        days_past_due=100,
    )


def test_bank_follows_its_to_do_to_the_overdue_dashboard(page, live_world) -> None:  # type: ignore[no-untyped-def]
    _book(live_world)
    log_in(page, "bank_a")
    todo = page.locator("section.todo")
    todo.wait_for()
    assert "逾期" in todo.inner_text()
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="逾期").click()
    page.get_by_role("heading", level=1, name="逾期与不良贷款").wait_for()
    table = page.locator("#overdue-by-bank")
    assert "银行a" in table.inner_text() and "银行b" not in table.inner_text()
    page.wait_for_selector("body[data-charts-drawn='true']")
    shot(page, "overdue", "dashboard")


def test_trustee_sees_a_breakers_ratios_over_time(page, live_world) -> None:  # type: ignore[no-untyped-def]
    _book(live_world)
    log_in(page, "trustee")
    page.goto("/fund/breakers/")
    assert "现行阈值" in page.locator("#thresholds").inner_text()
    page.get_by_role("link", name="走势").first.click()
    page.wait_for_selector("#breaker-chart.drawn svg")
    shot(page, "breakers", "chart")


def test_out_of_role_page_speaks_chinese_and_leads_back(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "bank_a")
    response = page.goto("/setup/policies/")
    assert response is not None and response.status == 403
    page.get_by_role("heading", name="无权访问").wait_for()
    page.get_by_role("link", name="返回我的首页").click()
    page.wait_for_url("**/credit-lines/")
