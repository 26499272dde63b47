"""A list in a real browser: filter, sort, download the export and find the same rows in it;
the table stays readable at 1366 px without a page-wide horizontal scroll; the top bar's search
finds a loan by its number."""

from __future__ import annotations

import datetime as dt
import io
import re
from decimal import Decimal
from pathlib import Path

import openpyxl

from browser.support import log_in, shot

AMOUNTS = [123_456_789_01, 5_000_000_00, 1_000_000_01, 300_000_00, 2_500_000_50]


def _loans(world) -> list:  # type: ignore[no-untyped-def,type-arg]
    from support.fund import make_loan

    return [
        make_loan(
            enterprise=world.enterprise["a" if i % 2 == 0 else "b"],
            bank=world.bank["a" if i % 2 == 0 else "b"],
            amount_fen=amount,
            disbursed_on=dt.date(2024, 1 + i, 10),
        )
        for i, amount in enumerate(AMOUNTS)
    ]


def _fen(text: str) -> int:
    return int(Decimal(text.replace(",", "")) * 100)


def test_a_list_is_filtered_sorted_and_exported_as_shown(page, live_world) -> None:  # type: ignore[no-untyped-def]
    loans = _loans(live_world)
    page.set_viewport_size({"width": 1366, "height": 800})
    log_in(page, "trustee")
    page.get_by_role("navigation", name="主导航").get_by_role(
        "link", name="贷款", exact=True
    ).click()
    page.wait_for_url(re.compile(r"/loans/$"))
    page.get_by_label("金额下限（元）").fill("1000000.01")
    page.get_by_role("button", name="筛选").click()
    page.get_by_text("共 4 条").wait_for()
    # sort by amount: the header's link; twice for the largest first
    table = page.locator("table.list")
    table.get_by_role("link", name="金额（元）").click()
    page.wait_for_url(re.compile(r"sort=amount_fen"))
    table.get_by_role("link", name="金额（元）").click()
    page.wait_for_url(re.compile(r"sort=-amount_fen"))
    assert "amount_min=1000000.01" in page.url
    rows = table.locator("tbody tr")
    assert rows.count() == 4
    shown_ids = [rows.nth(i).locator("td").nth(0).inner_text().strip() for i in range(4)]
    shown_amounts = [_fen(rows.nth(i).locator("td").nth(5).inner_text()) for i in range(4)]
    wanted = sorted((a for a in AMOUNTS if a >= 1_000_000_01), reverse=True)
    assert shown_amounts == wanted
    # no page-wide horizontal scroll at 1366 px; the header row stays in view
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    sticky = page.evaluate(
        "getComputedStyle(document.querySelector('table.list thead th')).position"
    )
    assert sticky == "sticky"
    shot(page, "lists", "filtered-sorted")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Excel").click()
    download = download_info.value
    assert download.suggested_filename.endswith(".xlsx")
    ws = openpyxl.load_workbook(io.BytesIO(Path(download.path()).read_bytes())).active
    cells = list(ws.iter_rows(values_only=True))
    headers, data = list(cells[0]), cells[1:]
    assert [str(r[headers.index("编号")]) for r in data] == shown_ids
    assert [round(r[headers.index("金额（元）")] * 100) for r in data] == shown_amounts
    # the top bar's search finds a loan by its number
    page.get_by_placeholder("名称、信用代码或编号").fill(str(loans[0].pk))
    page.get_by_role("button", name="搜索", exact=True).first.click()
    page.wait_for_url(re.compile(r"/search/\?q="))
    page.get_by_role("link", name=re.compile(rf"^{loans[0].pk} · ")).first.click()
    page.wait_for_url(re.compile(rf"/loans/{loans[0].pk}/$"))
