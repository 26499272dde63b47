"""The claim lifecycle as the service, the API and the console run it (SQLite and PostgreSQL):
the fund never pays for a loan that is not in default, which loan may be claimed is one rule,
and the codes and labels come from the lifecycle's enum."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import translation

from kvcredit.api.api import api
from kvcredit.audit.models import AuditRecord
from kvcredit.console.templatetags.console import claim_status
from kvcredit.enterprises.models import CreditLine
from kvcredit.errors import Conflict, InvalidInput
from kvcredit.fund import claims, selectors, services
from kvcredit.fund.domain import claim as dc
from kvcredit.fund.models import Claim, ClaimStatus, EntryKind, JournalEntry
from kvcredit.lending import repayments
from kvcredit.lending import selectors as lending_selectors
from kvcredit.lending.models import Instalment, Loan, LoanStatus
from support.fund import make_loan

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
DAY = dt.date(2025, 6, 30)
PRINCIPAL = 1_000_000  # fen: 10,000 yuan, all of it overdue


def _loan(world, *, dpd=120, due=PRINCIPAL):  # type: ignore[no-untyped-def]
    """A loan of PRINCIPAL with ``due`` of it overdue for ``dpd`` days; its principal counts as
    used on the enterprise's credit line, as a disbursement leaves it."""
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=PRINCIPAL,
        due_principal_fen=due,
        days_past_due=dpd,
    )
    CreditLine.objects.filter(enterprise=world.enterprise["a"]).update(
        used_fen=F("used_fen") + PRINCIPAL
    )
    if due:  # the instalment that fell due and is unpaid
        Instalment.objects.create(
            loan=loan,
            seq=1,
            due_date=DAY - dt.timedelta(days=dpd),
            principal_fen=due,
            interest_fen=0,
            principal_due_fen=due,
            interest_due_fen=0,
        )
    return loan


def _checked(world, trustees, **kw):  # type: ignore[no-untyped-def]
    t1, _t2 = trustees
    services.record_contribution(
        t1, district_id=world.district["a"].pk, contributor="CITY", amount_fen=10**8, paid_date=DAY
    )
    loan = _loan(world, **kw)
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    return loan, claims.check(t1, claim_id=c.pk, on=DAY)


def _repay(world, loan, amount):  # type: ignore[no-untyped-def]
    return repayments.repay(
        world.users["bank_a"], loan_id=loan.pk, amount_fen=amount, paid_on=DAY, today=DAY
    )


def _compensations() -> int:
    return JournalEntry.objects.filter(kind=EntryKind.COMPENSATION).count()


def test_a_claim_on_a_loan_repaid_since_it_was_checked_is_not_paid_and_can_be_rejected(
    world, trustees
):
    loan, c = _checked(world, trustees)
    _repay(world, loan, PRINCIPAL)  # the borrower pays everything off
    with pytest.raises(Conflict, match="cannot be paid: the loan has no overdue principal"):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    c.refresh_from_db()
    loan.refresh_from_db()
    assert (c.status, c.payment_entry_id, _compensations()) == ("CHECKED", None, 0)
    assert loan.status == LoanStatus.ACTIVE  # not marked compensated
    claims.reject(trustees[0], claim_id=c.pk, on=DAY, reason="借款人已结清，不予代偿")
    c.refresh_from_db()
    assert c.status == "REJECTED"


def test_the_refusal_is_translated():
    # (the message the trustee sees, in the programme's language)
    with translation.override("zh-hans"):
        from django.utils.translation import gettext

        msg = "this claim cannot be paid: %(why)s; the trustee can reject it"
        assert gettext(msg) != msg


@pytest.mark.parametrize("status", [LoanStatus.CLOSED, LoanStatus.WRITTEN_OFF])
def test_compensation_never_reopens_a_loan_that_left_the_book(world, trustees, status):
    loan, c = _checked(world, trustees)
    Loan.objects.filter(pk=loan.pk).update(status=status, closed_on=DAY)
    with pytest.raises(Conflict, match=re.escape(f"the loan is {LoanStatus(status).label}")):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    loan.refresh_from_db()
    assert loan.status == status and _compensations() == 0


def test_a_borrower_back_under_the_rules_days_overdue_is_not_compensated(world, trustees):
    loan, c = _checked(world, trustees)
    Loan.objects.filter(pk=loan.pk).update(days_past_due=30)  # caught up the oldest instalments
    with pytest.raises(Conflict, match="the loan is 30 days overdue; a claim needs 90"):
        claims.pay(trustees[1], claim_id=c.pk, on=DAY)


def test_the_fund_pays_the_share_of_the_overdue_principal_at_payment_and_keeps_the_filed(
    world, trustees
):
    loan, c = _checked(world, trustees)
    assert (c.amount_fen, c.filed_amount_fen) == (800_000, 800_000)
    _repay(world, loan, 400_000)  # part of the overdue principal is repaid after the check
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    assert c.status == "PAID"
    paid_now = (c.amount_fen, c.filed_amount_fen, c.overdue_principal_fen)
    assert paid_now == (480_000, 800_000, 600_000)
    assert -min(p.amount_fen for p in c.payment_entry.postings.all()) == 480_000
    paid = AuditRecord.objects.filter(action="FUND_CLAIM_PAID", object_id=str(c.pk)).get()
    assert (paid.after["amount_fen"], paid.after["filed_amount_fen"]) == (480_000, 800_000)
    loan.refresh_from_db()
    assert loan.status == LoanStatus.COMPENSATED


def test_a_loan_is_claimable_when_live_uncompensated_overdue_and_held_by_no_claim(world, trustees):
    """One rule for the service and the console's list of loans to claim (they differed: the
    service took any loan a day past due, whatever its status; the console hid a loan whose
    claim had been rejected)."""
    bank = world.users["bank_a"]
    listed = lambda: set(  # noqa: E731
        selectors.claimable_loans(lending_selectors.loans(bank)).values_list("pk", flat=True)
    )
    on_time = _loan(world, dpd=0, due=0)
    overdue = _loan(world, dpd=10)
    compensated = _loan(world, dpd=200)
    Loan.objects.filter(pk=compensated.pk).update(status=LoanStatus.COMPENSATED)
    closed = _loan(world, dpd=5)
    Loan.objects.filter(pk=closed.pk).update(status=LoanStatus.CLOSED)
    assert listed() == {overdue.pk}
    for loan, why in (
        (on_time, "not overdue"),
        (compensated, "the loan is compensated by the fund; the fund compensates only"),
        (closed, r"the loan is closed \(repaid\)"),
    ):
        with pytest.raises(InvalidInput, match=why):
            claims.register(bank, loan_id=loan.pk, on=DAY)
    c = claims.register(bank, loan_id=overdue.pk, on=DAY)
    assert listed() == set()
    with pytest.raises(Conflict, match="already has a claim"):
        claims.register(bank, loan_id=overdue.pk, on=DAY)
    claims.reject(trustees[0], claim_id=c.pk, on=DAY, reason="材料不全，退回银行")
    assert listed() == {overdue.pk}  # a rejected claim lets the loan be claimed again
    assert claims.register(bank, loan_id=overdue.pk, on=DAY).status == "REGISTERED"


def test_a_refused_step_names_the_states_it_needs(world, trustees):
    _, c = _checked(world, trustees)
    needs = (
        r"the claim is checked; this step needs paid or partly paid \(a stage to come\) "
        "or recovering"
    )
    with pytest.raises(Conflict, match=needs):
        claims.close(trustees[0], claim_id=c.pk, on=DAY, written_off=True, reason="未支付不结案")


def test_waiting_for_funds_is_one_question_everywhere(world, trustees, api_client):
    t1, t2 = trustees
    loan = _loan(world)
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)
    claims.check(t1, claim_id=c.pk, on=DAY)
    c = claims.pay(t2, claim_id=c.pk, on=DAY)  # the pool is empty: it waits
    assert c.waiting_for_funds and dc.is_waiting(c.status, c.waiting_since)
    assert list(Claim.objects.filter(selectors.waiting_for_funds())) == [c]
    [summary] = selectors.pool_summaries([c.pool])
    assert (summary.waiting_claims, summary.waiting_fen) == (1, 800_000)
    r = api_client.get("/api/v1/fund/claims?waiting=true", headers=world.auth("trustee"))
    assert [(x["id"], x["waiting_for_funds"]) for x in r.json()["items"]] == [(c.pk, True)]
    claims.reject(t1, claim_id=c.pk, on=DAY, reason="资金池不足，退回")
    assert not Claim.objects.filter(selectors.waiting_for_funds()).exists()


def test_claim_codes_and_labels_come_from_the_lifecycle_enum():
    assert ClaimStatus.choices == [(s.value, str(label)) for s, label in dc.CLAIM_LABELS.items()]
    assert [s.value for s in dc.ClaimStatus] == list(ClaimStatus.values)
    schema = api.get_openapi_schema()["components"]["schemas"]
    assert schema["ClaimOut"]["properties"]["status"]["enum"] == [s.value for s in dc.ClaimStatus]
    with translation.override("zh-hans"):
        for s in dc.ClaimStatus:
            shown = str(claim_status(s.value))
            assert (
                shown == str(ClaimStatus(s.value).label) == translation.gettext(dc.CLAIM_LABELS[s])
            )
            assert shown != dc.CLAIM_LABELS[s]  # translated


def _page(world, who, c) -> str:  # type: ignore[no-untyped-def]
    client = Client(HTTP_ACCEPT_LANGUAGE="en")
    client.force_login(world.users[who])
    return client.get(reverse("console:claim", args=[c.pk])).content.decode()


def test_the_claim_page_offers_the_steps_the_lifecycle_allows_this_user(world, trustees):
    loan, c = _checked(world, trustees)
    checker, other = _page(world, "trustee", c), _page(world, "trustee_b", c)
    assert "Approve and pay" not in checker and "maker-checker" in checker
    assert "Approve and pay" in other and "Reject the claim" in other
    bank = _page(world, "bank_a", c)
    assert "Approve and pay" not in bank and "Reject the claim" not in bank
    _repay(world, loan, PRINCIPAL)
    after = _page(world, "trustee_b", c)
    assert "Approve and pay" not in after and "the loan has no overdue principal" in after
    assert "Reject the claim" in after
