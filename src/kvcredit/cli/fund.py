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


@app.command("partners")
def partners(
    district: Annotated[str, typer.Option("--district", help="the pool's district code")],
    as_user: Annotated[str | None, typer.Option("--as", help="acting user")] = None,
) -> None:
    """What each loss-sharing partner of a pool owes of the claims paid, has paid in, and what
    the fund has paid on."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from django.utils.translation import gettext as _
    from rich.table import Table

    from kvcredit.cli.platform import _actor
    from kvcredit.enterprises.models import District
    from kvcredit.errors import ServiceError
    from kvcredit.fund import settlements
    from kvcredit.money import fen_to_yuan

    d = District.objects.filter(code=district).first()
    if d is None:
        err.print(f"[red]--district: no district {district!r}[/red]")
        raise typer.Exit(2)
    try:
        _pool, rows = settlements.positions(_actor(as_user), district_id=d.pk)
    except ServiceError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    t = Table(title=_("Owed by partners") + f" {district}")
    heads = ("Party", "Shares (yuan)", "Recovered (yuan)", "Paid in (yuan)", "Paid on (yuan)")
    for head in (*heads, "Owed (yuan)", "Payable (yuan)", "Owed back (yuan)"):
        t.add_column(_(head))
    for r in rows:
        t.add_row(
            r["party"],
            *(
                str(fen_to_yuan(r[k]))
                for k in (
                    "shares_fen",
                    "recovered_fen",
                    "received_fen",
                    "paid_out_fen",
                    "owed_fen",
                    "payable_fen",
                    "refundable_fen",
                )
            ),
        )
    console.print(t)


@app.command("settle-partner")
def settle_partner(
    district: Annotated[str, typer.Option("--district", help="the pool's district code")],
    party: Annotated[str, typer.Option("--party", help="the rulebook's party id")],
    amount: Annotated[str, typer.Option("--amount", help="yuan, to the fen")],
    reference: Annotated[str, typer.Option("--reference", help="unique; a retry posts once")],
    direction: Annotated[
        str, typer.Option("--direction", help="RECEIVED (paid in) or PAID_OUT (paid on)")
    ] = "RECEIVED",
    on: Annotated[str | None, typer.Option("--on", help="YYYY-MM-DD; default today")] = None,
    as_user: Annotated[str | None, typer.Option("--as", help="acting trustee")] = None,
) -> None:
    """Record a loss-sharing partner's part settled in cash."""
    day = _day(on)
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit import clock
    from kvcredit.cli.platform import _actor
    from kvcredit.enterprises.models import District
    from kvcredit.errors import ServiceError
    from kvcredit.fund import settlements
    from kvcredit.money import format_yuan, yuan_to_fen

    d = District.objects.filter(code=district).first()
    if d is None:
        err.print(f"[red]--district: no district {district!r}[/red]")
        raise typer.Exit(2)
    try:
        fen = yuan_to_fen(amount)
    except ValueError:
        err.print(f"[red]--amount: not an amount in yuan to the fen: {amount!r}[/red]")
        raise typer.Exit(2) from None
    try:
        s = settlements.settle(
            _actor(as_user),
            district_id=d.pk,
            party=party,
            direction=direction,
            amount_fen=fen,
            on=day or clock.today(),
            reference=reference,
        )
    except ServiceError as exc:
        err.print(f"[red]{exc}[/red]")
        raise typer.Exit(1) from None
    console.print(
        f"settlement {s.pk}: {s.party} {s.direction} {format_yuan(s.amount_fen)} "
        f"on {s.settled_on} (entry {s.entry_id})"
    )
