"""A long job's lifecycle and the rules of its runner, as data (pure: no Django).

    (new) ─enqueue─▶ QUEUED ─start─▶ RUNNING ─finish─▶ DONE
                       ▲               │  └──fail──▶ FAILED ─retry─▶ QUEUED
                       └──take_over────┘  (a stale or interrupted run, by the system)

A job runs under a *fence*: a number that grows each time the job is queued again (retry,
take-over). A worker writes its progress only while the job still carries the fence it started
with, so a worker that was taken for dead and wakes up late has its writes refused.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from kvcredit.roles import Role, gettext_noop
from kvcredit.statemachine import Machine, t

ADMIN, TRUSTEE, DISTRICT, BANK, ENTERPRISE, SYSTEM = (
    Role.ADMINISTRATOR,
    Role.TRUSTEE,
    Role.DISTRICT,
    Role.BANK,
    Role.ENTERPRISE,
    Role.SYSTEM,
)
USERS = (ADMIN, TRUSTEE, DISTRICT, BANK, ENTERPRISE)


class JobState(StrEnum):
    QUEUED = "QUEUED"
    RUNNING = "RUNNING"
    DONE = "DONE"
    FAILED = "FAILED"


J = JobState

JOB_LABELS: dict[JobState, str] = {
    J.QUEUED: gettext_noop("queued"),
    J.RUNNING: gettext_noop("running"),
    J.DONE: gettext_noop("done"),
    J.FAILED: gettext_noop("failed"),
}

JOB: Machine[JobState] = Machine(
    "job",
    JobState,
    JOB_LABELS,
    [
        t(None, "enqueue", J.QUEUED, *USERS, SYSTEM),
        t(J.QUEUED, "start", J.RUNNING, SYSTEM),
        t(J.RUNNING, "finish", J.DONE, SYSTEM),
        t(J.RUNNING, "fail", J.FAILED, SYSTEM),
        t(J.RUNNING, "take_over", J.QUEUED, SYSTEM),
        t(J.QUEUED, "take_over", J.QUEUED, SYSTEM),
        t(J.FAILED, "retry", J.QUEUED, *USERS, SYSTEM),
    ],
    final=[J.DONE],
)

# The states in which a job holds its lock key (at most one such job per key: one running
# re-evaluation of the programme; a second one queued waits for it).
HOLDING: tuple[JobState, ...] = (J.RUNNING,)
# The states of a job not yet finished (still to run or running).
OPEN: tuple[JobState, ...] = (J.QUEUED, J.RUNNING)


def is_stale(heartbeat: dt.datetime | None, now: dt.datetime, stale_seconds: float) -> bool:
    """A running job whose last heartbeat is older than ``stale_seconds`` is taken for dead."""
    return heartbeat is None or (now - heartbeat).total_seconds() > stale_seconds


def duration_seconds(started: dt.datetime | None, finished: dt.datetime | None) -> float | None:
    if started is None or finished is None:
        return None
    return (finished - started).total_seconds()


def parse_at(text: str) -> dt.time:
    """``"HH:MM"`` (the nightly run's local time); refuses anything else."""
    try:
        hh, mm = text.strip().split(":")
        return dt.time(int(hh), int(mm))
    except ValueError:
        raise ValueError(f"KVCREDIT_NIGHTLY_AT must be HH:MM, not {text!r}") from None


def nightly_target(now_local: dt.datetime, at: dt.time, today: dt.date) -> dt.date:
    """The last business day the nightly run should have closed by ``now_local``.

    The run at ``at`` on day D closes D-1 (the day just ended); before ``at`` on D, the last
    closed day is D-2. Never a day after ``today`` (the business date)."""
    ended = today - dt.timedelta(days=1)
    if now_local.time() < at:
        ended -= dt.timedelta(days=1)
    return min(ended, today)
