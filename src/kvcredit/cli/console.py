"""`kvcredit i18n`: the translation catalogues, with Babel (no GNU gettext needed)."""

from __future__ import annotations

import typer

app = typer.Typer(help="Translation catalogues (Simplified Chinese).", no_args_is_help=True)


@app.command("compile")
def compile_(force: bool = typer.Option(False, help="compile even when up to date")) -> None:
    """Compile the .po catalogues into the .mo files Django reads."""
    from kvcredit.console.i18n import compile_catalogues

    for path in compile_catalogues(force=force):
        typer.echo(f"compiled {path}")


@app.command("extract")
def extract() -> None:
    """Add the source's new msgids to the catalogue (translations kept); list the untranslated."""
    from kvcredit.console.i18n import extract as run
    from kvcredit.console.i18n import missing

    run()
    for msgid in missing():
        typer.echo(f"untranslated: {msgid}")


@app.command("check")
def check() -> None:
    """Exit 1 when a msgid of the source has no Simplified Chinese translation."""
    from kvcredit.console.i18n import missing

    left = missing()
    for msgid in left:
        typer.echo(f"untranslated: {msgid}")
    raise typer.Exit(1 if left else 0)


demo_app = typer.Typer(help="The demo programme (make demo).", no_args_is_help=True)


@demo_app.command("load")
def demo_load(
    seed: int = typer.Option(2017, help="random seed: the same seed gives the same programme"),
    enterprises: int = typer.Option(5000, min=50, help="synthetic enterprises to register"),
    until: str = typer.Option("", help="last day of the history, YYYY-MM-DD (default yesterday)"),
    years: int = typer.Option(
        0, min=0, max=10, help="years of lending history (default: from 2021-01-01)"
    ),
) -> None:
    """Generate a demo programme into the configured database (empty, e.g. a fresh SQLite):
    from 2021-01-01 under the rulebook chongqing-2017, chongqing-2022 published on 2021-12-31."""
    from kvcredit.demo import cli_load

    cli_load(seed, enterprises, until or None, years or None)


def report(
    date_from: str = typer.Option("", "--from", help="first day, YYYY-MM-DD"),
    date_to: str = typer.Option("", "--to", help="last day, YYYY-MM-DD"),
    by: str = typer.Option("district", help="district|bank|grade|industry|month"),
    fmt: str = typer.Option("xlsx", "--format", help="xlsx|csv|json"),
    out: str = typer.Option("", help="file to write (default: kvcredit-report.<format>)"),
) -> None:
    """The programme's headline figures by a dimension, as Excel (with charts), CSV or JSON."""
    import datetime as dt
    from pathlib import Path

    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit.accounts.services import ensure_system_user
    from kvcredit.money import fen_to_yuan
    from kvcredit.reporting import export, programme
    from kvcredit.reporting.aggregate import DIMENSIONS

    if by not in DIMENSIONS or fmt not in export.FORMATS:
        typer.echo(f"--by one of {DIMENSIONS}, --format one of {export.FORMATS}", err=True)
        raise typer.Exit(2)
    try:
        start = dt.date.fromisoformat(date_from) if date_from else None
        end = dt.date.fromisoformat(date_to) if date_to else None
    except ValueError:
        typer.echo("--from and --to are YYYY-MM-DD", err=True)
        raise typer.Exit(2) from None
    s = programme.statistics(ensure_system_user(), by=by, date_from=start, date_to=end)
    path = Path(out or f"kvcredit-report.{fmt}")
    if fmt == "xlsx":
        export.to_xlsx(path, by, s["total"], s["groups"], by_month=s["by_month"], pools=s["pools"])
    elif fmt == "csv":
        path.write_text(export.to_csv(by, s["total"], s["groups"]), encoding="utf-8")
    else:
        path.write_text(export.to_json(by, s["total"], s["groups"], s["pools"]), encoding="utf-8")
    t = s["total"]
    typer.echo(
        f"{t.enterprise_times} enterprise-times, {fen_to_yuan(t.amount_lent_fen):,} yuan lent, "
        f"{len(s['groups'])} groups by {by} -> {path}"
    )
