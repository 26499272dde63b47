"""Starting each kind of job, with the checks that refuse it before it is queued."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils.translation import gettext_noop

from kvcredit import clock
from kvcredit.accounts.models import OrgKind
from kvcredit.accounts.permissions import require
from kvcredit.jobs import runner
from kvcredit.jobs.models import Job

EOD_LOCK = "eod"  # one end of day at a time


def queue_eod(actor: Any, *, as_of: dt.date, catch_up: bool = True) -> Job:
    """Queue the end of day up to ``as_of``; never a day after today (the business date)."""
    from kvcredit.lending.dates import require_not_after_today

    if actor is not None and getattr(actor, "organisation", None) is not None:
        require(actor, OrgKind.ADMINISTRATOR, action=gettext_noop("run the end of day"))
    require_not_after_today(as_of, clock.today())
    params = {"as_of": as_of.isoformat(), "catch_up": catch_up}
    return runner.enqueue("eod", actor=actor, params=params, lock_key=EOD_LOCK)


def queue_import(actor: Any, *, data: bytes, name: str, year: int) -> Job:
    require(
        actor, OrgKind.ADMINISTRATOR, OrgKind.DISTRICT, action=gettext_noop("import enterprises")
    )
    return runner.enqueue(
        "import_enterprises", actor=actor, params={"year": year}, payload=data, payload_name=name
    )


def queue_repayments(actor: Any, *, data: bytes, name: str, today: dt.date) -> Job:
    require(actor, OrgKind.BANK, action=gettext_noop("record repayments"))
    params = {"today": today.isoformat()}
    return runner.enqueue("repayments", actor=actor, params=params, payload=data, payload_name=name)


def queue_export(actor: Any, *, what: str, **params: Any) -> Job:
    from kvcredit.jobs.kinds import EXPORTS

    what = what if what in EXPORTS else "statistics"
    if what == "fund_books":
        require(
            actor, OrgKind.ADMINISTRATOR, OrgKind.TRUSTEE, action=gettext_noop("export the books")
        )
    return runner.enqueue("export", actor=actor, params={"what": what, **params})
