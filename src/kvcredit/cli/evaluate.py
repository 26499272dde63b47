"""The engine's commands: ``kvcredit evaluate``, ``kvcredit policy check|show|diff``, ``kvcredit
synth enterprises``. No Django: files in, files out.

Entry points are thin: they parse arguments, call ``kvcredit.scoring`` and render with Rich
(``kvcredit.cli.views``). Exit status: 0 all rows fine, 1 some rows rejected (the valid ones
are still evaluated and written), 2 unusable input, policy or usage.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Annotated, NoReturn

import polars as pl
import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from kvcredit.cli import views
from kvcredit.errors import EvaluationError, InputFileError, PolicyError
from kvcredit.scoring.io import ReadResult, read_enterprises, write_enterprises, write_errors
from kvcredit.scoring.io import write_results as write_results_file
from kvcredit.scoring.policy import Policy, load_policy
from kvcredit.scoring.report import migration, summarize
from kvcredit.scoring.synth import generate
from kvcredit.scoring.vector import evaluate_frame
from kvcredit.scoring_dask import evaluate_frame as evaluate_frame_on

EXIT_OK, EXIT_REJECTED, EXIT_UNUSABLE = 0, 1, 2
BATCH_ROWS = 250_000
PROGRESS_ABOVE = 50_000
LEADING = ("uscc", "name", "district")
POLICY_HELP = "shipped policy id or a policy .toml file"

policy_app = typer.Typer(help="Check, show and compare evaluation policies.", no_args_is_help=True)
synth_app = typer.Typer(help="Generate synthetic data.", no_args_is_help=True)

console = Console(highlight=False)
err = Console(stderr=True, highlight=False)


def _fail(message: str) -> NoReturn:
    err.print(f"[bold red]error 错误:[/] {message}", soft_wrap=True)
    raise typer.Exit(EXIT_UNUSABLE)


def _policy(ref: str) -> Policy:
    from kvcredit.site.bootstrap import cli_language  # the operator's locale

    try:
        return load_policy(ref)
    except PolicyError as exc:
        lines = "\n".join(f"  {line}" for line in exc.lines(cli_language()))
        _fail(f"invalid policy {ref} 政策无效\n{lines}")


def _read(path: Path, *policies: Policy) -> ReadResult:
    """Read an enterprise file with the fields the policies declare (first one wins a name)."""
    declared = {f.name: f for p in reversed(policies) for f in p.declared}
    try:
        with err.status(f"reading {path.name} …"):
            return read_enterprises(path, declared=list(declared.values()))
    except InputFileError as exc:
        _fail(str(exc))


def evaluate_all(
    policy: Policy,
    frame: pl.DataFrame,
    explain: bool,
    on: dt.date | None = None,
    dask_address: str | None = None,
) -> pl.DataFrame:
    """Evaluate in batches, with a progress bar on large inputs; add names and the policy.

    With ``dask_address`` the batches are Parquet partitions evaluated on that Dask cluster
    (``kvcredit.scoring_dask``); the result is the same frame."""
    batches = [frame.slice(i, BATCH_ROWS) for i in range(0, max(frame.height, 1), BATCH_ROWS)]
    parts: list[pl.DataFrame] = []
    with Progress(
        TextColumn("evaluating 评价中"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=err,
        disable=frame.height <= PROGRESS_ABOVE,
    ) as bar:
        task = bar.add_task("evaluate", total=frame.height)
        if dask_address:
            parts.append(
                evaluate_frame_on(
                    policy,
                    frame,
                    explain=explain,
                    on=on,
                    details=True,
                    dask_address=dask_address,
                    progress=lambda rows: bar.advance(task, rows),
                )
            )
            batches = []
        for batch in batches:
            parts.append(evaluate_frame(policy, batch, explain=explain, on=on, details=True))
            bar.advance(task, batch.height)
    result = (
        pl.concat(parts)
        if parts
        else evaluate_frame(policy, frame, explain=explain, on=on, details=True)
    )
    return pl.concat(
        [frame.select(LEADING), result.drop("uscc"), frame.select(pl.col("_row").alias("row"))],
        how="horizontal",
    ).with_columns(
        pl.lit(policy.id).alias("policy_id"),
        pl.lit(policy.version).alias("policy_version"),
        pl.lit(policy.content_hash).alias("policy_hash"),
    )


def _error_path(errors: Path | None, out: Path | None, source: Path) -> Path:
    if errors is not None:
        return errors
    base = out if out is not None else source
    return base.with_name(base.stem + ".errors.csv")


def _write(action: str, path: Path, write: object) -> None:
    try:
        write()  # type: ignore[operator]
    except (OSError, InputFileError) as exc:
        _fail(f"cannot write {action} {path}: {exc}")


def evaluate(
    input: Annotated[Path, typer.Argument(help="enterprises: .csv, .xlsx or .parquet")],
    policy: Annotated[str, typer.Option(help=POLICY_HELP)] = "chongqing-kvc",
    out: Annotated[Path | None, typer.Option(help="results: .csv .xlsx .parquet .json")] = None,
    explain: Annotated[bool, typer.Option(help="add each indicator's points")] = False,
    errors: Annotated[Path | None, typer.Option(help="error report: .csv or .xlsx")] = None,
    on: Annotated[
        dt.datetime | None,
        typer.Option(formats=["%Y-%m-%d"], help="evaluation date for date windows (today)"),
    ] = None,
    dask: Annotated[
        str | None,
        typer.Option(
            metavar="ADDRESS",
            help="evaluate on this Dask scheduler (tcp://host:8786), in Parquet partitions",
        ),
    ] = None,
) -> None:
    """Evaluate every enterprise in a file; rejected rows go to an error report.

    The results hold each group's sub-score, the failed requirements, the routes that hold,
    the uplifts and the knock-outs of every row.
    """
    pol = _policy(policy)
    read = _read(input, pol)
    day = on.date() if on is not None else dt.date.today()  # the entry point reads the clock
    try:
        results = evaluate_all(pol, read.frame, explain, day, dask_address=dask)
    except EvaluationError as exc:
        _fail(str(exc))
    if out is not None:
        _write("results", out, lambda: write_results_file(results, out))
    report = _error_path(errors, out, input) if (errors or read.errors.height) else None
    if report is not None:
        _write("error report", report, lambda: write_errors(read.report(), report))
    console.print(
        views.summary_table(pol, summarize(pol, results, read.total_rows, read.rejected_rows))
    )
    if read.ignored:
        console.print(f"columns not used 未使用的列: {', '.join(read.ignored)}", soft_wrap=True)
    if out is not None:
        console.print(f"results 结果: {out}")
    if read.errors.height:
        console.print(views.errors_table(read.errors, report))
        raise typer.Exit(EXIT_REJECTED)


@policy_app.command("check")
def policy_check(file: Annotated[str, typer.Argument(help=POLICY_HELP)]) -> None:
    """Validate a policy; errors are listed by key path."""
    pol = _policy(file)
    console.print(f"[green]OK[/] {pol.id} {pol.version}  hash {pol.content_hash}")


@policy_app.command("show")
def policy_show(ref: Annotated[str, typer.Argument(help=POLICY_HELP)]) -> None:
    """Show a policy: header, indicators with bands, conditions, grades and limits."""
    console.print(views.policy_view(_policy(ref)))


@policy_app.command("diff")
def policy_diff(
    old: Annotated[str, typer.Argument(help="the current policy (" + POLICY_HELP + ")")],
    new: Annotated[str, typer.Argument(help="the proposed policy")],
    enterprises: Annotated[Path, typer.Option(help="enterprises to evaluate under both")],
    out: Annotated[Path | None, typer.Option(help="per-enterprise changes: .csv or .xlsx")] = None,
) -> None:
    """How a policy change moves enterprises between grades and changes total credit."""
    old_p, new_p = _policy(old), _policy(new)
    read = _read(enterprises, new_p, old_p)
    today = dt.date.today()
    m = migration(
        old_p,
        evaluate_all(old_p, read.frame, False, today),
        new_p,
        evaluate_all(new_p, read.frame, False, today),
    )
    console.print(views.migration_view(old_p, new_p, m))
    if out is not None:
        names = read.frame.select("name", "district")
        changes = m.changes.select("uscc").hstack(names).hstack(m.changes.drop("uscc"))
        _write("changes", out, lambda: write_results_file(changes, out))
        console.print(f"changes 变化明细: {out}")
    if read.errors.height:
        console.print(f"{read.rejected_rows:,} rows rejected 行被拒绝 (not compared)")


@synth_app.command("enterprises")
def synth_enterprises(
    n: Annotated[int, typer.Argument(min=0, help="number of enterprises")],
    out: Annotated[Path, typer.Option(help=".csv, .xlsx or .parquet")],
    seed: Annotated[int, typer.Option(help="random seed (same seed, same data)")] = 1,
    chinese_headers: Annotated[bool, typer.Option(help="Chinese column headers")] = False,
) -> None:
    """Write N realistic synthetic technology enterprises, reproducible from the seed."""
    frame = generate(n, seed)
    _write("enterprises", out, lambda: write_enterprises(frame, out, chinese_headers))
    console.print(f"{n:,} enterprises 家企业 → {out}")


def register(app: typer.Typer) -> None:
    """Add the engine's commands to the main ``kvcredit`` app."""
    app.command("evaluate")(evaluate)
    app.add_typer(policy_app, name="policy")
    app.add_typer(synth_app, name="synth")
