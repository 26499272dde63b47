"""Importing enterprises from a file: every valid row in, every bad row reported."""

from __future__ import annotations

import csv
import datetime as dt
from pathlib import Path

import pytest

from conftest import strong_values
from kvcredit.audit.models import AuditRecord
from kvcredit.audit.services import verify
from kvcredit.enterprises.importing import import_file
from kvcredit.enterprises.models import CreditLine, DataSubmission, Enterprise, Evaluation
from kvcredit.errors import InputFileError, NotPermitted
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
    report = import_file(world.system, _write(tmp_path / "e.csv", rows), year=2024)
    assert report.rows == 5 and report.registered == 2 and report.submitted == 2
    # rows as a spreadsheet numbers them: the header is row 1
    assert {(e.row, e.field) for e in report.errors} == {
        (3, "tech_staff"),
        (4, "district"),
        (6, "uscc"),
    }
    assert Enterprise.objects.filter(uscc__in=[_uscc(1), _uscc(4)]).count() == 2
    assert not Enterprise.objects.filter(uscc__in=[_uscc(2), _uscc(3)]).exists()


def test_the_error_report_is_bilingual_and_names_the_value(world, tmp_path):
    path = _write(tmp_path / "e.csv", [_row(1, tech_staff=1000)])
    (e,) = import_file(world.system, path, year=2024).errors
    assert (e.row, e.uscc, e.field, e.value) == (2, _uscc(1), "tech_staff", "1000")
    assert e.message_zh and e.message_en and e.message_zh != e.message_en


def test_every_imported_row_is_evaluated_and_sets_its_credit_line(world, tmp_path):
    at = dt.datetime(2024, 3, 5, 9, 30, 15, 123456, tzinfo=dt.UTC)
    path = _write(tmp_path / "e.csv", [_row(1), _row(2)])
    import_file(world.system, path, year=2024, now=at)
    for n in (1, 2):
        line = CreditLine.objects.get(enterprise__uscc=_uscc(n))
        ev = Evaluation.objects.get(enterprise__uscc=_uscc(n))
        assert line.evaluation == ev and line.limit_fen == ev.limit_fen > 0
        assert line.valid_until == ev.valid_until is not None
        assert line.updated_at == at
    # the second import's new evaluations replace the first's on the same lines
    import_file(world.system, _write(tmp_path / "e2.csv", [_row(1, tech_staff=30)]), year=2024)
    line = CreditLine.objects.get(enterprise__uscc=_uscc(1))
    assert line.evaluation == Evaluation.objects.filter(enterprise__uscc=_uscc(1)).latest("id")
    assert CreditLine.objects.get(enterprise__uscc=_uscc(2)).updated_at == at


def test_the_batch_evaluation_agrees_with_a_single_submission(world, tmp_path):
    import_file(world.system, _write(tmp_path / "e.csv", [_row(1)]), year=2024)
    batch = Evaluation.objects.get(enterprise__uscc=_uscc(1))
    single = Evaluation.objects.get(enterprise=world.enterprise["a"])  # same strong values
    assert (batch.score, batch.grade, batch.limit_fen) == (
        single.score,
        single.grade,
        single.limit_fen,
    )


def test_importing_the_same_file_again_creates_no_duplicates(world, tmp_path):
    path = _write(tmp_path / "e.csv", [_row(1)])
    import_file(world.system, path, year=2024)
    report = import_file(world.system, path, year=2024)
    assert (report.registered, report.submitted, report.unchanged) == (0, 0, 1)
    assert DataSubmission.objects.filter(enterprise__uscc=_uscc(1)).count() == 1
    assert Evaluation.objects.filter(enterprise__uscc=_uscc(1)).count() == 1


def test_changed_data_for_the_year_is_a_new_version(world, tmp_path):
    import_file(world.system, _write(tmp_path / "a.csv", [_row(1)]), year=2024)
    report = import_file(
        world.system, _write(tmp_path / "b.csv", [_row(1, ip_design=3)]), year=2024
    )
    assert report.submitted == 1
    versions = DataSubmission.objects.filter(enterprise__uscc=_uscc(1)).values_list("version")
    assert sorted(v for (v,) in versions) == [1, 2]


def test_every_object_an_import_writes_has_its_audit_record_and_the_chain_holds(world, tmp_path):
    before = AuditRecord.objects.count()
    import_file(world.system, _write(tmp_path / "e.csv", [_row(1), _row(2)]), year=2024)
    actions = list(AuditRecord.objects.filter(id__gt=0).values_list("action", flat=True))
    new = actions[before:]
    for action in ("ENTERPRISE_REGISTER", "DATA_SUBMIT", "EVALUATE", "CREDIT_LIMIT_SET"):
        assert new.count(action) == 2
    assert verify().ok


def test_a_failure_while_storing_leaves_nothing_half_written(world, tmp_path, monkeypatch):
    from kvcredit.enterprises import importing

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(importing, "batch_evaluations", broken)
    with pytest.raises(RuntimeError):
        import_file(world.system, _write(tmp_path / "e.csv", [_row(1), _row(2)]), year=2024)
    assert not Enterprise.objects.filter(uscc__in=[_uscc(1), _uscc(2)]).exists()
    assert not DataSubmission.objects.filter(enterprise__uscc__in=[_uscc(1), _uscc(2)]).exists()


def test_a_district_imports_only_into_itself(world, tmp_path):
    path = _write(tmp_path / "e.csv", [_row(1, district="500102"), _row(2)])
    report = import_file(world.users["district_a"], path, year=2024)
    assert report.registered == 1 and [e.row for e in report.errors] == [2]


def test_a_known_enterprise_stays_in_its_district(world, tmp_path):
    import_file(world.system, _write(tmp_path / "a.csv", [_row(1)]), year=2024)
    report = import_file(
        world.system, _write(tmp_path / "b.csv", [_row(1, district="500102")]), year=2024
    )
    assert [(e.row, e.field) for e in report.errors] == [(2, "district")]


def test_xlsx_files_are_read_too(world, tmp_path):
    import polars as pl

    path = tmp_path / "e.xlsx"
    pl.DataFrame([{k: str(v) for k, v in _row(1).items()}]).write_excel(path)
    report = import_file(world.system, path, year=2024)
    assert report.submitted == 1 and not report.errors


def test_a_file_missing_a_required_column_is_refused_whole(world, tmp_path):
    rows = [{k: v for k, v in _row(1).items() if k != BY_NAME["revenue"].zh}]
    with pytest.raises(InputFileError):
        import_file(world.system, _write(tmp_path / "e.csv", rows), year=2024)


def test_banks_may_not_import(world, tmp_path):
    with pytest.raises(NotPermitted):
        import_file(world.users["bank_a"], _write(tmp_path / "e.csv", [_row(1)]), year=2024)
