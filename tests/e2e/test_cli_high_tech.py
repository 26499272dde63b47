"""`kvcredit policy check|show` and `kvcredit evaluate` on a hand-made workbook for the shipped
high-tech-enterprise policy: Chinese headers for its declared fields, three firms worked by hand
(recognised at 93, knocked out by the revenue-banded R&D share, 70 points below the pass mark)."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl
from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.scoring import load_policy
from kvcredit.scoring.io import write_enterprises
from kvcredit.scoring.synth import generate

runner = CliRunner()
HTE = load_policy("high-tech-enterprise")
ZH = {f.name: f.zh for f in HTE.declared}

# The three firms (columns by field name; dictionary headers come from write_enterprises).
COMMON = {
    "total_staff": "100",
    "tech_staff": "10",
    "revenue": "40000000",
    "rd_expense": "2000000",
    "ip_invention": "1",
    "major_incident": "否",
}
DECLARED = {
    "registration_date": "2020-01-01",
    "core_ip_owned": "是",
    "hitech_field": "是",
    "revenue_y1": "30000000",
    "revenue_y2": "30000000",
    "rd_expense_y1": "1500000",
    "rd_expense_y2": "1500000",
    "rd_domestic_3y": "3000000",
    "hitech_income": "6000000",
    "total_income": "10000000",
    "net_assets_negative": "否",
    "net_asset_growth": "0.35",
    "sales_growth": "0.35",
    "conversions_3y": "15",
    "ip_advancement_points": "8",
    "ip_core_role_points": "8",
    "ip_acquisition_points": "6",
    "ip_standards_points": "2",
    "mgmt_rd_system_points": "6",
    "mgmt_rd_institution_points": "6",
    "mgmt_conversion_system_points": "4",
    "mgmt_talent_system_points": "4",
}
CHANGES = [
    {},
    {"rd_expense": "1999999.99"},  # 4,999,999.99 of 100 M: under 5 % for sales <= 50 M
    {  # IP 29, conversion 25, management 0, growth 7 + 9: 70
        "ip_standards_points": "0",
        "net_asset_growth": "0.25",
        "mgmt_rd_system_points": "0",
        "mgmt_rd_institution_points": "0",
        "mgmt_conversion_system_points": "0",
        "mgmt_talent_system_points": "0",
    },
]


def workbook(path: Path, tmp: Path) -> list[str]:
    plain = tmp / "plain.csv"
    frame = generate(3, 7)
    write_enterprises(frame, plain, chinese_headers=True)
    with plain.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    english = list(frame.columns)
    header = rows[0] + [ZH[name] for name in DECLARED]
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(header)
    for k, row in enumerate(rows[1:]):
        values = {**COMMON, **DECLARED, **CHANGES[k]}
        fixed = [values.get(name, cell) for name, cell in zip(english, row, strict=True)]
        sheet.append(fixed + [values[name] for name in DECLARED])
    book.save(path)
    return frame.get_column("uscc").to_list()


def test_check_and_show_the_shipped_policy() -> None:
    check = runner.invoke(app, ["policy", "check", "high-tech-enterprise"])
    assert check.exit_code == 0 and "OK high-tech-enterprise 2016" in check.output
    show = runner.invoke(app, ["policy", "show", "high-tech-enterprise"], env={"COLUMNS": "400"})
    assert show.exit_code == 0, show.output
    assert "any(all(revenue <= 50000000 & rd_share_3y >= 0.05)" in show.output
    assert "not(registration_date within 1 years)" in show.output


def test_evaluate_a_workbook_with_the_declared_fields(tmp_path: Path) -> None:
    source, out = tmp_path / "firms.xlsx", tmp_path / "results.csv"
    usccs = workbook(source, tmp_path)
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(source),
            "--out",
            str(out),
            "--policy",
            "high-tech-enterprise",
            "--on",
            "2026-06-01",
            "--explain",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "未使用的列" not in result.output
    rows = {r["uscc"]: r for r in pl.read_csv(out, infer_schema=False).iter_rows(named=True)}
    top, low_rd, seventy = (rows[u] for u in usccs)
    assert (top["eligible"], top["score"], top["qualified_by"]) == ("true", "93", "score")
    assert [top[f"group.{g}"] for g in ("ip", "conversion", "management", "growth")] == [
        "30",
        "25",
        "20",
        "18",
    ]
    assert low_rd["eligible"] == "false" and low_rd["knocked_out_by"] == "rd_share_by_revenue"
    assert (seventy["eligible"], seventy["score"], seventy["group.ip"]) == ("false", "70", "29")
