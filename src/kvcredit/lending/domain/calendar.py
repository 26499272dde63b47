"""Date arithmetic for schedules: months from a start date, with month-end handling."""

from __future__ import annotations

import calendar
import datetime as dt

import numpy as np
import numpy.typing as npt


def add_months(start: dt.date, months: int) -> dt.date:
    """``start`` plus ``months``; the day is clamped to the month's end, and a start on the
    last day of a month keeps every due date on the last day of its month."""
    total = start.year * 12 + start.month - 1 + months
    year, month = divmod(total, 12)
    last = calendar.monthrange(year, month + 1)[1]
    start_is_month_end = start.day == calendar.monthrange(start.year, start.month)[1]
    day = last if start_is_month_end else min(start.day, last)
    return dt.date(year, month + 1, day)


def add_months_array(start: npt.NDArray[np.datetime64], months: int) -> npt.NDArray[np.datetime64]:
    """Vectorised ``add_months`` over an array of datetime64[D] start dates."""
    start_m = start.astype("datetime64[M]")
    day = (start - start_m.astype("datetime64[D]")).astype(np.int64)  # 0-based day of month
    start_last = (start_m + 1).astype("datetime64[D]") - start_m.astype("datetime64[D]")
    is_end = day == start_last.astype(np.int64) - 1
    target_m = start_m + months
    target_len = ((target_m + 1).astype("datetime64[D]") - target_m.astype("datetime64[D]")).astype(
        np.int64
    )
    target_day = np.where(is_end, target_len - 1, np.minimum(day, target_len - 1))
    out: npt.NDArray[np.datetime64] = target_m.astype("datetime64[D]") + target_day
    return out
