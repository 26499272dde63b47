"""The jobs a user may see, for polling: ``GET /jobs``, ``GET /jobs/{id}``, and
``POST /jobs/{id}/retry`` (a failed job, again from its last checkpoint). An organisation sees
only the jobs it started (the administrator every job; the trustee the end of day too)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Field, Path, Query, Router, Schema

from kvcredit.api.common import Id, PageIn, page, page_schema
from kvcredit.api.problems import Problem
from kvcredit.errors import NotFound
from kvcredit.jobs import runner, selectors
from kvcredit.jobs.models import Job

router = Router(tags=["jobs"])
ERRORS: dict[int, Any] = {c: Problem for c in (401, 403, 404, 409, 422)}


class JobOut(Schema):
    """A long job: poll it until ``state`` is DONE or FAILED (``reason`` says why)."""

    id: int
    kind: str = Field(examples=["reevaluate"])
    state: str = Field(examples=["RUNNING"])
    done: int
    total: int | None
    percent: int
    reason: str
    result: dict[str, Any]
    attempts: int
    created_at: dt.datetime
    started_at: dt.datetime | None
    finished_at: dt.datetime | None
    heartbeat_at: dt.datetime | None
    duration_seconds: float | None
    has_output: bool

    @staticmethod
    def of(job: Job) -> dict[str, Any]:
        return JobOut(**selectors.as_dict(job)).model_dump(mode="json")


def _get(request: HttpRequest, job_id: int) -> Job:
    job = selectors.jobs(request.user).filter(pk=job_id).first()
    if job is None:
        raise NotFound(_("no such job"), field="job_id")
    return job


@router.get("/jobs", response={200: page_schema(JobOut), **ERRORS})
def list_jobs(request: HttpRequest, p: Query[PageIn]) -> Any:
    return page(selectors.jobs(request.user).order_by("-id"), p, JobOut.of)


@router.get("/jobs/{job_id}", response={200: JobOut, **ERRORS})
def get_job(request: HttpRequest, job_id: Path[Id]) -> Any:
    return JobOut.of(_get(request, job_id))


@router.post("/jobs/{job_id}/retry", response={200: JobOut, **ERRORS})
def retry_job(request: HttpRequest, job_id: Path[Id]) -> Any:
    job = _get(request, job_id)
    runner.retry(job.pk, request.user)
    return JobOut.of(_get(request, job_id))
