"""Benchmark: ``kvcredit evaluate`` of a Parquet file end to end, wall time and peak memory.

Synthesises the input once with the documented command

    kvcredit synth enterprises N --seed 1 --out DIR/enterprises.parquet

then runs, --repeat times,

    kvcredit evaluate DIR/enterprises.parquet --out DIR/out.parquet

and reports the median wall time and the peak resident memory of each run (the child's own
``ru_maxrss`` from ``os.wait4``, so nothing else is counted). Targets for 1,000,000 rows: under
15 s and under 2 GB. Exits non-zero only when a command fails, never on a missed target.

    python bench/evaluate_cli.py [--rows 1000000] [--repeat 3] [--policy chongqing-kvc]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_SECONDS = 15.0
TARGET_BYTES = 2 * 1024**3


def kvcredit_command() -> list[str]:
    """The installed console script next to this interpreter, else the one on PATH."""
    local = Path(sys.executable).with_name("kvcredit")
    if local.exists():
        return [str(local)]
    found = shutil.which("kvcredit")
    if found:
        return [found]
    raise SystemExit("kvcredit is not installed: run `make install` (or pip install -e .)")


def run(cmd: list[str]) -> tuple[float, int]:
    """(wall seconds, peak RSS bytes) of one command; raises on a non-zero exit."""
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    if proc.stderr:
        proc.stderr.close()
    if proc.returncode != 0:
        tail = "\n".join(err.strip().splitlines()[-15:])
        raise RuntimeError(f"exit {proc.returncode}: {' '.join(cmd)}\n{tail}")
    return wall, usage.ru_maxrss * 1024  # ru_maxrss is in KiB on Linux


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--repeat", type=int, default=3, help="timed runs of evaluate (median)")
    ap.add_argument("--policy", default=None, help="policy id or path (default: the CLI's)")
    ap.add_argument("--dir", type=Path, default=None, help="work folder (default: a temp one)")
    args = ap.parse_args(argv)
    kv = kvcredit_command()
    work = args.dir or Path(tempfile.mkdtemp(prefix="kvcredit-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    src, out = work / "enterprises.parquet", work / "out.parquet"
    try:
        synth = [*kv, "synth", "enterprises", str(args.rows), "--seed", "1", "--out", str(src)]
        wall, rss = run(synth)
        size = src.stat().st_size / 1024**2
        print(
            f"synth {args.rows:,} rows: {wall:.1f} s, peak {rss / 1024**2:,.0f} MiB, "
            f"{size:,.1f} MiB Parquet"
        )
        evaluate = [*kv, "evaluate", str(src), "--out", str(out)]
        if args.policy:
            evaluate += ["--policy", args.policy]
        runs = [run(evaluate) for _ in range(args.repeat)]
    except RuntimeError as exc:
        print(f"ERROR: {exc}", file=sys.stderr)
        return 2
    finally:
        if args.dir is None:
            shutil.rmtree(work, ignore_errors=True)
    walls = [w for w, _ in runs]
    peak = max(r for _, r in runs)
    median = statistics.median(walls)
    print(f"evaluate {args.rows:,} rows Parquet -> Parquet ({args.policy or 'default policy'}):")
    print(
        f"  wall s per run: {', '.join(f'{w:.2f}' for w in walls)}; median {median:.2f} s "
        f"({args.rows / median:,.0f} rows/s end to end)"
    )
    print(f"  peak RSS: {peak / 1024**2:,.0f} MiB (max over runs)")
    if args.rows == 1_000_000:
        ok_t, ok_m = median < TARGET_SECONDS, peak < TARGET_BYTES
        print(
            f"target {'met' if ok_t else 'MISSED'}: under {TARGET_SECONDS:.0f} s ({median:.2f} s)"
        )
        print(f"target {'met' if ok_m else 'MISSED'}: under 2 GB ({peak / 1024**3:.2f} GiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
