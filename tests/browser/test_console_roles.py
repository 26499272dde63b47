"""Each role logs in and does its main task in a real browser (Debian's chromium, headless)."""

from __future__ import annotations

import re
from importlib import resources
from typing import Any

import pytest

from browser.support import log_in, shot


def charts_drawn(page: Any) -> None:
    page.wait_for_selector("body[data-charts-drawn='true']")
    page.wait_for_selector(".plot.drawn svg")


def test_enterprise_submits_a_new_year_and_sees_its_grade_and_chart(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "enterprise_a")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="报送数据").click()
    page.get_by_label("数据所属年度").fill("2025")
    page.get_by_label("研发费用").fill("7000000")
    shot(page, "enterprise", "form")
    page.get_by_role("button", name="提交并评价").click()
    page.wait_for_url(re.compile(r"/evaluation/$"))
    page.get_by_text("数据已提交并完成评价。").wait_for()
    grade = page.get_by_test_id("grade").inner_text().strip()
    assert grade in {"A", "B", "C", "D", "E"}
    charts_drawn(page)
    assert (
        page.locator("#points-chart .bars path").count() > 0
        or page.locator("#points-chart svg").count() > 0
    )
    shot(page, "enterprise", "evaluation")
    page.get_by_role("link", name="我的数据").click()
    page.get_by_role("link", name="2025").wait_for()


def _policy(version: str) -> str:
    text = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml")
    source = text.read_text("utf-8").replace('version = "2026.1"', f'version = "{version}"', 1)
    return source.replace("credit_limit = 5000000", "credit_limit = 5500000", 1)


def test_administrator_checks_previews_and_publishes_a_policy(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "admin")
    page.wait_for_url(re.compile(r"/setup/policies/$"))
    # A broken policy: the errors name their key paths.
    broken = _policy("2026.9").replace('kind = "grades"', 'kind = "stars"', 1)
    page.get_by_label("或粘贴政策内容").fill(broken)
    page.get_by_role("button", name="校验并预览").click()
    problems = page.get_by_test_id("policy-problems")
    problems.wait_for()
    assert "outcome" in problems.inner_text()
    shot(page, "policy", "errors")
    # A good one, uploaded as a file: the preview shows the migration and the credit change.
    page.get_by_role("link", name="返回政策列表").click()
    page.get_by_label("政策文件（TOML）").set_input_files(
        {"name": "kvc.toml", "mimeType": "text/plain", "buffer": _policy("2026.2").encode()}
    )
    page.get_by_role("button", name="校验并预览").click()
    page.get_by_test_id("policy-ok").wait_for()
    assert page.get_by_test_id("migration").is_visible()
    # Both registered enterprises hold grade A: 500,000 yuan more each.
    assert page.get_by_test_id("credit-change").inner_text() == "1,000,000.00"
    shot(page, "policy", "preview")
    page.get_by_role("button", name="发布").click()
    page.get_by_text("已重新评价 2 家企业").wait_for()
    row = page.get_by_role("row").filter(has_text="2026.2")
    assert "现行" in row.inner_text()


def test_administrator_adds_a_loan_product_and_deactivates_it(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "admin")
    page.get_by_role("navigation", name="主导航").get_by_role("link", name="贷款产品").click()
    page.wait_for_url(re.compile(r"/setup/products/$"))
    page.get_by_label("代码").fill("KVC-B")
    page.get_by_label("名称").fill("知识价值信用贷款")
    page.get_by_label("定价基准").select_option("LPR_1Y")
    page.get_by_label("在基准上加点（基点）").fill("20000")
    page.get_by_label("等额本金").uncheck()
    page.get_by_role("button", name="添加").click()
    # The service refuses the spread: the message stands at that field.
    page.get_by_text("须在 -10000 与 10000 之间").wait_for()
    shot(page, "products", "refused")
    page.get_by_label("在基准上加点（基点）").fill("50")
    page.get_by_role("button", name="添加").click()
    page.get_by_text("贷款产品已添加。").wait_for()
    row = page.get_by_role("row").filter(has_text="知识价值信用贷款")
    assert "+50" in row.inner_text() and "在用" in row.inner_text()
    assert "等额本金" not in row.inner_text()
    shot(page, "products", "added")
    row.get_by_role("button", name="停用").click()
    page.get_by_text("产品 KVC-B 已停用").wait_for()
    assert "已停用" in page.get_by_role("row").filter(has_text="知识价值信用贷款").inner_text()


def test_bank_filters_the_credit_lines_of_its_districts(page, live_world) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises import services

    w = live_world
    services.admit_bank(w.system, bank_id=w.bank["a"].pk, district_id=w.district["b"].pk)
    log_in(page, "bank_a")
    page.wait_for_url(re.compile(r"/credit-lines/$"))
    table = page.locator("table")
    assert "企业a" in table.inner_text() and "企业b" in table.inner_text()
    page.get_by_label("区县").select_option(label=str(w.district["b"]))
    page.get_by_role("button", name="筛选").click()
    page.wait_for_url(re.compile(r"district="))
    assert "企业b" in table.inner_text() and "企业a" not in table.inner_text()
    shot(page, "bank", "filtered")
    page.get_by_label("名称或统一社会信用代码").fill("不存在")
    page.get_by_role("button", name="筛选").click()
    page.get_by_text("没有符合条件的企业。").wait_for()


def test_bank_of_another_district_sees_none_of_them(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "bank_b")
    assert "企业a" not in page.locator("main").inner_text()
    response = page.goto(f"/enterprises/{live_world.enterprise['a'].pk}/")
    assert response.status == 404


@pytest.mark.parametrize(
    ("who", "heading"),
    [("district_a", "本区县企业"), ("trustee", "试点概况"), ("admin", "评价政策")],
)
def test_each_role_lands_on_its_work(page, live_world, who, heading) -> None:  # type: ignore[no-untyped-def]
    log_in(page, who)
    assert page.get_by_role("heading", level=1).inner_text() == heading


def test_statistics_draw_their_charts_from_the_local_plotly(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "admin")
    page.goto("/statistics/")
    charts_drawn(page)
    assert page.locator(".plot.drawn").count() == 4  # districts, grades, months, pools
    shot(page, "statistics", "charts")


def test_the_language_switches_to_english_and_back(page, live_world) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "bank_a")
    nav = page.get_by_role("navigation", name="主导航")
    assert nav.get_by_role("link", name="授信额度").is_visible()
    page.get_by_label("语言").select_option("en")
    page.get_by_role("button", name="切换").click()
    english = page.get_by_role("navigation", name="Main")
    english.get_by_role("link", name="Credit lines").wait_for()
    assert page.locator("html").get_attribute("lang") == "en"
    shot(page, "language", "english")
    page.get_by_label("Language").select_option("zh-hans")
    page.get_by_role("button", name="Switch").click()
    nav.get_by_role("link", name="授信额度").wait_for()
    assert page.locator("html").get_attribute("lang") == "zh-hans"


def test_the_keyboard_reaches_the_skip_link_first_and_it_moves_to_the_content(
    page, live_world
) -> None:  # type: ignore[no-untyped-def]
    log_in(page, "enterprise_a")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
    page.keyboard.press("Enter")
    assert page.evaluate("location.hash") == "#main"
