"""The public notice of interest subsidies paid (贴息公示), as an Excel workbook.

One row per subsidy paid in a period, oldest first, with a total row: the enterprise, its
district, the bank, the loan and instalment, the period and the days inside the rule's window,
the interest paid and the subsidy (yuan, number format ``#,##0.00``), the day paid, who paid
and who received it, the rule and the rulebook it applied. Every text cell is neutralised
(``scoring.safe_cells``): a name that starts with ``=`` stays text. Written with xlsxwriter
(the report's writer, a runtime dependency) with formulas off.
"""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

from kvcredit.fund import subsidies
from kvcredit.money import fen_to_yuan
from kvcredit.scoring.safe_cells import neutralise

MONEY_FORMAT = "#,##0.00"
HEADER = [
    "No. 序号",
    "enterprise 企业名称",
    "credit code 统一社会信用代码",
    "district 区县",
    "bank 贷款银行",
    "loan 贷款编号",
    "instalment 期次",
    "period from 计息起日",
    "due date 到期日",
    "days in window 贴息天数",
    "days in period 计息天数",
    "interest paid (yuan) 已付利息（元）",
    "subsidy (yuan) 贴息金额（元）",
    "paid on 拨付日期",
    "paid by 资金来源",
    "paid to 拨付对象",
    "rule 贴息规则",
    "rulebook 规则版本",
]


def rows(user: Any, *, start: dt.date | None, end: dt.date | None) -> list[list[Any]]:
    qs = subsidies.subsidies(user).filter(clawed_back_on__isnull=True)  # clawed back: not paid
    if start:
        qs = qs.filter(paid_on__gte=start)
    if end:
        qs = qs.filter(paid_on__lte=end)
    out = []
    for k, s in enumerate(qs.order_by("paid_on", "id"), start=1):
        out.append(
            [
                k,
                neutralise(s.enterprise.name),
                neutralise(s.enterprise.uscc),
                neutralise(s.pool.district.name),
                neutralise(s.bank.name),
                s.loan_id,
                s.instalment.seq,
                s.period_from,
                s.due_date,
                s.days_in_window,
                s.days_in_period,
                fen_to_yuan(s.interest_paid_fen),
                fen_to_yuan(s.amount_fen),
                s.paid_on,
                neutralise(s.payer),
                neutralise(s.payee),
                neutralise(s.rule_key),
                neutralise(s.rulebook),
            ]
        )
    return out


def write(
    target: Path | io.BytesIO, user: Any, *, start: dt.date | None, end: dt.date | None
) -> int:
    """Write the notice of the subsidies ``user`` may see, paid in [start, end]; returns the
    number of subsidies listed."""
    import xlsxwriter

    data = rows(user, start=start, end=end)
    wb = xlsxwriter.Workbook(target, {"in_memory": True, "strings_to_formulas": False})
    money = wb.add_format({"num_format": MONEY_FORMAT})
    date = wb.add_format({"num_format": "yyyy-mm-dd"})
    bold = wb.add_format({"bold": True, "text_wrap": True})
    ws = wb.add_worksheet("subsidies 贴息公示")
    title = "interest subsidies paid 贴息资金拨付公示"
    span = f"{start or '…'} – {end or '…'}"
    ws.write(0, 0, neutralise(f"{title} ({span})"), bold)
    ws.write_row(1, 0, HEADER, bold)
    for i, row in enumerate(data, start=2):
        for j, v in enumerate(row):
            if j in (11, 12):
                ws.write_number(i, j, float(v), money)  # exact: two decimals, far below 2**53
            elif isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date)
            elif isinstance(v, str):
                ws.write_string(i, j, v)
            else:
                ws.write(i, j, v)
    last = len(data) + 2
    ws.write_string(last, 1, "total 合计")
    total_interest = sum((r[11] for r in data), start=fen_to_yuan(0))
    total_subsidy = sum((r[12] for r in data), start=fen_to_yuan(0))
    ws.write_number(last, 11, float(total_interest), money)
    ws.write_number(last, 12, float(total_subsidy), money)
    ws.set_column(0, 0, 6)
    ws.set_column(1, 4, 22)
    ws.set_column(5, len(HEADER), 14)
    wb.close()
    return len(data)
