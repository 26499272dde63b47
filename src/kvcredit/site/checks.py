"""The configuration check of a deployment (``kvcredit check``): what a web or job worker needs
before it starts, each item OK, WARN or ERROR with what to do about it.

Run on every machine of a deployment (web workers, job workers) with its own environment: the
database answers, every migration is applied, the secret key is set (and not the development
one outside debug), the allowed hosts name the site, the data directory is writable, the
static files are collected, the Dask scheduler answers when ``KVCREDIT_DASK_ADDRESS`` is set,
a policy is published, and Django's own system checks (with the deployment checks outside
debug) pass. Any ERROR makes the command exit non-zero.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

OK, WARN, ERROR = "OK", "WARN", "ERROR"


@dataclass(frozen=True)
class Finding:
    item: str
    level: str
    detail: str


def _database() -> list[Finding]:
    from django.db import connection

    try:
        connection.ensure_connection()
        with connection.cursor() as cur:
            cur.execute("SELECT 1")
    except Exception as exc:
        return [Finding("database", ERROR, f"cannot connect ({connection.vendor}): {exc}")]
    settings_dict = connection.settings_dict
    where = settings_dict.get("HOST") or settings_dict.get("NAME")
    detail = f"{connection.vendor} at {where}"
    if connection.vendor == "sqlite":
        return [Finding("database", WARN, detail + ": SQLite serves one machine only")]
    return [Finding("database", OK, detail)]


def _migrations() -> list[Finding]:
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except Exception as exc:
        return [Finding("migrations", ERROR, f"cannot read the migration state: {exc}")]
    if plan:
        names = ", ".join(f"{m.app_label}.{m.name}" for m, _ in plan[:5])
        more = f" and {len(plan) - 5} more" if len(plan) > 5 else ""
        return [
            Finding(
                "migrations", ERROR, f"{len(plan)} not applied ({names}{more}): run kvcredit init"
            )
        ]
    return [Finding("migrations", OK, "all applied")]


def _secret_key() -> list[Finding]:
    from django.conf import settings

    from kvcredit.site.settings import DEV_SECRET_KEY

    if settings.SECRET_KEY == DEV_SECRET_KEY:
        level = WARN if settings.DEBUG else ERROR
        return [Finding("secret key", level, "the development key: set KVCREDIT_SECRET_KEY")]
    if len(settings.SECRET_KEY) < 50 or len(set(settings.SECRET_KEY)) < 5:
        return [Finding("secret key", WARN, "shorter than 50 characters or repetitive")]
    return [Finding("secret key", OK, "set")]


def _debug_and_hosts() -> list[Finding]:
    from django.conf import settings

    out = []
    if settings.DEBUG:
        out.append(Finding("debug", WARN, "KVCREDIT_DEBUG is on: never in production"))
    else:
        out.append(Finding("debug", OK, "off"))
    if getattr(settings, "KVCREDIT_BENCH_FLOOR", False):
        out.append(Finding("bench floor", ERROR, "KVCREDIT_BENCH_FLOOR is on: benches only"))
    hosts = list(settings.ALLOWED_HOSTS)
    if "*" in hosts:
        level = WARN if settings.DEBUG else ERROR
        out.append(Finding("allowed hosts", level, "'*' accepts any Host header"))
    elif not os.environ.get("KVCREDIT_ALLOWED_HOSTS") and not settings.DEBUG:
        detail = f"KVCREDIT_ALLOWED_HOSTS unset: only {', '.join(hosts)}"
        out.append(Finding("allowed hosts", WARN, detail))
    else:
        out.append(Finding("allowed hosts", OK, ", ".join(hosts)))
    return out


def _data_dir() -> list[Finding]:
    from django.conf import settings

    path = settings.DATA_DIR
    try:
        path.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=path, prefix=".kvcredit-check-"):
            pass
    except OSError as exc:
        return [Finding("data directory", ERROR, f"{path} is not writable: {exc}")]
    return [Finding("data directory", OK, f"{path} writable")]


def _static() -> list[Finding]:
    from django.conf import settings

    root = settings.STATIC_ROOT
    manifest = root / "staticfiles.json"
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    if "Manifest" in backend and not manifest.exists():
        detail = f"not collected in {root} (kvcredit serve collects them; or collectstatic)"
        return [Finding("static files", WARN, detail)]
    if not root.exists():
        return [Finding("static files", WARN, f"{root} does not exist yet")]
    return [Finding("static files", OK, f"collected in {root}")]


def _dask() -> list[Finding]:
    from django.conf import settings

    address = getattr(settings, "KVCREDIT_DASK_ADDRESS", None)
    if not address:
        return [Finding("dask", OK, "not set: batch evaluation runs in process")]
    try:
        from kvcredit.scoring_dask import check_reachable
    except ImportError as exc:  # pragma: no cover - the dask extra not installed
        return [Finding("dask", ERROR, f"KVCREDIT_DASK_ADDRESS set but dask missing: {exc}")]
    try:
        workers = check_reachable(address)
    except Exception as exc:
        return [Finding("dask", ERROR, f"{address} does not answer: {exc}")]
    if workers == 0:
        return [Finding("dask", ERROR, f"{address} answers but has no workers")]
    return [Finding("dask", OK, f"{address}: {workers} workers")]


def _policy() -> list[Finding]:
    from kvcredit.enterprises.selectors import current_policy

    try:
        published = current_policy()
    except Exception as exc:
        return [Finding("policy", ERROR, f"cannot read the published policies: {exc}")]
    if published is None:
        return [Finding("policy", WARN, "none published: submissions are not evaluated")]
    return [Finding("policy", OK, f"{published.policy_id} {published.version} current")]


def _django_checks() -> list[Finding]:
    from django.conf import settings
    from django.core import checks

    try:
        messages = checks.run_checks(include_deployment_checks=not settings.DEBUG)
    except Exception as exc:
        return [Finding("django checks", ERROR, f"could not run: {exc}")]
    out = []
    for m in messages:
        if m.is_silenced():
            continue
        level = ERROR if m.level >= checks.ERROR else WARN
        out.append(Finding("django checks", level, f"{m.id}: {m.msg}"))
    return out or [Finding("django checks", OK, "no issues")]


CHECKS: tuple[Callable[[], list[Finding]], ...] = (
    _secret_key,
    _debug_and_hosts,
    _database,
    _migrations,
    _data_dir,
    _static,
    _dask,
    _policy,
    _django_checks,
)


def run_checks() -> list[Finding]:
    """Every check's findings (a check that needs the database is skipped without one)."""
    findings: list[Finding] = []
    for check in CHECKS:
        needs = {_migrations: ("database",), _policy: ("database", "migrations")}.get(check, ())
        missing = [f.item for f in findings if f.item in needs and f.level == ERROR]
        if missing:
            detail = f"not checked: {missing[0]} in error"
            findings.append(Finding(check.__name__.strip("_"), ERROR, detail))
            continue
        findings += check()
    return findings


def as_rows(findings: list[Finding]) -> list[dict[str, Any]]:
    return [{"item": f.item, "level": f.level, "detail": f.detail} for f in findings]
