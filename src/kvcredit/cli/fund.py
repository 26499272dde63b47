"""`kvcredit fund …`: export the books, run the breakers. Thin: set Django up, call, print."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(help="The risk compensation fund: its books.", no_args_is_help=True)
console = Console()
err = Console(stderr=True)


@app.command("export")
def export(
    out: Annotated[Path, typer.Option("--out", help="file to write")],
    format: Annotated[str, typer.Option("--format", help="only beancount")] = "beancount",
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="entries dated on or before (YYYY-MM-DD)")
    ] = None,
) -> None:
    """Write the fund's books (every pool's journal) as a beancount ledger."""
    if format != "beancount":
        err.print(f"[red]unknown format {format!r}: only beancount[/red]")
        raise typer.Exit(2)
    try:
        day = dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"[red]--as-of: not a date: {as_of!r}[/red]")
        raise typer.Exit(2) from None
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.fund.export import write_beancount

    n = write_beancount(out, as_of=day)
    console.print(f"{n} journal entries written to {out}")
