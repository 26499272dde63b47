"""Many repayments from a CSV/XLSX file: every valid row applied, every bad row reported.

Columns (English or Chinese header): loan_id 贷款编号, amount 还款金额 (yuan), paid_on 还款日期
(YYYY-MM-DD), reference 流水号 (optional), note 备注 (optional). Each row is its own
transaction (``repayments.repay``), in file order, so a bad row never stops the good ones.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.utils import translation
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.errors import RowError, ServiceError
from kvcredit.lending import repayments
from kvcredit.money import parse_yuan, yuan_to_fen

HEADERS = {
    "loan_id": ("loan_id", "贷款编号"),
    "amount": ("amount", "还款金额"),
    "paid_on": ("paid_on", "还款日期"),
    "reference": ("reference", "流水号"),
    "note": ("note", "备注"),
}


@dataclass
class RepaymentReport:
    applied: int = 0
    repayment_ids: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


def _err(row: int, field_: str, zh: str, en: str) -> RowError:
    return RowError(row=row, field=field_, message_zh=zh, message_en=en)


def _cell(raw: Mapping[str, Any], name: str) -> str:
    for header in HEADERS[name]:
        value = raw.get(header)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def _parse(n: int, raw: Mapping[str, Any]) -> tuple[dict[str, Any], list[RowError]]:
    errors: list[RowError] = []
    out: dict[str, Any] = {
        "reference": _cell(raw, "reference")[:100],
        "note": _cell(raw, "note")[:300],
    }
    text = _cell(raw, "loan_id")
    if not text.isdigit() or not 0 < int(text) < 2**53:
        errors.append(
            _err(n, "loan_id", "贷款编号应为正整数", "loan_id must be a positive integer")
        )
    else:
        out["loan_id"] = int(text)
    try:
        out["amount_fen"] = yuan_to_fen(parse_yuan(_cell(raw, "amount")))
        if not 0 < out["amount_fen"] <= 10**12:
            raise ValueError
    except ValueError:
        errors.append(
            _err(
                n,
                "amount",
                "还款金额应为正数，最多两位小数",
                "amount must be positive, two decimals at most",
            )
        )
    try:
        out["paid_on"] = dt.date.fromisoformat(_cell(raw, "paid_on")[:10])
    except ValueError:
        errors.append(_err(n, "paid_on", "还款日期应为YYYY-MM-DD", "paid_on must be YYYY-MM-DD"))
    return out, errors


def import_repayments(
    actor: User, rows: Iterable[Mapping[str, Any]], *, today: dt.date
) -> RepaymentReport:
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    report = RepaymentReport()
    for n, raw in enumerate(rows, start=2):  # numbered as the spreadsheet shows them
        values, errors = _parse(n, raw)
        if errors:
            report.errors += errors
            continue
        try:
            with translation.override("en"):
                r = repayments.repay(actor, today=today, **values)
        except ServiceError as exc:
            report.errors += _refusal(n, actor, values, today, exc)
            continue
        report.applied += 1
        report.repayment_ids.append(r.pk)
    return report


def _refusal(
    n: int, actor: User, values: dict[str, Any], today: dt.date, exc: ServiceError
) -> list[RowError]:
    """The refusal in both languages: the row is refused again (nothing was written) in zh."""
    zh = exc
    try:
        with translation.override("zh-hans"):
            repayments.repay(actor, today=today, **values)
    except ServiceError as again:
        zh = again
    problems = getattr(exc, "problems", None) or [(exc.field or "row", exc.detail)]
    zh_problems = getattr(zh, "problems", None) or [(zh.field or "row", zh.detail)]
    return [
        _err(n, f, zmsg, emsg) for (f, emsg), (_f, zmsg) in zip(problems, zh_problems, strict=False)
    ]
