"""Jobs survive kill -9: for each kind of job, a real `kvcredit worker` is killed mid-job (once
the job's progress in the database shows a committed chunk), a second worker takes the stale
job over, and the job ends DONE in the state an uninterrupted run leaves: every enterprise
evaluated once, every file row posted once (no row reported "already recorded"), every day
closed once, the same export.

On the run's database (SQLite, or PostgreSQL with KVCREDIT_TEST_BACKEND=postgresql): one
small demonstration programme per module, chunks of 4 and a pause of a second after each
chunk, so the kill lands mid-job whatever the machine's speed.
"""

from __future__ import annotations

import csv
import datetime as dt
import json
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from conftest import strong_values
from kvcredit.scoring.fields import BY_NAME, uscc_check_char

pytestmark = pytest.mark.slow
TODAY = dt.datetime.now(ZoneInfo("Asia/Shanghai")).date()  # the business date (TIME_ZONE)


class Database:
    """The programme's database, read from the test directly (not through the service)."""

    def __init__(self, url: str) -> None:
        self.url = url

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        if self.url.startswith("sqlite:///"):
            with sqlite3.connect(self.url.removeprefix("sqlite:///"), timeout=30) as conn:
                return conn.execute(sql.replace("%s", "?"), args).fetchall()
        import psycopg

        with psycopg.connect(self.url) as conn:
            return conn.execute(sql, args).fetchall()

    def one(self, sql: str, *args: Any) -> tuple[Any, ...]:
        (row,) = self.rows(sql, *args)
        return row

    def job(self, job_id: int) -> dict[str, Any]:
        cols = ("state", "done", "total", "attempts", "fence", "reason")
        row = self.one(f"SELECT {', '.join(cols)} FROM jobs_job WHERE id = %s", job_id)
        return dict(zip(cols, row, strict=True))


@pytest.fixture(scope="module")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    tmp = tmp_path_factory.mktemp("jobs")
    if os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql":
        yield f"sqlite:///{tmp / 'jobs.sqlite3'}"
        return
    import psycopg

    base = os.environ["KVCREDIT_TEST_DATABASE_URL"]
    name = f"kvcredit_jobs_test_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory, database_url: str) -> dict[str, str]:
    tmp = tmp_path_factory.mktemp("jobs-var")
    return {
        **os.environ,
        "KVCREDIT_DATABASE_URL": database_url,
        "KVCREDIT_DATA_DIR": str(tmp / "var"),
        "KVCREDIT_SECRET_KEY": "jobs-test-secret-key-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
        "KVCREDIT_JOB_CHUNK": "4",
        "KVCREDIT_JOB_CHUNK_DELAY": "1",
        "KVCREDIT_JOB_HEARTBEAT": "0.5",
        "KVCREDIT_JOB_STALE_SECONDS": "3",
        "KVCREDIT_LANGUAGE": "en",
    }


def kvcredit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600)


@pytest.fixture(scope="module")
def programme(env: dict[str, str], database_url: str) -> Database:
    """A small programme whose history ends six days ago (the end of day has days to run)."""
    assert kvcredit(env, "init").returncode == 0
    until = (TODAY - dt.timedelta(days=6)).isoformat()
    r = kvcredit(
        env, "demo", "load", "--seed", "7", "--enterprises", "50", "--years", "1", "--until", until
    )
    assert r.returncode == 0, r.stderr[-2000:]
    return Database(database_url)


def _worker(env: dict[str, str]) -> subprocess.Popen[bytes]:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", "worker"]
    cmd += ["--no-nightly", "--interval", "0.2"]
    return subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def _until(check: Callable[[], bool], timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _queued(r: subprocess.CompletedProcess[str]) -> int:
    assert r.returncode == 0, r.stdout + r.stderr
    return int(re.search(r"job (\d+)", r.stdout).group(1))  # type: ignore[union-attr]


def kill_mid_job(env: dict[str, str], db: Database, job_id: int) -> dict[str, Any]:
    """Start a worker, kill -9 it once a chunk of the job has committed; the job as left."""
    worker = _worker(env)
    try:

        def mid() -> bool:
            j = db.job(job_id)
            return j["state"] == "RUNNING" and 0 < j["done"] < (j["total"] or 10**9)

        _until(mid, 240, f"job {job_id} to be mid-way")
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=30)
    left = db.job(job_id)
    assert left["state"] == "RUNNING" and left["done"] < (left["total"] or 10**9)
    return left


def resume(env: dict[str, str], db: Database, job_id: int) -> dict[str, Any]:
    """A second worker takes the stale job over and finishes it."""
    worker = _worker(env)
    try:
        _until(lambda: db.job(job_id)["state"] in {"DONE", "FAILED"}, 300, f"job {job_id}")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    end = db.job(job_id)
    assert end["state"] == "DONE", end["reason"]
    assert end["fence"] >= 2 and end["attempts"] >= 2  # taken over, run again
    return end


def result(db: Database, job_id: int) -> dict[str, Any]:
    (raw,) = db.one("SELECT result FROM jobs_job WHERE id = %s", job_id)
    return raw if isinstance(raw, dict) else json.loads(raw)


def test_a_killed_reevaluation_resumes_and_republishing_is_not_stuck(env, programme, tmp_path):
    db = programme
    source = Path(__file__).parents[2] / "src/kvcredit/scoring/policies/chongqing-kvc.toml"
    policy = tmp_path / "policy.toml"
    policy.write_text(
        re.sub(r'(?m)^version = ".*"$', 'version = "2099.1"', source.read_text("utf-8")), "utf-8"
    )
    job_id = _queued(kvcredit(env, "policy", "publish", str(policy), "--queue", "--no-wait"))
    kill_mid_job(env, db, job_id)
    # Publishing the same file again is not refused: it answers the unfinished job.
    again = kvcredit(env, "policy", "publish", str(policy), "--queue", "--no-wait")
    assert _queued(again) == job_id, again.stdout + again.stderr
    resume(env, db, job_id)
    (pol_id,) = db.one("SELECT id FROM enterprises_publishedpolicy WHERE version = '2099.1'")
    enterprises = db.one("SELECT COUNT(DISTINCT enterprise_id) FROM enterprises_datasubmission")[0]
    evaluated, distinct = db.one(
        "SELECT COUNT(*), COUNT(DISTINCT enterprise_id) FROM enterprises_evaluation"
        " WHERE policy_id = %s",
        pol_id,
    )
    assert evaluated == distinct == enterprises  # each enterprise once, as one run does
    status, done, total = db.one(
        "SELECT status, done, total FROM enterprises_reevaluationjob WHERE policy_id = %s", pol_id
    )
    assert (status, done, total) == ("DONE", enterprises, enterprises)
    stale_lines = db.one(
        "SELECT COUNT(*) FROM enterprises_creditline cl JOIN enterprises_evaluation ev"
        " ON ev.id = cl.evaluation_id WHERE ev.policy_id <> %s",
        pol_id,
    )[0]
    assert stale_lines == 0  # every credit line under the new policy


def _enterprise_csv(path: Path, n: int) -> Path:
    rows = []
    for k in range(n):
        first = f"91500000MA7J{k:05d}"
        vals = {BY_NAME[f].zh: v for f, v in strong_values().items()}
        rows.append(
            vals
            | {"统一社会信用代码": first + uscc_check_char(first), "企业名称": f"任务企业{k}"}
            | {"所属区县": "500101"}
        )
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_a_killed_enterprise_import_resumes(env, programme, tmp_path):
    db = programme
    path = _enterprise_csv(tmp_path / "enterprises.csv", 18)
    year = str(TODAY.year - 1)
    r = kvcredit(env, "jobs", "start", "import_enterprises", "--file", str(path),
                 "-p", f"year={year}", "--as", "admin", "--no-wait")  # fmt: skip
    job_id = _queued(r)
    kill_mid_job(env, db, job_id)
    resume(env, db, job_id)
    out = result(db, job_id)
    assert (out["rows"], out["registered"], out["submitted"], out["rejected_rows"]) == (
        18, 18, 18, 0,
    )  # fmt: skip
    count, distinct = db.one(
        "SELECT COUNT(*), COUNT(DISTINCT e.id) FROM enterprises_datasubmission s"
        " JOIN enterprises_enterprise e ON e.id = s.enterprise_id WHERE e.uscc LIKE %s",
        "91500000MA7J%",
    )
    assert count == distinct == 18  # one version each: no chunk stored twice


def test_a_killed_repayment_file_resumes_posting_each_row_once(env, programme, tmp_path):
    db = programme
    (bank_id,) = db.one(
        "SELECT b.id FROM enterprises_bank b JOIN accounts_user u"
        " ON u.organisation_id = b.organisation_id WHERE u.username = 'bank'"
    )
    loans = [
        r[0]
        for r in db.rows(
            "SELECT id FROM lending_loan WHERE status = 'ACTIVE' AND bank_id = %s ORDER BY id",
            bank_id,
        )
    ]
    assert loans, "the demonstration has live loans at the bank"
    path = tmp_path / "repayments.csv"
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.writer(fh)
        w.writerow(["loan_id", "amount (yuan)", "paid_on (YYYY-MM-DD)", "reference", "note"])
        for k in range(10):
            w.writerow([loans[k % len(loans)], "1.00", TODAY.isoformat(), f"JOBREF{k:03d}", ""])
    r = kvcredit(env, "jobs", "start", "repayments", "--file", str(path),
                 "-p", f"today={TODAY.isoformat()}", "--as", "bank", "--no-wait")  # fmt: skip
    job_id = _queued(r)
    kill_mid_job(env, db, job_id)
    resume(env, db, job_id)
    out = result(db, job_id)
    assert out["errors"] == [] and out["applied"] == 10  # no row "already recorded"
    (posted,) = db.one("SELECT COUNT(*) FROM lending_repayment WHERE reference LIKE %s", "JOBREF%")
    assert posted == 10


def test_a_killed_export_resumes_with_the_same_file(env, programme):
    db = programme
    first = _queued(kvcredit(env, "jobs", "start", "export", "-p", "what=fund_books",
                             "--as", "trustee", "--no-wait"))  # fmt: skip
    kill_mid_job(env, db, first)
    resume(env, db, first)
    second = _queued(kvcredit(env, "jobs", "start", "export", "-p", "what=fund_books",
                              "--as", "trustee", "--no-wait"))  # fmt: skip
    resume_plain = _worker(env)
    try:
        _until(lambda: db.job(second)["state"] == "DONE", 240, "the uninterrupted export")
    finally:
        resume_plain.terminate()
        resume_plain.wait(timeout=60)
    a, b = (
        bytes(db.one("SELECT output FROM jobs_job WHERE id = %s", j)[0]) for j in (first, second)
    )
    assert a == b and b"kvcredit risk compensation fund" in a


def test_a_killed_end_of_day_resumes_and_closes_each_day_once(env, programme):
    db = programme
    yesterday = TODAY - dt.timedelta(days=1)
    (last,) = db.one("SELECT MAX(run_date) FROM lending_eodrun")
    last = dt.date.fromisoformat(str(last))
    expected = [last + dt.timedelta(days=k) for k in range(1, (yesterday - last).days + 1)]
    assert len(expected) >= 3
    job_id = _queued(kvcredit(env, "jobs", "start", "eod", "-p", f"as_of={yesterday}",
                              "--as", "admin", "--no-wait"))  # fmt: skip
    kill_mid_job(env, db, job_id)
    resume(env, db, job_id)
    assert result(db, job_id)["days"] == [d.isoformat() for d in expected]
    runs = [str(r[0]) for r in db.rows("SELECT run_date FROM lending_eodrun WHERE run_date > %s"
                                      " ORDER BY run_date", last.isoformat())]  # fmt: skip
    assert runs == [d.isoformat() for d in expected]  # each day once, in order
    # The same end of day again changes nothing (the day's own refusal: already run).
    again = _queued(kvcredit(env, "jobs", "start", "eod", "-p", f"as_of={yesterday}",
                             "--as", "admin", "--no-wait"))  # fmt: skip
    worker = _worker(env)
    try:
        _until(lambda: db.job(again)["state"] == "DONE", 240, "the second end of day")
    finally:
        worker.terminate()
        worker.wait(timeout=60)
    assert result(db, again)["days"] == []


def test_a_failed_job_shows_its_reason_and_is_retried_from_the_command_line(
    env, programme, tmp_path
):
    db = programme
    bad = tmp_path / "not-repayments.csv"
    bad.write_text("colour,size\nred,2\n", encoding="utf-8")
    r = kvcredit(env, "jobs", "start", "repayments", "--file", str(bad), "--as", "bank",
                 "--no-wait")  # fmt: skip
    job_id = _queued(r)
    assert kvcredit(env, "worker", "--batch", "--no-nightly").returncode == 0
    shown = json.loads(kvcredit(env, "jobs", "show", str(job_id), "--json").stdout)
    assert shown["state"] == "FAILED" and "loan_id" in shown["reason"]  # names the column
    listed = kvcredit(env, "jobs", "list", "--state", "failed")
    assert str(job_id) in listed.stdout
    again = kvcredit(env, "jobs", "retry", str(job_id))
    assert again.returncode == 0 and "queued again" in again.stdout
    assert db.job(job_id)["state"] == "QUEUED"
    assert kvcredit(env, "worker", "--batch", "--no-nightly").returncode == 0
    assert db.job(job_id)["state"] == "FAILED" and db.job(job_id)["attempts"] == 2
    # Only what failed is retried; a job of another organisation is not shown to a bank.
    ok = _queued(kvcredit(env, "jobs", "start", "export", "-p", "what=fund_books",
                          "--as", "admin", "--no-wait"))  # fmt: skip
    assert kvcredit(env, "worker", "--batch", "--no-nightly").returncode == 0
    assert db.job(ok)["state"] == "DONE"
    done = kvcredit(env, "jobs", "retry", str(ok))
    assert done.returncode == 1 and "only a failed job" in done.stderr
    assert kvcredit(env, "jobs", "show", str(ok), "--as", "bank").returncode == 2


def test_a_worker_stopped_at_once_puts_its_job_back_and_a_graceful_stop_finishes_it(env, programme):
    db = programme
    # Stopped twice (a restart that does not wait): the job goes back to the queue at once.
    job_id = _queued(kvcredit(env, "jobs", "start", "export", "-p", "what=fund_books",
                              "--as", "admin", "--no-wait"))  # fmt: skip
    worker = _worker(env)
    try:
        _until(lambda: db.job(job_id)["done"] > 0, 240, "the export to be mid-way")
        worker.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=60)
    finally:
        if worker.poll() is None:
            worker.kill()
    left = db.job(job_id)
    assert (left["state"], left["fence"]) == ("QUEUED", 2)  # no stale wait: queued again
    resume(env, db, job_id)
    # Stopped once (a graceful restart): the worker finishes the job it runs, then exits.
    job_id = _queued(kvcredit(env, "jobs", "start", "export", "-p", "what=fund_books",
                              "--as", "admin", "--no-wait"))  # fmt: skip
    worker = _worker(env)
    try:
        _until(lambda: db.job(job_id)["done"] > 0, 240, "the export to be mid-way")
        worker.send_signal(signal.SIGTERM)
        worker.wait(timeout=120)
    finally:
        if worker.poll() is None:
            worker.kill()
    assert db.job(job_id)["state"] == "DONE" and db.job(job_id)["attempts"] == 1
