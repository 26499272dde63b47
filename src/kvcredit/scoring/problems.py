"""Row problems collected column by column, and their bilingual messages, as Polars frames.

A problem is one row of a frame: ``_i`` (row index in the input), ``order`` (the order
``records.normalize_record`` reports problems in), ``field``, ``code`` and the message
parameters as strings. ``messages`` renders ``records.MESSAGES`` for every row at once.
"""

from __future__ import annotations

import string
from collections.abc import Iterable
from typing import Any

import numpy as np
import polars as pl

from kvcredit.scoring.fields import FIELDS, Field
from kvcredit.scoring.records import MESSAGES, Problem

PARAMS = (
    "value",
    "length",
    "chars",
    "expected",
    "actual",
    "tech",
    "total",
    "first",
    "max",
    "min",
    "values",
)
ORDER = {f.name: k for k, f in enumerate(FIELDS)}
# After every field's own problems (the dictionary's, then a policy's declared fields').
ORDER_USCC, ORDER_TECH, ORDER_DUP = 10_000, 10_001, 10_002


def order_of(f: Field) -> int:
    """Where a field's problems come in a row's list: dictionary order, then declared order."""
    return ORDER.get(f.name, f.order)


SCHEMA: dict[str, Any] = {
    "_i": pl.Int64,
    "order": pl.Int64,
    "field": pl.String,
    "code": pl.String,
    **{p: pl.String for p in PARAMS},
}


class Problems:
    """Collects problem frames; ``frame()`` gives them all, in reporting order."""

    def __init__(self) -> None:
        self.parts: list[pl.DataFrame] = []

    def add(
        self, idx: Any, field: str, code: str, order: int, aligned: bool = False, **params: Any
    ) -> None:
        """Problems of one kind at the row indices ``idx``.

        A Series parameter is a whole column (gathered at ``idx``), or with ``aligned`` already
        one value per index.
        """
        idx = np.asarray(idx, dtype=np.int64)
        if len(idx) == 0:
            return
        n = len(idx)
        cols: dict[str, Any] = {
            "_i": idx,
            "order": np.full(n, order, dtype=np.int64),
            "field": [field] * n,
            "code": [code] * n,
        }
        for p in PARAMS:
            v = params.get(p)
            if isinstance(v, pl.Series):
                cols[p] = (v if aligned else v.gather(idx)).cast(pl.String)
            else:
                cols[p] = [None if v is None else str(v)] * n
        self.parts.append(pl.DataFrame(cols, schema=SCHEMA))

    def add_problems(self, rows: Iterable[tuple[int, Problem]], order: int) -> None:
        """Problems given as ``records.Problem`` values (the per-value path)."""
        records = [
            {
                "_i": i,
                "order": ORDER_USCC if p.code.startswith("uscc_") else order,
                "field": p.field,
                "code": p.code,
                **{k: None if p.params.get(k) is None else str(p.params[k]) for k in PARAMS},
            }
            for i, p in rows
        ]
        if records:
            self.parts.append(pl.DataFrame(records, schema=SCHEMA))

    def frame(self) -> pl.DataFrame:
        if not self.parts:
            return pl.DataFrame(schema=SCHEMA)
        return pl.concat(self.parts).sort("_i", "order", maintain_order=True)


def _render(template: str) -> pl.Expr:
    """A ``str.format`` template as a Polars expression over the parameter columns."""
    parts: list[pl.Expr] = []
    for literal, name, _, _ in string.Formatter().parse(template):
        if literal:
            parts.append(pl.lit(literal))
        if name:
            parts.append(pl.col(name).fill_null(""))
    return pl.concat_str(parts) if parts else pl.lit("")


def messages(problems: pl.DataFrame) -> pl.DataFrame:
    """Add ``message_zh`` and ``message_en`` to a problems frame."""
    codes = problems.get_column("code").unique().to_list()
    zh: pl.Expr = pl.lit(None, dtype=pl.String)
    en: pl.Expr = pl.lit(None, dtype=pl.String)
    for code in codes:
        is_code = pl.col("code") == code
        zh = pl.when(is_code).then(_render(MESSAGES[code][0])).otherwise(zh)
        en = pl.when(is_code).then(_render(MESSAGES[code][1])).otherwise(en)
    return problems.with_columns(zh.alias("message_zh"), en.alias("message_en"))
