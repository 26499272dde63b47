"""Summaries of evaluation results and the grade migration between two policies (pure).

Outcomes are grade names (best first) then ``NOT_RATED`` for graded policies, or
``QUALIFIED`` / ``NOT_QUALIFIED`` for qualify policies. Credit is summed exactly in fen.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

import polars as pl

from kvcredit.money import yuan_to_fen
from kvcredit.scoring.policy import Policy

NOT_RATED = "not rated 未评级"
QUALIFIED, NOT_QUALIFIED = "qualified", "not qualified"


def outcome_labels(policy: Policy) -> list[str]:
    """Every outcome a row can have under ``policy``, best first."""
    if policy.is_graded:
        return [g.grade for g in policy.doc.outcome.grades or []] + [NOT_RATED]
    return [QUALIFIED, NOT_QUALIFIED]


def outcomes(policy: Policy, results: pl.DataFrame) -> pl.Series:
    """Each result row's outcome label."""
    if policy.is_graded:
        return results.get_column("grade").fill_null(NOT_RATED).alias("outcome")
    eligible = results.get_column("eligible")
    return eligible.replace_strict({True: QUALIFIED, False: NOT_QUALIFIED}).alias("outcome")


def total_credit_fen(results: pl.DataFrame) -> int:
    """Sum of the credit limits, exactly, in fen (0 for a qualify policy)."""
    total = results.get_column("credit_limit").sum() if results.height else None
    return yuan_to_fen(Decimal(total)) if total is not None else 0


@dataclass(frozen=True)
class Summary:
    rows_read: int
    rejected: int
    evaluated: int
    eligible: int
    counts: list[tuple[str, int]]  # outcome label, count, best first
    total_credit_fen: int

    @property
    def share_eligible(self) -> Decimal:
        return Decimal(self.eligible) / self.evaluated if self.evaluated else Decimal(0)


def summarize(policy: Policy, results: pl.DataFrame, rows_read: int, rejected: int) -> Summary:
    counts = outcomes(policy, results).value_counts()
    found = dict(zip(counts.get_column("outcome"), counts.get_column("count"), strict=True))
    return Summary(
        rows_read=rows_read,
        rejected=rejected,
        evaluated=results.height,
        eligible=int(results.get_column("eligible").sum()),
        counts=[(label, int(found.get(label, 0))) for label in outcome_labels(policy)],
        total_credit_fen=total_credit_fen(results),
    )


@dataclass(frozen=True)
class Migration:
    old_labels: list[str]
    new_labels: list[str]
    matrix: pl.DataFrame  # one row per old outcome: "old", then one count column per new one
    up: int
    down: int
    same: int
    old_credit_fen: int
    new_credit_fen: int
    changes: pl.DataFrame  # per enterprise: uscc, name, old/new outcome and limit, moved

    @property
    def credit_change_fen(self) -> int:
        return self.new_credit_fen - self.old_credit_fen


def _ranks(policy: Policy, results: pl.DataFrame) -> pl.Series:
    labels = outcome_labels(policy)
    return outcomes(policy, results).replace_strict({k: i for i, k in enumerate(labels)})


def _moved(old_p: Policy, old: pl.DataFrame, new_p: Policy, new: pl.DataFrame) -> pl.Series:
    """+1 up, -1 down, 0 same: eligibility gained or lost, or a better or worse grade."""
    e_old, e_new = old.get_column("eligible"), new.get_column("eligible")
    r_old, r_new = _ranks(old_p, old), _ranks(new_p, new)
    both_graded = old_p.is_graded and new_p.is_graded
    frame = pl.DataFrame({"eo": e_old, "en": e_new, "ro": r_old, "rn": r_new})
    better = pl.col("en") & (~pl.col("eo") | (pl.col("rn") < pl.col("ro")) & both_graded)
    worse = pl.col("eo") & (~pl.col("en") | (pl.col("rn") > pl.col("ro")) & both_graded)
    moved = pl.when(better).then(1).when(worse).then(-1).otherwise(0)
    return frame.select(moved.alias("moved")).to_series()


def migration(old_p: Policy, old: pl.DataFrame, new_p: Policy, new: pl.DataFrame) -> Migration:
    """Compare the results of two policies on the same enterprises (same row order)."""
    o, n = outcomes(old_p, old), outcomes(new_p, new)
    old_labels, new_labels = outcome_labels(old_p), outcome_labels(new_p)
    pairs = pl.DataFrame({"old": o, "new": n}).group_by("old", "new").len()
    lookup = {(a, b): c for a, b, c in pairs.iter_rows()}
    matrix = pl.DataFrame(
        {"old": old_labels}
        | {b: [int(lookup.get((a, b), 0)) for a in old_labels] for b in new_labels}
    )
    moved = _moved(old_p, old, new_p, new)
    changes = pl.DataFrame(
        {
            "uscc": old.get_column("uscc"),
            "old_outcome": o,
            "new_outcome": n,
            "old_credit_limit": old.get_column("credit_limit"),
            "new_credit_limit": new.get_column("credit_limit"),
            "moved": moved.replace_strict({1: "up", -1: "down", 0: ""}, return_dtype=pl.String),
        }
    )
    return Migration(
        old_labels=old_labels,
        new_labels=new_labels,
        matrix=matrix,
        up=int((moved == 1).sum()),
        down=int((moved == -1).sum()),
        same=int((moved == 0).sum()),
        old_credit_fen=total_credit_fen(old),
        new_credit_fen=total_credit_fen(new),
        changes=changes,
    )
