"""`kvcredit evaluate` with a policy that declares its own fields, under Chinese headers:
each row validated with the bilingual report, ignored columns listed, and the results holding
the sub-scores, failed requirements, routes and knock-outs in every output format."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import polars as pl
import pytest
from typer.testing import CliRunner

from kvcredit.cli import app
from kvcredit.scoring.fields import FIELDS
from kvcredit.scoring.io import write_enterprises
from kvcredit.scoring.synth import generate

POLICY = Path(__file__).parents[1] / "unit" / "policies" / "provincial-sme.toml"
DECLARED = {
    "主营业务收入": ["9000000", "5000000", "1000000", "9000000"],
    "资产负债率": ["0.5", "0.8", "11", "0.3"],
    "企业性质": ["private", "state", "private", "集体"],
    "省级科技奖励日期": ["2025-01-15", "", "2020-01-01", "2024-13-01"],
}
runner = CliRunner()


def enterprises_csv(path: Path, extra: dict[str, list[str]] | None = None) -> list[str]:
    """Four enterprises, Chinese headers, the declared columns and one column nobody reads."""
    frame = generate(4, 3)
    write_enterprises(frame, path, chinese_headers=True)
    with path.open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    columns = {**DECLARED, "备注": ["a", "b", "c", "d"], **(extra or {})}
    rows[0] += list(columns)
    for k in range(1, 5):
        rows[k] += [values[k - 1] for values in columns.values()]
    with path.open("w", encoding="utf-8-sig", newline="") as fh:
        csv.writer(fh).writerows(rows)
    return frame.get_column("uscc").to_list()


def evaluate(*args: str | Path) -> tuple[int, str]:
    result = runner.invoke(
        app, ["evaluate", *map(str, args), "--policy", str(POLICY), "--on", "2026-06-01"]
    )
    return result.exit_code, result.output


def test_declared_fields_under_chinese_headers_are_validated_row_by_row(tmp_path: Path) -> None:
    source, out = tmp_path / "in.csv", tmp_path / "out.csv"
    usccs = enterprises_csv(source)
    code, output = evaluate(source, "--out", out)
    assert code == 1, output
    assert "columns not used 未使用的列: 备注" in output
    report = pl.read_csv(tmp_path / "out.errors.csv", infer_schema=False)
    lines = {(r["row"], r["field"]): r for r in report.iter_rows(named=True)}
    assert lines["4", "debt_ratio"]["message_zh"] == "不能大于10：11"
    assert lines["4", "debt_ratio"]["message_en"] == "must be at most 10: 11"
    assert lines["5", "ownership"]["message_en"] == "must be one of private/state/foreign: 集体"
    assert lines["5", "provincial_award_date"]["message_zh"].startswith("不是日期")
    assert lines["1", "备注"]["message_en"].startswith("column not used")
    results = pl.read_csv(out, infer_schema=False)
    assert results.get_column("uscc").to_list() == usccs[:2]


@pytest.mark.parametrize("suffix", [".csv", ".xlsx", ".parquet", ".json"])
def test_the_results_hold_sub_scores_requirements_routes_and_knock_outs(
    tmp_path: Path, suffix: str
) -> None:
    source, out = tmp_path / "in.csv", tmp_path / f"out{suffix}"
    fixed = {"资产负债率": ["0.5", "0.8", "0.3", "0.3"], "企业性质": ["private"] * 4}
    fixed |= {"省级科技奖励日期": ["2025-01-15", "", "2020-01-01", "2024-12-01"]}
    enterprises_csv(source, fixed)
    code, output = evaluate(source, "--out", out)
    assert code == 0, output
    if suffix == ".xlsx":
        sheet = openpyxl.load_workbook(out).active
        header = [c.value for c in next(sheet.iter_rows(max_row=1))]
    else:
        reader = {".csv": pl.read_csv, ".parquet": pl.read_parquet, ".json": pl.read_json}
        header = reader[suffix](out).columns
    for column in (
        "group.innovation",
        "group.finance",
        "group.growth_group",
        "failed_requirements",
        "routes",
        "uplifts",
        "knocked_out_by",
        "qualified_by",
    ):
        assert column in header, (column, header)


def test_a_policy_error_speaks_the_operators_language(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(POLICY.read_text("utf-8").replace('kind = "ratio"', 'kind = "percentage"', 1))
    zh = runner.invoke(app, ["policy", "check", str(bad)], env={"KVCREDIT_LANGUAGE": "zh"})
    en = runner.invoke(app, ["policy", "check", str(bad)], env={"KVCREDIT_LANGUAGE": "en"})
    assert zh.exit_code == en.exit_code == 2
    assert "fields.1.kind: 取值应为" in zh.output
    assert "fields.1.kind: Input should be" in en.output


def test_the_dictionary_headers_still_read_when_the_policy_adds_none(tmp_path: Path) -> None:
    source = tmp_path / "plain.csv"
    write_enterprises(generate(3, 1), source, chinese_headers=True)
    result = runner.invoke(app, ["evaluate", str(source)])
    assert result.exit_code == 0, result.output
    assert "未使用的列" not in result.output
    assert len(FIELDS) > 0
