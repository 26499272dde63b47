"""The published figures: counted by hand on a small fixture (reporting.aggregate is pure)."""

from __future__ import annotations

import io
import json

import pytest

from kvcredit.reporting.aggregate import LoanRow, MoneyRow, breakdown, headline
from kvcredit.reporting.export import to_csv, to_json, to_xlsx

LOANS = [
    LoanRow(1, "2024-01-14", "万州区", "BANK A", "A", "软件", 1_000_000_00, True),
    LoanRow(1, "2024-06-14", "万州区", "BANK A", "A", "软件", 500_000_00, False),
    LoanRow(2, "2024-02-14", "涪陵区", "BANK B", "B", "制造", 300_000_00, True),
    LoanRow(3, "2025-01-14", "涪陵区", "BANK A", "B", "制造", 200_000_01, False),
]
PAID = [MoneyRow("2024-09-15", "涪陵区", "BANK B", "B", "制造", 240_000_00, 2)]
RECOVERED = [MoneyRow("2024-12-15", "涪陵区", "BANK B", "B", "制造", 60_000_00, 2)]
COMMERCIAL = [MoneyRow("2024-03-01", "万州区", "BANK A", "A", "软件", 2_000_000_00, 1)]


def test_headline_counts_enterprise_times_and_distinct_enterprises() -> None:
    h = headline(LOANS, paid=PAID, recovered=RECOVERED, commercial=COMMERCIAL)
    assert h.enterprise_times == 4
    assert h.enterprises == 3
    assert h.first_time_borrowers == 2
    assert h.amount_lent_fen == 2_000_000_01
    assert h.average_loan_fen == 500_000_00  # 2,000,000.01 / 4 = 500,000.0025 -> half up
    assert h.compensation_paid_fen == 240_000_00
    assert h.recovered_fen == 60_000_00
    assert (h.commercial_loans, h.commercial_amount_fen) == (1, 2_000_000_00)


def test_a_date_window_keeps_only_its_days() -> None:
    total, groups = breakdown(
        LOANS, by="district", paid=PAID, date_from="2024-01-01", date_to="2024-12-31"
    )
    assert total.enterprise_times == 3
    assert [(g.label, g.enterprise_times, g.amount_lent_fen) for g in groups] == [
        ("万州区", 2, 1_500_000_00),
        ("涪陵区", 1, 300_000_00),
    ]
    assert groups[1].compensation_paid_fen == 240_000_00


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("bank", [("BANK A", 3), ("BANK B", 1)]),
        ("grade", [("A", 2), ("B", 2)]),
        ("industry", [("制造", 2), ("软件", 2)]),
        ("month", [("2024-01", 1), ("2024-02", 1), ("2024-06", 1), ("2025-01", 1)]),
    ],
)
def test_breakdown_by_each_dimension(by: str, expected: list[tuple[str, int]]) -> None:
    _total, groups = breakdown(LOANS, by=by)
    assert [(g.label, g.enterprise_times) for g in groups] == expected


def test_the_given_order_comes_first_and_keeps_empty_groups() -> None:
    _total, groups = breakdown(LOANS, by="grade", order=["AAA", "A", "B"])
    assert [(g.label, g.enterprise_times) for g in groups] == [("AAA", 0), ("A", 2), ("B", 2)]


def test_an_unknown_dimension_is_refused() -> None:
    with pytest.raises(ValueError, match="district"):
        breakdown(LOANS, by="colour")


def test_exports_write_the_same_figures_in_yuan() -> None:
    total, groups = breakdown(LOANS, by="district")
    rows = to_csv("district", total, groups).splitlines()
    assert rows[1].split(",")[:3] == ["万州区", "2", "1500000.00"]
    assert rows[-1].split(",")[1] == "4"
    body = json.loads(to_json("district", total, groups, [("万州区", 123)]))
    assert body["total"]["amount_lent_fen"] == 2_000_000_01
    assert body["pool_balances_fen"] == {"万州区": 123}


def test_the_workbook_has_native_charts() -> None:
    import zipfile

    total, groups = breakdown(LOANS, by="district")
    by_month = breakdown(LOANS, by="month")[1]
    buf = io.BytesIO()
    to_xlsx(buf, "district", total, groups, by_month=by_month, pools=[("万州区", 100)])
    names = zipfile.ZipFile(io.BytesIO(buf.getvalue())).namelist()
    assert sum(n.startswith("xl/charts/chart") for n in names) == 3


def test_the_workbook_holds_money_as_exact_numbers_shown_in_yuan(tmp_path) -> None:  # type: ignore[no-untyped-def]
    import zipfile

    import openpyxl

    big = [LoanRow(9, "2024-03-01", "万州区", "BANK A", "A", "软件", 12_345_678_901_234_56, True)]
    total, groups = breakdown([*LOANS, *big], by="district")
    path = tmp_path / "report.xlsx"
    to_xlsx(path, "district", total, groups, pools=[("万州区", 5_000_000_00)])
    sheet = openpyxl.load_workbook(path)["district"]
    header = [c.value for c in sheet[1]]
    lent = header.index("贷款金额（元） amount lent (yuan)") + 1
    wanzhou = sheet.cell(row=2, column=lent)
    assert wanzhou.value == 12_345_680_401_234.56 and wanzhou.number_format == "#,##0.00"
    times = sheet.cell(row=2, column=header.index("企业户次 enterprise-times") + 1)
    assert times.value == 3 and times.number_format == "General"  # a count, not money
    pool = openpyxl.load_workbook(path)["pools"].cell(row=2, column=2)
    assert pool.value == 5_000_000 and pool.number_format == "#,##0.00"  # 5,000,000.00
    # the file holds the decimal figure to the fen (16 digits, Excel keeps 15)
    xml = zipfile.ZipFile(path).read("xl/worksheets/sheet1.xml").decode()
    assert "<v>12345680401234.56</v>" in xml and "<v>12345680901234.57</v>" in xml
