"""Publishing an evaluation policy, and re-evaluating every enterprise under it in batches.

Publishing stores the policy (immutable; the latest published is the one current) and a
re-evaluation job in one transaction. The job then evaluates the latest submission of every
enterprise through the vectorised path, ``BATCH`` at a time, each batch in its own transaction
that also advances ``job.done``: the progress is visible (``kvcredit policy publish`` draws a bar,
the API answers the job for polling). New submissions meanwhile are evaluated under the new
policy already; a job whose policy is superseded stops; an interrupted job resumes where it
stopped (``run_job``), skipping the credit lines already evaluated under its policy.

The console and the API publish through ``publish_and_queue``: the re-evaluation is a job of
``kvcredit.jobs`` (run by ``kvcredit worker``, resumable after a crash; docs/jobs.md).
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from typing import Any

import polars as pl
from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import get_language, gettext_noop
from django.utils.translation import gettext as _

from kvcredit import clock
from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.bulk import copy_create
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import (
    apply_limit,
    batch_evaluations,
    compiled_policy,
    save_limits,
)
from kvcredit.enterprises.models import (
    CreditLine,
    DataSubmission,
    Evaluation,
    PublishedPolicy,
    ReevaluationJob,
)
from kvcredit.errors import Conflict, InvalidInput, PolicyError
from kvcredit.scoring import Policy
from kvcredit.scoring.fields import FIELDS, MAX_MONEY_FEN, Field, Kind, is_textual
from kvcredit.scoring.policy import parse_policy
from kvcredit.scoring.policy_text import zh_of
from kvcredit.scoring.records import blank_value
from kvcredit.scoring_dask import evaluate_frame

log = logging.getLogger(__name__)
Progress = Callable[[int, int], None]
BATCH = 2000
Status = ReevaluationJob.Status


def publish_policy(
    actor: User,
    *,
    source_toml: str,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> PublishedPolicy:
    """Publish a policy and re-evaluate every enterprise now, in this call (CLI, tests)."""
    published = publish_only(actor, source_toml=source_toml, now=now)
    run_job(actor, published.reevaluation, progress=progress, now=now)
    published.refresh_from_db()
    return published


REEVALUATION_LOCK = "reevaluate:programme"  # one re-evaluation of the programme at a time


def publish_and_queue(actor: User, *, source_toml: str) -> tuple[PublishedPolicy, Any]:
    """Publish a policy and queue its re-evaluation as a job (``kvcredit.jobs``), in one
    transaction; the job's id is where to watch the progress.

    The same file (same id, version and content) published again while its re-evaluation has
    not finished — a worker killed, a restart — is not refused: it resumes that job (a failed
    one is retried, a stale one taken over) where it stopped."""
    from kvcredit.jobs import runner

    unfinished = _unfinished(actor, source_toml)
    if unfinished is not None:
        return unfinished.policy, resume_reevaluation(actor, unfinished)
    with transaction.atomic():
        published = publish_only(actor, source_toml=source_toml)
        rj = published.reevaluation
        job = runner.enqueue(
            "reevaluate",
            actor=actor,
            params={"reevaluation": rj.pk},
            lock_key=REEVALUATION_LOCK,
            total=rj.total,
        )
    published.refresh_from_db()
    return published, job


def _unfinished(actor: User, source_toml: str) -> ReevaluationJob | None:
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("publish policies"))
    try:
        policy = parse_policy(source_toml, "published")
    except PolicyError:
        return None  # publish_only words the problems
    return (
        ReevaluationJob.objects.select_related("policy")
        .filter(
            policy__policy_id=policy.id,
            policy__version=policy.version,
            policy__content_hash=policy.content_hash,
        )
        .exclude(status__in=[Status.DONE, Status.SUPERSEDED])
        .first()
    )


def resume_reevaluation(actor: User, rj: ReevaluationJob) -> Any:
    """The job of an unfinished re-evaluation, queued again if it needs to be."""
    from kvcredit.jobs import runner
    from kvcredit.jobs.models import Job

    job = Job.objects.filter(kind="reevaluate", params__reevaluation=rj.pk).order_by("-id").first()
    if job is None or job.state == Job.State.DONE:
        return runner.enqueue(
            "reevaluate",
            actor=actor,
            params={"reevaluation": rj.pk},
            lock_key=REEVALUATION_LOCK,
            total=rj.total,
        )
    if job.state == Job.State.FAILED:
        return runner.retry(job.pk, actor)
    runner.take_over_stale()
    job.refresh_from_db()
    return job


def publish_only(
    actor: User, *, source_toml: str, now: dt.datetime | None = None
) -> PublishedPolicy:
    """Validate, store (immutable) and make current a policy, with its pending job."""
    require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("publish policies"))
    now = now or timezone.now()
    try:
        policy = parse_policy(source_toml, "published")
    except PolicyError as exc:
        zh = (get_language() or "").lower().startswith("zh")
        raise InvalidInput(
            [
                (f"source_toml.{p}" if p else "source_toml", zh_of(m) if zh else m)
                for p, m in exc.problems
            ]
        ) from None
    _check_storable(policy, source_toml)
    with transaction.atomic():
        if PublishedPolicy.objects.filter(policy_id=policy.id, version=policy.version).exists():
            msg = _("policy %(id)s version %(version)s is published") % {
                "id": policy.id,
                "version": policy.version,
            }
            raise Conflict(msg, field="source_toml")
        published = PublishedPolicy.objects.create(
            policy_id=policy.id,
            version=policy.version,
            title=policy.doc.policy.title[:300],
            content_hash=policy.content_hash,
            source_toml=source_toml,
            published_at=now,
            published_by=actor,
        )
        after = {"policy_id": policy.id, "version": policy.version, "hash": policy.content_hash}
        job = ReevaluationJob.objects.create(
            policy=published,
            total=DataSubmission.objects.values("enterprise_id").distinct().count(),
            created_at=now,
        )
        after |= {"reevaluation_job": job.pk}
        audit.record(actor, "POLICY_PUBLISH", "policy", published.pk, after=after, now=now)
    return published


def _check_storable(policy: Policy, source_toml: str) -> None:
    """Refuse what the engine accepts but the records cannot hold exactly."""
    c = policy.compiled
    problems = []
    doc_json = json.dumps(policy.doc.model_dump(mode="json"))
    if "\x00" in source_toml or "\\u0000" in doc_json:
        problems.append(("source_toml", _("contains a NUL character")))
    if len(policy.id) > 100:
        problems.append(("source_toml.policy.id", _("at most 100 characters")))
    if len(policy.version) > 50:
        problems.append(("source_toml.policy.version", _("at most 50 characters")))
    if any(len(g) > 16 for g in c.grade_names):
        problems.append(("source_toml.outcome.grades", _("grade names of at most 16 characters")))
    if any(f > MAX_MONEY_FEN for f in c.grade_limit_fen):
        problems.append(("source_toml.outcome.grades", _("credit limits above 10^12 yuan")))
    if problems:
        raise InvalidInput(problems)


def _frame(rows: list[dict[str, Any]], declared: tuple[Field, ...] = ()) -> pl.DataFrame:
    """Stored records as a frame; a declared field a record lacks reads as its default."""
    fields = (*FIELDS, *declared)
    schema = {f.name: pl.String if is_textual(f) else pl.Int64 for f in fields}
    blank = {f.name: "" if f.kind is Kind.TEXT else 0 for f in FIELDS}
    blank |= {f.name: blank_value(f) for f in declared}
    return pl.DataFrame(
        [{k: r.get(k, blank[k]) for k in schema} for r in rows],
        schema=schema,
    )


def _missing(
    chunk: list[DataSubmission], evs: list[Evaluation], declared: tuple[Field, ...]
) -> dict[str, dict[str, Any]]:
    """For each declared field some submissions lack: how many, and the outcomes they got
    (scored with the field's default): {field: {"missing": n, "outcomes": {outcome: n}}}."""
    out: dict[str, dict[str, Any]] = {}
    for sub, ev in zip(chunk, evs, strict=True):
        outcome = ev.grade or ("QUALIFIED" if ev.eligible else "NOT_ELIGIBLE")
        for f in declared:
            if f.name not in (sub.extra or {}):
                entry = out.setdefault(f.name, {"missing": 0, "outcomes": {}})
                entry["missing"] += 1
                entry["outcomes"][outcome] = entry["outcomes"].get(outcome, 0) + 1
    return out


def _merge(total: dict[str, dict[str, Any]], part: dict[str, dict[str, Any]]) -> None:
    for name, entry in part.items():
        into = total.setdefault(name, {"missing": 0, "outcomes": {}})
        into["missing"] += entry["missing"]
        for k, n in entry["outcomes"].items():
            into["outcomes"][k] = into["outcomes"].get(k, 0) + n


def _latest_submissions() -> Any:
    """The id of every enterprise's latest submission (a subquery)."""
    return selectors.latest_submission_ids(DataSubmission.objects.all())


def run_job(
    actor: User,
    job: ReevaluationJob,
    *,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
    batch: int = BATCH,
    on_batch: Progress | None = None,
) -> ReevaluationJob:
    """Run (or resume) a re-evaluation job, one committed batch at a time.

    ``on_batch(done, total)`` is called INSIDE each batch's transaction (the job runner's
    checkpoint: the progress commits with the batch's writes, or neither does)."""
    published = job.policy
    policy = compiled_policy(published)
    ids = sorted(_latest_submissions())
    already = set(
        CreditLine.objects.filter(evaluation__policy=published).values_list(
            "evaluation__submission_id", flat=True
        )
    )
    todo = [i for i in ids if i not in already]
    done = len(ids) - len(todo)
    missing: dict[str, dict[str, Any]] = dict(job.missing_fields or {})
    ReevaluationJob.objects.filter(pk=job.pk).update(
        status=Status.RUNNING, total=len(ids), done=done, started_at=timezone.now()
    )
    if on_batch:
        with transaction.atomic():
            on_batch(done, len(ids))
    try:
        for start in range(0, len(todo), batch):
            if selectors.current_policy() != published:
                _finish(job, Status.SUPERSEDED, done)
                return _reload(job)
            count, part = _batch(
                actor,
                published,
                policy,
                todo[start : start + batch],
                job,
                now,
                on_done=(lambda n, d=done: on_batch(d + n, len(ids))) if on_batch else None,
            )
            done += count
            _merge(missing, part)
            if progress:
                progress(done, len(ids))
    except Exception as exc:
        _finish(job, Status.FAILED, done, error=str(exc)[:500])
        raise
    with transaction.atomic():
        PublishedPolicy.objects.filter(pk=published.pk).update(reevaluated=done)
        ReevaluationJob.objects.filter(pk=job.pk).update(missing_fields=missing)
        _finish(job, Status.DONE, done)
        after = {"enterprises": done, "reevaluation_job": job.pk, "missing_fields": missing}
        audit.record(actor, "POLICY_REEVALUATE", "policy", published.pk, after=after, now=now)
    if progress and not ids:
        progress(0, 0)
    return _reload(job)


def _reload(job: ReevaluationJob) -> ReevaluationJob:
    job.refresh_from_db()
    return job


def _finish(job: ReevaluationJob, status: str, done: int, error: str = "") -> None:
    ReevaluationJob.objects.filter(pk=job.pk).update(
        status=status, done=done, finished_at=timezone.now(), error=error
    )


def _batch(
    actor: User,
    published: PublishedPolicy,
    policy: Policy,
    sub_ids: list[int],
    job: ReevaluationJob,
    now: dt.datetime | None,
    on_done: Callable[[int], None] | None = None,
) -> tuple[int, dict[str, dict[str, Any]]]:
    """Evaluate one batch of submissions and set their credit lines; one transaction.

    Returns the number evaluated and the declared fields they lack (``_missing``)."""
    now = now or timezone.now()
    with transaction.atomic():
        chunk = list(
            DataSubmission.objects.filter(id__in=sub_ids)
            .select_related("enterprise")
            .order_by("id")
        )
        today = clock.date_of(now)
        frame = _frame([s.record for s in chunk], policy.declared)
        result = evaluate_frame(
            policy, frame, explain=True, on=today, dask_address=settings.KVCREDIT_DASK_ADDRESS
        )
        evs = batch_evaluations(chunk, result, published, now, today)
        copy_create(Evaluation, evs)
        lines = {
            cl.enterprise_id: cl
            for cl in CreditLine.objects.select_for_update().filter(
                enterprise_id__in=[e.enterprise_id for e in evs]
            )
        }
        for ev in evs:
            apply_limit(lines[ev.enterprise_id], ev, now)
        save_limits(list(lines.values()))
        ReevaluationJob.objects.filter(pk=job.pk).update(done=F("done") + len(chunk))
        after = {
            "reevaluation_job": job.pk,
            "evaluations": [ev.pk for ev in evs],
            "credit_lines": sorted(cl.pk for cl in lines.values()),
        }
        audit.record(actor, "POLICY_REEVALUATE_BATCH", "policy", published.pk, after=after, now=now)
        if on_done:
            on_done(len(chunk))
    return len(chunk), _missing(chunk, evs, policy.declared)
