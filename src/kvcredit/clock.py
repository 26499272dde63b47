"""The business date: the one source of "today" for the service, the console and the API.

``today()`` is the programme's date now, in its time zone (``settings.TIME_ZONE``);
``date_of(moment)`` is the programme's date of a stored moment. Callers look ``today`` up on
the module (``clock.today()``), so a test moves the business date for every caller at once
with ``monkeypatch.setattr("kvcredit.clock.today", ...)``. The pure packages never read a
clock: dates are their arguments.
"""

from __future__ import annotations

import datetime as dt

from django.utils import timezone


def today() -> dt.date:
    """The business date now."""
    return timezone.localdate()


def date_of(moment: dt.datetime) -> dt.date:
    """The business date of ``moment`` (an aware datetime), in the programme's time zone."""
    return timezone.localdate(moment)
