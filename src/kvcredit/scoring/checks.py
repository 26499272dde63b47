"""Whole-frame validation: every column (``validate``), then the checks across fields.

``validate_frame`` takes the raw columns of a file (named by field, any dtype) and gives the
valid rows in internal units and one problem row per problem, with the same decisions as
``records.normalize_record`` row by row, plus duplicate USCCs (first occurrence kept).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from kvcredit.scoring.fields import FIELDS, USCC_CHARSET, USCC_WEIGHTS, Field
from kvcredit.scoring.problems import ORDER_DUP, ORDER_TECH, ORDER_USCC, Problems, messages
from kvcredit.scoring.records import uscc_problem
from kvcredit.scoring.validate import check_column

_LOOKUP = np.full(256, -1, dtype=np.int64)
for _k, _c in enumerate(USCC_CHARSET):
    _LOOKUP[ord(_c)] = _k
_CHARSET = np.frombuffer(USCC_CHARSET.encode(), dtype=np.uint8)
_WEIGHTS = np.array(USCC_WEIGHTS, dtype=np.int64)


@dataclass(frozen=True)
class Checked:
    """Valid rows (internal units, original row numbers in ``_row``) and the problems."""

    frame: pl.DataFrame
    problems: pl.DataFrame  # _i, order, field, code, params, message_zh, message_en


def _uscc_checks(uscc: pl.Series, ok: np.ndarray, out: Problems) -> np.ndarray:
    """GB 32100-2015 checks on parsed USCCs; returns the mask of well-formed codes."""
    length = uscc.str.len_chars().to_numpy()
    ascii18 = ok & (length == 18) & (uscc.str.len_bytes().to_numpy() == 18)
    bad_len = ok & (length != 18)
    out.add(np.flatnonzero(bad_len), "uscc", "uscc_length", ORDER_USCC, length=uscc.str.len_chars())
    other = [int(i) for i in np.flatnonzero(ok & (length == 18) & ~ascii18)]
    found = [(i, uscc_problem(str(uscc[i]))) for i in other]
    out.add_problems(((i, p) for i, p in found if p is not None), ORDER_USCC)
    idx = np.flatnonzero(ascii18)
    raw = "".join(uscc.gather(idx).to_list()).encode()
    codes = np.frombuffer(raw, dtype=np.uint8).reshape(len(idx), 18)
    values = _LOOKUP[codes]
    bad_chars = (values < 0).any(axis=1)
    rows = idx[bad_chars]
    chars = ["".join(sorted(set(str(uscc[int(i)])) - set(USCC_CHARSET))) for i in rows]
    out.add(rows, "uscc", "uscc_chars", ORDER_USCC, aligned=True, chars=pl.Series(chars))
    expected = _CHARSET[(31 - (np.where(values < 0, 0, values)[:, :17] @ _WEIGHTS) % 31) % 31]
    wrong = ~bad_chars & (codes[:, 17] != expected)
    out.add(
        idx[wrong],
        "uscc",
        "uscc_check",
        ORDER_USCC,
        aligned=True,
        expected=pl.Series([chr(c) for c in expected[wrong]], dtype=pl.String),
        actual=pl.Series([chr(c) for c in codes[wrong, 17]], dtype=pl.String),
    )
    good = np.zeros(len(uscc), dtype=bool)
    good[idx[~bad_chars & ~wrong]] = True
    return good


def _failed(problems: pl.DataFrame, field: str, n: int) -> np.ndarray:
    mask = np.zeros(n, dtype=bool)
    mask[problems.filter(pl.col("field") == field).get_column("_i").to_numpy()] = True
    return mask


def _duplicates(uscc: pl.Series, good: np.ndarray, rows: np.ndarray, out: Problems) -> None:
    """Later rows with a USCC already seen are duplicates of the first one."""
    seen = pl.DataFrame({"u": uscc, "_i": np.arange(len(uscc))}).filter(pl.Series(good))
    seen = seen.with_columns(pl.col("_i").min().over("u").alias("first"))
    dup = seen.filter(pl.col("_i") != pl.col("first"))
    first_rows = pl.Series(rows[dup.get_column("first").to_numpy()])
    out.add(
        dup.get_column("_i").to_numpy(),
        "uscc",
        "duplicate",
        ORDER_DUP,
        aligned=True,
        first=first_rows,
    )


def validate_frame(raw: pl.DataFrame, rows: np.ndarray, declared: Sequence[Field] = ()) -> Checked:
    """Check every column of ``raw`` (named by field; the dictionary's and the ``declared``
    fields of a policy), then USCCs, staff and duplicates."""
    n = raw.height
    out = Problems()
    cols = {
        f.name: check_column(f, raw.get_column(f.name) if f.name in raw.columns else None, n, out)
        for f in (*FIELDS, *declared)
    }
    parsed = out.frame()
    uscc = cols["uscc"]
    good = _uscc_checks(uscc, ~_failed(parsed, "uscc", n), out)
    tech, total = cols["tech_staff"].to_numpy(), cols["total_staff"].to_numpy()
    both = ~_failed(parsed, "tech_staff", n) & ~_failed(parsed, "total_staff", n)
    over = np.flatnonzero(both & (tech > total))
    out.add(
        over,
        "tech_staff",
        "tech_gt_total",
        ORDER_TECH,
        tech=cols["tech_staff"],
        total=cols["total_staff"],
    )
    _duplicates(uscc, good, rows, out)
    problems = messages(out.frame())
    rejected = np.zeros(n, dtype=bool)
    rejected[problems.get_column("_i").to_numpy()] = True
    frame = pl.DataFrame([*cols.values(), pl.Series("_row", rows, dtype=pl.Int64)])
    return Checked(frame.filter(pl.Series(~rejected)), problems)
