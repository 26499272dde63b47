"""The service's commands, run as a user would: init, user add/token, import, audit, serve."""

from __future__ import annotations

import csv
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from conftest import PASSWORD, strong_values
from kvcredit.scoring.fields import BY_NAME, uscc_check_char

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database of the run's backend, outside the test transaction."""
    if os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql":
        yield f"sqlite:///{tmp_path / 'cli.sqlite3'}"
        return
    import psycopg

    base = os.environ["KVCREDIT_TEST_DATABASE_URL"]
    name = f"kvcredit_cli_test_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    return {
        **os.environ,
        "KVCREDIT_DATABASE_URL": database_url,
        "KVCREDIT_DATA_DIR": str(tmp_path / "var"),
        "KVCREDIT_SECRET_KEY": "cli-test-secret-key-" + "x" * 40,
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
    }


def kvcredit(env: dict[str, str], *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", *args]
    return subprocess.run(cmd, env=env, input=stdin, capture_output=True, text=True, timeout=300)


def _csv(path: Path) -> Path:
    rows = []
    for n, district in ((1, "500101"), (2, "500102"), (3, "nowhere")):
        first = f"91500000MA5U{n:05d}"
        vals = {BY_NAME[k].zh: v for k, v in strong_values().items()}
        rows.append(
            vals
            | {
                "统一社会信用代码": first + uscc_check_char(first),
                "企业名称": f"企业{n}",
                "所属区县": district,
            }
        )
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_init_users_import_and_audit_from_the_command_line(env, tmp_path):
    r = kvcredit(env, "init")
    assert r.returncode == 0, r.stderr
    assert "districts" in r.stdout
    assert kvcredit(env, "init").returncode == 0  # idempotent
    r = kvcredit(
        env,
        "user",
        "add",
        "bureau",
        "--role",
        "administrator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    weak = kvcredit(
        env,
        "user",
        "add",
        "weak",
        "--role",
        "administrator",
        "--password-stdin",
        stdin="password\n",
    )
    assert weak.returncode == 1 and "password" in weak.stderr.lower()
    report = tmp_path / "errors.csv"
    r = kvcredit(
        env,
        "enterprises",
        "import",
        str(_csv(tmp_path / "e.csv")),
        "--year",
        "2024",
        "--as",
        "bureau",
        "--errors",
        str(report),
    )
    assert r.returncode == 1, r.stderr  # some rows rejected; the valid ones are imported
    assert "2 enterprises registered, 2 data versions submitted (2 evaluated)" in r.stdout
    assert "1 rows rejected" in r.stdout
    header, *lines = report.read_text(encoding="utf-8-sig").splitlines()
    assert header == "row,uscc,field,value,message_zh,message_en"
    assert len(lines) == 1 and ",district,nowhere," in lines[0] and "unknown district" in lines[0]
    again = kvcredit(env, "enterprises", "import", str(tmp_path / "e.csv"), "--year", "2024")
    assert "0 enterprises registered, 0 data versions submitted" in again.stdout
    assert "2 unchanged" in again.stdout
    policy = tmp_path / "policy.toml"
    policy.write_text(_policy_source("most-tech-sme"), encoding="utf-8")
    r = kvcredit(env, "policy", "publish", str(policy), "--as", "bureau")
    assert r.returncode == 0, r.stderr
    assert "published most-tech-sme" in r.stdout and "DONE, 2 of 2 enterprises" in r.stdout
    # the service's refusal, in the language of the operator's locale
    zh = {**env, "LANG": "zh_CN.UTF-8", "LC_ALL": ""}
    again = kvcredit(zh, "policy", "publish", str(policy), "--as", "bureau")
    assert again.returncode == 1 and "政策 most-tech-sme 版本 2022 已发布" in again.stderr
    en = {**env, "LANG": "C.UTF-8", "LC_ALL": "", "KVCREDIT_LANGUAGE": "en"}
    again = kvcredit(en, "policy", "publish", str(policy), "--as", "bureau")
    assert again.returncode == 1
    assert "policy most-tech-sme version 2022 is published" in again.stderr
    r = kvcredit(
        env,
        "user",
        "add",
        "district1",
        "--role",
        "district",
        "--organisation",
        "500101",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    assert r.returncode == 0, r.stderr
    assert kvcredit(env, "user", "token", "district1").stdout.startswith("kvc_")
    r = kvcredit(env, "audit", "verify")
    assert r.returncode == 0 and "intact" in r.stdout


def _policy_source(policy_id: str) -> str:
    from importlib import resources

    path = resources.files("kvcredit.scoring.policies").joinpath(f"{policy_id}.toml")
    return path.read_text(encoding="utf-8")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_serve_runs_several_workers_and_serves_static_files(env):
    assert kvcredit(env, "init").returncode == 0
    kvcredit(
        env,
        "user",
        "add",
        "bureau",
        "--role",
        "administrator",
        "--password-stdin",
        stdin=PASSWORD + "\n",
    )
    token = kvcredit(env, "user", "token", "bureau").stdout.strip()
    port = _free_port()
    cmd = [
        sys.executable,
        "-c",
        "from kvcredit.cli import app; app()",
        "serve",
        "--bind",
        f"127.0.0.1:{port}",
        "--workers",
        "2",
    ]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        base = f"http://127.0.0.1:{port}"
        for _ in range(150):
            try:
                httpx.get(base + "/api/v1/openapi.json", timeout=1)
                break
            except httpx.TransportError:
                time.sleep(0.1)
        r = httpx.get(base + "/api/v1/credit-lines", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 200 and r.json()["count"] == 0
        assert httpx.get(base + "/static/admin/css/base.css").status_code == 200
        assert httpx.get(base + "/api/v1/me").status_code == 401
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_the_development_secret_key_is_refused_outside_debug(env):
    bad = {k: v for k, v in env.items() if k not in {"KVCREDIT_SECRET_KEY", "KVCREDIT_DEBUG"}}
    r = kvcredit(bad, "audit", "verify")
    assert r.returncode != 0 and "KVCREDIT_SECRET_KEY" in r.stderr
