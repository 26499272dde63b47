"""API throughput against `kvcredit serve` on PostgreSQL, against the floor of a bare endpoint.

    python bench/api.py [--seconds 15] [--clients 32] [--workers 2xcores+1] [--threads 2] [--runs 3]
                        [--profile DIR]

Makes a fresh database on the server named by KVCREDIT_BENCH_DATABASE_URL (default
postgresql://postgres@127.0.0.1:5432/postgres), runs `kvcredit init` and `kvcredit serve` with
KVCREDIT_BENCH_FLOOR=1, then, with 32 concurrent clients on loopback, in the same run:

- reading one credit line (GET /api/v1/credit-lines/{id}: token, scope, one row);
- submitting enterprise data (POST /api/v1/enterprises/{id}/submissions: token, validation,
  evaluation, versioned insert, credit line, three audit records);
- the floor: a bare django-ninja endpoint on the same server settings (kvcredit.api.bench_floor)
  that inserts one row with one audit record (POST), and reads one row (GET).

Prints requests per second, p50/p99 latency and each scenario's throughput as a share of its
floor's (the median of ``--runs`` rounds; each round measures all four). Target: submissions at
>= 50% of the floor's writes. ``--profile DIR`` also writes a pyinstrument profile (HTML) of
one submission and one floor write, made in process on the same database.

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
APP_DB = os.environ.get("KVCREDIT_BENCH_API_DB", "kvcredit_bench_api")
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


SCENARIOS = (
    ("read", "read credit line (GET)", "floor_read"),
    ("write", "submit data + evaluate (POST)", "floor_write"),
    ("floor_read", "floor: read one row (GET)", None),
    ("floor_write", "floor: insert + audit (POST)", None),
)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=15)
    ap.add_argument("--clients", type=int, default=32)
    ap.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--enterprises", type=int, default=200)
    ap.add_argument("--runs", type=int, default=3, help="rounds; medians are printed")
    ap.add_argument("--profile", type=Path, default=None, help="write pyinstrument HTML here")
    a = ap.parse_args()
    if shutil.which("wrk") is None:
        raise SystemExit("wrk is not installed (Debian: apt-get install wrk)")
    _recreate(APP_DB)
    tmp = Path(tempfile.mkdtemp(prefix="kvcredit-bench-"))
    env = {
        **os.environ,
        "KVCREDIT_DATABASE_URL": _db_url(APP_DB),
        "KVCREDIT_DATA_DIR": str(tmp),
        "KVCREDIT_SECRET_KEY": "bench-" + "k" * 50,
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
        "KVCREDIT_BENCH_FLOOR": "1",
    }
    env.pop("KVCREDIT_DEBUG", None)
    _kvcredit(env, "init")
    add = ("user", "add", "bench", "--role", "administrator", "--password-stdin")
    _kvcredit(env, *add, stdin=PASSWORD + "\n")
    token = _kvcredit(env, "user", "token", "bench").strip()
    port = _port()
    base = f"http://127.0.0.1:{port}"
    server = _start_server(env, port, a.workers, a.threads)
    rng = random.Random(7)
    rounds: dict[str, list[dict[str, Any]]] = {k: [] for k, _, _ in SCENARIOS}
    try:
        lines, ents = _setup(base, token, a.enterprises)
        bodies = [
            (
                "POST",
                f"/api/v1/enterprises/{rng.choice(ents)}/submissions",
                {"year": 2025, "data": _values(rng.randint(0, 10**6))},
            )
            for _ in range(500)
        ]
        floor_rows = _floor_rows(base, bodies[:200])
        scripts = {
            "read": [("GET", f"/api/v1/credit-lines/{i}", None) for i in lines],
            "write": bodies,
            "floor_read": [("GET", f"/bench/floor/rows/{i}", None) for i in floor_rows],
            "floor_write": [("POST", "/bench/floor/rows", b) for _, _, b in bodies],
        }
        paths = {k: _lua(tmp, k, token, v) for k, v in scripts.items()}
        for _ in range(a.runs):
            for key, _, _ in SCENARIOS:
                rounds[key].append(_wrk(base, paths[key], a.clients, a.seconds))
    finally:
        server.terminate()
        server.wait(timeout=30)
    if a.profile is not None:
        _profile(env, a.profile, ents, bodies)
    _report(a, {k: _median(v) for k, v in rounds.items()})
    _drop(APP_DB)
    shutil.rmtree(tmp, ignore_errors=True)


def _floor_rows(base: str, bodies: list[tuple[str, str, Any]]) -> list[int]:
    with httpx.Client(base_url=base, timeout=30) as c:
        out = []
        for _, _, body in bodies:
            r = c.post("/bench/floor/rows", json=body)
            r.raise_for_status()
            out.append(r.json()["id"])
    return out


def _profile(env: dict[str, str], out: Path, ents: list[int], bodies: list[Any]) -> None:
    """pyinstrument profiles of 200 submissions and 200 floor writes, in a child process on
    the bench database (the server's code, without the HTTP server)."""
    out.mkdir(parents=True, exist_ok=True)
    script = f"""
import json, sys
from kvcredit.site.bootstrap import django_setup
django_setup()
from django.test import Client
from pyinstrument import Profiler
from kvcredit.accounts.models import User
from kvcredit.accounts.services import issue_token
bodies = json.loads(sys.stdin.read())
token = issue_token(User.objects.get(username="bench"), name="profile")[1]
c = Client(HTTP_AUTHORIZATION="Bearer " + token)
for name, path in (("submission", None), ("floor", "/bench/floor/rows")):
    p = Profiler(interval=0.0005)
    p.start()
    for k, (_, url, body) in enumerate(bodies):
        r = c.post(path or url, json.dumps(body), content_type="application/json")
        assert r.status_code == 201, r.content
    p.stop()
    (__import__("pathlib").Path({str(out)!r}) / f"{{name}}.html").write_text(p.output_html())
    print(name, p.output_text(unicode=False, color=False, show_all=False)[:4000])
"""
    r = subprocess.run(
        [sys.executable, "-c", script],
        env={**env, "KVCREDIT_ALLOWED_HOSTS": "testserver"},
        input=json.dumps(bodies[:200], ensure_ascii=False),
        capture_output=True,
        text=True,
        check=False,
    )
    print(r.stdout[-8000:], r.stderr[-3000:])


def _report(a: Any, r: dict[str, dict[str, Any]]) -> None:
    print(
        f"kvcredit serve: {a.workers} gunicorn workers x {a.threads} threads, {a.clients} "
        f"clients (wrk), {a.seconds:.0f} s each, median of {a.runs} rounds, PostgreSQL on "
        f"loopback, {os.cpu_count()} cores"
    )
    print(f"{'scenario':<34}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'errors':>8}{'ratio':>10}")
    for key, name, peer in SCENARIOS:
        x = r[key]
        ratio = f"{x['rps'] / r[peer]['rps']:>9.1%}  of its floor" if peer else ""
        print(
            f"{name:<34}{x['rps']:>10.0f}{x['p50_ms']:>10.1f}{x['p99_ms']:>10.1f}"
            f"{x['errors']:>8.0f}{ratio:>10}"
        )
    share = r["write"]["rps"] / r["floor_write"]["rps"]
    verdict = "met" if share >= 0.5 else "NOT met"
    print(f"target (submissions >= 50% of the floor's writes): {verdict}")


if __name__ == "__main__":
    main()
