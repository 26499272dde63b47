"""``kvcredit rulebook``: check, show, compare, list and publish programme rulebooks.

    kvcredit rulebook check FILE          validate; errors by key path (operator's language)
    kvcredit rulebook show ID|FILE        every rule by key path, ours marked
    kvcredit rulebook diff A B            the rules that differ
    kvcredit rulebook list                the published rulebooks, the one in force today marked
    kvcredit rulebook publish FILE        preview, then publish (``--yes`` skips the question)

Exit status as ``kvcredit policy``: 0 fine, 1 refused (publishing would rewrite the past, or
differences found by ``diff --exit-code``), 2 unusable input (an invalid rulebook).
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kvcredit.errors import KvcreditError, RulebookError
from kvcredit.rulebook.domain import Rulebook, diff, flatten, load_rulebook, rule_text

EXIT_OK, EXIT_REFUSED, EXIT_UNUSABLE = 0, 1, 2
HELP = "shipped rulebook id (chongqing-2022) or a rulebook .toml file"

app = typer.Typer(
    help="Check, show, compare and publish programme rulebooks.", no_args_is_help=True
)
console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(message: str, code: int = EXIT_UNUSABLE) -> NoReturn:
    err.print(f"[bold red]error 错误:[/] {message}", soft_wrap=True)
    raise typer.Exit(code)


def _load(ref: str) -> Rulebook:
    from kvcredit.site.bootstrap import cli_language

    try:
        return load_rulebook(ref)
    except RulebookError as exc:
        lines = "\n".join(f"  {line}" for line in exc.lines(cli_language()))
        _fail(f"invalid rulebook {ref} 规则手册无效\n{lines}")


def rulebook_view(rb: Rulebook) -> Group:
    h = rb.header
    head = Text()
    head.append(f"{h.title}\n", style="bold")
    if h.title_zh:
        head.append(f"{h.title_zh}\n")
    head.append(f"{rb.id} {rb.version}  effective 生效 {rb.effective}  authority 发布机关 ")
    head.append(f"{h.authority}\nhash {rb.content_hash}\n")
    if h.notes:
        paragraphs = [" ".join(p.split()) for p in h.notes.strip().split("\n\n")]
        head.append("\n".join(paragraphs) + "\n", style="dim")
    for s in h.sources:
        head.append(f"· {s}\n", style="dim")
    parts: list[Any] = [Panel(head, title="rulebook 规则手册")]
    data = rb.dump()
    for section in ("fund", "loan", "subsidy", "deferral"):
        rows = flatten(data[section], section)
        if not rows:
            continue
        t = Table(title=section, show_lines=False)
        t.add_column("rule 规则", overflow="fold")
        t.add_column("value 取值")
        t.add_column("ours 自定", justify="center")
        for path, value in rows:
            t.add_row(path, rule_text(value), "ours" if rb.is_ours(path) else "")
        parts.append(t)
    parts.append(Text("ours: no source publishes the rule; it is this programme's own choice"))
    return Group(*parts)


@app.command("check")
def check(file: Annotated[str, typer.Argument(help=HELP)]) -> None:
    """Validate a rulebook; errors are listed by key path."""
    rb = _load(file)
    console.print(
        f"[green]OK[/] {rb.id} {rb.version} effective {rb.effective}  hash {rb.content_hash}"
    )


@app.command("show")
def show(ref: Annotated[str, typer.Argument(help=HELP)]) -> None:
    """Show a rulebook: its header and every rule by key path, those that are ours marked."""
    console.print(rulebook_view(_load(ref)))


def diff_table(a: Rulebook, b: Rulebook, changes: list[tuple[str, Any, Any]]) -> Table:
    t = Table(title=f"{a.id} {a.version} → {b.id} {b.version}")
    t.add_column("rule 规则", overflow="fold")
    t.add_column(f"{a.id} {a.version}")
    t.add_column(f"{b.id} {b.version}")
    for path, x, y in changes:
        t.add_row(path, rule_text(x), rule_text(y))
    return t


@app.command("diff")
def diff_cmd(
    a: Annotated[str, typer.Argument(help="the current rulebook (" + HELP + ")")],
    b: Annotated[str, typer.Argument(help="the proposed rulebook")],
    exit_code: Annotated[bool, typer.Option(help="exit 1 when they differ")] = False,
) -> None:
    """The rules that differ between two rulebooks, by key path."""
    ra, rb = _load(a), _load(b)
    changes = diff(ra, rb)
    if not changes:
        console.print("no differences 无差异")
        return
    console.print(diff_table(ra, rb, changes))
    console.print(f"{len(changes)} rules differ 条规则不同")
    if exit_code:
        raise typer.Exit(EXIT_REFUSED)


@app.command("list")
def list_cmd() -> None:
    """The published rulebooks in effective-date order; the one in force today marked."""
    from kvcredit.site.bootstrap import django_setup

    django_setup()
    from kvcredit import clock
    from kvcredit.rulebook.models import PublishedRulebook
    from kvcredit.rulebook.services import in_force

    try:
        now = in_force(clock.today())
    except KvcreditError:
        now = None
    t = Table(title="published rulebooks 已发布的规则手册")
    for col in ("id", "version", "effective 生效", "hash", "published 发布", "by", "in force"):
        t.add_column(col)
    for p in PublishedRulebook.objects.select_related("published_by"):
        t.add_row(
            p.rulebook_id,
            p.version,
            p.effective.isoformat(),
            p.content_hash[:12],
            p.published_at.date().isoformat(),
            p.published_by.username,
            "●" if now is not None and now.pk == p.pk else "",
        )
    console.print(t)


@app.command("publish")
def publish(
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help="rulebook .toml")],
    as_user: Annotated[
        str | None, typer.Option("--as", help="administrator username (default: system)")
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="publish without asking")] = False,
) -> None:
    """Preview what would change, then publish the rulebook (immutable once published)."""
    from kvcredit.site.bootstrap import django_setup

    _load(str(file))  # invalid: exit 2 with the key paths, before touching the database
    django_setup()
    from kvcredit.cli.platform import _actor
    from kvcredit.rulebook import services

    text = file.read_text(encoding="utf-8")
    try:
        p = services.preview(text)
    except KvcreditError as exc:
        _fail(str(exc))
    if p.against is not None:
        if p.changes:
            console.print(diff_table(p.against, p.rulebook, p.changes))
        else:
            console.print("no rule changes 规则无变化")
    for line in p.effects.get("lines", []):
        console.print(f"· {line}")
    if p.refused:
        _fail(p.refused, EXIT_REFUSED)
    if not yes and not typer.confirm(
        f"publish {p.rulebook.id} {p.rulebook.version}, in force from {p.rulebook.effective}?"
    ):
        raise typer.Exit(EXIT_REFUSED)
    try:
        published = services.publish(text, _actor(as_user))
    except KvcreditError as exc:
        _fail(str(exc), EXIT_REFUSED)
    console.print(
        f"[green]published[/] {published.rulebook_id} {published.version} "
        f"in force from {published.effective} ({published.content_hash[:12]})"
    )
