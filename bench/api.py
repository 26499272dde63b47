"""API throughput against `kvcredit serve` on PostgreSQL, with pgbench as the ceiling.

    python bench/api.py [--seconds 15] [--clients 32] [--workers 4] [--threads 4]

Makes two fresh databases on the server named by KVCREDIT_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), runs `kvcredit init` and `kvcredit serve`,
then, with 32 concurrent clients on loopback: reading one credit line (GET) and submitting
enterprise data (POST: validation, evaluation, versioned insert, credit line, audit chain).
In the same run, pgbench's built-in TPC-B-like and select-only scripts on the same server, same
client count. Prints requests per second, p50/p99 latency and our throughput as a share of
pgbench's. Only loopback traffic; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx
import psycopg

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))
ADMIN_URL = os.environ.get(
    "KVCREDIT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
APP_DB, PGBENCH_DB = "kvcredit_bench_api", "kvcredit_bench_pgbench"
PASSWORD = "bench-password-long-enough-42"


def _db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _recreate(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _kvcredit(env: dict[str, str], *args: str, stdin: str = "") -> str:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", *args]
    r = subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, check=False)
    if r.returncode != 0:
        raise SystemExit(f"kvcredit {' '.join(args)} failed:\n{r.stderr}")
    return r.stdout


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _values(seed: int) -> dict[str, Any]:
    from conftest import strong_values

    rng = random.Random(seed)
    return strong_values(revenue=str(rng.randint(10**6, 10**8)), ip_invention=rng.randint(0, 9))


async def _setup(base: str, token: str, n: int) -> tuple[list[int], list[int]]:
    """n enterprises with one submission each (not timed)."""
    from kvcredit.scoring.fields import uscc_check_char

    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=h, timeout=30) as c:
        districts = (await c.get("/api/v1/districts?limit=5")).json()["items"]
        ids = []
        for i in range(n):
            first = f"91500000MA6B{i:05d}"
            body = {
                "uscc": first + uscc_check_char(first),
                "name": f"基准企业{i}",
                "district_id": districts[i % len(districts)]["id"],
            }
            r = await c.post("/api/v1/enterprises", json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
            r = await c.post(
                f"/api/v1/enterprises/{ids[-1]}/submissions",
                json={"year": 2024, "data": _values(i)},
            )
            r.raise_for_status()
        lines = (await c.get("/api/v1/credit-lines?limit=500")).json()["items"]
    return [line["id"] for line in lines], ids


async def _load(base: str, token: str, clients: int, seconds: float, make: Any) -> dict[str, Any]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    h = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base, headers=h, limits=limits, timeout=30) as c:

        async def worker(k: int) -> None:
            nonlocal errors
            rng = random.Random(k)
            while time.perf_counter() < deadline:
                method, path, body = make(rng)
                t0 = time.perf_counter()
                r = await c.request(method, path, json=body)
                latencies.append(time.perf_counter() - t0)
                if r.status_code >= 400:
                    errors += 1

        start = time.perf_counter()
        await asyncio.gather(*(worker(k) for k in range(clients)))
        elapsed = time.perf_counter() - start
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": statistics.median(latencies) * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99) - 1] * 1000,
        "n": len(latencies),
        "errors": errors,
    }


def _pgbench(clients: int, seconds: int, select_only: bool) -> float:
    info = psycopg.conninfo.conninfo_to_dict(_db_url(PGBENCH_DB))
    args = [
        "pgbench",
        "-h",
        str(info.get("host", "127.0.0.1")),
        "-p",
        str(info.get("port", 5432)),
        "-U",
        str(info.get("user", "postgres")),
        "-c",
        str(clients),
        "-j",
        "2",
        "-T",
        str(seconds),
        "-n",
        *(["-S"] if select_only else []),
        PGBENCH_DB,
    ]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if m is None:
        raise SystemExit(f"cannot read pgbench output:\n{out}")
    return float(m.group(1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--threads", type=int, default=4)
    ap.add_argument("--enterprises", type=int, default=200)
    a = ap.parse_args()
    if shutil.which("pgbench") is None:
        raise SystemExit("pgbench is not installed (Debian: postgresql-contrib / postgresql-15)")
    _recreate(APP_DB)
    _recreate(PGBENCH_DB)
    tmp = Path(tempfile.mkdtemp(prefix="kvcredit-bench-"))
    env = {
        **os.environ,
        "KVCREDIT_DATABASE_URL": _db_url(APP_DB),
        "KVCREDIT_DATA_DIR": str(tmp),
        "KVCREDIT_SECRET_KEY": "bench-" + "k" * 50,
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
    }
    env.pop("KVCREDIT_DEBUG", None)
    _kvcredit(env, "init")
    _kvcredit(
        env,
        "user",
        "add",
        "bench",
        "--role",
        "administrator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    token = _kvcredit(env, "user", "token", "bench").strip()
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "from kvcredit.cli import app; app()",
            "serve",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(a.workers),
            "--threads",
            str(a.threads),
        ],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(300):
            try:
                httpx.get(base + "/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        lines, ents = asyncio.run(_setup(base, token, a.enterprises))
        read = asyncio.run(
            _load(
                base,
                token,
                a.clients,
                a.seconds,
                lambda r: ("GET", f"/api/v1/credit-lines/{r.choice(lines)}", None),
            )
        )
        write = asyncio.run(
            _load(
                base,
                token,
                a.clients,
                a.seconds,
                lambda r: (
                    "POST",
                    f"/api/v1/enterprises/{r.choice(ents)}/submissions",
                    {"year": 2025, "data": _values(r.randint(0, 10**6))},
                ),
            )
        )
    finally:
        server.terminate()
        server.wait(timeout=30)
    info = psycopg.conninfo.conninfo_to_dict(_db_url(PGBENCH_DB))
    subprocess.run(
        [
            "pgbench",
            "-h",
            str(info.get("host", "127.0.0.1")),
            "-U",
            str(info.get("user", "postgres")),
            "-i",
            "-s",
            "10",
            "-q",
            PGBENCH_DB,
        ],
        capture_output=True,
        check=True,
    )
    tpcb = _pgbench(a.clients, int(a.seconds), select_only=False)
    select = _pgbench(a.clients, int(a.seconds), select_only=True)
    print(
        f"kvcredit serve: {a.workers} gunicorn workers x {a.threads} threads, {a.clients} "
        f"clients, {a.seconds:.0f} s each, PostgreSQL on loopback, {os.cpu_count()} cores"
    )
    print(f"{'scenario':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'ratio':>10}")
    for name, r, peer, peer_name in (
        ("read credit line (GET)", read, select, "select-only"),
        ("submit data + evaluate (POST)", write, tpcb, "TPC-B"),
    ):
        print(
            f"{name:<34}{r['rps']:>10.0f}{r['p50_ms']:>10.1f}{r['p99_ms']:>10.1f}"
            f"{r['errors']:>8}{r['rps'] / peer:>9.1%}  of pgbench {peer_name}"
        )
    print(f"{'pgbench TPC-B-like (tps)':<34}{tpcb:>10.0f}")
    print(f"{'pgbench select-only (tps)':<34}{select:>10.0f}")
    ok = write["rps"] >= 0.10 * tpcb and write["p99_ms"] < 100
    print(f"target (writes >= 10% of TPC-B, p99 < 100 ms): {'met' if ok else 'NOT met'}")
    for db in (APP_DB, PGBENCH_DB):
        with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
