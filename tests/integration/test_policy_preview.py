"""The policy preview is what publishing does: each enterprise counted once, at its latest
submission, with the grades and limits the re-evaluation then gives (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections import Counter

import pytest
from test_console_policies import shipped

from conftest import strong_values
from kvcredit.enterprises import services
from kvcredit.enterprises.models import CreditLine, Enterprise
from kvcredit.enterprises.policies import publish_policy
from kvcredit.money import yuan_to_fen
from kvcredit.reporting.policy_preview import preview_policy
from kvcredit.scoring.report import NOT_RATED

pytestmark = pytest.mark.django_db


def _outcomes() -> dict[str, tuple[str, int]]:
    lines = CreditLine.objects.select_related("enterprise", "evaluation")
    return {
        line.enterprise.uscc: (line.evaluation.grade or "", line.limit_fen)
        for line in lines
        if line.evaluation is not None
    }


def test_the_preview_counts_each_enterprise_once_and_matches_what_publishing_does(world):
    admin = world.system
    # Each enterprise has several years of data; the latest (2025) is weaker for one of them.
    for side in ("a", "b"):
        e = world.enterprise[side]
        services.submit_data(admin, enterprise_id=e.pk, year=2023, values=strong_values())
        weaker = (
            strong_values(ip_invention=0, ip_utility_model=0, high_tech_certified=False)
            if side == "a"
            else strong_values()
        )
        services.submit_data(admin, enterprise_id=e.pk, year=2025, values=weaker)
    source = shipped(a_limit="6000000")
    before = _outcomes()

    preview = preview_policy(world.users["admin"], source)
    assert preview.ok
    assert preview.enterprises == Enterprise.objects.count() == 2

    publish_policy(admin, source_toml=source)
    after = _outcomes()

    m = preview.migration
    assert m.old_credit_fen == sum(limit for _g, limit in before.values())
    assert m.new_credit_fen == sum(limit for _g, limit in after.values())
    happened = Counter((before[u][0], after[u][0]) for u in after)
    previewed = Counter(
        {
            (row["old"], new): row[new]
            for row in m.matrix.iter_rows(named=True)
            for new in m.new_labels
            if row[new]
        }
    )
    as_label = {(o or NOT_RATED, n or NOT_RATED): c for (o, n), c in happened.items()}
    assert previewed == Counter(as_label)
    for row in m.changes.iter_rows(named=True):
        assert after[row["uscc"]][1] == yuan_to_fen(row["new_credit_limit"])
