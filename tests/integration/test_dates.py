"""Dates respect history and the business date (SQLite and PostgreSQL).

A loan is signed between its approval and its disbursement; it is not disbursed before the
programme's first open day; the end of day does not run ahead of today; a claim is not older
than its loan, a recovery not older than the claim's payment; a contribution is not dated
beyond the horizon; yearly data is not for a future year. Each refusal names its field, in
English and in Chinese.
"""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import override_settings
from django.utils import timezone, translation
from test_fund_services import DAY, checked, fund, overdue_loan
from test_lending import START, TODAY, _apply, product  # noqa: F401
from typer.testing import CliRunner

from conftest import strong_values
from kvcredit.enterprises import services as ent_services
from kvcredit.errors import InvalidInput
from kvcredit.fund import claims, services
from kvcredit.lending import loans
from kvcredit.lending.models import EodRun

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]


def refused(field: str, use_case, *args, **kwargs) -> tuple[str, str]:
    """The use case is refused on ``field``: (English, Chinese) of the message."""
    messages = []
    for language in ("en", "zh-hans"):
        with translation.override(language), pytest.raises(InvalidInput) as exc:
            use_case(*args, **kwargs)
        assert exc.value.problems[0][0] == field, exc.value.problems
        messages.append(exc.value.problems[0][1])
    en, zh = messages
    assert en != zh and any("\u4e00" <= ch <= "\u9fff" for ch in zh), (en, zh)
    return en, zh


def _approved(world, product, on=START):  # noqa: F811
    app = _apply(world, product)
    loans.approve(world.users["bank_a"], application_id=app.pk, amount_fen=app.amount_fen, today=on)
    return app


# -- signing and disbursement ---------------------------------------------------------------
def test_a_loan_is_not_signed_before_its_approval(world, product):  # noqa: F811
    app = _approved(world, product, on=dt.date(2024, 5, 10))
    bank = world.users["bank_a"]
    en, _zh = refused(
        "signing_date",
        loans.disburse,
        bank,
        application_id=app.pk,
        disbursed_on=START,
        signing_date=dt.date(2019, 8, 20),
        today=TODAY,
    )
    assert "2024-05-10" in en
    loan = loans.disburse(
        bank, application_id=app.pk, disbursed_on=START, signing_date=START, today=TODAY
    )
    assert loan.signing_date == START


def test_a_loan_is_not_signed_after_its_disbursement(world, product):  # noqa: F811
    app = _approved(world, product)
    refused(
        "signing_date",
        loans.disburse,
        world.users["bank_a"],
        application_id=app.pk,
        disbursed_on=START,
        signing_date=START + dt.timedelta(days=1),
        today=TODAY,
    )


def test_before_the_first_end_of_day_a_loan_is_not_disbursed_before_its_district_joined(
    world,
    product,  # noqa: F811
):
    assert not EodRun.objects.exists()
    joined = world.district["a"].participating_since
    early = joined - dt.timedelta(days=1)
    app = _approved(world, product, on=early - dt.timedelta(days=5))
    en, _zh = refused(
        "disbursed_on",
        loans.disburse,
        world.users["bank_a"],
        application_id=app.pk,
        disbursed_on=early,
        today=TODAY,
    )
    assert str(joined) in en


def test_the_programme_start_is_the_first_open_day_when_configured(world, product):  # noqa: F811
    app = _approved(world, product, on=dt.date(2024, 5, 1))
    bank = world.users["bank_a"]
    with override_settings(KVCREDIT_PROGRAMME_START="2024-05-15"):
        refused(
            "disbursed_on",
            loans.disburse,
            bank,
            application_id=app.pk,
            disbursed_on=dt.date(2024, 5, 14),
            today=TODAY,
        )
        loan = loans.disburse(bank, application_id=app.pk, disbursed_on=START, today=TODAY)
    assert loan.disbursed_on == START


# -- the end of day and the business date ---------------------------------------------------
def test_the_end_of_day_refuses_a_day_after_today(world):
    from kvcredit.cli import app

    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    result = CliRunner().invoke(app, ["eod", "--date", str(tomorrow), "--catch-up"])
    assert result.exit_code == 1, result.output
    assert not EodRun.objects.exists(), "nothing closed"
    from kvcredit.lending.dates import require_not_after_today

    refused("date", require_not_after_today, tomorrow, timezone.localdate())


# -- the fund -------------------------------------------------------------------------------
def test_a_claim_is_not_dated_before_the_loan_was_disbursed(world):
    loan = overdue_loan(world)
    before = loan.disbursed_on - dt.timedelta(days=1)
    en, _zh = refused("on", claims.register, world.users["bank_a"], loan_id=loan.pk, on=before)
    assert str(loan.disbursed_on) in en


def test_a_recovery_is_not_dated_before_the_claim_was_paid(world, trustees):
    fund(world, trustees[0])
    c = checked(world, trustees, overdue_loan(world))
    c = claims.pay(trustees[1], claim_id=c.pk, on=DAY)
    assert c.paid_on == DAY
    en, _zh = refused(
        "on",
        claims.recover,
        world.users["bank_a"],
        claim_id=c.pk,
        amount_fen=100,
        on=DAY - dt.timedelta(days=1),
    )
    assert str(DAY) in en
    claims.recover(world.users["bank_a"], claim_id=c.pk, amount_fen=100, on=DAY)


def test_a_contribution_is_not_dated_beyond_the_horizon(world, trustees):
    district = world.district["a"].pk
    far = timezone.localdate() + dt.timedelta(days=32)
    with override_settings(KVCREDIT_CONTRIBUTION_HORIZON_DAYS=31):
        refused(
            "paid_date",
            services.record_contribution,
            trustees[0],
            district_id=district,
            contributor="CITY",
            amount_fen=100,
            paid_date=far,
        )
        services.record_contribution(
            trustees[0],
            district_id=district,
            contributor="CITY",
            amount_fen=100,
            paid_date=far - dt.timedelta(days=1),
        )


def test_yearly_data_is_not_for_a_future_year(world):
    next_year = timezone.localdate().year + 1
    refused(
        "year",
        ent_services.submit_data,
        world.system,
        enterprise_id=world.enterprise["a"].pk,
        year=next_year,
        values=strong_values(),
    )
    ent_services.submit_data(
        world.system,
        enterprise_id=world.enterprise["a"].pk,
        year=next_year - 1,
        values=strong_values(),
    )
