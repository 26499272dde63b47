"""The fund's use cases on the database: books, contributions, claims, recovery, breaker,
fees and bridge loans (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction

from kvcredit.accounts.models import Organisation, OrgKind
from kvcredit.audit.models import AuditRecord
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.fund import books, breakers, claims, selectors, services
from kvcredit.fund.domain import ledger as dl
from kvcredit.fund.models import (
    Breaker,
    BreakerChange,
    ClaimStatus,
    JournalEntry,
    Pool,
    Posting,
)
from kvcredit.lending.models import BankSuspension, LoanStatus
from support.fund import make_loan
from support.rulebook import any_book_breaker

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


@pytest.fixture(autouse=True)
def _breaker_on_any_book(world):
    """These tests trip the breaker on books of one or two loans (the rulebook's min_book
    and rolling window are tested in tests/integration/test_rulebook.py)."""
    any_book_breaker(world)


DAY = dt.date(2025, 6, 30)
YUAN = 100


def fund(world, trustee, side="a", city=4_000_000, district=6_000_000):
    d = world.district[side]
    services.record_contribution(
        trustee, district_id=d.pk, contributor="CITY", amount_fen=city * YUAN, paid_date=DAY
    )
    services.record_contribution(
        trustee,
        district_id=d.pk,
        contributor="DISTRICT",
        amount_fen=district * YUAN,
        paid_date=DAY,
    )
    return Pool.objects.get(district=d)


def overdue_loan(world, side="a", *, due=1_000_000 * YUAN, dpd=95):
    return make_loan(
        enterprise=world.enterprise[side],
        bank=world.bank[side],
        amount_fen=due,
        due_principal_fen=due,
        days_past_due=dpd,
    )


def filed(world, loan, side="a"):
    bank = world.users[f"bank_{side}"]
    c = claims.register(bank, loan_id=loan.pk, on=DAY)
    return claims.file(bank, claim_id=c.pk, on=DAY)


def checked(world, trustees, loan, side="a"):
    c = filed(world, loan, side)
    return claims.check(trustees[0], claim_id=c.pk, on=DAY)


# -- books ------------------------------------------------------------------------------------


def test_contributions_are_entries_and_the_pool_shows_owed_against_paid(world, trustees):
    pool = fund(world, trustees[0], city=1_000_000, district=2_000_000)
    services.set_pool_target(trustees[0], district_id=pool.district_id, target_fen=10**7 * YUAN)
    s = selectors.pool_summary(Pool.objects.get(pk=pool.pk))
    k = dl.PoolAccount
    assert s.balance(k.BANK) == 3_000_000 * YUAN
    assert (s.city_owed_fen, s.balance(k.CITY_CONTRIBUTIONS)) == (
        4_000_000 * YUAN,
        1_000_000 * YUAN,
    )
    assert (s.district_owed_fen, s.balance(k.DISTRICT_CONTRIBUTIONS)) == (
        6_000_000 * YUAN,
        2_000_000 * YUAN,
    )


def test_only_the_trustee_records_contributions(world):
    for who in ("admin", "district_a", "bank_a", "enterprise_a"):
        with pytest.raises(NotPermitted):
            services.record_contribution(
                world.users[who],
                district_id=world.district["a"].pk,
                contributor="CITY",
                amount_fen=100,
                paid_date=DAY,
            )


def test_balances_as_of_a_date_count_only_entries_up_to_it(world, trustees):
    d = world.district["a"]
    for day, amount in ((dt.date(2025, 1, 1), 100), (dt.date(2025, 2, 1), 50)):
        services.record_contribution(
            trustees[0], district_id=d.pk, contributor="CITY", amount_fen=amount, paid_date=day
        )
    pool = Pool.objects.get(district=d)
    assert books.cash(pool, as_of=dt.date(2025, 1, 31)) == 100
    assert books.cash(pool) == 150


def test_entries_are_immutable_in_the_database(world, trustees):
    fund(world, trustees[0])
    entry = JournalEntry.objects.first()
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        JournalEntry.objects.filter(pk=entry.pk).update(description="edited")
    with pytest.raises(Exception, match="append-only"), transaction.atomic():
        Posting.objects.filter(entry=entry).delete()


@pytest.mark.skipif(
    "connection.vendor != 'postgresql'", reason="the deferred balance trigger is PostgreSQL's"
)
def test_the_database_refuses_an_entry_whose_postings_do_not_balance(world, trustees):
    pool = fund(world, trustees[0])
    acc = pool.accounts.get(kind="BANK")
    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        e = JournalEntry.objects.create(
            pool=pool,
            entry_date=DAY,
            kind="CONTRIBUTION",
            description="bad",
            created_at=e_now(),
            created_by=trustees[0],
        )
        Posting.objects.create(entry=e, account=acc, amount_fen=100)
        with connection.cursor() as cur:
            cur.execute("SET CONSTRAINTS ALL IMMEDIATE")


def e_now():
    from django.utils import timezone

    return timezone.now()


def test_a_contribution_is_corrected_by_a_reversing_entry(world, trustees):
    pool = fund(world, trustees[0])
    first = JournalEntry.objects.filter(pool=pool).first()
    back = services.reverse_entry(trustees[0], entry_id=first.pk, on=DAY, reason="wrong amount")
    assert back.reverses_id == first.pk and back.kind == "REVERSAL"
    assert books.cash(pool) == 6_000_000 * YUAN
    with pytest.raises(Conflict, match="already been reversed"):
        services.reverse_entry(trustees[0], entry_id=first.pk, on=DAY, reason="wrong again")


def test_the_trial_balance_is_even_and_scoped_to_the_districts_pool(world, trustees):
    fund(world, trustees[0], "a")
    fund(world, trustees[0], "b")
    lines = selectors.trial_balance(trustees[0], as_of=None)
    assert sum(x.debit_fen for x in lines) == sum(x.credit_fen for x in lines) > 0
    own = selectors.trial_balance(world.users["district_a"], as_of=None)
    assert {x.account.split(":")[1] for x in own} == {world.district["a"].code}
    assert selectors.trial_balance(world.users["bank_a"], as_of=None) == []


# -- claims -----------------------------------------------------------------------------------


def test_fund_pays_eighty_percent_of_overdue_principal_and_marks_the_loan(world, trustees):
    pool = fund(world, trustees[0])
    loan = overdue_loan(world)
    c = checked(world, trustees, loan)
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    assert c.status == ClaimStatus.PAID and c.amount_fen == 800_000 * YUAN
    assert books.cash(pool) == (10_000_000 - 800_000) * YUAN
    loan.refresh_from_db()
    assert loan.status == LoanStatus.COMPENSATED
    assert [e.to_status for e in c.events.order_by("id")] == [
        "REGISTERED",
        "FILED",
        "CHECKED",
        "PAID",
    ]


def test_the_trustee_who_checked_a_claim_may_not_approve_it(world, trustees):
    fund(world, trustees[0])
    c = checked(world, trustees, overdue_loan(world))
    with pytest.raises(NotPermitted, match="maker-checker"):
        claims.pay(trustees[0], claim_id=c.pk, on=DAY)
    c.refresh_from_db()
    assert c.status == ClaimStatus.CHECKED and c.paid_on is None


def test_the_database_refuses_a_claim_approved_by_its_checker(world, trustees):
    fund(world, trustees[0])
    c = checked(world, trustees, overdue_loan(world))
    c.approved_by = c.checked_by
    with pytest.raises(IntegrityError), transaction.atomic():
        c.save()


def test_a_claim_before_ninety_days_overdue_is_refused(world):
    loan = overdue_loan(world, dpd=89)
    c = claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    with pytest.raises(InvalidInput, match="89 days overdue"):
        claims.file(world.users["bank_a"], claim_id=c.pk, on=DAY)


def test_a_bank_cannot_claim_on_another_banks_loan(world):
    loan = overdue_loan(world, "b")
    with pytest.raises(NotFound):
        claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)


def test_a_claim_waits_visibly_when_the_pool_cannot_cover_it_then_is_paid(world, trustees):
    fund(world, trustees[0], city=100_000, district=100_000)
    c = checked(world, trustees, overdue_loan(world))
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    assert c.status == ClaimStatus.CHECKED and c.waiting_since == DAY
    s = selectors.pool_summary(c.pool)
    assert (s.waiting_claims, s.waiting_fen) == (1, 800_000 * YUAN)
    fund(world, trustees[0], city=400_000, district=600_000)
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    assert c.status == ClaimStatus.PAID


def test_a_loan_is_claimed_at_most_once(world, trustees):
    fund(world, trustees[0])
    loan = overdue_loan(world)
    filed(world, loan)
    with pytest.raises(Conflict, match="already has a claim"):
        claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)


def test_recoveries_are_shared_eighty_twenty_and_the_claim_ends(world, trustees):
    pool = fund(world, trustees[0])
    c = checked(world, trustees, overdue_loan(world))
    claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    r = claims.recover(world.users["bank_a"], claim_id=c.pk, amount_fen=100_001, on=DAY)
    assert (r.pool_share_fen, r.bank_share_fen) == (80_001, 20_000)
    assert (
        books.balances([pool])[dl.account(pool.district.code, dl.PoolAccount.RECOVERIES)] == -80_001
    )
    c.refresh_from_db()
    assert c.status == ClaimStatus.RECOVERING
    c = claims.close(trustees[0], claim_id=c.pk, on=DAY, written_off=True, reason="borrower gone")
    assert c.status == ClaimStatus.WRITTEN_OFF
    with pytest.raises(Conflict):
        claims.recover(world.users["bank_a"], claim_id=c.pk, amount_fen=1, on=DAY)


# -- breaker ----------------------------------------------------------------------------------


def _eod(world, npl_fen, side="a", outstanding=10_000):
    key = (world.bank[side].pk, world.district[side].pk)
    return breakers.run_end_of_day(as_of=DAY, exposures={key: (outstanding, npl_fen)})


def test_breaker_warns_at_five_percent_suspends_at_eight_and_records_every_change(world):
    _eod(world, 499)
    _eod(world, 500)
    _eod(world, 800)
    b = Breaker.objects.get(bank=world.bank["a"], district=world.district["a"])
    assert b.state == "SUSPENDED"
    assert [(c.from_state, c.to_state) for c in BreakerChange.objects.filter(breaker=b)] == [
        ("NORMAL", "WARNING"),
        ("WARNING", "SUSPENDED"),
    ]
    assert BankSuspension.objects.filter(bank=world.bank["a"], to_date__isnull=True).count() == 1
    assert AuditRecord.objects.filter(action="FUND_BREAKER").count() == 2


def test_a_suspended_bank_files_no_new_claims_until_the_trustee_lifts_it(world, trustees):
    fund(world, trustees[0])
    loan = overdue_loan(world)
    _eod(world, 900)
    _eod(world, 0)  # suspension is sticky
    with pytest.raises(Conflict, match="suspended"):
        claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)
    b = Breaker.objects.get(bank=world.bank["a"])
    with pytest.raises(InvalidInput, match="written reason"):
        breakers.lift(trustees[0], breaker_id=b.pk, on=DAY, reason="   ")
    with pytest.raises(NotPermitted):
        breakers.lift(world.users["admin"], breaker_id=b.pk, on=DAY, reason="plan agreed")
    breakers.lift(trustees[0], breaker_id=b.pk, on=DAY, reason="bad loans written off, plan agreed")
    assert not BankSuspension.objects.filter(to_date__isnull=True).exists()
    assert claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY).status == "REGISTERED"
    assert BreakerChange.objects.filter(breaker=b).last().reason.startswith("bad loans")


def test_the_compensation_ratio_also_trips_the_breaker(world, trustees):
    fund(world, trustees[0])
    c = checked(world, trustees, overdue_loan(world, due=100_000 * YUAN))
    claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    # 80,000 paid on 100,000 lent: far above 8 %, though the book has no non-performing loans
    changes = _eod(world, 0, outstanding=100_000 * YUAN)
    assert changes[-1].to_state == "SUSPENDED" and changes[-1].compensation_ratio == "80.00"


# -- fees and bridge loans --------------------------------------------------------------------


def test_service_fee_is_one_percent_a_year_and_a_reduction_never_rewrites_charged_fees(
    world, trustees
):
    t = trustees[0]
    first = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=3_000_000 * YUAN
    )
    fee1 = services.charge_service_fee(t, loan_id=first.pk, on=dt.date(2024, 1, 15))
    services.add_fee_reduction(
        t,
        valid_from=dt.date(2024, 6, 1),
        valid_to=dt.date(2025, 1, 1),
        percent_off=__import__("decimal").Decimal("20"),
        reason="relief",
    )
    second = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], amount_fen=3_000_000 * YUAN
    )
    fee2 = services.charge_service_fee(t, loan_id=second.pk, on=dt.date(2024, 7, 1))
    fee1.refresh_from_db()
    assert (fee1.amount_fen, fee2.amount_fen) == (30_000 * YUAN, 24_000 * YUAN)
    with pytest.raises(Conflict):
        services.charge_service_fee(t, loan_id=first.pk, on=dt.date(2024, 7, 1))


def test_a_bridge_loan_is_lent_from_the_pool_and_repaid_into_it(world, trustees):
    t = trustees[0]
    pool = fund(world, t)
    b = services.lend_bridge(
        t,
        enterprise_id=world.enterprise["a"].pk,
        principal_fen=360_000 * YUAN,
        term_days=30,
        on=DAY,
    )
    assert b.fee_fen == 300 * YUAN and b.due_on == DAY + dt.timedelta(days=30)
    assert books.cash(pool) == (10_000_000 - 360_000) * YUAN
    services.repay_bridge(t, bridge_id=b.pk, amount_fen=100_300 * YUAN, on=DAY)
    b.refresh_from_db()
    assert (b.outstanding_fen, b.fee_due_fen) == (260_000 * YUAN, 0)
    with pytest.raises(InvalidInput, match="more than the bridge loan owes"):
        services.repay_bridge(t, bridge_id=b.pk, amount_fen=260_001 * YUAN, on=DAY)


def test_a_bridge_loan_larger_than_the_pool_is_refused(world, trustees):
    fund(world, trustees[0], city=1, district=1)
    with pytest.raises(Conflict, match="can spend"):
        services.lend_bridge(
            trustees[0],
            enterprise_id=world.enterprise["a"].pk,
            principal_fen=3 * YUAN,
            term_days=10,
            on=DAY,
        )


def test_every_fund_write_is_audited(world, trustees):
    fund(world, trustees[0])
    assert AuditRecord.objects.filter(action="FUND_CONTRIBUTION").count() == 2
    assert Organisation.objects.filter(kind=OrgKind.TRUSTEE).count() == 1


def test_charging_all_due_service_fees_at_once_charges_each_loan_once(world, trustees):
    t = trustees[0]
    loans = [
        make_loan(enterprise=world.enterprise[s], bank=world.bank[s], amount_fen=1_000_000 * YUAN)
        for s in ("a", "b")
    ]
    for loan in loans:
        loan.disbursed_on = dt.date(2024, 1, 10)
        loan.save(update_fields=["disbursed_on"])
    charged = services.charge_service_fees(t, on=dt.date(2024, 1, 31))
    assert sorted(f.loan_id for f in charged) == sorted(loan.pk for loan in loans)
    assert services.charge_service_fees(t, on=dt.date(2024, 2, 1)) == []


# -- the refusals' language -------------------------------------------------------------------


def test_refusals_are_worded_in_the_active_language(world, trustees):
    """The fund's refusals are translated: the programme's zh-hans by default, English on
    request; a value in the message (days, status) is filled in either way."""
    from django.utils import translation

    bank = world.users["bank_a"]
    young = claims.register(bank, loan_id=overdue_loan(world, dpd=89).pk, on=DAY)
    c = checked(world, trustees, overdue_loan(world))
    refusals = {
        "role": lambda: services.record_contribution(
            bank, district_id=1, contributor="CITY", amount_fen=100, paid_date=DAY
        ),
        "days": lambda: claims.file(bank, claim_id=young.pk, on=DAY),
        "status": lambda: claims.recover(bank, claim_id=c.pk, amount_fen=100, on=DAY),
        "maker-checker": lambda: claims.pay(trustees[0], claim_id=c.pk, on=DAY),
    }
    expected = {
        "zh-hans": {
            "role": "您的角色无权登记出资",
            "days": "claim_id: 该贷款逾期 89 天；申请代偿须逾期满 90 天",
            "status": (
                "代偿申请当前状态为“已审核”；此步骤要求状态为“部分代偿（尚有后续阶段）或已支付或追偿中”"
            ),
            "maker-checker": "复核代偿申请的用户不得审批同一申请（双人复核）",
        },
        "en": {
            "role": "your role may not record contributions",
            "days": "claim_id: the loan is 89 days overdue; a claim needs 90",
            "status": (
                "the claim is checked; this step needs partly paid (a stage to come) or paid "
                "or recovering"
            ),
            "maker-checker": "the user who checked a claim may not approve it (maker-checker)",
        },
    }
    for lang, texts in expected.items():
        with translation.override(lang):
            for name, refuse in refusals.items():
                with pytest.raises((NotPermitted, InvalidInput, Conflict)) as caught:
                    refuse()
                assert caught.value.detail == texts[name], (lang, name)


def test_a_bad_fund_rule_is_refused_in_chinese_naming_the_rule(world):
    """The fund's rules are published in a rulebook: a bad rule is refused naming its key."""
    from django.utils import translation

    from kvcredit.rulebook import services as rulebooks
    from support.rulebook import rulebook_text

    bad = {
        "fund.compensation_share": ({"compensation_share": "1.5"}, "比例须在 0 到 1 之间"),
        "fund.breaker.non_performing": (
            {"fund.breaker.non_performing": {"warn": Decimal("0.09"), "stop": Decimal("0.08")}},
            "预警",
        ),
        "fund.min_days_overdue": ({"min_days_overdue": -1}, "应大于或等于 0"),
        "fund.bridge.rate": ({"fund.bridge.rate": "2"}, "比例须在 0 到 1 之间"),
        "fund.compensation_shares": ({"fund.compensation_shares": "0.8"}, "不允许的键"),
        "fund.parties.0.share": ({"fund.parties.0.share": "forty"}, "不是精确的小数比例"),
    }
    for path, (changes, words) in bad.items():
        with translation.override("zh-hans"), pytest.raises(InvalidInput) as caught:
            rulebooks.publish(rulebook_text(**changes), world.users["admin"])
        fields = dict(caught.value.problems)
        assert words in fields.get(f"source_toml.{path}", ""), (path, caught.value.problems)


def test_pool_summaries_read_every_pool_in_a_fixed_number_of_queries(world) -> None:  # type: ignore[no-untyped-def]
    """The pools page and the statistics list every district's pool: the balances and the
    waiting claims of all of them come in two queries, equal to each pool's own figures."""
    import datetime as dt

    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from kvcredit.fund import books, selectors
    from kvcredit.fund import services as fund
    from kvcredit.fund.domain.ledger import PoolAccount, account

    for side, amount in (("a", 3_000_000_00), ("b", 1_250_000_00)):
        for who in ("CITY", "DISTRICT"):
            fund.record_contribution(
                world.users["trustee"],
                district_id=world.district[side].pk,
                contributor=who,
                amount_fen=amount,
                paid_date=dt.date(2025, 1, 2),
            )
    pools = list(selectors.pools(world.users["trustee"]))
    assert len(pools) >= 2
    with CaptureQueriesContext(connection) as q:
        summaries = selectors.pool_summaries(pools)
    assert len(q.captured_queries) <= 3
    for pool, s in zip(pools, summaries, strict=True):
        own = books.balances([pool]).get(account(pool.district.code, PoolAccount.BANK), 0)
        assert s.pool == pool and s.balance(PoolAccount.BANK) == own > 0
        assert s.waiting_claims == 0 and s.waiting_fen == 0
