"""Many repayments from a CSV/XLSX file: every valid row applied once, every bad row reported.

Columns (the headers the upload page and the template show, English or Chinese; a unit in
brackets is optional): ``loan_id`` 贷款编号, ``amount (yuan)`` 还款金额（元）, ``paid_on
(YYYY-MM-DD)`` 还款日期（YYYY-MM-DD）, ``reference`` 流水号 (required: the bank's own
transaction number), ``note`` 备注 (optional). A CSV is UTF-8 (with or without a BOM) or
GB18030/GBK as Excel saves it on Chinese Windows (``scoring.io.decode_csv``; never decoded with
replacement characters). Rows are numbered as the spreadsheet shows them, the header being
row 1, empty rows included.

Posting is **per row, with the reference as the key**: each row is its own transaction
(``repayments.repay``), in file order, so a bad row never stops the good ones, and the bank's
reference is unique per bank (``repayment_reference_unique_per_bank``). Uploading a file again,
whole or after a crash part-way through, posts only the rows not yet posted; every other row is
reported as already recorded. A reference repeated inside the file is reported on its second
row. With an ``Idempotency-Key`` (the API) a retry replays the first report.

A refused row is translated from its one failure (never run again to word it in Chinese).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import logging
import re
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from django.db import DatabaseError
from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.errors import InputFileError, InvalidInput, RowError, ServiceError
from kvcredit.lending import repayments
from kvcredit.money import yuan_to_fen
from kvcredit.scoring.io import decode_csv
from kvcredit.scoring.upload_limits import Limits, check_size, too_many_rows

log = logging.getLogger(__name__)

# field: (English header, Chinese header, unit shown after the name, required)
COLUMNS: dict[str, tuple[str, str, str, bool]] = {
    "loan_id": ("loan_id", "贷款编号", "", True),
    "amount": ("amount", "还款金额", "元|yuan", True),
    "paid_on": ("paid_on", "还款日期", "YYYY-MM-DD", True),
    "reference": ("reference", "流水号", "", True),
    "note": ("note", "备注", "", False),
}
# The headers exactly as the upload page and the template show them.
HEADERS_EN = ["loan_id", "amount (yuan)", "paid_on (YYYY-MM-DD)", "reference", "note"]
HEADERS_ZH = ["贷款编号", "还款金额（元）", "还款日期（YYYY-MM-DD）", "流水号", "备注"]
XLSX_SUFFIXES = {".xlsx", ".xlsm"}

_UNIT = re.compile(r"\s*[(（][^()（）]*[)）]\s*$")
_BY_HEADER = {k.lower(): name for name, (en, zh, _u, _r) in COLUMNS.items() for k in (en, zh)}
# Digits 0-9 only (never full-width or other scripts), at most two decimals; no exponent, no
# underscores; thousands may be grouped with commas ("1,234.50").
_AMOUNT = re.compile(r"(?:[0-9]{1,12}|[0-9]{1,3}(?:,[0-9]{3}){1,3})(?:\.[0-9]{1,2})?", re.ASCII)
_LOAN_ID = re.compile(r"[0-9]{1,16}", re.ASCII)
_DATE = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]00:00(?::00(?:\.0+)?)?)?", re.ASCII)
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")

# Messages the repayment service words with values: translated back from the English.
PARAMETERISED = (
    gettext_noop("repayment of %(amount)s yuan exceeds the %(owed)s yuan owed"),
    gettext_noop("the end of day for %(day)s has run; use a later date"),
)


@dataclass
class RepaymentReport:
    applied: int = 0
    repayment_ids: list[int] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class FileRow:
    row: int  # as the spreadsheet shows it
    cells: dict[str, str]  # field name -> the cell as text ("" when empty)


def _err(row: int, field_: str, zh: str, en: str) -> RowError:
    return RowError(row=row, field=field_, message_zh=zh, message_en=en)


# -- reading -------------------------------------------------------------------------------
def field_of(header: Any) -> str | None:
    """The field a header names: English or Chinese, any case, with or without its unit."""
    key = _UNIT.sub("", str(header or "").strip().lstrip("\ufeff").strip())
    return _BY_HEADER.get(key.lower())


def read_file(data: bytes, filename: str, limits: Limits | None = None) -> list[FileRow]:
    """The data rows of an uploaded file (CSV or XLSX), numbered as the spreadsheet shows
    them; wholly empty rows are skipped but keep their number. A file that cannot be read, or
    lacks a required column, is refused (``InvalidInput`` on ``file``); a file over the upload
    bounds (default: the settings) is refused before it is parsed (``UploadTooLarge``)."""
    from kvcredit.enterprises.importing import upload_limits

    suffix = Path(filename or "upload.csv").suffix.lower()
    name = Path(filename or "upload").name
    limits = limits or upload_limits()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"upload{suffix}"
        path.write_bytes(data)
        check_size(path, limits, name)
    try:
        grid = _xlsx_grid(data) if suffix in XLSX_SUFFIXES else _csv_grid(data)
    except InvalidInput:
        raise
    except Exception:  # any reader failure: the file is unusable
        raise InvalidInput([("file", _("not a readable CSV or XLSX file"))]) from None
    if not grid:
        raise InvalidInput([("file", _("the file is empty"))])
    too_many_rows(Path(name), sum(1 for r in grid[1:] if any(_text(v) for v in r)), limits, name)
    columns = _columns(grid[0])
    rows = []
    for n, values in enumerate(grid[1:], start=2):
        cells = {name: _text(values[i]) if i < len(values) else "" for i, name in columns.items()}
        if any(cells.values()):
            rows.append(FileRow(n, cells))
    return rows


def _csv_grid(data: bytes) -> list[list[Any]]:
    try:
        text = decode_csv(data).decode("utf-8")
    except InputFileError:
        raise InvalidInput(
            [("file", _("the file is neither UTF-8 nor GB18030 (GBK) text"))]
        ) from None
    return list(csv.reader(io.StringIO(text, newline="")))


def _xlsx_grid(data: bytes) -> list[list[Any]]:
    import fastexcel

    sheet = fastexcel.read_excel(data).load_sheet(0, header_row=None, dtypes="string")
    return [list(r.values()) for r in sheet.to_polars().iter_rows(named=True)]


def _text(value: Any) -> str:
    return "" if value is None else str(value).strip()


def _columns(header: list[Any]) -> dict[int, str]:
    """{column index: field}; refuses a field given twice or a required one missing."""
    columns: dict[int, str] = {}
    for i, h in enumerate(header):
        name = field_of(h)
        if name is None:
            continue
        if name in columns.values():
            msg = _("the column %(column)s appears twice") % {"column": name}
            raise InvalidInput([("file", msg)])
        columns[i] = name
    missing = [n for n, (_e, _z, _u, required) in COLUMNS.items() if required]
    missing = [n for n in missing if n not in columns.values()]
    if missing:
        shown = dict(zip(COLUMNS, zip(HEADERS_ZH, HEADERS_EN, strict=True), strict=True))
        names = ", ".join(f"{shown[n][0]} ({shown[n][1]})" for n in missing)
        msg = _("missing column: %(columns)s") % {"columns": names}
        raise InvalidInput([("file", msg)])
    return columns


# -- checking one row ----------------------------------------------------------------------
def _parse(n: int, raw: Mapping[str, str]) -> tuple[dict[str, Any], list[RowError]]:
    errors: list[RowError] = []

    def refuse(name: str, zh: str, en: str) -> None:
        errors.append(_err(n, name, zh, en))

    for name in COLUMNS:
        if "\x00" in raw.get(name, ""):
            refuse(name, "含有NUL字符（\\x00），请删除后重新上传", "contains a NUL byte (\\x00)")
    if errors:
        return {}, errors
    out: dict[str, Any] = {}
    text = raw.get("loan_id", "")
    if not _LOAN_ID.fullmatch(text) or not 0 < int(text) < 2**53:
        refuse("loan_id", "贷款编号应为正整数", "loan_id must be a positive integer")
    else:
        out["loan_id"] = int(text)
    text = raw.get("amount", "")
    fen = yuan_to_fen(Decimal(text.replace(",", ""))) if _AMOUNT.fullmatch(text) else 0
    if not 0 < fen <= 10**12:
        refuse(
            "amount",
            "还款金额应为正数，只用数字0-9，最多两位小数"
            "（如 1500.00；不接受科学计数法、下划线或全角数字）",
            "amount must be positive, digits 0-9 with two decimals at most (e.g. 1500.00; "
            "no exponent, underscore or full-width digits)",
        )
    else:
        out["amount_fen"] = fen
    m = _DATE.fullmatch(raw.get("paid_on", ""))
    try:
        out["paid_on"] = dt.date.fromisoformat(m.group(1)) if m else None
    except ValueError:
        out["paid_on"] = None
    if out["paid_on"] is None:
        refuse("paid_on", "还款日期应为YYYY-MM-DD", "paid_on must be YYYY-MM-DD")
    for name, limit, required in (("reference", 100, True), ("note", 300, False)):
        text = raw.get(name, "")
        if required and not text:
            refuse(
                name,
                "流水号必填（银行交易流水号）",
                "reference is required (the bank's transaction number)",
            )
        elif len(text) > limit or _CONTROL.search(text):
            refuse(
                name,
                f"应为不超过{limit}个字符的文本，不含控制字符",
                f"must be text of at most {limit} characters, without control characters",
            )
        out[name] = text
    return out, errors


# -- posting -------------------------------------------------------------------------------
def import_repayment_file(
    actor: User, data: bytes, filename: str, *, today: dt.date
) -> RepaymentReport:
    """Read an uploaded file and post its rows (see the module docstring)."""
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    return post_rows(actor, read_file(data, filename), today=today)


def import_repayments(
    actor: User, rows: Iterable[Mapping[str, Any]], *, today: dt.date
) -> RepaymentReport:
    """Rows already read (header name -> cell), numbered from 2 in order."""
    numbered = []
    for n, raw in enumerate(rows, start=2):
        cells: dict[str, str] = {}
        for header, value in raw.items():
            name = field_of(header)
            if name is not None and _text(value):
                cells[name] = _text(value)
        numbered.append(FileRow(n, cells))
    return post_rows(actor, numbered, today=today)


def post_rows(
    actor: User,
    rows: Iterable[FileRow],
    *,
    today: dt.date,
    first_row: dict[str, int] | None = None,
) -> RepaymentReport:
    """Post ``rows`` in order. ``first_row`` (reference -> the row that gave it first) carries
    over between the parts of one file posted in chunks (the job runner's way)."""
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    report = RepaymentReport()
    first_row = {} if first_row is None else first_row
    for row in rows:
        n = row.row
        values, errors = _parse(n, row.cells)
        ref = row.cells.get("reference", "")
        if ref and not errors:
            if ref in first_row:
                errors.append(
                    _err(
                        n,
                        "reference",
                        f"流水号与第{first_row[ref]}行重复，本行未入账",
                        f"reference repeats row {first_row[ref]}; this row was not posted",
                    )
                )
            else:
                first_row[ref] = n
        if errors:
            report.errors += errors
            continue
        try:
            with translation.override("en"):
                r = repayments.repay(actor, today=today, **values)
        except ServiceError as exc:
            report.errors += _refusal(n, exc)
            continue
        except DatabaseError:  # nothing of this row was written (its transaction rolled back)
            log.exception("repayment file: row %s could not be recorded", n)
            report.errors.append(
                _err(n, "row", "本行未能入账，请重新上传", "this row could not be recorded")
            )
            continue
        report.applied += 1
        report.repayment_ids.append(r.pk)
    return report


def _refusal(n: int, exc: ServiceError) -> list[RowError]:
    """The one refusal (worded in English) in both languages; nothing is run again."""
    problems = getattr(exc, "problems", None) or [(exc.field or "row", exc.detail)]
    return [_err(n, f, in_chinese(message), message) for f, message in problems]


def in_chinese(english: str) -> str:
    """The Chinese of a message worded in English: from the catalogue, and for the messages
    the service words with values (``PARAMETERISED``) with those values put back."""
    with translation.override("zh-hans"):
        zh = translation.gettext(english)
        if zh != english:
            return zh
        for template in PARAMETERISED:
            m = _template_pattern(template).fullmatch(english)
            if m:
                return translation.gettext(template) % m.groupdict()
    return english


def _template_pattern(template: str) -> re.Pattern[str]:
    escaped = re.escape(template)
    return re.compile(re.sub(r"%\\\(([a-z_]+)\\\)s", r"(?P<\1>.+?)", escaped))


# -- the template --------------------------------------------------------------------------
def template_xlsx(*, chinese: bool) -> bytes:
    """An empty workbook with the exact headers the upload reads, cells formatted as text."""
    import xlsxwriter

    out = io.BytesIO()
    wb = xlsxwriter.Workbook(out, {"in_memory": True})
    ws = wb.add_worksheet("还款" if chinese else "repayments")
    bold = wb.add_format({"bold": True})
    text = wb.add_format({"num_format": "@"})
    ws.write_row(0, 0, HEADERS_ZH if chinese else HEADERS_EN, bold)
    ws.set_column(0, 4, 22, text)
    wb.close()
    return out.getvalue()
