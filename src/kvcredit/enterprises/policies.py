"""Publishing an evaluation policy, and re-evaluating every enterprise under it in one batch."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import polars as pl
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.audit import services as audit
from kvcredit.enterprises.evaluating import apply_limit, compiled_policy, new_evaluation
from kvcredit.enterprises.models import CreditLine, DataSubmission, Evaluation, PublishedPolicy
from kvcredit.errors import Conflict, InvalidInput, PolicyError
from kvcredit.scoring import Policy
from kvcredit.scoring.fields import FIELDS, MAX_MONEY_FEN, Kind
from kvcredit.scoring.policy import parse_policy
from kvcredit.scoring.vector import evaluate_frame

Progress = Callable[[int, int], None]
BATCH = 2000


def publish_policy(
    actor: User,
    *,
    source_toml: str,
    progress: Progress | None = None,
    now: dt.datetime | None = None,
) -> PublishedPolicy:
    """Validate, store (immutable) and make current a policy; re-evaluate every enterprise."""
    require(actor, OrgKind.ADMINISTRATOR, action="publish policies")
    now = now or timezone.now()
    try:
        policy = parse_policy(source_toml, "published")
    except PolicyError as exc:
        raise InvalidInput(
            [(f"source_toml.{p}" if p else "source_toml", m) for p, m in exc.problems]
        ) from None
    _check_storable(policy, source_toml)
    with transaction.atomic():
        if PublishedPolicy.objects.filter(policy_id=policy.id, version=policy.version).exists():
            raise Conflict(
                f"policy {policy.id} version {policy.version} is published", field="source_toml"
            )
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
        audit.record(actor, "POLICY_PUBLISH", "policy", published.pk, after=after, now=now)
        n = reevaluate_all(actor, published, progress=progress, now=now)
        PublishedPolicy.objects.filter(pk=published.pk).update(reevaluated=n)
        published.reevaluated = n
    return published


def _check_storable(policy: Policy, source_toml: str) -> None:
    """Refuse what the engine accepts but the records cannot hold exactly."""
    c = policy.compiled
    problems = []
    doc_json = json.dumps(policy.doc.model_dump(mode="json"))
    if "\x00" in source_toml or "\\u0000" in doc_json:
        problems.append(("source_toml", "contains a NUL character"))
    if len(policy.id) > 100:
        problems.append(("source_toml.policy.id", "at most 100 characters"))
    if len(policy.version) > 50:
        problems.append(("source_toml.policy.version", "at most 50 characters"))
    if any(len(g) > 16 for g in c.grade_names):
        problems.append(("source_toml.outcome.grades", "grade names of at most 16 characters"))
    if any(f > MAX_MONEY_FEN for f in c.grade_limit_fen):
        problems.append(("source_toml.outcome.grades", "credit limits above 10^12 yuan"))
    if problems:
        raise InvalidInput(problems)


def _frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {f.name: pl.String if f.kind is Kind.TEXT else pl.Int64 for f in FIELDS}
    return pl.DataFrame(
        [{k: r.get(k, "" if schema[k] == pl.String else 0) for k in schema} for r in rows],
        schema=schema,
    )


def reevaluate_all(
    actor: User, published: PublishedPolicy, *, progress: Progress | None, now: dt.datetime
) -> int:
    """Evaluate the latest submission of every enterprise through the vectorised path."""
    policy = compiled_policy(published)
    latest = (
        DataSubmission.objects.values("enterprise_id")
        .annotate(last=Max("id"))
        .values_list("last", flat=True)
    )
    ids = sorted(latest)
    today = timezone.localdate(now)
    done = 0
    for start in range(0, len(ids), BATCH):
        chunk = list(
            DataSubmission.objects.filter(id__in=ids[start : start + BATCH])
            .select_related("enterprise")
            .order_by("id")
        )
        result = evaluate_frame(policy, _frame([s.data for s in chunk]), explain=True)
        _store_batch(chunk, result, published, now, today)
        done += len(chunk)
        if progress:
            progress(done, len(ids))
    audit.record(
        actor, "POLICY_REEVALUATE", "policy", published.pk, after={"enterprises": done}, now=now
    )
    return done


def _store_batch(
    chunk: list[DataSubmission],
    result: pl.DataFrame,
    published: PublishedPolicy,
    now: dt.datetime,
    today: dt.date,
) -> None:
    points = [c for c in result.columns if c.startswith("points.")]
    evs = []
    for sub, row in zip(chunk, result.iter_rows(named=True), strict=True):
        explanation = {
            "path": "batch",
            "eligible": row["eligible"],
            "qualified_by": row["qualified_by"],
            "knocked_out_by": [k for k in row["knocked_out_by"].split(",") if k],
            "points": {c.removeprefix("points."): str(row[c]) for c in points},
        }
        limit = row["credit_limit"]
        evs.append(
            new_evaluation(
                enterprise=sub.enterprise,
                submission=sub,
                published=published,
                eligible=bool(row["eligible"]),
                score=Decimal(row["score"]),
                grade=row["grade"],
                credit_limit=Decimal(limit) if limit is not None else None,
                explanation=explanation,
                now=now,
                today=today,
            )
        )
    Evaluation.objects.bulk_create(evs)
    lines = {
        cl.enterprise_id: cl
        for cl in CreditLine.objects.select_for_update().filter(
            enterprise_id__in=[e.enterprise_id for e in evs]
        )
    }
    stored = Evaluation.objects.filter(policy=published, submission__in=chunk)
    for ev in stored:
        apply_limit(lines[ev.enterprise_id], ev, now)
    CreditLine.objects.bulk_update(
        list(lines.values()), ["evaluation", "limit_fen", "valid_until", "updated_at"]
    )
