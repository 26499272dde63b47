"""Which jobs a user sees: the administrator every job; the trustee its own and the end of day
(the nightly run); any other organisation only the jobs it started."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import kind_of
from kvcredit.jobs.models import Job

LIGHT = ("payload", "output")  # the files stay in the database until asked for


def jobs(user: Any) -> QuerySet[Job]:
    qs = Job.objects.defer(*LIGHT).select_related("owner_user", "owner_org")
    kind = kind_of(user)
    if kind == OrgKind.ADMINISTRATOR:
        return qs
    if kind is None:
        return qs.none()
    mine = Q(owner_org_id=user.organisation_id)
    if kind == OrgKind.TRUSTEE:
        return qs.filter(mine | Q(kind="eod"))
    return qs.filter(mine)


def nightly_runs(user: Any, n: int = 5) -> list[Job]:
    """The last end-of-day runs (the nightly day's and any started by hand), each with its
    ``duration`` in seconds (None while it runs)."""
    from kvcredit.jobs.domain import duration_seconds

    runs = list(jobs(user).filter(kind="eod").order_by("-id")[:n])
    for run in runs:
        d = duration_seconds(run.started_at, run.finished_at)
        run.duration = None if d is None else round(d, 1)  # type: ignore[attr-defined]
    return runs


def nightly_context(user: Any) -> dict[str, Any]:
    """What the administrator's and the trustee's pages show of the nightly day."""
    from django.conf import settings

    return {"nightly_runs": nightly_runs(user), "nightly_at": settings.KVCREDIT_NIGHTLY_AT}


def as_dict(job: Job) -> dict[str, Any]:
    """The job as the console's poll and the API answer it."""
    from kvcredit.jobs.domain import duration_seconds

    return {
        "id": job.pk,
        "kind": job.kind,
        "state": job.state,
        "done": job.done,
        "total": job.total,
        "percent": job.percent,
        "reason": job.reason,
        "result": job.result,
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "heartbeat_at": job.heartbeat_at,
        "duration_seconds": duration_seconds(job.started_at, job.finished_at),
        "has_output": bool(job.output_name),
    }
