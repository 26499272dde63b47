"""Read enterprise files (CSV, XLSX, Parquet) into internal units; write enterprises and results.

``read_enterprises`` maps English names or Chinese headers to the data dictionary, validates
every row with the rules of ``kvcredit.scoring.records`` (vectorised, ``kvcredit.scoring.checks``)
and gives the valid rows and a per-problem error report. A bad row never stops the good ones;
a file that cannot be read at all, or lacks a required column, raises ``InputFileError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from dataclasses import fields as dataclass_fields
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from kvcredit.errors import InputFileError, RowError
from kvcredit.scoring.checks import validate_frame
from kvcredit.scoring.fields import BY_HEADER, BY_NAME, FIELDS, Field, Kind, is_textual
from kvcredit.scoring.safe_cells import neutralise_frame
from kvcredit.scoring.synth import districts
from kvcredit.scoring.upload_limits import NO_LIMITS, Limits, check_size, too_many_rows
from kvcredit.scoring.validate import WHITESPACE, as_cells

Progress = Callable[[str], None]
ERROR_COLUMNS = tuple(
    f.name for f in dataclass_fields(RowError)
)  # row uscc field value message_zh/en
CSV_SUFFIXES = {".csv", ".txt"}
XLSX_SUFFIXES = {".xlsx", ".xlsm", ".xls", ".xlsb", ".ods"}
FIRST_DATA_ROW = 2  # the header is row 1, as a spreadsheet shows it
IGNORED_ZH = "未使用的列：既不在数据字典中，也不是政策声明的字段"
IGNORED_EN = "column not used: not in the data dictionary nor declared by the policy"


@dataclass(frozen=True)
class ReadResult:
    frame: pl.DataFrame  # valid rows, internal units, plus ``_row``
    errors: pl.DataFrame  # row, uscc, field, value, message_zh, message_en
    total_rows: int  # data rows read (wholly blank rows are not counted)
    ignored: tuple[str, ...] = ()  # headers of the columns not read (no field of that name)

    @property
    def rejected_rows(self) -> int:
        return int(self.errors.get_column("row").n_unique()) if self.errors.height else 0

    def report(self) -> pl.DataFrame:
        """The error report: one line per problem, then one per ignored column (row 1, the
        header row, with the column's header as the field)."""
        if not self.ignored:
            return self.errors
        n = len(self.ignored)
        lines = pl.DataFrame(
            {
                "row": pl.Series([FIRST_DATA_ROW - 1] * n, dtype=pl.Int64),
                "uscc": [""] * n,
                "field": list(self.ignored),
                "value": pl.Series([None] * n, dtype=pl.String),
                "message_zh": [IGNORED_ZH] * n,
                "message_en": [IGNORED_EN] * n,
            }
        )
        return pl.concat([self.errors.select(ERROR_COLUMNS), lines], how="vertical_relaxed")


def _say(progress: Progress | None, stage: str) -> None:
    if progress is not None:
        progress(stage)


def read_enterprises(
    path: str | Path,
    progress: Progress | None = None,
    limits: Limits = NO_LIMITS,
    declared: Sequence[Field] = (),
) -> ReadResult:
    """Read and validate an enterprise file; see the module docstring.

    ``limits`` bound the file's uncompressed bytes (checked before a reader sees it) and its
    rows (at most one more is read): over either, ``UploadTooLarge`` and nothing parsed.
    ``declared``: the fields a policy declares (``Policy.declared``), read by English name or
    Chinese header and validated like the dictionary's. Columns that are neither are listed
    in ``ignored``.
    """
    path = Path(path)
    _say(progress, "reading")
    fields = _Fields(tuple(declared))
    raw = _read_raw(path, fields, limits)
    too_many_rows(path, raw.height, limits)
    rows = np.arange(raw.height, dtype=np.int64) + FIRST_DATA_ROW
    keep = ~_blank_rows(raw)
    raw, rows = raw.filter(pl.Series(keep)), rows[keep]
    _say(progress, "validating")
    checked = validate_frame(raw, rows, fields.declared)
    errors = _error_report(checked.problems, raw, rows)
    return ReadResult(_district_names(checked.frame), errors, raw.height, tuple(fields.ignored))


# -- reading -------------------------------------------------------------------------------
class _Fields:
    """The fields a file may hold: the dictionary's and a policy's declared ones."""

    def __init__(self, declared: tuple[Field, ...]) -> None:
        self.declared = declared
        self.by_header = {**BY_HEADER, **{f.zh: f for f in declared}}
        self.by_name = {**BY_NAME, **{f.name: f for f in declared}}
        self.ignored: list[str] = []

    def of(self, header: Any) -> Field | None:
        key = str(header).strip().lstrip("\ufeff").strip()
        return self.by_header.get(key) or self.by_name.get(key) or self.by_name.get(key.lower())


def _mapping(path: Path, headers: list[str], fields: _Fields) -> dict[str, str]:
    """{file header: field name}; refuses a field given twice or a missing required one."""
    mapping: dict[str, str] = {}
    for header in headers:
        f = fields.of(header)
        if f is None:
            if str(header).strip() and not str(header).startswith("__UNNAMED__"):
                fields.ignored.append(str(header).strip().lstrip("\ufeff"))
            continue
        if f.name in mapping.values():
            raise InputFileError(
                f"{path.name}: 字段 {f.zh}（{f.name}）出现了两列 / "
                f"field {f.name} ({f.zh}) appears in two columns"
            )
        mapping[header] = f.name
    everything = (*FIELDS, *fields.declared)
    missing = [f for f in everything if f.required and f.name not in mapping.values()]
    if missing:
        zh = "、".join(f"{f.zh}（{f.name}）" for f in missing)
        en = ", ".join(f"{f.name} ({f.zh})" for f in missing)
        raise InputFileError(f"{path.name}: 缺少必填列：{zh} / missing required column: {en}")
    return mapping


def _read_raw(path: Path, fields: _Fields, limits: Limits) -> pl.DataFrame:
    if not path.is_file():
        raise InputFileError(f"{path}: 文件不存在 / no such file")
    suffix = path.suffix.lower()
    check_size(path, limits)
    n_rows = limits.read_rows()
    try:
        if suffix in CSV_SUFFIXES:
            return _read_csv(path, fields, n_rows)
        if suffix in XLSX_SUFFIXES:
            return _read_excel(path, fields, n_rows)
        if suffix == ".parquet":
            return _read_parquet(path, fields, n_rows)
    except InputFileError:
        raise
    except Exception as exc:  # any reader failure: the file is unusable
        raise InputFileError(f"{path.name}: 无法读取文件 / cannot read the file: {exc}") from exc
    raise InputFileError(
        f"{path.name}: 不支持的文件类型 / unsupported file type {suffix!r} (.csv, .xlsx, .parquet)"
    )


def decode_csv(data: bytes) -> bytes:
    """UTF-8 (with or without the BOM Excel writes) as is; otherwise GB18030 (GBK) to UTF-8."""
    if data.startswith(b"\xef\xbb\xbf"):
        return data[3:]
    try:
        data.decode("utf-8")
        return data
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030").encode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputFileError("文件编码既不是 UTF-8 也不是 GB18030 / not UTF-8 or GB18030") from exc


def _read_csv(path: Path, fields: _Fields, n_rows: int | None = None) -> pl.DataFrame:
    data = decode_csv(path.read_bytes())
    if not data.strip():
        raise InputFileError(f"{path.name}: 文件为空 / the file is empty")
    raw = pl.read_csv(data, infer_schema=False, truncate_ragged_lines=True, n_rows=n_rows)
    mapping = _mapping(path, raw.columns, fields)
    return raw.select(mapping.keys()).rename(mapping)


def _read_excel(path: Path, fields: _Fields, n_rows: int | None = None) -> pl.DataFrame:
    """Text as written; numbers as Excel shows them (15 significant digits), not as text."""
    import fastexcel

    reader = fastexcel.read_excel(str(path))
    text = reader.load_sheet(0, dtypes="string", n_rows=n_rows).to_polars()
    mapping = _mapping(path, text.columns, fields)
    text = text.select(mapping.keys()).rename(mapping)
    kinds = {name: fields.by_name[name] for name in mapping.values()}
    numeric = [
        h
        for h, name in mapping.items()
        if not is_textual(kinds[name]) and kinds[name].kind is not Kind.DATE
    ]
    if not numeric or text.height == 0:
        return text
    dtypes: Any = dict.fromkeys(numeric, "float")
    nums = reader.load_sheet(0, dtypes=dtypes, use_columns=numeric, n_rows=n_rows).to_polars()
    merged = []
    for header in numeric:
        name = mapping[header]
        cell, num = text.get_column(name), as_cells(nums.get_column(header))
        use_num = num.is_not_null() & ~cell.str.to_lowercase().is_in(["true", "false"])
        merged.append(pl.select(pl.when(use_num).then(num).otherwise(cell)).to_series().alias(name))
    return text.with_columns(merged)


def _read_parquet(path: Path, fields: _Fields, n_rows: int | None = None) -> pl.DataFrame:
    headers = list(pl.read_parquet_schema(path))
    mapping = _mapping(path, headers, fields)
    return pl.read_parquet(path, columns=list(mapping), n_rows=n_rows).rename(mapping)


def _blank_rows(raw: pl.DataFrame) -> np.ndarray:
    """Rows with every cell empty (spreadsheets often end with some): not data, skipped."""
    if raw.width == 0:
        return np.zeros(raw.height, dtype=bool)
    blank = [
        pl.col(c).is_null() | (pl.col(c).str.strip_chars(WHITESPACE) == "")
        if raw.schema[c] == pl.String
        else pl.col(c).is_null()
        for c in raw.columns
    ]
    return raw.select(pl.all_horizontal(blank).fill_null(True)).to_series().to_numpy()


def _district_names(frame: pl.DataFrame) -> pl.DataFrame:
    """A district given by its code (or English name) in the shipped table: its Chinese name."""
    table = districts()
    mapping = {d["code"]: d["name"] for d in table} | {d["name_en"]: d["name"] for d in table}
    return frame.with_columns(pl.col("district").replace(mapping))


def _error_report(problems: pl.DataFrame, raw: pl.DataFrame, rows: np.ndarray) -> pl.DataFrame:
    idx = problems.get_column("_i").to_numpy()
    uscc = as_cells(raw.get_column("uscc")).gather(idx).str.strip_chars(WHITESPACE)
    value = pl.Series("value", [None] * len(idx), dtype=pl.String)
    fields = problems.get_column("field")
    for name in fields.unique().to_list():
        at = np.flatnonzero((fields == name).to_numpy())
        cells = as_cells(raw.get_column(name)).gather(idx[at]).str.slice(0, 100)
        value = value.scatter(pl.Series(at), cells)
    return pl.DataFrame(
        {
            "row": pl.Series(rows[idx], dtype=pl.Int64),
            "uscc": uscc.fill_null(""),
            "field": fields,
            "value": value,
            "message_zh": problems.get_column("message_zh"),
            "message_en": problems.get_column("message_en"),
        }
    )


# -- writing -------------------------------------------------------------------------------
def fen_to_decimal(fen: pl.Series, precision: int = 20) -> pl.Series:
    """Integer fen -> exact Decimal(precision, 2) yuan, without going through floats."""
    scaled = np.ascontiguousarray(fen.fill_null(0).to_numpy(), dtype=np.int64)
    buf = np.empty(2 * len(scaled), dtype=np.int64)
    buf[0::2], buf[1::2] = scaled, np.where(scaled < 0, -1, 0)
    arr = pa.Array.from_buffers(pa.decimal128(precision, 2), len(scaled), [None, pa.py_buffer(buf)])
    return pl.Series(fen.name, arr).scatter(fen.is_null().arg_true(), None)


def fen_to_text(fen: pl.Series) -> pl.Series:
    """Integer fen -> yuan text with two decimals ("1234.50"), exactly."""
    a = fen.abs()
    cents = (a % 100).cast(pl.String).str.zfill(2)
    sign = pl.Series(np.where(fen.fill_null(0).to_numpy() < 0, "-", ""))
    return (sign + (a // 100).cast(pl.String) + "." + cents).alias(fen.name)


def _user_units(frame: pl.DataFrame, fmt: str, chinese: bool) -> pl.DataFrame:
    out: list[pl.Series] = []
    for f in FIELDS:
        if f.name not in frame.columns:
            continue
        s = frame.get_column(f.name)
        if f.kind is Kind.MONEY:
            s = fen_to_decimal(s) if fmt != "csv" else fen_to_text(s)
        elif f.kind is Kind.FLAG:
            words = {1: "是", 0: "否"} if chinese else {1: "true", 0: "false"}
            s = s.cast(pl.Boolean) if fmt == "parquet" else s.replace_strict(words, default=None)
        out.append(s.alias(f.zh if chinese else f.name))
    return pl.DataFrame(out)


def _suffix(path: Path, allowed: tuple[str, ...]) -> str:
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in allowed:
        raise InputFileError(
            f"{path.name}: 不支持的输出类型 / unsupported output type (use {', '.join(allowed)})"
        )
    return suffix


def _write(frame: pl.DataFrame, path: Path, fmt: str) -> None:
    if fmt in ("csv", "xlsx"):  # files people open in a spreadsheet: no cell is a formula
        frame = neutralise_frame(frame)
    if fmt == "csv":
        frame.write_csv(path, include_bom=True)  # the BOM makes Excel read UTF-8
    elif fmt == "xlsx":
        frame.write_excel(path, autofit=frame.height <= 10_000)
    elif fmt == "parquet":
        frame.write_parquet(path)
    else:
        frame.write_json(path)


def write_enterprises(frame: pl.DataFrame, path: str | Path, chinese_headers: bool = False) -> None:
    """Write enterprises in internal units as a file in user units (yuan with two decimals)."""
    path = Path(path)
    fmt = _suffix(path, ("csv", "xlsx", "parquet"))
    _write(_user_units(frame, fmt, chinese_headers), path, fmt)


def write_results(frame: pl.DataFrame, path: str | Path) -> None:
    """Write evaluation results as .csv (UTF-8 with BOM), .xlsx, .parquet or .json."""
    path = Path(path)
    _write(frame, path, _suffix(path, ("csv", "xlsx", "parquet", "json")))


def template_headers(declared: Sequence[Field] = ()) -> list[str]:
    """The Chinese headers of an import file: the data dictionary's, then a policy's declared."""
    return [f.zh for f in (*FIELDS, *declared)]


def write_errors(errors: pl.DataFrame, path: str | Path) -> None:
    """Write the error report as .csv (UTF-8 with BOM) or .xlsx."""
    path = Path(path)
    _write(errors.select(ERROR_COLUMNS), path, _suffix(path, ("csv", "xlsx")))
