"""Benchmark the lending domain: exact schedules vs numpy-financial, and one end-of-day pass.

    .venv/bin/python bench/lending.py [--loans 1000000] [--repeat 5]

Prints, for 1,000,000 twelve-month equal-instalment loans, the time to build exact (to the fen)
schedules with kvcredit and to compute the same schedules in floating point with
numpy-financial's vectorised pmt/ipmt/ppmt, measured in the same run, and their ratio; then the
time of one in-process end-of-day pass over the same number of active loans. Medians of
``--repeat`` runs. Targets (issue 4): schedules under 2 s and faster than numpy-financial;
end of day under 5 s in-process.
"""

from __future__ import annotations

import argparse
import datetime as dt
import statistics
import time
from collections.abc import Callable

import numpy as np
import numpy_financial as npf

from kvcredit.lending.domain.aging import ClassificationRules, penalty_rate_units
from kvcredit.lending.domain.eod import new_book, run_day
from kvcredit.lending.domain.schedule import Method, build_schedules


def median_time(fn: Callable[[], object], repeat: int) -> float:
    fn()  # warm-up
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--loans", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    n = args.loans
    rng = np.random.default_rng(2017)
    principal = rng.integers(10_000_000, 500_000_001, n)  # 100,000 to 5,000,000 yuan
    rate = rng.choice([4_350_000, 3_450_000, 3_100_000, 3_000_000], n)
    start = np.datetime64("2025-01-01") + rng.integers(0, 365, n)

    def ours() -> object:
        return build_schedules(
            principal_fen=principal,
            rate=rate,
            start=start,
            term_months=12,
            method=Method.EQUAL_INSTALMENT,
        )

    per = np.arange(1, 13)[None, :]
    monthly = (rate / 1e8 / 12)[:, None]

    def peer() -> object:
        pmt = npf.pmt(monthly[:, 0], 12, -principal)
        ipmt = npf.ipmt(monthly, per, 12, -principal[:, None])
        ppmt = npf.ppmt(monthly, per, 12, -principal[:, None])
        return pmt, ipmt, ppmt

    t_ours, t_peer = median_time(ours, args.repeat), median_time(peer, args.repeat)
    print(f"schedules for {n:,} twelve-month equal-instalment loans (median of {args.repeat}):")
    print(f"  kvcredit exact to the fen   {t_ours:7.3f} s   {n / t_ours:12,.0f} loans/s")
    print(f"  numpy-financial (float64)   {t_peer:7.3f} s   {n / t_peer:12,.0f} loans/s")
    print(f"  ratio kvcredit / numpy-financial speed: {t_peer / t_ours:.2f}x")
    print(
        f"  target < 2 s and faster than numpy-financial: "
        f"{'met' if t_ours < 2 and t_ours < t_peer else 'MISSED'}"
    )

    sched = build_schedules(
        principal_fen=principal,
        rate=rate,
        start=np.full(n, np.datetime64("2025-01-10")),
        term_months=12,
        method=Method.MONTHLY_INTEREST,
    )
    book = new_book(
        due_dates=sched.due_dates,
        sched_principal=np.ascontiguousarray(sched.principal),
        rate=rate,
        monthly_rate_interest=np.zeros(n, dtype=bool),
        grace_days=np.full(n, 3),
        penalty_rate=penalty_rate_units(4_350_000) + 0 * rate,
        start=dt.date(2025, 1, 10),
    )
    rules = ClassificationRules()
    for d in range(31):  # age the book to the day before the first due date
        book = run_day(book, as_of=dt.date(2025, 1, 10) + dt.timedelta(days=d), rules=rules).book
    due_day = dt.date(2025, 2, 10)
    t_eod = median_time(lambda: run_day(book, as_of=due_day, rules=rules), args.repeat)
    print(f"end of day over {n:,} active loans, in-process (the day an instalment falls due):")
    print(
        f"  {t_eod:7.3f} s   {n / t_eod:12,.0f} loans/s   target < 5 s: "
        f"{'met' if t_eod < 5 else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
