"""A claim's documents in a real browser: the bank attaches a PDF, sees it in the versions
table, attaches its next version, downloads the first (its bytes and SHA-256 checked), and the
other bank gets the not-found page for both the list and the file."""

from __future__ import annotations

import datetime as dt
import hashlib
from pathlib import Path
from typing import Any

import pytest

from browser.support import log_in, shot

DAY = dt.date(2025, 6, 30)
PDF = b"%PDF-1.7\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def storage(settings: Any, tmp_path: Path) -> Path:
    settings.STORAGES = settings.STORAGES | {
        "documents": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": tmp_path / "documents"},
        }
    }
    return tmp_path / "documents"


def test_bank_attaches_versions_downloads_and_the_other_bank_cannot_see(  # type: ignore[no-untyped-def]
    page, live_world, storage, tmp_path
) -> None:
    from kvcredit.fund import claims
    from support.fund import make_loan

    w = live_world
    loan = make_loan(
        enterprise=w.enterprise["a"], bank=w.bank["a"], due_principal_fen=10**7, days_past_due=100
    )
    claim = claims.register(w.users["bank_a"], loan_id=loan.pk, on=DAY)
    first = tmp_path / "催收记录.pdf"
    first.write_bytes(PDF)
    second = tmp_path / "催收记录-更正.pdf"
    second.write_bytes(PDF + b"% corrected\n")

    log_in(page, "bank_a")
    page.goto(f"/fund/claims/{claim.pk}/")
    page.locator(f'a[href="/fund/claims/{claim.pk}/documents/"]').first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", level=1).inner_text() == f"代偿申请 {claim.pk} 的文件"
    page.locator('select[name="kind"]').select_option("EVIDENCE")
    page.locator('input[name="title"]').fill("催收记录")
    page.locator('input[name="file"]').set_input_files(str(first))
    page.get_by_role("button", name="附上").click()
    page.wait_for_load_state()
    rows = page.locator("#documents tbody tr")
    assert rows.count() == 1
    assert "证据材料 催收记录" in rows.first.inner_text()

    # the next version of the same document: both stay listed
    page.locator('select[name="document"]').select_option(
        label=rows.first.locator("td").first.inner_text()
    )
    page.locator('input[name="file"]').set_input_files(str(second))
    page.get_by_role("button", name="附上").click()
    page.wait_for_load_state()
    assert sorted(r.get_attribute("data-version") for r in rows.all()) == ["1", "2"]
    shot(page, "documents", "versions")

    v1 = page.locator('#documents tr[data-version="1"]')
    shown = v1.locator("code").get_attribute("title")
    assert shown == hashlib.sha256(PDF).hexdigest()
    with page.expect_download() as got:
        v1.get_by_role("link", name="催收记录.pdf").click()
    download = got.value
    assert download.suggested_filename == "催收记录.pdf"
    assert Path(download.path()).read_bytes() == PDF
    href = v1.get_by_role("link").get_attribute("href")
    list_url = page.url

    # another bank: neither the list nor the file, the same not-found page for both
    other = page.context.browser.new_context(base_url=page.url.split("/fund/")[0], locale="zh-CN")
    try:
        pg = other.new_page()
        log_in(pg, "bank_b")
        for url in (list_url, href):
            r = pg.goto(url)
            assert r is not None and r.status == 404
            assert "页面不存在" in pg.content()
        shot(pg, "documents", "other-bank")
    finally:
        other.close()
