"""Province scale, measured in one run: a programme of 300,000 enterprises and 100,000 loans over
five years, then the import, the publish re-evaluation, the end of day and the pages under load.

    python bench/scale.py [--backend postgresql|sqlite] [--enterprises 300000] [--loans 100000]
        [--eod-loans 1000000] [--users 8] [--requests 24] [--workers 4] [--seed 2026]
        [--skip STEP ...] [--json FILE]

Builds a fresh database (PostgreSQL: ``kvcredit_bench_scale`` on the server named by
KVCREDIT_BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/postgres; SQLite: a
temporary file), generated from ``--seed``, then measures:

1. ``import``: ``--enterprises`` synthetic enterprises (``kvcredit.scoring.synth``) written to a
   Parquet file and imported through the real path (``enterprises.importing.import_file``, as
   ``kvcredit enterprises import`` does): read, validate, register, submit, evaluate, store,
   audit. Target < 60 s for 300,000.
2. ``reevaluate``: publishing a new policy version and re-evaluating every enterprise
   (``enterprises.policies.publish_policy``, the job's batches). Target < 60 s for 300,000.
3. the loans: ``--loans`` twelve-month loans disbursed over the five years before the bench
   day, to the imported enterprises, by four banks, loaded with COPY (PostgreSQL) or bulk
   INSERT (SQLite) with their instalments; those whose term has ended are closed, the others
   live, 5 % of them a month late (not timed).
4. ``eod_book``: one business day (``kvcredit.day.run_day``) over that book.
5. ``eod_1m``: the book grown to ``--eod-loans`` loans (live ones added in bulk), one more
   business day. Target < 30 s for 1,000,000 on PostgreSQL.
6. ``pages``: ``kvcredit serve`` (``--workers`` gunicorn processes x 2 threads, debug off), one
   user per role (administrator, trustee, district, bank, enterprise: sessions for the console,
   tokens for the API), and for each role every console page and API list it may open, each
   requested ``--requests`` times by ``--users`` concurrent clients (httpx, a thread each):
   p50 and p95 per page and role. Target p95 < 300 ms.

Sizes are flags: develop with small ones (``--enterprises 3000 --loans 1000 --eod-loans 10000``).
Every figure is printed at the end (and written as JSON with ``--json``); the database is
dropped afterwards. The machine running it shares its cores with PostgreSQL and the server:
the figures are what this machine does, not a capacity.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

ROOT = Path(__file__).resolve().parent.parent
ADMIN_URL = os.environ.get(
    "KVCREDIT_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
BENCH_DB = os.environ.get("KVCREDIT_BENCH_SCALE_DB", "kvcredit_bench_scale")
PASSWORD = "bench-scale-password-42"
SECRET = "bench-scale-" + "s" * 50
STEPS = ("import", "reevaluate", "eod_book", "eod_1m", "pages")
TARGETS = {"import": 60.0, "reevaluate": 60.0, "eod_1m": 30.0}
PAGE_P95_MS = 300.0
PAGE_TIMEOUT_S = 30


def _db_url(name: str) -> str:
    return ADMIN_URL.rsplit("/", 1)[0] + "/" + name


def _admin(sql: str) -> None:
    import psycopg

    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(sql)


class Timer:
    def __init__(self, profile: Path | None = None) -> None:
        self.figures: dict[str, Any] = {}
        self.profile = profile

    def run(self, name: str, fn: Any, *args: Any, **kw: Any) -> Any:
        print(f"… {name}", flush=True)
        profiler = None
        if self.profile is not None and name in STEPS:
            from pyinstrument import Profiler

            profiler = Profiler(interval=0.005)
            profiler.start()
        start = time.perf_counter()
        out = fn(*args, **kw)
        self.figures[name] = round(time.perf_counter() - start, 2)
        if profiler is not None:
            profiler.stop()
            self.profile.mkdir(parents=True, exist_ok=True)
            text = profiler.output_text(unicode=False, color=False)
            (self.profile / f"{name}.txt").write_text(text)
        print(f"  {name}: {self.figures[name]:.2f} s", flush=True)
        return out


# -- the programme -------------------------------------------------------------------------
def _setup_django(env: dict[str, str]) -> None:
    os.environ.update(env)
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises.setup import load_initial_data

    load_initial_data(ensure_system_user(), policy_id="chongqing-kvc")


def _banks() -> tuple[list[int], int]:
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises import services as ent
    from kvcredit.enterprises.models import District
    from kvcredit.lending.services import create_product

    system = ensure_system_user()
    banks = []
    for k, (code, name) in enumerate(
        (
            ("CQRCB", "重庆农村商业银行"),
            ("CQBANK", "重庆银行"),
            ("ABC", "农业银行"),
            ("CCB", "建设银行"),
        )
    ):
        b = ent.create_bank(system, code=code, name=name)
        for d in District.objects.order_by("id")[k % 2 :: 1]:
            ent.admit_bank(system, bank_id=b.pk, district_id=d.pk)
        banks.append(b.pk)
    product = create_product(system, code="KVC_STD", name="知识价值信用贷款", grace_days=3)
    return banks, product.pk


def _import(path: Path) -> Any:
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises.importing import import_file

    report = import_file(ensure_system_user(), path, year=2024)
    assert not report.errors, report.errors[:3]
    return report


def _reevaluate() -> Any:
    from importlib import resources

    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises.policies import publish_policy

    text = resources.files("kvcredit.scoring.policies").joinpath("chongqing-kvc.toml").read_text()
    text = text.replace('version = "', 'version = "bench.', 1)
    published = publish_policy(ensure_system_user(), source_toml=text)
    assert published.reevaluation.status == "DONE", published.reevaluation.error
    return published


def _months(days: np.ndarray, k: np.ndarray) -> np.ndarray:
    """days + k months (same day of month, clipped as numpy does: to the month's start + d)."""
    month = days.astype("datetime64[M]")
    dom = days - month.astype("datetime64[D]")
    return (month + k).astype("datetime64[D]") + dom


def _loan_frame(
    n: int,
    rng: np.random.Generator,
    ents: pl.DataFrame,
    banks: list[int],
    product: int,
    day: dt.date,
    live_only: bool,
) -> pl.DataFrame:
    """n twelve-month monthly-interest loans; over five years before ``day`` (``live_only``:
    all disbursed within the last eleven months). Aged to the day before ``day``."""
    last = np.datetime64(day - dt.timedelta(days=1))
    span = 330 if live_only else 5 * 365
    disb = last - rng.integers(1, span, n).astype("timedelta64[D]")
    pick = rng.integers(0, ents.height, n)
    amount = rng.integers(100, 5_000, n) * 100_000  # 1,000 to 500,000 yuan
    rate = np.full(n, 3_450_000)
    maturity = _months(disb, np.full(n, 12))
    live = maturity > last
    elapsed = (last.astype("datetime64[M]") - disb.astype("datetime64[M]")).astype(np.int64)
    elapsed -= _months(disb, elapsed) > last  # due dates on or before the last day
    next_due = _months(disb, elapsed + 1)
    prev_due = _months(disb, elapsed)
    late = live & (elapsed >= 1) & (rng.random(n) < 0.05)
    days_accrued = (last - prev_due).astype(np.int64)
    month_interest = amount * 3_450_000 * 30 // 36_000_000_000
    nat = np.datetime64("NaT", "D")
    status = np.where(live, "ACTIVE", "CLOSED")
    return pl.DataFrame(
        {
            "enterprise_id": ents["id"].to_numpy()[pick],
            "bank_id": np.asarray(banks)[rng.integers(0, len(banks), n)],
            "district_id": ents["district_id"].to_numpy()[pick],
            "product_id": np.full(n, product),
            "amount_fen": amount,
            "term_months": np.full(n, 12),
            "method": ["MONTHLY_INTEREST"] * n,
            "signing_date": disb,
            "disbursed_on": disb,
            "maturity_date": maturity,
            "rate_type": ["PBOC_BENCHMARK_1Y"] * n,
            "rate_units": rate,
            "penalty_rate_units": rate * 3 // 2,
            "grace_days": np.full(n, 3),
            "first_time_borrower": rng.random(n) < 0.2,
            "instalment_count": np.full(n, 12),
            "status": status,
            "outstanding_principal_fen": np.where(live, amount, 0),
            "due_principal_fen": np.zeros(n, dtype=np.int64),
            "due_interest_fen": np.where(late, month_interest, 0),
            "penalty_fen": np.zeros(n, dtype=np.int64),
            "accrued_interest_fen": np.where(
                live, amount * 3_450_000 * days_accrued // 36e9, 0
            ).astype(np.int64),
            "accrued_remainder": np.zeros(n, dtype=np.int64),
            "accrued_paid_fen": np.zeros(n, dtype=np.int64),
            "next_instalment": np.where(live, elapsed + 1, 13),
            "next_due_date": pl.Series(np.where(live, next_due, nat)).cast(pl.Date),
            "next_principal_fen": np.where(live & (elapsed + 1 == 12), amount, 0),
            "oldest_unpaid_due_date": pl.Series(np.where(late, prev_due, nat)).cast(pl.Date),
            "days_past_due": np.zeros(n, dtype=np.int64),
            "category": ["NORMAL"] * n,
            "matured": np.zeros(n, dtype=bool),
            "last_eod_date": np.full(n, last),
            "closed_on": pl.Series(np.where(live, nat, maturity)).cast(pl.Date),
            "created_at": pl.Series(disb).cast(pl.Datetime("us", "UTC")),
        }
    )


def _load_loans(frame: pl.DataFrame) -> None:
    """Bulk-load loans, then their twelve instalments on the server."""
    from django.db import connection
    from django.db.models import NOT_PROVIDED

    from kvcredit.lending.models import Loan

    # columns the frame leaves out take the model's plain default (Django's defaults are not
    # the database's, and COPY would write NULL)
    missing = [
        pl.lit(f.default).alias(f.column)
        for f in Loan._meta.concrete_fields
        if f.column not in frame.columns
        and not f.null
        and f.default is not NOT_PROVIDED
        and not callable(f.default)
    ]
    frame = frame.with_columns(missing) if missing else frame
    first_new = _max_id("lending_loan")
    cols = ", ".join(frame.columns)
    with connection.cursor() as cur:
        if connection.vendor == "postgresql":
            data = frame.write_csv(include_header=False, null_value="")
            with cur.cursor.copy(f"COPY lending_loan ({cols}) FROM STDIN WITH (FORMAT csv)") as cp:
                cp.write(data.encode())
            cur.execute(
                "INSERT INTO lending_instalment (loan_id, seq, due_date, principal_fen,"
                " interest_fen, principal_paid_fen, interest_paid_fen) SELECT l.id, s,"
                " (l.disbursed_on + make_interval(months => s))::date,"
                " CASE WHEN s = 12 THEN l.amount_fen ELSE 0 END, 0, 0, 0"
                " FROM lending_loan l, generate_series(1, 12) s WHERE l.id > %s",
                [first_new],
            )
            cur.execute("ANALYZE")
        else:
            marks = ", ".join(["%s"] * len(frame.columns))
            rows = frame.with_columns(pl.col(pl.Date, pl.Datetime).cast(pl.String)).rows()
            cur.executemany(f"INSERT INTO lending_loan ({cols}) VALUES ({marks})", rows)
            cur.execute(
                "WITH RECURSIVE s(k) AS (SELECT 1 UNION ALL SELECT k + 1 FROM s WHERE k < 12)"
                " INSERT INTO lending_instalment (loan_id, seq, due_date, principal_fen,"
                " interest_fen, principal_paid_fen, interest_paid_fen) SELECT l.id, s.k,"
                " date(l.disbursed_on, '+' || s.k || ' months'),"
                " CASE WHEN s.k = 12 THEN l.amount_fen ELSE 0 END, 0, 0, 0"
                " FROM lending_loan l, s WHERE l.id > %s",
                [first_new],
            )
            cur.execute("ANALYZE")


def _max_id(table: str) -> int:
    from django.db import connection

    with connection.cursor() as cur:
        cur.execute(f"SELECT COALESCE(MAX(id), 0) FROM {table}")
        return int(cur.fetchone()[0])


def _eod_before(day: dt.date) -> None:
    """The end of day of the day before ``day`` as run (the loans are aged to it)."""
    from kvcredit.lending.models import EodRun

    now = dt.datetime.combine(day, dt.time(0, 0), tzinfo=dt.UTC)
    EodRun.objects.create(
        run_date=day - dt.timedelta(days=1),
        started_at=now,
        finished_at=now,
        loans=0,
        closed=0,
        matured=0,
        fell_due=0,
    )


def _run_day(day: dt.date) -> Any:
    from kvcredit.day import run_day

    [report] = run_day(as_of=day)
    assert not report.already_run
    return report


def _applications(
    n: int, rng: np.random.Generator, ents: pl.DataFrame, banks: list[int], product: int
) -> None:
    """Open applications for the banks' queues (bulk; they hold no reservation)."""
    from django.utils import timezone

    from kvcredit.lending.models import Application

    pick = rng.integers(0, ents.height, n)
    ids = ents["id"].to_numpy()[pick]
    now = timezone.now()
    Application.objects.bulk_create(
        [
            Application(
                enterprise_id=int(e),
                bank_id=int(banks[k % len(banks)]),
                product_id=product,
                amount_fen=int(rng.integers(10, 300)) * 1_000_000,
                term_months=12,
                method="MONTHLY_INTEREST",
                purpose="研发",
                first_time_borrower=False,
                status="SUBMITTED",
                reserved_fen=0,
                submitted_at=now,
            )
            for k, e in enumerate(ids)
        ],
        batch_size=2000,
    )


# -- the users and the pages ---------------------------------------------------------------
def _users(ents: pl.DataFrame, banks: list[int]) -> dict[str, dict[str, str]]:
    """One user per role: a session cookie (console) and a token (API)."""
    from django.conf import settings
    from django.test import Client

    from kvcredit.accounts.models import Organisation, OrgKind, User
    from kvcredit.accounts.services import ensure_system_user, issue_token
    from kvcredit.enterprises.models import Bank, District, Enterprise
    from kvcredit.lending.models import Loan

    system = ensure_system_user()
    busiest = Loan.objects.values_list("district_id", flat=True).first()
    ent_id = Loan.objects.filter(status="ACTIVE").values_list("enterprise_id", flat=True).first()
    trustee = Organisation.objects.create(kind=OrgKind.TRUSTEE, name="受托管理机构")
    orgs = {
        "administrator": system.organisation,
        "trustee": trustee,
        "district": District.objects.get(pk=busiest).organisation,
        "bank": Bank.objects.get(pk=banks[0]).organisation,
        "enterprise": Enterprise.objects.get(pk=ent_id).organisation,
    }
    out = {}
    for role, org in orgs.items():
        user = User(username=f"bench_{role}", organisation=org)
        user.set_password(PASSWORD)
        user.save()
        c = Client()
        c.force_login(user)
        session = c.cookies[settings.SESSION_COOKIE_NAME].value
        out[role] = {
            "cookie": f"{settings.SESSION_COOKIE_NAME}={session}",
            "token": issue_token(user, name="bench")[1],
            "enterprise": str(
                Enterprise.objects.filter(organisation=org).values_list("id", flat=True).first()
                or ent_id
            ),
        }
    return out


CONSOLE = (
    "/",
    "/evaluation/",
    "/data/",
    "/credit-lines/",
    "/statistics/",
    "/programme/",
    "/setup/policies/",
    "/setup/districts/",
    "/setup/banks/",
    "/setup/users/",
    "/setup/rates/",
    "/setup/products/",
    "/loans/",
    "/applications/",
    "/fund/pools/",
    "/fund/claims/",
    "/fund/fees/",
    "/fund/breakers/",
)


def _api_lists(base: str, token: str) -> list[str]:
    spec = httpx.get(f"{base}/api/v1/openapi.json", timeout=60).json()
    return sorted(
        f"/api/v1{p}" if not p.startswith("/api/v1") else p
        for p, ops in spec["paths"].items()
        if "get" in ops
        and "{" not in p
        and not p.endswith("openapi.json")
        and not p.endswith((".csv", ".xlsx", "/export", "/template"))
    )


def _detail_pages(role: str, user: dict[str, str]) -> list[str]:
    from kvcredit.lending.models import Loan

    loan = Loan.objects.filter(status="ACTIVE").order_by("id").values_list("id", flat=True)
    if role == "enterprise":
        loan = loan.filter(enterprise_id=int(user["enterprise"]))
    first = loan.first()
    pages = [f"/enterprises/{user['enterprise']}/"] if role != "bank" else []
    return pages + ([f"/loans/{first}/"] if first else [])


def _start_server(env: dict[str, str], port: int, workers: int) -> Any:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", "serve"]
    cmd += ["--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--threads", "2"]
    server = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            httpx.get(f"http://127.0.0.1:{port}/api/v1/openapi.json", timeout=10)
            return server
        except httpx.TransportError:
            time.sleep(0.3)
    server.terminate()
    raise SystemExit(f"kvcredit serve did not start:\n{server.stderr.read().decode()[-3000:]}")


def _measure(base: str, headers: dict[str, str], path: str, n: int, users: int) -> dict[str, Any]:
    local = threading.local()

    def one(_: int) -> tuple[float, int]:
        c = getattr(local, "c", None)
        if c is None:
            c = local.c = httpx.Client(base_url=base, headers=headers, timeout=PAGE_TIMEOUT_S)
        t = time.perf_counter()
        try:
            r = c.get(path)
        except httpx.TimeoutException:
            return PAGE_TIMEOUT_S * 1000.0, 0
        return (time.perf_counter() - t) * 1000, r.status_code

    with ThreadPoolExecutor(max_workers=users) as pool:
        one(0)  # warm the page's caches once
        results = list(pool.map(one, range(n)))
    ms = sorted(r[0] for r in results)
    codes = sorted({r[1] for r in results})
    return {
        "p50_ms": round(statistics.median(ms), 1),
        "p95_ms": round(ms[min(len(ms) - 1, int(0.95 * len(ms)))], 1),
        "codes": codes,
    }


def _pages(base: str, users: dict[str, dict[str, str]], a: Any, rows: list[dict[str, Any]]) -> None:
    api = _api_lists(base, users["administrator"]["token"])
    for role, user in users.items():
        console = {"Cookie": user["cookie"]}
        token = {"Authorization": f"Bearer {user['token']}"}
        targets = [(p, console) for p in (*CONSOLE, *_detail_pages(role, user))]
        targets += [(p, token) for p in api]
        for path, headers in targets:
            try:
                probe = httpx.get(base + path, headers=headers, timeout=PAGE_TIMEOUT_S)
            except httpx.TimeoutException:
                rows.append(
                    {
                        "role": role,
                        "path": path,
                        "p50_ms": None,
                        "p95_ms": 1e9,
                        "codes": ["timeout"],
                    }
                )
                print(f"  {role:<14}{path:<44}  over {PAGE_TIMEOUT_S} s: not measured")
                continue
            if probe.status_code != 200:
                continue  # not this role's page
            m = _measure(base, headers, path, a.requests, a.users)
            rows.append({"role": role, "path": path, **m})
            flag = "" if m["p95_ms"] < PAGE_P95_MS else "   over target"
            print(f"  {role:<14}{path:<44}{m['p50_ms']:>8.0f}{m['p95_ms']:>8.0f}{flag}", flush=True)
    return rows


# -- the run --------------------------------------------------------------------------------
def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--backend", choices=("postgresql", "sqlite"), default="postgresql")
    ap.add_argument("--enterprises", type=int, default=300_000)
    ap.add_argument("--loans", type=int, default=100_000)
    ap.add_argument("--eod-loans", type=int, default=1_000_000)
    ap.add_argument("--applications", type=int, default=2_000)
    ap.add_argument("--users", type=int, default=8, help="concurrent clients per page")
    ap.add_argument("--requests", type=int, default=24, help="requests per page and role")
    ap.add_argument("--workers", type=int, default=4, help="gunicorn workers (x 2 threads)")
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--skip", nargs="*", default=[], choices=STEPS)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--profile", type=Path, default=None, help="pyinstrument text per step here")
    ap.add_argument("--keep", action="store_true", help="keep the database (and print its URL)")
    a = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="kvcredit-scale-"))
    if a.backend == "postgresql":
        _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        _admin(f'CREATE DATABASE "{BENCH_DB}"')
        db_url = _db_url(BENCH_DB)
    else:
        db_url = f"sqlite:///{tmp / 'scale.sqlite3'}"
    env = {
        "KVCREDIT_DATABASE_URL": db_url,
        "KVCREDIT_DATA_DIR": str(tmp),
        "KVCREDIT_SECRET_KEY": SECRET,
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
        "KVCREDIT_UPLOAD_MAX_ROWS": str(max(a.enterprises, 1) + 1),
        "KVCREDIT_UPLOAD_MAX_BYTES": str(1 << 36),
        "KVCREDIT_ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
        "KVCREDIT_REEVALUATE_IN_BACKGROUND": "0",
    }
    os.environ.pop("KVCREDIT_DEBUG", None)
    t = Timer(a.profile)
    try:
        _run(a, env, tmp, t)
    finally:
        from django.db import connections

        connections.close_all()
        if a.backend == "postgresql" and not a.keep:
            _admin(f'DROP DATABASE IF EXISTS "{BENCH_DB}" WITH (FORCE)')
        if not a.keep:
            shutil.rmtree(tmp, ignore_errors=True)
        _summary(a, t.figures)


def _serve_and_measure(a: Any, env: dict[str, str], t: Timer, users: dict[str, Any]) -> None:
    """The pages under load, against ``kvcredit serve`` on the programme as it is now."""
    from django.db import connections

    connections.close_all()
    port = _free_port()
    server = _start_server({**os.environ, **env}, port, a.workers)
    try:
        print(f"… pages: {a.users} concurrent users, {a.requests} requests each page")
        print(f"  {'role':<14}{'page or list':<44}{'p50 ms':>8}{'p95 ms':>8}")
        t.figures["pages"] = []
        _pages(f"http://127.0.0.1:{port}", users, a, t.figures["pages"])
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run(a: Any, env: dict[str, str], tmp: Path, t: Timer) -> None:
    rng = np.random.default_rng(a.seed)
    t.run("setup (migrate, initial data)", _setup_django, env)
    from kvcredit import clock
    from kvcredit.enterprises.models import Enterprise
    from kvcredit.scoring.io import write_enterprises
    from kvcredit.scoring.synth import generate

    banks, product = _banks()
    path = tmp / "enterprises.parquet"
    write_enterprises(generate(a.enterprises, a.seed), path)
    if "import" not in a.skip:
        t.run("import", _import, path)
    else:  # the programme still needs its enterprises
        _import(path)
    if "reevaluate" not in a.skip:
        t.run("reevaluate", _reevaluate)
    ents = pl.DataFrame(
        list(Enterprise.objects.values_list("id", "district_id")),
        schema=["id", "district_id"],
        orient="row",
    )
    today = clock.today()
    book_day, next_day = today - dt.timedelta(days=2), today - dt.timedelta(days=1)
    t.run(
        f"load {a.loans:,} loans",
        _load_loans,
        _loan_frame(a.loans, rng, ents, banks, product, book_day, live_only=False),
    )
    _applications(a.applications, rng, ents, banks, product)
    _eod_before(book_day)
    from kvcredit.lending.models import Loan

    t.figures["live_loans"] = Loan.objects.filter(status="ACTIVE").count()
    if "eod_book" not in a.skip:
        t.run("eod_book", _run_day, book_day)
    else:
        _run_day(book_day)
    if "pages" not in a.skip:  # the programme of --loans loans, before the book grows
        _serve_and_measure(a, env, t, _users(ents, banks))
    more = a.eod_loans - Loan.objects.count()
    if "eod_1m" not in a.skip and more > 0:
        t.run(
            f"load {more:,} more live loans",
            _load_loans,
            _loan_frame(more, rng, ents, banks, product, next_day, live_only=True),
        )
        t.figures["eod_1m_loans"] = Loan.objects.count()
        t.figures["eod_1m_live"] = Loan.objects.filter(status="ACTIVE").count()
        t.run("eod_1m", _run_day, next_day)


def _summary(a: Any, f: dict[str, Any]) -> None:
    print()
    print(
        f"bench/scale.py on {a.backend}: {a.enterprises:,} enterprises, {a.loans:,} loans "
        f"({f.get('live_loans', 0):,} live), {os.cpu_count()} cores"
    )
    for key, label in (
        ("import", f"import of {a.enterprises:,} enterprises"),
        ("reevaluate", f"publish re-evaluation of {a.enterprises:,}"),
        ("eod_book", f"end of day over the book ({f.get('live_loans', 0):,} live)"),
        ("eod_1m", f"end of day over {f.get('eod_1m_loans', 0):,} loans"),
    ):
        if key in f:
            target = TARGETS.get(key)
            verdict = (
                ""
                if target is None
                else (
                    f"  (target < {target:.0f} s" + (" at full size)" if key != "eod_1m" else ")")
                )
            )
            print(f"  {label:<52}{f[key]:>8.2f} s{verdict}")
    pages = f.get("pages", [])
    if pages:
        over = [p for p in pages if p["p95_ms"] >= PAGE_P95_MS]
        worst = max(pages, key=lambda p: p["p95_ms"])
        print(
            f"  pages and lists measured: {len(pages)}, p95 over {PAGE_P95_MS:.0f} ms: "
            f"{len(over)}; worst {worst['role']} {worst['path']} p95 {worst['p95_ms']:.0f} ms"
        )
    if a.json:
        a.json.write_text(
            json.dumps({"args": vars(a) | {"json": str(a.json)}, **f}, default=str, indent=1)
        )


if __name__ == "__main__":
    main()
