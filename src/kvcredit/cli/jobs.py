"""`kvcredit worker`, `kvcredit scheduler` and `kvcredit jobs list|show|retry|watch`.

A worker runs the queued jobs (django-tasks' database worker), takes over a job whose
heartbeat went stale, and queues the nightly day when it is due (``--no-nightly``: not this
one). ``kvcredit scheduler`` does only the last two, for a deployment that keeps them apart.
"""

from __future__ import annotations

import json
import time
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)
jobs_app = typer.Typer(help="Long jobs: list, show, retry, watch. 后台任务。", no_args_is_help=True)


def worker(
    queue: Annotated[
        str, typer.Option("--queue", help="queues, comma-separated (default, batch; * all)")
    ] = "*",
    interval: Annotated[float, typer.Option(help="seconds between polls when idle")] = 1.0,
    nightly: Annotated[
        bool, typer.Option("--nightly/--no-nightly", help="queue the nightly day when due")
    ] = True,
    batch: Annotated[bool, typer.Option("--batch", help="run what is queued, then exit")] = False,
) -> None:
    """Run job workers: the queued jobs, stale take-over, the nightly day. 运行后台任务。"""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    import logging

    from django.conf import settings
    from django_tasks_db.management.commands.db_worker import Worker

    from kvcredit.jobs import runner
    from kvcredit.jobs.nightly import Housekeeper

    logging.getLogger("kvcredit.jobs").setLevel(logging.INFO)
    runner.kinds()
    keeper = Housekeeper(max(1.0, float(settings.KVCREDIT_JOB_HEARTBEAT)), nightly=nightly)
    keeper.start()
    w = Worker(
        queue_names=queue.split(","),
        interval=interval,
        batch=batch,
        backend_name="default",
        startup_delay=False,
        max_tasks=None,
        worker_id=runner._worker_id(),
        excluded_queue_names=[],
    )
    err.print(f"worker {w.worker_id} on queues {queue} (Ctrl-C stops it)")
    w.configure_signals()
    try:
        w.run()
    finally:
        keeper.stop()


def scheduler(
    every: Annotated[float, typer.Option(help="seconds between rounds")] = 30.0,
    once: Annotated[bool, typer.Option("--once", help="one round, then exit")] = False,
) -> None:
    """Queue the nightly day when due (KVCREDIT_NIGHTLY_AT) and take over stale jobs."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from django.db import close_old_connections

    from kvcredit.jobs.nightly import housekeeping

    while True:
        housekeeping()
        close_old_connections()
        if once:
            return
        time.sleep(every)


def _visible(user: str | None) -> Any:
    from kvcredit.jobs import selectors
    from kvcredit.jobs.models import Job

    if user is None:
        return Job.objects.defer(*selectors.LIGHT)
    from kvcredit.cli.platform import _actor

    return selectors.jobs(_actor(user))


@jobs_app.command("list")
def jobs_list(
    state: Annotated[str, typer.Option(help="QUEUED|RUNNING|DONE|FAILED")] = "",
    limit: Annotated[int, typer.Option(min=1)] = 30,
    as_user: Annotated[str | None, typer.Option("--as", help="only what this user sees")] = None,
) -> None:
    """The latest jobs."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    qs = _visible(as_user).order_by("-id")
    if state:
        qs = qs.filter(state=state.upper())
    from django.utils.timezone import localtime

    table = Table("id", "kind", "state", "progress", "started", "finished", "reason")
    for j in qs[:limit]:
        total = f"/{j.total:,}" if j.total else ""
        table.add_row(
            str(j.pk),
            j.kind,
            j.state,
            f"{j.done:,}{total}",
            f"{localtime(j.started_at):%m-%d %H:%M:%S}" if j.started_at else "",
            f"{localtime(j.finished_at):%m-%d %H:%M:%S}" if j.finished_at else "",
            (j.reason or "")[:60],
        )
    console.print(table)


def _get(job_id: int, as_user: str | None = None) -> Any:
    job = _visible(as_user).filter(pk=job_id).first()
    if job is None:
        err.print(f"[red]no job {job_id}[/red]")
        raise typer.Exit(2)
    return job


@jobs_app.command("show")
def jobs_show(
    job_id: int,
    as_json: Annotated[bool, typer.Option("--json", help="as JSON")] = False,
    as_user: Annotated[str | None, typer.Option("--as", help="only what this user sees")] = None,
) -> None:
    """One job: state, progress, times, reason, result."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.jobs.selectors import as_dict

    data = as_dict(_get(job_id, as_user))
    if as_json:
        print(json.dumps(data, default=str, ensure_ascii=False))
        return
    for k, v in data.items():
        console.print(f"{k}: {v}")


@jobs_app.command("retry")
def jobs_retry(
    job_id: int,
    wait: Annotated[bool, typer.Option("--wait", help="watch it until it ends")] = False,
) -> None:
    """Queue a failed job again; it resumes from its last checkpoint."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.errors import ServiceError
    from kvcredit.jobs import runner

    try:
        job = runner.retry(job_id)
    except ServiceError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(f"job {job.pk} queued again (attempt {job.attempts + 1})")
    if wait:
        raise typer.Exit(watch_job(job.pk))


def watch_job(job_id: int, *, poll: float = 0.5, run_here: bool = False) -> int:
    """Draw a job's progress (Rich) until it ends; 0 done, 1 failed. With ``run_here`` this
    process runs the job itself whenever it is queued (a command that waits for its job), and
    takes it over when it goes stale."""
    import threading

    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TimeElapsedColumn

    from kvcredit.jobs import runner
    from kvcredit.jobs.models import Job

    here: threading.Thread | None = None
    columns = (*Progress.get_default_columns()[:1], BarColumn(), MofNCompleteColumn())
    with Progress(*columns, TimeElapsedColumn(), console=err, transient=False) as bar:
        task = bar.add_task(f"job {job_id}", total=None)
        while True:
            job = Job.objects.defer("payload", "output").get(pk=job_id)
            bar.update(
                task,
                completed=job.done,
                total=job.total or None,
                description=f"job {job_id} {job.kind} {job.state}",
            )
            if job.state in (Job.State.DONE, Job.State.FAILED):
                break
            busy = here is not None and here.is_alive()
            if run_here and not busy and job.state == Job.State.QUEUED:
                here = threading.Thread(
                    target=_run_here, args=(job.pk, job.fence), name=f"job-{job.pk}", daemon=True
                )
                here.start()
            elif run_here and not busy:
                runner.take_over_stale()
            time.sleep(poll)
    if here is not None:
        here.join()
    if job.state == Job.State.FAILED:
        err.print(f"[red]job {job_id} failed: {job.reason}[/red]")
        return 1
    console.print(f"job {job_id} done: {json.dumps(job.result, ensure_ascii=False)[:500]}")
    return 0


def _run_here(job_id: int, fence: int) -> None:
    from django.db import close_old_connections

    from kvcredit.jobs.runner import run_job

    try:
        run_job.call(job_id, fence)
    finally:
        close_old_connections()


@jobs_app.command("start")
def jobs_start(
    kind: Annotated[str, typer.Argument(help="eod|import_enterprises|repayments|export")],
    file: Annotated[str, typer.Option(help="the file an import or repayments job reads")] = "",
    param: Annotated[
        list[str] | None, typer.Option("--param", "-p", help="NAME=VALUE, repeatable")
    ] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="acting user")] = None,
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="watch it to the end")] = True,
) -> None:
    """Queue a job for the workers (parameters: eod as_of, catch_up; import_enterprises
    year; repayments today; export what=statistics|fund_books) and watch it."""
    from pathlib import Path

    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit import clock
    from kvcredit.cli.platform import _actor
    from kvcredit.errors import ServiceError
    from kvcredit.jobs import services

    params = dict(p.split("=", 1) for p in (param or []) if "=" in p)
    actor = _actor(as_user)
    data = Path(file).read_bytes() if file else b""
    name = Path(file).name if file else ""
    try:
        if kind == "eod":
            import datetime as dt

            day = dt.date.fromisoformat(params.get("as_of") or clock.today().isoformat())
            catch_up = params.get("catch_up", "1").lower() in {"1", "true", "yes"}
            job = services.queue_eod(actor, as_of=day, catch_up=catch_up)
        elif kind == "import_enterprises":
            job = services.queue_import(actor, data=data, name=name, year=int(params["year"]))
        elif kind == "repayments":
            today = params.get("today") or clock.today().isoformat()
            import datetime as dt

            job = services.queue_repayments(
                actor, data=data, name=name, today=dt.date.fromisoformat(today)
            )
        elif kind == "export":
            job = services.queue_export(actor, what=params.pop("what", "statistics"), **params)
        else:
            err.print(f"[red]no kind of job {kind!r}[/red]")
            raise typer.Exit(2)
    except ServiceError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(f"job {job.pk} queued ({job.kind})")
    if wait:
        raise typer.Exit(watch_job(job.pk))


@jobs_app.command("watch")
def jobs_watch(job_id: int) -> None:
    """Watch a job's progress until it ends (exit 1 if it failed)."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    _get(job_id)
    raise typer.Exit(watch_job(job_id))


def register(app: typer.Typer) -> None:
    app.command("worker")(worker)
    app.command("scheduler")(scheduler)
    app.add_typer(jobs_app, name="jobs")
