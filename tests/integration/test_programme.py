"""Programme set-up: districts, banks, published policies, the rate table."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from importlib import resources

import pytest

from kvcredit.enterprises import policies, selectors, services
from kvcredit.enterprises.models import (
    CreditLine,
    Evaluation,
    PublishedPolicy,
    ReevaluationJob,
)
from kvcredit.errors import Conflict, InvalidInput, NotPermitted
from kvcredit.lending import selectors as rate_selectors
from kvcredit.lending import services as rate_services
from kvcredit.lending.models import Rate

pytestmark = pytest.mark.django_db


def _source(policy_id: str, version: str | None = None) -> str:
    text = resources.files("kvcredit.scoring.policies").joinpath(f"{policy_id}.toml").read_text()
    if version:
        text = text.replace('version = "', f'version = "{version}', 1)
    return text


def test_publishing_a_policy_makes_it_current_and_reevaluates_every_enterprise(world):
    progress = []
    pub = policies.publish_policy(
        world.system,
        source_toml=_source("chongqing-kvc", "9."),
        progress=lambda done, total: progress.append((done, total)),
    )
    assert selectors.current_policy() == pub and pub.reevaluated == 2
    assert progress[-1] == (2, 2)
    for side in "ab":
        ev = Evaluation.objects.filter(enterprise=world.enterprise[side]).order_by("-id").first()
        assert ev.policy == pub and ev.explanation["path"] == "batch"
        line = CreditLine.objects.get(enterprise=world.enterprise[side])
        assert line.evaluation == ev and line.limit_fen == ev.limit_fen


def test_batch_reevaluation_agrees_with_the_single_path(world):
    before = {e.enterprise_id: (e.grade, e.limit_fen, e.score) for e in Evaluation.objects.all()}
    policies.publish_policy(world.system, source_toml=_source("chongqing-kvc", "9."))
    after = Evaluation.objects.filter(explanation__path="batch")
    assert {e.enterprise_id: (e.grade, e.limit_fen, e.score) for e in after} == before


def test_publishing_records_a_reevaluation_job_that_counts_every_enterprise(world):
    pub = policies.publish_policy(world.system, source_toml=_source("chongqing-kvc", "9."))
    job = ReevaluationJob.objects.get(policy=pub)
    assert (job.status, job.done, job.total) == ("DONE", 2, 2)
    assert job.started_at is not None and job.finished_at is not None


def test_a_published_policy_is_current_before_its_job_runs_and_the_job_fills_it_in(world):
    pub = policies.publish_only(world.system, source_toml=_source("chongqing-kvc", "9."))
    job = pub.reevaluation
    assert selectors.current_policy() == pub and (job.status, job.done, job.total) == (
        "PENDING",
        0,
        2,
    )
    assert not Evaluation.objects.filter(policy=pub).exists()
    policies.run_job(world.system, job)
    assert Evaluation.objects.filter(policy=pub).count() == 2


def test_an_interrupted_job_resumes_without_evaluating_anyone_twice(world, monkeypatch):
    monkeypatch.setattr(policies, "BATCH", 1)
    pub = policies.publish_only(world.system, source_toml=_source("chongqing-kvc", "9."))
    calls = []
    real = policies._batch

    def fail_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("worker killed")
        return real(*args, **kwargs)

    monkeypatch.setattr(policies, "_batch", fail_second)
    with pytest.raises(RuntimeError):  # batch=: run_job's default is bound when it is defined
        policies.run_job(world.system, pub.reevaluation, batch=1)
    job = ReevaluationJob.objects.get(policy=pub)
    assert (job.status, job.done) == ("FAILED", 1)
    monkeypatch.setattr(policies, "_batch", real)
    job = policies.run_job(world.system, job, batch=1)
    assert (job.status, job.done, job.total) == ("DONE", 2, 2)
    assert Evaluation.objects.filter(policy=pub).count() == 2


def test_a_job_whose_policy_is_superseded_stops(world):
    old = policies.publish_only(world.system, source_toml=_source("chongqing-kvc", "9."))
    policies.publish_only(world.system, source_toml=_source("chongqing-kvc", "10."))
    job = policies.run_job(world.system, old.reevaluation)
    assert job.status == "SUPERSEDED" and not Evaluation.objects.filter(policy=old).exists()


def test_a_published_policy_is_never_changed_by_publishing_another(world):
    first = PublishedPolicy.objects.get()
    source, digest = first.source_toml, first.content_hash
    policies.publish_policy(world.system, source_toml=_source("chongqing-kvc", "9."))
    first.refresh_from_db()
    assert (first.source_toml, first.content_hash) == (source, digest)
    assert [p.pk for p in PublishedPolicy.objects.all() if p == selectors.current_policy()] == [
        PublishedPolicy.objects.order_by("-id").first().pk
    ]


def test_a_published_policy_version_cannot_be_published_again(world):
    with pytest.raises(Conflict):
        policies.publish_policy(world.system, source_toml=_source("chongqing-kvc"))
    assert PublishedPolicy.objects.count() == 1


def test_an_invalid_policy_is_refused_naming_the_key(world):
    with pytest.raises(InvalidInput) as info:
        policies.publish_policy(world.system, source_toml="[policy]\nid = 'x'\n")
    assert info.value.field.startswith("source_toml")


def test_only_the_administrator_publishes_policies(world):
    with pytest.raises(NotPermitted):
        policies.publish_policy(world.users["trustee"], source_toml=_source("most-tech-sme"))


def test_the_shipped_rates_are_loaded_and_a_rate_stays_in_force_until_the_next(world):
    assert Rate.objects.count() >= 28
    user = world.users["bank_a"]
    r = rate_selectors.rate_in_force(user, "LPR_1Y", dt.date(2024, 9, 1))
    assert r.effective_date == dt.date(2024, 7, 22)
    assert rate_services.ppm_to_percent(r.annual_rate_ppm) == Decimal("3.35")
    assert rate_selectors.rate_in_force(user, "LPR_1Y", dt.date(2019, 1, 1)) is None


def test_the_administrator_adds_a_rate_row(world):
    rate_services.add_rate(
        world.users["admin"],
        rate_type="LPR_1Y",
        effective_date=dt.date(2025, 10, 20),
        annual_rate_percent="2.95",
    )
    r = rate_selectors.rate_in_force(world.users["admin"], "LPR_1Y", dt.date(2026, 1, 1))
    assert r.annual_rate_ppm == 29_500
    with pytest.raises(Conflict):
        rate_services.add_rate(
            world.users["admin"],
            rate_type="LPR_1Y",
            effective_date=dt.date(2025, 10, 20),
            annual_rate_percent="3",
        )
    with pytest.raises(NotPermitted):
        rate_services.add_rate(
            world.users["bank_a"],
            rate_type="LPR_1Y",
            effective_date=dt.date(2026, 10, 20),
            annual_rate_percent="3",
        )


def test_a_bank_is_admitted_to_a_district_once(world):
    with pytest.raises(Conflict):
        services.admit_bank(
            world.system, bank_id=world.bank["a"].pk, district_id=world.district["a"].pk
        )
