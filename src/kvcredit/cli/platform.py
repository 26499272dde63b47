"""`kvcredit` commands of the service: init, serve, check, user, audit, enterprises import,
policy publish.

Each command is thin: it sets Django up, parses its arguments, calls one service, prints.
Added to the main Typer app in ``kvcredit.cli``; Django is set up by
``kvcredit.site.bootstrap``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from kvcredit.cli.evaluate import policy_app
from kvcredit.site.bootstrap import django_setup

console = Console()
err = Console(stderr=True)

user_app = typer.Typer(help="Manage users and their API tokens.", no_args_is_help=True)
audit_app = typer.Typer(help="Inspect the audit log.", no_args_is_help=True)
enterprises_app = typer.Typer(help="The enterprise registry.", no_args_is_help=True)

ROLES = ["ADMINISTRATOR", "TRUSTEE", "DISTRICT", "BANK", "ENTERPRISE"]


def _actor(username: str | None) -> Any:
    from kvcredit.accounts.models import User
    from kvcredit.accounts.services import ensure_system_user

    if username is None:
        return ensure_system_user()
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        err.print(f"[red]no active user {username!r}[/red]")
        raise typer.Exit(2)
    return user


def _fail(exc: Exception) -> typer.Exit:
    err.print(f"[red]{exc}[/red]")
    return typer.Exit(1)


def init(
    policy: Annotated[str, typer.Option(help="shipped policy published when none is")] = "",
    rulebook: Annotated[
        str, typer.Option(help="rulebook (shipped id or .toml path) published when none is")
    ] = "",
) -> None:
    """Create or upgrade the database and load the initial data (idempotent); without
    $KVCREDIT_SECRET_KEY, write a random key into the data dir (``secret_key``)."""
    from kvcredit.site.paths import ensure_secret_key

    written = ensure_secret_key()
    django_setup()
    from django.conf import settings
    from django.core.management import call_command

    from kvcredit.enterprises.setup import load_initial_data

    settings.DATA_DIR.mkdir(parents=True, exist_ok=True)
    call_command("migrate", interactive=False, verbosity=0)
    from kvcredit.errors import KvcreditError
    from kvcredit.rulebook.services import publish_default

    actor = _actor(None)
    counts = load_initial_data(actor, policy_id=policy or settings.KVCREDIT_DEFAULT_POLICY)
    try:
        rulebooks = int(publish_default(actor, rulebook))
    except KvcreditError as exc:
        raise _fail(exc) from None
    if written is not None:
        console.print(f"secret key written to {written} (keep it; or set KVCREDIT_SECRET_KEY)")
    console.print(
        f"database ready: {counts['districts']} districts, {counts['rates']} rates, "
        f"{counts['policies']} policy and {rulebooks} rulebook added"
    )


def serve(
    bind: Annotated[str, typer.Option(help="address:port to listen on")] = "127.0.0.1:8000",
    workers: Annotated[int, typer.Option(min=0, help="worker processes (0: 2 x cores + 1)")] = 0,
    threads: Annotated[
        int, typer.Option(min=1, help="threads per worker (gthread, keep-alive)")
    ] = 2,
) -> None:
    """Run the service with gunicorn (several workers; static files through whitenoise).

    Processes rather than threads: a request is CPU-bound Python between its queries, and more
    than two threads per process queue behind the GIL (long latency tails under load).
    """
    workers = workers or 2 * (os.cpu_count() or 1) + 1
    django_setup()
    from django.core.management import call_command

    call_command("collectstatic", interactive=False, verbosity=0)
    args = [
        "gunicorn",
        "kvcredit.site.wsgi:application",
        "--bind",
        bind,
        "--workers",
        str(workers),
        "--threads",
        str(threads),
        "--access-logfile",
        "-",
        "--graceful-timeout",
        "10",
    ]
    if threads == 1:
        args += ["--worker-class", "sync"]
    sys.stdout.flush()
    os.execvp(sys.executable, [sys.executable, "-m", *args])


def check(
    as_json: Annotated[bool, typer.Option("--json", help="print the findings as JSON")] = False,
) -> None:
    """Check this machine's configuration: database, migrations, secret key, hosts, data
    directory, static files, Dask (if set), policy, Django's checks. Exit 1 on any ERROR."""
    import json

    from django.core.exceptions import ImproperlyConfigured

    try:
        django_setup()
    except ImproperlyConfigured as exc:
        if as_json:
            print(json.dumps([{"item": "settings", "level": "ERROR", "detail": str(exc)}]))
        else:
            err.print(f"[red]ERROR settings: {exc}[/red]")
        raise typer.Exit(1) from None
    from rich.table import Table

    from kvcredit.site.checks import ERROR, WARN, as_rows, run_checks

    findings = run_checks()
    errors = sum(f.level == ERROR for f in findings)
    if as_json:
        print(json.dumps(as_rows(findings), ensure_ascii=False))
    else:
        table = Table("check", "", "detail", show_lines=False)
        style = {ERROR: "bold red", WARN: "yellow"}
        for f in findings:
            table.add_row(f.item, f"[{style.get(f.level, 'green')}]{f.level}[/]", f.detail)
        console.print(table)
        warns = sum(f.level == WARN for f in findings)
        console.print(f"{errors} errors, {warns} warnings")
    if errors:
        raise typer.Exit(1)


@user_app.command("add")
def user_add(
    username: str,
    role: Annotated[str, typer.Option(help="|".join(ROLES))],
    organisation: Annotated[
        str, typer.Option(help="district code, bank code, enterprise USCC or organisation name")
    ] = "",
    password_stdin: Annotated[bool, typer.Option(help="read the password from stdin")] = False,
    email: str = "",
) -> None:
    """Add a user to an organisation (prompts for the password)."""
    django_setup()
    from kvcredit.errors import KvcreditError

    role = role.upper()
    if role not in ROLES:
        raise _fail(ValueError(f"role must be one of {', '.join(ROLES)}"))
    org = _organisation(role, organisation)
    if password_stdin:
        password = sys.stdin.readline().rstrip("\n")
    else:
        password = typer.prompt("password", hide_input=True, confirmation_prompt=True)
    from kvcredit.accounts.services import add_user

    try:
        user = add_user(
            _actor(None), username=username, password=password, organisation=org, email=email
        )
    except KvcreditError as exc:
        raise _fail(exc) from None
    console.print(f"user {user.username} added to {org.name} ({org.kind})")


def _organisation(role: str, ref: str) -> Any:
    from kvcredit.accounts.models import Organisation
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.enterprises.models import Bank, District, Enterprise

    if role == "ADMINISTRATOR" and not ref:
        return ensure_system_user().organisation
    candidates = {
        "DISTRICT": lambda: (
            District.objects.filter(code=ref).first() or District.objects.filter(name=ref).first()
        ),
        "BANK": lambda: Bank.objects.filter(code=ref).first(),
        "ENTERPRISE": lambda: Enterprise.objects.filter(uscc=ref.upper()).first(),
    }
    found = candidates[role]() if role in candidates else None
    org = found.organisation if found is not None else None
    org = org or Organisation.objects.filter(kind=role, name=ref).first()
    if org is None and role == "TRUSTEE" and ref:
        from kvcredit.accounts.services import create_organisation

        org = create_organisation(ensure_system_user(), kind=role, name=ref)
    if org is None:
        raise _fail(ValueError(f"no {role.lower()} organisation {ref!r}"))
    return org


@user_app.command("token")
def user_token(
    username: str,
    name: Annotated[str, typer.Option(help="what the token is for")] = "cli",
    days: Annotated[int, typer.Option(min=1, max=366)] = 90,
) -> None:
    """Issue an API token for a user and print it (shown once; only its digest is kept)."""
    django_setup()
    from kvcredit.accounts.services import issue_token

    _, plain = issue_token(_actor(username), name=name, days=days)
    print(plain)


@audit_app.command("verify")
def audit_verify() -> None:
    """Check the audit hash chain; report the first broken link (exit code 1)."""
    django_setup()
    from kvcredit.audit.services import verify

    result = verify()
    if result.ok:
        console.print(f"audit chain intact: {result.checked} records")
        return
    err.print(f"[red]audit chain broken at record {result.broken_at}: {result.reason}[/red]")
    raise typer.Exit(1)


@enterprises_app.command("import")
def enterprises_import(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="CSV, XLSX, Parquet")],
    year: Annotated[int, typer.Option(min=2000, max=2100, help="the data year")],
    as_user: Annotated[str | None, typer.Option("--as", help="acting user")] = None,
    errors: Annotated[Path | None, typer.Option(help="error report: .csv or .xlsx")] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="as a job for the workers; watch its progress")
    ] = False,
) -> None:
    """Register and submit every valid row (evaluated at once); report every bad row.

    The same validation and error report as `kvcredit evaluate`; all valid rows are stored in
    one transaction. Rows identical to the enterprise's latest data for the year are unchanged.
    Exit status: 0 every row imported, 1 some rows rejected (the valid ones are imported).
    """
    django_setup()
    from kvcredit.cli.views import errors_table
    from kvcredit.enterprises.importing import import_file
    from kvcredit.errors import KvcreditError
    from kvcredit.scoring.io import write_errors

    if queue:
        from kvcredit.cli.jobs import watch_job
        from kvcredit.jobs.services import queue_import

        try:
            job = queue_import(_actor(as_user), data=file.read_bytes(), name=file.name, year=year)
        except KvcreditError as exc:
            raise _fail(exc) from None
        console.print(f"import: job {job.pk} queued")
        raise typer.Exit(watch_job(job.pk))
    try:
        actor = _actor(as_user)
        with err.status("reading") as status:
            report = import_file(actor, file, year=year, progress=status.update)
    except KvcreditError as exc:
        raise _fail(exc) from None
    console.print(
        f"{report.rows} rows read: {report.registered} enterprises registered, "
        f"{report.submitted} data versions submitted ({report.evaluated} evaluated), "
        f"{report.unchanged} unchanged, {report.rejected_rows} rows rejected"
    )
    if report.ignored:
        console.print(f"columns not used 未使用的列: {', '.join(report.ignored)}")
    if not report.errors:
        return
    frame = report.error_frame()
    if errors is not None:
        write_errors(frame, errors)
    console.print(errors_table(frame, errors))
    raise typer.Exit(1)


def policy_publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="policy .toml")],
    as_user: Annotated[str | None, typer.Option("--as", help="acting administrator")] = None,
    queue: Annotated[
        bool, typer.Option("--queue", help="leave the re-evaluation to the job workers")
    ] = False,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="watch it to the end")] = True,
) -> None:
    """Publish a policy (it becomes current) and re-evaluate every enterprise, with progress.

    The re-evaluation is a job (``kvcredit jobs``): run here (default) or by the workers
    (``--queue``). The same file published again after a crash resumes its job."""
    django_setup()
    from kvcredit.cli.jobs import watch_job
    from kvcredit.enterprises.models import ReevaluationJob
    from kvcredit.enterprises.policies import publish_and_queue
    from kvcredit.errors import KvcreditError, ServiceError

    try:
        actor = _actor(as_user)
        published, job = publish_and_queue(actor, source_toml=file.read_text(encoding="utf-8"))
        console.print(
            f"published {published.policy_id} {published.version} "
            f"({published.content_hash[:12]}); re-evaluation job {job.pk}"
        )
        if not wait:
            return
        if watch_job(job.pk, run_here=not queue):
            raise typer.Exit(1)
    except ServiceError as exc:
        details = getattr(exc, "problems", None) or [(exc.field or "", exc.detail)]
        for f, m in details:
            err.print(f"[red]{f}: {m}[/red]" if f else f"[red]{m}[/red]")
        raise typer.Exit(1) from None
    except KvcreditError as exc:
        raise _fail(exc) from None
    rj = ReevaluationJob.objects.get(policy=published)
    console.print(f"re-evaluation {rj.pk}: {rj.status}, {rj.done} of {rj.total} enterprises")
    for name, entry in (rj.missing_fields or {}).items():
        outcomes = ", ".join(f"{k} {n}" for k, n in sorted(entry["outcomes"].items()))
        console.print(
            f"  {name}: {entry['missing']} enterprises lack it 家企业未提供"
            f" (scored with its default 按默认值评价: {outcomes})"
        )


def register(app: typer.Typer) -> None:
    """Add the service's commands to the main ``kvcredit`` app."""
    app.command("init")(init)
    app.command("serve")(serve)
    app.command("check")(check)
    app.add_typer(user_app, name="user")
    app.add_typer(audit_app, name="audit")
    app.add_typer(enterprises_app, name="enterprises")
    policy_app.command("publish")(policy_publish)
