"""`kvcredit subsidy run|notice`: pay the interest subsidies due on a day; write the public
notice (贴息公示) of those paid in a period as Excel. Thin: set Django up, call, print.

Exit status: 0 done; 1 refused (a service refusal, printed); 2 bad arguments.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

app = typer.Typer(
    help="Interest subsidies (贴息): pay them, publish the notice.", no_args_is_help=True
)
console = Console()
err = Console(stderr=True)


def _date(value: str | None, option: str) -> dt.date | None:
    if value is None:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        err.print(f"[red]{option} must be YYYY-MM-DD, not {value!r}[/red]")
        raise typer.Exit(2) from None


@app.command("run")
def run(
    date: Annotated[str, typer.Option("--date", help="the day to pay for, YYYY-MM-DD")],
) -> None:
    """Pay every interest subsidy due on DATE that has not been paid (the business day does
    this after the end of day; running it again pays nothing twice). 拨付贴息。"""
    day = _date(date, "--date")
    assert day is not None
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit import clock
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.errors import ServiceError
    from kvcredit.fund.subsidies import pay_subsidies
    from kvcredit.lending.dates import require_not_after_today
    from kvcredit.money import fen_to_yuan

    try:
        require_not_after_today(day, clock.today())
        result = pay_subsidies(ensure_system_user(), on=day)
    except ServiceError as exc:
        err.print(f"[red]{exc.detail}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"{day}: {len(result.paid)} subsidies paid, {fen_to_yuan(result.total_fen):,} yuan "
        f"(rulebook {result.rulebook or '-'}); {result.waiting} waiting for a pool's cash"
    )


@app.command("notice")
def notice(
    out: Annotated[Path, typer.Option("--out", help="the .xlsx file to write")],
    start: Annotated[str | None, typer.Option("--from", help="paid on or after")] = None,
    end: Annotated[str | None, typer.Option("--to", help="paid on or before")] = None,
) -> None:
    """Write the public notice of the interest subsidies paid in a period (Excel). 贴息公示。"""
    a, b = _date(start, "--from"), _date(end, "--to")
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.fund import notice as writer

    n = writer.write(out, ensure_system_user(), start=a, end=b)
    console.print(f"{n} subsidies listed in {out}")
