"""The console shows the fund rules applied: a claim's stages, caps and loss split, the banks'
allowance and caps, contributions owed under the rulebook's names, a fee's cut (English and
Chinese)."""

from __future__ import annotations

import datetime as dt

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.fund import services
from support.fund import make_loan, paid_claim, staged_rules
from support.rulebook import publish_rules

pytestmark = pytest.mark.django_db
DAY = dt.date(2025, 6, 30)


def login(world, who, lang):
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


@pytest.fixture
def staged(world, trustees):
    publish_rules(
        world,
        "chongqing-2022",
        compensation_share="0.54",
        **staged_rules(
            allowance={"pct_of_loan": "0.02", "carry_forward": True, "cap_pct_of_balance": "0.04"},
            **{"fund.cap_per_loan_yuan": 40_000},
        ),
    )
    return paid_claim(world, trustees, on=DAY, other_lent_fen=10**10)


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Payment stages", "Loss sharing", "the cap per loan", "insurer"]),
        ("zh-hans", ["分阶段支付", "损失分担", "单笔贷款代偿上限", "保险公司"]),
    ],
)
def test_a_claims_page_shows_its_stages_caps_and_split(world, staged, lang, words):
    page = login(world, "bank_a", lang).get(reverse("console:claim", args=[staged.pk]))
    assert page.status_code == 200
    text = page.content.decode()
    for w in words:
        assert w in text
    assert "30,000.00" in text or "30000.00" in text  # the first stage, 75 % of 40,000


def test_the_claims_list_shows_the_banks_limits_only_to_their_side(world, staged):
    mine = login(world, "bank_a", "en").get(reverse("console:claims")).content.decode()
    assert 'id="bank-limits"' in mine and world.bank["a"].name in mine
    assert world.bank["b"].name not in mine
    trustee = login(world, "trustee", "en").get(reverse("console:claims")).content.decode()
    assert world.bank["b"].name in trustee


def test_the_pools_page_shows_contributions_owed_under_the_rulebooks_names(world, staged):
    text = login(world, "district_a", "zh-hans").get(reverse("console:pools")).content.decode()
    assert 'id="contributions-owed"' in text and "市级" in text and "区县" in text
    other = login(world, "district_b", "en").get(reverse("console:pools")).content.decode()
    assert world.district["a"].name not in other


def test_the_fees_page_shows_the_cut_and_who_pays(world, trustees):
    publish_rules(world, "chongqing-2022")
    loan = make_loan(
        enterprise=world.enterprise["a"], bank=world.bank["a"], disbursed_on=dt.date(2022, 5, 1)
    )
    services.charge_service_fee(trustees[0], loan_id=loan.pk, on=dt.date(2022, 5, 1))
    text = login(world, "trustee", "zh-hans").get(reverse("console:fees")).content.decode()
    assert "减收 0.20" in text and "2022 年底前受托管理服务费减收 20%" in text
