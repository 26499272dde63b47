"""API throughput against `kvcredit serve` on PostgreSQL, with pgbench as the ceiling.

    python bench/api.py [--seconds 15] [--clients 32] [--workers 2xcores+1] [--threads 2] [--runs 3]

Makes two fresh databases on the server named by KVCREDIT_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), runs `kvcredit init` and `kvcredit serve`,
then, with 32 concurrent clients on loopback: reading one credit line (GET) and submitting
enterprise data (POST: validation, evaluation, versioned insert, credit line, audit chain).
In the same run, pgbench's built-in TPC-B-like and select-only scripts on the same server, same
client count. Prints requests per second, p50/p99 latency and our throughput as a share of
pgbench's (the median of ``--runs`` rounds; each round measures both sides).

The load generator is `wrk` (Debian: ``apt-get install wrk``), C with a Lua script per
scenario, so the client takes little of the CPU the server and PostgreSQL share on a small
machine (a Python client on the same cores measured the client, not the server). Only loopback
traffic; every loop is bounded in time.
"""

from __future__ import annotations

import argparse
import json
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

# wrk calls request() for every request and done() once; done() prints one JSON line with the
# exact p50/p99 (microseconds), the count and the errors (non-2xx, socket errors, timeouts).
LUA_COMMON = """
wrk.headers["Authorization"] = "Bearer %(token)s"
wrk.headers["Content-Type"] = "application/json"
local n = 0
local requests = {}
%(requests)s
local count = #requests
request = function()
  n = n + 1
  return requests[(n * 7919) %% count + 1]
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %%d, "duration_us": %%d, "p50_us": %%d, "p99_us": %%d, "errors": %%d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
    e.status + e.connect + e.read + e.write + e.timeout))
end
"""


def _db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _recreate(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def _drop(name: str) -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


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


def _setup(base: str, token: str, n: int) -> tuple[list[int], list[int]]:
    """n enterprises with one submission each (not timed)."""
    from kvcredit.scoring.fields import uscc_check_char

    h = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=base, headers=h, timeout=30) as c:
        districts = c.get("/api/v1/districts?limit=5").json()["items"]
        ids = []
        for i in range(n):
            first = f"91500000MA6B{i:05d}"
            body = {
                "uscc": first + uscc_check_char(first),
                "name": f"基准企业{i}",
                "district_id": districts[i % len(districts)]["id"],
            }
            r = c.post("/api/v1/enterprises", json=body)
            r.raise_for_status()
            ids.append(r.json()["id"])
            r = c.post(
                f"/api/v1/enterprises/{ids[-1]}/submissions",
                json={"year": 2024, "data": _values(i)},
            )
            r.raise_for_status()
        lines = c.get("/api/v1/credit-lines?limit=500").json()["items"]
    return [line["id"] for line in lines], ids


def _lua(tmp: Path, name: str, token: str, requests: list[tuple[str, str, Any]]) -> Path:
    def lua_str(s: str) -> str:
        return "[==[" + s + "]==]"

    lines = [
        f"requests[{i + 1}] = wrk.format({lua_str(m)}, {lua_str(p)}, nil, "
        f"{lua_str(json.dumps(b, ensure_ascii=False)) if b is not None else 'nil'})"
        for i, (m, p, b) in enumerate(requests)
    ]
    path = tmp / f"{name}.lua"
    path.write_text(LUA_COMMON % {"token": token, "requests": "\n".join(lines)}, "utf-8")
    return path


def _wrk(base: str, script: Path, clients: int, seconds: float) -> dict[str, Any]:
    args = ["wrk", "-t", "2", "-c", str(clients), "-d", f"{seconds:.0f}s", "--timeout", "30s"]
    out = subprocess.run(
        [*args, "-s", str(script), base], capture_output=True, text=True, check=True
    ).stdout
    m = re.search(r"^\{.*\}$", out, re.MULTILINE)
    if m is None:
        raise SystemExit(f"cannot read wrk output:\n{out}")
    r = json.loads(m.group(0))
    return {
        "rps": r["requests"] / (r["duration_us"] / 1e6),
        "p50_ms": r["p50_us"] / 1000,
        "p99_ms": r["p99_us"] / 1000,
        "n": r["requests"],
        "errors": r["errors"],
    }


def _pg_args() -> list[str]:
    info = psycopg.conninfo.conninfo_to_dict(_db_url(PGBENCH_DB))
    return [
        "-h",
        str(info.get("host", "127.0.0.1")),
        "-p",
        str(info.get("port", 5432)),
        "-U",
        str(info.get("user", "postgres")),
    ]


def _pgbench(clients: int, seconds: int, select_only: bool) -> float:
    args = ["pgbench", *_pg_args(), "-c", str(clients), "-j", "2", "-T", str(seconds), "-n"]
    args += ["-S"] if select_only else []
    out = subprocess.run([*args, PGBENCH_DB], capture_output=True, text=True, check=True).stdout
    m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", out)
    if m is None:
        raise SystemExit(f"cannot read pgbench output:\n{out}")
    return float(m.group(1))


def _start_server(env: dict[str, str], port: int, workers: int, threads: int) -> Any:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", "serve"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", str(threads)]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 180  # collectstatic and imports are slow on a busy machine
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=5)
            return server
        except httpx.TransportError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("kvcredit serve did not start")


def _median(runs: list[dict[str, Any]]) -> dict[str, Any]:
    keys = ("rps", "p50_ms", "p99_ms", "errors")
    return {k: statistics.median(r[k] for r in runs) for k in keys}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--enterprises", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3, help="rounds; medians are printed")
    a = ap.parse_args()
    for tool, pkg in (("pgbench", "postgresql-contrib / postgresql-15"), ("wrk", "wrk")):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is not installed (Debian: apt-get install {pkg})")
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
    add = ("user", "add", "bench", "--role", "administrator", "--password-stdin")
    _kvcredit(env, *add, stdin=PASSWORD + "\n")
    token = _kvcredit(env, "user", "token", "bench").strip()
    subprocess.run(
        ["pgbench", *_pg_args(), "-i", "-s", "10", "-q", PGBENCH_DB],
        capture_output=True,
        check=True,
    )
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = _start_server(env, port, a.workers, a.threads)
    rng = random.Random(7)
    rounds: dict[str, list[dict[str, Any]]] = {"read": [], "write": []}
    peers: dict[str, list[float]] = {"select": [], "tpcb": []}
    try:
        lines, ents = _setup(base, token, a.enterprises)
        read = _lua(tmp, "read", token, [("GET", f"/api/v1/credit-lines/{i}", None) for i in lines])
        bodies = [
            (
                "POST",
                f"/api/v1/enterprises/{rng.choice(ents)}/submissions",
                {"year": 2025, "data": _values(rng.randint(0, 10**6))},
            )
            for _ in range(500)
        ]
        write = _lua(tmp, "write", token, bodies)
        for _ in range(a.runs):
            rounds["read"].append(_wrk(base, read, a.clients, a.seconds))
            rounds["write"].append(_wrk(base, write, a.clients, a.seconds))
            peers["select"].append(_pgbench(a.clients, int(a.seconds), select_only=True))
            peers["tpcb"].append(_pgbench(a.clients, int(a.seconds), select_only=False))
    finally:
        server.terminate()
        server.wait(timeout=30)
    _report(a, {k: _median(v) for k, v in rounds.items()}, peers)
    _drop(APP_DB)
    _drop(PGBENCH_DB)
    shutil.rmtree(tmp, ignore_errors=True)


def _report(a: Any, r: dict[str, dict[str, Any]], peers: dict[str, list[float]]) -> None:
    tpcb, select = statistics.median(peers["tpcb"]), statistics.median(peers["select"])
    print(
        f"kvcredit serve: {a.workers} gunicorn workers x {a.threads} threads, {a.clients} "
        f"clients (wrk), {a.seconds:.0f} s each, median of {a.runs} rounds, PostgreSQL on "
        f"loopback, {os.cpu_count()} cores"
    )
    print(f"{'scenario':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'ratio':>10}")
    for name, x, peer, peer_name in (
        ("read credit line (GET)", r["read"], select, "select-only"),
        ("submit data + evaluate (POST)", r["write"], tpcb, "TPC-B"),
    ):
        print(
            f"{name:<34}{x['rps']:>10.0f}{x['p50_ms']:>10.1f}{x['p99_ms']:>10.1f}"
            f"{x['errors']:>8.0f}{x['rps'] / peer:>9.1%}  of pgbench {peer_name}"
        )
    print(f"{'pgbench TPC-B-like (tps)':<34}{tpcb:>10.0f}")
    print(f"{'pgbench select-only (tps)':<34}{select:>10.0f}")
    w = r["write"]
    ok = w["rps"] >= 0.10 * tpcb and w["p99_ms"] < 100
    print(f"target (writes >= 10% of TPC-B, p99 < 100 ms): {'met' if ok else 'NOT met'}")


if __name__ == "__main__":
    main()
