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
from support.rulebook import rulebook_text

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
