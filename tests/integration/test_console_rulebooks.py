"""The administrator's rulebook pages: the list, one rulebook rule by rule, a broken upload
reported by key path, a preview of what changes, publishing only with confirmation; bilingual;
administrators only."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from kvcredit.rulebook.domain import builtin_text
from kvcredit.rulebook.models import PublishedRulebook
from support.rulebook import rulebook_text

pytestmark = pytest.mark.django_db


def client(world, who="admin", lang="en") -> Client:
    c = Client(HTTP_ACCEPT_LANGUAGE=lang)
    c.force_login(world.users[who])
    return c


def test_only_the_administrator_sees_the_rulebooks(world):
    for who in ("trustee", "bank_a", "district_a", "enterprise_a"):
        assert client(world, who).get(reverse("console:rulebooks")).status_code == 403
        r = client(world, who).post(reverse("console:rulebook_publish"), {"source": "x"})
        assert r.status_code == 403
    r = client(world).get(reverse("console:rulebooks"))
    assert r.status_code == 200
    assert "chongqing-2022" in r.content.decode()  # the shipped default applies


def test_a_broken_rulebook_is_reported_by_key_path_in_chinese(world):
    broken = builtin_text("chongqing-2022").replace("max_term_months = 12", "max_term_months = 0")
    r = client(world, lang="zh-hans").post(reverse("console:rulebook_preview"), {"source": broken})
    assert r.status_code == 422
    page = r.content.decode()
    assert "source_toml.loan.max_term_months" in page and "应大于 0" in page


def test_the_preview_shows_the_changes_and_publishing_needs_confirmation(world):
    from kvcredit.rulebook import services

    services.publish(builtin_text("chongqing-2022"), world.system)
    text = rulebook_text(version="t2", effective="2027-01-01", compensation_share="0.70")
    c = client(world)
    r = c.post(reverse("console:rulebook_preview"), {"source": text})
    assert r.status_code == 200
    page = r.content.decode()
    assert "fund.compensation_share" in page and "0.7" in page
    assert PublishedRulebook.objects.count() == 1, "a preview stores nothing"
    r = c.post(reverse("console:rulebook_publish"), {"source": text})
    assert r.status_code == 422 and PublishedRulebook.objects.count() == 1
    r = c.post(reverse("console:rulebook_publish"), {"source": text, "confirm": "on"})
    assert r.status_code == 302
    published = PublishedRulebook.objects.get(version="t2")
    r = c.get(reverse("console:rulebook", args=[published.pk]))
    assert r.status_code == 200
    page = r.content.decode()
    assert published.content_hash in page and "fund.breaker.min_book_loans" in page
    listing = c.get(reverse("console:rulebooks")).content.decode()
    assert "scheduled" in listing and "in force" in listing


def test_a_refused_rulebook_offers_no_publish_button(world):
    from kvcredit.rulebook import services

    services.publish(builtin_text("chongqing-2022"), world.system)
    r = client(world).post(
        reverse("console:rulebook_preview"), {"source": builtin_text("chongqing-2022")}
    )
    page = r.content.decode()
    assert "already published" in page
    assert reverse("console:rulebook_publish") not in page


def test_the_pages_speak_chinese(world):
    page = client(world, lang="zh-hans").get(reverse("console:rulebooks")).content.decode()
    assert "试点规则手册" in page and "检查新的规则手册" in page and "规则手册" in page
