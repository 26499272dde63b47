"""`kvcredit check`, run as an operator would on a machine of a deployment: each finding, and a
non-zero exit on any error (no database tables, the development key outside debug, a data
directory that cannot be written, a Dask scheduler that does not answer)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow


@pytest.fixture
def database_url(tmp_path: Path) -> Iterator[str]:
    """A fresh database of the run's backend, outside the test transaction."""
    if os.environ.get("KVCREDIT_TEST_BACKEND") != "postgresql":
        yield f"sqlite:///{tmp_path / 'check.sqlite3'}"
        return
    import psycopg

    base = os.environ["KVCREDIT_TEST_DATABASE_URL"]
    name = f"kvcredit_check_test_{os.getpid()}"
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    yield base.rsplit("/", 1)[0] + "/" + name
    with psycopg.connect(base, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def env(tmp_path: Path, database_url: str) -> dict[str, str]:
    environ = {
        **os.environ,
        "KVCREDIT_DATABASE_URL": database_url,
        "KVCREDIT_DATA_DIR": str(tmp_path / "var"),
        "KVCREDIT_SECRET_KEY": "check-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz",
        "KVCREDIT_ALLOWED_HOSTS": "credit.example.org",
        "DJANGO_SETTINGS_MODULE": "kvcredit.site.settings",
    }
    # a deployment's environment: not the test run's (the browser tests set
    # DJANGO_ALLOW_ASYNC_UNSAFE, which Django's deployment checks rightly refuse: async.E001)
    for name in ("KVCREDIT_DEBUG", "KVCREDIT_DASK_ADDRESS", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        environ.pop(name, None)
    return environ


def kvcredit(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-c", "from kvcredit.cli import app; app()", *args]
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)


def check(env: dict[str, str]) -> tuple[int, dict[str, list[tuple[str, str]]]]:
    r = kvcredit(env, "check", "--json")
    found: dict[str, list[tuple[str, str]]] = {}
    for f in json.loads(r.stdout):
        found.setdefault(f["item"], []).append((f["level"], f["detail"]))
    return r.returncode, found


def levels(found: dict[str, list[tuple[str, str]]], item: str) -> set[str]:
    return {level for level, _ in found[item]}


def test_a_database_without_migrations_is_an_error_then_init_makes_it_pass(env):
    rc, found = check(env)
    assert rc == 1
    assert levels(found, "migrations") == {"ERROR"}
    assert "kvcredit init" in found["migrations"][0][1]
    assert kvcredit(env, "init").returncode == 0
    rc, found = check(env)
    assert rc == 0, found
    for item in ("secret key", "debug", "migrations", "data directory", "dask", "policy"):
        assert levels(found, item) == {"OK"}, (item, found[item])
    on_postgres = env["KVCREDIT_DATABASE_URL"].startswith("postgresql")
    assert levels(found, "database") == ({"OK"} if on_postgres else {"WARN"})  # one machine
    assert found["allowed hosts"] == [("OK", "credit.example.org")]
    r = kvcredit(env, "check")  # the table for a person
    assert r.returncode == 0 and "0 errors" in r.stdout


def test_the_development_key_outside_debug_is_an_error(env):
    env.pop("KVCREDIT_SECRET_KEY")
    rc, found = check(env)
    assert rc == 1 and levels(found, "settings") == {"ERROR"}
    assert "KVCREDIT_SECRET_KEY" in found["settings"][0][1]
    rc, found = check({**env, "KVCREDIT_DEBUG": "1"})  # in debug it is only a warning
    assert levels(found, "secret key") == {"WARN"} and levels(found, "debug") == {"WARN"}


def test_a_data_directory_that_cannot_be_written_is_an_error(env, tmp_path):
    blocked = tmp_path / "a-file"
    blocked.write_text("not a directory")
    rc, found = check({**env, "KVCREDIT_DATA_DIR": str(blocked / "var")})
    assert rc == 1 and levels(found, "data directory") == {"ERROR"}


def test_any_host_outside_debug_is_an_error(env):
    rc, found = check({**env, "KVCREDIT_ALLOWED_HOSTS": "*"})
    assert rc == 1 and levels(found, "allowed hosts") == {"ERROR"}


def test_the_dask_scheduler_is_checked_when_set(env):
    distributed = pytest.importorskip("dask.distributed")
    assert kvcredit(env, "init").returncode == 0
    rc, found = check({**env, "KVCREDIT_DASK_ADDRESS": "tcp://127.0.0.1:9"})
    assert rc == 1 and levels(found, "dask") == {"ERROR"}
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=False,
        protocol="tcp",
        host="127.0.0.1",
        dashboard_address=None,
    ) as cluster:
        rc, found = check({**env, "KVCREDIT_DASK_ADDRESS": cluster.scheduler_address})
    assert rc == 0, found
    assert found["dask"] == [("OK", f"{cluster.scheduler_address}: 2 workers")]
