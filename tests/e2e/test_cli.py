"""The kvcredit command line on real files: CSV (BOM, Chinese headers, GBK), XLSX, Parquet."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.scoring.fields import FIELDS
from kvcredit.scoring.io import write_enterprises
from kvcredit.scoring.policy import load_policy
from kvcredit.scoring.synth import generate

runner = CliRunner()
HEADERS = [f.zh for f in FIELDS]


def run(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(app, [str(a) for a in args])
    return result.exit_code, result.output


def bad_rows_csv(path: Path) -> dict[str, str]:
    """A UTF-8-with-BOM CSV, Chinese headers: 3 good rows then one bad row of every kind."""
    frame = generate(14, 11)
    write_enterprises(frame, path, chinese_headers=True)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    col = {f.name: k for k, f in enumerate(FIELDS)}
    u = frame.get_column("uscc").to_list()
    wrong_check = u[3][:17] + ("1" if u[3][17] != "1" else "2")
    edits = [
        ("uscc", wrong_check),
        ("uscc", u[4][:16]),
        ("revenue", "-100"),
        ("revenue", "1.005"),
        ("total_staff", "十"),
        ("tech_staff", "100000"),
        ("uscc", u[0]),
        ("name", ""),
        ("high_tech_certified", "maybe"),
        ("ip_design", "2.5"),
        ("uscc", u[10].replace(u[10][8], "I")),
    ]
    for k, (field, value) in enumerate(edits, start=4):
        rows[k][col[field]] = value
    if edits[5][0] == "tech_staff":
        rows[9][col["total_staff"]] = "10"
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return {"good": ",".join(u[:3])}


def test_evaluate_reports_every_kind_of_bad_row_and_keeps_the_good_ones(tmp_path: Path) -> None:
    src = tmp_path / "enterprises.csv"
    bad_rows_csv(src)
    out, report = tmp_path / "results.csv", tmp_path / "errors.csv"
    code, output = run("evaluate", src, "--out", out, "--errors", report)
    assert code == 1, output
    errors = pl.read_csv(report, infer_schema=False)
    got = {(int(r["row"]), r["field"]): r["message_en"] for r in errors.iter_rows(named=True)}
    assert got[(5, "uscc")].startswith("USCC check character is")
    assert got[(6, "uscc")] == "USCC must be 18 characters, got 16"
    assert got[(7, "revenue")] == "must not be negative"
    assert got[(8, "revenue")] == "at most two decimal places: 1.005"
    assert got[(9, "total_staff")] == "not a number: 十"
    assert got[(10, "tech_staff")] == "tech_staff (100000) must not exceed total_staff (10)"
    assert got[(11, "uscc")] == "duplicate USCC, first seen on row 2"
    assert got[(12, "name")] == "required value is missing"
    assert got[(13, "high_tech_certified")] == "must be true/false, 1/0 or 是/否: maybe"
    assert got[(14, "ip_design")] == "must be a whole number: 2.5"
    assert got[(15, "uscc")].startswith("characters not allowed in a USCC: I")
    assert "必填项为空" in errors.get_column("message_zh").to_list()
    results = pl.read_csv(out, infer_schema=False)
    assert results.get_column("row").to_list() == ["2", "3", "4"]
    for column in (
        "uscc",
        "name",
        "eligible",
        "score",
        "grade",
        "credit_limit",
        "qualified_by",
        "knocked_out_by",
        "policy_id",
        "policy_version",
        "policy_hash",
    ):
        assert column in results.columns
    assert "rows rejected" in output and "11" in output and str(report) in output.replace("\n", "")


@pytest.mark.parametrize("suffix", ["parquet", "xlsx", "csv"])
def test_evaluate_clean_files_exit_zero(tmp_path: Path, suffix: str) -> None:
    src = tmp_path / f"e.{suffix}"
    write_enterprises(generate(40, 2), src)
    out = tmp_path / "r.json"
    code, output = run("evaluate", src, "--out", out, "--explain", "--policy", "most-tech-sme")
    assert code == 0, output
    rows = json.loads(out.read_text())
    assert len(rows) == 40 and any(k.startswith("points.") for k in rows[0])


def test_gbk_csv_with_chinese_headers(tmp_path: Path) -> None:
    utf8 = tmp_path / "u.csv"
    write_enterprises(generate(5, 4), utf8, chinese_headers=True)
    gbk = tmp_path / "g.csv"
    gbk.write_bytes(utf8.read_bytes().decode("utf-8-sig").encode("gb18030"))
    code, output = run("evaluate", gbk)
    assert code == 0, output
    assert "rows evaluated" in output


def test_xlsx_written_by_hand_with_numbers_and_text(tmp_path: Path) -> None:
    frame = generate(3, 9)
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(HEADERS)
    for r in frame.iter_rows(named=True):
        cells = [
            r[f.name] / 100
            if f.name
            in ("revenue", "total_costs", "rd_expense", "total_assets", "revenue_prev", "tax_paid")
            else r[f.name]
            for f in FIELDS
        ]
        ws.append(cells)
    ws.append(["91500000MA5U7X4P2Q", "坏数据", "渝北区", 1.5] + [0] * (len(FIELDS) - 4))
    path = tmp_path / "hand.xlsx"
    wb.save(path)
    report = tmp_path / "e.xlsx"
    code, output = run("evaluate", path, "--errors", report)
    assert code == 1, output
    assert "3" in output
    errors = pl.read_excel(report)
    assert set(errors.get_column("row").to_list()) == {5}
    assert "total_staff" in errors.get_column("field").to_list()


def test_missing_column_and_unknown_policy_exit_two(tmp_path: Path) -> None:
    src = tmp_path / "e.csv"
    write_enterprises(generate(2, 1).drop("uscc"), src)
    code, output = run("evaluate", src)
    assert code == 2 and "uscc" in output
    code, output = run("evaluate", src, "--policy", "no-such-policy")
    assert code == 2 and "no-such-policy" in output


def broken_policy(tmp_path: Path) -> Path:
    text = Path(load_policy("chongqing-kvc").source or "").name
    assert text == "" or text
    original = Path(__file__).parents[2] / "src/kvcredit/scoring/policies/chongqing-kvc.toml"
    path = tmp_path / "broken.toml"
    path.write_text(original.read_text(encoding="utf-8").replace('grade = "A"', 'grade = "a"'))
    return path


def test_policy_check_names_the_key_path(tmp_path: Path) -> None:
    code, output = run("policy", "check", broken_policy(tmp_path))
    assert code == 2
    assert "outcome.grades.0.grade" in output
    code, output = run("policy", "check", "chongqing-kvc")
    assert (
        code == 0
        and "chongqing-kvc" in output
        and load_policy("chongqing-kvc").content_hash in output
    )


def test_policy_show_lists_indicators_and_grades() -> None:
    code, output = run("policy", "show", "chongqing-kvc")
    assert code == 0
    for text in ("rd_intensity", "5,000,000.00", "800,000.00", "participating_district"):
        assert text in output


def test_policy_diff_shows_migration_and_credit_change(tmp_path: Path) -> None:
    original = Path(__file__).parents[2] / "src/kvcredit/scoring/policies/chongqing-kvc.toml"
    text = original.read_text(encoding="utf-8")
    assert 'version = "2026.1"' in text
    new = tmp_path / "new.toml"
    new.write_text(
        text.replace('version = "2026.1"', 'version = "2026.2"').replace(
            "weight = 0.30", "weight = 0.35", 1
        )
    )
    src = tmp_path / "e.parquet"
    write_enterprises(generate(500, 8), src)
    changes = tmp_path / "changes.csv"
    code, output = run(
        "policy", "diff", "chongqing-kvc", new, "--enterprises", src, "--out", changes
    )
    assert code == 0, output
    assert "moved up" in output and "change (yuan)" in output and "not rated" in output
    table = pl.read_csv(changes)
    assert table.height == 500 and {"old_outcome", "new_outcome", "moved"} <= set(table.columns)
    assert (table.get_column("moved") == "up").sum() > 0


def test_synth_is_reproducible_from_the_seed(tmp_path: Path) -> None:
    a, b, c = tmp_path / "a.csv", tmp_path / "b.csv", tmp_path / "c.csv"
    assert run("synth", "enterprises", "200", "--seed", "4", "--out", a)[0] == 0
    assert run("synth", "enterprises", "200", "--seed", "4", "--out", b)[0] == 0
    assert (
        run("synth", "enterprises", "200", "--seed", "5", "--out", c, "--chinese-headers")[0] == 0
    )
    assert a.read_bytes() == b.read_bytes() != c.read_bytes()
    assert c.read_bytes().startswith("\ufeff统一社会信用代码".encode())
