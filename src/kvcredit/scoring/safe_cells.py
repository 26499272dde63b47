"""Cells that are safe to open in a spreadsheet (OWASP CSV injection).

A text cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is read by
Excel, WPS and LibreOffice as a formula (``=HYPERLINK(...)``, ``@SUM(...)``, ``-2+3``). Every
CSV and XLSX kvcredit writes passes its text cells through here: such a cell gets a leading
single quote, which the spreadsheet shows as text. Numbers stay numbers: a number cell is never
touched, and a text cell that is a plain decimal number (``-12.50``, money as the CSV files
write it) is not a formula and is left as it is.

One rule, two forms: ``neutralise`` for one value and ``neutralise_frame`` (polars expressions)
for the vectorised writers.
"""

from __future__ import annotations

import re
from typing import Any

import polars as pl

FORMULA_START = "=+-@\t\r"
_FORMULA = r"^[=+\-@\t\r]"
_NUMBER = r"^-?[0-9]+(\.[0-9]+)?$"
_NUMBER_RE = re.compile(_NUMBER)


def neutralise(value: Any) -> Any:
    """``value`` with a leading ``'`` when it is text a spreadsheet would run; others as is."""
    risky = isinstance(value, str) and value[:1] in FORMULA_START and value != ""
    return "'" + value if risky and not _NUMBER_RE.match(value) else value


def neutralise_expr(column: str) -> pl.Expr:
    """The polars form of ``neutralise`` for a String column."""
    col = pl.col(column)
    risky = col.str.contains(_FORMULA) & ~col.str.contains(_NUMBER)
    return pl.when(risky).then(pl.lit("'") + col).otherwise(col).alias(column)


def neutralise_frame(frame: pl.DataFrame) -> pl.DataFrame:
    """Every String column of ``frame`` neutralised; other columns untouched."""
    text = [name for name, dtype in frame.schema.items() if dtype == pl.String]
    return frame.with_columns(neutralise_expr(c) for c in text) if text else frame
