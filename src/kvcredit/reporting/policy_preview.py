"""Check a candidate policy and preview it against the current one on registered enterprises.

A read: nothing is stored. Both policies evaluate the latest data submission of every
enterprise the acting user may see (the administrator: all), through the vectorised path, the
same way publishing re-evaluates; the result is the grade migration matrix and the change in
total credit (``kvcredit.scoring.report.migration``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import compiled_policy
from kvcredit.errors import PolicyError
from kvcredit.scoring.fields import FIELDS, Kind
from kvcredit.scoring.policy import Policy, parse_policy
from kvcredit.scoring.report import Migration, Summary, migration, summarize
from kvcredit.scoring.vector import evaluate_frame


@dataclass(frozen=True)
class Preview:
    candidate: Policy | None
    problems: list[tuple[str, str]]  # (key path, message); empty when the policy is valid
    current: Policy | None = None
    enterprises: int = 0
    summary: Summary | None = None
    migration: Migration | None = None

    @property
    def ok(self) -> bool:
        return not self.problems


def check_policy(source_toml: str) -> tuple[Policy | None, list[tuple[str, str]]]:
    """The compiled policy, or the problems by key path (``outcome.grades[0].limit``)."""
    try:
        return parse_policy(source_toml, "uploaded"), []
    except PolicyError as exc:
        return None, [(path or "<policy>", message) for path, message in exc.problems]


def latest_data(user: Any) -> pl.DataFrame:
    """The latest submission of each enterprise visible to ``user``, in internal units: the
    rows publishing re-evaluates (``policies.run_job``), one per enterprise."""
    subs = selectors.submissions(user)
    latest = selectors.latest_submission_ids(subs)
    rows = list(subs.filter(id__in=list(latest)).order_by("id").values_list("data", flat=True))
    schema = {f.name: pl.String if f.kind is Kind.TEXT else pl.Int64 for f in FIELDS}
    blank = {k: "" if t == pl.String else 0 for k, t in schema.items()}
    return pl.DataFrame([{k: r.get(k, blank[k]) for k in schema} for r in rows], schema=schema)


def preview_policy(user: Any, source_toml: str) -> Preview:
    """Check ``source_toml``; when valid, compare it with the policy in force."""
    require(user, OrgKind.ADMINISTRATOR, action=gettext_noop("preview policies"))
    candidate, problems = check_policy(source_toml)
    if candidate is None:
        return Preview(candidate=None, problems=problems)
    frame = latest_data(user)
    new = evaluate_frame(candidate, frame)
    summary = summarize(candidate, new, rows_read=frame.height, rejected=0)
    published = selectors.current_policy()
    if published is None:
        return Preview(candidate, [], None, frame.height, summary)
    current = compiled_policy(published)
    old = evaluate_frame(current, frame)
    moved = migration(current, old, candidate, new)
    return Preview(candidate, [], current, frame.height, summary, moved)
