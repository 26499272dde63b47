"""Check a candidate policy and preview it against the current one on registered enterprises.

A read: nothing is stored. Both policies evaluate the latest data submission of every
enterprise the acting user may see (the administrator: all), through the vectorised path, the
same way publishing re-evaluates; the result is the grade migration matrix and the change in
total credit (``kvcredit.scoring.report.migration``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl
from django.utils.translation import get_language, gettext_noop

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.enterprises import selectors
from kvcredit.enterprises.evaluating import compiled_policy
from kvcredit.errors import PolicyError
from kvcredit.scoring.fields import FIELDS, Field, Kind, is_textual
from kvcredit.scoring.policy import Policy, parse_policy
from kvcredit.scoring.policy_text import zh_of
from kvcredit.scoring.records import blank_value
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
        zh = (get_language() or "").lower().startswith("zh")
        return None, [(path or "<policy>", zh_of(m) if zh else m) for path, m in exc.problems]


def latest_data(user: Any, declared: Sequence[Field] = ()) -> pl.DataFrame:
    """The latest submission of each enterprise visible to ``user``, in internal units, with
    the ``declared`` fields (their default where a submission lacks one): the rows publishing
    re-evaluates (``policies.run_job``), one per enterprise."""
    subs = selectors.submissions(user)
    latest = selectors.latest_submission_ids(subs)
    found = subs.filter(id__in=list(latest)).order_by("id").values_list("data", "extra")
    rows = [{**data, **(extra or {})} for data, extra in found]
    schema = {f.name: pl.String if f.kind is Kind.TEXT else pl.Int64 for f in FIELDS}
    blank: dict[str, Any] = {k: "" if t == pl.String else 0 for k, t in schema.items()}
    for f in declared:
        schema[f.name] = pl.String if is_textual(f) else pl.Int64
        blank[f.name] = blank_value(f)
    return pl.DataFrame([{k: r.get(k, blank[k]) for k in schema} for r in rows], schema=schema)


def preview_policy(user: Any, source_toml: str) -> Preview:
    """Check ``source_toml``; when valid, compare it with the policy in force."""
    require(user, OrgKind.ADMINISTRATOR, action=gettext_noop("preview policies"))
    candidate, problems = check_policy(source_toml)
    if candidate is None:
        return Preview(candidate=None, problems=problems)
    published = selectors.current_policy()
    current = compiled_policy(published) if published is not None else None
    declared = {f.name: f for p in (current, candidate) if p is not None for f in p.declared}
    frame = latest_data(user, tuple(declared.values()))
    today = clock.today()
    new = evaluate_frame(candidate, frame, on=today)
    summary = summarize(candidate, new, rows_read=frame.height, rejected=0)
    if current is None:
        return Preview(candidate, [], None, frame.height, summary)
    old = evaluate_frame(current, frame, on=today)
    moved = migration(current, old, candidate, new)
    return Preview(candidate, [], current, frame.height, summary, moved)
