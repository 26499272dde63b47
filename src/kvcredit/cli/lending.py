"""`kvcredit eod --date D [--catch-up]`: the end of day over the whole live book.

Exit status: 0 the day ran (or had already run: nothing changes and it says so); 1 refused
(a skipped day without ``--catch-up``, or a day after today: the end of day never runs ahead
of the business date, which would close every day up to it for postings).
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

console = Console()
err = Console(stderr=True)


def eod(
    date: Annotated[str, typer.Option("--date", help="the day to close, YYYY-MM-DD")],
    catch_up: Annotated[
        bool, typer.Option("--catch-up", help="run the missing days before it, in order")
    ] = False,
    queue: Annotated[
        bool, typer.Option("--queue", help="as a job for the workers; watch its progress")
    ] = False,
) -> None:
    """Age the loan book to DATE: interest, due instalments, penalty, days past due, the five
    categories, closures and maturities. 日终批处理。"""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.day import run_day
    from kvcredit.errors import ServiceError

    try:
        day = dt.date.fromisoformat(date)
    except ValueError:
        err.print(f"[red]--date must be YYYY-MM-DD, not {date!r}[/red]")
        raise typer.Exit(2) from None
    from kvcredit import clock
    from kvcredit.lending.dates import require_not_after_today

    if queue:
        from kvcredit.cli.jobs import watch_job
        from kvcredit.jobs.services import queue_eod

        try:
            job = queue_eod(None, as_of=day, catch_up=catch_up)
        except ServiceError as exc:
            err.print(f"[red]{exc.detail}[/red]")
            raise typer.Exit(1) from None
        console.print(f"end of day: job {job.pk} queued")
        raise typer.Exit(watch_job(job.pk))
    try:
        require_not_after_today(day, clock.today())  # the business date
        reports = run_day(as_of=day, catch_up=catch_up)
    except ServiceError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    if len(reports) == 1 and reports[0].already_run:
        console.print(f"end of day {day} has already run: nothing changed 日终已执行，未作更改")
        return
    table = Table("date", "loans", "fell due", "matured", "closed", "expired", "categories")
    for r in reports:
        cats = " ".join(f"{k}={v}" for k, v in r.categories.items() if v)
        table.add_row(
            str(r.day),
            f"{r.loans:,}",
            f"{r.fell_due:,}",
            f"{r.matured:,}",
            f"{r.closed:,}",
            f"{r.expired_applications:,}",
            cats,
        )
    console.print(table)


def register(app: typer.Typer) -> None:
    app.command("eod")(eod)
