"""Running jobs: enqueue, start under a fence, checkpoint, finish or fail, take over, retry.

A job is carried to a worker by one django-tasks task (``run_job``: the job's id and fence),
on the database backend (``django_tasks_db``): the queue is a table of the same database, so
enqueuing is part of the transaction that creates the job, and nothing else is installed.

What survives a crash is the ``Job`` row: each kind's handler works in chunks and, in the SAME
transaction as a chunk's writes, calls ``ctx.checkpoint(...)``, which writes the progress and
where to start again, and only while the job still carries the worker's fence (else
``Fenced``: the chunk rolls back). A resumed run reads ``ctx.state`` and goes on from there;
each chunk is idempotent, so a run interrupted anywhere ends as an uninterrupted one.

A worker beats the job's heartbeat while it runs (a thread, every ``KVCREDIT_JOB_HEARTBEAT``
seconds). ``take_over_stale`` (every worker runs it) re-queues a running job whose heartbeat is
older than ``KVCREDIT_JOB_STALE_SECONDS``, with the fence moved on, so the old worker's late
writes are refused.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, close_old_connections, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tasks import task

from kvcredit.errors import Conflict, NotFound
from kvcredit.jobs.domain import HOLDING, JOB, JobState, is_stale
from kvcredit.jobs.models import Job
from kvcredit.roles import Role

log = logging.getLogger(__name__)
SYSTEM = Role.SYSTEM


class Fenced(Exception):
    """This worker's fence is no longer the job's: another worker has taken the job over."""


Handler = Callable[["JobContext"], dict[str, Any]]


@dataclass(frozen=True)
class Kind:
    name: str
    handler: Handler
    queue: str = "default"
    label: str = ""


KINDS: dict[str, Kind] = {}


def register(name: str, *, queue: str = "default", label: str = "") -> Callable[[Handler], Handler]:
    def wrap(fn: Handler) -> Handler:
        KINDS[name] = Kind(name, fn, queue, label or name)
        return fn

    return wrap


def kinds() -> dict[str, Kind]:
    from kvcredit.jobs import kinds as _kinds  # noqa: F401  (registers the handlers)

    return KINDS


def chunk_size() -> int:
    return int(settings.KVCREDIT_JOB_CHUNK)


# -- enqueue ---------------------------------------------------------------------------------
def role_of(actor: Any) -> Role:
    org = getattr(actor, "organisation", None)
    kind = getattr(org, "kind", None)
    return Role(kind) if kind in Role.__members__ else SYSTEM


def enqueue(
    kind: str,
    *,
    actor: Any = None,
    params: dict[str, Any] | None = None,
    lock_key: str | None = None,
    total: int | None = None,
    payload: bytes | None = None,
    payload_name: str = "",
) -> Job:
    """Create a queued job and hand it to the queue (one transaction). Jobs of one
    ``lock_key`` run one at a time: one that finds the key held waits its turn."""
    if kind not in kinds():
        raise NotFound(_("no such kind of job"))
    JOB.step(None, "enqueue", role_of(actor))
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.create(
            kind=kind,
            params=params or {},
            lock_key=lock_key,
            total=total,
            payload=payload,
            payload_name=payload_name,
            owner_user=actor if getattr(actor, "pk", None) else None,
            owner_org=getattr(actor, "organisation", None),
            created_at=now,
            heartbeat_at=now,
        )
        _hand_to_queue(job)
    job.refresh_from_db()
    return job


def holding(lock_key: str | None) -> Job | None:
    if lock_key is None:
        return None
    return Job.objects.filter(lock_key=lock_key, state__in=list(HOLDING)).first()


def _hand_to_queue(job: Job, *, after: dt.datetime | None = None) -> None:
    queue = kinds()[job.kind].queue
    task_ = (
        run_job.using(queue_name=queue, run_after=after)
        if after
        else run_job.using(queue_name=queue)
    )
    result = task_.enqueue(job.pk, job.fence)
    Job.objects.filter(pk=job.pk).update(task_id=str(result.id)[:64])


# -- the task ----------------------------------------------------------------------------------
@task(queue_name="default")
def run_job(job_id: int, fence: int) -> str:
    """Run (or resume) job ``job_id`` if it still carries ``fence``; what it did, in a word."""
    worker = _worker_id()
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id).first()
        if job is None or job.fence != fence or job.state != JobState.QUEUED:
            return "superseded"
        state = JOB.step(job.state, "start", SYSTEM)
        try:
            with transaction.atomic():
                Job.objects.filter(pk=job_id).update(
                    state=state,
                    started_at=job.started_at or now,
                    heartbeat_at=now,
                    worker_id=worker,
                    attempts=F("attempts") + 1,
                    reason="",
                )
        except IntegrityError:  # another job of its lock key runs: wait for it
            wait = dt.timedelta(seconds=float(settings.KVCREDIT_JOB_HEARTBEAT) or 1)
            Job.objects.filter(pk=job_id).update(heartbeat_at=now)
            _hand_to_queue(job, after=now + wait)
            return "waiting"
    job.refresh_from_db()
    ctx = JobContext(job, fence)
    beat = _Heartbeat(job_id, fence)
    beat.start()
    try:
        result = kinds()[job.kind].handler(ctx)
        ctx.finish(result or {})
        return "done"
    except Fenced:
        log.warning("job %s: taken over by another worker; this run stops", job_id)
        return "fenced"
    except Exception as exc:
        log.exception("job %s failed", job_id)
        ctx.fail(_reason(exc))
        return "failed"
    except BaseException:
        # A worker told to stop now (a second Ctrl-C, SIGTERM twice): queue the job again.
        requeue(job_id, fence)
        raise
    finally:
        beat.stop()


def _reason(exc: Exception) -> str:
    """Why a job failed, as its user reads it: a service's refusal, else the error itself."""
    problems = getattr(exc, "problems", None)
    if problems:
        return "; ".join(f"{f}: {m}" if f else str(m) for f, m in problems)[:2000]
    detail = getattr(exc, "detail", None) or str(exc)
    return (detail or type(exc).__name__)[:2000]


def _worker_id() -> str:
    import os
    import socket

    return f"{socket.gethostname()[:40]}:{os.getpid()}"


class JobContext:
    """What a handler sees: its job, where to resume (``state``), and ``checkpoint``."""

    def __init__(self, job: Job, fence: int) -> None:
        self.job = job
        self.fence = fence
        self.params: dict[str, Any] = dict(job.params or {})
        self.state: dict[str, Any] = dict(job.checkpoint or {})
        self.done = job.done
        self.total = job.total
        self.output: bytes | None = None  # an export's file, stored when the job finishes
        self.output_name = ""

    def _guarded(self, **values: Any) -> None:
        n = Job.objects.filter(pk=self.job.pk, fence=self.fence, state=JobState.RUNNING).update(
            heartbeat_at=timezone.now(), **values
        )
        if n != 1:
            raise Fenced(self.job.pk)

    def set_total(self, total: int | None) -> None:
        self.total = total
        self._guarded(total=total)

    def checkpoint(
        self, done: int, state: dict[str, Any] | None = None, total: int | None = None
    ) -> None:
        """Record progress and where to resume; call it INSIDE the chunk's transaction."""
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("checkpoint outside the chunk's transaction")
        self.done = done
        if total is not None:
            self.total = total
        if state is not None:
            self.state = state
        self._guarded(done=done, checkpoint=self.state, total=self.total)
        transaction.on_commit(_pause_after_chunk)

    def finish(self, result: dict[str, Any]) -> None:
        with transaction.atomic():
            state = JOB.step(JobState.RUNNING, "finish", SYSTEM)
            values: dict[str, Any] = {
                "state": state,
                "result": result,
                "finished_at": timezone.now(),
                "done": self.total if self.total is not None else self.done,
            }
            if self.output is not None:
                values |= {"output": self.output, "output_name": self.output_name}
            self._guarded(**values)

    def fail(self, reason: str) -> None:
        try:
            with transaction.atomic():
                state = JOB.step(JobState.RUNNING, "fail", SYSTEM)
                self._guarded(state=state, reason=reason, finished_at=timezone.now())
        except Fenced:
            pass


def _pause_after_chunk() -> None:
    """A pause after each committed chunk (``KVCREDIT_JOB_CHUNK_DELAY``; tests and demos use it
    to see the progress move, and to stop a worker mid-job)."""
    delay = float(settings.KVCREDIT_JOB_CHUNK_DELAY)
    if delay > 0:
        time.sleep(delay)


class _Heartbeat:
    def __init__(self, job_id: int, fence: int) -> None:
        self.job_id, self.fence = job_id, fence
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{job_id}", daemon=True)

    def start(self) -> None:
        if float(settings.KVCREDIT_JOB_HEARTBEAT) > 0 and not _immediate():
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def _run(self) -> None:
        every = float(settings.KVCREDIT_JOB_HEARTBEAT)
        try:
            while not self._stop.wait(every):
                try:
                    Job.objects.filter(
                        pk=self.job_id, fence=self.fence, state=JobState.RUNNING
                    ).update(heartbeat_at=timezone.now())
                except Exception:  # a busy SQLite: the next beat tries again
                    log.debug("heartbeat of job %s missed", self.job_id, exc_info=True)
        finally:
            close_old_connections()


def _immediate() -> bool:
    backend = settings.TASKS["default"]["BACKEND"]
    return "Immediate" in backend or "Dummy" in backend


# -- take-over, retry ----------------------------------------------------------------------------
def requeue(job_id: int, fence: int, *, step: str = "take_over") -> Job | None:
    """Queue the job again under a new fence (if it still carries ``fence``)."""
    with transaction.atomic():
        job = Job.objects.select_for_update().filter(pk=job_id, fence=fence).first()
        if job is None or not JOB.may(job.state, step, SYSTEM):
            return None
        state = JOB.step(job.state, step, SYSTEM)
        Job.objects.filter(pk=job_id).update(
            state=state,
            fence=F("fence") + 1,
            worker_id="",
            heartbeat_at=timezone.now(),
            finished_at=None,
        )
        job.refresh_from_db()
        _hand_to_queue(job)
    return job


def take_over_stale(now: dt.datetime | None = None) -> list[int]:
    """Re-queue every running job whose heartbeat is stale, and every queued job whose task was
    claimed by a worker that died before starting it. Returns their ids."""
    now = now or timezone.now()
    stale = float(settings.KVCREDIT_JOB_STALE_SECONDS)
    taken = []
    cutoff = now - dt.timedelta(seconds=stale)
    running = Job.objects.filter(state=JobState.RUNNING, heartbeat_at__lt=cutoff)
    for job in running.only("id", "fence", "heartbeat_at"):
        if is_stale(job.heartbeat_at, now, stale) and requeue(job.pk, job.fence):
            log.warning("job %s: stale heartbeat, taken over", job.pk)
            taken.append(job.pk)
    for job in Job.objects.filter(state=JobState.QUEUED, heartbeat_at__lt=cutoff):
        if _task_lost(job.task_id) and requeue(job.pk, job.fence):
            log.warning("job %s: its task was lost, queued again", job.pk)
            taken.append(job.pk)
    return taken


def _task_lost(task_id: str) -> bool:
    if _immediate():
        return False
    from django_tasks_db.models import DBTaskResult

    status = DBTaskResult.objects.filter(id=task_id).values_list("status", flat=True).first()
    return status is None or status != "READY"


def retry(job_id: int, actor: Any = None) -> Job:
    """Queue a failed job again; it resumes from its last checkpoint."""
    job = Job.objects.filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("no such job"))
    if not JOB.may(job.state, "retry", role_of(actor)):
        raise Conflict(_("only a failed job can be retried"), field="state")
    again = requeue(job.pk, job.fence, step="retry")
    if again is None:
        raise Conflict(_("the job changed meanwhile: look again"), field="state")
    return again
