"""Importing enterprises from a file: every valid row in, every bad row reported."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from conftest import strong_values
from kvcredit.enterprises.importing import import_rows, read_rows
from kvcredit.enterprises.models import DataSubmission, Enterprise
from kvcredit.errors import NotPermitted
from kvcredit.scoring.fields import BY_NAME, uscc_check_char

pytestmark = pytest.mark.django_db


def _uscc(n: int) -> str:
    first = f"91500000MA5U{n:05d}"
    return first + uscc_check_char(first)


def _row(n: int, district: str = "500101", **over: object) -> dict[str, object]:
    vals = {BY_NAME[k].zh: v for k, v in strong_values().items()}
    vals |= {"统一社会信用代码": _uscc(n), "企业名称": f"导入企业{n}", "所属区县": district}
    return vals | {BY_NAME[k].zh: v for k, v in over.items()}


def _write(path: Path, rows: list[dict[str, object]]) -> Path:
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return path


def test_valid_rows_are_imported_and_bad_rows_reported(world, tmp_path):
    rows = [_row(1), _row(2, tech_staff=1000), _row(3, district="999999"), _row(4), _row(1)]
    report = import_rows(world.system, read_rows(_write(tmp_path / "e.csv", rows)), year=2024)
    assert report.registered == 2 and report.submitted == 2
    assert {(e.row, e.field) for e in report.errors} == {
        (2, "tech_staff"),
        (3, "district"),
        (5, "uscc"),
    }
    assert Enterprise.objects.filter(uscc__in=[_uscc(1), _uscc(4)]).count() == 2
    assert not Enterprise.objects.filter(uscc__in=[_uscc(2), _uscc(3)]).exists()


def test_importing_again_adds_new_versions(world, tmp_path):
    path = _write(tmp_path / "e.csv", [_row(1)])
    import_rows(world.system, read_rows(path), year=2024)
    report = import_rows(world.system, read_rows(path), year=2024)
    assert report.registered == 0 and report.submitted == 1
    assert DataSubmission.objects.filter(enterprise__uscc=_uscc(1)).count() == 2


def test_a_district_imports_only_into_itself(world, tmp_path):
    path = _write(tmp_path / "e.csv", [_row(1, district="500102"), _row(2)])
    report = import_rows(world.users["district_a"], read_rows(path), year=2024)
    assert report.registered == 1 and [e.row for e in report.errors] == [1]


def test_xlsx_files_are_read_too(world, tmp_path):
    import polars as pl

    path = tmp_path / "e.xlsx"
    pl.DataFrame([{k: str(v) for k, v in _row(1).items()}]).write_excel(path)
    report = import_rows(world.system, read_rows(path), year=2024)
    assert report.submitted == 1 and not report.errors


def test_banks_may_not_import(world, tmp_path):
    with pytest.raises(NotPermitted):
        import_rows(world.users["bank_a"], [], year=2024)
