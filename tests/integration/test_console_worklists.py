"""The console's day-to-day reading: each role's to-do list, the bank's queue columns, the
breaker page's ratios against the thresholds (and over time), the overdue dashboard, and the
error pages in the user's language with a way back."""

from __future__ import annotations

import datetime as dt
import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from support.fund import make_loan

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    monkeypatch.setattr("kvcredit.clock.today", lambda: DAY)
    return DAY


def login(world, who: str, lang: str = "zh-hans") -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


def todo_of(world, who: str, page: str, lang: str = "en") -> list[str]:  # type: ignore[no-untyped-def]
    return todo_texts(login(world, who, lang).get(reverse(page)).content.decode())


def get(world, who: str, url: str, lang: str = "en") -> str:  # type: ignore[no-untyped-def]
    return login(world, who, lang).get(url).content.decode()


def todo_texts(html: str) -> list[str]:
    block = html.split('id="todo-h"', 1)[1].split("</section>", 1)[0]
    return [re.sub(r"\s+", " ", t).strip() for t in re.findall(r"<a [^>]*>(.*?)</a>", block, re.S)]


def _apply(world, side: str = "a", amount_fen: int = 500_000_00):  # type: ignore[no-untyped-def]
    from kvcredit.lending import loans
    from kvcredit.lending.services import create_product

    product = create_product(
        world.system, code=f"KVC{side}", name="知识价值信用贷款", methods=["QUARTERLY_INTEREST"]
    )
    return loans.apply(
        world.users[f"enterprise_{side}"],
        bank_id=world.bank[side].pk,
        product_id=product.pk,
        amount_fen=amount_fen,
        term_months=12,
        method="QUARTERLY_INTEREST",
        purpose="研发投入",
        first_time_borrower=True,
        today=DAY,
    )


# -- the to-do lists ---------------------------------------------------------------------------


def test_the_bank_sees_its_own_waiting_applications_and_overdue_loans(world, today) -> None:  # type: ignore[no-untyped-def]
    _apply(world, "a")
    make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], due_principal_fen=1, days_past_due=5
    )
    items = todo_texts(
        login(world, "bank_a", "en").get(reverse("console:credit_lines")).content.decode()
    )
    assert "1 application waits for your decision" in items
    assert "1 loan is overdue" in items
    # bank b has nothing of bank a's
    items_b = todo_texts(
        login(world, "bank_b", "en").get(reverse("console:credit_lines")).content.decode()
    )
    assert not any("application" in t or "overdue" in t for t in items_b)


def test_the_trustee_sees_claims_to_check_and_pay_with_maker_checker(
    world, today, trustees
) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.fund import claims

    maker, _checker = trustees
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=100_000_00,
        days_past_due=120,
    )
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    page = login(world, "trustee", "en").get(reverse("console:programme")).content.decode()
    assert "1 claim to check" in todo_texts(page)
    claims.check(maker, claim_id=c.pk, on=DAY)
    mine = todo_texts(
        login(world, "trustee", "en").get(reverse("console:programme")).content.decode()
    )
    other = todo_texts(
        login(world, "trustee_b", "en").get(reverse("console:programme")).content.decode()
    )
    assert "1 claim you checked waits for a second trustee to pay it" in mine
    assert "1 checked claim to pay (checked by another trustee)" in other
    assert not any("to pay (checked by another" in t for t in mine)


def test_the_to_do_list_speaks_chinese(world, today) -> None:  # type: ignore[no-untyped-def]
    _apply(world, "a")
    items = todo_texts(login(world, "bank_a").get(reverse("console:credit_lines")).content.decode())
    assert "1 笔申请等待您审批" in items


# -- the bank's queue --------------------------------------------------------------------------


def test_the_queue_shows_grade_limit_available_method_and_date(world, today) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.enterprises.models import CreditLine

    app = _apply(world, "a", amount_fen=300_000_00)
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    html = login(world, "bank_a", "en").get(reverse("console:queue")).content.decode()
    row = html.split(f'id="application-{app.pk}"', 1)[1].split("</tr>", 1)[0]
    assert line.evaluation.grade in row
    assert f"{line.limit_fen / 100:,.2f}" in row
    assert f"{line.available_fen / 100:,.2f}" in row
    assert line.available_fen == line.limit_fen - 300_000_00
    assert "quarterly interest" in row
    assert app.submitted_at.date().isoformat() in row


def test_a_refused_decision_names_the_application_and_the_field(world, today) -> None:  # type: ignore[no-untyped-def]
    app = _apply(world, "a")
    bank = login(world, "bank_a", "en")
    r = bank.post(
        reverse("console:decide", args=[app.pk, "approve"]), {"amount": "abc"}, follow=True
    )
    text = r.content.decode()
    assert f"Application {app.pk} refused" in text
    assert "Approved amount (yuan)" in text


# -- breakers: ratios, thresholds, over time ---------------------------------------------------


def test_breaker_page_shows_ratios_against_thresholds_and_a_series(world, today) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.day import run_day
    from kvcredit.fund.models import Breaker, BreakerReading

    for _ in range(3):
        make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=100_000_00)
    run_day(as_of=dt.date(2025, 3, 12), catch_up=True)
    run_day(as_of=dt.date(2025, 3, 13))
    b = Breaker.objects.get(bank=world.bank["a"], district=world.district["a"])
    days = list(BreakerReading.objects.filter(breaker=b).values_list("as_of_date", flat=True))
    assert dt.date(2025, 3, 13) in days and len(days) == len(set(days))
    html = (
        login(world, "trustee", "en")
        .get(reverse("console:breakers") + f"?pair={b.pk}")
        .content.decode()
    )
    assert 'id="thresholds"' in html and "suspends at 8%" in html
    assert f'data-testid="npl-{b.pk}"' in html
    found = re.search(r'id="breaker-chart-data"[^>]*>(.*?)</script>', html, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert "2025-03-13" in data["x"]
    assert len(data["series"]) == 2 and all(len(s["y"]) == len(data["x"]) for s in data["series"])
    # another bank's pair is not offered to bank b, even by id
    html_b = (
        login(world, "bank_b", "en")
        .get(reverse("console:breakers") + f"?pair={b.pk}")
        .content.decode()
    )
    assert f'data-testid="npl-{b.pk}"' not in html_b
    assert "breaker-chart-data" not in html_b


# -- the overdue dashboard ---------------------------------------------------------------------


def test_overdue_dashboard_by_bank_and_district_is_scoped(world, today) -> None:  # type: ignore[no-untyped-def]
    make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=100_000_00,
        due_principal_fen=20_000_00,
        days_past_due=100,
    )
    make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=300_000_00)
    make_loan(
        enterprise=world.enterprise["b"],
        bank=world.bank["b"],
        amount_fen=700_000_00,
        due_principal_fen=1_00,
        days_past_due=3,
    )
    html = login(world, "trustee", "en").get(reverse("console:overdue")).content.decode()
    by_bank = html.split('id="overdue-by-bank"', 1)[1].split("</table>", 1)[0]
    assert "银行a" in by_bank and "银行b" in by_bank
    assert "25.00%" in by_bank  # bank a: 100,000 of 400,000 on an overdue loan; NPL 25%
    mine = login(world, "bank_a", "en").get(reverse("console:overdue")).content.decode()
    assert "银行b" not in mine and "700,000.00" not in mine
    assert login(world, "enterprise_a").get(reverse("console:overdue")).status_code == 403


# -- error pages -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "text", "back"),
    [("zh-hans", "无权访问", "返回我的首页"), ("en", "Not allowed", "Back to my start page")],
)
def test_403_page_in_the_users_language_with_a_way_back(world, lang, text, back) -> None:  # type: ignore[no-untyped-def]
    r = login(world, "bank_a", lang).get(reverse("console:policies"))
    assert r.status_code == 403
    html = r.content.decode()
    assert text in html and back in html and 'href="/"' in html


def test_404_page_in_chinese(world) -> None:  # type: ignore[no-untyped-def]
    r = login(world, "bank_a").get("/no/such/page/")
    assert r.status_code == 404
    assert "页面不存在" in r.content.decode()


def test_csrf_failure_page_in_chinese(world) -> None:  # type: ignore[no-untyped-def]
    c = Client(enforce_csrf_checks=True, HTTP_ACCEPT_LANGUAGE="zh-hans")
    r = c.post(reverse("login"), {"username": "bank_a", "password": "x"})
    assert r.status_code == 403
    assert "表单已失效" in r.content.decode()


def test_lockout_page_in_english(world) -> None:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="en")
    for _ in range(6):
        r = c.post(reverse("login"), {"username": "bank_a", "password": "wrong-password"})
    assert r.status_code == 429
    assert "Account locked for a while" in r.content.decode()


def test_500_page_renders_without_a_request_context() -> None:
    from django.template import loader
    from django.utils import translation

    with translation.override("zh-hans"):
        html = loader.get_template("500.html").render()
    assert "出错了" in html and "console.css" in html
