"""Dates a loan's history allows: signing, first disbursement, the end of day's business date.

* A loan is signed on or after its application's approval and not after its disbursement.
* A loan is disbursed on an open day: after the last end of day (``loans.require_open_day``)
  and, before the first end of day too, not before the programme's first open day: the later
  of ``KVCREDIT_PROGRAMME_START`` (ISO date, optional) and the day the loan's district joined
  the programme (``District.participating_since``). A loan is never older than its programme.
* The end of day never closes a day after today, the business date: running ahead would close
  every day up to it for postings, with no way back.

Each refusal names its field; the messages are translated (gettext).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from kvcredit.errors import InvalidInput


def programme_start() -> dt.date | None:
    """``KVCREDIT_PROGRAMME_START`` as a date (None when not set)."""
    value = getattr(settings, "KVCREDIT_PROGRAMME_START", None)
    if not value:
        return None
    return value if isinstance(value, dt.date) else dt.date.fromisoformat(str(value))


def first_open_day(district: Any) -> dt.date:
    """The first day a loan of ``district`` can be disbursed (see the module docstring)."""
    start = programme_start()
    joined = district.participating_since
    return max(start, joined) if start is not None else joined


def check_disbursement(
    *,
    approved_on: dt.date | None,
    signing_date: dt.date,
    disbursed_on: dt.date,
    today: dt.date,
    district: Any,
) -> None:
    """Refuse dates the application's history or the programme does not allow."""
    if disbursed_on > today:
        raise InvalidInput([("disbursed_on", _("a disbursement cannot be dated in the future"))])
    if signing_date > disbursed_on:
        raise InvalidInput([("signing_date", _("a loan cannot be signed after its disbursement"))])
    if approved_on is not None and signing_date < approved_on:
        msg = _("a loan cannot be signed before its approval on %(day)s") % {"day": approved_on}
        raise InvalidInput([("signing_date", msg)])
    first = first_open_day(district)
    if disbursed_on < first:
        msg = _("the programme's first open day is %(day)s; a loan cannot be disbursed before") % {
            "day": first
        }
        raise InvalidInput([("disbursed_on", msg)])


def require_not_after_today(day: dt.date, today: dt.date, field: str = "date") -> None:
    """The end of day closes today at the latest."""
    if day > today:
        msg = _("the end of day cannot run for %(day)s, after today (%(today)s)") % {
            "day": day,
            "today": today,
        }
        raise InvalidInput([(field, msg)])
