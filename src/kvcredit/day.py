"""The programme's business day, explicitly: what runs, in which order and transaction.

    run_day(as_of=D)                 close day D (refuses to skip days)
    run_day(as_of=D, catch_up=True)  close every missing day up to D, in order
    kvcredit eod --date D [--catch-up]

Each day is ONE database transaction, in this order:

1. lending's end of day (``lending.endofday.run_one_day``): it holds the loan book
   (``hold_the_book``), ages every live loan, writes the instalments that fell due, closes the
   loans repaid in full, lets lapsed approvals expire, stores the ``EodRun`` row and its audit
   record, and reports the day's exposure per bank and district
   (``lending.selectors.exposures``, read from the book as just written back);
2. the fund's circuit breakers (``fund.breakers.on_end_of_day``) move with that exposure
   (a pair with no live loan left gets (0, 0)), opening or ending lending's suspensions;
3. each breaker's figures of the day are kept (``fund.breakers.record_readings``: the breaker
   page's chart over time);
4. the interest subsidies due (``fund.subsidies.pay_subsidies``): every instalment whose
   interest has been paid in full by the end of day D earns the subsidies of the rulebook in
   force on D, paid once each (``kvcredit subsidy run --date D`` does the same by hand).

All commit or none does: a breaker (or a subsidy) that fails rolls the day back, and the day can
be run again. A day already run changes nothing (its report says ``already_run``). Nothing is
registered at start-up: this module is the one place where the two apps meet for the day.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils import timezone

from kvcredit.fund import breakers, subsidies
from kvcredit.lending import endofday
from kvcredit.lending.endofday import DayReport


def run_day(
    *,
    as_of: dt.date,
    catch_up: bool = False,
    actor: Any = None,
    now: dt.datetime | None = None,
) -> list[DayReport]:
    """Close the business day ``as_of`` (with ``catch_up``, every missing day first)."""
    actor = endofday.system_actor(actor)
    days = endofday.days_to_run(as_of, catch_up=catch_up)
    if not days:
        return [DayReport(as_of, already_run=True)]
    reports = []
    for day in days:
        with transaction.atomic():
            report = endofday.run_one_day(day, actor, now or timezone.now())
            if not report.already_run:
                breakers.on_end_of_day(day, report.exposures)
                breakers.record_readings(day)
                subsidies.pay_subsidies(actor, on=day)
        reports.append(report)
    return reports
