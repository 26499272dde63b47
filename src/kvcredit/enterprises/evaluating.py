"""Turning engine results into stored evaluations and credit limits (called by services only)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from functools import lru_cache
from typing import Any

from kvcredit.enterprises.models import (
    CreditLine,
    DataSubmission,
    Enterprise,
    Evaluation,
    PublishedPolicy,
)
from kvcredit.money import yuan_to_fen
from kvcredit.scoring import Policy
from kvcredit.scoring.policy import parse_policy


@lru_cache(maxsize=16)
def _compiled(content_hash: str, source: str) -> Policy:
    return parse_policy(source, content_hash[:12])


def compiled_policy(published: PublishedPolicy) -> Policy:
    """The engine's policy for a published row (parsed once per process)."""
    return _compiled(published.content_hash, published.source_toml)


def valid_until(start: dt.date) -> dt.date:
    """One year after ``start`` (29 February maps to 1 March)."""
    try:
        return start.replace(year=start.year + 1)
    except ValueError:
        return start.replace(year=start.year + 1, month=3, day=1)


def new_evaluation(
    *,
    enterprise: Enterprise,
    submission: DataSubmission,
    published: PublishedPolicy,
    eligible: bool,
    score: Decimal,
    grade: str | None,
    credit_limit: Decimal | None,
    explanation: dict[str, Any],
    now: dt.datetime,
    today: dt.date,
) -> Evaluation:
    """An unsaved Evaluation row (bulk-created by the batch path, saved by the single one)."""
    return Evaluation(
        enterprise=enterprise,
        submission=submission,
        policy=published,
        policy_code=published.policy_id,
        policy_version=published.version,
        policy_hash=published.content_hash,
        eligible=eligible,
        score=format(score.normalize() + 0, "f")[:64],
        grade=grade,
        limit_fen=yuan_to_fen(credit_limit) if eligible and credit_limit is not None else 0,
        explanation=explanation,
        evaluated_at=now,
        valid_from=today,
        valid_until=valid_until(today),
    )


def apply_limit(line: CreditLine, evaluation: Evaluation, now: dt.datetime) -> dict[str, Any]:
    """Set the credit line's limit from an evaluation; returns the before-state for the audit."""
    before = credit_state(line)
    line.evaluation = evaluation
    line.limit_fen = evaluation.limit_fen
    line.valid_until = evaluation.valid_until
    line.updated_at = now
    return before


def credit_state(line: CreditLine) -> dict[str, Any]:
    return {
        "limit_fen": line.limit_fen,
        "reserved_fen": line.reserved_fen,
        "used_fen": line.used_fen,
        "valid_until": line.valid_until,
    }
