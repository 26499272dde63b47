"""Benchmark: in-process evaluation throughput against the per-row path and optbinning.

Generates N synthetic enterprises once (``kvcredit.scoring.synth``, fixed seed), then for each
shipped policy measures, in the same run:

* the vectorised path ``evaluate_frame`` on all N rows (median of --repeat runs after a warm-up);
* the per-row path ``evaluate_record(..., explain=False)`` on a sample, extrapolated to rows/s,
  and checks that it agrees with the vectorised path on that sample;
* the peer: optbinning's ``Scorecard.score`` applying a 10-variable points table to the same N
  rows. The scorecard is fitted (not timed) on a subset with ``user_splits`` fixed to the bands
  of ``chongqing-kvc`` (lower edges inclusive in both: optbinning bins with
  ``np.digitize(right=False)``), so it bins the same values into comparable bands and sums
  points. Only ``score(X)`` is timed; the 10 features are computed beforehand (an advantage for
  the peer: our timing includes deriving the ratios from raw fields).

Prints one table and "target met / missed" lines. Exits non-zero only on errors (including a
disagreement between the two paths), never on a missed target.

    python bench/evaluate.py [--rows 1000000] [--repeat 5] [--sample 20000]
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import statistics
import sys
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from kvcredit.scoring import builtin_policy_ids, load_policy
from kvcredit.scoring.engine import evaluate_record
from kvcredit.scoring.policy import Policy
from kvcredit.scoring.synth import generate
from kvcredit.scoring.vector import evaluate_frame

TARGET_POLICY = "chongqing-kvc"
TARGET_ROWS_PER_S = 2_000_000
SEED = 20170101

# The peer's 10 variables and their band edges (lower edges, inclusive), taken from the
# chongqing-kvc policy (plus the national technology-staff bands and the doctorate ladder).
PEER_SPLITS: dict[str, list[float]] = {
    "ip_class1": [1, 3, 5],
    "ip_class2": [1, 2, 5, 10],
    "rd_revenue_ratio": [0.01, 0.03, 0.04, 0.06, 0.10],
    "rd_cost_ratio": [0.05, 0.10, 0.15, 0.20, 0.30],
    "rd_expense": [300_000, 1_000_000, 2_000_000, 5_000_000, 10_000_000],
    "tech_staff_ratio": [0.10, 0.15, 0.20, 0.25, 0.30, 0.50],
    "revenue": [1_000_000, 5_000_000, 10_000_000, 20_000_000, 50_000_000],
    "revenue_growth": [0.0, 0.05, 0.15, 0.30],
    "tax_paid": [50_000, 300_000, 1_000_000, 2_000_000],
    "doctorate_staff": [1, 3],
}


@dataclass
class Row:
    policy: str
    ours: float
    one_thread: float
    per_row: float
    peer: float | None


def median_rate(fn: Callable[[], Any], rows: int, repeat: int, warmup: int = 1) -> float:
    """Median rows/s of ``repeat`` timed calls after ``warmup`` untimed ones."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeat):
        gc.collect()
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return rows / statistics.median(times)


def interleaved_rates(
    contenders: dict[str, Callable[[], Any]], rows: int, repeat: int
) -> dict[str, float]:
    """Median rows/s of each contender over ``repeat`` rounds (one warm-up round first)."""
    for fn in contenders.values():
        fn()
    times: dict[str, list[float]] = {key: [] for key in contenders}
    for _ in range(repeat):
        for key, fn in contenders.items():
            gc.collect()
            start = time.perf_counter()
            fn()
            times[key].append(time.perf_counter() - start)
    return {key: rows / statistics.median(t) for key, t in times.items()}


# -- the per-row path -----------------------------------------------------------------------
def check_paths_agree(policy: Policy, frame: pl.DataFrame, records: list[dict[str, Any]]) -> int:
    """Number of rows of the sample where the per-row and vectorised paths disagree."""
    vec = evaluate_frame(policy, frame.head(len(records))).to_dicts()
    bad = 0
    for rec, v in zip(records, vec, strict=True):
        e = evaluate_record(policy, rec, explain=False)
        same = (
            e.eligible == v["eligible"]
            and e.score == v["score"]
            and e.grade == v["grade"]
            and e.credit_limit == v["credit_limit"]
            and e.qualified_by == v["qualified_by"]
            and ",".join(e.knocked_out_by) == v["knocked_out_by"]
        )
        bad += not same
    return bad


def per_row_rate(policy: Policy, records: list[dict[str, Any]], repeat: int) -> float:
    def run() -> None:
        for rec in records:
            evaluate_record(policy, rec, explain=False)

    return median_rate(run, len(records), repeat, warmup=0)


# -- the peer: optbinning -------------------------------------------------------------------
def peer_features(frame: pl.DataFrame) -> Any:
    """The 10 peer variables as a pandas frame (yuan and ratios as floats; x/0 is missing)."""

    def yuan(name: str) -> pl.Expr:
        return pl.col(name).cast(pl.Float64) / 100

    def ratio(num: pl.Expr, den: pl.Expr) -> pl.Expr:
        return pl.when(den != 0).then(num / den).otherwise(None)

    out = frame.select(
        (pl.col("ip_invention") + pl.col("ip_ic_layout") + pl.col("ip_other_class1"))
        .cast(pl.Float64)
        .alias("ip_class1"),
        (pl.col("ip_utility_model") + pl.col("ip_design") + pl.col("ip_software_copyright"))
        .cast(pl.Float64)
        .alias("ip_class2"),
        ratio(yuan("rd_expense"), yuan("revenue")).alias("rd_revenue_ratio"),
        ratio(yuan("rd_expense"), yuan("total_costs")).alias("rd_cost_ratio"),
        yuan("rd_expense").alias("rd_expense"),
        ratio(pl.col("tech_staff").cast(pl.Float64), pl.col("total_staff").cast(pl.Float64)).alias(
            "tech_staff_ratio"
        ),
        yuan("revenue").alias("revenue"),
        ratio(yuan("revenue") - yuan("revenue_prev"), yuan("revenue_prev")).alias("revenue_growth"),
        yuan("tax_paid").alias("tax_paid"),
        pl.col("doctorate_staff").cast(pl.Float64).alias("doctorate_staff"),
    )
    return out.to_pandas()


def fit_peer(features: Any, fit_rows: int, seed: int) -> Any:
    """Fit an optbinning Scorecard whose bins are exactly PEER_SPLITS (fit is not timed)."""
    from optbinning import BinningProcess, Scorecard
    from sklearn.linear_model import LogisticRegression

    train = features.iloc[:fit_rows]
    # A synthetic "good" outcome that rises with every variable, so each bin gets points.
    rng = np.random.default_rng(seed)
    z = sum(
        np.nan_to_num(np.digitize(train[name].to_numpy(), splits) / len(splits))
        for name, splits in PEER_SPLITS.items()
    )
    y = (rng.random(len(train)) < 1 / (1 + np.exp(-(z - 3.0)))).astype(int)
    params = {
        name: {
            "user_splits": splits,
            "user_splits_fixed": [True] * len(splits),
            "monotonic_trend": None,  # keep every band, as a points table does
        }
        for name, splits in PEER_SPLITS.items()
    }
    process = BinningProcess(list(PEER_SPLITS), binning_fit_params=params)
    card = Scorecard(
        binning_process=process,
        estimator=LogisticRegression(max_iter=1000),
        scaling_method="min_max",
        scaling_method_params={"min": 0, "max": 100},
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        card.fit(train, y)
    for name, splits in PEER_SPLITS.items():
        got = list(card.binning_process_.get_binned_variable(name).splits)
        if len(got) != len(splits) or not np.allclose(got, splits):
            raise RuntimeError(f"optbinning changed the bins of {name}: {got} != {splits}")
    return card


# -- the run --------------------------------------------------------------------------------
def fmt_rate(rate: float | None) -> str:
    return "-" if rate is None else f"{rate:,.0f}"


def fmt_ratio(a: float, b: float | None) -> str:
    return "-" if not b else f"{a / b:.1f}x"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="enterprises to generate")
    ap.add_argument("--repeat", type=int, default=5, help="timed runs per measurement (median)")
    ap.add_argument("--sample", type=int, default=20_000, help="rows for the per-row path")
    ap.add_argument("--sample-repeat", type=int, default=3, help="timed runs of the per-row path")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--policy", action="append", help="policy id or path (default: all shipped)")
    ap.add_argument("--no-peer", action="store_true", help="skip optbinning")
    args = ap.parse_args(argv)
    if args.rows < 1 or args.repeat < 1 or args.sample < 1:
        ap.error("--rows, --repeat and --sample must be positive")

    start = time.perf_counter()
    frame = generate(args.rows, args.seed)
    print(
        f"generated {args.rows:,} enterprises (seed {args.seed}) in "
        f"{time.perf_counter() - start:.1f} s; {args.repeat} timed runs each, medians"
    )
    sample = min(args.sample, args.rows)
    records = frame.head(sample).to_dicts()

    # Every fast contender runs once per round, rounds interleaved, so that load from other
    # processes on a shared machine falls on all of them alike; each rate is a median.
    contenders: dict[str, Callable[[], Any]] = {}
    if not args.no_peer:
        features = peer_features(frame)
        card = fit_peer(features, min(100_000, args.rows), args.seed)
        contenders["peer"] = lambda: card.score(features)
        bins = sum(len(s) + 1 for s in PEER_SPLITS.values())
        print(f"optbinning Scorecard.score: 10 variables, {bins} bins, pandas input")

    policies = [load_policy(ref) for ref in args.policy or builtin_policy_ids()]
    for policy in policies:
        bad = check_paths_agree(policy, frame, records)
        if bad:
            print(
                f"ERROR: {policy.id}: per-row and vectorised paths disagree on {bad} of "
                f"{sample} rows",
                file=sys.stderr,
            )
            return 2
        contenders[f"{policy.id}:ours"] = lambda p=policy: evaluate_frame(p, frame)
        contenders[f"{policy.id}:one"] = lambda p=policy: evaluate_frame(
            p, frame, chunk_rows=frame.height
        )
    rates = interleaved_rates(contenders, args.rows, args.repeat)

    rows: list[Row] = []
    for policy in policies:
        slow = per_row_rate(policy, records, args.sample_repeat)
        rows.append(
            Row(
                policy.id,
                rates[f"{policy.id}:ours"],
                rates[f"{policy.id}:one"],
                slow,
                rates.get("peer"),
            )
        )

    header = (
        "policy",
        "ours rows/s",
        "ours 1 thread",
        "per-row rows/s",
        "optbinning rows/s",
        "ours/optbinning",
        "ours/per-row",
    )
    table = [header] + [
        (
            r.policy,
            fmt_rate(r.ours),
            fmt_rate(r.one_thread),
            fmt_rate(r.per_row),
            fmt_rate(r.peer),
            fmt_ratio(r.ours, r.peer),
            fmt_ratio(r.ours, r.per_row),
        )
        for r in rows
    ]
    widths = [max(len(line[i]) for line in table) for i in range(len(header))]
    print()
    for k, line in enumerate(table):
        cells = [
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        ]
        print("  ".join(cells))
        if k == 0:
            print("  ".join("-" * w for w in widths))
    print(
        f"\nours: evaluate_frame, chunks on {os.cpu_count()} threads; '1 thread': one chunk. "
        "optbinning scores on one thread."
    )
    print(f"per-row path: {sample:,}-row sample, agrees with the vectorised path on every row")
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak_mib:,.0f} MiB\n")

    for r in rows:
        if r.policy == TARGET_POLICY:
            met = r.ours >= TARGET_ROWS_PER_S
            print(
                f"target {'met' if met else 'MISSED'}: {r.policy} >= "
                f"{TARGET_ROWS_PER_S:,} enterprises/s in-process ({r.ours:,.0f})"
            )
        if r.peer is not None:
            met = r.ours > r.peer
            print(
                f"target {'met' if met else 'MISSED'}: {r.policy} ahead of optbinning "
                f"({r.ours / r.peer:.2f}x)"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
