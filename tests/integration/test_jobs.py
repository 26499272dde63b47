"""The job runner in process: the lifecycle, fencing, take-over, retry, one holder per lock
key, the nightly day (catch-up, never the future), and where users look (API, console).

Jobs run at once here (django-tasks' immediate backend, settings_test); a test that needs a
job to wait in the queue uses the dummy backend. The kill -9 tests with real workers are in
tests/e2e/test_jobs_survive.py.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from kvcredit.jobs import nightly, runner, services
from kvcredit.jobs.domain import JOB, JobState, nightly_target, parse_at
from kvcredit.jobs.models import Job

DUMMY = {
    "default": {
        "BACKEND": "django_tasks.backends.dummy.DummyBackend",
        "QUEUES": ["default", "batch"],
    }
}
START = dt.date(2025, 3, 3)


@pytest.fixture
def queue_only(settings: Any) -> None:
    """Jobs wait in the queue (nobody runs them) until a test runs them by hand."""
    settings.TASKS = DUMMY


def _running(world: Any, **kw: Any) -> Job:
    now = timezone.now()
    return Job.objects.create(
        kind=kw.pop("kind", "eod"),
        state=JobState.RUNNING,
        params=kw.pop("params", {"as_of": START.isoformat()}),
        created_at=now,
        started_at=now,
        heartbeat_at=kw.pop("heartbeat_at", now),
        owner_org=world.users["admin"].organisation,
        **kw,
    )


def test_the_lifecycle_table_refuses_what_it_does_not_list():
    assert JOB.allowed_steps(JobState.FAILED, "ADMINISTRATOR") == ["retry"]
    assert not JOB.may(JobState.DONE, "retry")
    assert JOB.may(JobState.RUNNING, "take_over", "SYSTEM")
    assert not JOB.may(JobState.RUNNING, "take_over", "ADMINISTRATOR")


def test_a_late_write_of_a_taken_over_worker_is_refused(world, queue_only):
    job = _running(world, fence=1, heartbeat_at=timezone.now() - dt.timedelta(hours=1))
    old = runner.JobContext(job, fence=1)
    assert runner.take_over_stale() == [job.pk]
    job.refresh_from_db()
    assert (job.state, job.fence) == (JobState.QUEUED, 2)
    from kvcredit.enterprises.models import District

    with pytest.raises(runner.Fenced), transaction.atomic():
        District.objects.create(code="599999", name="迟到区", participating_since=START)
        old.checkpoint(5, {"late": True})
    assert not District.objects.filter(code="599999").exists()  # the chunk rolled back with it
    job.refresh_from_db()
    assert (job.done, job.checkpoint) == (0, {})


def test_a_fresh_heartbeat_is_not_taken_over(world, queue_only):
    job = _running(world)
    assert runner.take_over_stale() == []
    job.refresh_from_db()
    assert job.state == JobState.RUNNING


def test_two_jobs_of_one_lock_key_never_run_at_once(world):
    _running(world, lock_key="reevaluate:programme")
    with pytest.raises(IntegrityError), transaction.atomic():
        _running(world, lock_key="reevaluate:programme")
    _running(world, lock_key="eod")  # another key is free


def test_a_job_that_finds_its_lock_held_waits_its_turn(world, queue_only):
    holder = _running(world, lock_key="eod")
    job = services.queue_eod(world.users["admin"], as_of=START, catch_up=True)
    assert runner.run_job.call(job.pk, job.fence) == "waiting"
    job.refresh_from_db()
    assert job.state == JobState.QUEUED and holder.state == JobState.RUNNING


def test_a_failed_job_shows_its_reason_and_a_retry_resumes_it(world, monkeypatch, english):
    calls: list[dict[str, Any]] = []

    def flaky(ctx: runner.JobContext) -> dict[str, Any]:
        calls.append(dict(ctx.state))
        if not ctx.state:
            with transaction.atomic():
                ctx.checkpoint(1, {"chunk": 1}, 2)
            raise ValueError("the bank's file server is down")
        with transaction.atomic():
            ctx.checkpoint(2, {"chunk": 2}, 2)
        return {"ok": True}

    monkeypatch.setitem(runner.KINDS, "flaky", runner.Kind("flaky", flaky))
    job = runner.enqueue("flaky", actor=world.users["admin"])
    assert (job.state, job.done, job.reason) == (
        JobState.FAILED,
        1,
        "the bank's file server is down",
    )
    again = runner.retry(job.pk, world.users["admin"])
    again.refresh_from_db()
    assert (again.state, again.done, again.result, again.attempts) == (
        JobState.DONE,
        2,
        {"ok": True},
        2,
    )
    assert calls == [{}, {"chunk": 1}]  # the retry started from the checkpoint
    with pytest.raises(Exception, match="only a failed job"):
        runner.retry(job.pk)


# -- the nightly day -------------------------------------------------------------------------
def test_the_nightly_target_is_yesterday_after_the_hour_and_never_the_future():
    at = parse_at("01:00")
    d = dt.date(2025, 6, 10)
    assert nightly_target(dt.datetime(2025, 6, 10, 1, 0), at, d) == dt.date(2025, 6, 9)
    assert nightly_target(dt.datetime(2025, 6, 10, 0, 59), at, d) == dt.date(2025, 6, 8)
    assert nightly_target(dt.datetime(2025, 6, 10, 23, 0), parse_at("00:00"), d) < d
    with pytest.raises(ValueError, match="HH:MM"):
        parse_at("1 am")


def _at(day: dt.date, hh: int) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hh, 0)))


def test_the_nightly_day_catches_up_missed_days_once_and_refuses_the_future(
    world, settings, monkeypatch, english
):
    from kvcredit.day import run_day
    from kvcredit.errors import ServiceError
    from kvcredit.lending.models import EodRun

    settings.KVCREDIT_NIGHTLY_AT = "01:00"
    monkeypatch.setattr("kvcredit.clock.today", lambda: START)
    run_day(as_of=START)  # the programme's first closed day
    # Five days later, at 02:00: the days in between were missed (no worker ran).
    later = START + dt.timedelta(days=5)
    monkeypatch.setattr("kvcredit.clock.today", lambda: later)
    job = nightly.tick(_at(later, 2))
    assert job is not None
    job.refresh_from_db()
    closed = [START + dt.timedelta(days=k) for k in range(1, 5)]  # up to yesterday
    assert job.state == JobState.DONE and job.result["days"] == [d.isoformat() for d in closed]
    assert sorted(EodRun.objects.values_list("run_date", flat=True)) == [START, *closed]
    assert EodRun.objects.filter(run_date=later).count() == 0  # today is not closed
    # Idempotent: the next round finds nothing to do; nor does another scheduler.
    assert nightly.tick(_at(later, 3)) is None
    # Never a day after today: the nightly target is before it, and asking for it is refused.
    assert nightly.due(_at(later, 23)) is None
    with pytest.raises(ServiceError):
        services.queue_eod(world.users["admin"], as_of=later + dt.timedelta(days=1))


def test_a_failed_nightly_run_waits_for_someone_to_look(world, settings, monkeypatch):
    settings.KVCREDIT_NIGHTLY_AT = "01:00"
    monkeypatch.setattr("kvcredit.clock.today", lambda: START)
    failed = _running(world, params={"as_of": START.isoformat()})
    Job.objects.filter(pk=failed.pk).update(state=JobState.FAILED, reason="breaker failed")
    assert nightly.tick(_at(START, 2)) is None
    off = settings.KVCREDIT_NIGHTLY_AT = ""
    assert nightly.due(_at(START, 2)) is None and off == ""


# -- where users look --------------------------------------------------------------------------
def test_the_api_answers_a_job_to_its_organisation_only(world, api_client):
    job = services.queue_export(world.users["bank_a"], what="statistics")
    r = api_client.get(f"/api/v1/jobs/{job.pk}", headers=world.auth("bank_a"))
    assert r.status_code == 200
    body = r.json()
    assert (body["state"], body["kind"], body["has_output"]) == ("DONE", "export", True)
    assert api_client.get(f"/api/v1/jobs/{job.pk}", headers=world.auth("bank_b")).status_code == 404
    assert api_client.get(f"/api/v1/jobs/{job.pk}", headers=world.auth("admin")).status_code == 200
    listed = api_client.get("/api/v1/jobs", headers=world.auth("bank_b")).json()
    assert listed["count"] == 0


def test_the_console_shows_a_jobs_progress_and_its_file(world, client):
    client.force_login(world.users["admin"])
    r = client.post("/jobs/export/", {"what": "fund_books"})
    job = Job.objects.get(kind="export")
    assert r.status_code == 302 and r["Location"] == f"/jobs/{job.pk}/"
    page = client.get(f"/jobs/{job.pk}/").content.decode()
    assert "<progress" in page and f"/jobs/{job.pk}.json" in page
    data = client.get(f"/jobs/{job.pk}.json").json()
    assert (data["state"], data["percent"]) == ("DONE", 100)
    assert client.get(f"/jobs/{job.pk}/output/").status_code == 200
    client.force_login(world.users["bank_a"])
    assert client.get(f"/jobs/{job.pk}.json").status_code == 404


def test_publishing_in_the_console_runs_the_reevaluation_as_a_job(world, client):
    from kvcredit.scoring.policies import __file__ as shipped

    path = __import__("pathlib").Path(shipped).parent / "chongqing-kvc.toml"
    source = path.read_text("utf-8").replace('version = "', 'version = "9', 1)
    client.force_login(world.users["admin"])
    r = client.post("/setup/policies/publish/", {"source": source})
    assert r.status_code == 302
    job = Job.objects.get(kind="reevaluate")
    assert job.state == JobState.DONE and job.done == job.total == 2
    page = client.get("/setup/policies/").content.decode()
    assert f"/jobs/{job.pk}.json" in page


def test_a_large_repayment_file_is_posted_by_a_job_with_its_report(world, client, settings):
    settings.KVCREDIT_JOB_INLINE_ROWS = 1
    from django.core.files.uploadedfile import SimpleUploadedFile

    rows = "loan_id,amount (yuan),paid_on (YYYY-MM-DD),reference,note\n"
    rows += "".join(f"{900000 + k},1.00,2025-01-02,REF{k},\n" for k in range(3))
    client.force_login(world.users["bank_a"])
    upload = SimpleUploadedFile("repayments.csv", rows.encode(), content_type="text/csv")
    page = client.post("/repayments/upload/", {"file": upload}).content.decode()
    job = Job.objects.get(kind="repayments")
    assert f"/jobs/{job.pk}.json" in page
    assert job.state == JobState.DONE and job.owner_org_id == world.users["bank_a"].organisation_id
    assert job.result["applied"] == 0 and {e["row"] for e in job.result["errors"]} == {2, 3, 4}
    detail = client.get(f"/jobs/{job.pk}/").content.decode()
    assert 'id="problems-h"' in detail and "<td>4</td>" in detail  # the report, by row
    client.force_login(world.users["bank_b"])
    assert client.get(f"/jobs/{job.pk}/").status_code == 404
