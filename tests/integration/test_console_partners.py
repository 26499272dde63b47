"""The trustee's 'owed by partners' page: each partner's part to the fen, the settle action
confirmed first and done once (a double-clicked confirmation posts once), an over-settlement
refused with its reason; districts read their own pool, banks are refused (English, Chinese)."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse
from test_partner_settlement import _paid_claim

from kvcredit.fund.models import PartnerSettlement

pytestmark = pytest.mark.django_db


def login(world, who, lang="en"):
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


def test_the_trustee_settles_a_partners_part_in_the_console(world, trustees):
    _paid_claim(world, trustees)
    t = login(world, "trustee")
    page = t.get(reverse("console:partners")).content.decode()
    assert "insurer" in page and "160,000.00" in page and "40,000.00" in page
    url = reverse("console:partner_settle")
    form = {
        "district_id": world.district["a"].pk,
        "party": "insurer",
        "direction": "RECEIVED",
        "amount": "60000.01",
        "on": "2025-07-01",
        "reference": "CON-1",
    }
    asked = t.post(url, form)
    assert asked.status_code == 200
    text = asked.content.decode()
    assert 'name="once"' in text and "60,000.01" in text and "99,999.99" in text
    assert PartnerSettlement.objects.count() == 0
    done = {**form, "confirmed": "yes", "once": asked.context["once"]}
    assert t.post(url, done).status_code == 302
    assert t.post(url, done).status_code == 302  # the double click: done once
    assert PartnerSettlement.objects.get().amount_fen == 60_000_01
    over = t.post(
        url,
        {**form, "amount": "100000.00", "reference": "CON-2", "confirmed": "yes", "once": "x" * 20},
        follow=True,
    )
    assert "more than is open" in over.content.decode()
    assert PartnerSettlement.objects.count() == 1
    zh = login(world, "trustee", "zh-hans").get(reverse("console:partners")).content.decode()
    assert "保险公司" in zh and "99,999.99" in zh
    assert login(world, "district_a").get(reverse("console:partners")).status_code == 200
    other = login(world, "district_b").get(reverse("console:partners")).content.decode()
    assert "insurer" not in other
    assert login(world, "bank_a").get(reverse("console:partners")).status_code == 403
    assert login(world, "district_a").post(url, done).status_code == 403
