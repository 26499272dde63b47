"""Rich renderings for the ``kvcredit`` command line: summaries, error lists, policies, diffs."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import polars as pl
from rich.console import Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from kvcredit.money import fen_to_yuan
from kvcredit.scoring.policy import AllOf, AnyOf, Band, Cond, Indicator, NotOf, Policy, Rule
from kvcredit.scoring.report import Migration, Summary

SHOWN_ERRORS = 10


def yuan(fen: int) -> str:
    return f"{fen_to_yuan(fen):,}"


def summary_table(policy: Policy, s: Summary) -> Table:
    t = Table(title=f"{policy.id} {policy.version}", show_header=False, title_justify="left")
    t.add_column("item")
    t.add_column("value", justify="right")
    t.add_row("rows read 读取行数", f"{s.rows_read:,}")
    t.add_row("rows rejected 拒绝行数", f"{s.rejected:,}")
    t.add_row("rows evaluated 评价行数", f"{s.evaluated:,}")
    for label, count in s.counts:
        t.add_row(f"  {label}", f"{count:,}")
    t.add_row("share eligible 符合条件比例", f"{s.share_eligible * 100:.1f}%")
    if policy.is_graded:
        t.add_row("total credit (yuan) 授信总额（元）", yuan(s.total_credit_fen))
    return t


def errors_table(errors: pl.DataFrame, report: Path | None) -> Group:
    t = Table(title=f"first rejected rows 首批被拒绝的行 ({errors.height:,} problems)")
    for col in ("row", "field", "uscc", "message"):
        t.add_column(col, overflow="fold")
    for r in errors.head(SHOWN_ERRORS).iter_rows(named=True):
        t.add_row(str(r["row"]), r["field"], r["uscc"], f"{r['message_zh']}\n{r['message_en']}")
    where = Text(f"full error report 完整错误报告: {report}" if report else "")
    return Group(t, where)


def _cond(c: Cond) -> str:
    if isinstance(c, AnyOf):
        return "any(" + " | ".join(_cond(x) for x in c.any) + ")"
    if isinstance(c, AllOf):
        return "all(" + " & ".join(_cond(x) for x in c.all) + ")"
    if isinstance(c, NotOf):
        return f"not({_cond(c.not_)})"
    value = c.value
    if isinstance(value, list):
        shown = ", ".join(value[:6]) + (f", … ({len(value)} values)" if len(value) > 6 else "")
        return f"{c.input} {c.op} [{shown}]"
    return f"{c.input} {c.op} {str(value).lower() if isinstance(value, bool) else value}"


def _rules(title: str, rules: list[Rule]) -> Table | None:
    if not rules:
        return None
    t = Table(title=title, title_justify="left")
    for col in ("id", "label", "conditions (all must hold)"):
        t.add_column(col, overflow="fold")
    for r in rules:
        extra = f" → grade ≥ {r.min_grade}" if r.min_grade else ""
        label = f"{r.label}\n{r.label_zh}".strip()
        t.add_row(r.id, label, " AND ".join(_cond(c) for c in r.when) + extra)
    return t


def _bands(bands: list[Band]) -> str:
    return " · ".join(
        f"≥{b.from_}: {b.points}" if b.from_ is not None else f"<{b.below}: {b.points}"
        for b in bands
    )


def _indicator(ind: Indicator) -> list[str]:
    if ind.ladder is not None:
        return [
            " · ".join(
                f"{' & '.join(_cond(c) for c in r.when) if r.when else 'else'}: {r.points}"
                for r in ind.ladder
            )
        ]
    return [f"{alt.input} ({alt.format}): {_bands(alt.bands)}" for alt in ind.alternatives]


def policy_view(policy: Policy) -> Group:
    d = policy.doc
    h = d.policy
    head = Text.assemble(
        (f"{h.id} {h.version}\n", "bold"),
        f"{h.title}\n{h.title_zh}\n",
        f"effective {h.effective_date} · {h.authority}\nhash {policy.content_hash}\n",
        (h.notes.strip(), "dim"),
    )
    parts: list[Panel | Table] = [Panel(head, title="policy 评价政策")]
    if d.derived:
        t = Table(title="derived fields 派生字段", title_justify="left")
        t.add_column("name")
        t.add_column("formula")
        for k, v in d.derived.items():
            t.add_row(k, v)
        parts.append(t)
    parts += [r for r in [_rules("basic conditions 基本条件", d.basic)] if r]
    t = Table(title="indicators 指标", title_justify="left")
    for col in ("id", "label", "weight", "bands → points"):
        t.add_column(col, overflow="fold")
    for ind in d.indicators:
        t.add_row(
            ind.id,
            f"{ind.label}\n{ind.label_zh}".strip(),
            str(ind.weight),
            "\n".join(_indicator(ind)),
        )
    parts.append(t)
    if d.groups:
        g = Table(title="groups 指标组", title_justify="left")
        for col in ("id", "indicators", "weight", "cap"):
            g.add_column(col)
        for grp in d.groups:
            g.add_row(grp.id, ", ".join(grp.indicators), str(grp.weight), str(grp.cap or ""))
        parts.append(g)
    for title, rules in (
        ("requirements 评分要求", d.requirements),
        ("direct routes 直接认定", d.routes),
        ("uplifts 等级上调", d.uplifts),
    ):
        table = _rules(title, rules)
        if table:
            parts.append(table)
    parts.append(_outcome(policy))
    return Group(*parts)


def _outcome(policy: Policy) -> Table:
    o = policy.doc.outcome
    t = Table(title="outcome 评价结果", title_justify="left")
    if o.kind == "qualify":
        t.add_column("qualifies with score ≥")
        t.add_row(str(o.min_score))
        return t
    for col in ("grade", "min score", "credit limit (yuan)"):
        t.add_column(col, justify="right")
    for g in o.grades or []:
        t.add_row(g.grade, str(g.min_score), f"{Decimal(g.credit_limit):,.2f}")
    if o.max_uplift_steps is not None:
        t.caption = f"at most {o.max_uplift_steps} uplift step(s)"
    return t


def migration_view(old: Policy, new: Policy, m: Migration) -> Group:
    t = Table(title=f"grade migration 等级迁移: {old.id} {old.version} → {new.id} {new.version}")
    t.add_column("old \\ new", style="bold")
    for label in m.new_labels:
        t.add_column(label, justify="right")
    for row in m.matrix.iter_rows():
        t.add_row(str(row[0]), *(f"{v:,}" for v in row[1:]))
    s = Table(show_header=False)
    s.add_column("item")
    s.add_column("value", justify="right")
    s.add_row("moved up 上调", f"{m.up:,}")
    s.add_row("moved down 下调", f"{m.down:,}")
    s.add_row("unchanged 不变", f"{m.same:,}")
    s.add_row("total credit before (yuan) 调整前授信总额", yuan(m.old_credit_fen))
    s.add_row("total credit after (yuan) 调整后授信总额", yuan(m.new_credit_fen))
    sign = "+" if m.credit_change_fen >= 0 else "-"
    s.add_row("change (yuan) 变化", sign + yuan(abs(m.credit_change_fen)))
    return Group(t, s)
