"""Lending and fund pages: each role's task through the console, role checks, and a 404 for
another organisation's application, loan, claim and breaker."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 3, 14)


@pytest.fixture
def today(monkeypatch):  # type: ignore[no-untyped-def]
    state = {"day": DAY}
    monkeypatch.setattr("kvcredit.clock.today", lambda: state["day"])
    return state


def login(world, who: str) -> Client:  # type: ignore[no-untyped-def]
    c = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
    c.force_login(world.users[who])
    return c


@pytest.fixture
def product(world):  # type: ignore[no-untyped-def]
    from kvcredit.lending.services import create_product

    return create_product(
        world.system,
        code="KVC",
        name="知识价值信用贷款",
        methods=["QUARTERLY_INTEREST", "EQUAL_INSTALMENT"],
    )


def apply_through_console(world, product, side: str = "a") -> int:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Application

    response = login(world, f"enterprise_{side}").post(
        reverse("console:apply"),
        {
            "bank": world.bank[side].pk,
            "product": product.pk,
            "amount": "100000",
            "term_months": 12,
            "method": "QUARTERLY_INTEREST",
            "purpose": "研发投入",
            "first_time_borrower": "on",
        },
    )
    assert response.status_code == 302, response.content[:2000]
    return Application.objects.filter(enterprise=world.enterprise[side]).latest("id").pk


def test_enterprise_applies_and_bank_approves_and_disburses(world, product, today) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Loan

    app_id = apply_through_console(world, product)
    bank = login(world, "bank_a")
    assert str(app_id) in bank.get(reverse("console:queue")).content.decode()
    bank.post(reverse("console:decide", args=[app_id, "approve"]), {"amount": "80000"})
    bank.post(reverse("console:decide", args=[app_id, "disburse"]), {"confirmed": "yes"})
    loan = Loan.objects.get(application_id=app_id)
    assert loan.amount_fen == 80_000_00
    page = login(world, "enterprise_a").get(reverse("console:loan", args=[loan.pk]))
    assert page.status_code == 200
    assert "80,000.00" in page.content.decode()


def test_another_bank_gets_404_for_the_application_and_the_loan(world, product, today) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Application

    app_id = apply_through_console(world, product)
    other = login(world, "bank_b")
    r = other.post(reverse("console:decide", args=[app_id, "approve"]), {"amount": "1"})
    assert r.status_code == 404
    assert Application.objects.get(pk=app_id).status == "SUBMITTED"
    bank = login(world, "bank_a")
    bank.post(reverse("console:decide", args=[app_id, "approve"]), {"amount": "1000"})
    bank.post(reverse("console:decide", args=[app_id, "disburse"]), {"confirmed": "yes"})
    loan_id = Application.objects.get(pk=app_id).loan.pk
    for who in ("bank_b", "enterprise_b", "district_b"):
        assert login(world, who).get(reverse("console:loan", args=[loan_id])).status_code == 404
    for who in ("bank_a", "enterprise_a", "district_a", "trustee"):
        assert login(world, who).get(reverse("console:loan", args=[loan_id])).status_code == 200


def test_a_rejection_needs_a_reason_and_shows_the_refusal(world, product, today) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.lending.models import Application

    app_id = apply_through_console(world, product)
    bank = login(world, "bank_a")
    r = bank.post(reverse("console:decide", args=[app_id, "reject"]), {"reason": ""}, follow=True)
    assert Application.objects.get(pk=app_id).status == "SUBMITTED"
    assert r.status_code == 200


def test_repayment_upload_reports_each_bad_row(world, product, today) -> None:  # type: ignore[no-untyped-def]
    from django.core.files.uploadedfile import SimpleUploadedFile

    csv = "loan_id,amount,paid_on,reference\nabc,10,2025-03-14,R1\n999999,10,2025-03-14,R2\n"
    upload = SimpleUploadedFile("r.csv", csv.encode(), content_type="text/csv")
    r = login(world, "bank_a").post(reverse("console:upload_repayments"), {"file": upload})
    body = r.content.decode()
    assert r.status_code == 200
    assert "贷款编号应为正整数" in body  # row 1, in Chinese
    assert "<td>2</td>" in body


PAGES = {
    "enterprise_a": ["apply", "loans"],
    "bank_a": ["queue", "loans", "upload_repayments", "claims", "breakers"],
    "district_a": ["loans", "pools", "claims"],
    "trustee": ["pools", "claims", "fees", "breakers", "loans"],
    "admin": ["loans", "pools"],
}


@pytest.mark.parametrize(("who", "page"), [(w, p) for w, ps in PAGES.items() for p in ps])
def test_each_role_opens_its_lending_and_fund_pages(world, who: str, page: str) -> None:  # type: ignore[no-untyped-def]
    assert login(world, who).get(reverse(f"console:{page}")).status_code == 200


@pytest.mark.parametrize(
    ("who", "page"),
    [
        ("enterprise_a", "queue"),
        ("enterprise_a", "pools"),
        ("bank_a", "apply"),
        ("bank_a", "fees"),
        ("district_a", "upload_repayments"),
        ("trustee", "apply"),
    ],
)
def test_a_page_outside_the_role_is_forbidden(world, who: str, page: str) -> None:  # type: ignore[no-untyped-def]
    assert login(world, who).get(reverse(f"console:{page}")).status_code == 403


def _filed_claim(world, days_past_due: int = 120):  # type: ignore[no-untyped-def]
    from kvcredit.fund import services
    from support.fund import make_loan

    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=50_000_00,
        days_past_due=days_past_due,
    )
    services.record_contribution(
        world.users["trustee"],
        district_id=world.district["a"].pk,
        contributor="CITY",
        amount_fen=10_000_000_00,
        paid_date=DAY,
    )
    r = login(world, "bank_a").post(reverse("console:claims"), {"loan_id": loan.pk})
    assert r.status_code == 302, r.content.decode()[:3000]
    return loan, loan.fund_claims.get()


def test_claim_checked_by_one_trustee_is_paid_by_another_only(world, today) -> None:  # type: ignore[no-untyped-def]
    _loan, claim = _filed_claim(world)
    assert claim.status == "FILED"
    assert login(world, "bank_b").get(reverse("console:claim", args=[claim.pk])).status_code == 404
    a = login(world, "trustee")
    a.post(reverse("console:claim_step", args=[claim.pk, "check"]), {"note": "ok"})
    refused = a.post(reverse("console:claim_step", args=[claim.pk, "pay"]), follow=True)
    claim.refresh_from_db()
    assert claim.status == "CHECKED"
    assert "未能办理" in refused.content.decode()  # the maker-checker refusal is shown
    b = login(world, "trustee_b")  # a second user of the same trustee
    b.post(reverse("console:claim_step", args=[claim.pk, "pay"]), {"confirmed": "yes"})
    claim.refresh_from_db()
    assert claim.status == "PAID"


def test_a_registered_claim_is_filed_by_the_bank_once_the_loan_is_overdue_enough(  # type: ignore[no-untyped-def]
    world, today
) -> None:
    from support.fund import make_loan

    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=50_000_00,
        days_past_due=40,
    )
    bank = login(world, "bank_a")
    early = bank.post(reverse("console:claims"), {"loan_id": loan.pk}, follow=True)
    claim = loan.fund_claims.get()
    assert claim.status == "REGISTERED"  # reported; filing is refused until 90 days
    assert "90" in early.content.decode()
    page = bank.get(reverse("console:claim", args=[claim.pk])).content.decode()
    assert "申请代偿时按逾期本金确定资金池承担的份额" in page
    step = reverse("console:claim_step", args=[claim.pk, "file"])
    login(world, "trustee").post(step)  # not the trustee's step: nothing changes
    claim.refresh_from_db()
    assert claim.status == "REGISTERED"
    loan.days_past_due = 95
    loan.save(update_fields=["days_past_due"])
    done = bank.post(step, follow=True)
    claim.refresh_from_db()
    assert claim.status == "FILED" and claim.amount_fen == 40_000_00
    assert f"代偿申请 {claim.pk} 已提交。" in done.content.decode()


def test_the_trustee_rejects_a_claim_with_a_reason(world, today) -> None:  # type: ignore[no-untyped-def]
    _loan, claim = _filed_claim(world)
    trustee = login(world, "trustee")
    page = trustee.get(reverse("console:claim", args=[claim.pk])).content.decode()
    assert "驳回代偿申请" in page and "终结代偿申请" not in page
    step = reverse("console:claim_step", args=[claim.pk, "reject"])
    refused = trustee.post(step, {"reject-reason": "短"}, follow=True)
    claim.refresh_from_db()
    assert claim.status == "FILED" and "未能办理" in refused.content.decode()
    # a bank may not reject (the step is the trustee's): nothing changes
    login(world, "bank_a").post(step, {"reject-reason": "银行自己驳回"})
    claim.refresh_from_db()
    assert claim.status == "FILED"
    done = trustee.post(
        step, {"reject-reason": "借款合同缺失，材料不全", "confirmed": "yes"}, follow=True
    )
    claim.refresh_from_db()
    assert claim.status == "REJECTED" and claim.note == "借款合同缺失，材料不全"
    assert "代偿申请已驳回。" in done.content.decode()


@pytest.mark.parametrize(("outcome", "status"), [("close", "CLOSED"), ("write_off", "WRITTEN_OFF")])
def test_the_trustee_ends_a_paid_claim_and_the_loan_leaves_the_book(  # type: ignore[no-untyped-def]
    world, today, outcome, status
) -> None:
    loan, claim = _filed_claim(world)
    login(world, "trustee").post(reverse("console:claim_step", args=[claim.pk, "check"]), {})
    pay = reverse("console:claim_step", args=[claim.pk, "pay"])
    login(world, "trustee_b").post(pay, {"confirmed": "yes"})
    claim.refresh_from_db()
    assert claim.status == "PAID"
    trustee = login(world, "trustee")
    assert "终结代偿申请" in trustee.get(reverse("console:claim", args=[claim.pk])).content.decode()
    step = reverse("console:claim_step", args=[claim.pk, "close"])
    values = {"end-reason": "追偿程序已终结", "outcome": outcome, "confirmed": "yes"}
    done = trustee.post(step, values, follow=True)
    claim.refresh_from_db()
    loan.refresh_from_db()
    assert claim.status == status and loan.status == "WRITTEN_OFF"
    assert "该笔贷款已核销出账" in done.content.decode()


def test_breaker_lift_needs_a_reason_and_is_for_the_trustee(world) -> None:  # type: ignore[no-untyped-def]
    from django.utils import timezone

    from kvcredit.fund.models import Breaker

    b = Breaker.objects.create(
        bank=world.bank["a"],
        district=world.district["a"],
        state="SUSPENDED",
        updated_at=timezone.now(),
    )
    assert (
        login(world, "bank_a").post(reverse("console:breaker_lift", args=[b.pk])).status_code == 403
    )
    login(world, "trustee").post(reverse("console:breaker_lift", args=[b.pk]), {"reason": ""})
    b.refresh_from_db()
    assert b.state == "SUSPENDED"


def test_the_application_queue_is_paginated_oldest_first(
    world, product, today, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    from kvcredit.console.views import lending as views
    from kvcredit.lending.models import Application

    first = apply_through_console(world, product)
    second = Application.objects.create(
        **{
            f.attname: getattr(Application.objects.get(pk=first), f.attname)
            for f in Application._meta.concrete_fields
            if not f.primary_key
        }
    ).pk
    monkeypatch.setattr(views, "PER_PAGE", 1)
    bank = login(world, "bank_a")
    one = bank.get(reverse("console:queue")).content.decode()
    two = bank.get(reverse("console:queue") + "?page=2").content.decode()
    assert f"application-{first}" in one and f"application-{second}" not in one
    assert f"application-{second}" in two and 'rel="prev"' in two
