"""The statistics as a file: CSV, JSON, or an Excel workbook with native charts (xlsxwriter).

Pure: takes the ``Headline`` rows of ``reporting.aggregate``; money is written in yuan, exact
(``money.fen_to_yuan``, never a float): a workbook cell holds the number with the format
``#,##0.00``, so Excel shows 5,000,000.00 and can add it up.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

from kvcredit.money import fen_to_yuan
from kvcredit.reporting.aggregate import HEADLINE_FIELDS, Headline
from kvcredit.scoring.safe_cells import neutralise

COLUMNS = {  # field -> (English header, Chinese header)
    "enterprise_times": ("enterprise-times", "企业户次"),
    "amount_lent_fen": ("amount lent (yuan)", "贷款金额（元）"),
    "enterprises": ("distinct enterprises", "企业户数"),
    "first_time_borrowers": ("first-time borrowers", "首贷户"),
    "average_loan_fen": ("average loan (yuan)", "户均贷款（元）"),
    "commercial_loans": ("commercial loans drawn in", "引导商业贷款笔数"),
    "commercial_amount_fen": ("commercial amount (yuan)", "引导商业贷款金额（元）"),
    "compensation_paid_fen": ("compensation paid (yuan)", "代偿金额（元）"),
    "recovered_fen": ("recovered (yuan)", "追偿金额（元）"),
}
FORMATS = ("xlsx", "csv", "json")
MONEY_FORMAT = "#,##0.00"  # yuan with thousands separators, as the console shows them


def _value(h: Headline, name: str) -> int | Decimal:
    v = int(getattr(h, name))
    return fen_to_yuan(v) if name.endswith("_fen") else v


def table(by: str, total: Headline, groups: Sequence[Headline]) -> list[list[Any]]:
    """Header row (bilingual), one row per group, then the total; labels safe to open."""
    header = [neutralise(by)] + [f"{COLUMNS[f][1]} {COLUMNS[f][0]}" for f in HEADLINE_FIELDS]
    rows = [[neutralise(g.label)] + [_value(g, f) for f in HEADLINE_FIELDS] for g in groups]
    return [header, *rows, ["total 合计"] + [_value(total, f) for f in HEADLINE_FIELDS]]


def to_json(by: str, total: Headline, groups: Sequence[Headline], pools: Any = ()) -> str:
    def obj(h: Headline) -> dict[str, Any]:
        return {"label": h.label} | {f: int(getattr(h, f)) for f in HEADLINE_FIELDS}

    body = {
        "by": by,
        "money_unit": "fen",
        "total": obj(total),
        "groups": [obj(g) for g in groups],
        "pool_balances_fen": dict(pools),
    }
    return json.dumps(body, ensure_ascii=False, indent=2)


def to_csv(by: str, total: Headline, groups: Sequence[Headline]) -> str:
    out = io.StringIO()
    w = csv.writer(out)
    for row in table(by, total, groups):
        w.writerow([neutralise(str(v)) for v in row])
    return out.getvalue()


def to_xlsx(
    target: Path | io.BytesIO,
    by: str,
    total: Headline,
    groups: Sequence[Headline],
    *,
    by_month: Sequence[Headline] = (),
    pools: Sequence[tuple[str, int]] = (),
) -> None:
    """A workbook: the figures by ``by`` with a bar chart, the monthly series with a line
    chart, and the pool balances with a bar chart (native Excel charts)."""
    import xlsxwriter

    # text is text: no cell becomes a formula, whatever a label holds (labels are neutralised too)
    wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_formulas": False})
    money = wb.add_format({"num_format": MONEY_FORMAT})
    bold = wb.add_format({"bold": True, "text_wrap": True})

    def sheet(name: str, key: str, rows: Sequence[Headline], with_total: bool) -> Any:
        ws = wb.add_worksheet(name)
        data = table(key, total, rows)
        if not with_total:
            data = data[:-1]
        ws.write_row(0, 0, data[0], bold)
        for i, row in enumerate(data[1:], start=1):
            for j, v in enumerate(row):
                ws.write(i, j, v, money if isinstance(v, Decimal) else None)
        ws.set_column(0, 0, 18)
        ws.set_column(1, len(data[0]), 16)
        return ws, len(data) - 1

    ws, n = sheet(by[:31], by, groups, True)
    if n > 1:
        chart = wb.add_chart({"type": "column"})
        chart.add_series(
            {
                "name": [ws.name, 0, 2],
                "categories": [ws.name, 1, 0, n - 1, 0],
                "values": [ws.name, 1, 2, n - 1, 2],
            }
        )
        chart.set_title({"name": f"amount lent by {by} 贷款金额"})
        ws.insert_chart(n + 2, 0, chart)
    if by_month and by != "month":  # by month, the first sheet is the monthly series
        ms, m = sheet("month", "month", by_month, False)
        line = wb.add_chart({"type": "line"})
        line.add_series(
            {
                "name": [ms.name, 0, 1],
                "categories": [ms.name, 1, 0, m, 0],
                "values": [ms.name, 1, 1, m, 1],
            }
        )
        line.set_title({"name": "enterprise-times by month 企业户次"})
        ms.insert_chart(m + 2, 0, line)
    if pools:
        ps = wb.add_worksheet("pools")
        ps.write_row(0, 0, ["district 区县", "pool cash (yuan) 资金池余额（元）"], bold)
        for i, (d, fen) in enumerate(pools, start=1):
            ps.write(i, 0, neutralise(d))
            ps.write(i, 1, fen_to_yuan(fen), money)
        bar = wb.add_chart({"type": "bar"})
        bar.add_series(
            {
                "name": "pool cash",
                "categories": ["pools", 1, 0, len(pools), 0],
                "values": ["pools", 1, 1, len(pools), 1],
            }
        )
        ps.insert_chart(1, 3, bar)
    wb.close()
