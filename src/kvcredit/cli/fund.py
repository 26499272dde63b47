"""`kvcredit fund …`: export the books, show the banks' compensation limits (allowance and caps)
and the contributions owed under the rulebook in force. Thin: set Django up, call, print."""

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


def _day(as_of: str | None) -> dt.date | None:
    try:
        return dt.date.fromisoformat(as_of) if as_of else None
    except ValueError:
        err.print(f"[red]--as-of: not a date: {as_of!r}[/red]")
        raise typer.Exit(2) from None


AS_OF = typer.Option("--as-of", help="the date (YYYY-MM-DD; default: the business date)")


@app.command("limits")
def limits(as_of: Annotated[str | None, AS_OF] = None) -> None:
    """Each bank's compensation allowance and caps under the rulebook in force."""
    day = _day(as_of)
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from django.utils.translation import gettext as _
    from rich.table import Table

    from kvcredit import clock
    from kvcredit.enterprises.models import Bank
    from kvcredit.fund import selectors
    from kvcredit.money import fen_to_yuan

    on = day or clock.today()
    t = Table(title=_("Compensation limits (the rulebook in force)") + f" {on}")
    for head in (
        _("Bank"),
        _("Allowance accrued (yuan)"),
        _("Allowance used (yuan)"),
        _("Allowance cap (yuan)"),
        _("Allowance available (yuan)"),
        _("Cap per loan (yuan)"),
        _("Paid this year (yuan)"),
        _("Left this year (yuan)"),
    ):
        t.add_column(head)

    def y(fen: int | None) -> str:
        return "—" if fen is None else str(fen_to_yuan(fen))

    for bank in Bank.objects.order_by("code"):
        b = selectors.bank_limits(bank, on)
        a = b.allowance
        t.add_row(
            bank.code,
            y(a and a.accrued_fen),
            y(a and a.used_fen),
            y(a and a.cap_fen),
            y(a and a.available_fen),
            y(b.cap_per_loan_fen),
            y(b.year_paid_fen),
            y(b.year_left_fen),
        )
    console.print(t)


@app.command("owed")
def owed(as_of: Annotated[str | None, AS_OF] = None) -> None:
    """What each contributing party (the rulebook's names) owes each pool."""
    day = _day(as_of)
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from django.utils.translation import gettext as _
    from rich.table import Table

    from kvcredit import clock
    from kvcredit.fund import applied
    from kvcredit.fund.models import Pool
    from kvcredit.money import fen_to_yuan

    on = day or clock.today()
    t = Table(title=_("Contributions owed (the rulebook in force)") + f" {on}")
    for head in (
        _("District"),
        _("Party"),
        _("Committed (yuan)"),
        _("Minimum initial payment (yuan)"),
        _("Paid (yuan)"),
        _("Initial payment owed (yuan)"),
        _("Owed to the top-up target (yuan)"),
    ):
        t.add_column(head)
    for pool in Pool.objects.select_related("district").order_by("district__code"):
        for p in applied.owed(pool, on):
            o = p.owed
            t.add_row(
                pool.district.code,
                p.label,
                *(
                    str(fen_to_yuan(max(v, 0)))
                    for v in (
                        o.committed_fen,
                        o.initial_due_fen,
                        o.paid_fen,
                        o.initial_owed_fen,
                        o.top_up_owed_fen,
                    )
                ),
            )
    console.print(t)
