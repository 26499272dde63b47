"""Files kvcredit writes are safe to open: no text cell is a formula (OWASP CSV injection).

An enterprise whose industry and name are formulas goes through import, evaluation and the
statistics; every CSV and XLSX written on the way is read back cell by cell.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

import openpyxl
import pytest
from typer.testing import CliRunner

from conftest import strong_values
from kvcredit.cli import app
from kvcredit.enterprises import services as registry
from kvcredit.enterprises.importing import import_file
from kvcredit.enterprises.models import CreditLine
from kvcredit.lending import loans
from kvcredit.lending import services as lending
from kvcredit.reporting import export, programme
from kvcredit.scoring.fields import BY_NAME, uscc_check_char
from kvcredit.scoring.io import write_errors
from kvcredit.scoring.safe_cells import neutralise

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("english")]
FORMULA = '=HYPERLINK("http://x","y")'
RISKY = tuple("=+-@\t\r")


def _uscc(n: int) -> str:
    first = f"91500000MA5U{n:05d}"
    return first + uscc_check_char(first)


def _enterprise_file(path: Path) -> Path:
    good = {BY_NAME[k].zh: v for k, v in strong_values().items()}
    good |= {"统一社会信用代码": _uscc(1), "企业名称": "@SUM(1,2)", "所属区县": "500101"}
    good |= {"所属行业": FORMULA}
    bad = good | {"统一社会信用代码": _uscc(2), "科技人员数": "-1+cmd|' /C calc'!A0"}
    with path.open("w", newline="", encoding="utf-8") as fh:
        w = csv.DictWriter(fh, fieldnames=list(good))
        w.writeheader()
        w.writerows([good, bad])
    return path


def _csv_cells(data: str) -> list[object]:
    return [c for row in csv.reader(io.StringIO(data.lstrip("\ufeff"))) for c in row]


def _xlsx_cells(data: bytes | Path) -> list[object]:
    wb = openpyxl.load_workbook(io.BytesIO(data) if isinstance(data, bytes) else data)
    return [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]


def _assert_safe(cells: list[object], *must_hold: str) -> None:
    text = [c for c in cells if isinstance(c, str)]
    assert not [c for c in text if c.startswith(RISKY) and c != neutralise(c)], "live formula"
    for value in must_hold:  # the dangerous text is there, neutralised
        assert "'" + value in text, value


def test_one_rule_for_a_value_and_numbers_stay_numbers():
    assert neutralise(FORMULA) == "'" + FORMULA
    assert [neutralise(v) for v in ("+1", "@x", "\tx", "\rx", "-1+1")] == [
        "'+1",
        "'@x",
        "'\tx",
        "'\rx",
        "'-1+1",
    ]
    assert [neutralise(v) for v in ("-12.50", "-3", -3, 1.5, "", "工业")] == [
        "-12.50",
        "-3",
        -3,
        1.5,
        "",
        "工业",
    ]


def test_the_import_error_report_and_the_evaluation_files_hold_no_formula(world, tmp_path):
    source = _enterprise_file(tmp_path / "e.csv")
    report = import_file(world.system, source, year=2024)
    assert report.registered == 1 and report.rejected_rows == 1
    for name in ("errors.csv", "errors.xlsx"):
        write_errors(report.error_frame(), tmp_path / name)
    _assert_safe(_csv_cells((tmp_path / "errors.csv").read_text("utf-8")), "-1+cmd|' /C calc'!A0")
    _assert_safe(_xlsx_cells(tmp_path / "errors.xlsx"), "-1+cmd|' /C calc'!A0")

    runner = CliRunner()
    for suffix in ("csv", "xlsx"):
        out, errs = tmp_path / f"r.{suffix}", tmp_path / f"r.errors.{suffix}"
        result = runner.invoke(
            app, ["evaluate", str(source), "--out", str(out), "--errors", str(errs)]
        )
        assert result.exit_code == 1, result.output  # one row rejected
        if suffix == "csv":
            _assert_safe(_csv_cells(out.read_text("utf-8")), "@SUM(1,2)")
            _assert_safe(_csv_cells(errs.read_text("utf-8")), "-1+cmd|' /C calc'!A0")
        else:
            _assert_safe(_xlsx_cells(out), "@SUM(1,2)")
            _assert_safe(_xlsx_cells(errs), "-1+cmd|' /C calc'!A0")


def test_the_statistics_by_industry_hold_no_formula(world, client):
    system = world.system
    registry.submit_data(
        system,
        enterprise_id=world.enterprise["a"].pk,
        year=2024,
        values=strong_values(industry=FORMULA),
    )
    product = lending.create_product(
        world.users["admin"], code="KVC", name="知识价值信用贷款", rate_basis="PBOC_BENCHMARK"
    )
    line = CreditLine.objects.get(enterprise=world.enterprise["a"])
    today = line.valid_until - dt.timedelta(days=1)
    app_ = loans.apply(
        world.users["enterprise_a"],
        bank_id=world.bank["a"].pk,
        product_id=product.pk,
        amount_fen=1_000_000_00,
        term_months=12,
        method="MONTHLY_INTEREST",
        purpose="研发投入",
        first_time_borrower=True,
        today=today,
    )
    bank = world.users["bank_a"]
    start = dt.date(2024, 5, 15)
    loans.approve(bank, application_id=app_.pk, amount_fen=app_.amount_fen, today=start)
    loans.disburse(bank, application_id=app_.pk, disbursed_on=start, today=today)

    s = programme.statistics(system, by="industry")
    assert FORMULA in [g.label for g in s["groups"]]
    _assert_safe(_csv_cells(export.to_csv("industry", s["total"], s["groups"])), FORMULA)
    buf = io.BytesIO()
    export.to_xlsx(buf, "industry", s["total"], s["groups"], by_month=s["by_month"])
    _assert_safe(_xlsx_cells(buf.getvalue()), FORMULA)

    client.force_login(world.users["admin"])
    response = client.get("/statistics/export/?by=industry")
    assert response.status_code == 200
    _assert_safe(_xlsx_cells(response.content), FORMULA)
