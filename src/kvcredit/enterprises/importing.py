"""Import many enterprises from a CSV/XLSX file: every valid row in, every bad row reported.

Each row is registered (when its USCC is new) and its data submitted and evaluated in its own
transaction, so a bad row leaves nothing half-written and never stops the good ones.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
from django.db import transaction

from kvcredit.accounts.models import OrgKind, User
from kvcredit.accounts.permissions import require
from kvcredit.enterprises import selectors, services
from kvcredit.enterprises.models import District, Enterprise
from kvcredit.errors import InputFileError, ServiceError
from kvcredit.scoring.records import RecordError, normalize_record


@dataclass(frozen=True)
class RowError:
    row: int  # 1-based data row (the header is row 0)
    uscc: str
    field: str
    message_zh: str
    message_en: str


@dataclass
class ImportReport:
    registered: int = 0
    submitted: int = 0
    errors: list[RowError] = field(default_factory=list)


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Every cell as text (or None), header names as written; CSV (UTF-8) or XLSX."""
    try:
        if path.suffix.lower() in {".xlsx", ".xls", ".xlsm"}:
            frame = pl.read_excel(path, infer_schema_length=0)
        else:
            frame = pl.read_csv(path, infer_schema=False, encoding="utf8-lossy")
    except (OSError, pl.exceptions.PolarsError, ValueError) as exc:
        raise InputFileError(f"cannot read {path}: {exc}") from exc
    return frame.to_dicts()


def import_rows(
    actor: User,
    rows: Iterable[Mapping[str, Any]],
    *,
    year: int,
    progress: Callable[[int], None] | None = None,
) -> ImportReport:
    require(actor, OrgKind.ADMINISTRATOR, OrgKind.DISTRICT, action="import enterprises")
    report = ImportReport()
    seen: dict[str, int] = {}
    districts = {d.code: d for d in selectors.districts(actor)}
    by_name = {d.name: d for d in districts.values()}
    for n, raw in enumerate(rows, start=1):
        uscc = str(raw.get("uscc") or raw.get("统一社会信用代码") or "").strip().upper()
        try:
            record = normalize_record(raw)
        except RecordError as exc:
            report.errors += [
                RowError(n, uscc, p.field, p.message_zh, p.message_en) for p in exc.problems
            ]
            continue
        if uscc in seen:
            msg = f"duplicate USCC, first seen on row {seen[uscc]}"
            report.errors.append(
                RowError(n, uscc, "uscc", f"统一社会信用代码与第{seen[uscc]}行重复", msg)
            )
            continue
        seen[uscc] = n
        district = districts.get(str(record["district"])) or by_name.get(str(record["district"]))
        if district is None:
            report.errors.append(RowError(n, uscc, "district", "未知区县", "unknown district"))
            continue
        try:
            _import_one(actor, record, district, year, report)
        except ServiceError as exc:
            report.errors.append(RowError(n, uscc, exc.field or "", exc.detail, exc.detail))
        if progress:
            progress(n)
    return report


def _import_one(
    actor: User, record: dict[str, Any], district: District, year: int, report: ImportReport
) -> None:
    with transaction.atomic():
        ent = Enterprise.objects.filter(uscc=record["uscc"]).first()
        if ent is None:
            ent = services.register_enterprise(
                actor, uscc=str(record["uscc"]), name=str(record["name"]), district_id=district.pk
            )
            report.registered += 1
        elif ent.district_id != district.pk:
            raise ServiceError("the enterprise is registered in another district", field="district")
        services.submit_data(actor, enterprise_id=ent.pk, year=year, values=_as_user_units(record))
        report.submitted += 1


def _as_user_units(record: Mapping[str, Any]) -> dict[str, Any]:
    """Internal units back to what normalize_record reads (fen -> yuan text)."""
    from kvcredit.money import fen_to_yuan
    from kvcredit.scoring.fields import MONEY_FIELDS

    return {k: (str(fen_to_yuan(v)) if k in MONEY_FIELDS else v) for k, v in record.items()}
