"""Published rulebooks on the database: immutable, dated, never rewriting the past (SQLite and
PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from kvcredit.audit.models import AuditRecord
from kvcredit.errors import Conflict, InvalidInput, NotFound, NotPermitted
from kvcredit.rulebook import services as rbs
from kvcredit.rulebook.domain import builtin_text, load_rulebook
from kvcredit.rulebook.models import PublishedRulebook
from support.fund import make_loan
from support.rulebook import ANY_BOOK, any_book_breaker, publish_rules, rulebook_text

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def test_nothing_published_falls_back_to_the_shipped_default(world):
    assert rbs.in_force(dt.date(2030, 1, 1)) is None
    assert rbs.rules_on(dt.date(2030, 1, 1)).id == "chongqing-2022"
    assert rbs.hash_on(dt.date(2030, 1, 1)) == load_rulebook("chongqing-2022").content_hash


def test_rules_on_a_date_are_the_latest_effective_on_or_before_it(world):
    admin = world.users["admin"]
    rbs.publish(builtin_text("chongqing-2017"), admin)
    rbs.publish(builtin_text("chongqing-2022"), admin)
    assert rbs.rules_on(dt.date(2017, 1, 1)).id == "chongqing-2017"
    assert rbs.rules_on(dt.date(2021, 12, 31)).id == "chongqing-2017"
    assert rbs.rules_on(dt.date(2022, 1, 1)).id == "chongqing-2022"
    assert rbs.rules_on(dt.date(2030, 1, 1)).id == "chongqing-2022"
    with pytest.raises(NotFound, match="no rulebook is in force on 2016-12-31"):
        rbs.rules_on(dt.date(2016, 12, 31))
    # parsed once per hash
    assert rbs.rules_on(dt.date(2023, 1, 1)) is rbs.rules_on(dt.date(2024, 1, 1))
    rec = AuditRecord.objects.filter(action="RULEBOOK_PUBLISH").order_by("id").last()
    assert rec is not None and rec.after["rulebook_id"] == "chongqing-2022"


def test_a_published_rulebook_is_immutable(world):
    published = rbs.publish(builtin_text("chongqing-2022"), world.users["admin"])
    published.title = "changed"
    with pytest.raises(Conflict, match="immutable"):
        published.save()
    with pytest.raises(Conflict, match="immutable"):
        published.delete()
    with pytest.raises(Conflict, match="immutable"):
        PublishedRulebook.objects.filter(pk=published.pk).update(title="changed")
    with pytest.raises(Conflict, match="immutable"):
        PublishedRulebook.objects.all().delete()
    assert PublishedRulebook.objects.get().title.startswith("Chongqing")


def test_only_the_administrator_publishes(world):
    with pytest.raises(NotPermitted):
        rbs.publish(builtin_text("chongqing-2022"), world.users["trustee"])


def test_publishing_twice_or_on_the_same_day_is_refused(world):
    admin = world.users["admin"]
    rbs.publish(builtin_text("chongqing-2022"), admin)
    with pytest.raises(Conflict, match="already published"):
        rbs.publish(builtin_text("chongqing-2022"), admin)
    other = rulebook_text(version="2022.2")
    with pytest.raises(Conflict, match="already in force from 2022-01-01"):
        rbs.publish(other, admin)


def test_an_invalid_rulebook_is_refused_naming_the_key_path(world):
    bad = builtin_text("chongqing-2022").replace(
        "compensation_share = 0.80", "compensation_share = 2"
    )
    with pytest.raises(InvalidInput) as caught:
        rbs.publish(bad, world.users["admin"])
    assert caught.value.problems[0][0] == "source_toml.fund.compensation_share"


def test_publishing_never_rewrites_the_past(world):
    admin = world.users["admin"]
    rbs.publish(builtin_text("chongqing-2022"), admin)
    make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=dt.date(2025, 3, 1)
    )
    early = rulebook_text(version="2025.1", effective="2025-03-01")
    assert "2025-03-01" in (rbs.preview(early).refused or "")
    with pytest.raises(Conflict, match="never rewrites the past"):
        rbs.publish(early, admin)
    later = rulebook_text(version="2025.2", effective="2025-03-02")
    assert rbs.preview(later).refused is None
    rbs.publish(later, admin)
    assert rbs.rules_on(dt.date(2025, 3, 1)).version == "2022.1"
    assert rbs.rules_on(dt.date(2025, 3, 2)).version == "2025.2"


def test_preview_lists_the_rules_that_would_change(world):
    rbs.publish(builtin_text("chongqing-2022"), world.users["admin"])
    text = rulebook_text(version="2026.1", effective="2026-01-01", compensation_share="0.70")
    p = rbs.preview(text)
    assert p.refused is None
    assert p.against is not None and p.against.id == "chongqing-2022"
    changes = {path: (a, b) for path, a, b in p.changes}
    assert changes["fund.compensation_share"] == (
        load_rulebook("chongqing-2022").fund.compensation_share,
        p.rulebook.fund.compensation_share,
    )


def test_init_publishes_the_default_once(world):
    assert rbs.publish_default(world.system) is True
    assert rbs.publish_default(world.system) is False
    assert PublishedRulebook.objects.get().rulebook_id == "chongqing-2022"


# -- the rules applied: each decision records its rulebook; a later rulebook leaves it --------
DAY = dt.date(2025, 6, 30)
YUAN = 100


def _fund(world, trustee, side="a"):
    from kvcredit.fund import services

    for who, amount in (("CITY", 4_000_000), ("DISTRICT", 6_000_000)):
        services.record_contribution(
            trustee,
            district_id=world.district[side].pk,
            contributor=who,
            amount_fen=amount * YUAN,
            paid_date=dt.date(2024, 1, 2),
        )


def test_a_rule_change_leaves_earlier_decisions_as_they_were(world, trustees):
    from kvcredit.fund import claims, services
    from kvcredit.fund.models import ServiceFee

    t1, t2 = trustees
    bank = world.users["bank_a"]
    old = publish_rules(world)  # effective 2017-01-01: fee 1 %, compensation 80 %
    _fund(world, t1)
    early = make_loan(enterprise=world.enterprise["a"], bank=world.bank["a"])
    fee = services.charge_service_fee(t1, loan_id=early.pk, on=dt.date(2025, 1, 10))
    overdue = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=1_000_000 * YUAN,
        due_principal_fen=1_000_000 * YUAN,
        days_past_due=95,
    )
    c = claims.register(bank, loan_id=overdue.pk, on=dt.date(2025, 1, 10))
    c = claims.file(bank, claim_id=c.pk, on=dt.date(2025, 1, 10))
    assert (c.amount_fen, c.rulebook_hash) == (800_000 * YUAN, old.content_hash)
    # a new rulebook from 2025-02-01: fees 2 %, compensation 70 %
    new = rbs.publish(
        rulebook_text(
            version="t2",
            effective="2025-02-01",
            compensation_share="0.70",
            **{"fund.fees.rate": "0.02", "fund.fees.reductions": []},
        ),
        world.system,
    )
    fee.refresh_from_db()
    assert (fee.amount_fen, fee.rulebook_hash) == (1_000_000 * YUAN // 100, old.content_hash)
    # the claim filed under the old rules is paid under them, whenever it is paid
    claims.check(t1, claim_id=c.pk, on=DAY)
    c = claims.pay(t2, claim_id=c.pk, on=DAY)
    assert (c.amount_fen, c.rulebook_hash) == (800_000 * YUAN, old.content_hash)
    recovered = claims.recover(bank, claim_id=c.pk, amount_fen=100_000 * YUAN, on=DAY)
    assert (recovered.pool_share_fen, recovered.bank_share_fen) == (80_000 * YUAN, 20_000 * YUAN)
    # a new decision applies the new rules and records them
    later = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=dt.date(2025, 3, 1)
    )
    fee2 = services.charge_service_fee(t1, loan_id=later.pk, on=dt.date(2025, 3, 1))
    assert (fee2.amount_fen, fee2.rulebook_hash) == (2_000_000 * YUAN // 100, new.content_hash)
    assert ServiceFee.objects.get(pk=fee.pk).amount_fen == 10_000 * YUAN


def _three_loan_book(world):
    """Three loans of bank a in district a, one of them non-performing: a third of the book."""
    for dpd in (0, 0, 200):
        make_loan(
            enterprise=world.enterprise["a"],
            bank=world.bank["a"],
            amount_fen=1_000_000 * YUAN,
            due_principal_fen=1_000_000 * YUAN if dpd else 0,
            days_past_due=dpd,
            disbursed_on=dt.date(2025, 1, 15),
        )


def test_the_preview_shows_the_pairs_that_would_trip_and_the_loans_outside(world):
    rbs.publish(builtin_text("chongqing-2022"), world.system)
    _three_loan_book(world)
    text = rulebook_text(version="t9", effective="2026-01-01", **ANY_BOOK)
    p = rbs.preview(text, on=DAY)
    (pair,) = p.effects["breakers"]
    assert (pair["now"], pair["new"], pair["change"], pair["loans"]) == (
        "NORMAL",
        "SUSPENDED",
        "would_trip",
        3,
    )
    assert any("would trip" in line for line in p.effects["lines"])
    small = rulebook_text(version="t8", effective="2026-01-01", **{"loan.max_amount_yuan": 500_000})
    assert rbs.preview(small, on=DAY).effects["loans"]["over_amount"] == 3


def test_a_breaker_does_not_trip_on_a_three_loan_book(world):
    from kvcredit.fund import breakers
    from kvcredit.fund.models import Breaker

    published = rbs.publish(builtin_text("chongqing-2022"), world.system)
    assert rbs.rules_on(DAY).fund.breaker.min_book_loans == 10
    _three_loan_book(world)
    breakers.run_end_of_day(as_of=DAY, exposures=breakers.exposures_from_loans())
    b = Breaker.objects.get(bank=world.bank["a"], district=world.district["a"])
    assert b.state == "NORMAL" and b.non_performing_fen * 3 == b.outstanding_fen
    assert published.rulebook_id == "chongqing-2022"


def test_the_same_book_trips_where_the_rulebook_allows_any_book(world):
    from kvcredit.fund import breakers
    from kvcredit.fund.models import Breaker, BreakerChange
    from kvcredit.lending.models import BankSuspension

    pub = any_book_breaker(world)
    _three_loan_book(world)
    breakers.run_end_of_day(as_of=DAY, exposures=breakers.exposures_from_loans())
    b = Breaker.objects.get(bank=world.bank["a"], district=world.district["a"])
    assert b.state == "SUSPENDED"
    assert BreakerChange.objects.get(breaker=b).rulebook_hash == pub.content_hash
    assert BankSuspension.objects.filter(bank=world.bank["a"], to_date__isnull=True).count() == 1


def test_a_suspension_that_stops_claims_only_leaves_lending_open(world, trustees):
    from kvcredit.fund import breakers, claims
    from kvcredit.lending.models import BankSuspension

    publish_rules(world, **{**ANY_BOOK, "fund.breaker.stops": "claims"})
    _fund(world, trustees[0])
    _three_loan_book(world)
    breakers.run_end_of_day(as_of=DAY, exposures=breakers.exposures_from_loans())
    assert not BankSuspension.objects.exists()  # new loans go on
    loan = make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        due_principal_fen=100_000_000,
        days_past_due=95,
    )
    with pytest.raises(Conflict, match="circuit breaker"):
        claims.register(world.users["bank_a"], loan_id=loan.pk, on=DAY)


def test_a_rolling_window_forgets_old_lending(world):
    from kvcredit.fund import breakers
    from kvcredit.fund.models import Breaker

    publish_rules(world, **{**ANY_BOOK, "fund.breaker.window": "12 months"})
    make_loan(
        enterprise=world.enterprise["a"],
        bank=world.bank["a"],
        amount_fen=1_000_000 * YUAN,
        disbursed_on=dt.date(2023, 1, 15),
    )
    breakers.run_end_of_day(as_of=DAY, exposures=breakers.exposures_from_loans())
    b = Breaker.objects.get(bank=world.bank["a"], district=world.district["a"])
    assert b.lent_fen == 0  # lent more than 12 months before the business date


# -- the loan rules, at application and disbursement ------------------------------------------


@pytest.fixture
def product(world):
    from kvcredit.lending import services

    return services.create_product(
        world.users["admin"],
        code="KVC",
        name="知识价值信用贷款",
        rate_basis="LPR_1Y",
        spread_bp=200,
        max_term_months=36,
        grace_days=3,
    )


def _apply(world, product, *, amount_yuan=1_000_000, term=12):
    from kvcredit.enterprises.models import CreditLine
    from kvcredit.lending import loans

    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    return loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=product.pk,
        amount_fen=amount_yuan * YUAN,
        term_months=term,
        method="MONTHLY_INTEREST",
        purpose="研发投入",
        first_time_borrower=True,
        today=line.valid_until - dt.timedelta(days=1),
    )


def test_loan_rule_refusals_name_the_field(world, product):
    publish_rules(world, **{"loan.max_amount_yuan": 500_000})
    with pytest.raises(InvalidInput) as caught:
        _apply(world, product, amount_yuan=600_000, term=24)
    fields = dict(caught.value.problems)
    assert "loan.max_amount_yuan" in fields["amount"] and "500000.00" in fields["amount"]
    assert "loan.max_term_months" in fields["term_months"]


def test_the_rate_ceiling_refuses_a_loan_priced_above_it(world, product):
    from kvcredit.lending import loans

    publish_rules(world, "hubei-2025", effective="2017-01-01")  # rate <= LPR + 150 bp
    app = _apply(world, product)
    bank = world.users["bank_a"]
    on = dt.date(2024, 5, 15)
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=on)
    with pytest.raises(InvalidInput) as caught:
        loans.disburse(bank, application_id=app.pk, disbursed_on=on, today=dt.date(2026, 11, 29))
    ((field, message),) = caught.value.problems
    assert field == "rate" and "loan.ceiling" in message


def test_a_loan_records_the_rulebook_that_priced_it(world, product):
    from kvcredit.lending import loans

    pub = publish_rules(world, **{"loan.grace_days": 2})
    app = _apply(world, product)
    bank = world.users["bank_a"]
    on = dt.date(2024, 5, 15)
    loans.approve(bank, application_id=app.pk, amount_fen=app.amount_fen, today=on)
    loan = loans.disburse(bank, application_id=app.pk, disbursed_on=on, today=dt.date(2026, 11, 29))
    assert loan.rulebook_hash == pub.content_hash
    assert loan.grace_days == 2  # the product's 3, bounded by the rulebook's
