"""Reading enterprise files: the vectorised checks decide every cell as records.py does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from kvcredit.errors import InputFileError
from kvcredit.scoring.checks import validate_frame
from kvcredit.scoring.fields import BY_NAME, FIELDS, Kind, uscc_check_char
from kvcredit.scoring.io import read_enterprises, write_enterprises
from kvcredit.scoring.problems import Problems
from kvcredit.scoring.records import _P, RecordError, normalize_record, parse_value
from kvcredit.scoring.synth import generate
from kvcredit.scoring.validate import WHITESPACE, check_column


def usccs(n: int) -> list[str]:
    return [c for c in generate(n, 7).get_column("uscc").to_list()]


def good_row(uscc: str) -> dict[str, str]:
    row = {f.name: "0" for f in FIELDS if f.kind is not Kind.TEXT}
    return row | {
        "uscc": uscc,
        "name": "重庆测试科技有限公司",
        "district": "渝北区",
        "total_staff": "50",
        "tech_staff": "10",
        "revenue": "1,234,567.89",
        "high_tech_certified": "是",
        "industry": "",
    }


BAD_CELLS: list[tuple[str, str]] = [
    ("uscc", "91500000MA5U7X4P2A"),  # wrong check character (made below)
    ("uscc", "91500000MA5U7X4P2"),  # 17 characters
    ("uscc", "91500000MA5U7X4PIO"),  # letters not allowed
    ("revenue", "-5"),
    ("revenue", "12.345"),
    ("revenue", "1e13"),
    ("total_staff", "ten"),
    ("total_staff", "3.5"),
    ("tech_staff", "500"),  # more than total_staff
    ("name", "  "),
    ("high_tech_certified", "maybe"),
    ("rd_expense", "１２"),  # full-width digits: decided by parse_value itself
    ("ip_invention", "1e-99999999"),
    ("tax_paid", "1.0000000000000000000000000001"),
    ("name", "a\x01b"),
]


def mixed_rows() -> list[dict[str, str]]:
    codes = usccs(len(BAD_CELLS) + 6)
    rows = [good_row(c) for c in codes[:6]]
    rows[2]["revenue"], rows[3]["high_tech_certified"] = " 12.3 ", "No"
    for (field, value), code in zip(BAD_CELLS, codes[6:], strict=True):
        rows.append(good_row(code) | {field: value})
    bad_check = codes[0][:17] + ("0" if codes[0][17] != "0" else "1")
    rows[6]["uscc"] = bad_check.lower()
    rows.append(good_row(codes[1]))  # duplicate of the second row
    return rows


def reference(row: dict[str, Any]) -> tuple[dict[str, Any] | None, list[tuple[str, str, str]]]:
    try:
        return normalize_record(row), []
    except RecordError as exc:
        return None, [(p.field, p.message_zh, p.message_en) for p in exc.problems]


def test_whitespace_is_exactly_what_str_strip_removes() -> None:
    expected = "".join(chr(c) for c in range(0x110000) if chr(c).isspace())
    assert expected == WHITESPACE


def test_file_checks_give_the_per_record_decisions_and_values() -> None:
    rows = mixed_rows()
    raw = pl.DataFrame(rows, schema={f.name: pl.String for f in FIELDS})
    checked = validate_frame(raw, np.arange(len(rows)) + 2)
    problems = checked.problems.filter(pl.col("code") != "duplicate")
    valid = {r["_row"] - 2: r for r in checked.frame.iter_rows(named=True)}
    for i, row in enumerate(rows[:-1]):
        want, want_problems = reference(row)
        got = problems.filter(pl.col("_i") == i).select("field", "message_zh", "message_en")
        assert [tuple(r) for r in got.iter_rows()] == want_problems, row
        if want is not None:
            assert {k: valid[i][k] for k in want} == want
        else:
            assert i not in valid
    dup = checked.problems.filter(pl.col("code") == "duplicate")
    assert dup.select("_i", "first").rows() == [(len(rows) - 1, "3")]


CELLS = st.one_of(
    st.text(max_size=12),
    st.from_regex(r"\A[ \t]?[+-]?[0-9,]{0,21}(\.[0-9]{0,21})?([eE][+-]?[0-9]{1,8})?\s?\Z"),
    st.sampled_from(["是", "否", "TRUE", "n", " 1 ", "0.0", "1e2", "1,000.50", "-0", ".", ""]),
    st.none(),
)


def column_reference(name: str, cells: list[Any]) -> list[tuple[Any, str | None]]:
    out: list[tuple[Any, str | None]] = []
    for cell in cells:
        try:
            out.append((parse_value(name, cell), None))
        except _P as exc:
            out.append((None, exc.problem.message_en))
    return out


@settings(max_examples=300, deadline=None)
@given(
    name=st.sampled_from(
        ["revenue", "total_staff", "high_tech_certified", "name", "uscc", "tax_paid"]
    ),
    cells=st.lists(CELLS, min_size=1, max_size=8),
)
def test_random_cells_are_decided_as_parse_value_decides_them(name: str, cells: list[Any]) -> None:
    out = Problems()
    values = check_column(BY_NAME[name], pl.Series(cells, dtype=pl.String), len(cells), out)
    problems = out.frame()
    from kvcredit.scoring.problems import messages

    problems = (
        messages(problems) if problems.height else problems.with_columns(message_en=pl.lit(""))
    )
    for i, (want, message) in enumerate(column_reference(name, cells)):
        got = problems.filter(pl.col("_i") == i).get_column("message_en").to_list()
        assert got == ([message] if message else []), (cells[i], got)
        if message is None:
            assert values[i] == want, cells[i]


def test_uscc_check_character_follows_gb32100() -> None:
    assert uscc_check_char("91350100M000100Y4") == "3"


@pytest.mark.parametrize("suffix", ["csv", "xlsx", "parquet"])
@pytest.mark.parametrize("chinese", [False, True])
def test_written_files_read_back_identical(tmp_path: Path, suffix: str, chinese: bool) -> None:
    frame = generate(60, 3)
    path = tmp_path / f"e.{suffix}"
    write_enterprises(frame, path, chinese_headers=chinese)
    result = read_enterprises(path)
    assert result.errors.height == 0 and result.total_rows == 60
    assert result.frame.drop("_row").equals(frame)
    assert result.frame.get_column("_row").to_list() == list(range(2, 62))


def test_gbk_csv_and_district_codes(tmp_path: Path) -> None:
    frame = generate(3, 5).with_columns(pl.Series("district", ["500112", "Yubei", "渝中区"]))
    csv = tmp_path / "utf8.csv"
    write_enterprises(frame, csv, chinese_headers=True)
    gbk = tmp_path / "gbk.csv"
    gbk.write_bytes(csv.read_bytes().decode("utf-8-sig").encode("gbk"))
    result = read_enterprises(gbk)
    assert result.frame.get_column("district").to_list() == ["渝北区", "渝北区", "渝中区"]


def test_missing_required_column_names_it_in_both_languages(tmp_path: Path) -> None:
    path = tmp_path / "e.csv"
    write_enterprises(generate(2, 1).drop("revenue"), path)
    with pytest.raises(InputFileError, match=r"销售收入.*revenue"):
        read_enterprises(path)


def test_unreadable_file_is_a_file_error(tmp_path: Path) -> None:
    path = tmp_path / "e.xlsx"
    path.write_bytes(b"not a workbook")
    with pytest.raises(InputFileError):
        read_enterprises(path)
