"""The kinds of long job, each a handler that works in idempotent, checkpointed chunks.

    reevaluate          every enterprise under a newly published policy (one per programme)
    import_enterprises  an enterprise file (CSV/XLSX/Parquet), CHUNK valid rows at a time
    repayments          a bank's repayment file, CHUNK rows at a time
    eod                 the programme's business day(s) (``kvcredit.day``), one day at a time
    export              a report or the fund's books, written into the job (download it)

Each handler resumes from ``ctx.state`` (what the last committed chunk recorded) and
checkpoints inside each chunk's own transaction: a run killed anywhere ends, once resumed,
in the same state as a run never interrupted.
"""

from __future__ import annotations

import datetime as dt
import io
import tempfile
from pathlib import Path
from typing import Any

from django.db import transaction
from django.utils.translation import gettext_noop

from kvcredit.jobs.runner import JobContext, chunk_size, register


def actor_of(ctx: JobContext) -> Any:
    from kvcredit.accounts.services import ensure_system_user

    user = ctx.job.owner_user
    return user if user is not None else ensure_system_user()


@register("reevaluate", queue="batch", label=gettext_noop("policy re-evaluation"))
def reevaluate(ctx: JobContext) -> dict[str, Any]:
    from kvcredit.enterprises import policies
    from kvcredit.enterprises.models import ReevaluationJob

    rj = ReevaluationJob.objects.get(pk=ctx.params["reevaluation"])

    def on_batch(done: int, total: int) -> None:
        ctx.checkpoint(done, {}, total)

    out = policies.run_job(actor_of(ctx), rj, batch=chunk_size(), on_batch=on_batch)
    return {"status": out.status, "done": out.done, "total": out.total, "policy": rj.policy_id}


@register("import_enterprises", label=gettext_noop("enterprise import"))
def import_enterprises(ctx: JobContext) -> dict[str, Any]:
    from kvcredit.enterprises.importing import import_file

    name = ctx.job.payload_name or "import.csv"
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / Path(name).name
        path.write_bytes(bytes(ctx.job.payload or b""))

        def on_chunk(done: int, total: int, state: dict[str, Any]) -> None:
            ctx.checkpoint(done, state, total)

        report = import_file(
            actor_of(ctx),
            path,
            year=int(ctx.params["year"]),
            chunk_rows=chunk_size(),
            resume=ctx.state,
            on_chunk=on_chunk,
        )
    return {
        "rows": report.rows,
        "registered": report.registered,
        "submitted": report.submitted,
        "evaluated": report.evaluated,
        "unchanged": report.unchanged,
        "rejected_rows": report.rejected_rows,
        "errors": [e.__dict__ for e in report.errors[:1000]],
    }


@register("repayments", label=gettext_noop("repayment file"))
def repayments(ctx: JobContext) -> dict[str, Any]:
    from kvcredit.lending.repayment_import import post_rows, read_file

    today = dt.date.fromisoformat(ctx.params["today"])
    rows = read_file(bytes(ctx.job.payload or b""), ctx.job.payload_name)
    state = ctx.state or {"next": 0, "applied": 0, "ids": [], "errors": [], "first_row": {}}
    size = chunk_size()
    actor = actor_of(ctx)
    if ctx.total is None:
        ctx.set_total(len(rows))
    for start in range(int(state["next"]), len(rows), size):
        with transaction.atomic():
            part = post_rows(
                actor, rows[start : start + size], today=today, first_row=state["first_row"]
            )
            state = {
                "next": start + size,
                "applied": state["applied"] + part.applied,
                "ids": state["ids"] + part.repayment_ids,
                "errors": state["errors"] + [e.__dict__ for e in part.errors],
                "first_row": state["first_row"],
            }
            ctx.checkpoint(min(start + size, len(rows)), state, len(rows))
    return {"applied": state["applied"], "repayment_ids": state["ids"], "errors": state["errors"]}


@register("eod", queue="batch", label=gettext_noop("end of day"))
def end_of_day(ctx: JobContext) -> dict[str, Any]:
    from kvcredit import clock
    from kvcredit.day import run_day
    from kvcredit.lending import endofday
    from kvcredit.lending.dates import require_not_after_today

    as_of = dt.date.fromisoformat(ctx.params["as_of"])
    require_not_after_today(as_of, clock.today())
    days = endofday.days_to_run(as_of, catch_up=bool(ctx.params.get("catch_up")))
    ran = list(ctx.state.get("ran", []))
    total = len(ran) + len(days)
    ctx.set_total(total)
    for day in days:
        with transaction.atomic():
            (report,) = run_day(as_of=day, actor=actor_of(ctx))
            if not report.already_run:
                ran.append(day.isoformat())
            ctx.checkpoint(len(ran), {"ran": ran}, total)
    return {"as_of": as_of.isoformat(), "days": ran}


EXPORTS = ("statistics", "fund_books")


@register("export", label=gettext_noop("report export"))
def export(ctx: JobContext) -> dict[str, Any]:
    what = ctx.params.get("what", "statistics")
    ctx.set_total(2)
    if what == "fund_books":
        from kvcredit.fund.export import beancount_text

        as_of = ctx.params.get("as_of")
        text = beancount_text(as_of=dt.date.fromisoformat(as_of) if as_of else None)
        data, name = text.encode("utf-8"), "kvcredit-fund.beancount"
    else:
        from kvcredit.reporting import export as report_export
        from kvcredit.reporting import programme

        by = ctx.params.get("by", "district")
        s = programme.statistics(actor_of(ctx), by=by)
        buf = io.BytesIO()
        report_export.to_xlsx(
            buf, by, s["total"], s["groups"], by_month=s["by_month"], pools=s["pools"]
        )
        data, name = buf.getvalue(), f"kvcredit-statistics-{by}.xlsx"
    with transaction.atomic():
        ctx.checkpoint(1, {"computed": True}, 2)
    ctx.output, ctx.output_name = data, name
    return {"what": what, "bytes": len(data), "name": name}
